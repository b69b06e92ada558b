"""The stream processor: one aiokafka consumer group over the input topics and the retry topic.

The poll loop never waits on an LLM call. It decodes each record; one the activity state takes
part in, or a retry not yet due, continues in its own task. For the others it publishes at once
what the gateway's memory answers, gives the calls left a task, and tracks a record with none left
by its acknowledgement future alone (`RecordHandler.take`). Otherwise the loop only fetches,
pauses and commits:

- up to `max_in_flight` live gateway calls overlap, and `backfill_in_flight` backfill ones
  (semaphores in the handler);
- live input records read but not finished are capped (`LIVE_READ_AHEAD` x max_in_flight with
  work left, `LIVE_UNACKNOWLEDGED` x max_in_flight in all): at the cap the loop fetches nothing and
  waits for a record to finish, so a backlog of any size or a rate-limited gateway never piles up
  tasks or memory (the fetcher's own buffer is bounded by its fetch sizes);
- records of the backfill lane topics are capped the same way (2 x backfill_in_flight), but by
  pausing the lane's partitions, so a backfill held to its rate share never holds live events back;
- while every provider is cooling down (all circuits open), or when work stalls past a third of
  max_poll_interval, the input partitions are paused and the loop keeps polling, so the group
  never rebalances this consumer away;
- retry records wait for their due time in their own tasks (a later record that is already due
  is never held behind them), under their own cap, at which the retry partitions are paused;
- offsets are committed by `consumers/commit.py`: only up to the lowest unfinished offset.

On partition revocation the finished prefix of each revoked partition is committed, never past
unfinished work; the new owner re-reads the rest. On stop (SIGTERM/SIGINT): fetching stops,
in-flight calls get `shutdown_grace_s` to finish, the rest are parked on the retry topic (due
now), everything acknowledged is committed, and `run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import UnknownTopicOrPartitionError

from consumers.activity.tracker import Activity, NoActivity
from consumers.commit import commit_finished
from consumers.config import ProcessorConfig, Topics
from consumers.decode import Decoder
from consumers.handler import Analyze, RecordHandler
from consumers.identity.resolver import Identities
from consumers.metrics import ProcessorMetrics
from consumers.offsets import OffsetTracker
from consumers.publish import Publisher
from consumers.replay import Bounds, Unbounded
from consumers.retry_policy import RetryPolicy
from consumers.skips import Skip
from consumers.topics import MissingTopicsError, missing_topics
from schemas.types import Priority

Kind = Literal["live", "backfill", "retry"]

log = logging.getLogger(__name__)
COMMIT_INTERVAL_S = 1.0
RETRY_WAITING_CAP = 1000
PARK_TIMEOUT_S = 10.0
LIVE_READ_AHEAD = 4
"""Live records with work left (a task: calls to make, activity state, a retry's due time), per call
slot. Bounds the tasks and memory a backlog can hold; too few and the loop waits at the cap while
call slots are free. Measured by the cached-path scenario of `bench/pipeline.py` (bench/README.md)."""
LIVE_UNACKNOWLEDGED = 8
"""Live records read and unfinished in all, per call slot, counting those finished in the loop that
only wait for the broker to acknowledge their results (no task, little memory: their results are
in the producer's batches). The cap must cover that round trip, or the loop waits at the cap for
acknowledgements with nothing else to do. Measured by the cached-path scenario of
`bench/pipeline.py` (bench/README.md)."""
PRODUCER_BATCH_BYTES = 1_048_576
"""aiokafka sends one batch per partition at a time; one subject's results share a partition, so
a 16 KB default batch (about eight envelopes per round trip) would cap a busy subject's rate."""


class Processor:
    def __init__(
        self,
        config: ProcessorConfig,
        gateway: Analyze,
        metrics: ProcessorMetrics,
        *,
        priority: Priority = "live",
        topics: tuple[str, ...] | None = None,
        bounds: Bounds | None = None,
        activity: Activity | None = None,
        identities: Identities | None = None,
    ) -> None:
        self._config = config
        self._gateway = gateway
        self._metrics = metrics
        self._priority = priority
        self._subscribed = topics or (*config.topics.inputs, *config.topics.lanes, config.topics.retry)
        self._bounds: Bounds = bounds or Unbounded()
        self._activity: Activity = activity or NoActivity()
        self._identities = identities
        self._tracker = OffsetTracker()
        self._tasks: dict[asyncio.Future[None], TopicPartition] = {}
        """Unfinished records: their tasks, or the acknowledgements of those finished in the loop."""
        self._paused: set[TopicPartition] = set()
        self._counts: dict[Kind, int] = {"live": 0, "backfill": 0, "retry": 0}
        """Unfinished records by kind of partition, kept with `_tasks`."""
        self._kinds: dict[str, Kind] = {}
        """Each topic's kind, looked up twice a record."""
        self._live_tasks = 0
        """Unfinished live records with a task (the rest only wait for acknowledgements)."""
        self._full: dict[Kind, bool] = {"backfill": False, "retry": False}
        self._started = asyncio.Event()
        self._freed = asyncio.Event()
        """Set when a record finishes: the loop at its cap waits on it."""
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None

    @property
    def healthy(self) -> bool:
        return self._started.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        consumer, producer = self._clients()
        publisher = Publisher(producer, self._config.topics)
        await producer.start()
        try:
            await self._start(publisher, consumer)
            handler = self._handler(publisher)
            await self._loop(consumer, handler, stop)
            await self._drain(consumer, handler)
        finally:
            self._started.clear()
            await consumer.stop()
            await publisher.flush()
            await producer.stop()

    async def _start(self, publisher: Publisher, consumer: AIOKafkaConsumer) -> None:
        """Learn the output topics, start reading; a missing topic is one `MissingTopicsError` naming it."""
        try:
            await publisher.start()
            await consumer.start()
        except UnknownTopicOrPartitionError as exc:
            servers = self._config.bootstrap_servers
            raise MissingTopicsError(servers, await missing_topics(servers, self._config.topics.all)) from exc

    def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        c = self._config
        consumer = AIOKafkaConsumer(
            bootstrap_servers=c.bootstrap_servers,
            group_id=c.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=c.session_timeout_ms,
            heartbeat_interval_ms=c.heartbeat_interval_ms,
            max_poll_interval_ms=c.max_poll_interval_ms,
        )
        consumer.subscribe(list(self._subscribed), listener=_Rebalance(self))
        producer = AIOKafkaProducer(
            bootstrap_servers=c.bootstrap_servers,
            acks="all",
            enable_idempotence=False,
            linger_ms=5,
            max_batch_size=PRODUCER_BATCH_BYTES,
        )
        self._consumer, self._producer = consumer, producer
        return consumer, producer

    def _handler(self, publisher: Publisher) -> RecordHandler:
        c = self._config
        decoder = Decoder(c.topics, c.routing, c.max_event_bytes, self._priority)
        policy = RetryPolicy(c.retry_backoff_base_s, c.retry_max_attempts)
        return RecordHandler(
            self._gateway,
            publisher,
            decoder,
            policy,
            self._metrics,
            c.max_in_flight,
            c.backfill_in_flight,
            self._activity,
            self._identities,
        )

    async def _loop(self, consumer: AIOKafkaConsumer, handler: RecordHandler, stop: asyncio.Event) -> None:
        self._started.set()
        next_commit = time.monotonic() + COMMIT_INTERVAL_S
        last_poll = time.monotonic()
        while not stop.is_set() and not self._bounds.finished(self._tracker.positions(), len(self._tasks)):
            stalled = time.monotonic() - last_poll > self._config.max_poll_interval_ms / 3000
            self._apply_backpressure(consumer, stalled)
            if self._room() == 0 and not stalled:
                await self._wait_for_room()
            else:
                batch = await consumer.getmany(timeout_ms=100, max_records=max(self._room(), 1))
                last_poll = time.monotonic()
                for tp, records in batch.items():
                    for record in records:
                        self._take(handler, tp, record)
            if time.monotonic() >= next_commit:
                await self._commit_and_measure(consumer)
                next_commit = time.monotonic() + COMMIT_INTERVAL_S

    def _room(self) -> int:
        with_work_left = LIVE_READ_AHEAD * self._config.max_in_flight - self._live_tasks
        return max(min(self._cap("live") - self._counts["live"], with_work_left), 0)

    async def _wait_for_room(self) -> None:
        """At the cap: wait for a record to finish instead of pausing (a resume costs a fetch wait).
        An event set by `_finished`, not `asyncio.wait` on every unfinished record: that would add
        and remove a callback on each of them per turn."""
        self._freed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.1):
                await self._freed.wait()

    def _cap(self, kind: Kind) -> int:
        c = self._config
        return {"live": LIVE_UNACKNOWLEDGED * c.max_in_flight, "backfill": 2 * c.backfill_in_flight}.get(
            kind, RETRY_WAITING_CAP
        )

    def _kind(self, tp: TopicPartition) -> Kind:
        kind = self._kinds.get(tp.topic)
        if kind is None:
            kind = self._kinds[tp.topic] = _kind_of(tp.topic, self._config.topics)
        return kind

    def _take(self, handler: RecordHandler, tp: TopicPartition, record: Any) -> None:
        if self._bounds.admits(tp, record):
            self._spawn(handler, tp, record)
        else:  # outside a replay's range: passed over, and committed past
            self._tracker.start(tp, record.offset)
            self._tracker.done(tp, record.offset)
            self._metrics.skipped.labels(Skip.OUT_OF_RANGE.value).inc()

    def _spawn(self, handler: RecordHandler, tp: TopicPartition, record: Any) -> None:
        """The record's work starts here; what needs awaiting gets a task (`RecordHandler.take`)."""
        self._tracker.start(tp, record.offset)
        started = handler.take(record)  # never raises: what fails there is dead-lettered
        work = started if isinstance(started, asyncio.Future) else asyncio.create_task(started)
        self._tasks[work] = tp
        self._count(tp, work, 1)
        work.add_done_callback(lambda t: self._finished(t, record.offset))

    def _count(self, tp: TopicPartition, work: asyncio.Future[None], change: int) -> None:
        kind = self._kind(tp)
        self._counts[kind] += change
        if kind == "live" and isinstance(work, asyncio.Task):
            self._live_tasks += change

    def _finished(self, task: asyncio.Future[None], offset: int) -> None:
        tp = self._tasks.pop(task)
        self._count(tp, task, -1)
        self._freed.set()
        if task.cancelled():
            return  # not finished: left uncommitted, read again after a restart
        if (exc := task.exception()) is not None:
            log.error("record %s@%s failed and stays uncommitted: %r", tp, offset, exc)
            return
        self._tracker.done(tp, offset)

    def _apply_backpressure(self, consumer: AIOKafkaConsumer, stalled: bool) -> None:
        """Pause inputs while every provider cools down, or when work stalls so long that the loop
        must poll anyway (max_poll_interval); pause the backfill lane and the retries at their caps
        (with hysteresis)."""
        cooling = self._gateway.cooling_down_for() > 0  # every provider's circuit is open
        cooling_backfill = self._gateway.cooling_down_for("backfill") > 0  # batches have their own
        for kind in self._full:
            self._full[kind] = _full(self._counts[kind], self._cap(kind), self._full[kind])
        full = {
            "live": cooling or (stalled and self._room() == 0),
            "backfill": cooling_backfill or self._full["backfill"],
            "retry": self._full["retry"],
        }
        wanted = {tp for tp in consumer.assignment() if full[self._kind(tp)]}
        if pause := wanted - self._paused:
            consumer.pause(*pause)
        if resume := self._paused - wanted:
            consumer.resume(*(tp for tp in resume if tp in consumer.assignment()))
        self._paused = wanted
        self._metrics.paused.set(1 if wanted else 0)
        self._metrics.pending.set(len(self._tasks))  # once a turn of the loop, not twice a record

    async def _commit_and_measure(self, consumer: AIOKafkaConsumer) -> None:
        await commit_finished(consumer, self._tracker)
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            position = self._tracker.position(tp)
            if highwater is not None and position is not None:
                self._metrics.lag.labels(tp.topic, str(tp.partition)).set(max(highwater - position, 0))

    async def _drain(self, consumer: AIOKafkaConsumer, handler: RecordHandler) -> None:
        """Stop: finish in-flight work within the grace period, park the rest, commit."""
        consumer.pause(*consumer.assignment())
        work = [t for t, tp in self._tasks.items() if self._kind(tp) != "retry"]
        if work:
            _, late = await asyncio.wait(work, timeout=self._config.shutdown_grace_s)
            if late:
                handler.park_all()
                await asyncio.wait(late, timeout=PARK_TIMEOUT_S)
        leftovers = list(self._tasks)  # retry records not yet due, anything stuck: read again later
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        await commit_finished(consumer, self._tracker)

    async def assigned(self, partitions: list[TopicPartition]) -> None:
        if self._consumer is not None:
            await self._bounds.assigned(self._consumer, partitions)

    async def revoked(self, partitions: list[TopicPartition]) -> None:
        """Commit what is finished and forget the partitions; their lag is the new owner's to report,
        so their series go too (else dashboards summing the lag count them twice after a rebalance)."""
        if self._consumer is not None:
            await commit_finished(self._consumer, self._tracker, partitions)
        self._bounds.revoked(partitions)
        for tp in partitions:
            self._tracker.forget(tp)
            self._paused.discard(tp)
            self._metrics.lag.remove(tp.topic, str(tp.partition))


def _kind_of(topic: str, topics: Topics) -> Kind:
    if topic == topics.retry:
        return "retry"
    return "backfill" if topic in topics.lanes else "live"


def _full(pending: int, cap: int, paused: bool) -> bool:
    """Pause at the cap, resume at half of it: every resume costs a fetch wait on the broker."""
    return pending >= cap or (paused and pending > cap // 2)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: Processor) -> None:
        self._processor = processor

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._processor.revoked(list(revoked))

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._processor.assigned(list(assigned))
