"""The circuit breaker under concurrency, through the gateway and a simulated provider: an outage
stops the calls within seconds, a 429 that says when to come back does not open the circuit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from gateway.cache.layered import LayeredCache
from gateway.config import BreakerConfig, GatewayConfig, ProviderConfig, RetryConfig
from gateway.errors import GatewayError
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.claude import ClaudeProvider
from gateway.resilience.breaker import State
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

IN_FLIGHT = 64


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=20)) as handle:
        yield handle


def gateway_on(sim: SimulatorHandle) -> Gateway:
    provider = ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", sim.base_url, "sk-test", 10.0))
    config = GatewayConfig(chain=("claude",), retry=RetryConfig(max_retries=0), breaker=BreakerConfig())
    return Gateway(
        config, {"claude": provider}, cache=LayeredCache(()), metrics=GatewayMetrics(CollectorRegistry())
    )


async def hammer(gateway: Gateway, seconds: float) -> None:
    """IN_FLIGHT callers, each calling as soon as its last call ended, for `seconds`."""
    deadline = time.monotonic() + seconds

    async def caller(n: int) -> None:
        i = 0
        while time.monotonic() < deadline:
            request = AnalysisRequest(analysis_type=AnalysisType.TASK_SIGNALS, content=f"caller {n} call {i}")
            try:
                await gateway.analyze(request, use_cache=False)
            except GatewayError:
                await asyncio.sleep(0.01)
            i += 1

    await asyncio.gather(*(caller(n) for n in range(IN_FLIGHT)))


async def test_a_full_outage_stops_the_calls_within_seconds_at_64_in_flight(sim: SimulatorHandle) -> None:
    sim.add_rules({"kind": "server_error"})
    gateway = gateway_on(sim)
    try:
        await hammer(gateway, 2.0)
        assert gateway.breaker("claude").state is State.OPEN
        # one wave in flight when it opened, at most; nothing after that for the rest of the 2 s
        assert sim.stats()["total"] <= 2 * IN_FLIGHT
    finally:
        await gateway.aclose()


async def test_a_429_with_retry_after_does_not_open_the_circuit(sim: SimulatorHandle) -> None:
    sim.add_rules({"kind": "rate_limit", "retry_after": 0.01})
    gateway = gateway_on(sim)
    try:
        await hammer(gateway, 1.0)
        assert sim.stats()["total"] >= 2 * BreakerConfig().failure_threshold  # refused, all of them
        assert gateway.breaker("claude").state is State.CLOSED
    finally:
        await gateway.aclose()
