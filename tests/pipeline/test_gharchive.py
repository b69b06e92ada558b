"""Every GH Archive / Events API record of 2011-2023 through the processor's record handler, on the
real broker: each skip counted under its label, nothing dead-lettered, and a result per routed record."""

from __future__ import annotations

import asyncio
from collections import Counter

import orjson
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry

from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from consumers.handler import RecordHandler
from consumers.metrics import ProcessorMetrics
from consumers.publish import Publisher
from consumers.retry_policy import RetryPolicy
from consumers.skips import Skip
from gateway.config import GatewayConfig
from gateway.gateway import Gateway
from gateway.providers.rules import RulesProvider
from tests.pipeline.test_take import record
from tests.plugins.kafka import KafkaBroker, consume_all
from tests.test_gharchive_shapes import corpus

SKIPPED = {"unrouted_type": 1895, "unrouted_action": 256, "no_text": 160, "bot": 7}
ROUTED = {"soft_skills": 358, "task_signals": 198}
"""The counts `tests/test_gharchive_shapes.py` finds by type and shape, summed."""


async def test_every_record_is_skipped_with_its_label_or_analysed(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer
) -> None:
    registry = CollectorRegistry()
    publisher = Publisher(producer, topics)
    await publisher.start()
    gateway = Gateway(GatewayConfig(chain=("rules",)), {"rules": RulesProvider()})  # no network: fast
    decoder = Decoder(topics, RoutingConfig(), 1_000_000)
    handler = RecordHandler(gateway, publisher, decoder, RetryPolicy(0.2, 3), ProcessorMetrics(registry), 8)
    started = [
        handler.take(record(topics.backfill_activity, line.value, i)) for i, line in enumerate(corpus())
    ]
    await asyncio.wait_for(asyncio.gather(*started), 60)

    def total(name: str, **labels: str) -> float:
        return registry.get_sample_value(f"aexy_stream_{name}_total", labels) or 0.0

    def every(name: str) -> Counter[str]:
        samples = [s for m in registry.collect() for s in m.samples if s.name == f"aexy_stream_{name}_total"]
        return Counter({",".join(s.labels.values()): int(s.value) for s in samples})

    assert every("events_skipped") == SKIPPED
    assert set(SKIPPED) <= set(Skip)
    assert every("dead_letters") == {}
    assert {kind: total("routed_requests", analysis_type=kind) for kind in ROUTED} == ROUTED
    results = await consume_all(kafka.bootstrap_servers, topics.results, sum(ROUTED.values()), 30)
    kinds = Counter(orjson.loads(r.value)["analysis_type"] for r in results)
    assert kinds == ROUTED
    await gateway.aclose()
