"""Reading totals out of a Prometheus registry (the demo's completion check and summary)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry


def total(registry: CollectorRegistry, name: str, **labels: str) -> float:
    """The sum of every sample named `name` whose labels include `labels` (0 when there is none)."""
    wanted = labels.items()
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name and wanted <= sample.labels.items()
    )
