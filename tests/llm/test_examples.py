"""The original design's usage examples, run as it writes them (only the imports added).

Each runs against the provider simulators, Claude through the `anthropic` SDK and Ollama through
its HTTP API, configured by the design's environment variables only, and the test asserts what it
prints: the simulator's answer, field by field. The `# ...` comments inside the examples are the
design's illustrations, kept verbatim; our results are typed models, so `result.skills` prints
`Skill(...)` items and `result.factors` `RiskFactor(...)` items.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aexy_dev.simulator import SimulatorHandle
from aexy_stream.llm import AnalysisType, LLMGateway
from schemas.results import AttritionRiskResult, CodeQualityResult, SkillExtractionResult
from tests.support.design import clean_environment, point_claude_at, point_ollama_at, simulated

code_sample = """\
from authlib.integrations.starlette_client import OAuth
import jwt

oauth = OAuth()
oauth.register("github", server_metadata_url=GITHUB_METADATA, client_kwargs={"scope": "read:user"})


async def login(request):
    return await oauth.github.authorize_redirect(request, request.url_for("callback"))


def session_token(user_id: str, key: str) -> str:
    return jwt.encode({"sub": user_id}, key, algorithm="HS256")
"""
activity_data = {"commits_per_week": [14, 12, 9, 5, 3], "reviews_per_week": [6, 5, 2, 1, 0]}
baseline_data = {"commits_per_week": 12.5, "reviews_per_week": 5.0}
data = json.dumps(activity_data)


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle
) -> pytest.MonkeyPatch:
    """Both simulators up, the design's variables pointing at them (LLM_PROVIDER left to the test)."""
    clean_environment(monkeypatch, tmp_path)
    point_claude_at(monkeypatch, claude_sim)
    point_ollama_at(monkeypatch, ollama_sim)
    return monkeypatch


@pytest.mark.parametrize("provider", ["claude", "ollama"])
async def test_the_usage_examples(
    environment: pytest.MonkeyPatch,
    claude_sim: SimulatorHandle,
    ollama_sim: SimulatorHandle,
    capsys: pytest.CaptureFixture[str],
    provider: str,
) -> None:
    environment.setenv("LLM_PROVIDER", provider)
    sim, other = (claude_sim, ollama_sim) if provider == "claude" else (ollama_sim, claude_sim)

    # Code Analysis
    # fmt: off
    gateway = LLMGateway()

    result = await gateway.analyze(
        AnalysisType.SKILL_EXTRACTION,
        content=code_sample,
        context={"file_path": "auth/oauth.py"}
    )

    print(result.skills)  # ["Python", "OAuth", "JWT"]
    print(result.complexity)  # 7
    # fmt: on

    skills = simulated(SkillExtractionResult)
    assert capsys.readouterr().out == f"{skills.skills}\n{skills.complexity}\n"
    assert (result.provider, result.cache_hit) == (provider, False)
    assert result.input_tokens > 0 and result.output_tokens > 0

    # Predictive Analysis
    # fmt: off
    result = await gateway.analyze(
        AnalysisType.ATTRITION_RISK,
        content=json.dumps(activity_data),
        context={
            "developer_id": "uuid",
            "baseline_metrics": baseline_data,
        }
    )

    print(result.risk_score)  # 0.45
    print(result.factors)  # [{"factor": "declining_activity", "weight": 0.3}]
    print(result.recommendations)  # ["Schedule 1:1 meeting"]
    # fmt: on

    risk = simulated(AttritionRiskResult)
    assert capsys.readouterr().out == f"{risk.risk_score}\n{risk.factors}\n{risk.recommendations}\n"
    assert (result.provider, result.analysis_type, result.cache_hit) == (provider, "attrition_risk", False)
    assert sim.stats()["by_schema"] == {"AttritionRiskResult": 1, "SkillExtractionResult": 1}
    assert other.stats()["total"] == 0
    await gateway.aclose()


async def test_the_runtime_configuration_example(
    environment: pytest.MonkeyPatch,
    claude_sim: SimulatorHandle,
    ollama_sim: SimulatorHandle,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment.setenv("LLM_PROVIDER", "claude")

    # fmt: off
    # Switch provider at runtime
    gateway = LLMGateway(provider="ollama")

    # Disable caching for specific call
    result = await gateway.analyze(
        AnalysisType.ATTRITION_RISK,
        content=data,
        use_cache=False
    )
    # fmt: on

    assert capsys.readouterr().out == ""
    assert (result.provider, result.model, result.cache_hit) == ("ollama", "llama3.2", False)
    assert result.result == simulated(AttritionRiskResult)
    again = await gateway.analyze(AnalysisType.ATTRITION_RISK, content=data, use_cache=False)
    assert not again.cache_hit  # asked again, although the first answer is in the cache:
    assert (await gateway.analyze(AnalysisType.ATTRITION_RISK, content=data)).cache_hit
    assert (ollama_sim.stats()["total"], claude_sim.stats()["total"]) == (2, 0)
    await gateway.aclose()


async def test_the_fallback_call(
    environment: pytest.MonkeyPatch, claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle
) -> None:
    """`analyze_with_fallback(AnalysisType.CODE_QUALITY, content, context)`, as the issue quotes
    it: Claude overloaded, so Ollama (LLM_FALLBACK_PROVIDERS) answers."""
    environment.setenv("LLM_PROVIDER", "claude")
    environment.setenv("LLM_FALLBACK_PROVIDERS", "ollama")
    environment.setenv("LLM_MAX_RETRIES", "0")
    claude_sim.add_rules({"kind": "overloaded"})
    content, context = code_sample, {"file_path": "auth/oauth.py"}

    gateway = LLMGateway()
    result = await gateway.analyze_with_fallback(AnalysisType.CODE_QUALITY, content, context)

    assert (result.provider, result.quality_score) == ("ollama", simulated(CodeQualityResult).quality_score)
    assert claude_sim.stats()["by_kind"] == {"overloaded": 1}
    assert ollama_sim.stats()["by_schema"] == {"CodeQualityResult": 1}
    await gateway.aclose()
