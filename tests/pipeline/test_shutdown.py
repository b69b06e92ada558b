"""Stopping the processor: bounded whatever the broker's state, and no call started once it stops."""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
import uuid
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry

from aexy_dev.broker.kafka import ApacheKafka
from aexy_dev.simulator import SimulatorConfig, running_simulator
from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.decode import retried_requests
from consumers.metrics import ProcessorMetrics
from consumers.processor import STOP_BUDGET_S
from consumers.routing import route_code_change
from consumers.topics import ensure_topics
from schemas.events import parse_code_change
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.pipeline.test_lifecycle import (
    ProcessorProcess,
    environment,
    in_flight,
    outcomes,
    publish_commits,
    read_all,
)
from tests.plugins.kafka import KafkaBroker, produce, unique_topics

GRACE_S = 2.0


@pytest.mark.slow  # several seconds: run in CI and by `make test-all`
async def test_a_stop_starts_no_new_call_and_parks_what_did_not_start(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """4 call slots, 1 s calls, 30 requests waiting: at stop only the 4 calls out may reach the provider."""
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=1000)) as sim:
        commits = [commit_event(sha=uuid.uuid4().hex + "0" * 8) for _ in range(10)]
        await produce(kafka.bootstrap_servers, topics.code_changes, commits, key=b"octo/app")
        config = processor_config(
            kafka.bootstrap_servers,
            topics,
            max_in_flight=4,
            shutdown_grace_s=5.0,
            routing=RoutingConfig(fuse_code_analyses=False),  # one call per request, as counted below
        )
        metrics = ProcessorMetrics(CollectorRegistry())
        gateway = claude_gateway(sim)
        async with running(config, gateway, metrics=metrics):
            read = metrics.events_in.labels(topics.code_changes)
            while (
                read.value < 10 or (metrics.registry.get_sample_value("aexy_stream_in_flight_calls") or 0) < 4
            ):
                await asyncio.sleep(0.02)
            calls_at_stop = sim.stats()["total"] + 4  # those out may not have arrived yet
        await gateway.aclose()
        assert sim.stats()["total"] <= calls_at_stop
    results = await read_all(kafka, topics.results)
    parked = await read_all(kafka, topics.retry)
    assert len(results) + len(parked) == 30  # each request: its result, or parked to be done later
    assert len(results) <= 8 and len(parked) >= 22
    assert metrics.retries.labels("Shutdown").value == len(parked)
    assert metrics.events_out.labels("results").value == len(results)


def _kafka_runnable() -> bool:
    return shutil.which("java") is not None


@pytest.mark.slow
@pytest.mark.skipif(not _kafka_runnable(), reason="needs Java (Apache Kafka is started and killed here)")
async def test_sigterm_after_the_broker_died_exits_in_time_commits_nothing_unacknowledged_loses_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "kafka"
    first_broker = await asyncio.to_thread(ApacheKafka(data_dir=data).start)
    port = first_broker.port
    broker = KafkaBroker(first_broker.bootstrap_servers, "kafka", True, True)
    topics = unique_topics()
    group = f"g-{uuid.uuid4().hex[:6]}"
    try:
        await ensure_topics(broker.bootstrap_servers, topics)
        expected = await publish_commits(broker, topics, 12)
        async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=1500)) as slow:
            env = environment(broker, topics, slow, group, SHUTDOWN_GRACE_S=str(GRACE_S))
            processor = ProcessorProcess(env, tmp_path)
            await processor.start()
            while await in_flight(int(env["HTTP_PORT"])) < 8:
                await asyncio.sleep(0.05)
            await asyncio.to_thread(first_broker.kill)  # the calls answer after this: results pending
            await asyncio.sleep(2.0)
            stopped = time.monotonic()
            processor.signal(signal.SIGTERM)
            code, output = await processor.wait(timeout_s=GRACE_S + STOP_BUDGET_S + 30)
            elapsed = time.monotonic() - stopped
    finally:
        await processor.kill()
        await asyncio.to_thread(first_broker.kill)

    assert elapsed <= GRACE_S + STOP_BUDGET_S, output
    assert code == 1, output
    assert output.count("did not answer at shutdown") == 1, output
    assert len(output.splitlines()) < 40, output  # client errors rate-limited, not dozens a second

    async with ApacheKafka(port, data_dir=data) as second_broker:
        restarted = KafkaBroker(second_broker.bootstrap_servers, "kafka", True, True)
        assert await _unended_below_commits(restarted, topics, group) == set()
        async with running_simulator(SimulatorConfig(protocol="anthropic")) as fast:
            processor = ProcessorProcess(environment(restarted, topics, fast, group), tmp_path)
            await processor.start()
            try:
                assert expected <= await outcomes(restarted, topics, expected, timeout_s=90)
            finally:
                processor.signal(signal.SIGTERM)
                code, output = await processor.wait()
        assert code == 0, output


async def _unended_below_commits(kafka: KafkaBroker, topics: Topics, group: str) -> set[str]:
    """Request ids of the input records below the group's committed offsets that have no output
    (result or parked retry) on the broker: committed past unacknowledged work, if any."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
    await consumer.start()
    try:
        commits = {
            p: await consumer.committed(TopicPartition(topics.code_changes, p)) or 0
            for p in range(topics.partitions)
        }
    finally:
        await consumer.stop()
    inputs = await read_all(kafka, topics.code_changes)
    below = [r for r in inputs if r.offset < commits[r.partition]]
    wanted = {
        request.request_id
        for r in below
        for request in route_code_change(parse_code_change(r.value), RoutingConfig()).requests
    }
    ended = {orjson.loads(r.value)["request_id"] for r in await read_all(kafka, topics.results)}
    ended |= {
        request.request_id
        for r in await read_all(kafka, topics.retry)
        for request in retried_requests(r.value, h.as_dict(r.headers))
    }
    return wanted - ended
