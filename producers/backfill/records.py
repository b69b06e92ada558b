"""History items as Kafka records for the backfill lane (keyed by repository, like live ones)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from producers.archive import ArchiveLine, kafka_key
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
    without patches it does not fit."""
    value = event.model_dump_json().encode()
    if len(value) <= max_bytes:
        return Fitted(_record(topic, event.repository, value))
    for fewer in _without_largest_patches(event):
        value = fewer.model_dump_json().encode()
        if len(value) <= max_bytes:
            return Fitted(_record(topic, event.repository, value), trimmed=True)
    return Fitted(None, trimmed=True)


def _without_largest_patches(event: CodeChangeEvent) -> Iterator[CodeChangeEvent]:
    order = sorted(range(len(event.files)), key=lambda i: len(event.files[i].patch or ""), reverse=True)
    files = list(event.files)
    for index in order:
        if files[index].patch is None:
            continue
        files[index] = files[index].model_copy(update={"patch": None})
        yield event.model_copy(update={"files": tuple(files)})


def archive_records(lines: Iterable[ArchiveLine], topic: str) -> Iterator[Record]:
    for line in lines:
        yield Record(topic, line.value, kafka_key(line), (PRIORITY_HEADER,))


def _record(topic: str, repository: str, value: bytes) -> Record:
    return Record(topic, value, repository.encode(), (PRIORITY_HEADER,))
