"""The backfill lane: a large backfill runs while live events arrive, and live keeps its pace.

The gateway's budget is 60 requests per 2 s window with a backfill share of 20%. Live events come
at 4 per second (12 requests/s, well within the live budget); the backfill is 2,000 commits on
the lane topic (6,000 requests, far more than its share). Live latency is measured from the send
of an event to the arrival of its last result, without and then with the backfill running.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from statistics import quantiles

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers.config import Topics
from gateway.cache.layered import LayeredCache
from gateway.config import BreakerConfig, GatewayConfig, ProviderConfig, RateLimitConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.metrics import GatewayMetrics
from gateway.providers.claude import ClaudeProvider
from schemas.events import parse_code_change
from tests.pipeline.harness import acked_producer, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker

pytestmark = pytest.mark.slow
LIVE_EVENTS, LIVE_RATE, BACKFILL = 24, 4.0, 2000
BUDGET, WINDOW_S, SHARE = 60, 2.0, 0.2


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=30)) as handle:
        yield handle


def limited_gateway(sim: SimulatorHandle) -> Gateway:
    provider = ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", sim.base_url, "sk-test", 10.0))
    limits = RateLimitConfig(requests_per_window=BUDGET, window_s=WINDOW_S, backfill_share=SHARE)
    return Gateway(
        GatewayConfig(chain=("claude",), retry=RetryConfig(max_retries=1), breaker=BreakerConfig()),
        {"claude": provider},
        cache=LayeredCache(()),  # every request is a provider call
        limiters={"claude": BudgetLimiter("claude", limits, MemoryWindowStore())},
        metrics=GatewayMetrics(CollectorRegistry()),
    )


class Arrivals:
    """Reads the results topic; the wall time each event's results arrived, by event id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=f"lanes-{uuid.uuid4().hex[:6]}",
            auto_offset_reset="earliest", session_timeout_ms=2000, heartbeat_interval_ms=300,
        )  # fmt: skip
        self.last: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.by_topic: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Arrivals:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _read(self) -> None:
        async for record in self._consumer:
            source = orjson.loads(record.value)["source"]
            event = source["event_id"]
            self.last[event] = time.monotonic()
            self.count[event] = self.count.get(event, 0) + 1
            self.by_topic[source["topic"]] = self.by_topic.get(source["topic"], 0) + 1


async def live_p95(
    producer: AIOKafkaProducer, topics: Topics, arrivals: Arrivals, events: int = LIVE_EVENTS
) -> float:
    """Send live events at LIVE_RATE; the p95 of send -> third result, in seconds."""
    sent: dict[str, float] = {}
    for _ in range(events):
        value = commit_event(repository="octo/live")
        await producer.send_and_wait(topics.code_changes, value, key=b"octo/live")
        sent[parse_code_change(value).event_id] = time.monotonic()
        await asyncio.sleep(1 / LIVE_RATE)
    deadline = time.monotonic() + 30
    while any(arrivals.count.get(e, 0) < 3 for e in sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    latencies = [arrivals.last[e] - t for e, t in sent.items() if arrivals.count.get(e, 0) >= 3]
    assert len(latencies) == events, f"{events - len(latencies)} live events without results"
    return quantiles(latencies, n=20)[-1] if events > 1 else latencies[0]


async def test_live_events_keep_their_pace_while_a_backfill_runs(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap = kafka.bootstrap_servers
    producer = acked_producer(bootstrap, linger_ms=5)
    await producer.start()
    gateway = limited_gateway(sim)
    try:
        async with (
            Arrivals(bootstrap, topics.results) as arrivals,
            running(processor_config(bootstrap, topics), gateway),
        ):
            await live_p95(producer, topics, arrivals, events=1)  # warm-up: the group joined
            alone = await live_p95(producer, topics, arrivals)
            for _ in range(BACKFILL):
                await producer.send(
                    topics.backfill_code_changes, commit_event(repository="octo/old"), key=b"old"
                )
            await producer.flush()
            started = time.monotonic()
            beside = await live_p95(producer, topics, arrivals)
            elapsed = time.monotonic() - started
            backfilled = arrivals.by_topic.get(topics.backfill_code_changes, 0)
    finally:
        await producer.stop()
        await gateway.aclose()

    share_per_s = BUDGET * SHARE / WINDOW_S
    with capsys.disabled():
        print(
            f"\n  live p95 without backfill {alone * 1000:.0f} ms, with {BACKFILL} backfill commits queued"
            f" {beside * 1000:.0f} ms; backfill results meanwhile {backfilled} in {elapsed:.1f} s"
            f" ({backfilled / elapsed:.1f}/s, share {share_per_s:.0f} requests/s)"
        )
    assert backfilled > 0  # the backfill made progress ...
    calls = backfilled / 3  # a commit's three results come from one fused call
    assert calls <= share_per_s * (elapsed + 2 * WINDOW_S) + 1  # ... within its share
    assert beside <= 2 * alone + 0.5  # and live events were not held behind it
