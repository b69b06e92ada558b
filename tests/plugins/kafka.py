"""pytest plugin: one Kafka-protocol broker per test session, fresh topics per test, small client helpers.

Register with `-p tests.plugins.kafka`. The broker (fixture `kafka`) is, in this order:

- external: `KAFKA_BOOTSTRAP_SERVERS` is set (assumed to be real Apache Kafka);
- kafka: Apache Kafka 4.1.1 itself, started by `aexy_dev.broker.kafka.ApacheKafka` (jars from Maven
  Central, fetched once), when Java and Maven (or already fetched jars) are present;
- testcontainers: a Docker engine answers `docker info` and `testcontainers` is importable;
- tansu: the embedded, memory-only broker (`aexy_dev.broker.tansu.EmbeddedBroker`).

`AEXY_TEST_BROKER=kafka|testcontainers|tansu` asks for one of the last three: a missing one is then an
error, not a fallback (CI sets `kafka`); `AEXY_TEST_KAFKA_VERSION` picks another Kafka version. Tests that
need what Tansu lacks (transactions, idempotent producer, time lookups, reliable end offsets) are marked
`needs_real_kafka` and skipped on Tansu only.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from aexy_dev.broker.kafka import DEFAULT_VERSION, ApacheKafka, KafkaUnavailableError, cache_root, java
from aexy_dev.broker.tansu import EmbeddedBroker
from consumers.config import Topics
from consumers.topics import admin_client, ensure_topics, topic_partitions

Backend = Literal["external", "kafka", "testcontainers", "tansu"]
CHOOSABLE: tuple[Backend, ...] = ("kafka", "testcontainers", "tansu")

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
BACKEND_ENV = "AEXY_TEST_BROKER"
VERSION_ENV = "AEXY_TEST_KAFKA_VERSION"
IMAGE_ENV = "KAFKA_TEST_IMAGE"
DEFAULT_IMAGE = "confluentinc/cp-kafka:7.6.0"
DOCKER_PROBE_TIMEOUT_S = 5.0
SESSION_TIMEOUT_MS = 2000
HEARTBEAT_INTERVAL_MS = 300
NEEDS_REAL_KAFKA = (
    "needs_real_kafka: needs Apache Kafka (transactions, idempotent producer, time lookups, end offsets); "
    "skipped on the embedded Tansu broker"
)

_backend_key = pytest.StashKey[Backend]()


@dataclass(frozen=True, slots=True)
class KafkaBroker:
    """The session's broker and what it supports."""

    bootstrap_servers: str
    backend: Backend
    supports_transactions: bool
    supports_time_lookup: bool


# -- backend choice ------------------------------------------------------------------------------------


def choose_backend() -> Backend:
    if os.environ.get(BOOTSTRAP_ENV):
        return "external"
    forced = os.environ.get(BACKEND_ENV, "")
    for backend in CHOOSABLE:
        if forced == backend:
            return backend
    if forced:
        raise pytest.UsageError(f"{BACKEND_ENV} must be one of {', '.join(CHOOSABLE)}, not {forced!r}")
    if _kafka_runnable():
        return "kafka"
    return "testcontainers" if _testcontainers_importable() and _docker_answers() else "tansu"


def _kafka_runnable() -> bool:
    """Java, and Maven or the jars already fetched: what `ApacheKafka` needs."""
    try:
        java()
    except KafkaUnavailableError:
        return False
    return shutil.which("mvn") is not None or (cache_root() / kafka_version()).is_dir()


def kafka_version() -> str:
    """The Apache Kafka version the tests start (`AEXY_TEST_KAFKA_VERSION`, else the default)."""
    return os.environ.get(VERSION_ENV) or DEFAULT_VERSION


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        probe = subprocess.run(
            [docker, "info"], capture_output=True, timeout=DOCKER_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _testcontainers_importable() -> bool:
    try:
        return importlib.util.find_spec("testcontainers.kafka") is not None
    except ImportError:
        return False


def _backend(config: pytest.Config) -> Backend:
    if _backend_key not in config.stash:
        config.stash[_backend_key] = choose_backend()
    return config.stash[_backend_key]


# -- hooks and fixtures --------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", NEEDS_REAL_KAFKA)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_real_kafka") and _backend(item.config) == "tansu":
        pytest.skip(
            "needs real Apache Kafka, not the embedded Tansu broker: install Java and Maven (the suite then "
            "starts Apache Kafka itself), or set KAFKA_BOOTSTRAP_SERVERS"
        )


@pytest.fixture(scope="session")
def kafka(pytestconfig: pytest.Config) -> Iterator[KafkaBroker]:
    """The session's Kafka-protocol broker (see the module docstring for how it is chosen)."""
    backend = _backend(pytestconfig)
    if backend == "external":
        yield KafkaBroker(os.environ[BOOTSTRAP_ENV], "external", True, True)
    elif backend == "kafka":
        with ApacheKafka(version=kafka_version()) as broker:
            yield KafkaBroker(broker.bootstrap_servers, "kafka", True, True)
    elif backend == "testcontainers":
        with _kafka_container() as bootstrap_servers:
            yield KafkaBroker(bootstrap_servers, "testcontainers", True, True)
    else:
        with EmbeddedBroker() as broker:
            yield KafkaBroker(broker.bootstrap_servers, "tansu", False, False)


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.kafka import KafkaContainer  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415

    container = KafkaContainer(os.environ.get(IMAGE_ENV, DEFAULT_IMAGE))
    if hasattr(container, "with_kraft"):
        container = container.with_kraft()
    with container as started:
        yield str(started.get_bootstrap_server())


@pytest_asyncio.fixture
async def topics(kafka: KafkaBroker) -> AsyncIterator[Topics]:
    """A fresh set of the pipeline's six topics (unique names), created on the broker, deleted after."""
    fresh = unique_topics()
    await ensure_topics(kafka.bootstrap_servers, fresh)
    yield fresh
    await delete_topics(kafka.bootstrap_servers, fresh.all)


def topic_environment(topics: Topics) -> dict[str, str]:
    """The settings that point a CLI process at these topics (all eight: real Kafka creates none itself)."""
    return {
        "TOPIC_GITHUB_ACTIVITY": topics.activity,
        "TOPIC_CODE_CHANGES": topics.code_changes,
        "TOPIC_ANALYSIS_REQUESTS": topics.requests,
        "TOPIC_ANALYSIS_RESULTS": topics.results,
        "TOPIC_ANALYSIS_RETRY": topics.retry,
        "TOPIC_ANALYSIS_DLQ": topics.dlq,
        "TOPIC_GITHUB_ACTIVITY_BACKFILL": topics.backfill_activity,
        "TOPIC_CODE_CHANGES_BACKFILL": topics.backfill_code_changes,
    }


def unique_topics(partitions: int = 4) -> Topics:
    """`Topics` whose names all end with the same random suffix, e.g. `github.activity.1f3a9c0b`."""
    return Topics(partitions=partitions).with_suffix(uuid.uuid4().hex[:8])


async def delete_topics(bootstrap_servers: str, names: Iterable[str]) -> None:
    """Best-effort cleanup: a topic that cannot be deleted only costs broker memory."""
    with contextlib.suppress(KafkaError, TimeoutError):
        async with admin_client(bootstrap_servers) as admin:
            await admin.delete_topics(list(names))


# -- client helpers ------------------------------------------------------------------------------------


async def produce(
    bootstrap_servers: str,
    topic: str,
    values: Iterable[bytes],
    key: bytes | None = None,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> list[Any]:
    """Send each value (acks=all, no idempotence: Tansu lacks it); return their RecordMetadata."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=False)
    try:
        await producer.start()
        return [
            await producer.send_and_wait(topic, value, key=key, headers=list(headers or ()))
            for value in values
        ]
    finally:
        await producer.stop()


async def records_in(bootstrap_servers: str, topic: str) -> list[Any]:
    """Every record `topic` holds now: read from the beginning up to each partition's end offset."""
    partitions = await topic_partitions(bootstrap_servers, [topic])
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # as the seek below: aiokafka may apply either reset (docs/kafka.md)
    )
    records: list[Any] = []
    try:
        await consumer.start()
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def consume_all(
    bootstrap_servers: str, topic: str, expected_count: int, timeout_s: float = 10.0
) -> list[Any]:
    """Read `topic` from the beginning with a fresh group until at least `expected_count` records.

    Raises TimeoutError (saying how many arrived) if they do not within `timeout_s`.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    records: list[Any] = []
    try:
        await consumer.start()
        while len(records) < expected_count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"got {len(records)} of {expected_count} records from {topic} in {timeout_s:g} s"
                )
            batches = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000) + 1)
            for batch in batches.values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records
