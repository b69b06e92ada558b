"""The original design's public names in `aexy_stream.llm` exist and behave as the design describes
(where ours is deliberately stronger, as docs/gateway.md says)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest
from redis.asyncio import Redis

from aexy_dev.simulator import SimulatorHandle
from aexy_stream import llm
from aexy_stream.llm import (
    AnalysisCache,
    AnalysisCacheConfig,
    AnalysisRequest,
    AnalysisResult,
    AnalysisType,
    BaseLLMProvider,
    ClaudeProvider,
    LLMError,
    LLMGateway,
    LLMRateLimiter,
    LLMRetryConfig,
    LLMUnavailableError,
    OllamaProvider,
    retry_with_backoff,
)
from gateway.errors import BadRequest, GatewayError, Overloaded, ProviderTimeout, RateLimited
from schemas.results import RESULT_MODELS, CodeQualityResult, SkillExtractionResult
from tests.conftest import REDIS_TEST_URL, free_port
from tests.support.design import point_claude_at, point_ollama_at, simulated

DESIGN_TYPES = [
    "code_quality", "code_complexity", "skill_extraction", "developer_profile", "soft_skills",
    "growth_trajectory", "task_signals", "task_matching", "attrition_risk", "burnout_risk",
    "performance_trajectory", "team_health", "learning_path", "job_description", "interview_rubric",
]  # fmt: skip


def test_one_import_path_for_every_name() -> None:
    assert set(llm.__all__) == {
        "AnalysisCache", "AnalysisCacheConfig", "AnalysisRequest", "AnalysisResult", "AnalysisType",
        "BaseLLMProvider", "ClaudeProvider", "LLMError", "LLMGateway", "LLMRateLimiter", "LLMRetryConfig",
        "LLMUnavailableError", "OllamaProvider", "retry_with_backoff",
    }  # fmt: skip
    assert all(hasattr(llm, name) for name in llm.__all__)


def test_analysis_type_has_the_designs_fifteen_values() -> None:
    assert [t.value for t in AnalysisType] == DESIGN_TYPES
    assert issubclass(AnalysisType, str)
    assert AnalysisType("skill_extraction") is AnalysisType.SKILL_EXTRACTION


# --- the envelope gives its result's fields ----------------------------------------------------


def envelope(result: SkillExtractionResult) -> AnalysisResult[SkillExtractionResult]:
    return AnalysisResult[SkillExtractionResult](
        request_id="r",
        analysis_type=AnalysisType.SKILL_EXTRACTION,
        subject="",
        result=result,
        provider="claude",
        model="m",
        prompt_version="v",
        cache_hit=True,
        latency_ms=1.0,
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
    )


def test_the_envelope_gives_its_results_fields_and_keeps_its_own() -> None:
    result = simulated(SkillExtractionResult)
    wrapped = envelope(result)
    assert (wrapped.skills, wrapped.complexity, wrapped.frameworks) == (
        result.skills,
        result.complexity,
        result.frameworks,
    )
    assert (wrapped.provider, wrapped.cache_hit, wrapped.result) == ("claude", True, result)
    with pytest.raises(AttributeError, match="risk_score"):
        _ = wrapped.risk_score  # a field of another result model
    with pytest.raises(AttributeError):
        _ = wrapped.model_fields_set_typo
    assert wrapped.model_dump()["result"] == result.model_dump()  # nothing added to the record


def test_no_result_field_is_hidden_by_an_envelope_attribute() -> None:
    """The envelope's own attributes come first: a result field of the same name would be
    unreadable on the envelope, silently. None exists; a new one fails here."""
    envelope_names = set(dir(AnalysisResult)) | set(AnalysisResult.model_fields)
    hidden = {
        kind.value: sorted(set(model.model_fields) & envelope_names) for kind, model in RESULT_MODELS.items()
    }
    assert hidden == {kind.value: [] for kind in RESULT_MODELS}


# --- LLMGateway: both call forms, one path --------------------------------------------------------


async def test_the_request_form_and_the_designs_form_are_one_call(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle
) -> None:
    point_claude_at(env, claude_sim)
    env.setenv("LLM_PROVIDER", "claude")
    gateway = LLMGateway()
    by_request = await gateway.analyze(
        AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content="x = 1\n", context={"path": "a.py"})
    )
    positional = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n", {"path": "a.py"})
    by_keyword = await gateway.analyze(
        analysis_type=AnalysisType.CODE_QUALITY, content="x = 1\n", context={"path": "a.py"}
    )
    with pytest.raises(TypeError, match="takes no content"):
        await gateway.analyze(AnalysisRequest(analysis_type="code_quality", content="x"), content="y")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="analysis type and content"):
        await gateway.analyze(AnalysisType.CODE_QUALITY)  # type: ignore[call-overload]
    await gateway.aclose()
    assert (by_request.cache_hit, positional.cache_hit, by_keyword.cache_hit) == (False, True, True)
    assert by_request.result == positional.result == by_keyword.result == simulated(CodeQualityResult)
    assert claude_sim.stats()["total"] == 1


async def test_a_chain_that_fails_everywhere_raises_llm_unavailable(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle
) -> None:
    point_claude_at(env, claude_sim)
    point_ollama_at(env, ollama_sim)
    env.setenv("LLM_FALLBACK_PROVIDERS", "ollama")
    env.setenv("LLM_MAX_RETRIES", "0")
    claude_sim.add_rules({"kind": "overloaded"})
    ollama_sim.add_rules({"kind": "server_error"})
    gateway = LLMGateway()
    with pytest.raises(LLMUnavailableError) as caught:
        await gateway.analyze_with_fallback(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    assert isinstance(caught.value, LLMError)
    assert [cause.code for cause in caught.value.causes] == ["overloaded", "provider_unavailable"]


# --- providers ---------------------------------------------------------------------------------


def test_base_llm_provider_is_the_abstract_interface() -> None:
    with pytest.raises(TypeError, match="abstract"):
        BaseLLMProvider()  # type: ignore[abstract]

    class Echo(BaseLLMProvider):
        async def analyze(
            self, analysis_type: AnalysisType, content: str, context: Any = None
        ) -> AnalysisResult[Any]:
            raise NotImplementedError

        async def is_available(self) -> bool:
            return True

    assert asyncio.run(Echo().is_available())


async def test_claude_provider_asks_claude_alone_every_time(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle
) -> None:
    point_claude_at(env, claude_sim)
    point_ollama_at(env, ollama_sim)
    env.setenv("LLM_PROVIDER", "ollama")
    env.setenv("LLM_FALLBACK_PROVIDERS", "ollama")
    env.setenv("LLM_MAX_RETRIES", "0")
    provider = ClaudeProvider()
    assert isinstance(provider, BaseLLMProvider)
    assert await provider.is_available()
    first = await provider.analyze(AnalysisType.CODE_QUALITY, "x = 1\n", {"path": "a.py"})
    second = await provider.analyze(AnalysisType.CODE_QUALITY, "x = 1\n", {"path": "a.py"})
    claude_sim.add_rules({"kind": "overloaded"})
    with pytest.raises(Overloaded):  # no fallback to Ollama: a provider is one provider
        await provider.analyze(AnalysisType.CODE_QUALITY, "x = 2\n")
    await provider.aclose()
    assert (first.provider, provider.model, first.cache_hit, second.cache_hit) == (
        "claude",
        "claude-sonnet-5-5",
        False,
        False,
    )
    assert first.quality_score == simulated(CodeQualityResult).quality_score
    assert (claude_sim.stats()["total"], ollama_sim.stats()["total"]) == (3, 0)


async def test_claude_provider_without_a_key_is_not_available(env: pytest.MonkeyPatch) -> None:
    provider = ClaudeProvider()
    assert not await provider.is_available()
    await provider.aclose()


async def test_ollama_provider_is_available_when_its_server_answers(
    env: pytest.MonkeyPatch, ollama_sim: SimulatorHandle
) -> None:
    point_ollama_at(env, ollama_sim)
    env.setenv("OLLAMA_MODEL", "llama3.2")
    answering = OllamaProvider()
    result = await answering.analyze(AnalysisType.SKILL_EXTRACTION, "import jwt\n")
    env.setenv("OLLAMA_BASE_URL", f"http://127.0.0.1:{free_port()}")
    silent = OllamaProvider()
    assert (await answering.is_available(), await silent.is_available()) == (True, False)
    await answering.aclose()
    await silent.aclose()
    assert (result.provider, result.model, result.skills) == (
        "ollama",
        "llama3.2",
        simulated(SkillExtractionResult).skills,
    )


# --- cache ---------------------------------------------------------------------------------------


def test_the_designs_ttl_table() -> None:
    assert dict(AnalysisCacheConfig.TTL_MAPPING) == {
        AnalysisType.CODE_QUALITY: 86400,
        AnalysisType.SKILL_EXTRACTION: 604800,
        AnalysisType.ATTRITION_RISK: 3600,
        AnalysisType.TEAM_HEALTH: 3600,
    }
    assert AnalysisCacheConfig.get_ttl(AnalysisType.SKILL_EXTRACTION) == 604800
    assert AnalysisCacheConfig.get_ttl(AnalysisType.SOFT_SKILLS) == 3600


async def test_analysis_cache_memory_then_redis(env: pytest.MonkeyPatch, redis_client: Redis) -> None:
    env.setenv("REDIS_URL", REDIS_TEST_URL)
    writer, reader = AnalysisCache(), AnalysisCache()  # two processes, as far as memory goes
    result = simulated(SkillExtractionResult)
    assert await writer.get(AnalysisType.SKILL_EXTRACTION, "import jwt\n") is None
    await writer.set(AnalysisType.SKILL_EXTRACTION, "import jwt\n", result)
    await writer.set(AnalysisType.ATTRITION_RISK, "import jwt\n", {"risk_score": 0.45})
    await redis_client.flushdb()  # the writer still has both in memory
    kept = await writer.get(AnalysisType.SKILL_EXTRACTION, "import jwt\n")
    await reader.set(AnalysisType.TEAM_HEALTH, "repo", {"health_score": 0.5})
    shared = await writer.get(AnalysisType.TEAM_HEALTH, "repo")  # from Redis
    other = await reader.get(AnalysisType.SKILL_EXTRACTION, "import jwt\n")
    await writer.aclose()
    await reader.aclose()
    assert kept == result.model_dump(mode="json")
    assert (shared, other) == ({"health_score": 0.5}, None)


# --- rate limiter ------------------------------------------------------------------------------


async def test_rate_limiter_admits_requests_per_minute_then_waits() -> None:
    limiter = LLMRateLimiter(requests_per_minute=2)
    assert [await limiter.acquire(), await limiter.acquire()] == [True, True]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), timeout=0.2)


async def test_rate_limiter_keeps_a_token_budget_too() -> None:
    limiter = LLMRateLimiter(requests_per_minute=0, tokens_per_minute=1000)
    assert await limiter.acquire(600)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(600), timeout=0.2)
    assert inspect.signature(LLMRateLimiter).parameters["requests_per_minute"].default == 50  # the design's
    with pytest.raises(ValueError, match=">= 0"):
        LLMRateLimiter(-1)


# --- retries and errors ------------------------------------------------------------------------


def test_retry_config_follows_the_design_and_the_one_predicate() -> None:
    assert (LLMRetryConfig.MAX_RETRIES, LLMRetryConfig.BACKOFF_FACTOR) == (3, 2)
    assert LLMRetryConfig.RETRYABLE_ERRORS[:3] == ("rate_limit_exceeded", "overloaded", "timeout")
    classes: list[type[GatewayError]] = [GatewayError]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    assert {cls.__name__: cls.code in LLMRetryConfig.RETRYABLE_ERRORS for cls in classes} == {
        cls.__name__: cls.retryable for cls in classes
    }
    assert len({cls.code for cls in classes}) == len(classes)  # one code per class


class Flaky:
    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[Any, ...]] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> str:
        self.calls.append((args, kwargs))
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


async def test_retry_with_backoff_retries_retryable_errors_with_their_retry_after() -> None:
    flaky = Flaky(RateLimited("429", retry_after=0.01), ProviderTimeout("slow", retry_after=0.01))
    assert await retry_with_backoff(flaky, "content", context={"a": 1}) == "answer"
    assert flaky.calls == [(("content",), {"context": {"a": 1}})] * 3


async def test_retry_with_backoff_raises_final_errors_at_once_and_the_last_retryable_one() -> None:
    final = Flaky(BadRequest("400"))
    with pytest.raises(BadRequest):
        await retry_with_backoff(final)
    not_ours = Flaky(KeyError("x"))
    with pytest.raises(KeyError):
        await retry_with_backoff(not_ours)
    always = Flaky(*(Overloaded(f"529 #{i}", retry_after=0.01) for i in range(10)))
    with pytest.raises(Overloaded, match="#3"):
        await retry_with_backoff(always)
    assert (len(final.calls), len(not_ours.calls), len(always.calls)) == (
        1,
        1,
        LLMRetryConfig.MAX_RETRIES + 1,
    )


def test_llm_error_is_what_the_gateway_raises_with_a_code() -> None:
    assert LLMError is GatewayError
    assert issubclass(LLMUnavailableError, LLMError)
    error = LLMUnavailableError("All LLM providers unavailable")
    assert (error.code, error.retryable, str(error)) == (
        "llm_unavailable",
        True,
        "All LLM providers unavailable",
    )
    assert RateLimited("429").code == "rate_limit_exceeded"
