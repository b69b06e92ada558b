"""Which input partitions the processor pauses while providers cool down, lane by lane, and at the
backfill lane's caps."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from consumers.config import ProcessorConfig
from consumers.metrics import ProcessorMetrics
from consumers.processor import BACKFILL_READ_AHEAD, BACKFILL_UNACKNOWLEDGED, Processor
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

    def cached_many(self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None) -> list[None]:
        return [None] * len(requests)

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


async def test_the_backfill_lane_pauses_at_either_cap_and_resumes_below_half_of_both() -> None:
    """Records finished in the loop, only waiting for the broker's acknowledgement, may be many more
    than those with a task (a replay from the cache must not pause for every round trip)."""
    slots = 4
    config = ProcessorConfig(backfill_in_flight=slots)
    processor = Processor(config, Cooling(live=0, backfill=0), ProcessorMetrics(CollectorRegistry()))
    consumer = Consumer()
    loop = asyncio.get_running_loop()
    acks: list[asyncio.Future[None]] = [loop.create_future() for _ in range(BACKFILL_UNACKNOWLEDGED * slots)]
    tasks = [asyncio.create_task(asyncio.sleep(60)) for _ in range(BACKFILL_READ_AHEAD * slots)]

    def apply() -> set[TopicPartition]:
        processor._apply_backpressure(consumer, stalled=False)  # type: ignore[arg-type]
        return consumer.paused

    try:
        for ack in acks[:-1]:
            processor._count(BACKFILL, ack, 1)
        assert apply() == set()  # far past the tasks' cap, all without a task
        processor._count(BACKFILL, acks[-1], 1)
        assert apply() == {BACKFILL}
        for ack in acks[: len(acks) // 2]:
            processor._count(BACKFILL, ack, -1)
        assert apply() == set()  # at half: resumed
        for ack in acks[len(acks) // 2 :]:
            processor._count(BACKFILL, ack, -1)

        for task in tasks[:-1]:
            processor._count(BACKFILL, task, 1)
        assert apply() == set()
        processor._count(BACKFILL, tasks[-1], 1)
        assert apply() == {BACKFILL}  # the tasks' cap, far below the other
        for task in tasks[: len(tasks) // 2]:
            processor._count(BACKFILL, task, -1)
        assert apply() == set()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
