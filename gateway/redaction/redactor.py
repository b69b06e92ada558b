"""`Redactor`: a text's secrets replaced, each distinct text scanned once.

The analyses of one commit share their material, and a fallback sends it again to the next
provider: the texts last scanned and what was found in them are kept (an LRU cache bounded by
`MEMO_CHARS`, text and redacted text counted), so the same text is scanned once however many
requests carry it.

`redact_async` is the event loop's way in: a text shorter than `OFF_LOOP_CHARS` is scanned in the
loop (a few milliseconds at most), a longer one in a worker thread (`asyncio.to_thread`), so the
tasks and Kafka heartbeats of the loop go on meanwhile. The thread only scans; the memo and the
scans under way are read and written in the loop's thread alone, and requests that want a text
being scanned wait for that one scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import LRUCache

from gateway.redaction.detectors import default_detectors
from gateway.redaction.rules import BLOCKS, Rule
from gateway.redaction.scan import MAX_WORK, Detector, Scanner

MEMO_CHARS = 4_000_000
OFF_LOOP_CHARS = 16_384
"""Texts this long or longer are scanned in a worker thread (figures: docs/gateway.md, "Redaction")."""


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    found: tuple[tuple[str, int], ...]
    """How many secrets of each kind were replaced, by kind."""
    withheld: int = 0
    """Characters left out unscanned, past the scan's work bound (`scan.MAX_WORK`)."""


class Redactor:
    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        blocks: Sequence[Rule] = BLOCKS,
        memo_chars: int = MEMO_CHARS,
        max_work: int = MAX_WORK,
    ) -> None:
        self._scanner = Scanner(blocks, default_detectors() if detectors is None else detectors, max_work)
        self._memo: LRUCache[str, Redacted] = LRUCache(memo_chars, getsizeof=_chars)
        self._scanning: dict[str, asyncio.Future[Redacted]] = {}

    def redact(self, text: str) -> Redacted:
        """`text` with every secret replaced by `[REDACTED:<kind>]`, and what was replaced (scanned in
        the calling thread)."""
        known = self._memo.get(text)
        if known is None:
            known = self._remembered(text, self._scan(text))
        return known

    async def redact_async(self, text: str) -> Redacted:
        """`redact` for the event loop: a long text is scanned in a worker thread."""
        known = self._memo.get(text)
        if known is not None:
            return known
        if len(text) < OFF_LOOP_CHARS:
            return self.redact(text)
        scanning = self._scanning.get(text)
        if scanning is None or scanning.get_loop() is not asyncio.get_running_loop():
            scanning = self._scanning[text] = asyncio.create_task(self._scan_in_thread(text))
        return await asyncio.shield(scanning)  # a waiter cancelled leaves the scan to the others

    async def _scan_in_thread(self, text: str) -> Redacted:
        try:
            return self._remembered(text, await asyncio.to_thread(self._scan, text))
        finally:
            if self._scanning.get(text) is asyncio.current_task():
                del self._scanning[text]

    def _scan(self, text: str) -> Redacted:
        redacted, found, withheld = self._scanner.redact(text)
        return Redacted(redacted, tuple(sorted(found.items())), withheld)

    def _remembered(self, text: str, redacted: Redacted) -> Redacted:
        if _chars(redacted) <= self._memo.maxsize:
            self._memo[text] = redacted
        return redacted


def _chars(redacted: Redacted) -> int:
    """What a memo entry holds: the text (about as long as its redacted form and what was withheld)
    and the redacted text."""
    return 2 * len(redacted.text) + redacted.withheld
