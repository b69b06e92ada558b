"""The original design's environment variables configure `aexy_stream.llm` as the design describes.

LLM_PROVIDER picks the provider (claude or ollama); ANTHROPIC_API_KEY and CLAUDE_MODEL configure
Claude, OLLAMA_BASE_URL and OLLAMA_MODEL Ollama; LLM_CACHE_TTL is the cache TTL of the analysis
types the design's TTL table leaves out; LLM_CACHE_ENABLED turns the cache on or off. Each is set
with monkeypatch and observed where it acts: at the simulated provider, or in Redis.
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from redis.asyncio import Redis

from aexy_dev.simulator import SimulatorHandle
from aexy_stream.llm import AnalysisCache, AnalysisType, LLMGateway, LLMUnavailableError
from aexy_stream.llm.cache import entry_key
from gateway.cache.keys import cache_key
from gateway.config import CacheConfig
from tests.conftest import REDIS_TEST_URL
from tests.support.design import API_KEY, point_claude_at, point_ollama_at

PREFIX = CacheConfig().key_prefix


def last_request(sim: SimulatorHandle) -> tuple[dict[str, object], str]:
    """The last request's JSON body and the credential it carried (x-api-key or a bearer token)."""
    last = sim.engine.stats.last
    assert last is not None
    headers = last.headers
    key = headers.get("x-api-key") or headers.get("authorization", "").removeprefix("Bearer ")
    body: dict[str, object] = last.as_json()["body"]
    return body, key


@pytest.mark.parametrize("provider", ["claude", "ollama"])
async def test_llm_provider_picks_the_provider(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle, ollama_sim: SimulatorHandle, provider: str
) -> None:
    point_claude_at(env, claude_sim)
    point_ollama_at(env, ollama_sim)
    env.setenv("LLM_PROVIDER", provider)
    gateway = LLMGateway()
    result = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    assert (gateway.provider_name, result.provider) == (provider, provider)
    calls = {"claude": claude_sim.stats()["total"], "ollama": ollama_sim.stats()["total"]}
    assert calls == {"claude": int(provider == "claude"), "ollama": int(provider == "ollama")}


async def test_anthropic_api_key_is_the_credential_claude_is_called_with(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle
) -> None:
    env.setenv("LLM_PROVIDER", "claude")
    env.setenv("ANTHROPIC_BASE_URL", claude_sim.base_url)
    without = LLMGateway()
    with pytest.raises(LLMUnavailableError):  # no key: Claude is not available, nothing is sent
        await without.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await without.aclose()
    assert claude_sim.stats()["total"] == 0

    env.setenv("ANTHROPIC_API_KEY", API_KEY)
    gateway = LLMGateway()
    await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    assert last_request(claude_sim)[1] == API_KEY


async def test_claude_model_is_the_model_asked(env: pytest.MonkeyPatch, claude_sim: SimulatorHandle) -> None:
    point_claude_at(env, claude_sim)
    env.setenv("LLM_PROVIDER", "claude")
    env.setenv("CLAUDE_MODEL", "claude-3-5-sonnet-20241022")
    gateway = LLMGateway()
    result = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    assert last_request(claude_sim)[0]["model"] == "claude-3-5-sonnet-20241022"
    assert result.model == "claude-3-5-sonnet-20241022"


async def test_ollama_base_url_and_model_say_where_and_what(
    env: pytest.MonkeyPatch, ollama_sim: SimulatorHandle
) -> None:
    env.setenv("LLM_PROVIDER", "ollama")
    env.setenv("OLLAMA_BASE_URL", ollama_sim.base_url)
    env.setenv("OLLAMA_MODEL", "qwen2.5-coder:7b")
    gateway = LLMGateway()
    result = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    body, _ = last_request(ollama_sim)
    assert (ollama_sim.stats()["total"], body["model"]) == (1, "qwen2.5-coder:7b")
    assert (result.provider, result.model) == ("ollama", "qwen2.5-coder:7b")


async def test_llm_cache_ttl_is_the_ttl_of_the_types_the_table_leaves_out(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle, redis_client: Redis
) -> None:
    point_claude_at(env, claude_sim)
    env.setenv("LLM_PROVIDER", "claude")
    env.setenv("REDIS_URL", REDIS_TEST_URL)
    env.setenv("LLM_CACHE_TTL", "120")
    gateway = LLMGateway()
    cache = AnalysisCache()
    content = f"x = '{uuid4().hex}'\n"
    ttls = {}
    for kind in (AnalysisType.SOFT_SKILLS, AnalysisType.ATTRITION_RISK, AnalysisType.SKILL_EXTRACTION):
        result = await gateway.analyze(kind, content)
        key = cache_key(kind, result.prompt_version, "claude", "claude-sonnet-5-5", content, {})
        ttls[kind.value] = round(await redis_client.pttl(PREFIX + key) / 1000)
        await cache.set(kind, content, result.result)
        ttls[f"AnalysisCache {kind.value}"] = round(
            await redis_client.pttl(PREFIX + entry_key(kind, content)) / 1000
        )
    await gateway.aclose()
    await cache.aclose()
    assert ttls == {
        "soft_skills": 120,  # not in the design's table: LLM_CACHE_TTL
        "attrition_risk": 3600,  # the table's
        "skill_extraction": 7 * 24 * 3600,
        "AnalysisCache soft_skills": 120,
        "AnalysisCache attrition_risk": 3600,
        "AnalysisCache skill_extraction": 7 * 24 * 3600,
    }


@pytest.mark.parametrize(("enabled", "calls", "hit"), [("true", 1, True), ("false", 2, False)])
async def test_llm_cache_enabled_turns_the_cache_on_and_off(
    env: pytest.MonkeyPatch, claude_sim: SimulatorHandle, enabled: str, calls: int, hit: bool
) -> None:
    point_claude_at(env, claude_sim)
    env.setenv("LLM_PROVIDER", "claude")
    env.setenv("LLM_CACHE_ENABLED", enabled)
    gateway = LLMGateway()
    cache = AnalysisCache()
    first = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    second = await gateway.analyze(AnalysisType.CODE_QUALITY, "x = 1\n")
    await cache.set(AnalysisType.CODE_QUALITY, "x = 1\n", first.result)
    kept = await cache.get(AnalysisType.CODE_QUALITY, "x = 1\n")
    await gateway.aclose()
    await cache.aclose()
    assert (claude_sim.stats()["total"], first.cache_hit, second.cache_hit) == (calls, False, hit)
    assert kept == (first.result.model_dump(mode="json") if hit else None)
