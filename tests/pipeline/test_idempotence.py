"""Idempotent producers where the broker gives producer ids (Apache Kafka), decided at start by
`producers.kafka.idempotence`, and off on Tansu, which lists InitProducerId among its APIs but answers
it with an error: there everything is still delivered (at least once, deduplicated by request id).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest

from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_dev.simulator import SimulatorHandle
from consumers import headers as h
from consumers.dlq import replay
from consumers.topics import ensure_topics
from producers.kafka import KafkaPublisher, ProducerConfig, Record, idempotence, start_producer
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce, records_in, unique_topics

pytestmark = pytest.mark.slow  # every kind of producer, the processor's with a group to join, on two brokers
PROBE_LOG = "producers.kafka"


@pytest.fixture(params=["session", "tansu"])
async def broker(request: pytest.FixtureRequest, kafka: KafkaBroker) -> AsyncIterator[KafkaBroker]:
    """The session's broker (Apache Kafka unless forced otherwise), and an embedded Tansu of its own."""
    if request.param == "session":
        yield kafka
    else:
        async with EmbeddedBroker() as tansu:
            yield KafkaBroker(tansu.bootstrap_servers, "tansu", False, False)


async def test_every_producer_is_idempotent_exactly_where_the_broker_allows_and_delivers(
    broker: KafkaBroker, sim: SimulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=PROBE_LOG)
    idempotent = broker.backend != "tansu"
    servers = broker.bootstrap_servers
    topics = unique_topics()
    await ensure_topics(servers, topics)

    assert await idempotence(servers) is idempotent

    publisher = KafkaPublisher(ProducerConfig(servers))  # the webhook receiver's
    try:
        await publisher.publish([Record(topics.activity, b"published", b"k")])
    finally:
        await publisher.aclose()
    started = await start_producer(ProducerConfig(servers))  # backfills'
    try:
        await started.send_and_wait(topics.activity, b"started", key=b"k")
    finally:
        await started.stop()
    assert sorted(r.value for r in await records_in(servers, topics.activity)) == [b"published", b"started"]

    commit = commit_event(sha=uuid.uuid4().hex + "0" * 8)
    await produce(servers, topics.code_changes, [commit], key=b"octo/app")
    gateway = claude_gateway(sim)
    try:
        async with running(processor_config(servers, topics), gateway):  # the processor's
            results = await consume_all(servers, topics.results, 1, timeout_s=30)
    finally:
        await gateway.aclose()
    assert {orjson.loads(r.value)["source"]["topic"] for r in results} == {topics.code_changes}

    await produce(servers, topics.dlq, [b"{}"], headers=[(h.REPLAY_TOPIC, topics.requests.encode())])
    # the processor dead-lettered the two activity records above (not JSON), and the replay's own producer
    # takes them back with this one
    assert await replay(servers, topics.dlq) == 3
    assert [r.value for r in await records_in(servers, topics.requests)] == [b"{}"]

    decisions = [r.getMessage() for r in caplog.records if r.name == PROBE_LOG]
    word = "on" if idempotent else "off"
    assert len(decisions) == 5, decisions  # the probe above, then one per producer built
    assert all(d.startswith(f"idempotent producers: {word} ({servers}") for d in decisions), decisions
