"""Fused analyses: several analyses of the same material in one provider call (`Gateway.analyze_many`),
through the real gateway, real provider clients and their simulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_stream.compose import processor_config
from aexy_stream.settings import Settings
from consumers.routing import fused_groups
from gateway.cache.keys import cache_key
from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.config import GatewayConfig, ProviderConfig, RetryConfig
from gateway.errors import BadRequest, GatewayError, InvalidOutput, LLMUnavailableError, SpendLimitReached
from gateway.fused import shared_usage, shares
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.pricing import DEFAULT_PRICES, cost_usd
from gateway.prompts import fused, prompt_for
from gateway.prompts.code import COMMIT_PARTS
from gateway.prompts.fused import FUSED_TITLE, fused_prompt, fused_schema
from gateway.providers.base import Provider, ProviderReply
from gateway.providers.claude import ClaudeProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.rules.provider import RulesProvider
from schemas.envelope import AnalysisResult
from schemas.request import AnalysisRequest
from schemas.results import result_model
from schemas.types import AnalysisType
from tests.support.credentials import corpus, secrets_of

CODE = (AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY)
DIFF = (
    "diff --git a/calc.py b/calc.py\n@@ -1,2 +1,4 @@\n+import fastapi\n+def add(a, b):\n+    return a + b\n"
)
SONNET = "claude-sonnet-5-5"
FAST_RETRY = RetryConfig(max_retries=2, backoff_initial_s=0.01, backoff_max_s=1, jitter_s=0)


def code_requests(content: str = DIFF, kinds: tuple[AnalysisType, ...] = CODE) -> list[AnalysisRequest]:
    context = {"path": "calc.py", "commit": {"message": "Add add"}}
    return [
        AnalysisRequest(analysis_type=kind, content=content, context=dict(context), subject="mona")
        for kind in kinds
    ]


def claude(sim: SimulatorHandle) -> Provider:
    return ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", sim.base_url, "sk-test", 5.0))


def gateway_of(metrics: GatewayMetrics, *providers: Provider, cache: LayeredCache | None = None) -> Gateway:
    config = GatewayConfig(chain=tuple(p.name for p in providers), retry=FAST_RETRY, prices=DEFAULT_PRICES)
    return Gateway(
        config,
        {p.name: p for p in providers},
        cache=cache or LayeredCache([MemoryCache()]),
        metrics=metrics,
    )


@pytest.fixture
async def gateway(claude_sim: SimulatorHandle, metrics: GatewayMetrics) -> AsyncIterator[Gateway]:
    built = gateway_of(metrics, claude(claude_sim))
    yield built
    await built.aclose()


def envelopes(outcomes: list[AnalysisResult[Any] | GatewayError]) -> list[AnalysisResult[Any]]:
    assert all(isinstance(o, AnalysisResult) for o in outcomes), outcomes
    return [o for o in outcomes if isinstance(o, AnalysisResult)]


def sent_schema(sim: SimulatorHandle) -> dict[str, Any]:
    last = sim.engine.stats.last
    assert last is not None
    schema: dict[str, Any] = last.as_json()["body"]["output_config"]["format"]["schema"]
    return schema


# --- the gateway -------------------------------------------------------------------------------


async def test_three_analyses_of_one_diff_take_one_provider_call(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    requests = code_requests()
    got = envelopes(await gateway.analyze_many(requests))
    assert claude_sim.stats()["completions"] == 1
    assert claude_sim.stats()["by_schema"] == {FUSED_TITLE: 1}
    assert [e.analysis_type for e in got] == list(CODE)
    assert [e.request_id for e in got] == [r.request_id for r in requests]
    for envelope in got:
        assert isinstance(envelope.result, result_model(envelope.analysis_type))
        assert envelope.prompt_version == prompt_for(envelope.analysis_type).version
        assert (envelope.provider, envelope.subject, envelope.cache_hit) == ("claude", "mona", False)
    assert metrics.fused_calls_saved.labels("claude").value == 2


async def test_a_partial_cache_hit_makes_one_call_for_the_two_missing(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    quality = code_requests(kinds=(AnalysisType.CODE_QUALITY,))[0]
    await gateway.analyze(quality)
    got = envelopes(await gateway.analyze_many(code_requests()))
    assert claude_sim.stats()["completions"] == 2
    assert set(sent_schema(claude_sim)["properties"]) == {"skill_extraction", "code_complexity"}
    hits = {e.analysis_type: e.cache_hit for e in got}
    assert hits == {AnalysisType.SKILL_EXTRACTION: False, AnalysisType.CODE_QUALITY: True,
                    AnalysisType.CODE_COMPLEXITY: False}  # fmt: skip


async def test_fused_and_unfused_share_cache_keys_and_give_equal_results(
    claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    memory = MemoryCache()
    fused = gateway_of(metrics, claude(claude_sim), cache=LayeredCache([memory]))
    alone = gateway_of(GatewayMetrics(CollectorRegistry()), claude(claude_sim))
    try:
        many = envelopes(await fused.analyze_many(code_requests()))
        singles = [await alone.analyze(request) for request in code_requests()]
        assert [e.result for e in many] == [e.result for e in singles]
        for request in code_requests():  # each part stored under the key `analyze` uses
            key = cache_key(request.analysis_type, prompt_for(request.analysis_type).version, "claude",
                            "claude-sonnet-5-5", request.content, request.context)  # fmt: skip
            assert memory.peek(key) is not None
            again = await fused.analyze(request)
            assert again.cache_hit
        assert claude_sim.stats()["completions"] == 1 + 3  # the fused call, then the three singles
    finally:
        await fused.aclose()
        await alone.aclose()


async def test_an_invalid_part_is_repaired_alone(gateway: Gateway, claude_sim: SimulatorHandle) -> None:
    claude_sim.script({"kind": "invalid_output"})  # the fused reply lacks its first part, code_quality
    got = envelopes(await gateway.analyze_many(code_requests()))
    assert claude_sim.stats()["completions"] == 2
    assert set(sent_schema(claude_sim)["properties"]) == {"code_quality"}  # the repair asks for it only
    assert {e.analysis_type for e in got} == set(CODE)
    stats = claude_sim.stats()
    assert sum(e.input_tokens for e in got) == stats["tokens_in"]  # both calls' tokens, shared out
    assert sum(e.output_tokens for e in got) == stats["tokens_out"]


async def test_a_part_invalid_after_repair_fails_alone_and_the_others_succeed(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    claude_sim.script({"kind": "invalid_output"}, {"kind": "invalid_output"})
    outcomes = await gateway.analyze_many(code_requests())
    by_type = dict(zip(CODE, outcomes, strict=True))
    failed = by_type.pop(AnalysisType.CODE_QUALITY)
    assert isinstance(failed, InvalidOutput) and "code_quality" in str(failed)
    assert all(isinstance(o, AnalysisResult) for o in by_type.values())
    assert claude_sim.stats()["completions"] == 2
    assert metrics.requests.labels("claude", "code_quality", "InvalidOutput").value == 1
    assert gateway.cached(code_requests(kinds=(AnalysisType.CODE_QUALITY,))[0]) is None  # nothing stored
    assert gateway.cached(code_requests(kinds=(AnalysisType.SKILL_EXTRACTION,))[0]) is not None


async def test_tokens_and_cost_of_the_call_are_shared_out_exactly(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    got = envelopes(await gateway.analyze_many(code_requests()))
    stats = claude_sim.stats()
    assert sum(e.input_tokens for e in got) == stats["tokens_in"]
    assert sum(e.output_tokens for e in got) == stats["tokens_out"]
    spread = max(e.input_tokens for e in got) - min(e.input_tokens for e in got)
    assert spread <= 3  # input equally: uncached, cache read and cache write each to within one token
    whole = cost_usd(DEFAULT_PRICES, "claude-sonnet-5-5", stats["tokens_in"], stats["tokens_out"],
                     cache_read_tokens=stats["tokens_cache_read"],
                     cache_write_tokens=stats["tokens_cache_write"])  # fmt: skip
    assert sum(e.cost_usd for e in got) == pytest.approx(whole)


async def test_a_repair_calls_cache_tokens_and_cost_are_shared_out_with_the_first_calls(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    await gateway.analyze_many(code_requests("x = 1\n"))  # the fused prefix written: the next call reads it
    claude_sim.engine.stats.clear()
    before = prompt_cache_counts(metrics)
    claude_sim.script({"kind": "invalid_part", "part": "code_complexity"})
    got = envelopes(await gateway.analyze_many(code_requests()))
    stats = claude_sim.stats()
    assert stats["completions"] == 2 and stats["tokens_cache_read"] > 0 and stats["tokens_cache_write"] > 0
    whole = cost_usd(DEFAULT_PRICES, "claude-sonnet-5-5", stats["tokens_in"], stats["tokens_out"],
                     cache_read_tokens=stats["tokens_cache_read"],
                     cache_write_tokens=stats["tokens_cache_write"])  # fmt: skip
    assert sum(e.cost_usd for e in got) == pytest.approx(whole)
    assert sum(e.input_tokens for e in got) == stats["tokens_in"]
    complexity = next(e for e in got if e.analysis_type is AnalysisType.CODE_COMPLEXITY)
    assert complexity.cost_usd > max(e.cost_usd for e in got if e is not complexity)  # it had the repair
    after = prompt_cache_counts(metrics)
    assert (after[0] - before[0], after[1] - before[1]) == (
        stats["tokens_cache_read"],
        stats["tokens_cache_write"],
    )


def prompt_cache_counts(metrics: GatewayMetrics) -> tuple[float, float]:
    """The prompt-cache tokens counted so far: read, written."""
    counter = metrics.prompt_cache_tokens
    return counter.labels("claude", SONNET, "read").value, counter.labels("claude", SONNET, "write").value


def test_shares_add_up_and_follow_the_weights() -> None:
    assert shares(10, [1, 1, 1]) == [4, 3, 3]
    assert shares(100, [1, 3]) == [25, 75]
    assert shares(7, [0, 0]) == [4, 3]  # no weight: equally
    assert shares(0, [5, 2]) == [0, 0]
    for total in range(0, 50):
        for weights in ([3, 1, 7], [0, 1, 0], [10, 10, 1]):
            split = shares(total, weights)
            assert sum(split) == total and all(part >= 0 for part in split)
    reply = ProviderReply("{}", 1003, 11, "m", cache_read_tokens=500, cache_write_tokens=301)
    usage = shared_usage(reply, [10, 0, 30])
    assert sum(u.input_tokens for u in usage) == 1003 and sum(u.output_tokens for u in usage) == 11
    assert sum(u.cache_read_tokens for u in usage) == 500 and sum(u.cache_write_tokens for u in usage) == 301
    assert all(u.cache_read_tokens + u.cache_write_tokens <= u.input_tokens for u in usage)


async def test_an_analysis_in_flight_alone_is_joined_not_called_again(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    claude_sim.script({"kind": "ok", "delay_ms": 300})
    quality = code_requests(kinds=(AnalysisType.CODE_QUALITY,))[0]
    alone = asyncio.create_task(gateway.analyze(quality))
    await asyncio.sleep(0.1)
    got = envelopes(await gateway.analyze_many(code_requests()))
    first = await alone
    joined = next(e for e in got if e.analysis_type is AnalysisType.CODE_QUALITY)
    assert joined.cache_hit and joined.result == first.result and joined.input_tokens == 0
    assert metrics.coalesced.labels().value == 1
    assert claude_sim.stats()["completions"] == 2  # the single call and one fused call for two
    assert set(sent_schema(claude_sim)["properties"]) == {"skill_extraction", "code_complexity"}


async def test_a_single_analysis_joins_a_fused_call_in_flight(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    claude_sim.script({"kind": "ok", "delay_ms": 300})
    fused = asyncio.create_task(gateway.analyze_many(code_requests()))
    await asyncio.sleep(0.1)
    alone = await gateway.analyze(code_requests(kinds=(AnalysisType.CODE_COMPLEXITY,))[0])
    await fused
    assert alone.cache_hit and alone.input_tokens == 0
    assert claude_sim.stats()["completions"] == 1


async def test_waiters_of_a_cancelled_fused_call_get_a_retryable_error_and_no_flight_is_left(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    claude_sim.script({"kind": "ok", "delay_ms": 500})
    leader = asyncio.create_task(gateway.analyze_many(code_requests()))
    await asyncio.sleep(0.1)
    alone = asyncio.create_task(gateway.analyze(code_requests(kinds=(AnalysisType.CODE_QUALITY,))[0]))
    many = asyncio.create_task(gateway.analyze_many(code_requests()))
    await asyncio.sleep(0.1)
    leader.cancel()
    with pytest.raises(LLMUnavailableError, match="cancelled"):
        await alone
    outcomes = await many
    assert all(isinstance(o, LLMUnavailableError) and o.retryable for o in outcomes)
    assert claude_sim.stats()["completions"] == 1
    assert gateway.calls_in_flight == 0
    assert len(envelopes(await gateway.analyze_many(code_requests()))) == 3  # nothing stuck


async def test_a_single_analysis_joining_a_part_that_fails_gets_that_parts_error_only(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    claude_sim.script({"kind": "invalid_part", "delay_ms": 300}, {"kind": "invalid_part"})
    fused = asyncio.create_task(gateway.analyze_many(code_requests()))
    await asyncio.sleep(0.1)
    quality, skills = code_requests(kinds=(AnalysisType.CODE_QUALITY, AnalysisType.SKILL_EXTRACTION))
    joined = await asyncio.gather(gateway.analyze(quality), gateway.analyze(skills), return_exceptions=True)
    outcomes = await fused
    assert isinstance(joined[0], InvalidOutput) and isinstance(outcomes[1], InvalidOutput)
    assert isinstance(joined[1], AnalysisResult) and joined[1].cache_hit
    assert claude_sim.stats()["completions"] == 2  # the fused call and its repair: nobody called again


async def test_the_fused_call_is_retried_like_any_call(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    claude_sim.script({"kind": "rate_limit", "retry_after": 0.01}, {"kind": "overloaded"})
    got = envelopes(await gateway.analyze_many(code_requests()))
    assert len(got) == 3
    assert claude_sim.stats()["completions"] == 3
    assert metrics.retries.labels("claude").value == 2


async def test_a_whole_call_failure_fails_every_part_without_raising(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    claude_sim.script({"kind": "spend_limit"})
    outcomes = await gateway.analyze_many(code_requests())
    assert all(isinstance(o, SpendLimitReached) for o in outcomes)
    assert claude_sim.stats()["completions"] == 1


async def test_a_refused_fused_call_is_made_as_one_call_per_analysis(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    claude_sim.script({"kind": "bad_request", "match": FUSED_TITLE})
    got = envelopes(await gateway.analyze_many(code_requests()))
    assert len(got) == 3
    assert claude_sim.stats()["completions"] == 4
    assert metrics.fallbacks.labels("claude", "fused_refused").value == 1


async def test_the_fused_call_falls_back_along_the_chain(
    claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    claude_sim.add_rules({"kind": "server_error"})
    async with running_simulator(SimulatorConfig(protocol="ollama")) as ollama_sim:
        ollama = OllamaProvider(ProviderConfig("ollama", "llama3.2", ollama_sim.base_url, timeout_s=5.0))
        gateway = gateway_of(metrics, claude(claude_sim), ollama)
        try:
            got = envelopes(await gateway.analyze_many(code_requests()))
        finally:
            await gateway.aclose()
        assert {e.provider for e in got} == {"ollama"}
        assert ollama_sim.stats()["completions"] == 1
        assert ollama_sim.stats()["by_schema"] == {FUSED_TITLE: 1}


async def test_the_fused_call_is_redacted_like_any_call(
    gateway: Gateway, claude_sim: SimulatorHandle
) -> None:
    credentials = corpus()[:8]
    diff = "+" + "\n+".join(credential.line("code") for credential in credentials)
    assert all(any(secret in diff for secret in secrets_of(c)) for c in credentials)  # there before
    envelopes(await gateway.analyze_many(code_requests(diff)))
    last = claude_sim.engine.stats.last
    assert last is not None
    sent = "\n".join(message["content"] for message in orjson.loads(last.body)["messages"])
    assert "[REDACTED:" in sent
    assert [c.name for c in credentials for secret in secrets_of(c) if secret in sent] == []


async def test_requests_that_do_not_share_their_material_are_refused(gateway: Gateway) -> None:
    one, two = code_requests(kinds=(AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY))
    with pytest.raises(BadRequest):
        await gateway.analyze_many([one, two.model_copy(update={"content": "other"})])
    with pytest.raises(BadRequest):
        await gateway.analyze_many([one, two.model_copy(update={"context": {"path": "b.py"}})])
    with pytest.raises(BadRequest):
        await gateway.analyze_many([one, one.model_copy(update={"request_id": "x"})])
    with pytest.raises(BadRequest):
        await gateway.analyze_many([])


async def test_a_context_equal_only_by_python_equality_is_not_the_same_material(
    gateway: Gateway, claude_sim: SimulatorHandle, metrics: GatewayMetrics
) -> None:
    """`{"lines": 1} == {"lines": True}`, but the two render different prompts and cache keys: one
    call for both would answer one of them for the other's context."""
    one, two = code_requests(kinds=(AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY))
    one = one.model_copy(update={"context": {"lines": 1}})
    two = two.model_copy(update={"context": {"lines": True}})
    assert one.context == two.context
    with pytest.raises(BadRequest, match="share content, context"):
        await gateway.analyze_many([one, two])
    assert claude_sim.stats()["completions"] == 0
    for kind in ("code_quality", "code_complexity"):  # counted, as `analyze` counts a refused request
        assert metrics.requests.labels("none", kind, "BadRequest").value == 1
    with pytest.raises(BadRequest, match="unknown provider"):
        await gateway.analyze_many([one], provider="nope")
    assert metrics.requests.labels("none", "code_quality", "BadRequest").value == 2


async def test_the_rules_provider_answers_a_fused_call_as_three_single_ones(metrics: GatewayMetrics) -> None:
    gateway = gateway_of(metrics, RulesProvider())
    try:
        many = envelopes(await gateway.analyze_many(code_requests()))
        singles = [await gateway.analyze(r, use_cache=False) for r in code_requests()]
    finally:
        await gateway.aclose()
    assert [e.result for e in many] == [e.result for e in singles]
    assert all(e.provider == "rules" for e in many)


# --- the fused prompt and schema -----------------------------------------------------------------


def test_the_fused_prompt_is_the_same_for_a_set_of_types_and_holds_every_instruction() -> None:
    prompt = fused_prompt(CODE)
    assert prompt == fused_prompt(tuple(reversed(CODE)))
    for kind in CODE:
        template = prompt_for(kind)
        for paragraph in template.task.split(COMMIT_PARTS):  # said once, before the sections
            assert paragraph.strip("\n") in prompt.system
        assert f'"{kind.value}"' in prompt.task
    assert prompt.system.startswith(
        prompt_for(AnalysisType.CODE_QUALITY).system.partition("\n\nYour role")[0]
    )
    assert prompt.max_tokens == sum(prompt_for(kind).max_tokens for kind in CODE)
    rendered = prompt.render(code_requests()[0])
    assert rendered.system == prompt.system and DIFF in rendered.user and DIFF not in prompt.system


def test_the_fused_schema_holds_each_result_schema_with_its_defs_hoisted() -> None:
    schema = fused_schema(CODE)
    assert schema["title"] == FUSED_TITLE and schema["additionalProperties"] is False
    assert schema["required"] == ["code_quality", "code_complexity", "skill_extraction"]
    for kind in CODE:
        part = schema["properties"][kind.value]
        own = result_model(kind).model_json_schema()
        assert "$defs" not in part
        assert part["properties"].keys() == own["properties"].keys()
        for name, body in own.get("$defs", {}).items():
            assert schema["$defs"][name] == body
    assert _refs(schema) <= {f"#/$defs/{name}" for name in schema["$defs"]}


def test_a_shared_definition_is_hoisted_once() -> None:
    risks = (AnalysisType.ATTRITION_RISK, AnalysisType.BURNOUT_RISK)
    assert list(fused_schema(risks)["$defs"]) == ["RiskFactor"]


def test_definitions_with_one_name_and_different_bodies_are_kept_apart() -> None:
    a = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/Item"}},
        "$defs": {"Item": {"type": "string"}},
    }
    b = {
        "type": "object",
        "properties": {"y": {"$ref": "#/$defs/Item"}},
        "$defs": {"Item": {"type": "integer"}},
    }
    defs: dict[str, Any] = {}
    first = fused._hoisted(AnalysisType.CODE_QUALITY, a, defs)
    second = fused._hoisted(AnalysisType.CODE_COMPLEXITY, b, defs)
    assert first["properties"]["x"] == {"$ref": "#/$defs/Item"}
    assert second["properties"]["y"] == {"$ref": "#/$defs/code_complexity__Item"}
    assert defs == {"Item": {"type": "string"}, "code_complexity__Item": {"type": "integer"}}


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["$ref"]} if isinstance(value.get("$ref"), str) else set()
        return own.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


# --- the processor's side ------------------------------------------------------------------------


def test_fused_code_analyses_is_a_setting_that_reaches_the_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert processor_config(Settings()).routing.fuse_code_analyses is True
    monkeypatch.setenv("FUSED_CODE_ANALYSES", "false")
    assert processor_config(Settings()).routing.fuse_code_analyses is False


def test_a_parts_code_analyses_are_grouped_and_everything_else_goes_alone() -> None:
    part_one, part_two = code_requests("diff one"), code_requests("diff two")
    other = AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="diff one")
    moved = part_one[2].model_copy(update={"context": {"path": "elsewhere.py"}})
    requests = [*part_one[:2], other, moved, *part_two]
    groups = fused_groups(requests, fuse=True)
    assert groups == [part_one[:2], [other], [moved], part_two]
    assert fused_groups(requests, fuse=False) == [[request] for request in requests]
