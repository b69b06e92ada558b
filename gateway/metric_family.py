"""Labelled Prometheus metrics for hot paths.

prometheus_client's `Counter.inc()` and `Histogram.observe()` check the metric, take a lock and (a
histogram) walk its buckets in Python, and the stream processor's cached path makes several of each
per event (figures: bench/README.md). `CounterFamily` and
`HistogramFamily` keep each child's values as plain numbers instead (an increment adds to a float, an
observation bisects the bounds in C) and are themselves the registry's collectors, so names, types and
exposition stay prometheus_client's own, except that they export no `_created` samples. Each process
updates them from its event loop only (its HTTP endpoints run on that loop too), so they take no lock.

`Family` keeps the children of a prometheus_client metric (the gauges) in a dict: its `labels()` also
validates the values and locks on every call. Label values are bounded (providers, analysis types,
outcomes, topics, partitions), so every dict of children is too.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import INF, floatToGoString

M = TypeVar("M", Counter, Gauge, Histogram)
C = TypeVar("C", "CountChild", "HistogramChild")
F = TypeVar("F", CounterMetricFamily, HistogramMetricFamily)


class Family(Generic[M]):
    def __init__(self, metric: M) -> None:
        self.metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def labels(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self.metric.labels(*values)
        return child

    def remove(self, *values: str) -> None:
        """Stop exporting one series (a partition this process no longer owns), and forget its child:
        a later `labels()` must create a new one, since the removed child is no longer exported."""
        self._children.pop(values, None)
        self.metric.remove(*values)


class CountChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters only go up")
        self.value += amount


class HistogramChild:
    __slots__ = ("_bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.sum += amount
        index = bisect_left(self._bounds, amount)  # the first bucket whose bound >= amount
        if amount <= self._bounds[index]:  # False for NaN only: in no bucket, as prometheus_client does
            self.counts[index] += 1


class _Children(Collector, Generic[C, F]):
    """Children by label values, registered as a collector; `labels()` with no names is the one child."""

    def __init__(
        self, name: str, doc: str, labelnames: Sequence[str], registry: CollectorRegistry | None
    ) -> None:
        self.name, self.doc, self.labelnames = name, doc, tuple(labelnames)
        self._children: dict[tuple[str, ...], C] = {}
        if not self.labelnames:
            self._children[()] = self._child()
        if registry is not None:
            registry.register(self)

    def labels(self, *values: str) -> C:
        child = self._children.get(values)
        if child is None:
            if len(values) != len(self.labelnames):
                raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
            child = self._children[values] = self._child()
        return child

    def remove(self, *values: str) -> None:
        self._children.pop(values, None)

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for values, child in list(self._children.items()):
            self._add(family, values, child)
        yield family

    def _unlabelled(self) -> C:
        """The one child of a family without labels, for its `inc()`/`observe()`."""
        if self.labelnames:
            raise ValueError(f"{self.name} has labels {self.labelnames}: use labels(...)")
        return self._children[()]

    def _child(self) -> C:
        raise NotImplementedError

    def _family(self) -> F:
        raise NotImplementedError

    def _add(self, family: F, values: tuple[str, ...], child: C) -> None:
        raise NotImplementedError


class CounterFamily(_Children[CountChild, CounterMetricFamily]):
    def __init__(
        self,
        name: str,
        doc: str,
        labelnames: Sequence[str] = (),
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        super().__init__(name.removesuffix("_total"), doc, labelnames, registry)

    def inc(self, amount: float = 1.0) -> None:
        """The unlabelled counter's increment."""
        self._unlabelled().inc(amount)

    def _child(self) -> CountChild:
        return CountChild()

    def _family(self) -> CounterMetricFamily:
        return CounterMetricFamily(self.name, self.doc, labels=self.labelnames)

    def _add(self, family: CounterMetricFamily, values: tuple[str, ...], child: CountChild) -> None:
        family.add_metric(values, child.value)


class HistogramFamily(_Children[HistogramChild, HistogramMetricFamily]):
    def __init__(
        self,
        name: str,
        doc: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        bounds = [float(b) for b in buckets]
        if bounds != sorted(bounds):
            raise ValueError(f"{name}: buckets not in sorted order")
        self.bounds = tuple(bounds if bounds and bounds[-1] == INF else [*bounds, INF])
        self._le = [floatToGoString(b) for b in self.bounds]  # type: ignore[no-untyped-call]
        super().__init__(name, doc, labelnames, registry)

    def observe(self, amount: float) -> None:
        """The unlabelled histogram's observation."""
        self._unlabelled().observe(amount)

    def _cumulative(self, child: HistogramChild) -> list[tuple[str, float]]:
        return list(zip(self._le, map(float, accumulate(child.counts)), strict=True))

    def _child(self) -> HistogramChild:
        return HistogramChild(self.bounds)

    def _family(self) -> HistogramMetricFamily:
        return HistogramMetricFamily(self.name, self.doc, labels=self.labelnames)

    def _add(self, family: HistogramMetricFamily, values: tuple[str, ...], child: HistogramChild) -> None:
        family.add_metric(values, self._cumulative(child), child.sum)
