"""A record always ends: whatever fails in its work, it ends in a dead letter that fits the
dead-letter topic, its offset is committed, and the records after it are processed."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import orjson
import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from consumers import headers as h
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.tracker import ActivityTracker
from consumers.config import Topics
from consumers.dlq import DeadLetter, replay
from consumers.metrics import ProcessorMetrics
from consumers.size_policy import DEAD_LETTER_PREFIX_BYTES, KAFKA_DEFAULT_MESSAGE_BYTES
from consumers.topics import MAX_MESSAGE_BYTES, admin_client, message_limit
from tests.pipeline.harness import acked_producer, claude_gateway, commit_event, processor_config, running
from tests.pipeline.test_lifecycle import committed, read_all
from tests.plugins.kafka import KafkaBroker, consume_all, produce, records_in

OWN_HEADERS = [("x-github-event", b"push"), ("x-github-delivery", b"d-1")]


async def set_limit(kafka: KafkaBroker, topic: str, limit: int) -> None:
    """A topic created otherwise than by `topics create` (another limit than the pipeline's)."""
    async with admin_client(kafka.bootstrap_servers) as admin:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {MAX_MESSAGE_BYTES: str(limit)})]
        )
    while await message_limit(kafka.bootstrap_servers, topic) != limit:
        await asyncio.sleep(0.1)


def oldest_unfinished(metrics: ProcessorMetrics, topic: str) -> float:
    """The processor's gauge, the largest over the topic's partitions."""
    ages = [
        sample.value
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name == "aexy_stream_oldest_unfinished_age_seconds" and sample.labels["topic"] == topic
    ]
    return max(ages, default=0.0)


async def publish_oversized(kafka: KafkaBroker, topic: str, value: bytes) -> None:
    """With a producer sized for it, then an ordinary commit behind it on the same partition."""
    producer = acked_producer(kafka.bootstrap_servers, max_request_size=len(value) + 1024 * 1024)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"octo/app", headers=OWN_HEADERS, partition=0)
    finally:
        await producer.stop()


async def dead_letter_of(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, topic: str, value: bytes
) -> tuple[object, dict[str, str], ProcessorMetrics]:
    """Runs the processor over `value` on `topic` followed by a good commit; the dead letter."""
    await publish_oversized(kafka, topic, value)
    good = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [good], key=b"octo/app")
    config = processor_config(kafka.bootstrap_servers, topics)
    metrics = ProcessorMetrics(CollectorRegistry())
    gateway = claude_gateway(sim)
    async with running(config, gateway, metrics=metrics):
        (dead,) = await consume_all(kafka.bootstrap_servers, topics.dlq, 1, timeout_s=30)
        assert len(await consume_all(kafka.bootstrap_servers, topics.results, 3, timeout_s=30)) == 3
        while await committed(kafka, config.group_id, topic, topics.partitions) < 1:
            await asyncio.sleep(0.2)  # its offset was committed: the partition goes on
    await gateway.aclose()
    return dead, h.as_dict(dead.headers), metrics  # type: ignore[attr-defined]


async def test_a_5_mb_record_is_dead_lettered_with_a_prefix_and_its_story(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    await set_limit(kafka, topics.activity, 8 * 1024 * 1024)  # larger than the pipeline accepts
    value = b'{"action": "opened", "pad": "' + b"x" * 5_000_000 + b'"}'
    dead, meta, metrics = await dead_letter_of(kafka, topics, sim, topics.activity, value)
    assert dead.key == b"octo/app"  # type: ignore[attr-defined]
    assert dead.value == value[:DEAD_LETTER_PREFIX_BYTES]  # type: ignore[attr-defined]
    assert meta[h.ORIGINAL_SIZE] == str(len(value))
    assert meta[h.ORIGINAL_SHA256] == hashlib.sha256(value).hexdigest()
    assert meta[h.DLQ_VALUE_KEPT] == str(DEAD_LETTER_PREFIX_BYTES)
    assert (meta[h.ORIGINAL_TOPIC], meta[h.ORIGINAL_PARTITION], meta[h.ORIGINAL_OFFSET]) == (
        topics.activity,
        "0",
        "0",
    )
    assert meta["x-github-event"] == "push" and meta["x-github-delivery"] == "d-1"  # own headers kept
    assert meta[h.ERROR_TYPE] == "MalformedEvent" and "MAX_EVENT_BYTES" in meta[h.DLQ_REASON]
    assert metrics.dead_letters.labels("MalformedEvent").value == 1
    passed_over: list[DeadLetter] = []
    assert await replay(kafka.bootstrap_servers, topics.dlq, "", passed_over.append) == 0  # never cut
    assert [letter.offset for letter in passed_over] == [dead.offset]  # type: ignore[attr-defined]


async def test_a_1_2_mb_record_is_dead_lettered_whole_where_the_topic_takes_it(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """Topics as `topics create` makes them take MAX_EVENT_BYTES plus room: the original fits."""
    value = orjson.dumps({"pad": "y" * 1_200_000})
    dead, meta, _ = await dead_letter_of(kafka, topics, sim, topics.code_changes, value)
    assert dead.value == value  # type: ignore[attr-defined]
    assert h.DLQ_VALUE_KEPT not in meta
    assert meta[h.ORIGINAL_SIZE] == str(len(value))


async def test_a_1_2_mb_record_fits_a_dead_letter_topic_at_kafkas_default_limit(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """A dead-letter topic created with the broker's 1 MB default: the dead letter is cut to fit it."""
    await set_limit(kafka, topics.dlq, KAFKA_DEFAULT_MESSAGE_BYTES)
    value = orjson.dumps({"pad": "z" * 1_200_000})
    dead, meta, _ = await dead_letter_of(kafka, topics, sim, topics.code_changes, value)
    assert dead.value == value[:DEAD_LETTER_PREFIX_BYTES]  # type: ignore[attr-defined]
    assert meta[h.DLQ_VALUE_KEPT] == str(DEAD_LETTER_PREFIX_BYTES)
    assert meta[h.ORIGINAL_SHA256] == hashlib.sha256(value).hexdigest()


async def test_a_number_no_json_writer_takes_is_dead_lettered_with_the_activity_state_on(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """`additions: 10**30` passes validation; the cache key cannot write it, inside the record's task."""
    bad = commit_event(sha=uuid.uuid4().hex + "0" * 8).replace(b'"additions":3', b'"additions":%d' % 10**30)
    good = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [bad, good], key=b"octo/app")
    activity = ActivityTracker(MemoryStateStore(3600), ActivityConfig(), Pseudonyms(""))
    config = processor_config(kafka.bootstrap_servers, topics)
    gateway = claude_gateway(sim)
    async with running(config, gateway, activity=activity):
        (dead,) = await consume_all(kafka.bootstrap_servers, topics.dlq, 1, timeout_s=30)
        results = await consume_all(kafka.bootstrap_servers, topics.results, 3, timeout_s=30)
        while await committed(kafka, config.group_id, topics.code_changes, topics.partitions) < 2:
            await asyncio.sleep(0.2)
    await gateway.aclose()
    meta = h.as_dict(dead.headers)
    assert dead.value == bad
    assert meta[h.ORIGINAL_OFFSET] == "0" and "could not be processed" in meta[h.DLQ_REASON]
    assert {orjson.loads(r.value)["source"]["offset"] for r in results} == {1}


@pytest.mark.slow  # several seconds: run in CI and by `make test-all`
async def test_the_counters_of_records_written_equal_what_the_topics_hold(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.add_rules(  # retried, then dead-lettered; the second rule fails the commit's fused call
        {"match": "CodeQualityResult", "kind": "server_error"},
        {"part": "code_quality", "kind": "server_error"},
    )
    commits = [commit_event(sha=f"{i:040x}") for i in range(4)]
    await produce(kafka.bootstrap_servers, topics.code_changes, commits, key=b"octo/app")
    await produce(kafka.bootstrap_servers, topics.activity, [b"not json", b"[]"], key=b"k")
    config = processor_config(kafka.bootstrap_servers, topics, retry_max_attempts=3)
    metrics = ProcessorMetrics(CollectorRegistry())
    gateway = claude_gateway(sim, max_retries=0)
    async with running(config, gateway, metrics=metrics):
        await consume_all(kafka.bootstrap_servers, topics.results, 8, timeout_s=30)
        await consume_all(kafka.bootstrap_servers, topics.dlq, 6, timeout_s=30)
    await gateway.aclose()
    written = {
        topic: len(await read_all(kafka, topic)) for topic in (topics.results, topics.retry, topics.dlq)
    }
    assert (written[topics.results], written[topics.dlq]) == (8, 6)
    assert written[topics.retry] >= 8  # two per failing request; one more if the stop parked one

    def total(name: str) -> float:
        return sum(
            sample.value
            for family in metrics.registry.collect()
            for sample in family.samples
            if sample.name == name
        )

    assert total("aexy_stream_dead_letters_total") == written[topics.dlq]
    assert total("aexy_stream_retries_total") == written[topics.retry]
    assert metrics.events_out.labels("results").value == written[topics.results]


@pytest.mark.slow  # waits until the gauge shows a partition held for 3 s
async def test_a_dead_letter_the_broker_refuses_is_written_again_and_the_wait_is_visible(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    """The dead-letter topic refuses every record for a while (its limit lowered after the processor
    read it): the partition's commits wait, its gauge and a log line say so, and the dead letter is
    written once the topic takes it again."""
    config = processor_config(kafka.bootstrap_servers, topics)
    metrics = ProcessorMetrics(CollectorRegistry())
    gateway = claude_gateway(sim)
    async with running(config, gateway, metrics=metrics) as processor:
        while not processor.healthy:
            await asyncio.sleep(0.05)
        await set_limit(kafka, topics.dlq, 100)
        await produce(kafka.bootstrap_servers, topics.activity, [b"not json"], key=b"k")
        while oldest_unfinished(metrics, topics.activity) < 3.0:
            await asyncio.sleep(0.2)
        assert await committed(kafka, config.group_id, topics.activity, topics.partitions) == 0
        assert await records_in(kafka.bootstrap_servers, topics.dlq) == []
        assert "a dead letter was not written" in caplog.text
        await set_limit(kafka, topics.dlq, topics.max_message_bytes)
        (dead,) = await consume_all(kafka.bootstrap_servers, topics.dlq, 1, timeout_s=30)
        while await committed(kafka, config.group_id, topics.activity, topics.partitions) < 1:
            await asyncio.sleep(0.2)
    await gateway.aclose()
    assert dead.value == b"not json"
    assert metrics.dead_letters.labels("MalformedEvent").value == 1  # written once, counted once
