"""`aexy_stream_pending_records`: the records read and not finished, as the loop turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from consumers.config import Topics
from consumers.metrics import ProcessorMetrics
from gateway.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce

COMMITS = 8


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    """Slow enough that every commit read is still waiting on its calls for several loop turns."""
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=400)) as handle:
        yield handle


async def test_pending_records_counts_the_records_waiting_and_returns_to_zero(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit_event() for _ in range(COMMITS)])
    registry = CollectorRegistry()

    def pending() -> float | None:
        return registry.get_sample_value("aexy_stream_pending_records")

    gateway = claude_gateway(sim)
    seen: list[float | None] = []
    async with running(
        processor_config(kafka.bootstrap_servers, topics), gateway, metrics=ProcessorMetrics(registry)
    ):
        results = asyncio.ensure_future(consume_all(kafka.bootstrap_servers, topics.results, 3 * COMMITS, 30))
        while not results.done():
            seen.append(pending())
            await asyncio.sleep(0.02)
        await results
        for _ in range(100):  # the next turns of the loop, after the last record finished
            if pending() == 0:
                break
            await asyncio.sleep(0.02)
        final = pending()
    await gateway.aclose()
    assert max(value or 0 for value in seen) == COMMITS
    assert final == 0
