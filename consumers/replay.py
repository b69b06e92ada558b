"""Replaying history already in Kafka: where each partition starts and stops, and what is in range.

A replay runs the normal processor with a consumer group of its own, as `backfill` priority, over
the records whose timestamp is in `[since, until]` and that were in the log when it started
(offsets up to each partition's high water mark then), and ends when it has finished them.

Where it starts: the broker's offset-for-time lookup (`offsets_for_times`), checked against the
records around the offset it returns (the record there must be at or after `since`, the one
before it earlier). Apache Kafka passes; a broker that answers with its receive time, or with 0
past the end (the embedded Tansu, see docs/tansu.md), does not, and the replay then says so and
starts every partition at its first offset, filtering by record timestamp. Either way a record
outside `[since, until]` is skipped, so the two plans replay the same records.

After retention deleted old records, a `since` older than the log gets the partition's first kept
offset: nothing is before it, so only the record there is checked. A gap just before the offset
(a transaction marker, a compacted record) holds no record either, and proves nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from consumers.topics import topic_partitions

FETCH_TIMEOUT_MS = 2000
FETCH_ROUNDS = 10
LOOKUP_ATTEMPTS = 5
LOOKUP_BACKOFF_S = 0.2


class Bounds(Protocol):
    """What part of the log a processor works on, and when it is done."""

    def partitions(self) -> list[TopicPartition] | None:
        """The partitions to read by assignment, or None to subscribe to the topics as a member
        of the consumer group (and be given partitions by its rebalances)."""
        ...

    def admits(self, tp: TopicPartition, record: Any) -> bool: ...

    def finished(self, positions: Mapping[TopicPartition, int], pending: int) -> bool: ...

    async def assigned(self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None: ...

    def revoked(self, partitions: Iterable[TopicPartition]) -> None: ...


class Unbounded:
    """The live processor: every record, from the group's committed offsets, forever."""

    def partitions(self) -> None:
        return None

    def admits(self, tp: TopicPartition, record: Any) -> bool:
        return True

    def finished(self, positions: Mapping[TopicPartition, int], pending: int) -> bool:
        return False

    async def assigned(self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
        return None

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    since_ms: int
    until_ms: int | None
    start: Mapping[TopicPartition, int]
    stop: Mapping[TopicPartition, int]
    """One past the last offset to replay: each partition's high water mark when the plan was made."""
    by_time: bool
    """True when the broker's time lookup passed its check; False: from the start, filtered."""

    @property
    def records(self) -> int:
        """Records between the start and stop offsets (those outside the time range included)."""
        return sum(max(self.stop[tp] - self.start.get(tp, 0), 0) for tp in self.stop)


class ReplayBounds:
    """A replay: start at the plan's offsets (unless the group committed some), stop at its stops.

    It reads every partition of the plan by assignment, committing to its group without joining it:
    a bounded job owned by one process has no partitions to share, and joining a new group waits
    out the broker's first rebalance (Kafka's `group.initial.rebalance.delay.ms`, 3 s by default;
    5 s on the embedded Tansu), often longer than the replay itself."""

    def __init__(self, plan: ReplayPlan) -> None:
        self._plan = plan
        self._assigned: set[TopicPartition] = set()
        self._floor: dict[TopicPartition, int] = {}
        """Where each assigned partition starts. A replay resumed with the same group starts where it
        committed, maybe at the stop already: such a partition yields no record to measure by."""

    def partitions(self) -> list[TopicPartition]:
        return list(self._plan.stop)

    def admits(self, tp: TopicPartition, record: Any) -> bool:
        plan = self._plan
        if record.offset >= plan.stop.get(tp, 0):
            return False
        return plan.since_ms <= record.timestamp and (
            plan.until_ms is None or record.timestamp <= plan.until_ms
        )

    def finished(self, positions: Mapping[TopicPartition, int], pending: int) -> bool:
        """Every assigned partition read up to its stop, and nothing left unfinished."""
        if pending or not self._assigned:
            return False
        return all(self._reached(tp, positions) for tp in self._assigned)

    async def assigned(self, consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
        partitions = list(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed is None:
                committed = self._plan.start.get(tp, 0)
                consumer.seek(tp, committed)
            self._floor[tp] = committed
        self._assigned.update(partitions)  # only now: `finished` must not see half an assignment

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        partitions = list(partitions)
        self._assigned.difference_update(partitions)
        for tp in partitions:
            self._floor.pop(tp, None)

    def _reached(self, tp: TopicPartition, positions: Mapping[TopicPartition, int]) -> bool:
        stop = self._plan.stop.get(tp, 0)
        return max(positions.get(tp, 0), self._floor.get(tp, 0)) >= stop


async def plan_replay(
    bootstrap_servers: str, topics: Iterable[str], since_ms: int, until_ms: int | None = None
) -> ReplayPlan:
    """Look up start offsets by time, check them, and note each partition's high water mark."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # an offset retention deleted reads on from the first kept one
        client_id=f"aexy-replay-plan-{uuid.uuid4().hex[:8]}",
    )
    await consumer.start()
    try:
        partitions = await topic_partitions(bootstrap_servers, topics)
        consumer.assign(partitions)
        first = await consumer.beginning_offsets(partitions)
        stop = await _high_water(consumer, first)
        start = await _by_time(consumer, partitions, since_ms, stop)
        checked = start is not None and await lookup_holds(consumer, start, since_ms, first, stop)
        if start is None or not checked:
            return ReplayPlan(since_ms, until_ms, dict(first), stop, by_time=False)
        return ReplayPlan(since_ms, until_ms, start, stop, by_time=True)
    finally:
        await consumer.stop()


async def _high_water(
    consumer: AIOKafkaConsumer, first: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """The high water mark of each partition, as a fetch reports it (correct on every broker)."""
    partitions = list(first)
    for tp, offset in first.items():
        consumer.seek(tp, offset)
    marks: dict[TopicPartition, int] = {}
    for _ in range(FETCH_ROUNDS):
        if len(marks) == len(partitions):
            return marks
        await consumer.getmany(*[tp for tp in partitions if tp not in marks], timeout_ms=FETCH_TIMEOUT_MS)
        for tp in partitions:
            if (mark := consumer.highwater(tp)) is not None:
                marks[tp] = mark
    missing = ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions if tp not in marks)
    raise LookupError(f"no fetch answer for {missing}")


async def _by_time(
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    since_ms: int,
    stop: Mapping[TopicPartition, int],
) -> dict[TopicPartition, int] | None:
    """The broker's answer, None past the end mapped to the stop offset; None if it cannot answer."""
    for attempt in range(1, LOOKUP_ATTEMPTS + 1):
        try:
            found = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
            return {tp: (found[tp].offset if found.get(tp) is not None else stop[tp]) for tp in partitions}
        except KafkaError as exc:  # a refusal means: no time lookup on this broker
            if not exc.retriable or attempt == LOOKUP_ATTEMPTS:
                return None
        except TimeoutError:
            return None
        await asyncio.sleep(LOOKUP_BACKOFF_S * attempt)  # e.g. a leader being elected: ask again
    return None


async def lookup_holds(
    consumer: AIOKafkaConsumer,
    start: Mapping[TopicPartition, int],
    since_ms: int,
    first: Mapping[TopicPartition, int],
    stop: Mapping[TopicPartition, int],
) -> bool:
    """The first record from each start offset is at or after `since`, and the one just before it
    is earlier. Nothing is before a partition's `first` offset: reading there would find no record
    (retention deleted it) and wait at the end of the log, so it is not read."""
    for tp, offset in start.items():
        if not await _from_since(consumer, tp, offset, since_ms, stop[tp]):
            return False
        if first[tp] < offset <= stop[tp] and not await _earlier_before(consumer, tp, offset, since_ms):
            return False
    return True


async def _from_since(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, since_ms: int, stop: int
) -> bool:
    """The first record from `offset` on, if there is one before the stop, is at or after `since`."""
    at = await _first_record(consumer, tp, offset, stop) if offset < stop else None
    return at is None or since_ms <= at.timestamp


async def _earlier_before(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, since_ms: int) -> bool:
    """The record at `offset - 1` is earlier than `since`. An offset that holds no record (a
    transaction marker, a compacted record) proves nothing, and the record after it is not it."""
    before = await _first_record(consumer, tp, offset - 1, offset)
    return before is None or before.timestamp < since_ms


async def _first_record(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, stop: int) -> Any | None:
    """The first record at or after `offset` and before `stop`, None if there is none."""
    consumer.seek(tp, offset)
    for _ in range(FETCH_ROUNDS):
        batch = await consumer.getmany(tp, timeout_ms=FETCH_TIMEOUT_MS, max_records=1)
        for record in batch.get(tp, []):
            return record if record.offset < stop else None
        if await consumer.position(tp) >= stop:  # only markers were left before the stop
            return None
    raise LookupError(f"no record at {tp.topic}[{tp.partition}]@{offset}")
