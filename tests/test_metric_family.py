"""The plain-number metric families export exactly what prometheus_client's own metrics would."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from gateway.metric_family import CounterFamily, HistogramFamily

BUCKETS = (0.005, 0.1, 1, 2.5)
OBSERVATIONS = (0.0, 0.005, 0.0051, 0.1, 0.7, 1.0, 2.5, 2.6, 1e9, -1.0, float("nan"))
"""Values on, just above and far past the bounds, below the first, and NaN (counted in no bucket)."""


def exposition(registry: CollectorRegistry) -> list[str]:
    """The text format without the `_created` samples (prometheus_client's own metrics add them)."""
    lines = generate_latest(registry).decode().splitlines()
    return [line for line in lines if "_created" not in line]


def test_counter_exports_what_a_prometheus_counter_does() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Counter("jobs", "Jobs done", ("kind", "outcome"), registry=theirs)
    fast = CounterFamily("jobs", "Jobs done", ("kind", "outcome"), registry=ours)
    for kind, outcome, amount in (("a", "ok", 1.0), ("b", "ok", 2.5), ("a", "ok", 3.0), ("a", "error", 1.0)):
        reference.labels(kind, outcome).inc(amount)
        fast.labels(kind, outcome).inc(amount)
    assert exposition(ours) == exposition(theirs)
    assert ours.get_sample_value("jobs_total", {"kind": "a", "outcome": "ok"}) == 4.0


def test_unlabelled_counter_exports_zero_before_its_first_increment() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Counter("aexy_things_total", "Things", registry=theirs)
    fast = CounterFamily("aexy_things_total", "Things", registry=ours)
    assert exposition(ours) == exposition(theirs)
    reference.inc(2)
    fast.inc(2)
    assert exposition(ours) == exposition(theirs)


@pytest.mark.parametrize("labelnames", [(), ("provider",)])
def test_histogram_exports_what_a_prometheus_histogram_does(labelnames: tuple[str, ...]) -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("wait_seconds", "Waits", labelnames, buckets=BUCKETS, registry=theirs)
    fast = HistogramFamily("wait_seconds", "Waits", labelnames, buckets=BUCKETS, registry=ours)
    values = ("claude",) if labelnames else ()
    for amount in OBSERVATIONS:
        reference.labels(*values).observe(amount) if values else reference.observe(amount)
        fast.labels(*values).observe(amount)
    assert exposition(ours) == exposition(theirs)


def test_removed_series_is_no_longer_exported_and_starts_over() -> None:
    registry = CollectorRegistry()
    counter = CounterFamily("lag_events", "Events", ("partition",), registry=registry)
    counter.labels("0").inc(5)
    counter.remove("0")
    assert registry.get_sample_value("lag_events_total", {"partition": "0"}) is None
    counter.labels("0").inc(1)
    assert registry.get_sample_value("lag_events_total", {"partition": "0"}) == 1.0


def test_misuse_is_refused() -> None:
    registry = CollectorRegistry()
    counter = CounterFamily("calls", "Calls", ("provider",), registry=registry)
    with pytest.raises(ValueError, match="takes labels"):
        counter.labels("claude", "extra")
    with pytest.raises(ValueError, match="only go up"):
        counter.labels("claude").inc(-1)
    with pytest.raises(ValueError, match="use labels"):
        counter.inc()
    with pytest.raises(ValueError, match="sorted order"):
        HistogramFamily("waits", "Waits", buckets=(1, 0.5), registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        CounterFamily("calls", "Calls again", ("provider",), registry=registry)
