"""One short line per record the demo shows, at most `WIDTH` characters: when, what, about whom, its
score and one word (the result's level, or a one-word field), and which provider answered.

The whole result is on the topic and on the dashboard; the terminal only says that it came.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from aexy_stream.cli.digest import KEY_FIELDS
from aexy_stream.dashboard.records import Merge, Place, Result, Unreadable, decode
from consumers import headers as h

WIDTH = 100
KIND = 22
"""The longest analysis type, `performance_trajectory`."""
SUBJECT = 24
"""A pseudonym (`dev_` and 20 hex digits) fits."""
SCORE = 6
WORD = 12
NONE = "-"


@dataclass(frozen=True, slots=True)
class Shown:
    """A record as the demo's table and lines show it."""

    label: str
    """`result`, `dead letter`, `merged` or `unreadable`: what starts the plain line."""
    at: str
    kind: str
    subject: str
    score: str = NONE
    word: str = NONE
    source: str = NONE
    """`provider/hit` or `provider/miss` for a result; the reason of a dead letter."""

    def line(self) -> str:
        text = (
            f"{self.label}: {self.at} {self.kind:<{KIND}} {_cut(self.subject, SUBJECT):<{SUBJECT}} "
            f"{self.score:>{SCORE}} {_cut(self.word, WORD):<{WORD}} {self.source}"
        )
        return _cut(text.rstrip(), WIDTH)


def result_shown(record: Any) -> Shown:
    """A record of the results topic: a result envelope, an identity merge, or one not readable."""
    at = clock(record.timestamp)
    found = decode(record.value, record.headers or (), Place(record.partition, record.offset))
    if isinstance(found, Result):
        return _result(found, at)
    if isinstance(found, Merge):
        return Shown("merged", at, "identity_merged", found.subject, word=f"{len(found.merged)}-identities")
    return Shown("unreadable", at, "-", _key(record), source=_reason(found))


def dead_letter_shown(record: Any) -> Shown:
    meta = h.as_dict(record.headers or ())
    kind = meta.get(h.ANALYSIS_TYPE) or meta.get(h.ERROR_TYPE) or "?"
    reason = " ".join(str(meta.get(h.DLQ_REASON, "no reason given")).split())
    return Shown("dead letter", clock(record.timestamp), kind, _key(record), source=reason)


def clock(timestamp_ms: int | None) -> str:
    """The record's time on the local clock, to the second."""
    seconds = time.time() if timestamp_ms is None or timestamp_ms < 0 else timestamp_ms / 1000
    return time.strftime("%H:%M:%S", time.localtime(seconds))


def _result(result: Result, at: str) -> Shown:
    envelope = _envelope(result)
    cache = "hit" if envelope.get("cache_hit") else "miss"
    return Shown(
        "result",
        at,
        result.kind.value,
        result.subject,
        score=NONE if result.headline is None else f"{result.headline:.2f}",
        word=result.level or _one_word(result) or NONE,
        source=f"{envelope.get('provider') or NONE}/{cache}",
    )


def _envelope(result: Result) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(result.envelope)
    return found


def _one_word(result: Result) -> str | None:
    """The first of the type's key fields that is one short word (a language, a seniority)."""
    for name in KEY_FIELDS.get(result.kind.value, ()):
        value = result.result.get(name)
        if isinstance(value, str) and value and len(value.split()) == 1:
            return value
    return None


def _key(record: Any) -> str:
    key = record.key
    return key.decode("utf-8", "replace") if isinstance(key, bytes) and key else NONE


def _reason(found: Unreadable | Any) -> str:
    return found.reason if isinstance(found, Unreadable) else "not a result"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
