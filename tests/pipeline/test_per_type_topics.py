"""`RESULTS_TOPIC_PER_TYPE`: each result also on `analysis.results.<type>`, as the same record, within
the same delivery as the result itself; off, the per-type topics are neither needed nor written."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from dataclasses import replace
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from consumers.config import RoutingConfig, Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.publish import Publisher
from consumers.routing import route_activity, route_code_change
from consumers.topics import (
    MissingTopicsError,
    ensure_topics,
    message_limit,
    missing_topics,
    topic_partitions,
    wait_for_topics,
)
from schemas.envelope import envelope_json
from schemas.events import parse_activity, parse_code_change
from schemas.types import AnalysisType
from tests.pipeline.harness import claude_gateway, commit_event, corpus_examples, processor_config, running
from tests.pipeline.test_publish import envelopes
from tests.pipeline.test_records_end import set_limit
from tests.plugins.kafka import (
    KafkaBroker,
    consume_all,
    delete_topics,
    produce,
    records_in,
    topic_environment,
)

EXAMPLES = 40
"""Webhook examples fed in, besides one commit: enough to yield results of several types."""


def per_type(topics: Topics) -> Topics:
    return replace(topics, results_per_type=True)


def record(r: Any) -> tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]:
    return r.key, r.value, tuple(r.headers)


async def feed(kafka: KafkaBroker, topics: Topics) -> int:
    """A commit and the first webhook examples that route to requests; how many results they make."""
    expected = 0
    commit = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit], key=b"octo/app")
    expected += len(route_code_change(parse_code_change(commit), RoutingConfig()).requests)
    fed = 0
    for event, payload in corpus_examples():
        routed = route_activity(parse_activity(payload, event, None), RoutingConfig())
        if not routed.requests or fed == EXAMPLES:
            continue
        await produce(
            kafka.bootstrap_servers, topics.activity, [payload], headers=[("x-github-event", event.encode())]
        )
        expected += len(routed.requests)
        fed += 1
    return expected


async def read(kafka: KafkaBroker, topic: str, count: int) -> list[Any]:
    """The `count` records expected on `topic` (waited for), or every record it holds when none is."""
    if count:
        return await consume_all(kafka.bootstrap_servers, topic, count)
    return await records_in(kafka.bootstrap_servers, topic)


async def test_topics_create_makes_each_per_type_topic_like_the_results_topic(
    kafka: KafkaBroker, topics: Topics
) -> None:
    typed = per_type(topics)
    assert len(typed.results_by_type) == len(AnalysisType)
    assert f"{topics.results}.code_quality" in typed.results_by_type
    try:
        created = await ensure_topics(kafka.bootstrap_servers, typed)
        assert created == list(typed.results_by_type)  # the others existed already
        await wait_for_topics(kafka.bootstrap_servers, typed.results_by_type)
        partitions = Counter(tp.topic for tp in await topic_partitions(kafka.bootstrap_servers, typed.all))
        assert {partitions[name] for name in typed.results_by_type} == {partitions[topics.results]} == {4}
        limits = {await message_limit(kafka.bootstrap_servers, name) for name in typed.results_by_type}
        assert limits == {await message_limit(kafka.bootstrap_servers, topics.results)}
    finally:
        await delete_topics(kafka.bootstrap_servers, typed.results_by_type)


async def test_the_topics_command_creates_them_only_when_the_setting_is_on(
    kafka: KafkaBroker, topics: Topics
) -> None:
    typed = per_type(topics)
    try:
        off = await topics_create(kafka, topics, "false")
        assert off == [f"{name}: already existed" for name in topics.all]
        on = await topics_create(kafka, topics, "true")
        assert on == [f"{name}: already existed" for name in topics.all] + [
            f"{name}: created (4 partitions)" for name in typed.results_by_type
        ]
        await wait_for_topics(kafka.bootstrap_servers, typed.all)
    finally:
        await delete_topics(kafka.bootstrap_servers, typed.results_by_type)


async def topics_create(kafka: KafkaBroker, topics: Topics, per_type_setting: str) -> list[str]:
    environment = os.environ | topic_environment(topics) | {"RESULTS_TOPIC_PER_TYPE": per_type_setting}
    command = ("topics", "create", "--bootstrap-servers", kafka.bootstrap_servers)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", *command, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode().splitlines()


async def test_each_result_is_also_on_its_types_topic_as_the_same_record(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    typed = per_type(topics)
    await ensure_topics(kafka.bootstrap_servers, typed)
    await wait_for_topics(kafka.bootstrap_servers, typed.results_by_type)
    try:
        expected = await feed(kafka, topics)
        gateway = claude_gateway(sim)
        async with running(processor_config(kafka.bootstrap_servers, typed), gateway):
            main = await consume_all(kafka.bootstrap_servers, topics.results, expected, timeout_s=60)
        await gateway.aclose()  # stopped: every delivery settled, the copies included

        types = Counter(orjson.loads(r.value)["analysis_type"] for r in main)
        assert len(main) == expected and len(types) >= 3  # several per-type topics really written
        copies = {k.value: await read(kafka, typed.results_of(k.value), types[k.value]) for k in AnalysisType}
        assert Counter(record(r) for r in main) == Counter(record(r) for f in copies.values() for r in f)
        assert all(orjson.loads(r.value)["analysis_type"] == kind for kind, f in copies.items() for r in f)
        placed = {record(r): r.partition for r in main}
        assert all(placed[record(r)] == r.partition for f in copies.values() for r in f)  # keyed alike
    finally:
        await delete_topics(kafka.bootstrap_servers, typed.results_by_type)


async def test_off_the_per_type_topics_are_neither_needed_nor_written(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    assert topics.results_by_type == ()
    assert set(per_type(topics).results_by_type) <= await missing_topics(
        kafka.bootstrap_servers, per_type(topics).all
    )
    commit = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit], key=b"octo/app")
    expected = len(route_code_change(parse_code_change(commit), RoutingConfig()).requests)
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        assert (
            len(await consume_all(kafka.bootstrap_servers, topics.results, expected, timeout_s=30))
            == expected
        )
    await gateway.aclose()
    still_missing = await missing_topics(kafka.bootstrap_servers, per_type(topics).results_by_type)
    assert still_missing == set(per_type(topics).results_by_type)


async def test_on_the_processor_will_not_start_without_the_per_type_topics(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    typed = per_type(topics)
    await wait_for_topics(kafka.bootstrap_servers, topics.all)  # all there but the per-type ones
    gateway = claude_gateway(sim)
    metrics = ProcessorMetrics(CollectorRegistry())
    processor = Processor(processor_config(kafka.bootstrap_servers, typed), gateway, metrics)
    with pytest.raises(MissingTopicsError) as refused:
        await asyncio.wait_for(processor.run(asyncio.Event()), timeout=30)
    await gateway.aclose()
    assert refused.value.missing == sorted(typed.results_by_type)


@pytest.mark.needs_real_kafka  # Apache Kafka enforces a topic's max.message.bytes on every batch
async def test_a_copy_the_broker_refuses_fails_the_results_delivery(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    typed = per_type(topics)
    await ensure_topics(kafka.bootstrap_servers, typed)
    await wait_for_topics(kafka.bootstrap_servers, typed.results_by_type)
    try:
        (envelope, *_) = await envelopes()
        await set_limit(kafka, typed.results_of(envelope.analysis_type.value), 200)  # below one envelope
        publisher = Publisher(producer, typed)
        await publisher.start()
        delivery = publisher.result(envelope)
        with pytest.raises(MessageSizeTooLargeError):
            await asyncio.wait_for(delivery, timeout=20)
        main = await consume_all(kafka.bootstrap_servers, topics.results, 1)
        assert [r.value for r in main] == [envelope_json(envelope)]  # written; the input stays unfinished
    finally:
        await delete_topics(kafka.bootstrap_servers, typed.results_by_type)
