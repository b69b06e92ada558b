"""Prometheus metrics of the stream processor (prefix `aexy_stream_`)."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Gauge

from gateway.metric_family import CounterFamily, Family, HistogramFamily

E2E_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)


class ProcessorMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.registry = registry

        def counter(name: str, doc: str, *labels: str) -> CounterFamily:
            return CounterFamily(f"aexy_stream_{name}", doc, labels, registry=registry)

        def gauge(name: str, doc: str) -> Gauge:
            return Gauge(f"aexy_stream_{name}", doc, registry=registry)

        self.events_in = counter("events_in", "Records read per topic", "topic")
        self.events_out = counter("events_out", "Records written per topic", "topic")
        self.skipped = counter("events_skipped", "Events with no analyses", "reason")
        self.files_skipped = counter("files_skipped", "Files of commits left out of analysis", "reason")
        self.routed = counter("routed_requests", "Requests routed", "analysis_type")
        self.retries = counter("retries", "Records parked on the retry topic", "error_type")
        self.dead_letters = counter("dead_letters", "Records dead-lettered", "error_type")
        self.activity_errors = counter("activity_state_errors", "Activity state updates skipped (store down)")
        self.in_flight = gauge("in_flight_calls", "Gateway calls in flight")
        self.pending = gauge("pending_records", "Input records read and not finished")
        self.lag = Family(
            Gauge(
                "aexy_stream_consumer_lag",
                "Records of each partition not done: its end offset minus the offset committed "
                "(the lowest unfinished, else one past the last read)",
                ("topic", "partition"),
                registry=registry,
            )
        )
        self.oldest_unfinished = Family(
            Gauge(
                "aexy_stream_oldest_unfinished_age_seconds",
                "Age of the oldest record read and not finished, per partition (its commits wait for it)",
                ("topic", "partition"),
                registry=registry,
            )
        )
        self.paused = gauge("paused", "1 while fetching is paused for backpressure")
        self.e2e = HistogramFamily(
            "aexy_stream_end_to_end_seconds",
            "From event time to published result",
            buckets=E2E_BUCKETS,
            registry=registry,
        )
