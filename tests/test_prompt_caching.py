"""Prompt caching, provider side: the providers through their real clients against the simulators,
and the gateway's usage, metrics and cost built from what they report.

Expected dollars come from Anthropic's published prices (platform.claude.com pricing page), written
out here rather than read from `gateway.pricing`.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from aexy_dev.simulator import SimulatorHandle
from aexy_stream.compose import gateway_config
from aexy_stream.settings import Settings
from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.config import GatewayConfig, Price, ProviderConfig, RateLimitConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.limits.base import Limiter, Permit
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.metrics import GatewayMetrics
from gateway.pricing import DEFAULT_PRICES, cost_usd
from gateway.prompts import prompt_for
from gateway.prompts.fused import fused_prompt
from gateway.providers.base import Provider, ProviderCall, ProviderReply
from gateway.providers.claude import ClaudeProvider
from gateway.providers.openai import OpenAIProvider
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.support import calls

API_KEY = "sk-test-prompt-caching"
PAIR = (AnalysisType.CODE_QUALITY, AnalysisType.SKILL_EXTRACTION)
SONNET_5_5 = "claude-sonnet-5-5"
OPUS_5 = "claude-opus-5"
OPUS_5_PRICES = {"input": 5.0, "write_5m": 6.25, "read": 0.50, "output": 25.0}
"""Claude Opus 5, USD per million tokens, from the pricing page's model table."""


def sim_tokens(text: str) -> int:
    """The simulator's tokenizer: 4 characters a token, rounded up."""
    return math.ceil(len(text) / 4)


def fused_call(content: str, types: tuple[AnalysisType, ...] = PAIR) -> ProviderCall:
    return calls.fused_call(types, content, {"path": "calc.py"})


def single_call(content: str, kind: AnalysisType = AnalysisType.CODE_QUALITY) -> ProviderCall:
    return calls.single_call(kind, content)


def claude(sim: SimulatorHandle, model: str = SONNET_5_5) -> ClaudeProvider:
    return ClaudeProvider(ProviderConfig("claude", model, sim.base_url, API_KEY, 5.0))


def cache_counts(reply: ProviderReply) -> tuple[int, int]:
    return reply.cache_read_tokens, reply.cache_write_tokens


# --- Claude: the request marks the static prefix -------------------------------------------------


async def test_claude_sends_the_system_prompt_first_as_a_marked_block(claude_sim: SimulatorHandle) -> None:
    provider = claude(claude_sim)
    call = fused_call("def add(a, b):\n    return a + b\n")
    try:
        await provider.analyze(call)
    finally:
        await provider.aclose()
    last = claude_sim.engine.stats.last
    assert last is not None
    body: dict[str, Any] = last.as_json()["body"]
    assert body["system"] == [{"type": "text", "text": call.system, "cache_control": {"type": "ephemeral"}}]
    assert "def add" not in call.system  # the material is in the user message, after the marked prefix
    assert "def add" in body["messages"][0]["content"]


async def test_claude_first_call_writes_the_prefix_and_the_next_reads_it(
    claude_sim: SimulatorHandle,
) -> None:
    provider = claude(claude_sim)
    try:
        first = await provider.analyze(fused_call("def add(a, b):\n    return a + b\n"))
        second = await provider.analyze(fused_call("def sub(a, b):\n    return a - b\n"))
    finally:
        await provider.aclose()
    prefix = sim_tokens(fused_prompt(PAIR).system)
    assert prefix >= 1024  # Sonnet's minimum cacheable length: the fused prompt reaches it
    assert cache_counts(first) == (0, prefix)
    assert cache_counts(second) == (prefix, 0)
    assert second.input_tokens > prefix  # every prompt token: the cached prefix and the material
    stats = claude_sim.stats()
    assert (stats["tokens_cache_read"], stats["tokens_cache_write"]) == (prefix, prefix)
    assert stats["tokens_in"] == first.input_tokens + second.input_tokens
    assert stats["completions"] == 2


async def test_claude_prompts_below_the_minimum_length_are_not_cached(claude_sim: SimulatorHandle) -> None:
    sonnet, haiku = claude(claude_sim), claude(claude_sim, "claude-haiku-4-5")
    try:
        singles = [await sonnet.analyze(single_call(f"x = {n}\n")) for n in range(2)]
        fused = [await haiku.analyze(fused_call(f"y = {n}\n")) for n in range(2)]
    finally:
        await sonnet.aclose()
        await haiku.aclose()
    assert sim_tokens(prompt_for(AnalysisType.CODE_QUALITY).system) < 1024
    assert sim_tokens(fused_prompt(PAIR).system) < 4096  # Haiku 4.5's minimum
    assert [cache_counts(reply) for reply in singles + fused] == [(0, 0)] * 4
    assert all(reply.input_tokens > 0 for reply in singles + fused)
    assert claude_sim.stats()["tokens_cache_write"] == 0


async def test_claude_cache_entry_expires_after_five_idle_minutes(claude_sim: SimulatorHandle) -> None:
    engine = claude_sim.engine
    now = [1000.0]
    engine.clock = lambda: now[0]
    provider = claude(claude_sim)
    try:
        written = await provider.analyze(fused_call("a = 1\n"))
        now[0] += 299.0
        read = await provider.analyze(fused_call("a = 2\n"))  # a read refreshes the entry
        now[0] += 299.0
        read_again = await provider.analyze(fused_call("a = 3\n"))
        now[0] += 301.0
        rewritten = await provider.analyze(fused_call("a = 4\n"))
    finally:
        await provider.aclose()
    prefix = sim_tokens(fused_prompt(PAIR).system)
    assert [cache_counts(r) for r in (written, read, read_again, rewritten)] == [
        (0, prefix),
        (prefix, 0),
        (prefix, 0),
        (0, prefix),
    ]


async def test_claude_another_set_of_analyses_is_another_prefix(claude_sim: SimulatorHandle) -> None:
    other = (AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY)
    provider = claude(claude_sim)
    try:
        await provider.analyze(fused_call("b = 1\n"))
        reply = await provider.analyze(fused_call("b = 2\n", other))
    finally:
        await provider.aclose()
    assert cache_counts(reply) == (0, sim_tokens(fused_prompt(other).system))


# --- OpenAI-compatible: automatic caching, read through -------------------------------------------


def cached_by_openai_rule(earlier: str, later: str) -> int:
    """OpenAI's documented rule: prompts of 1,024+ tokens, cache hits in 128-token steps."""
    common = next((i for i, (a, b) in enumerate(zip(earlier, later, strict=False)) if a != b), 0)
    tokens = min(common, len(later)) // 4
    return 0 if tokens < 1024 else 1024 + (tokens - 1024) // 128 * 128


async def test_openai_cached_tokens_are_read_through(openai_sim: SimulatorHandle) -> None:
    provider = OpenAIProvider(
        ProviderConfig("openai", "gpt-4o-mini", openai_sim.base_url + "/v1", API_KEY, 5.0)
    )
    first_call, second_call = fused_call("c = 1\n"), fused_call("c = 22\n")
    try:
        first = await provider.analyze(first_call)
        second = await provider.analyze(second_call)
    finally:
        await provider.aclose()

    def prompt(call: ProviderCall) -> str:
        return "\n".join([call.system, *(message.content for message in call.messages)])

    expected = cached_by_openai_rule(prompt(first_call), prompt(second_call))
    assert expected >= 1024
    assert cache_counts(first) == (0, 0)
    assert cache_counts(second) == (expected, 0)
    assert second.input_tokens == sim_tokens(prompt(second_call))  # prompt_tokens include the cached ones
    assert openai_sim.stats()["tokens_cache_read"] == expected


# --- the gateway: usage, metrics and cost ----------------------------------------------------------


def gateway_for(provider: Provider, metrics: GatewayMetrics, limiter: Limiter | None = None) -> Gateway:
    config = GatewayConfig(
        chain=(provider.name,),
        retry=RetryConfig(max_retries=0),
        prices=MappingProxyType(dict(DEFAULT_PRICES)),
    )
    cache = LayeredCache([MemoryCache()], metrics.record_cache)
    limiters = None if limiter is None else {provider.name: limiter}
    return Gateway(config, {provider.name: provider}, cache=cache, metrics=metrics, limiters=limiters)


class SettlingLimiter(BudgetLimiter):
    """The real budget limiter, keeping the token count each call was settled with."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider, RateLimitConfig(), MemoryWindowStore())
        self.settled: list[int] = []

    async def settle(self, permit: Permit, actual_tokens: int) -> None:
        self.settled.append(actual_tokens)
        await super().settle(permit, actual_tokens)


async def test_claude_cache_reads_are_not_settled_on_the_limiter(claude_sim: SimulatorHandle) -> None:
    """Anthropic counts cache writes, not cache reads, toward its input-token rate limit
    (platform.claude.com/docs/en/api/rate-limits)."""
    limiter = SettlingLimiter("claude")
    gateway = gateway_for(claude(claude_sim, OPUS_5), GatewayMetrics(CollectorRegistry()), limiter)
    kind = AnalysisType.CODE_QUALITY
    try:
        first = await gateway.analyze(AnalysisRequest(analysis_type=kind, content="f = 1\n"))
        second = await gateway.analyze(AnalysisRequest(analysis_type=kind, content="f = 2\n"))
    finally:
        await gateway.aclose()
    prefix = sim_tokens(prompt_for(kind).system)
    assert claude_sim.stats()["tokens_cache_read"] == prefix  # the second call read the prefix
    assert limiter.settled == [
        first.input_tokens + first.output_tokens,  # the cache write counts
        second.input_tokens - prefix + second.output_tokens,
    ]
    assert limiter.settled[1] < limiter.settled[0]


def test_only_claude_replies_leave_cache_reads_off_the_limit() -> None:
    openai = ProviderReply("{}", 100, 10, "m", cache_read_tokens=60)
    anthropic = ProviderReply("{}", 100, 10, "m", cache_read_tokens=60, cache_reads_limited=False)
    assert (openai.limited_tokens, anthropic.limited_tokens) == (110, 50)


def documented_cost(input_tokens: int, output_tokens: int, read: int, written: int) -> float:
    prices = OPUS_5_PRICES
    uncached = input_tokens - read - written
    return (
        uncached * prices["input"]
        + written * prices["write_5m"]
        + read * prices["read"]
        + output_tokens * prices["output"]
    ) / 1e6


async def test_gateway_prices_cache_writes_and_reads_and_counts_them(claude_sim: SimulatorHandle) -> None:
    metrics = GatewayMetrics(CollectorRegistry())
    gateway = gateway_for(claude(claude_sim, OPUS_5), metrics)  # Opus 5 caches from 512 tokens
    kind = AnalysisType.CODE_QUALITY
    try:
        first = await gateway.analyze(AnalysisRequest(analysis_type=kind, content="d = 1\n"))
        written = claude_sim.stats()["tokens_cache_write"]
        second = await gateway.analyze(AnalysisRequest(analysis_type=kind, content="d = 2\n"))
        read = claude_sim.stats()["tokens_cache_read"]
    finally:
        await gateway.aclose()
    prefix = sim_tokens(prompt_for(kind).system)
    assert 512 <= prefix < 1024
    assert (written, read) == (prefix, prefix)
    assert first.cost_usd == pytest.approx(
        documented_cost(first.input_tokens, first.output_tokens, 0, prefix)
    )
    assert second.cost_usd == pytest.approx(
        documented_cost(second.input_tokens, second.output_tokens, prefix, 0)
    )
    uncached = documented_cost(second.input_tokens, second.output_tokens, 0, 0)
    assert second.cost_usd < uncached < first.cost_usd
    registry = metrics.registry

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    labels = {"provider": "claude", "model": OPUS_5}
    assert sample("aexy_llm_prompt_cache_tokens_total", **labels, operation="write") == prefix
    assert sample("aexy_llm_prompt_cache_tokens_total", **labels, operation="read") == prefix
    assert sample("aexy_llm_tokens_total", provider="claude", direction="input") == (
        first.input_tokens + second.input_tokens
    )
    assert sample("aexy_llm_cost_usd_total", **labels) == pytest.approx(first.cost_usd + second.cost_usd)


async def test_a_gateway_cache_hit_spends_no_prompt_cache_tokens(claude_sim: SimulatorHandle) -> None:
    metrics = GatewayMetrics(CollectorRegistry())
    gateway = gateway_for(claude(claude_sim, OPUS_5), metrics)
    request = AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content="e = 1\n")
    try:
        await gateway.analyze(request)
        again = await gateway.analyze(request.revised(request_id="again"))
    finally:
        await gateway.aclose()
    assert again.cache_hit
    assert (again.input_tokens, again.cost_usd) == (0, 0.0)
    written = metrics.registry.get_sample_value(
        "aexy_llm_prompt_cache_tokens_total", {"provider": "claude", "model": OPUS_5, "operation": "write"}
    )
    assert written == claude_sim.stats()["tokens_cache_write"] > 0


# --- pricing ------------------------------------------------------------------------------------------


def test_cache_prices_follow_the_published_rates() -> None:
    tokens = {"input_tokens": 10_000, "output_tokens": 1_000}
    haiku = cost_usd(
        DEFAULT_PRICES, "claude-haiku-4-5", **tokens, cache_read_tokens=6_000, cache_write_tokens=3_000
    )
    # Haiku 4.5: $1 input, $1.25 5-minute write, $0.10 read, $5 output per million tokens
    assert haiku == pytest.approx((1_000 * 1.0 + 3_000 * 1.25 + 6_000 * 0.10 + 1_000 * 5.0) / 1e6)
    batched = cost_usd(DEFAULT_PRICES, "claude-haiku-4-5", **tokens, factor=0.5, cache_read_tokens=6_000)
    assert batched == pytest.approx((4_000 * 1.0 + 6_000 * 0.10 + 1_000 * 5.0) / 1e6 / 2)


def test_a_price_without_cache_prices_gets_anthropics_multiples() -> None:
    prices = {"local": Price(2.0, 8.0)}
    cost = cost_usd(prices, "local", 1_000_000, 0, cache_read_tokens=500_000, cache_write_tokens=100_000)
    assert cost == pytest.approx(400_000 * 2.0 / 1e6 + 100_000 * 2.5 / 1e6 + 500_000 * 0.2 / 1e6)


def test_llm_prices_may_carry_cache_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PRICES", '{"local": [2.0, 8.0, 3.0, 0.5], "plain": [2.0, 8.0]}')
    prices = gateway_config(Settings()).prices
    assert prices["local"] == Price(2.0, 8.0, cache_write_per_mtok=3.0, cache_read_per_mtok=0.5)
    cost = cost_usd(prices, "local", 1_000_000, 0, cache_read_tokens=500_000, cache_write_tokens=100_000)
    assert cost == pytest.approx((400_000 * 2.0 + 100_000 * 3.0 + 500_000 * 0.5) / 1e6)
    assert prices["plain"] == Price(2.0, 8.0)  # its cache tokens at the multiples above
    for wrong in ('{"m": [2.0, 8.0, 3.0]}', '{"m": [2.0, 8.0, 3.0, -0.5]}'):
        monkeypatch.setenv("LLM_PRICES", wrong)
        with pytest.raises(ValidationError, match="llm_prices"):
            Settings()
