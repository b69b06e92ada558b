"""Records finished in the poll loop: every answer in memory and no activity state means no task."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from consumers import headers as h
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.tracker import Activity, ActivityTracker, NoActivity
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from consumers.handler import RecordHandler
from consumers.metrics import ProcessorMetrics
from consumers.publish import Publisher
from consumers.retry_policy import RetryPolicy
from consumers.routing import route_code_change
from gateway.gateway import Gateway
from schemas.events import parse_code_change
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.pipeline.test_lifecycle import committed
from tests.plugins.kafka import KafkaBroker, consume_all, produce


def record(topic: str, value: bytes, offset: int = 0, headers: tuple[tuple[str, bytes], ...] = ()) -> Any:
    return ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, 0, len(value), headers)


async def handler(
    producer: AIOKafkaProducer, topics: Topics, gateway: Gateway, activity: Activity | None = None
) -> RecordHandler:
    publisher = Publisher(producer, topics)
    await publisher.start()
    decoder = Decoder(topics, RoutingConfig(), 1_000_000)
    metrics = ProcessorMetrics(CollectorRegistry())
    return RecordHandler(gateway, publisher, decoder, RetryPolicy(0.2, 3), metrics, 8, activity=activity)


async def warmed(sim: SimulatorHandle, *commits: bytes) -> Gateway:
    """A gateway whose memory holds every answer these commits ask for."""
    gateway = claude_gateway(sim)
    for value in commits:
        for request in route_code_change(parse_code_change(value), RoutingConfig()).requests:
            await gateway.analyze(request)
    return gateway


async def test_a_commit_answered_from_memory_is_finished_without_a_task(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer, sim: SimulatorHandle
) -> None:
    value = commit_event()
    gateway = await warmed(sim, value)
    calls = sim.stats()["total"]
    work = await handler(producer, topics, gateway)
    started = work.take(record(topics.code_changes, value, offset=7))
    assert isinstance(started, asyncio.Future)  # the acknowledgement itself: no coroutine, no task
    await asyncio.wait_for(started, 10)
    results = await consume_all(kafka.bootstrap_servers, topics.results, 3)
    envelopes = [orjson.loads(r.value) for r in results]
    assert sorted(e["analysis_type"] for e in envelopes) == [
        "code_complexity",
        "code_quality",
        "skill_extraction",
    ]
    assert all(e["cache_hit"] and e["source"]["offset"] == 7 for e in envelopes)
    assert sim.stats()["total"] == calls
    await gateway.aclose()


async def test_a_call_to_make_the_activity_state_or_a_retry_not_due_gets_a_task(
    producer: AIOKafkaProducer, topics: Topics, sim: SimulatorHandle
) -> None:
    cached, fresh = commit_event(), commit_event()
    gateway = await warmed(sim, cached)
    tracker = ActivityTracker(MemoryStateStore(3600), ActivityConfig(), Pseudonyms(""))
    retry = AnalysisRequest(
        analysis_type=AnalysisType.CODE_QUALITY, content="x = 1", request_id=uuid.uuid4().hex
    )
    not_due = ((h.ATTEMPT, b"1"), (h.DUE_AT, str(2**45).encode()))  # the year 3084
    cases: list[tuple[Activity, Any]] = [
        (NoActivity(), record(topics.code_changes, fresh)),  # not in memory: calls to make
        (tracker, record(topics.code_changes, cached)),  # in memory, but the state counts it
        (NoActivity(), record(topics.retry, retry.model_dump_json().encode(), headers=not_due)),
    ]
    for activity, rec in cases:
        started = (await handler(producer, topics, gateway, activity)).take(rec)
        assert not isinstance(started, asyncio.Future), rec.topic
        started.close()  # never started
    await gateway.aclose()


async def test_a_replay_with_a_warm_cache_is_committed_to_the_end(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """The same commit read 30 times (a replay): 90 results, 1 call (its three analyses fused),
    every offset committed."""
    value = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [value] * 30)
    gateway = claude_gateway(sim)
    config = processor_config(kafka.bootstrap_servers, topics)
    async with running(config, gateway):
        results = await consume_all(kafka.bootstrap_servers, topics.results, 90, 30)
    await gateway.aclose()
    assert len(results) == 90
    sources = [orjson.loads(r.value)["source"] for r in results]
    assert len({(source["partition"], source["offset"]) for source in sources}) == 30  # 3 results each
    assert sim.stats()["total"] == 1
    assert await committed(kafka, config.group_id, topics.code_changes, topics.partitions) == 30


async def test_a_record_nothing_downstream_can_take_is_dead_lettered_not_left_unfinished(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer, sim: SimulatorHandle
) -> None:
    """2**64 additions pass validation, but no JSON writer here takes the number (cache key)."""
    value = commit_event().replace(b'"additions":3', b'"additions":%d' % 2**64)
    assert b"18446744073709551616" in value
    gateway = claude_gateway(sim)
    started = (await handler(producer, topics, gateway)).take(record(topics.code_changes, value, offset=3))
    assert not isinstance(started, asyncio.Future)
    await asyncio.wait_for(asyncio.ensure_future(started), 10)
    (dead,) = await consume_all(kafka.bootstrap_servers, topics.dlq, 1)
    meta = dict(dead.headers)
    assert dead.value == value
    assert meta[h.ERROR_TYPE] == b"TypeError" and b"could not be processed" in meta[h.DLQ_REASON]
    assert meta[h.ORIGINAL_OFFSET] == b"3"
    await gateway.aclose()
