"""`aexy_stream_pending_records`: the records read and not finished, as the loop turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers.config import Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import LIVE_READ_AHEAD, LIVE_UNACKNOWLEDGED
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce

COMMITS = 8


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    """Slow enough that every commit read is still waiting on its calls for several loop turns."""
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=400)) as handle:
        yield handle


@pytest.fixture
async def busy_sim() -> AsyncIterator[SimulatorHandle]:
    """Calls long enough that the loop, which fills its cap within one turn, stays at the cap between
    two results; shorter than `sim`'s, since a backlog's calls run one after another in few slots."""
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=200)) as handle:
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


async def test_records_waiting_on_calls_are_capped_at_four_per_call_slot(
    kafka: KafkaBroker, topics: Topics, busy_sim: SimulatorHandle
) -> None:
    """Records with calls to make hold at most LIVE_READ_AHEAD x MAX_IN_FLIGHT of the input; only
    records that merely wait for acknowledgements may fill LIVE_UNACKNOWLEDGED x MAX_IN_FLIGHT. The
    input is larger than both caps, so that either one, if it were the bound, would be reached."""
    slots = 2
    commits = LIVE_UNACKNOWLEDGED * slots + 4
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit_event() for _ in range(commits)])
    registry = CollectorRegistry()
    gateway = claude_gateway(busy_sim)
    seen: list[float] = []
    config = processor_config(kafka.bootstrap_servers, topics, max_in_flight=slots)
    async with running(config, gateway, metrics=ProcessorMetrics(registry)):
        results = asyncio.ensure_future(consume_all(kafka.bootstrap_servers, topics.results, 3 * commits, 60))
        while not results.done():
            seen.append(registry.get_sample_value("aexy_stream_pending_records") or 0)
            await asyncio.sleep(0.02)
        assert len(await results) == 3 * commits
    await gateway.aclose()
    assert max(seen) == LIVE_READ_AHEAD * slots < LIVE_UNACKNOWLEDGED * slots
