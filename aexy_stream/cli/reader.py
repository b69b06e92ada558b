"""A consumer without a group over every partition of some topics (the demo's watcher, `tail`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer

from consumers.topics import topic_partitions

START_TIMEOUT_S = 10.0


@asynccontextmanager
async def assigned_consumer(
    bootstrap_servers: str, topics: Sequence[str], *, from_beginning: bool, client_id: str
) -> AsyncIterator[AIOKafkaConsumer]:
    """A started consumer on every partition of `topics`, at their start or at their end.

    LookupError for a topic the broker does not have (none is auto-created: the partitions are asked
    of the cluster, not of the consumer's metadata, which names only topics it already reads).
    Nothing is committed.
    """
    # The reset `assign` begins is the seek's own: aiokafka may apply either answer (docs/kafka.md).
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        client_id=client_id,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            await consumer.start()
            assigned = await topic_partitions(bootstrap_servers, topics)
        consumer.assign(assigned)
        await (consumer.seek_to_beginning() if from_beginning else consumer.seek_to_end())
        yield consumer
    finally:
        await consumer.stop()
