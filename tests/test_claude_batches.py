"""Claude Message Batches for backfill requests, through the real anthropic SDK against the simulator.

The gateways here are wired by the composition root (`gateway_parts`) from settings, exactly as in
production, with `CLAUDE_BATCH_BACKFILL` on and short batch timings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

import anthropic
import httpx
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_stream.compose import gateway_parts
from aexy_stream.settings import Settings
from gateway.batches import BatchingClaudeProvider, PriorityRoutingProvider
from gateway.config import BatchConfig, BreakerConfig, GatewayConfig, ProviderConfig, RetryConfig
from gateway.errors import (
    BadRequest,
    CircuitOpen,
    GatewayError,
    LLMUnavailableError,
    ProviderTimeout,
    ProviderUnavailable,
)
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.pricing import DEFAULT_PRICES, cost_usd
from gateway.providers.claude import ClaudeProvider
from gateway.resilience.breaker import State
from schemas.request import AnalysisRequest
from schemas.results import CodeQualityResult
from schemas.types import AnalysisType, Priority
from tests.conftest import free_port
from tests.contract.test_providers import make_call
from tests.support.beside import promptly_beside

API_KEY = "sk-ant-test-batches"
MODEL = "claude-sonnet-5-5"
FAST = BatchConfig(max_requests=100, max_wait_s=0.05, poll_s=0.02)
BuildGateway = Callable[..., Awaitable[Gateway]]


def request(content: str, priority: Priority = "backfill") -> AnalysisRequest:
    return AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content=content, priority=priority)


def settings(sim: SimulatorHandle, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_provider": "claude",
        "llm_fallback_providers": (),
        "anthropic_api_key": API_KEY,
        "anthropic_base_url": sim.base_url,
        "claude_batch_backfill": True,
        "claude_batch_max_wait_s": 0.05,
        "claude_batch_poll_s": 0.02,
        "llm_max_retries": 0,
        "llm_backoff_initial_s": 0.01,
        **overrides,
    }
    return Settings(_env_file=None, **values)


def batches(sim: SimulatorHandle) -> dict[str, int]:
    counts: dict[str, int] = sim.stats()["batches"]
    return counts


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as handle:
        yield handle


@pytest.fixture
async def slow_sim() -> AsyncIterator[SimulatorHandle]:
    """A simulator whose batches stay in progress for a minute: longer than any test here waits."""
    async with running_simulator(SimulatorConfig(protocol="anthropic", batch_delay_ms=60_000)) as handle:
        yield handle


@pytest.fixture
async def build(metrics: GatewayMetrics) -> AsyncIterator[BuildGateway]:
    built: list[Gateway] = []

    async def make(sim: SimulatorHandle, **overrides: Any) -> Gateway:
        gateway = Gateway(**gateway_parts(settings(sim, **overrides), None, metrics=metrics))
        built.append(gateway)
        return gateway

    yield make
    for gateway in built:
        await gateway.aclose()


@pytest.fixture
async def batching(sim: SimulatorHandle) -> AsyncIterator[BatchingClaudeProvider]:
    provider = BatchingClaudeProvider(ProviderConfig("claude", MODEL, sim.base_url, API_KEY, 5.0), FAST)
    yield provider
    await provider.aclose()


async def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Until the simulator's state (served in another task) satisfies `condition`."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - the state lives in the simulator, not behind an event
            await asyncio.sleep(0.01)


# --- the gateway, wired by the composition root ------------------------------------------------------


async def test_backfill_requests_go_out_as_one_batch(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim)
    envelopes = await asyncio.gather(*(gateway.analyze(request(f"x = {n}\n")) for n in range(6)))
    assert {(e.provider, e.model, e.cache_hit) for e in envelopes} == {("claude", MODEL, False)}
    assert all(isinstance(e.result, CodeQualityResult) for e in envelopes)
    assert batches(sim) == {"answered": 6, "created": 1, "requests": 6, "results": 1, "retrieved": 2}
    assert sim.stats()["completions"] == 0


async def test_live_requests_still_go_direct(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim)
    live = [request(f"live {n}", priority="live") for n in range(3)]
    backfill = [request(f"backfill {n}") for n in range(2)]
    await asyncio.gather(*(gateway.analyze(r) for r in [*live, *backfill]))
    assert sim.stats()["completions"] == 3
    assert (batches(sim)["created"], batches(sim)["requests"]) == (1, 2)


async def test_without_the_setting_backfill_goes_direct(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim, claude_batch_backfill=False)
    await gateway.analyze(request("x = 1\n"))
    assert sim.stats()["completions"] == 1
    assert batches(sim) == {}


async def test_batched_calls_are_billed_at_half_price(
    sim: SimulatorHandle, build: BuildGateway, metrics: GatewayMetrics
) -> None:
    gateway = await build(sim)
    batched = await gateway.analyze(request("def f():\n    return 1\n"))
    direct = await gateway.analyze(request("def f():\n    return 1\n", priority="live"), use_cache=False)
    tokens = (batched.input_tokens, batched.output_tokens)
    assert tokens == (direct.input_tokens, direct.output_tokens)
    assert direct.cost_usd == pytest.approx(cost_usd(DEFAULT_PRICES, MODEL, *tokens))
    assert direct.cost_usd > 0
    assert batched.cost_usd == pytest.approx(direct.cost_usd / 2)
    labels = {"provider": "claude", "model": MODEL}
    assert metrics.registry.get_sample_value("aexy_llm_cost_usd_total", labels) == pytest.approx(
        batched.cost_usd + direct.cost_usd
    )


async def test_backfill_is_not_held_to_the_messages_rate_budget(
    sim: SimulatorHandle, build: BuildGateway
) -> None:
    gateway = await build(sim, claude_rpm=1)  # the backfill share of 1 rpm: one call a minute
    async with asyncio.timeout(5):
        await asyncio.gather(*(gateway.analyze(request(f"y = {n}\n")) for n in range(5)))
    assert batches(sim)["requests"] == 5


async def test_max_requests_splits_into_several_batches(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim, claude_batch_max_requests=3)
    envelopes = await asyncio.gather(*(gateway.analyze(request(f"z = {n}\n")) for n in range(7)))
    assert len(envelopes) == 7
    assert (batches(sim)["created"], batches(sim)["requests"]) == (3, 7)


async def test_an_expired_request_is_retried_in_a_new_batch(
    sim: SimulatorHandle, build: BuildGateway, metrics: GatewayMetrics
) -> None:
    gateway = await build(sim, llm_max_retries=1)
    sim.script({"kind": "expired"})
    envelope = await gateway.analyze(request("w = 1\n"))
    assert envelope.provider == "claude"
    assert (batches(sim)["created"], batches(sim)["expired"], batches(sim)["answered"]) == (2, 1, 1)
    assert metrics.registry.get_sample_value("aexy_llm_retries_total", {"provider": "claude"}) == 1


async def test_a_final_error_in_a_batch_is_not_retried(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim, llm_max_retries=3)
    sim.script({"kind": "bad_request"})
    with pytest.raises(BadRequest):
        await gateway.analyze(request("v = 1\n"))
    assert batches(sim)["created"] == 1


async def test_cached_backfill_makes_no_provider_call(sim: SimulatorHandle, build: BuildGateway) -> None:
    gateway = await build(sim)
    requests = [request(f"cached {n}") for n in range(4)]
    await asyncio.gather(*(gateway.analyze(r) for r in requests))
    before = sim.stats()
    again = await asyncio.gather(*(gateway.analyze(r) for r in requests))
    assert all(e.cache_hit and e.cost_usd == 0 for e in again)
    assert sim.stats() == before
    assert (before["batches"]["created"], before["completions"]) == (1, 0)


async def test_the_composition_root_routes_claude_by_priority(sim: SimulatorHandle) -> None:
    on = gateway_parts(settings(sim), None)["providers"]["claude"]
    off = gateway_parts(settings(sim, claude_batch_backfill=False), None)["providers"]["claude"]
    await on.aclose()
    await off.aclose()
    assert isinstance(on, PriorityRoutingProvider)
    assert (on.name, on.model) == ("claude", MODEL)
    assert isinstance(off, ClaudeProvider)


# --- regressions from review: batched calls and the live circuit, single flight ---------------------


async def test_a_batched_call_never_holds_the_live_half_open_probe(
    slow_sim: SimulatorHandle, build: BuildGateway
) -> None:
    gateway = await build(slow_sim, llm_breaker_threshold=1, llm_breaker_cooldown_s=0.1)
    slow_sim.script({"kind": "server_error"})
    with pytest.raises(LLMUnavailableError):
        await gateway.analyze(request("outage", priority="live"))
    assert gateway.breaker("claude").state is State.OPEN
    await asyncio.sleep(0.15)  # cooled down: the live circuit is half-open
    backfill = asyncio.create_task(gateway.analyze(request("in a batch for a minute")))
    await wait_for(lambda: batches(slow_sim).get("created", 0) == 1)
    live = await promptly_beside(backfill, gateway.analyze(request("after the outage", priority="live")))
    assert live.provider == "claude"  # the live call was the probe, not refused as CircuitOpen
    assert gateway.breaker("claude").state is State.CLOSED


async def a_failed_batch_leaves_the_live_circuit_closed(gateway: Gateway) -> None:
    """Three backfill calls fail together in one batch (the breaker opens at two failures): the
    live circuit stays closed, while the batch transport's own breaker opens."""
    failed = await asyncio.gather(
        *(gateway.analyze(request(f"fails {n}")) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(f, LLMUnavailableError) for f in failed)
    assert gateway.breaker("claude").state is State.CLOSED
    assert (await gateway.analyze(request("live", priority="live"))).provider == "claude"
    assert gateway.breaker("claude", "batch").state is State.OPEN  # counted for their own transport
    assert gateway.cooling_down_for() == 0  # live requests need not wait ...
    assert gateway.cooling_down_for("backfill") > 50  # ... backfill ones for the 60 s cool-down
    with pytest.raises(LLMUnavailableError) as caught:
        await gateway.analyze(request("next backfill"))
    assert [type(cause) for cause in caught.value.causes] == [CircuitOpen]


async def test_expired_batch_results_do_not_open_the_live_circuit(
    sim: SimulatorHandle, build: BuildGateway
) -> None:
    gateway = await build(sim, llm_breaker_threshold=2, llm_breaker_cooldown_s=60)
    sim.script(*[{"kind": "expired"}] * 3)
    await a_failed_batch_leaves_the_live_circuit_closed(gateway)
    assert (batches(sim)["created"], batches(sim)["expired"], sim.stats()["completions"]) == (1, 3, 1)


async def test_a_failed_batch_submission_does_not_open_the_live_circuit(
    sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    unreachable = ProviderConfig("claude", MODEL, f"http://127.0.0.1:{free_port()}", API_KEY, 5.0)
    live = ClaudeProvider(ProviderConfig("claude", MODEL, sim.base_url, API_KEY, 5.0))
    routed = PriorityRoutingProvider(live, BatchingClaudeProvider(unreachable, FAST))
    breaker = BreakerConfig(failure_threshold=2, cooldown_s=60)
    config = GatewayConfig(chain=("claude",), retry=RetryConfig(max_retries=0), breaker=breaker)
    gateway = Gateway(config, {"claude": routed}, metrics=metrics)
    try:
        await a_failed_batch_leaves_the_live_circuit_closed(gateway)
    finally:
        await gateway.aclose()
    assert (batches(sim), sim.stats()["completions"]) == ({}, 1)


async def test_a_live_request_never_waits_on_an_identical_batched_one(
    slow_sim: SimulatorHandle, build: BuildGateway, metrics: GatewayMetrics
) -> None:
    gateway = await build(slow_sim)
    backfill = asyncio.create_task(gateway.analyze(request("same content")))
    await wait_for(lambda: batches(slow_sim).get("created", 0) == 1)
    live = await promptly_beside(backfill, gateway.analyze(request("same content", priority="live")))
    assert not live.cache_hit
    assert slow_sim.stats()["completions"] == 1
    assert metrics.registry.get_sample_value("aexy_llm_coalesced_total") == 0


async def test_a_backfill_request_joins_an_identical_live_one(
    slow_sim: SimulatorHandle, build: BuildGateway
) -> None:
    gateway = await build(slow_sim)
    slow_sim.script({"kind": "ok", "delay_ms": 200})
    live = asyncio.create_task(gateway.analyze(request("shared", priority="live")))
    await wait_for(lambda: slow_sim.stats()["completions"] == 1)
    backfill = await gateway.analyze(request("shared"))
    assert (await live).provider == "claude"
    assert backfill.cache_hit
    assert batches(slow_sim) == {}


# --- the batching provider on its own -------------------------------------------------------------------


async def test_params_are_built_exactly_like_a_direct_call(
    sim: SimulatorHandle, batching: BatchingClaudeProvider
) -> None:
    direct = ClaudeProvider(ProviderConfig("claude", MODEL, sim.base_url, API_KEY, 5.0))
    try:
        await direct.analyze(make_call(AnalysisType.TEAM_HEALTH))
        direct_body = last_body(sim)
    finally:
        await direct.aclose()
    await batching.analyze(make_call(AnalysisType.TEAM_HEALTH))
    batch_body = last_body(sim)
    assert [r["params"] for r in batch_body["requests"]] == [direct_body]


def last_body(sim: SimulatorHandle) -> dict[str, Any]:
    last = sim.engine.stats.last
    assert last is not None
    body: dict[str, Any] = last.as_json()["body"]
    return body


async def test_each_errored_result_maps_to_its_own_error(
    sim: SimulatorHandle, batching: BatchingClaudeProvider
) -> None:
    sim.script(
        {"kind": "overloaded", "match": "alpha"},
        {"kind": "server_error", "match": "beta"},
        {"kind": "bad_request", "match": "gamma"},
        {"kind": "spend_limit", "match": "delta"},
    )
    contents = ["alpha", "beta", "gamma", "delta", "epsilon"]
    calls = [make_call(AnalysisType.CODE_QUALITY, content) for content in contents]
    outcomes = await asyncio.gather(*(batching.analyze(c) for c in calls), return_exceptions=True)
    kinds = [type(outcome).__name__ for outcome in outcomes]
    assert kinds == ["Overloaded", "ProviderUnavailable", "BadRequest", "SpendLimitReached", "ProviderReply"]
    errors = [o for o in outcomes if isinstance(o, GatewayError)]
    assert [e.retryable for e in errors] == [True, True, False, False]
    assert all(e.provider == "claude" and API_KEY not in str(e) for e in errors)
    assert batches(sim)["created"] == 1


@pytest.mark.parametrize(
    ("kind", "expected"), [("expired", ProviderTimeout), ("canceled", ProviderUnavailable)]
)
async def test_unprocessed_requests_are_retryable(
    sim: SimulatorHandle, batching: BatchingClaudeProvider, kind: str, expected: type[GatewayError]
) -> None:
    sim.script({"kind": kind})
    with pytest.raises(expected) as caught:
        await batching.analyze(make_call(AnalysisType.CODE_QUALITY))
    assert caught.value.retryable
    assert batches(sim)[kind] == 1


async def test_usage_and_half_price_come_with_the_reply(
    sim: SimulatorHandle, batching: BatchingClaudeProvider
) -> None:
    reply = await batching.analyze(make_call(AnalysisType.CODE_QUALITY))
    assert (reply.input_tokens, reply.output_tokens) == (sim.stats()["tokens_in"], sim.stats()["tokens_out"])
    assert reply.price_factor == 0.5


async def test_a_failed_submission_fails_every_call_of_the_batch() -> None:
    unreachable = ProviderConfig("claude", MODEL, f"http://127.0.0.1:{free_port()}", API_KEY, 5.0)
    provider = BatchingClaudeProvider(unreachable, FAST)
    try:
        calls = [make_call(AnalysisType.CODE_QUALITY, f"c{n}") for n in range(2)]
        outcomes = await asyncio.gather(*(provider.analyze(c) for c in calls), return_exceptions=True)
    finally:
        await provider.aclose()
    assert all(isinstance(o, ProviderUnavailable) and o.retryable for o in outcomes)
    assert outcomes[0] is not outcomes[1]  # each caller raises its own error
    assert all(isinstance(o, BaseException) and o.__cause__ is not None for o in outcomes)


async def test_aclose_fails_waiting_calls_retryably_and_cancels_running_batches() -> None:
    async with running_simulator(SimulatorConfig(protocol="anthropic", batch_delay_ms=60_000)) as sim:
        config = BatchConfig(max_requests=2, max_wait_s=60, poll_s=0.02)
        provider = BatchingClaudeProvider(ProviderConfig("claude", MODEL, sim.base_url, API_KEY, 5.0), config)
        calls = [make_call(AnalysisType.CODE_QUALITY, f"pending {n}") for n in range(3)]
        tasks = [asyncio.create_task(provider.analyze(call)) for call in calls]
        await wait_for(lambda: batches(sim).get("retrieved", 0) >= 1)  # two submitted, one still open
        await provider.aclose()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        late = await asyncio.gather(provider.analyze(calls[0]), return_exceptions=True)
        stats = batches(sim)
    assert all(isinstance(o, ProviderUnavailable) and o.retryable for o in [*outcomes, *late])
    assert (stats["created"], stats["requests"], stats["cancels"]) == (1, 2, 1)
    assert "answered" not in stats


async def test_a_batch_that_never_ends_times_out_at_the_deadline() -> None:
    async with running_simulator(SimulatorConfig(protocol="anthropic", batch_delay_ms=60_000)) as sim:
        config = BatchConfig(max_requests=1, max_wait_s=0, poll_s=0.02, deadline_s=0.1)
        provider = BatchingClaudeProvider(ProviderConfig("claude", MODEL, sim.base_url, API_KEY, 5.0), config)
        try:
            with pytest.raises(ProviderTimeout) as caught:
                await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
            cancels = batches(sim)["cancels"]
        finally:
            await provider.aclose()
    assert caught.value.retryable
    assert cancels == 1  # given up on: asked to stop, so it is not billed later


# --- the simulator's Batches API, through the SDK ---------------------------------------------------------


def sdk(sim: SimulatorHandle) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=sim.base_url, max_retries=0)


def params(content: str = "hello") -> MessageCreateParamsNonStreaming:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": content}]}


async def test_a_batch_is_in_progress_until_its_delay_has_passed() -> None:
    config = SimulatorConfig(protocol="anthropic", batch_delay_ms=150)
    async with running_simulator(config) as sim, sdk(sim) as client:
        created = await client.messages.batches.create(
            requests=[{"custom_id": "a", "params": params()}, {"custom_id": "b", "params": params("x")}]
        )
        early = await client.messages.batches.retrieve(created.id)
        with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):
            await client.messages.batches.results(created.id)
        await asyncio.sleep(0.2)
        ended = await client.messages.batches.retrieve(created.id)
        lines = [line async for line in await client.messages.batches.results(created.id)]
    assert created.id.startswith("msgbatch_") and created.type == "message_batch"
    assert created.expires_at - created.created_at == timedelta(hours=24)
    assert (early.processing_status, early.request_counts.processing, early.results_url) == (
        "in_progress",
        2,
        None,
    )
    assert ended.processing_status == "ended" and ended.ended_at is not None
    assert (ended.request_counts.succeeded, ended.request_counts.processing) == (2, 0)
    assert ended.results_url == f"{sim.base_url}/v1/messages/batches/{created.id}/results"
    assert sorted((line.custom_id, line.result.type) for line in lines) == [
        ("a", "succeeded"),
        ("b", "succeeded"),
    ]


async def test_params_are_validated_per_request_when_the_batch_ends(sim: SimulatorHandle) -> None:
    async with sdk(sim) as client:
        created = await client.messages.batches.create(
            requests=[
                {"custom_id": "ok", "params": params()},
                {"custom_id": "bad", "params": cast(MessageCreateParamsNonStreaming, {"model": MODEL})},
            ]
        )
        ended = await client.messages.batches.retrieve(created.id)
        lines = {
            line.custom_id: line.result async for line in await client.messages.batches.results(created.id)
        }
    assert (ended.request_counts.succeeded, ended.request_counts.errored) == (1, 1)
    bad = lines["bad"]
    assert bad.type == "errored" and bad.error.error.type == "invalid_request_error"


@pytest.mark.parametrize(
    "requests",
    [
        [],
        [{"custom_id": "same", "params": params()}, {"custom_id": "same", "params": params()}],
        [{"custom_id": "has space", "params": params()}],
        [{"custom_id": "no-params"}],
    ],
)
async def test_a_malformed_batch_is_refused_whole(sim: SimulatorHandle, requests: list[Any]) -> None:
    async with sdk(sim) as client:
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.batches.create(requests=requests)
    assert batches(sim).get("created", 0) == 0


async def test_unknown_batches_and_missing_keys_are_refused(sim: SimulatorHandle) -> None:
    async with sdk(sim) as client:
        with pytest.raises(anthropic.NotFoundError):
            await client.messages.batches.retrieve("msgbatch_missing")
    async with httpx.AsyncClient(base_url=sim.base_url) as keyless:
        refused = await keyless.post("/v1/messages/batches", json={"requests": []})
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"


async def test_cancel_ends_the_batch_with_every_request_canceled() -> None:
    config = SimulatorConfig(protocol="anthropic", batch_delay_ms=60_000)
    async with running_simulator(config) as sim, sdk(sim) as client:
        created = await client.messages.batches.create(requests=[{"custom_id": "a", "params": params()}])
        canceling = await client.messages.batches.cancel(created.id)
        ended = await client.messages.batches.retrieve(created.id)
        lines = [line async for line in await client.messages.batches.results(created.id)]
    assert canceling.cancel_initiated_at is not None
    assert ended.processing_status == "ended" and ended.request_counts.canceled == 1
    assert [line.result.type for line in lines] == ["canceled"]
    assert sim.stats()["total"] == 0
