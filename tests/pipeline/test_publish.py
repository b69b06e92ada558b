"""Results are keyed by subject: the publisher picks the partition the producer itself would."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiokafka import AIOKafkaProducer

from consumers.config import Topics
from consumers.publish import Origin, Publisher
from gateway.config import GatewayConfig
from gateway.gateway import Gateway
from gateway.providers.rules import RulesProvider
from schemas.envelope import AnalysisResult
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.plugins.kafka import KafkaBroker, consume_all

SUBJECTS = [f"dev-{i}" for i in range(24)]


async def envelopes() -> list[AnalysisResult[Any]]:
    """Real envelopes, one per subject, from the keyless rules provider."""
    gateway = Gateway(GatewayConfig(chain=("rules",)), {"rules": RulesProvider()})
    try:
        return [
            await gateway.analyze(
                AnalysisRequest(analysis_type=AnalysisType.SKILL_EXTRACTION, content="import os", subject=s)
            )
            for s in SUBJECTS
        ]
    finally:
        await gateway.aclose()


async def test_each_subject_lands_where_the_default_partitioner_puts_its_key(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    publisher = Publisher(producer, topics)
    await publisher.start()
    ours = [publisher.result(e) for e in await envelopes()]
    theirs = [await producer.send(topics.results, b"plain", key=s.encode()) for s in SUBJECTS]
    placed = [(await a).partition for a in ours]
    expected = [(await b).partition for b in theirs]
    assert placed == expected
    assert len(set(placed)) > 1  # 24 subjects over 4 partitions: the choice is not trivial
    records = await consume_all(kafka.bootstrap_servers, topics.results, 2 * len(SUBJECTS))
    by_key = {(r.key, r.partition) for r in records}
    assert len(by_key) == len(SUBJECTS)  # each key's envelope and plain record share a partition


def test_with_event_id_keeps_every_other_field() -> None:
    origin = Origin("t", 3, 42, b"k", b"v", "old", (("x-github-event", b"push"),))
    assert origin.with_event_id("new") == dataclasses.replace(origin, event_id="new")
    assert {f.name for f in dataclasses.fields(Origin)} == {
        "topic",
        "partition",
        "offset",
        "key",
        "value",
        "event_id",
        "headers",
    }  # a new field must be carried by `with_event_id` too
