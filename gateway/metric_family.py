"""Labelled Prometheus metrics whose children are looked up once per label values.

`prometheus_client`'s `labels()` validates the values and takes a lock on every call (about
2 µs); the processor asks for some twenty children per event. A `Family` keeps the children it
has handed out in a dict, so a repeated lookup is one dict access. Label values are bounded
(providers, analysis types, outcomes, topics), so the dict is too.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from prometheus_client import Counter, Gauge, Histogram

M = TypeVar("M", Counter, Gauge, Histogram)


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
