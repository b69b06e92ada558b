"""The composition root: settings in, plain configs and wired components out.

Nothing else reads `Settings` (tests/test_composition_root.py). The CLI gets an `App`, built once
from the environment at its entry, and each command asks it for the configs and components it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
from redis.asyncio import BlockingConnectionPool, Redis

from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.settings import PROVIDERS, Settings
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.base import StateStore
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.store.redis import RedisStateStore
from consumers.activity.tracker import PREDICTIVE, Activity, ActivityTracker, NoActivity
from consumers.config import ProcessorConfig, RoutingConfig, Topics
from consumers.identity.config import IdentityConfig
from consumers.identity.links import read_aliases
from consumers.identity.resolver import IdentityResolver
from consumers.identity.store.base import IdentityStore
from consumers.identity.store.memory import MemoryIdentityStore
from consumers.identity.store.redis import RedisIdentityStore
from consumers.size_policy import record_limit
from gateway.cache.base import CacheBackend
from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.cache.redis import RedisCache
from gateway.config import (
    DAY,
    DEFAULT_TTLS,
    BatchConfig,
    BreakerConfig,
    CacheConfig,
    GatewayConfig,
    Price,
    ProviderConfig,
    RateLimitConfig,
    RedactionConfig,
    RetryConfig,
)
from gateway.gateway import Gateway
from gateway.limits.base import Limiter, WindowStore
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.limits.redis import RedisWindowStore
from gateway.metrics import GatewayMetrics, default_metrics
from gateway.pricing import DEFAULT_PRICES
from gateway.providers.base import Provider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai import OpenAIProvider
from gateway.providers.rules import RulesProvider
from gateway.redaction.locality import on_this_machine
from producers.kafka import ProducerConfig
from producers.webhook.config import RECORD_OVERHEAD_BYTES, GitHubApiConfig, WebhookConfig
from schemas.types import AnalysisType


def provider_configs(s: Settings) -> dict[str, ProviderConfig]:
    effort = MappingProxyType({"effort": s.claude_effort} if s.claude_effort else {})
    return {
        "claude": ProviderConfig(
            "claude",
            s.claude_model,
            s.anthropic_base_url,
            s.anthropic_api_key.get_secret_value(),
            s.llm_timeout_s,
            options=effort,
        ),
        "ollama": ProviderConfig(
            "ollama",
            s.ollama_model,
            s.ollama_base_url,
            timeout_s=s.llm_timeout_s,
            keep_alive=s.ollama_keep_alive,
        ),
        "openai": ProviderConfig(
            "openai", s.openai_model, s.openai_base_url, s.openai_api_key.get_secret_value(), s.llm_timeout_s
        ),
        "rules": ProviderConfig("rules", "rules-v1"),
    }


def rate_limits(s: Settings) -> dict[str, RateLimitConfig]:
    budgets = {
        "claude": (s.claude_rpm, s.claude_tpm),
        "ollama": (s.ollama_rpm, s.ollama_tpm),
        "openai": (s.openai_rpm, s.openai_tpm),
        "rules": (0, 0),
    }
    return {
        name: RateLimitConfig(rpm, tpm, s.llm_rate_window_s, s.llm_backfill_share)
        for name, (rpm, tpm) in budgets.items()
    }


def gateway_config(s: Settings, provider: str | None = None) -> GatewayConfig:
    primary = provider or s.llm_provider
    if primary not in PROVIDERS:
        raise ValueError(f"unknown provider {primary!r}; expected one of: {', '.join(PROVIDERS)}")
    chain = tuple(dict.fromkeys((primary, *s.llm_fallback_providers)))
    ttls = {**DEFAULT_TTLS, **{AnalysisType(k): v for k, v in s.llm_cache_ttls.items()}}
    prices = {**DEFAULT_PRICES, **{model: Price(*pair) for model, pair in s.llm_prices.items()}}
    return GatewayConfig(
        chain=chain,
        cache=CacheConfig(
            s.llm_cache_enabled, s.llm_cache_ttl, MappingProxyType(ttls), s.llm_cache_memory_items
        ),
        retry=RetryConfig(
            s.llm_max_retries, s.llm_backoff_factor, s.llm_backoff_initial_s, s.llm_backoff_max_s
        ),
        breaker=BreakerConfig(
            s.llm_breaker_threshold,
            s.llm_breaker_cooldown_s,
            s.llm_breaker_failure_rate,
            s.llm_breaker_window_s,
            s.llm_breaker_probes,
        ),
        prices=MappingProxyType(prices),
        redaction=RedactionConfig(s.redact_local_providers, local_providers(s)),
    )


def local_providers(s: Settings) -> frozenset[str]:
    """The providers that never send content off the machine (`gateway.redaction.locality`)."""
    return frozenset(name for name, config in provider_configs(s).items() if on_this_machine(config))


def build_provider(config: ProviderConfig, http: httpx.AsyncClient | None = None) -> Provider:
    if config.name == "claude":
        # Imported here, as the Message Batches modules below: the `anthropic` SDK is most of every
        # command's start-up (python -X importtime), and other providers never need it.
        from gateway.providers.claude import ClaudeProvider  # noqa: PLC0415

        return ClaudeProvider(config)
    if config.name == "ollama":
        return OllamaProvider(config, http_client=http)
    if config.name == "openai":
        return OpenAIProvider(config, http_client=http)
    return RulesProvider()


def build_cache(config: CacheConfig, redis: Redis | None, metrics: GatewayMetrics) -> LayeredCache:
    if not config.enabled:
        return LayeredCache((), metrics.record_cache)
    tiers: list[CacheBackend] = [MemoryCache(config.memory_max_items)]
    if redis is not None:
        tiers.append(
            RedisCache(
                redis,
                prefix=config.key_prefix,
                retry_after_s=config.redis_retry_after_s,
                on_error=metrics.record_cache_error,
            )
        )
    return LayeredCache(tiers, metrics.record_cache)


def build_limiters(
    s: Settings, redis: Redis | None, names: tuple[str, ...], metrics: GatewayMetrics
) -> dict[str, Limiter]:
    store: WindowStore = (
        RedisWindowStore(redis, on_error=metrics.record_cache_error)
        if redis is not None
        else MemoryWindowStore()
    )
    limits = rate_limits(s)
    return {name: BudgetLimiter(name, limits[name], store) for name in names}


REDIS_MAX_CONNECTIONS = 128
REDIS_POOL_WAIT_S = 2.0


def redis_client(s: Settings) -> Redis | None:
    """A client whose pool waits for a free connection (up to REDIS_POOL_WAIT_S) when all are in
    use, instead of failing at once as redis-py's default pool does past its 100 connections."""
    if not s.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        s.redis_url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=REDIS_POOL_WAIT_S,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
    )
    return Redis.from_pool(pool)


def gateway_parts(
    settings: Settings,
    redis: Redis | None,
    provider: str | None = None,
    metrics: GatewayMetrics | None = None,
) -> dict[str, Any]:
    """Keyword arguments of `Gateway(...)` built from settings."""
    config = gateway_config(settings, provider)
    metrics = metrics or default_metrics()
    configs = provider_configs(settings)
    providers = {name: build_provider(configs[name]) for name in config.chain}
    limiters = build_limiters(settings, redis, config.chain, metrics)
    if settings.claude_batch_backfill and "claude" in providers:
        providers["claude"], limiters["claude"] = claude_batch_backfill(
            settings, configs["claude"], providers["claude"], limiters["claude"]
        )
    return {
        "config": config,
        "providers": providers,
        "cache": build_cache(config.cache, redis, metrics),
        "limiters": limiters,
        "metrics": metrics,
    }


def claude_batch_backfill(
    s: Settings, config: ProviderConfig, live: Provider, limiter: Limiter
) -> tuple[Provider, Limiter]:
    """`CLAUDE_BATCH_BACKFILL`: Claude backfill calls go through Message Batches (half price).

    Live calls keep the direct provider and `CLAUDE_RPM`/`CLAUDE_TPM`; batched calls are not
    metered by those Messages API budgets (see `gateway.batches.routing`).
    """
    from gateway.batches import (  # noqa: PLC0415 - imported here: see build_provider
        BatchedBackfillLimiter,
        BatchingClaudeProvider,
        PriorityRoutingProvider,
    )

    batching = BatchingClaudeProvider(config, batch_config(s))
    return PriorityRoutingProvider(live, batching), BatchedBackfillLimiter(limiter)


def batch_config(s: Settings) -> BatchConfig:
    return BatchConfig(s.claude_batch_max_requests, s.claude_batch_max_wait_s, s.claude_batch_poll_s)


def environment() -> Settings:
    """The settings of this process, read from the environment (and `.env`): the one place that does;
    raises pydantic's ValidationError (or SettingsError) for a bad setting."""
    return Settings()


class LLMGateway(Gateway):
    """The gateway built from the environment: `LLMGateway(provider="ollama")` switches provider."""

    def __init__(
        self,
        provider: str | None = None,
        settings: Settings | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        settings = settings or environment()
        self._redis = redis_client(settings)
        super().__init__(**gateway_parts(settings, self._redis, provider, metrics))

    @property
    def redis(self) -> Redis | None:
        """The process's Redis client (None without REDIS_URL), closed with the gateway: the
        activity state shares it rather than opening a second pool to the same server."""
        return self._redis

    async def aclose(self) -> None:
        await super().aclose()
        if self._redis is not None:
            await self._redis.aclose()


def topics(s: Settings) -> Topics:
    return Topics(
        activity=s.topic_github_activity,
        code_changes=s.topic_code_changes,
        requests=s.topic_analysis_requests,
        results=s.topic_analysis_results,
        retry=s.topic_analysis_retry,
        dlq=s.topic_analysis_dlq,
        backfill_activity=s.topic_github_activity_backfill,
        backfill_code_changes=s.topic_code_changes_backfill,
        partitions=s.topic_partitions,
        replication=s.topic_replication,
        max_message_bytes=record_limit(s.max_event_bytes),
        results_per_type=s.results_topic_per_type,
    )


def activity_config(s: Settings) -> ActivityConfig:
    return ActivityConfig(
        window_days=s.activity_window_days,
        interval_s=s.risk_analysis_interval.total_seconds(),
        state_ttl_s=s.activity_state_ttl_days * DAY,
    )


def pseudonyms(s: Settings) -> Pseudonyms:
    return Pseudonyms(s.pseudonym_key.get_secret_value() if s.pseudonymize_developers else "")


def identity_config(s: Settings) -> IdentityConfig:
    return IdentityConfig(match_by_name=s.identity_match_by_name, aliases_path=s.identity_aliases)


def build_identities(s: Settings, redis: Redis | None, on_error: Callable[[], None]) -> IdentityResolver:
    """Identity resolution: links in Redis when configured (shared by the group), else in memory;
    they expire with the activity state (ACTIVITY_STATE_TTL_DAYS)."""
    config, ttl_s = identity_config(s), activity_config(s).state_ttl_s
    store: IdentityStore = (
        RedisIdentityStore(redis, ttl_s) if redis is not None else MemoryIdentityStore(ttl_s)
    )
    aliases = read_aliases(Path(config.aliases_path)) if config.aliases_path else {}
    return IdentityResolver(store, config, pseudonyms(s), aliases, on_error)


def build_activity(
    s: Settings,
    redis: Redis | None,
    on_error: Callable[[], None],
    identities: IdentityResolver,
) -> Activity:
    """The activity state: in Redis when configured (shared by the group), else in memory; keyed by
    the canonical ids of `identities` (the processor's resolver, which learns the links)."""
    if not s.predictive_analyses_enabled and not s.pseudonymize_developers:
        return NoActivity(drop=PREDICTIVE)
    config = activity_config(s)
    store: StateStore = (
        RedisStateStore(redis, config.state_ttl_s)
        if redis is not None
        else MemoryStateStore(config.state_ttl_s)
    )
    return ActivityTracker(
        store,
        config,
        pseudonyms(s),
        predictive=s.predictive_analyses_enabled,
        on_error=on_error,
        identities=identities,
    )


def backfill_in_flight(s: Settings) -> int:
    """With Claude batches, a batch holds as many backfill calls as may wait at once: let it fill."""
    batching = s.claude_batch_backfill and "claude" in (s.llm_provider, *s.llm_fallback_providers)
    if not batching:
        return s.backfill_max_in_flight
    return max(s.backfill_max_in_flight, s.claude_batch_max_requests)


def processor_config(s: Settings) -> ProcessorConfig:
    return ProcessorConfig(
        bootstrap_servers=s.kafka_bootstrap_servers,
        group_id=s.kafka_group_id,
        topics=topics(s),
        routing=RoutingConfig(
            bot_pattern=s.bot_pattern,
            skip_paths=s.skip_paths,
            max_input_tokens=s.llm_max_input_tokens,
            fuse_code_analyses=s.fused_code_analyses,
        ),
        max_in_flight=s.max_in_flight,
        backfill_in_flight=backfill_in_flight(s),
        max_event_bytes=s.max_event_bytes,
        retry_backoff_base_s=s.retry_backoff_base_s,
        retry_max_attempts=s.retry_max_attempts,
        shutdown_grace_s=s.shutdown_grace_s,
        session_timeout_ms=s.kafka_session_timeout_ms,
        heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
        http_host=s.http_host,
        http_port=s.http_port,
    )


def webhook_config(s: Settings, *, insecure_no_signature: bool = False) -> WebhookConfig:
    """The webhook receiver's config; raises ValueError without a secret unless insecure is asked for."""
    return WebhookConfig(
        producer=producer_config(s, "aexy-stream-webhook"),  # bodies and code changes: MAX_EVENT_BYTES
        secret=s.github_webhook_secret.get_secret_value(),
        insecure_no_signature=insecure_no_signature,
        activity_topic=s.topic_github_activity,
        code_changes_topic=s.topic_code_changes,
        max_body_bytes=s.webhook_max_body_bytes or s.max_event_bytes,
        max_event_bytes=s.max_event_bytes,
        dedupe_ttl_s=s.webhook_dedupe_ttl_s,
        github=GitHubApiConfig(token=s.github_token.get_secret_value(), api_url=s.github_api_url),
        host=s.webhook_host,
        port=s.webhook_port,
    )


def dashboard_config(s: Settings) -> DashboardConfig:
    return DashboardConfig(
        bootstrap_servers=s.kafka_bootstrap_servers,
        topic=s.topic_analysis_results,
        host=s.dashboard_host,
        port=s.dashboard_port,
        token=s.dashboard_token.get_secret_value(),
        hide_risks=s.dashboard_hide_risks,
    )


def producer_config(
    s: Settings,
    client_id: str,
    *,
    largest_record: int | None = None,
    linger_ms: int = 0,
    bootstrap_servers: str | None = None,
) -> ProducerConfig:
    """Every producer of the process: room for its largest record (MAX_EVENT_BYTES unless told) and
    the framing around it; the settings' Kafka unless told (the demo's own broker)."""
    largest = s.max_event_bytes if largest_record is None else largest_record
    return ProducerConfig(
        bootstrap_servers or s.kafka_bootstrap_servers,
        client_id=client_id,
        max_request_size=largest + RECORD_OVERHEAD_BYTES,
        linger_ms=linger_ms,
    )


class App:
    """What the CLI commands are built from: the settings, composed into plain configs and wired
    components on request. Built once at the command line's entry (`App.from_environment()`); the
    settings stay inside, so a command depends only on the configs and components it asks for."""

    __slots__ = ("_settings",)

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @classmethod
    def from_environment(cls) -> App:
        return cls(environment())

    def with_provider(self, name: str, fallbacks: tuple[str, ...] = ()) -> App:
        """The same composition with another provider chain (the demo chooses one at run time)."""
        if name not in PROVIDERS or not set(fallbacks) <= set(PROVIDERS):
            raise ValueError(f"unknown provider in {(name, *fallbacks)}; expected: {', '.join(PROVIDERS)}")
        update = {"llm_provider": name, "llm_fallback_providers": fallbacks}
        return App(self._settings.model_copy(update=update))

    def with_topic_suffix(self, suffix: str) -> App:
        """The same composition with `.suffix` on every topic's name (the demo on a broker it shares)."""
        names = {field: getattr(self._settings, field) for field in type(self._settings).model_fields}
        update = {
            f: f"{name}.{suffix}"
            for f, name in names.items()
            if f.startswith("topic_") and isinstance(name, str)
        }
        return App(self._settings.model_copy(update=update))

    @property
    def processor(self) -> ProcessorConfig:
        """The stream processor's config; its `topics` name every topic of the pipeline."""
        return processor_config(self._settings)

    @property
    def providers(self) -> dict[str, ProviderConfig]:
        """Every provider's config, whether or not the chain uses it."""
        return provider_configs(self._settings)

    @property
    def redis_url(self) -> str:
        """REDIS_URL ("" = none: cache, limits and state in process memory)."""
        return self._settings.redis_url

    @property
    def cache(self) -> CacheConfig:
        """The LLM cache's config (LLM_CACHE_ENABLED, LLM_CACHE_TTL, LLM_CACHE_TTLS, ...): the
        gateway's, for `aexy_stream.llm.AnalysisCache`."""
        return gateway_config(self._settings).cache

    @property
    def max_patch_bytes(self) -> int:
        """Of a backfilled commit's file (`GitRange.max_patch_bytes`)."""
        return self._settings.backfill_max_patch_bytes

    def gateway(self, provider: str | None = None, metrics: GatewayMetrics | None = None) -> LLMGateway:
        """The gateway of the chain (`provider` first instead of LLM_PROVIDER); ValueError for a
        provider that does not exist."""
        return LLMGateway(provider, self._settings, metrics)

    def identities(self, redis: Redis | None, on_error: Callable[[], None]) -> IdentityResolver:
        return build_identities(self._settings, redis, on_error)

    def activity(
        self, redis: Redis | None, on_error: Callable[[], None], identities: IdentityResolver
    ) -> Activity:
        return build_activity(self._settings, redis, on_error, identities)

    def redis(self) -> Redis | None:
        """A new Redis client (None without REDIS_URL), for a command without a gateway to share one."""
        return redis_client(self._settings)

    @property
    def dashboard(self) -> DashboardConfig:
        """The dashboard's config: where to read results, where to listen, who may look."""
        return dashboard_config(self._settings)

    def webhook(self, *, insecure_no_signature: bool = False) -> WebhookConfig:
        """The webhook receiver's config: ValueError without GITHUB_WEBHOOK_SECRET unless insecure."""
        return webhook_config(self._settings, insecure_no_signature=insecure_no_signature)

    def producer(
        self, client_id: str, *, linger_ms: int = 0, bootstrap_servers: str | None = None
    ) -> ProducerConfig:
        return producer_config(
            self._settings, client_id, linger_ms=linger_ms, bootstrap_servers=bootstrap_servers
        )
