"""Which input partitions the processor pauses while providers cool down, lane by lane."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from consumers.config import ProcessorConfig
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from schemas.envelope import SourceRef
from schemas.request import AnalysisRequest

LIVE = TopicPartition("code.changes", 0)
BACKFILL = TopicPartition("code.changes.backfill", 0)
RETRY = TopicPartition("analysis.retry", 0)


class Cooling:
    """A gateway whose circuits are open for some lanes (seconds left per priority)."""

    def __init__(self, live: float, backfill: float) -> None:
        self._left = {"live": live, "backfill": backfill}

    async def analyze(self, request: AnalysisRequest, *, source: SourceRef | None = None) -> Any:
        raise AssertionError("no call expected")

    def cached(self, request: AnalysisRequest, source: SourceRef | None = None) -> None:
        return None

    def cooling_down_for(self, priority: str = "live") -> float:
        return self._left[priority]


class Consumer:
    def __init__(self) -> None:
        self.paused: set[TopicPartition] = set()

    def assignment(self) -> set[TopicPartition]:
        return {LIVE, BACKFILL, RETRY}

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused |= set(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused -= set(partitions)


def paused_with(gateway: Cooling) -> set[TopicPartition]:
    processor = Processor(ProcessorConfig(), gateway, ProcessorMetrics(CollectorRegistry()))
    consumer = Consumer()
    processor._apply_backpressure(consumer, stalled=False)  # type: ignore[arg-type]
    return consumer.paused


def test_nothing_pauses_while_every_lane_has_a_provider() -> None:
    assert paused_with(Cooling(live=0, backfill=0)) == set()


def test_a_live_outage_pauses_the_live_inputs_but_not_a_backfill_with_its_own_circuit() -> None:
    assert paused_with(Cooling(live=30, backfill=0)) == {LIVE}


def test_an_open_batch_circuit_pauses_only_the_backfill_lane() -> None:
    assert paused_with(Cooling(live=0, backfill=60)) == {BACKFILL}
