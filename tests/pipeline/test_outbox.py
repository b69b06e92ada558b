"""The outbox against the real broker: batches per partition, in order, each delivery the broker's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import ProducerClosed

from consumers.commit import acknowledged
from consumers.config import Topics
from consumers.outbox import Outbox
from tests.pipeline.harness import acked_producer
from tests.plugins.kafka import KafkaBroker, consume_all

SMALL_BATCH = 2048
"""Bytes: a few records per batch, so one partition's records span many batches."""


@pytest.fixture
async def producer(kafka: KafkaBroker) -> AsyncIterator[AIOKafkaProducer]:
    producer = acked_producer(kafka.bootstrap_servers, linger_ms=5, max_batch_size=SMALL_BATCH)
    await producer.start()
    yield producer
    await producer.stop()


async def test_one_partitions_records_span_many_batches_and_keep_their_order(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    tp = TopicPartition(topics.results, 2)
    values = [f"{i:04d}".encode() * 50 for i in range(200)]  # 200 bytes each: about 9 per batch
    deliveries = [outbox.put(tp, b"subject", value, [("h", b"1")]) for value in values]
    metadata = await asyncio.gather(*deliveries)
    assert len({id(d) for d in deliveries}) >= 20  # many batches, each one future shared by its records
    assert {(m.topic, m.partition) for m in metadata} == {(topics.results, 2)}
    records = await consume_all(kafka.bootstrap_servers, topics.results, len(values))
    assert [r.value for r in records] == values
    assert {(r.partition, r.key, tuple(r.headers)) for r in records} == {(2, b"subject", (("h", b"1"),))}


async def test_each_partition_gets_its_own_batches(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    deliveries = [outbox.put(TopicPartition(topics.results, i % 4), None, b"v%d" % i) for i in range(40)]
    metadata = await asyncio.gather(*deliveries)
    assert [m.partition for m in metadata] == [i % 4 for i in range(40)]
    records = await consume_all(kafka.bootstrap_servers, topics.results, 40)
    by_partition = {p: [r.value for r in records if r.partition == p] for p in range(4)}
    assert by_partition == {p: [b"v%d" % i for i in range(p, 40, 4)] for p in range(4)}


async def test_flush_hands_over_what_was_put_before_the_producer_stops(
    kafka: KafkaBroker, topics: Topics
) -> None:
    producer = acked_producer(kafka.bootstrap_servers)
    await producer.start()
    outbox = Outbox(producer)
    delivery = outbox.put(TopicPartition(topics.results, 0), None, b"last words")
    await outbox.flush()
    await producer.stop()  # sends what the producer holds
    assert delivery.done() and delivery.result().partition == 0
    records = await consume_all(kafka.bootstrap_servers, topics.results, 1)
    assert [r.value for r in records] == [b"last words"]


async def test_a_record_larger_than_a_batch_goes_alone(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    tp = TopicPartition(topics.results, 1)
    small, large = outbox.put(tp, None, b"small"), outbox.put(tp, None, b"x" * (4 * SMALL_BATCH))
    assert small is not large
    await asyncio.gather(small, large)
    records = await consume_all(kafka.bootstrap_servers, topics.results, 2)
    assert [len(r.value) for r in records] == [5, 4 * SMALL_BATCH]


async def test_a_delivery_fails_when_the_producer_is_closed(kafka: KafkaBroker, topics: Topics) -> None:
    producer = acked_producer(kafka.bootstrap_servers)
    await producer.start()
    # As the processor's Publisher does at start: a closed aiokafka producer waits forever for the metadata
    # of a topic it never learned (its bootstrap asks for no topic: Kafka then names none, Tansu all).
    await producer.partitions_for(topics.results)
    await producer.stop()
    delivery = Outbox(producer).put(TopicPartition(topics.results, 0), None, b"too late")
    with pytest.raises(ProducerClosed):
        await delivery


async def test_a_record_cancelled_while_waiting_cancels_no_other_record_of_its_batch(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    tp = TopicPartition(topics.results, 0)
    first, second = outbox.put(tp, None, b"a"), outbox.put(tp, None, b"b")
    assert first is second  # one batch, one delivery
    waiters = [asyncio.create_task(acknowledged([first])), asyncio.create_task(acknowledged([second]))]
    await asyncio.sleep(0)
    assert not first.done()  # both records are waiting on the broker
    waiters[0].cancel()
    await waiters[1]
    assert waiters[0].cancelled() and first.done() and not first.cancelled()
    records = await consume_all(kafka.bootstrap_servers, topics.results, 2)
    assert [r.value for r in records] == [b"a", b"b"]


async def test_a_cancelled_flush_leaves_the_batches_on_their_way(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    delivery = outbox.put(TopicPartition(topics.results, 1), None, b"kept")
    flushing = asyncio.create_task(outbox.flush())
    await asyncio.sleep(0)
    flushing.cancel()
    assert (await delivery).partition == 1
    records = await consume_all(kafka.bootstrap_servers, topics.results, 1)
    assert [r.value for r in records] == [b"kept"]


async def test_a_drain_cancelled_before_it_ran_cancels_its_deliveries_and_the_partition_goes_on(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    outbox = Outbox(producer)
    tp = TopicPartition(topics.results, 3)
    lost = outbox.put(tp, None, b"lost")
    (drain,) = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "Outbox._drain"]  # type: ignore[union-attr]
    drain.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert lost.cancelled()
    await outbox.flush()  # returns: no drain left behind
    assert (await outbox.put(tp, None, b"after")).partition == 3
    records = await consume_all(kafka.bootstrap_servers, topics.results, 1)
    assert [r.value for r in records] == [b"after"]
