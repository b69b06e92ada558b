from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from aexy_stream.compose import LLMGateway, gateway_config, processor_config, rate_limits
from aexy_stream.settings import Settings, setting_error_line
from consumers.config import RoutingConfig
from gateway.metrics import GatewayMetrics
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    for name in (
        "LLM_PROVIDER",
        "LLM_FALLBACK_PROVIDERS",
        "CLAUDE_RPM",
        "LLM_CACHE_TTL",
        "ANTHROPIC_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_follow_the_design() -> None:
    settings = Settings()
    assert settings.llm_provider == "claude"
    assert settings.ollama_base_url == "http://localhost:11434"
    assert settings.ollama_model == "llama3.2"
    assert settings.llm_cache_ttl == 3600
    assert settings.llm_cache_enabled is True
    assert (settings.claude_rpm, settings.claude_tpm) == (50, 100_000)


def test_per_type_ttls_of_the_design() -> None:
    cache = gateway_config(Settings()).cache
    assert cache.ttl_for(AnalysisType.CODE_QUALITY) == 24 * 3600
    assert cache.ttl_for(AnalysisType.SKILL_EXTRACTION) == 7 * 24 * 3600
    assert cache.ttl_for(AnalysisType.ATTRITION_RISK) == 3600
    assert cache.ttl_for(AnalysisType.TEAM_HEALTH) == 3600
    assert cache.ttl_for(AnalysisType.SOFT_SKILLS) == 3600


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "ollama")
    monkeypatch.setenv("LLM_FALLBACK_PROVIDERS", "claude, rules")
    monkeypatch.setenv("LLM_CACHE_TTL", "60")
    monkeypatch.setenv("CLAUDE_RPM", "7")
    settings = Settings()
    assert gateway_config(settings).chain == ("ollama", "claude", "rules")
    assert gateway_config(settings, provider="rules").chain == ("rules", "claude")  # replaces LLM_PROVIDER
    assert gateway_config(settings).cache.ttl_for(AnalysisType.SOFT_SKILLS) == 60
    assert rate_limits(settings)["claude"].requests_per_window == 7


def test_a_bad_setting_names_itself_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_RPM", "lots")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = setting_error_line(caught.value)
    assert "CLAUDE_RPM" in line
    assert "\n" not in line


@pytest.mark.parametrize("prices", ['{"m": [-1.0, 2.0]}', '{"m": [1.0, NaN]}', '{"m": [1.0, Infinity]}'])
def test_a_price_below_zero_or_not_finite_is_rejected(monkeypatch: pytest.MonkeyPatch, prices: str) -> None:
    """Refused at start-up rather than by the first envelope, whose cost must not be below zero."""
    monkeypatch.setenv("LLM_PRICES", prices)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "LLM_PRICES" in setting_error_line(caught.value)
    monkeypatch.setenv("LLM_PRICES", '{"m": [0.0, 15.0]}')
    assert Settings().llm_prices == {"m": (0.0, 15.0)}


def test_an_unknown_provider_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_PROVIDER", "gpt-banana")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "LLM_PROVIDER" in setting_error_line(caught.value)


def test_the_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    settings = Settings()
    assert "sk-ant-very-secret" not in repr(settings)
    assert "sk-ant-very-secret" not in str(gateway_config(settings))


async def test_llm_gateway_switches_provider_at_run_time() -> None:
    gateway = LLMGateway(provider="rules", settings=Settings(), metrics=GatewayMetrics(CollectorRegistry()))
    try:
        assert gateway.chain == ("rules",)
        request = AnalysisRequest(
            analysis_type=AnalysisType.BURNOUT_RISK, content="", context={"weekend_share": 0.4}
        )
        envelope = await gateway.analyze(request)
        assert envelope.provider == "rules"
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("86400", 86400), ("24h", 86400), ("30m", 1800), ("7d", 604800), ("1.5h", 5400), ("P7D", 604800)],
)
def test_the_risk_interval_reads_seconds_units_and_iso_8601(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: int
) -> None:
    monkeypatch.setenv("RISK_ANALYSIS_INTERVAL", value)
    assert Settings().risk_analysis_interval.total_seconds() == seconds


@pytest.mark.parametrize("value", ["0", "0h", "soon"])
def test_a_risk_interval_that_is_not_a_positive_duration_names_itself(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("RISK_ANALYSIS_INTERVAL", value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert setting_error_line(caught.value).startswith("invalid setting RISK_ANALYSIS_INTERVAL: ")


def test_pseudonyms_need_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSEUDONYMIZE_DEVELOPERS", "true")
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert setting_error_line(caught.value) == (
        "invalid setting PSEUDONYMIZE_DEVELOPERS needs PSEUDONYM_KEY (a long random secret)"
    )
    monkeypatch.setenv("PSEUDONYM_KEY", "k" * 32)
    assert Settings().pseudonymize_developers is True


def test_skip_paths_default_to_the_routing_default_and_reach_the_processor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SKIP_PATHS", raising=False)
    assert Settings().skip_paths == RoutingConfig().skip_paths == ()
    monkeypatch.setenv("SKIP_PATHS", r"^legacy/, \.snap$")
    routing = processor_config(Settings()).routing
    assert routing.skip_paths == ("^legacy/", r"\.snap$")
    assert routing.skipped_paths == RoutingConfig().skipped_paths  # added to the built-in ones


def test_skip_paths_as_a_json_list_keep_their_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIP_PATHS", r'["^gen/[a-z]{1,3}/", "\\.pb\\.swift$"]')
    assert Settings().skip_paths == ("^gen/[a-z]{1,3}/", r"\.pb\.swift$")


def test_a_skip_path_that_is_no_regex_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIP_PATHS", "^ok/,(unclosed")
    with pytest.raises(ValidationError) as caught:
        Settings()
    line = setting_error_line(caught.value)
    assert line.startswith("invalid setting SKIP_PATHS: '(unclosed' is not a regular expression")
