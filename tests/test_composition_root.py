"""One source of configuration: only the composition root reads `Settings`, and each default is
written once (a Settings field takes it from the component's config dataclass)."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from aexy_stream.compose import (
    App,
    activity_config,
    batch_config,
    gateway_config,
    identity_config,
    processor_config,
    producer_config,
    provider_configs,
    rate_limits,
    topics,
    webhook_config,
)
from aexy_stream.settings import Settings
from consumers.activity.config import ActivityConfig
from consumers.config import ProcessorConfig, Topics
from consumers.identity.config import IdentityConfig
from gateway.config import (
    BatchConfig,
    BreakerConfig,
    CacheConfig,
    ProviderConfig,
    RateLimitConfig,
    RetryConfig,
)
from gateway.providers import ollama, openai
from producers.git import GitRange
from producers.webhook.config import RECORD_OVERHEAD_BYTES, WebhookConfig

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("aexy_stream", "consumers", "gateway", "producers", "schemas", "dev/aexy_dev")
COMPOSITION_ROOT = {"aexy_stream/compose.py", "aexy_stream/settings.py"}

DESIGN_NAMES = {
    "LLM_PROVIDER", "ANTHROPIC_API_KEY", "CLAUDE_MODEL", "OLLAMA_BASE_URL", "OLLAMA_MODEL",
    "LLM_CACHE_TTL", "LLM_CACHE_ENABLED", "REDIS_URL",
}  # fmt: skip
KNOWN_NAMES = DESIGN_NAMES | {
    "LLM_FALLBACK_PROVIDERS", "ANTHROPIC_BASE_URL", "CLAUDE_EFFORT", "CLAUDE_RPM", "CLAUDE_TPM",
    "OLLAMA_KEEP_ALIVE", "OLLAMA_RPM", "OLLAMA_TPM", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL",
    "OPENAI_RPM", "OPENAI_TPM", "LLM_TIMEOUT_S", "LLM_MAX_RETRIES", "LLM_BACKOFF_FACTOR",
    "LLM_BACKOFF_INITIAL_S", "LLM_BACKOFF_MAX_S", "LLM_BREAKER_THRESHOLD", "LLM_BREAKER_COOLDOWN_S",
    "LLM_RATE_WINDOW_S", "LLM_BACKFILL_SHARE", "LLM_PRICES", "LLM_CACHE_TTLS", "LLM_CACHE_MEMORY_ITEMS",
    "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_GROUP_ID", "KAFKA_SESSION_TIMEOUT_MS", "KAFKA_HEARTBEAT_INTERVAL_MS",
    "TOPIC_GITHUB_ACTIVITY", "TOPIC_CODE_CHANGES", "TOPIC_ANALYSIS_REQUESTS", "TOPIC_ANALYSIS_RESULTS",
    "TOPIC_ANALYSIS_RETRY", "TOPIC_ANALYSIS_DLQ", "TOPIC_GITHUB_ACTIVITY_BACKFILL",
    "TOPIC_CODE_CHANGES_BACKFILL", "TOPIC_PARTITIONS", "TOPIC_REPLICATION", "MAX_IN_FLIGHT",
    "BACKFILL_MAX_IN_FLIGHT", "MAX_EVENT_BYTES", "RETRY_BACKOFF_BASE_S", "RETRY_MAX_ATTEMPTS",
    "SHUTDOWN_GRACE_S", "HTTP_HOST", "HTTP_PORT", "BOT_PATTERN", "GITHUB_WEBHOOK_SECRET", "GITHUB_TOKEN",
    "GITHUB_API_URL", "WEBHOOK_HOST", "WEBHOOK_PORT", "WEBHOOK_MAX_BODY_BYTES", "WEBHOOK_DEDUPE_TTL_S",
    "BACKFILL_MAX_PATCH_BYTES", "PREDICTIVE_ANALYSES_ENABLED", "PSEUDONYMIZE_DEVELOPERS", "PSEUDONYM_KEY",
    "RISK_ANALYSIS_INTERVAL", "ACTIVITY_WINDOW_DAYS", "ACTIVITY_STATE_TTL_DAYS", "CLAUDE_BATCH_BACKFILL",
    "CLAUDE_BATCH_MAX_REQUESTS", "CLAUDE_BATCH_MAX_WAIT_S", "CLAUDE_BATCH_POLL_S",
}  # fmt: skip
"""Every variable operators may have set: none may be renamed or dropped (new ones may be added)."""


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with nothing set: no variable of the environment, no `.env`."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return Settings(_env_file=None)


def test_the_environment_variable_names_stay() -> None:
    names = {name.upper() for name in Settings.model_fields}
    assert DESIGN_NAMES <= KNOWN_NAMES
    assert sorted(KNOWN_NAMES - names) == []


def test_default_settings_compose_the_defaults_of_the_config_dataclasses(defaults: Settings) -> None:
    assert processor_config(defaults) == ProcessorConfig()
    assert topics(defaults) == Topics()
    gateway = gateway_config(defaults)
    assert (gateway.cache, gateway.retry, gateway.breaker) == (CacheConfig(), RetryConfig(), BreakerConfig())
    assert batch_config(defaults) == BatchConfig()
    assert activity_config(defaults) == ActivityConfig()
    assert identity_config(defaults) == IdentityConfig()
    limits = rate_limits(defaults)
    for name in ("ollama", "openai", "rules"):
        assert (name, limits[name]) == (name, RateLimitConfig())  # unlimited unless set
    assert limits["claude"] == replace(RateLimitConfig(), requests_per_window=50, tokens_per_window=100_000)
    provider = ProviderConfig(name="", model="")
    configs = provider_configs(defaults)
    for name in ("claude", "ollama", "openai"):
        assert (name, configs[name].timeout_s) == (name, provider.timeout_s)
    assert configs["ollama"].keep_alive == provider.keep_alive
    assert (configs["ollama"].base_url, configs["openai"].base_url) == (
        ollama.DEFAULT_BASE_URL,
        openai.DEFAULT_BASE_URL,
    )
    webhook = webhook_config(defaults, insecure_no_signature=True)
    assert webhook == WebhookConfig(webhook.producer, insecure_no_signature=True)
    assert App(defaults).max_patch_bytes == GitRange(Path(".")).max_patch_bytes


def test_a_changed_setting_reaches_its_config(defaults: Settings) -> None:
    """The mapping itself: a value set differs from the default and arrives where it belongs."""
    changed = defaults.model_copy(
        update={
            "max_in_flight": 7,
            "topic_analysis_results": "results.x",
            "llm_backoff_max_s": 9.0,
            "claude_batch_poll_s": 3.0,
            "activity_state_ttl_days": 2,
            "webhook_port": 9,
            "http_host": "127.0.0.1",
        }
    )
    processor = processor_config(changed)
    assert processor == replace(
        ProcessorConfig(),
        max_in_flight=7,
        topics=replace(Topics(), results="results.x"),
        http_host="127.0.0.1",
    )
    assert gateway_config(changed).retry == replace(RetryConfig(), backoff_max_s=9.0)
    assert batch_config(changed) == replace(BatchConfig(), poll_s=3.0)
    assert activity_config(changed) == replace(ActivityConfig(), state_ttl_s=2 * 24 * 3600)
    assert webhook_config(changed, insecure_no_signature=True).port == 9


def test_every_producer_has_room_for_its_largest_record(defaults: Settings) -> None:
    big = defaults.model_copy(update={"max_event_bytes": 5_000_000, "webhook_max_body_bytes": 2_000_000})
    assert producer_config(big, "x").max_request_size == 5_000_000 + RECORD_OVERHEAD_BYTES
    webhook = webhook_config(big, insecure_no_signature=True).producer
    assert webhook.max_request_size == 5_000_000 + RECORD_OVERHEAD_BYTES  # code changes are the larger
    on_broker = App(big).producer("aexy-stream-demo", linger_ms=5, bootstrap_servers="127.0.0.1:1")
    assert (on_broker.bootstrap_servers, on_broker.linger_ms) == ("127.0.0.1:1", 5)


def test_the_demo_provider_choice_rechains_the_gateway_and_the_backfill_room(defaults: Settings) -> None:
    batching = App(defaults.model_copy(update={"llm_provider": "ollama", "claude_batch_backfill": True}))
    assert batching.processor.backfill_in_flight == defaults.backfill_max_in_flight
    claude = batching.with_provider("claude", ("rules",))
    assert claude.processor.backfill_in_flight == defaults.claude_batch_max_requests
    with pytest.raises(ValueError, match="unknown provider"):
        batching.with_provider("gpt-banana")


# --- nothing outside the composition root reads Settings ---------------------------------------


def settings_only_names() -> set[str]:
    """Settings fields no class of the product declares too: reading one of these is reading Settings."""
    declared: set[str] = set()
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.name != "Settings":
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        declared.add(item.target.id)
                    elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        declared.add(item.name)
    return set(Settings.model_fields) - declared


def product_files() -> list[Path]:
    return sorted(path for package in PRODUCT for path in (ROOT / package).rglob("*.py"))


def settings_reads(source: str, settings_only: set[str]) -> list[str]:
    """Where `source` uses `Settings` or reads one of its fields (line: what)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "aexy_stream.settings":
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name == "Settings"]
        elif isinstance(node, ast.Name) and node.id == "Settings":
            found.append(f"{node.lineno}: Settings")
        elif isinstance(node, ast.Attribute) and node.attr in {"Settings", "_settings"}:
            found.append(f"{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in settings_only:
            found.append(f"{node.lineno}: reads .{node.attr}")
    return sorted(set(found))


def test_only_the_composition_root_reads_settings() -> None:
    settings_only = settings_only_names()
    outside = {
        path.relative_to(ROOT).as_posix(): reads
        for path in product_files()
        if path.relative_to(ROOT).as_posix() not in COMPOSITION_ROOT
        and (reads := settings_reads(path.read_text(encoding="utf-8"), settings_only))
    }
    assert outside == {}


def test_every_setting_is_composed() -> None:
    """A field the composition root never reads would be a variable that changes nothing."""
    compose = ast.parse((ROOT / "aexy_stream/compose.py").read_text(encoding="utf-8"))
    read = {node.attr for node in ast.walk(compose) if isinstance(node, ast.Attribute)}
    assert sorted(set(Settings.model_fields) - read) == []


def test_the_scan_finds_settings_reads_where_they_are() -> None:
    settings_only = settings_only_names()
    assert {"kafka_bootstrap_servers", "topic_analysis_results", "anthropic_api_key"} <= settings_only
    assert settings_reads((ROOT / "aexy_stream/compose.py").read_text(encoding="utf-8"), settings_only)
    snippet = (
        "from aexy_stream.settings import Settings as S\n"
        "def f(s):\n"
        "    return s.kafka_bootstrap_servers, app._settings\n"
    )
    assert settings_reads(snippet, settings_only) == [
        "1: imports Settings",
        "3: ._settings",
        "3: reads .kafka_bootstrap_servers",
    ]
