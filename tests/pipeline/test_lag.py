"""The processor's lag gauge (`aexy_stream_consumer_lag`) against the broker's own numbers: end offset
minus the group's committed offset, after a known number of records, then 0 once they are done.

Each batch's calls take 4 s at the simulated provider, so the records are read and unfinished while
the processor measures (once a second): its lag is the batch's size, as the broker counts it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers.config import Topics
from consumers.metrics import ProcessorMetrics
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, produce

pytestmark = [
    pytest.mark.needs_real_kafka,  # Tansu's end offsets are wrong after batched produces
    pytest.mark.slow,  # two batches of 4 s calls
]
KEY = b"octo/lag"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=4000)) as handle:
        yield handle


async def broker_lag(kafka: KafkaBroker, group: str, tp: TopicPartition) -> int:
    """End offset minus the group's committed offset (0 when it committed none), asked of the broker."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        end = (await consumer.end_offsets([tp]))[tp]
        committed = await consumer.committed(tp) or 0
    finally:
        await consumer.stop()
    return int(end - committed)


async def gauge_reaches(metrics: ProcessorMetrics, tp: TopicPartition, value: int, timeout_s: float) -> None:
    labels = {"topic": tp.topic, "partition": str(tp.partition)}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while metrics.registry.get_sample_value("aexy_stream_consumer_lag", labels) != value:
        seen = metrics.registry.get_sample_value("aexy_stream_consumer_lag", labels)
        assert loop.time() < deadline, f"lag of {tp} is {seen}, not {value}, after {timeout_s:g} s"
        await asyncio.sleep(0.05)


async def test_lag_is_the_end_offset_minus_the_committed_offset_and_reaches_zero(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    config = processor_config(kafka.bootstrap_servers, topics)
    metrics = ProcessorMetrics(CollectorRegistry())
    first = await produce(kafka.bootstrap_servers, topics.code_changes, [commit() for _ in range(5)], key=KEY)
    tp = TopicPartition(topics.code_changes, first[0].partition)
    gateway = claude_gateway(sim)
    try:
        async with running(config, gateway, metrics=metrics):
            await gauge_reaches(metrics, tp, 5, timeout_s=30)  # read, none finished: nothing committed
            assert await broker_lag(kafka, config.group_id, tp) == 5
            await gauge_reaches(metrics, tp, 0, timeout_s=30)
            assert await broker_lag(kafka, config.group_id, tp) == 0

            await produce(kafka.bootstrap_servers, topics.code_changes, [commit() for _ in range(3)], key=KEY)
            await gauge_reaches(metrics, tp, 3, timeout_s=10)  # 5 committed, 8 written
            assert await broker_lag(kafka, config.group_id, tp) == 3
            await gauge_reaches(metrics, tp, 0, timeout_s=30)
            assert await broker_lag(kafka, config.group_id, tp) == 0
    finally:
        await gateway.aclose()


def commit() -> bytes:
    return commit_event(repository="octo/lag", sha=uuid.uuid4().hex + "0" * 8)
