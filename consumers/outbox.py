"""Results gathered into one Kafka batch per partition while the partition's previous batch is
on its way to the broker.

aiokafka's `send()` runs a chain of coroutines, a partition check and one future per record, and
the cached path writes three results per event. Its batch interface (`create_batch()`,
`send_batch()`) only appends a record to a builder and resolves one future per batch, which every
record of the batch shares as its delivery (figures: bench/README.md).

Per partition one batch is being filled at a time, and batches are handed to the producer in the
order they were filled, by one drain task per partition, so one subject's results keep their
order. The drain task closes the batch being filled and hands it over; aiokafka queues one batch
per partition and makes the hand-over wait while one is still unsent, and the records arriving
meanwhile fill the next batch. A closed batch does not linger: it is sent as soon as the
producer's sender takes it (`linger_ms` applies to the retry and dead-letter records only), so
under light load a batch may hold a single result. `acks` applies as to any record. A delivery
fails with its batch (the producer's error), or is cancelled if the batch was never handed over,
and the inputs of its records stay unfinished (`consumers/commit.py`). A delivery is shared by
its batch: its waiters shield it (`acknowledged`), so cancelling one record cancels no other.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition

Delivery = asyncio.Future[Any]


@dataclass(slots=True)
class _Batch:
    builder: Any  # aiokafka.producer.message_accumulator.BatchBuilder (untyped)
    delivery: Delivery = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    records: int = 0


class Outbox:
    def __init__(self, producer: AIOKafkaProducer, written: Callable[[int], None] = lambda _n: None) -> None:
        self._producer = producer
        self._written = written
        """Told how many records each batch the broker acknowledged held."""
        self._filling: dict[TopicPartition, _Batch] = {}
        self._full: defaultdict[TopicPartition, deque[_Batch]] = defaultdict(deque)
        self._drains: dict[TopicPartition, asyncio.Task[None]] = {}

    def put(
        self, tp: TopicPartition, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]] = ()
    ) -> Delivery:
        """Add one record to the partition's batch; the returned future resolves when the broker
        acknowledged that batch."""
        batch = self._filling.get(tp) or self._open(tp)
        if not _append(batch, key, value, headers):
            self._full[tp].append(batch)  # full: handed over before the one opened now
            batch = self._open(tp)
            if not _append(batch, key, value, headers):  # an empty batch takes any record: never lose one
                raise RuntimeError(f"aiokafka refused a record of {len(value)} bytes on an empty batch")
        batch.records += 1
        if tp not in self._drains:
            drain = self._drains[tp] = asyncio.create_task(self._drain(tp))
            drain.add_done_callback(lambda task: self._cancelled_early(tp, task))
        return batch.delivery

    async def flush(self) -> None:
        """Until every batch filled so far is in the producer's hands (before `producer.stop()`).
        A caller cancelled meanwhile leaves the drains running."""
        while self._drains:
            await asyncio.shield(asyncio.gather(*self._drains.values(), return_exceptions=True))

    async def abandon(self) -> None:
        """Stop handing batches over (the producer is closing without a broker): every delivery
        not handed over yet is cancelled, and its records' inputs stay unfinished."""
        drains = list(self._drains.values())
        for drain in drains:
            drain.cancel()
        await asyncio.gather(*drains, return_exceptions=True)
        for tp in list(self._filling):
            self._abandon(tp)

    def _open(self, tp: TopicPartition) -> _Batch:
        batch = self._filling[tp] = _Batch(self._producer.create_batch())
        return batch

    async def _drain(self, tp: TopicPartition) -> None:
        try:
            while (batch := self._next(tp)) is not None:
                await self._hand_over(tp, batch)
        except asyncio.CancelledError:
            self._abandon(tp)
            raise
        finally:
            del self._drains[tp]

    def _cancelled_early(self, tp: TopicPartition, task: asyncio.Task[None]) -> None:
        """A drain cancelled before its first step never ran its own clean-up."""
        if self._drains.get(tp) is task:
            del self._drains[tp]
            self._abandon(tp)

    def _abandon(self, tp: TopicPartition) -> None:
        """Nothing left for this partition will be sent: its deliveries say so."""
        while (batch := self._next(tp)) is not None:
            batch.delivery.cancel()

    def _next(self, tp: TopicPartition) -> _Batch | None:
        full = self._full.get(tp)
        if full:
            return full.popleft()
        return self._filling.pop(tp, None)

    async def _hand_over(self, tp: TopicPartition, batch: _Batch) -> None:
        batch.builder.close()  # nothing else joins it (a plain `send()` to this partition would)
        try:
            sent = await self._producer.send_batch(batch.builder, tp.topic, partition=tp.partition)
        except asyncio.CancelledError:
            batch.delivery.cancel()
            raise
        except Exception as exc:  # closed producer, queue timeout: the records were not sent
            if not batch.delivery.done():
                batch.delivery.set_exception(exc)
            return
        sent.add_done_callback(lambda done: self._settle(batch, done))

    def _settle(self, batch: _Batch, sent: asyncio.Future[Any]) -> None:
        _settle(batch.delivery, sent)
        if not sent.cancelled() and sent.exception() is None:
            self._written(batch.records)


def _append(batch: _Batch, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]) -> bool:
    return batch.builder.append(timestamp=None, key=key, value=value, headers=list(headers)) is not None


def _settle(delivery: Delivery, sent: asyncio.Future[Any]) -> None:
    if delivery.done():
        return
    if sent.cancelled():
        delivery.cancel()
    elif (exc := sent.exception()) is not None:
        delivery.set_exception(exc)
    else:
        delivery.set_result(sent.result())
