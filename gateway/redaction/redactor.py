"""`Redactor`: a text's secrets replaced, each distinct text scanned once.

The analyses of one commit share their material, and a fallback sends it again to the next
provider: the last `MEMO_ITEMS` texts and what was found in them are kept (an LRU cache), so the
same text is scanned once however many requests carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import LRUCache

from gateway.redaction.detectors import default_detectors
from gateway.redaction.rules import BLOCKS, Rule
from gateway.redaction.scan import Detector, Scanner

MEMO_ITEMS = 4096


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    found: tuple[tuple[str, int], ...]
    """How many secrets of each kind were replaced, by kind."""


class Redactor:
    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        blocks: Sequence[Rule] = BLOCKS,
        memo_items: int = MEMO_ITEMS,
    ) -> None:
        self._scanner = Scanner(blocks, default_detectors() if detectors is None else detectors)
        self._memo: LRUCache[str, Redacted] = LRUCache(memo_items)

    def redact(self, text: str) -> Redacted:
        """`text` with every secret replaced by `[REDACTED:<kind>]`, and what was replaced."""
        known = self._memo.get(text)
        if known is None:
            redacted, found = self._scanner.redact(text)
            known = self._memo[text] = Redacted(redacted, tuple(sorted(found.items())))
        return known
