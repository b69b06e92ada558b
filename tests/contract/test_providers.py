"""One contract, three providers: each through its real client against its simulated server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from gateway.config import ProviderConfig
from gateway.errors import (
    AuthError,
    BadRequest,
    GatewayError,
    Overloaded,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    SpendLimitReached,
)
from gateway.output import parse_parts, parse_result
from gateway.prompts.fused import FUSED_TITLE
from gateway.providers.base import Provider, ProviderCall
from gateway.providers.claude import ClaudeProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai import OpenAIProvider
from schemas.results import result_model
from schemas.types import AnalysisType
from tests.conftest import free_port
from tests.support.calls import SNIPPET, fused_call, single_call

API_KEY = "sk-test-secret-value-123"


def make_call(analysis_type: AnalysisType, content: str = SNIPPET) -> ProviderCall:
    return single_call(analysis_type, content, {"path": "calc.py"})


CODE = (AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY)


def make_fused_call(kinds: tuple[AnalysisType, ...] = CODE) -> ProviderCall:
    return fused_call(kinds)


def last_body(sim: SimulatorHandle) -> dict[str, Any]:
    last = sim.engine.stats.last
    assert last is not None
    body: dict[str, Any] = last.as_json()["body"]
    return body


class ProviderContract:
    protocol: ClassVar[str]
    overloaded_error: ClassVar[type[GatewayError]] = ProviderUnavailable

    def make(self, base_url: str, *, api_key: str = API_KEY, timeout_s: float = 5.0) -> Provider:
        raise NotImplementedError

    def url(self, sim: SimulatorHandle) -> str:
        return sim.base_url

    @pytest.fixture
    async def sim(self) -> AsyncIterator[SimulatorHandle]:
        async with running_simulator(SimulatorConfig(protocol=self.protocol)) as handle:  # type: ignore[arg-type]
            yield handle

    @pytest.fixture
    async def provider(self, sim: SimulatorHandle) -> AsyncIterator[Provider]:
        provider = self.make(self.url(sim))
        yield provider
        await provider.aclose()

    @pytest.mark.parametrize(
        "analysis_type",
        [AnalysisType.SKILL_EXTRACTION, AnalysisType.ATTRITION_RISK, AnalysisType.INTERVIEW_RUBRIC],
    )
    async def test_answers_validate_against_the_result_model(
        self, provider: Provider, analysis_type: AnalysisType
    ) -> None:
        reply = await provider.analyze(make_call(analysis_type))
        assert isinstance(parse_result(result_model(analysis_type), reply.text), result_model(analysis_type))

    async def test_usage_is_read_from_the_reply(self, provider: Provider, sim: SimulatorHandle) -> None:
        reply = await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        stats = sim.stats()
        assert reply.input_tokens > 0
        assert reply.output_tokens > 0
        assert reply.input_tokens == stats["tokens_in"]
        assert reply.output_tokens == stats["tokens_out"]

    async def test_the_result_schema_is_sent_for_structured_output(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        await provider.analyze(make_call(AnalysisType.TEAM_HEALTH))
        assert sim.stats()["by_schema"] == {"TeamHealthResult": 1}

    async def test_rate_limited_carries_retry_after(self, provider: Provider, sim: SimulatorHandle) -> None:
        sim.script({"kind": "rate_limit", "retry_after": 2.5})
        with pytest.raises(RateLimited) as caught:
            await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        assert caught.value.retry_after == pytest.approx(2.5)
        assert caught.value.retryable

    async def test_spend_limit_is_not_retryable(self, provider: Provider, sim: SimulatorHandle) -> None:
        sim.script({"kind": "spend_limit"})
        with pytest.raises(SpendLimitReached) as caught:
            await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        assert not caught.value.retryable

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            ("server_error", ProviderUnavailable),
            ("unavailable", ProviderUnavailable),
            ("auth", AuthError),
            ("bad_request", BadRequest),
            ("not_found", BadRequest),
        ],
    )
    async def test_error_replies_translate_once(
        self, provider: Provider, sim: SimulatorHandle, kind: str, expected: type[GatewayError]
    ) -> None:
        sim.script({"kind": kind})
        with pytest.raises(expected) as caught:
            await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        assert caught.value.provider == provider.name
        assert isinstance(caught.value.__cause__, BaseException)  # raised from the client's error
        assert API_KEY not in str(caught.value)

    async def test_overload(self, provider: Provider, sim: SimulatorHandle) -> None:
        sim.script({"kind": "overloaded"})
        with pytest.raises(self.overloaded_error) as caught:
            await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        assert caught.value.retryable

    async def test_slow_reply_times_out(self, sim: SimulatorHandle) -> None:
        provider = self.make(self.url(sim), timeout_s=0.2)
        sim.script({"kind": "ok", "delay_ms": 1000})  # 5 x the timeout; the simulator's stop waits for it
        try:
            with pytest.raises(ProviderTimeout):
                await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        finally:
            await provider.aclose()

    async def test_connection_refused_is_unavailable(self) -> None:
        provider = self.make(self.url_for_port(free_port()))
        try:
            with pytest.raises(ProviderUnavailable):
                await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        finally:
            await provider.aclose()

    def url_for_port(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    async def test_is_available(self, provider: Provider) -> None:
        assert await provider.is_available()

    async def test_a_fused_call_answers_every_analysis(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        reply = await provider.analyze(make_fused_call())
        parts = parse_parts(reply.text, CODE)
        assert all(isinstance(parts[kind].outcome, result_model(kind)) for kind in CODE)
        assert sim.stats()["by_schema"] == {FUSED_TITLE: 1}
        assert sim.stats()["completions"] == 1

    async def test_each_set_of_fused_analyses_gets_its_own_schema(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        await provider.analyze(make_fused_call())
        reply = await provider.analyze(make_fused_call((AnalysisType.CODE_COMPLEXITY,)))
        parts = parse_parts(reply.text, (AnalysisType.CODE_COMPLEXITY, AnalysisType.CODE_QUALITY))
        assert isinstance(
            parts[AnalysisType.CODE_COMPLEXITY].outcome, result_model(AnalysisType.CODE_COMPLEXITY)
        )
        assert parts[AnalysisType.CODE_QUALITY].chars == 0  # not asked for, not answered

    async def test_an_invalid_fused_reply_breaks_one_part_only(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        sim.script({"kind": "invalid_output"})
        reply = await provider.analyze(make_fused_call())
        parts = parse_parts(reply.text, CODE)
        valid = [kind for kind in CODE if isinstance(parts[kind].outcome, result_model(kind))]
        assert valid == [AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_COMPLEXITY]


class TestClaude(ProviderContract):
    protocol = "anthropic"
    overloaded_error = Overloaded

    def make(self, base_url: str, *, api_key: str = API_KEY, timeout_s: float = 5.0) -> Provider:
        return ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", base_url, api_key, timeout_s))

    async def test_no_key_means_not_available(self, sim: SimulatorHandle) -> None:
        provider = self.make(sim.base_url, api_key="")
        try:
            assert not await provider.is_available()
        finally:
            await provider.aclose()

    async def test_ratelimit_headers_become_a_hint(self, provider: Provider) -> None:
        reply = await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        assert reply.rate.requests_remaining is not None
        assert reply.rate.reset_after_s is not None

    async def test_sends_no_sampling_parameters_or_prefill(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        body: dict[str, Any] = last_body(sim)
        assert "temperature" not in body
        assert "tool_choice" not in body
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert body["messages"][-1]["role"] == "user"


class TestOllama(ProviderContract):
    protocol = "ollama"

    def make(self, base_url: str, *, api_key: str = API_KEY, timeout_s: float = 5.0) -> Provider:
        return OllamaProvider(ProviderConfig("ollama", "llama3.2", base_url, timeout_s=timeout_s))

    async def test_the_native_chat_api_is_used(self, provider: Provider, sim: SimulatorHandle) -> None:
        await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        body: dict[str, Any] = last_body(sim)
        assert body["stream"] is False
        assert body["format"]["title"] == "CodeQualityResult"
        assert body["keep_alive"] == "5m"
        assert body["options"]["num_predict"] > 0

    async def test_unreachable_server_is_not_available(self) -> None:
        provider = self.make(self.url_for_port(free_port()))
        try:
            assert not await provider.is_available()
        finally:
            await provider.aclose()


class TestOpenAICompatible(ProviderContract):
    protocol = "openai"

    def url(self, sim: SimulatorHandle) -> str:
        return sim.base_url + "/v1"

    def url_for_port(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/v1"

    def make(self, base_url: str, *, api_key: str = API_KEY, timeout_s: float = 5.0) -> Provider:
        return OpenAIProvider(ProviderConfig("openai", "local-model", base_url, api_key, timeout_s))

    async def test_response_format_is_a_strict_json_schema(
        self, provider: Provider, sim: SimulatorHandle
    ) -> None:
        await provider.analyze(make_call(AnalysisType.CODE_QUALITY))
        body: dict[str, Any] = last_body(sim)
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True
        assert body["response_format"]["json_schema"]["name"] == "CodeQualityResult"
