"""The one settings object of the process, read from the environment (and `.env`).

Only the composition root (`aexy_stream.compose`) reads it: it turns these fields into the plain
config objects the components and the CLI commands get. A field's default is the one its config
dataclass documents, read from it here, so each default is written once. Names of the original
design are kept: LLM_PROVIDER, ANTHROPIC_API_KEY, CLAUDE_MODEL, OLLAMA_BASE_URL, OLLAMA_MODEL,
LLM_CACHE_TTL, LLM_CACHE_ENABLED, REDIS_URL. Every variable is listed in docs/settings.md.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from aexy_stream.dashboard.config import DashboardConfig
from consumers.activity.config import ActivityConfig
from consumers.config import ProcessorConfig, RoutingConfig
from consumers.identity.config import IdentityConfig
from consumers.identity.links import read_aliases
from gateway.config import (
    DAY,
    BatchConfig,
    BreakerConfig,
    CacheConfig,
    ProviderConfig,
    RateLimitConfig,
    RedactionConfig,
    RetryConfig,
)
from gateway.providers import claude, ollama, openai
from producers.git.range import MAX_PATCH_BYTES
from producers.kafka import ProducerConfig
from producers.webhook.config import GitHubApiConfig, WebhookConfig
from schemas.types import AnalysisType

_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])?")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ProviderName = Literal["claude", "ollama", "openai", "rules"]
PROVIDERS: tuple[str, ...] = ("claude", "ollama", "openai", "rules")
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Prices = tuple[Price, Price] | tuple[Price, Price, Price, Price]
"""One model's `LLM_PRICES` entry: input and output, or those and cache write and cache read."""

# Each default is written once: in the component's config dataclass, read here (tests/test_settings.py).
_PROCESSOR = ProcessorConfig()
_TOPICS = _PROCESSOR.topics
_ROUTING = RoutingConfig()
_PROVIDER = ProviderConfig(name="", model="")
_LIMITS = RateLimitConfig()
_CACHE = CacheConfig()
_RETRY = RetryConfig()
_BREAKER = BreakerConfig()
_BATCH = BatchConfig()
_REDACTION = RedactionConfig()
_ACTIVITY = ActivityConfig()
_IDENTITY = IdentityConfig()
_GITHUB = GitHubApiConfig()
_WEBHOOK = WebhookConfig(ProducerConfig(""), insecure_no_signature=True)  # only its defaults are read
_DASHBOARD = DashboardConfig()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    llm_provider: ProviderName = "claude"
    llm_fallback_providers: Annotated[tuple[ProviderName, ...], NoDecode] = ()

    anthropic_api_key: SecretStr = SecretStr("")
    anthropic_base_url: str = ""
    claude_model: str = "claude-sonnet-5-5"
    claude_effort: Literal["", "low", "medium", "high", "xhigh", "max"] = ""
    claude_rpm: int = Field(claude.DEFAULT_RPM, ge=0)
    claude_tpm: int = Field(claude.DEFAULT_TPM, ge=0)

    ollama_base_url: str = ollama.DEFAULT_BASE_URL
    ollama_model: str = "llama3.2"
    ollama_keep_alive: str = _PROVIDER.keep_alive
    ollama_rpm: int = Field(_LIMITS.requests_per_window, ge=0)
    ollama_tpm: int = Field(_LIMITS.tokens_per_window, ge=0)

    openai_base_url: str = openai.DEFAULT_BASE_URL
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = "local-model"
    openai_rpm: int = Field(_LIMITS.requests_per_window, ge=0)
    openai_tpm: int = Field(_LIMITS.tokens_per_window, ge=0)

    llm_timeout_s: float = Field(_PROVIDER.timeout_s, gt=0)
    llm_max_retries: int = Field(_RETRY.max_retries, ge=0, le=20)
    llm_backoff_factor: float = Field(_RETRY.backoff_factor, ge=1.0)
    llm_backoff_initial_s: float = Field(_RETRY.backoff_initial_s, ge=0)
    llm_backoff_max_s: float = Field(_RETRY.backoff_max_s, gt=0)
    llm_breaker_threshold: int = Field(_BREAKER.failure_threshold, ge=1)
    llm_breaker_cooldown_s: float = Field(_BREAKER.cooldown_s, ge=0)
    llm_breaker_failure_rate: float = Field(_BREAKER.failure_rate, gt=0, le=1)
    llm_breaker_window_s: float = Field(_BREAKER.window_s, gt=0)
    llm_breaker_probes: int = Field(_BREAKER.probes, ge=1)
    llm_rate_window_s: float = Field(_LIMITS.window_s, gt=0)
    llm_backfill_share: float = Field(_LIMITS.backfill_share, gt=0, le=1)
    llm_max_input_tokens: int = Field(_ROUTING.max_input_tokens, ge=4000)
    """Estimated input tokens of one code analysis call: its instructions, context and material."""
    llm_prices: dict[str, Prices] = Field(default_factory=dict)
    """USD per million input and output tokens, then optionally prompt-cache write and read tokens,
    per model (`gateway.config.Price`, in its order): finite and not negative."""
    redact_local_providers: bool = _REDACTION.redact_local_providers
    """False: `rules` and a model server on a loopback address get content unredacted (never Claude)."""

    llm_cache_enabled: bool = _CACHE.enabled
    llm_cache_ttl: int = Field(_CACHE.default_ttl_s, ge=1)
    llm_cache_ttls: dict[str, int] = Field(default_factory=dict)
    llm_cache_memory_items: int = Field(_CACHE.memory_max_items, ge=1)
    redis_url: str = ""

    kafka_bootstrap_servers: str = _PROCESSOR.bootstrap_servers
    kafka_group_id: str = _PROCESSOR.group_id
    kafka_session_timeout_ms: int = Field(_PROCESSOR.session_timeout_ms, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(_PROCESSOR.heartbeat_interval_ms, ge=100)
    topic_github_activity: str = _TOPICS.activity
    topic_code_changes: str = _TOPICS.code_changes
    topic_analysis_requests: str = _TOPICS.requests
    topic_analysis_results: str = _TOPICS.results
    topic_analysis_retry: str = _TOPICS.retry
    topic_analysis_dlq: str = _TOPICS.dlq
    topic_github_activity_backfill: str = _TOPICS.backfill_activity
    topic_code_changes_backfill: str = _TOPICS.backfill_code_changes
    topic_partitions: int = Field(_TOPICS.partitions, ge=1)
    topic_replication: int = Field(_TOPICS.replication, ge=1)
    results_topic_per_type: bool = _TOPICS.results_per_type
    max_in_flight: int = Field(_PROCESSOR.max_in_flight, ge=1)
    backfill_max_in_flight: int = Field(_PROCESSOR.backfill_in_flight, ge=1)
    max_event_bytes: int = Field(_PROCESSOR.max_event_bytes, ge=1024)
    retry_backoff_base_s: float = Field(_PROCESSOR.retry_backoff_base_s, ge=0)
    retry_max_attempts: int = Field(_PROCESSOR.retry_max_attempts, ge=1)
    shutdown_grace_s: float = Field(_PROCESSOR.shutdown_grace_s, ge=0)
    http_host: str = _PROCESSOR.http_host
    http_port: int = Field(_PROCESSOR.http_port, ge=0, le=65535)
    bot_pattern: str = _ROUTING.bot_pattern
    fused_code_analyses: bool = _ROUTING.fuse_code_analyses
    skip_paths: Annotated[tuple[str, ...], NoDecode] = _ROUTING.skip_paths
    """Regexes of paths left out of code analyses besides the built-in ones: a JSON list, or
    comma-separated (a regex with a comma needs the JSON list)."""

    github_webhook_secret: SecretStr = SecretStr("")
    github_token: SecretStr = SecretStr("")
    github_api_url: str = _GITHUB.api_url
    webhook_host: str = _WEBHOOK.host
    webhook_port: int = Field(_WEBHOOK.port, ge=0, le=65535)
    webhook_max_body_bytes: int | None = Field(None, ge=1024)
    """None: MAX_EVENT_BYTES (`WebhookConfig.max_body_bytes`); never above it."""
    webhook_dedupe_ttl_s: int = Field(int(_WEBHOOK.dedupe_ttl_s), ge=1)
    backfill_max_patch_bytes: int = Field(MAX_PATCH_BYTES, ge=1024)

    predictive_analyses_enabled: bool = True
    pseudonymize_developers: bool = False
    pseudonym_key: SecretStr = SecretStr("")
    risk_analysis_interval: timedelta = timedelta(seconds=_ACTIVITY.interval_s)
    activity_window_days: int = Field(_ACTIVITY.window_days, ge=1, le=365)
    activity_state_ttl_days: int = Field(_ACTIVITY.state_ttl_s // DAY, ge=1)
    identity_aliases: str = _IDENTITY.aliases_path
    identity_match_by_name: bool = _IDENTITY.match_by_name

    claude_batch_backfill: bool = False
    claude_batch_max_requests: int = Field(_BATCH.max_requests, ge=1, le=100_000)
    claude_batch_max_wait_s: float = Field(_BATCH.max_wait_s, ge=0)
    claude_batch_poll_s: float = Field(_BATCH.poll_s, gt=0)

    dashboard_host: str = _DASHBOARD.host
    dashboard_port: int = Field(_DASHBOARD.port, ge=0, le=65535)
    dashboard_token: SecretStr = SecretStr(_DASHBOARD.token)
    dashboard_hide_risks: bool = _DASHBOARD.hide_risks

    @model_validator(mode="after")
    def _one_size_policy(self) -> Settings:
        """A delivery is published as it came: over MAX_EVENT_BYTES the processor would not take it."""
        body = self.webhook_max_body_bytes
        if body is not None and body > self.max_event_bytes:
            raise ValueError(
                f"WEBHOOK_MAX_BODY_BYTES ({body}) is over MAX_EVENT_BYTES ({self.max_event_bytes}): "
                "the processor takes no larger record; raise MAX_EVENT_BYTES too"
            )
        return self

    @model_validator(mode="after")
    def _pseudonyms_need_a_key(self) -> Settings:
        if self.pseudonymize_developers and not self.pseudonym_key.get_secret_value():
            raise ValueError("PSEUDONYMIZE_DEVELOPERS needs PSEUDONYM_KEY (a long random secret)")
        return self

    @field_validator("llm_cache_ttls")
    @classmethod
    def _known_types_positive_ttls(cls, value: dict[str, int]) -> dict[str, int]:
        known = {t.value for t in AnalysisType}
        for name, ttl in value.items():
            if name not in known:
                raise ValueError(f"unknown analysis type {name!r}")
            if ttl < 1:
                raise ValueError(f"TTL of {name} must be at least 1 second")
        return value

    @field_validator("risk_analysis_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        """`86400` (seconds), `24h`, `30m`, `7d`, or what pydantic reads (`P7D`, `12:00:00`)."""
        if isinstance(value, str) and (match := _DURATION.fullmatch(value.strip().lower())):
            return timedelta(seconds=float(match["n"]) * _UNIT_S[match["unit"] or "s"])
        return value

    @field_validator("risk_analysis_interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("skip_paths", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().startswith("["):
            return tuple(orjson.loads(value))
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("skip_paths")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return value

    @field_validator("identity_aliases")
    @classmethod
    def _readable_aliases(cls, value: str) -> str:
        """Read once at start-up, so a missing or malformed alias file fails there, in one line."""
        try:
            read_aliases(Path(value)) if value else None
        except OSError as exc:
            raise ValueError(f"cannot read {value}: {exc.strerror}") from None
        return value

    @field_validator("llm_fallback_providers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value


def setting_error_line(exc: ValidationError) -> str:
    """One line naming the bad setting(s) as environment variables."""
    parts = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{str(error['loc'][0]).upper()}: {message}" if error["loc"] else message)
    return "invalid setting " + "; ".join(parts)
