"""The stream processor: one aiokafka consumer group over the input topics and the retry topic (a
replay reads its plan's partitions by assignment instead, `consumers/replay.py`).

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
- records of the backfill lane topics are capped the same way (`BACKFILL_READ_AHEAD` x
  backfill_in_flight with work left, `BACKFILL_UNACKNOWLEDGED` x backfill_in_flight in all), but by
  pausing the lane's partitions, so a backfill held to its rate share never holds live events back;
- while every provider is cooling down (all circuits open), or when work stalls past a third of
  max_poll_interval, the input partitions are paused and the loop keeps polling, so the group
  never rebalances this consumer away;
- retry records wait for their due time in their own tasks (a later record that is already due
  is never held behind them), under their own cap, at which the retry partitions are paused;
- offsets are committed by `consumers/commit.py`: only up to the lowest unfinished offset.

A record always ends: whatever fails in its work (decoding, routing, keys, the activity state,
identities, publishing) ends in a dead letter of its own (`RecordHandler.failed`), started here
for every record whose work raised, so its offset becomes committable. A dead letter the broker
does not take is written again with backoff; meanwhile the partition's commits wait, visibly:
`oldest_unfinished_age_seconds{topic,partition}` and a log line a minute.

On partition revocation the finished prefix of each revoked partition is committed, never past
unfinished work; the new owner re-reads the rest. On stop (SIGTERM/SIGINT): fetching stops, no
call starts any more (a request that would start one is parked on the retry topic, due now),
in-flight calls get `shutdown_grace_s` to finish, the rest are parked too, everything
acknowledged is committed, and `run` returns, within `shutdown_grace_s + STOP_BUDGET_S` whatever
the broker's state. When the broker did not answer, `run` raises `BrokerUnreachableError` (after
committing nothing past unacknowledged work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Coroutine
from typing import Any, Literal, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import UnknownTopicOrPartitionError

from consumers.activity.tracker import Activity, NoActivity
from consumers.commit import COMMIT_TIMEOUT_S, commit_finished
from consumers.config import ProcessorConfig, Topics
from consumers.decode import Decoder
from consumers.handler import Analyze, RecordHandler
from consumers.identity.resolver import Identities
from consumers.metrics import ProcessorMetrics
from consumers.offsets import OffsetTracker
from consumers.publish import Publisher
from consumers.replay import Bounds, Unbounded
from consumers.retry_policy import RetryPolicy
from consumers.size_policy import record_limit
from consumers.skips import Skip
from consumers.topics import MissingTopicsError, message_limit, missing_topics
from producers.kafka import idempotence
from schemas.types import Priority

Kind = Literal["live", "backfill", "retry"]
T = TypeVar("T")

log = logging.getLogger(__name__)
COMMIT_INTERVAL_S = 1.0
RETRY_WAITING_CAP = 1000
STOP_BUDGET_S = 10.0
"""A stop takes at most `shutdown_grace_s` plus this, whatever the broker's state: parking,
committing and closing the clients share it (`_Deadline`)."""
PARK_TIMEOUT_S = 3.0
CLOSE_TIMEOUT_S = 2.0
"""Per client (consumer, producer) at stop."""
STUCK_LOG_S = 60.0
"""A partition whose commits wait this long on one record is logged, once per this interval."""
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
BACKFILL_READ_AHEAD = 2
"""Backfill lane records with work left (a task), per backfill call slot: at the cap the lane's
partitions are paused, so a backfill held to its rate share never holds live events back."""
BACKFILL_UNACKNOWLEDGED = 32
"""Backfill lane records read and unfinished in all, per backfill call slot, counting those finished
in the loop that only wait for the broker's acknowledgement (as `LIVE_UNACKNOWLEDGED`; 32 x the 16
default slots is the live lane's 8 x 64). Every pause of the lane costs a fetch wait when it resumes
(up to the consumer's fetch_max_wait_ms), so a replay whose answers are all in the cache, finishing
nearly every record in the loop, must not pause for each round trip to the broker. Measured by
`bench/history.py` (bench/README.md)."""
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
        self._with_task: dict[Kind, int] = {"live": 0, "backfill": 0, "retry": 0}
        """Unfinished records with a task, by kind (the rest only wait for acknowledgements)."""
        self._full: dict[Kind, bool] = {"backfill": False, "retry": False}
        self._started = asyncio.Event()
        self._freed = asyncio.Event()
        """Set when a record finishes: the loop at its cap waits on it."""
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._stopping = False
        """Set at stop: a record failing from then on stays unfinished (read again after a restart)."""
        self._stuck_logged: dict[TopicPartition, float] = {}

    @property
    def healthy(self) -> bool:
        return self._started.is_set()

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set (or a replay's bounds are reached); raises `BrokerUnreachableError`
        when the broker did not answer at the end, so acknowledged work may be left uncommitted."""
        idempotent = await _unless_stopped(idempotence(self._config.bootstrap_servers), stop)
        consumer, producer = self._clients(idempotent is True)
        publisher = Publisher(producer, self._config.topics, self._metrics, self._record_bytes)
        deadline = _Deadline(self._config.shutdown_grace_s)
        answered = False
        try:
            if await _unless_stopped(self._start(publisher, producer, consumer), stop) is not None:
                handler = self._handler(publisher)
                stopping = asyncio.create_task(_at_stop(stop, handler, deadline))
                try:
                    await self._loop(consumer, handler, stop)
                    answered = await self._drain(consumer, handler, deadline)
                finally:
                    stopping.cancel()
        finally:
            self._started.clear()
            deadline.start()
            answered = await self._close(consumer, publisher, producer, deadline) and answered
        if not answered:
            raise BrokerUnreachableError(self._config.bootstrap_servers, self._tracker.pending_count)

    async def _start(
        self, publisher: Publisher, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer
    ) -> bool:
        """Learn the output topics and the dead-letter topic's size limit, start reading; a missing
        topic is one `MissingTopicsError` naming it, found before any client waits for its metadata."""
        servers = self._config.bootstrap_servers
        if missing := await missing_topics(servers, self._config.topics.all):
            raise MissingTopicsError(servers, missing)
        await producer.start()
        try:
            await publisher.start()
            await consumer.start()
            if (partitions := self._bounds.partitions()) is not None:  # a replay: no group to join
                consumer.assign(partitions)
                await self.assigned(partitions)
        except UnknownTopicOrPartitionError as exc:
            raise MissingTopicsError(servers, await missing_topics(servers, self._config.topics.all)) from exc
        publisher.limit_dead_letters(await message_limit(servers, self._config.topics.dlq))
        return True

    async def _close(
        self,
        consumer: AIOKafkaConsumer,
        publisher: Publisher,
        producer: AIOKafkaProducer,
        deadline: _Deadline,
    ) -> bool:
        """Each client closed within its share of the stop budget; False if one did not (the broker
        gone: what it held was not acknowledged)."""
        closed = await _within(consumer.stop(), deadline.left(CLOSE_TIMEOUT_S))
        flushed = await publisher.close(deadline.left(CLOSE_TIMEOUT_S / 2))
        return await _within(producer.stop(), deadline.left(CLOSE_TIMEOUT_S)) and flushed and closed

    @property
    def _record_bytes(self) -> int:
        return record_limit(self._config.max_event_bytes)

    def _clients(self, idempotent: bool) -> tuple[AIOKafkaConsumer, AIOKafkaProducer]:
        c = self._config
        consumer = AIOKafkaConsumer(
            bootstrap_servers=c.bootstrap_servers,
            group_id=c.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=c.session_timeout_ms,
            heartbeat_interval_ms=c.heartbeat_interval_ms,
            max_poll_interval_ms=c.max_poll_interval_ms,
            max_partition_fetch_bytes=self._record_bytes,
        )
        if self._bounds.partitions() is None:
            consumer.subscribe(list(self._subscribed), listener=_Rebalance(self))
        producer = AIOKafkaProducer(
            bootstrap_servers=c.bootstrap_servers,
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=5,
            max_batch_size=PRODUCER_BATCH_BYTES,
            max_request_size=self._record_bytes,
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
        self._stopping = True

    def _room(self) -> int:
        with_work_left = LIVE_READ_AHEAD * self._config.max_in_flight - self._with_task["live"]
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
        caps = {
            "live": LIVE_UNACKNOWLEDGED * c.max_in_flight,
            "backfill": BACKFILL_UNACKNOWLEDGED * c.backfill_in_flight,
        }
        return caps.get(kind, RETRY_WAITING_CAP)

    def _backfill_full(self) -> bool:
        """The lane at either of its caps: records with work left, or unfinished in all."""
        paused, slots = self._full["backfill"], self._config.backfill_in_flight
        with_work_left = _full(self._with_task["backfill"], BACKFILL_READ_AHEAD * slots, paused)
        return with_work_left or _full(self._counts["backfill"], self._cap("backfill"), paused)

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
        self._track(handler, tp, record, handler.take(record))  # never raises: its failure comes back

    def _track(
        self,
        handler: RecordHandler,
        tp: TopicPartition,
        record: Any,
        started: asyncio.Future[None] | Coroutine[Any, Any, None],
        last_resort: bool = False,
    ) -> None:
        work = started if isinstance(started, asyncio.Future) else asyncio.create_task(started)
        self._tasks[work] = tp
        self._count(tp, work, 1)
        work.add_done_callback(lambda t: self._finished(t, handler, record, last_resort))

    def _count(self, tp: TopicPartition, work: asyncio.Future[None], change: int) -> None:
        kind = self._kind(tp)
        self._counts[kind] += change
        if isinstance(work, asyncio.Task):
            self._with_task[kind] += change

    def _finished(
        self, task: asyncio.Future[None], handler: RecordHandler, record: Any, last_resort: bool
    ) -> None:
        """Where every record's work ends. Failed work becomes the record's dead letter: the one
        place that makes sure no failure anywhere leaves a record unfinished."""
        tp = self._tasks.pop(task)
        self._count(tp, task, -1)
        self._freed.set()
        if task.cancelled():
            return  # not finished: left uncommitted, read again after a restart
        if (exc := task.exception()) is None:
            self._tracker.done(tp, record.offset)
        elif self._stopping or last_resort or not self._tracker.owns(tp):
            log.warning("record %s@%s not finished (%r): read again after a restart", tp, record.offset, exc)
        else:
            self._track(handler, tp, record, handler.failed(record, exc), last_resort=True)

    def _apply_backpressure(self, consumer: AIOKafkaConsumer, stalled: bool) -> None:
        """Pause inputs while every provider cools down, or when work stalls so long that the loop
        must poll anyway (max_poll_interval); pause the backfill lane and the retries at their caps
        (with hysteresis)."""
        cooling = self._gateway.cooling_down_for() > 0  # every provider's circuit is open
        cooling_backfill = self._gateway.cooling_down_for("backfill") > 0  # batches have their own
        self._full["backfill"] = self._backfill_full()
        self._full["retry"] = _full(self._counts["retry"], self._cap("retry"), self._full["retry"])
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
            labels = (tp.topic, str(tp.partition))
            highwater = consumer.highwater(tp)
            position = self._tracker.position(tp)
            oldest = self._tracker.oldest_unfinished(tp)
            if highwater is not None and position is not None:  # the end minus what is committed
                self._metrics.lag.labels(*labels).set(max(highwater - (oldest[0] if oldest else position), 0))
            self._metrics.oldest_unfinished.labels(*labels).set(oldest[1] if oldest else 0.0)
            if oldest is not None and oldest[1] >= STUCK_LOG_S and self._kind(tp) != "retry":
                self._log_stuck(tp, *oldest)

    def _log_stuck(self, tp: TopicPartition, offset: int, age_s: float) -> None:
        """Once a minute per partition while one record holds its commits back (retry partitions
        excepted: their records wait for their due time)."""
        now = time.monotonic()
        if now - self._stuck_logged.get(tp, -STUCK_LOG_S) >= STUCK_LOG_S:
            self._stuck_logged[tp] = now
            log.warning("%s[%s]: offset %s unfinished for %.0f s; commits of the partition wait for it",
                        tp.topic, tp.partition, offset, age_s)  # fmt: skip

    async def _drain(self, consumer: AIOKafkaConsumer, handler: RecordHandler, deadline: _Deadline) -> bool:
        """Stop: no new call, in-flight work finished within the grace period, the rest parked,
        what is finished committed. False if the commit did not reach the broker."""
        deadline.start()  # already running if a stop, not a replay's end, ended the loop
        consumer.pause(*consumer.assignment())
        handler.stop_calls()
        work = [t for t, tp in self._tasks.items() if self._kind(tp) != "retry"]
        if work:
            _, late = await asyncio.wait(work, timeout=deadline.grace_left())
            if late:
                handler.park_all()
                await asyncio.wait(late, timeout=deadline.left(PARK_TIMEOUT_S))
        leftovers = list(self._tasks)  # retry records not yet due, anything stuck: read again later
        for task in leftovers:
            task.cancel()
        if leftovers:
            await asyncio.wait(leftovers, timeout=deadline.left(0.5))
        committed = await commit_finished(consumer, self._tracker, timeout_s=deadline.left(COMMIT_TIMEOUT_S))
        return committed is not None

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
            self._stuck_logged.pop(tp, None)
            self._metrics.lag.remove(tp.topic, str(tp.partition))
            self._metrics.oldest_unfinished.remove(tp.topic, str(tp.partition))


class BrokerUnreachableError(RuntimeError):
    """The broker did not answer at stop: work it did not acknowledge stays uncommitted."""

    def __init__(self, bootstrap_servers: str, unfinished: int) -> None:
        super().__init__(
            f"Kafka at {bootstrap_servers} did not answer at shutdown: nothing was committed past "
            f"unacknowledged work ({unfinished} records unfinished); they are read again after a restart"
        )


class _Deadline:
    """The stop's time budget: the grace period for calls in flight, then `STOP_BUDGET_S` shared
    by what follows, each step within its own cap and what is left."""

    def __init__(self, grace_s: float) -> None:
        self._grace_s = grace_s
        self._started: float | None = None

    def start(self) -> None:
        if self._started is None:
            self._started = time.monotonic()

    def grace_left(self) -> float:
        return max(self._grace_s - self._elapsed(), 0.0)

    def left(self, cap: float) -> float:
        return max(min(cap, self._grace_s + STOP_BUDGET_S - 1.0 - self._elapsed()), 0.0)

    def _elapsed(self) -> float:
        return 0.0 if self._started is None else time.monotonic() - self._started


async def _within(step: Awaitable[None], timeout_s: float) -> bool:
    """Whether `step` ended in time (a client closed); one that did not is abandoned."""
    try:
        async with asyncio.timeout(timeout_s):
            await step
    except TimeoutError:
        return False
    return True


async def _at_stop(stop: asyncio.Event, handler: RecordHandler, deadline: _Deadline) -> None:
    """The moment `stop` is set, not when the poll loop next looks (it may be waiting on a broker
    that is gone): no call starts from then on, and the stop budget runs."""
    await stop.wait()
    deadline.start()
    handler.stop_calls()


async def _unless_stopped(start: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """A start-up step's result, or None when `stop` is set first (a broker that never answers)."""
    starting = asyncio.ensure_future(start)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait((starting, stopping), return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        return None
    return starting.result()


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
