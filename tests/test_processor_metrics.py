"""The processor's per-partition lag gauge follows the assignment: a revoked partition's series goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from consumers.config import ProcessorConfig
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from schemas.envelope import SourceRef
from schemas.request import AnalysisRequest


class NoGateway:
    """`revoked()` never calls the gateway: any call is a failure."""

    async def analyze(self, request: AnalysisRequest, *, source: SourceRef | None = None) -> Any:
        raise AssertionError("revoked() called the gateway")

    def cached_many(self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None) -> list[None]:
        raise AssertionError("revoked() called the gateway")

    def cooling_down_for(self, priority: str = "live") -> float:
        raise AssertionError("revoked() called the gateway")


def lag(registry: CollectorRegistry, topic: str, partition: int) -> float | None:
    labels = {"topic": topic, "partition": str(partition)}
    return registry.get_sample_value("aexy_stream_consumer_lag", labels)


async def test_a_revoked_partition_stops_exporting_its_lag() -> None:
    registry = CollectorRegistry()
    metrics = ProcessorMetrics(registry)
    processor = Processor(ProcessorConfig(), NoGateway(), metrics)
    metrics.lag.labels("code.changes", "0").set(7)
    metrics.lag.labels("code.changes", "1").set(3)

    # github.activity/2 was never measured (no high watermark yet): nothing to remove, and no error
    await processor.revoked([TopicPartition("code.changes", 0), TopicPartition("github.activity", 2)])

    assert lag(registry, "code.changes", 0) is None
    assert lag(registry, "code.changes", 1) == 3  # still owned
    metrics.lag.labels("code.changes", "0").set(4)  # assigned back later: exported again
    assert lag(registry, "code.changes", 0) == 4
