"""The one settings object of the process, read from the environment (and `.env`).

Only the composition root (`aexy_stream.compose`, the CLI) reads it; components get plain config
objects from `gateway.config`. Names of the original design are kept: LLM_PROVIDER,
ANTHROPIC_API_KEY, CLAUDE_MODEL, OLLAMA_BASE_URL, OLLAMA_MODEL, LLM_CACHE_TTL, LLM_CACHE_ENABLED,
REDIS_URL. Every variable is listed in the README.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from consumers.config import DEFAULT_BOT_PATTERN
from schemas.types import AnalysisType

_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])?")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ProviderName = Literal["claude", "ollama", "openai", "rules"]
PROVIDERS: tuple[str, ...] = ("claude", "ollama", "openai", "rules")
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]


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
    claude_rpm: int = Field(50, ge=0)
    claude_tpm: int = Field(100_000, ge=0)

    ollama_base_url: str = "http://localhost:11434"
    ollama_model: str = "llama3.2"
    ollama_keep_alive: str = "5m"
    ollama_rpm: int = Field(0, ge=0)
    ollama_tpm: int = Field(0, ge=0)

    openai_base_url: str = "http://localhost:8080/v1"
    openai_api_key: SecretStr = SecretStr("")
    openai_model: str = "local-model"
    openai_rpm: int = Field(0, ge=0)
    openai_tpm: int = Field(0, ge=0)

    llm_timeout_s: float = Field(60.0, gt=0)
    llm_max_retries: int = Field(3, ge=0, le=20)
    llm_backoff_factor: float = Field(2.0, ge=1.0)
    llm_backoff_initial_s: float = Field(1.0, ge=0)
    llm_backoff_max_s: float = Field(60.0, gt=0)
    llm_breaker_threshold: int = Field(5, ge=1)
    llm_breaker_cooldown_s: float = Field(30.0, ge=0)
    llm_rate_window_s: float = Field(60.0, gt=0)
    llm_backfill_share: float = Field(0.2, gt=0, le=1)
    llm_prices: dict[str, tuple[Price, Price]] = Field(default_factory=dict)
    """USD per million input and output tokens, per model: finite and not negative."""

    llm_cache_enabled: bool = True
    llm_cache_ttl: int = Field(3600, ge=1)
    llm_cache_ttls: dict[str, int] = Field(default_factory=dict)
    llm_cache_memory_items: int = Field(10_000, ge=1)
    redis_url: str = ""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_group_id: str = "aexy-stream"
    kafka_session_timeout_ms: int = Field(10_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(3_000, ge=100)
    topic_github_activity: str = "github.activity"
    topic_code_changes: str = "code.changes"
    topic_analysis_requests: str = "analysis.requests"
    topic_analysis_results: str = "analysis.results"
    topic_analysis_retry: str = "analysis.retry"
    topic_analysis_dlq: str = "analysis.dlq"
    topic_github_activity_backfill: str = "github.activity.backfill"
    topic_code_changes_backfill: str = "code.changes.backfill"
    topic_partitions: int = Field(4, ge=1)
    topic_replication: int = Field(1, ge=1)
    max_in_flight: int = Field(64, ge=1)
    backfill_max_in_flight: int = Field(16, ge=1)
    max_event_bytes: int = Field(1_000_000, ge=1024)
    retry_backoff_base_s: float = Field(30.0, ge=0)
    retry_max_attempts: int = Field(5, ge=1)
    shutdown_grace_s: float = Field(20.0, ge=0)
    http_host: str = "0.0.0.0"
    http_port: int = Field(8000, ge=0, le=65535)
    bot_pattern: str = DEFAULT_BOT_PATTERN

    github_webhook_secret: SecretStr = SecretStr("")
    github_token: SecretStr = SecretStr("")
    github_api_url: str = "https://api.github.com"
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(8080, ge=0, le=65535)
    webhook_max_body_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    webhook_dedupe_ttl_s: int = Field(3 * 24 * 3600, ge=1)
    backfill_max_patch_bytes: int = Field(256 * 1024, ge=1024)

    predictive_analyses_enabled: bool = True
    pseudonymize_developers: bool = False
    pseudonym_key: SecretStr = SecretStr("")
    risk_analysis_interval: timedelta = timedelta(hours=24)
    activity_window_days: int = Field(28, ge=1, le=365)
    activity_state_ttl_days: int = Field(90, ge=1)

    claude_batch_backfill: bool = False
    claude_batch_max_requests: int = Field(1000, ge=1, le=100_000)
    claude_batch_max_wait_s: float = Field(5.0, ge=0)
    claude_batch_poll_s: float = Field(30.0, gt=0)

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
