"""The record handler counts a commit's files left out of analysis by reason
(`aexy_stream_files_skipped_total{reason}`), whether or not the commit asks for anything."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorHandle
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from consumers.handler import RecordHandler
from consumers.metrics import ProcessorMetrics
from consumers.publish import Publisher
from consumers.retry_policy import RetryPolicy
from tests.pipeline.harness import claude_gateway, commit_event

SIGNATURE = "@@ -0,0 +1,3 @@\n+-----BEGIN PGP SIGNATURE-----\n+iQIzBAAB\n+-----END PGP SIGNATURE-----"


def with_files(value: bytes, files: list[dict[str, Any]], keep_code: bool) -> bytes:
    event = orjson.loads(value)
    event["files"] = (event["files"] if keep_code else []) + files
    return orjson.dumps(event)


def record(topic: str, value: bytes, offset: int) -> Any:
    return ConsumerRecord(topic, 0, offset, 0, 0, None, value, None, 0, len(value), ())


def counted(registry: CollectorRegistry, name: str, reason: str) -> float | None:
    return registry.get_sample_value(f"aexy_stream_{name}_total", {"reason": reason})


async def test_skipped_files_are_counted_by_reason(
    producer: AIOKafkaProducer, topics: Topics, sim: SimulatorHandle
) -> None:
    signatures = [{"path": f"releases/v1.{n}.tar.gz.asc", "patch": SIGNATURE} for n in range(2)]
    vendored = [{"path": "vendor/lib/x.go", "patch": "@@ -1 +1 @@\n-a\n+b"}]
    registry = CollectorRegistry()
    publisher = Publisher(producer, topics)
    await publisher.start()
    gateway = claude_gateway(sim)
    decoder = Decoder(topics, RoutingConfig(), 1_000_000)
    handler = RecordHandler(gateway, publisher, decoder, RetryPolicy(0.2, 3), ProcessorMetrics(registry), 8)

    only_signatures = with_files(commit_event(), signatures, keep_code=False)
    done = handler.take(record(topics.code_changes, only_signatures, 1))
    assert isinstance(done, asyncio.Future)  # nothing asked, nothing to wait for
    await asyncio.wait_for(done, 10)
    mixed = handler.take(record(topics.code_changes, with_files(commit_event(), vendored, keep_code=True), 2))
    assert not isinstance(mixed, asyncio.Future)  # the code file asks for calls
    mixed.close()  # never started: only the counting matters here

    assert counted(registry, "events_skipped", "nothing_analysable") == 1
    assert counted(registry, "files_skipped", "signature") == 2
    assert counted(registry, "files_skipped", "vendored") == 1
    assert sim.stats()["total"] == 0
    await gateway.aclose()
