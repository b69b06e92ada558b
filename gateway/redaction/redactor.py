"""`Redactor`: a text's secrets replaced, each distinct text scanned once.

The analyses of one commit share their material, and a fallback sends it again to the next
provider: the texts last scanned and what was found in them are kept (an LRU cache bounded by
`MEMO_CHARS`, text and redacted text counted), so the same text is scanned once however many
requests carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cachetools import LRUCache

from gateway.redaction.detectors import default_detectors
from gateway.redaction.rules import BLOCKS, Rule
from gateway.redaction.scan import Detector, Scanner

MEMO_CHARS = 4_000_000


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
        memo_chars: int = MEMO_CHARS,
    ) -> None:
        self._scanner = Scanner(blocks, default_detectors() if detectors is None else detectors)
        self._memo: LRUCache[str, Redacted] = LRUCache(memo_chars, getsizeof=_chars)

    def redact(self, text: str) -> Redacted:
        """`text` with every secret replaced by `[REDACTED:<kind>]`, and what was replaced."""
        known = self._memo.get(text)
        if known is None:
            redacted, found = self._scanner.redact(text)
            known = Redacted(redacted, tuple(sorted(found.items())))
            if _chars(known) <= self._memo.maxsize:
                self._memo[text] = known
        return known


def _chars(redacted: Redacted) -> int:
    """What a memo entry holds: the text (about as long as its redacted form) and the redacted text."""
    return 2 * len(redacted.text)
