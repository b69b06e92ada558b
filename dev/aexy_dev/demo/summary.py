"""The demo's closing summary, from the processor's and the gateway's metrics registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from aexy_dev.demo.totals import total


@dataclass(frozen=True, slots=True)
class Summary:
    events: int
    """Input records the processor read (of those published)."""
    skipped: int
    results: int
    dead_letters: int
    parked: int
    cache_hits: int
    analyses: int
    tokens_in: int
    tokens_out: int
    cost_usd: float
    calls_saved: int
    """Provider calls saved by fusing the analyses of the same material into one call."""

    @classmethod
    def of(cls, registry: CollectorRegistry, inputs: Mapping[str, int]) -> Summary:
        def count(name: str, **labels: str) -> int:
            return int(total(registry, name, **labels))

        return cls(
            events=sum(count("aexy_stream_events_in_total", topic=topic) for topic in inputs),
            skipped=count("aexy_stream_events_skipped_total"),
            results=count("aexy_stream_events_out_total", topic="results"),
            dead_letters=count("aexy_stream_dead_letters_total"),
            parked=count("aexy_stream_retries_total"),
            cache_hits=count("aexy_llm_requests_total", outcome="cache_hit"),
            analyses=count("aexy_llm_requests_total", outcome="cache_hit")
            + count("aexy_llm_requests_total", outcome="ok"),
            tokens_in=count("aexy_llm_tokens_total", direction="input"),
            tokens_out=count("aexy_llm_tokens_total", direction="output"),
            cost_usd=total(registry, "aexy_llm_cost_usd_total"),
            calls_saved=count("aexy_llm_fused_calls_saved_total"),
        )

    @property
    def cache_hit_rate(self) -> str:
        if not self.analyses:
            return "n/a"
        return f"{self.cache_hits / self.analyses:.0%} ({self.cache_hits}/{self.analyses})"

    def line(self, published: int, seconds: float, interrupted: bool) -> str:
        how = "interrupted after" if interrupted else "done in"
        return (
            f"summary: {how} {seconds:.1f} s: {self.events} of {published} events read "
            f"({self.skipped} asked for no analysis), {self.results} results, "
            f"{self.dead_letters} dead letters, {self.parked} parked for retry, "
            f"cache hit rate {self.cache_hit_rate}, tokens {self.tokens_in + self.tokens_out} "
            f"({self.tokens_in} in, {self.tokens_out} out), cost ${self.cost_usd:.4f}, "
            f"{self.calls_saved} provider calls saved by fusing analyses"
        )
