"""Prometheus metrics of the gateway. Pass a `CollectorRegistry` to isolate them (tests)."""

from __future__ import annotations

from functools import cache

from prometheus_client import REGISTRY, CollectorRegistry

from gateway.metric_family import CountChild, CounterFamily, HistogramChild, HistogramFamily

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80)
OVERHEAD_BUCKETS = (5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 5e-2)


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> CounterFamily:
            return CounterFamily(name, doc, labels, registry=registry)

        self.requests = counter(
            "aexy_llm_requests",
            "Analyses by provider, type and outcome",
            ("provider", "analysis_type", "outcome"),
        )
        self.tokens = counter("aexy_llm_tokens", "Tokens consumed", ("provider", "direction"))
        self.prompt_cache_tokens = counter(
            "aexy_llm_prompt_cache_tokens",
            "Input tokens read from (read) or written to (write) the provider's prompt cache",
            ("provider", "model", "operation"),
        )
        self.cache = counter("aexy_llm_cache_lookups", "Cache lookups per tier", ("tier", "result"))
        self.cache_errors = counter("aexy_llm_cache_errors", "Cache backend errors", ("tier",))
        self.errors = counter("aexy_llm_errors", "Provider call errors by type", ("provider", "error_type"))
        self.retries = counter("aexy_llm_retries", "In-process retries", ("provider",))
        self.fallbacks = counter(
            "aexy_llm_fallbacks", "Providers skipped or failed over", ("provider", "reason")
        )
        self.coalesced = counter("aexy_llm_coalesced", "Requests that joined an identical call in flight", ())
        self.fused_calls_saved = counter(
            "aexy_llm_fused_calls_saved",
            "Provider calls saved by fusing analyses of the same material",
            ("provider",),
        )
        self.redactions = counter(
            "aexy_llm_redactions", "Secrets replaced in requests sent to a provider, per kind", ("kind",)
        )
        self.cost = counter("aexy_llm_cost_usd", "Cost in USD", ("provider", "model"))
        self.latency = HistogramFamily(
            "aexy_llm_latency_seconds",
            "End-to-end analysis latency",
            ("provider", "analysis_type"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.overhead = HistogramFamily(
            "aexy_llm_gateway_overhead_seconds",
            "Time spent in the gateway outside provider calls and deliberate waits",
            buckets=OVERHEAD_BUCKETS,
            registry=registry,
        )
        self.limiter_wait = HistogramFamily(
            "aexy_llm_limiter_wait_seconds",
            "Time waiting for rate budget",
            ("provider",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._analyses: dict[tuple[str, str, str], tuple[CountChild, HistogramChild]] = {}

    def analyses(self, provider: str, analysis_type: str, outcome: str) -> tuple[CountChild, HistogramChild]:
        """The request counter and the latency histogram of one kind of analysis, looked up once."""
        key = (provider, analysis_type, outcome)
        bound = self._analyses.get(key)
        if bound is None:
            counter, latency = self.requests.labels(*key), self.latency.labels(provider, analysis_type)
            bound = self._analyses[key] = (counter, latency)
        return bound

    def record_cache(self, tier: str, hit: bool) -> None:
        self.cache.labels(tier, "hit" if hit else "miss").inc()

    def record_cache_error(self, tier: str) -> None:
        self.cache_errors.labels(tier).inc()


@cache
def default_metrics() -> GatewayMetrics:
    """The process-wide metrics on the default registry (created once)."""
    return GatewayMetrics()
