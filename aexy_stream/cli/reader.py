"""A consumer without a group over every partition of some topics (the demo's watcher, `tail`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition

START_TIMEOUT_S = 10.0


@asynccontextmanager
async def assigned_consumer(
    bootstrap_servers: str, topics: Sequence[str], *, from_beginning: bool, client_id: str
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer on every partition of `topics`, at their start or at their end.

    LookupError for a topic the broker does not have (none is auto-created: only the metadata of
    existing topics is asked for). Nothing is committed.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False, client_id=client_id
    )
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            await consumer.start()
            await consumer.topics()
        consumer.assign(partitions(consumer, topics))
        await (consumer.seek_to_beginning() if from_beginning else consumer.seek_to_end())
        yield consumer
    finally:
        await consumer.stop()


def partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    found: list[TopicPartition] = []
    for topic in topics:
        numbers = consumer.partitions_for_topic(topic)
        if not numbers:
            raise LookupError(f"the broker has no topic {topic}")
        found += [TopicPartition(topic, number) for number in sorted(numbers)]
    return found
