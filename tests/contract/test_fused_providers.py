"""The fused contract, per provider: one call asking for several analyses comes back with one valid
result per analysis, each provider through its real client against its simulated server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import orjson
import pytest

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_dev.simulator.config import ProtocolName
from gateway.config import ProviderConfig
from gateway.providers.base import Provider, ProviderCall
from gateway.providers.claude import ClaudeProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai import OpenAIProvider
from schemas.results import result_model
from schemas.types import AnalysisType
from tests.support import calls

API_KEY = "sk-test-fused-contract"
TYPES = (AnalysisType.CODE_QUALITY, AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_COMPLEXITY)
PROVIDERS: dict[ProtocolName, Callable[[str], Provider]] = {
    "anthropic": lambda url: ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", url, API_KEY, 5.0)),
    "openai": lambda url: OpenAIProvider(ProviderConfig("openai", "local-model", f"{url}/v1", API_KEY, 5.0)),
    "ollama": lambda url: OllamaProvider(ProviderConfig("ollama", "llama3.2", url, timeout_s=5.0)),
}


@pytest.fixture(params=list(PROVIDERS))
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Provider, SimulatorHandle]]:
    async with running_simulator(SimulatorConfig(protocol=request.param)) as sim:
        provider = PROVIDERS[request.param](sim.base_url)
        try:
            yield provider, sim
        finally:
            await provider.aclose()


def fused_call(types: tuple[AnalysisType, ...] = TYPES) -> ProviderCall:
    return calls.fused_call(types)


async def test_one_call_answers_every_analysis_with_a_valid_result(
    served: tuple[Provider, SimulatorHandle],
) -> None:
    provider, sim = served
    call = fused_call()
    reply = await provider.analyze(call)
    answer = orjson.loads(reply.text)
    assert list(answer) == [kind.value for kind in call.analysis_types]
    for kind in call.analysis_types:
        result_model(kind).model_validate(answer[kind.value])
    stats = sim.stats()
    assert stats["completions"] == 1
    assert stats["by_schema"] == {"FusedAnalysis": 1}
    assert reply.input_tokens == stats["tokens_in"] and reply.output_tokens == stats["tokens_out"]


async def test_one_invalid_part_leaves_the_others_valid(served: tuple[Provider, SimulatorHandle]) -> None:
    provider, sim = served
    sim.script({"kind": "invalid_part", "part": "skill_extraction"})
    answer = orjson.loads((await provider.analyze(fused_call())).text)
    with pytest.raises(ValueError):  # pydantic's ValidationError
        result_model(AnalysisType.SKILL_EXTRACTION).model_validate(answer["skill_extraction"])
    for kind in (AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY):
        result_model(kind).model_validate(answer[kind.value])
