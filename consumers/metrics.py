"""Prometheus metrics of the stream processor (prefix `aexy_stream_`)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

E2E_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


class ProcessorMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry
        self.events_in = Counter(
            "aexy_stream_events_in", "Records read per topic", ("topic",), registry=registry
        )
        self.events_out = Counter(
            "aexy_stream_events_out", "Records written per topic", ("topic",), registry=registry
        )
        self.skipped = Counter(
            "aexy_stream_events_skipped", "Events with no analyses", ("reason",), registry=registry
        )
        self.routed = Counter(
            "aexy_stream_routed_requests", "Requests routed", ("analysis_type",), registry=registry
        )
        self.redactions = Counter(
            "aexy_stream_redactions", "Secrets redacted from content", (), registry=registry
        )
        self.retries = Counter("aexy_stream_retries", "Requests parked on the retry topic", ("error_type",),
                               registry=registry)  # fmt: skip
        self.dead_letters = Counter("aexy_stream_dead_letters", "Records dead-lettered", ("error_type",),
                                    registry=registry)  # fmt: skip
        self.in_flight = Gauge("aexy_stream_in_flight_calls", "Gateway calls in flight", registry=registry)
        self.pending = Gauge(
            "aexy_stream_pending_records", "Input records read and not finished", registry=registry
        )
        self.lag = Gauge("aexy_stream_consumer_lag", "Records behind the end of each partition",
                         ("topic", "partition"), registry=registry)  # fmt: skip
        self.paused = Gauge(
            "aexy_stream_paused", "1 while fetching is paused for backpressure", registry=registry
        )
        self.e2e = Histogram("aexy_stream_end_to_end_seconds", "From event time to published result",
                             buckets=E2E_BUCKETS, registry=registry)  # fmt: skip
