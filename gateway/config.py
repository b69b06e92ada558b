"""Plain, frozen configuration values handed to gateway components.

Only the composition root (`aexy_stream.settings` + `aexy_stream.compose`) reads the environment;
everything in `gateway/` receives these objects and never looks at settings itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from schemas.types import AnalysisType

DAY = 24 * 3600


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    model: str
    base_url: str = ""
    api_key: str = field(default="", repr=False)
    timeout_s: float = 60.0
    keep_alive: str = "5m"
    options: MappingProxyType[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Budgets per provider; 0 means unlimited."""

    requests_per_window: int = 0
    tokens_per_window: int = 0
    window_s: float = 60.0
    backfill_share: float = 0.2


DEFAULT_TTLS: MappingProxyType[AnalysisType, int] = MappingProxyType(
    {
        AnalysisType.CODE_QUALITY: DAY,
        AnalysisType.SKILL_EXTRACTION: 7 * DAY,
        AnalysisType.ATTRITION_RISK: 3600,
        AnalysisType.TEAM_HEALTH: 3600,
    }
)


@dataclass(frozen=True, slots=True)
class CacheConfig:
    enabled: bool = True
    default_ttl_s: int = 3600
    ttls: MappingProxyType[AnalysisType, int] = field(default_factory=lambda: DEFAULT_TTLS)
    memory_max_items: int = 10_000
    redis_retry_after_s: float = 5.0
    key_prefix: str = "aexy:llm:"

    def ttl_for(self, analysis_type: AnalysisType) -> int:
        return self.ttls.get(analysis_type, self.default_ttl_s)


@dataclass(frozen=True, slots=True)
class RetryConfig:
    max_retries: int = 3
    backoff_factor: float = 2.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    jitter_s: float = 1.0


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """When a provider's circuit opens (`gateway/resilience/breaker.py`): `failure_rate` of at
    least `failure_threshold` calls in the last `window_s` seconds failed."""

    failure_threshold: int = 20
    """Calls in the window before its failure rate counts (all of them failing: that many failures)."""
    cooldown_s: float = 30.0
    failure_rate: float = 0.5
    window_s: float = 10.0
    probes: int = 3
    """Calls let through at once when half-open; the first success closes the circuit."""


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """Claude Message Batches for backfill calls (`CLAUDE_BATCH_*`).

    A batch is submitted at `max_requests` calls or `max_wait_s` after its first call, then polled
    every `poll_s`. A call waits at most `deadline_s` for its batch to end (the API ends every batch
    within 24 hours, expiring what it did not process); the HTTP requests themselves keep the
    provider's `timeout_s`.
    """

    max_requests: int = 1000
    max_wait_s: float = 5.0
    poll_s: float = 30.0
    deadline_s: float = 25 * 3600.0


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. Without prompt-cache prices of its own, a price gets Anthropic's
    multiples of its input price (`gateway.pricing`)."""

    input_per_mtok: float
    output_per_mtok: float
    cache_write_per_mtok: float | None = None
    cache_read_per_mtok: float | None = None


@dataclass(frozen=True, slots=True)
class RedactionConfig:
    """Secrets are replaced in everything sent to a provider (`gateway/redaction/`)."""

    redact_local_providers: bool = True
    """False (`REDACT_LOCAL_PROVIDERS`): providers in `local_providers` get content as it is."""
    local_providers: frozenset[str] = frozenset()
    """The configured providers that never send content off the machine (`gateway.redaction.locality`:
    `rules`, a model server on a loopback address; never Claude)."""

    @property
    def unredacted(self) -> frozenset[str]:
        return frozenset() if self.redact_local_providers else self.local_providers


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    chain: tuple[str, ...]
    cache: CacheConfig = field(default_factory=CacheConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    prices: MappingProxyType[str, Price] = field(default_factory=lambda: MappingProxyType({}))
    redaction: RedactionConfig = field(default_factory=RedactionConfig)
