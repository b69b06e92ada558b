"""History items as Kafka records for the backfill lane (keyed by repository, like live ones)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from producers.archive import ArchiveLine, kafka_key
from producers.fitting import fit_code_change
from producers.kafka import Record
from schemas.events import CodeChangeEvent

PRIORITY_HEADER = ("x-aexy-priority", b"backfill")
"""Informational: the lane topic already makes a record's requests `backfill` priority."""


@dataclass(frozen=True, slots=True)
class Fitted:
    """A code change as a record, and whether its patches had to be dropped to fit."""

    record: Record | None
    trimmed: bool = False


def code_change_record(event: CodeChangeEvent, topic: str, max_bytes: int) -> Fitted:
    """The event's JSON; over `max_bytes` (MAX_EVENT_BYTES), the largest patches are dropped until
    it fits (counts kept), so the processor never dead-letters it as oversized; None if even
    without patches it does not fit (`producers.fitting`, shared with the webhook receiver)."""
    fitted = fit_code_change(event, max_bytes)
    if fitted.value is None:
        return Fitted(None, fitted.trimmed)
    return Fitted(_record(topic, event.repository, fitted.value), fitted.trimmed)


def archive_records(lines: Iterable[ArchiveLine], topic: str) -> Iterator[Record]:
    for line in lines:
        yield Record(topic, line.value, kafka_key(line), (PRIORITY_HEADER,))


def _record(topic: str, repository: str, value: bytes) -> Record:
    return Record(topic, value, repository.encode(), (PRIORITY_HEADER,))
