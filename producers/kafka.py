"""Writing records to Kafka and waiting until the broker acknowledged them: the producers' one Kafka seam.

Generic on purpose: the webhook receiver uses it per delivery, backfills can use `start_producer` and
`publish` in batches. Every write uses `acks="all"`, and a caller learns of success only once the broker
acknowledged every record of the call; anything else raises `PublishError` within the time bound.

At least once: after a timeout the caller answers "failed" (and its source retries), yet a batch already on
the wire may still land. Consumers deduplicate by event id (docs/contracts.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    bootstrap_servers: str
    client_id: str = "aexy-stream-producer"
    enable_idempotence: bool = False
    """Off because the embedded/test broker (Tansu) has no idempotent producer; Apache Kafka supports it."""
    send_timeout_s: float = 5.0
    """Bound of one `publish` call, connecting included; also the producer's `request_timeout_ms`."""
    max_request_size: int = 1_048_576
    """Largest record accepted (aiokafka default: 1 MiB); the topic's `max.message.bytes` must allow it."""
    linger_ms: int = 0


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    value: bytes
    key: bytes | None = None
    headers: Headers = ()


class PublishError(Exception):
    """The broker did not acknowledge every record in time (down, timed out, refused): retry later."""


class RecordTooLargeError(PublishError):
    """A record is over `max_request_size` or the broker's limit: retrying the same record cannot help."""


class Publisher(Protocol):
    async def publish(self, records: Sequence[Record]) -> None:
        """Return once the broker acknowledged every record; raise `PublishError` otherwise."""
        ...


def build_producer(config: ProducerConfig) -> AIOKafkaProducer:
    """A producer, not started (needs a running event loop)."""
    return AIOKafkaProducer(
        bootstrap_servers=config.bootstrap_servers,
        client_id=config.client_id,
        acks="all",
        enable_idempotence=config.enable_idempotence,
        request_timeout_ms=int(config.send_timeout_s * 1000),
        max_request_size=config.max_request_size,
        linger_ms=config.linger_ms,
    )


async def start_producer(config: ProducerConfig) -> AIOKafkaProducer:
    """A started producer; raises `PublishError` (and releases it) when no broker answers in time."""
    producer = build_producer(config)
    try:
        async with _as_publish_error(), asyncio.timeout(config.send_timeout_s):
            await producer.start()
    except PublishError:
        await producer.stop()
        raise
    return producer


async def publish(producer: AIOKafkaProducer, records: Sequence[Record], timeout_s: float) -> list[Any]:
    """Send every record, then wait for all acknowledgements; the RecordMetadata in order."""
    async with _as_publish_error(), asyncio.timeout(timeout_s):
        return await _send_all(producer, records)


async def _send_all(producer: AIOKafkaProducer, records: Sequence[Record]) -> list[Any]:
    deliveries = [
        await producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
        for record in records
    ]
    results = await asyncio.gather(*deliveries, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


@asynccontextmanager
async def _as_publish_error() -> AsyncIterator[None]:
    """Kafka errors and timeouts as `PublishError`, with the cause kept."""
    try:
        yield
    except MessageSizeTooLargeError as exc:
        raise RecordTooLargeError(str(exc)) from exc
    except (KafkaError, TimeoutError, OSError) as exc:
        raise PublishError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc


class KafkaPublisher:
    """One producer, connected on first use and again after a failed start.

    The process therefore starts while Kafka is down, answers "unavailable" until it is back, and needs
    no restart. Create it inside a running event loop; `aclose()` flushes and stops the producer.
    """

    def __init__(self, config: ProducerConfig) -> None:
        self._config = config
        self._producer = build_producer(config)
        self._started = False
        self._starting = asyncio.Lock()

    async def publish(self, records: Sequence[Record]) -> None:
        async with _as_publish_error(), asyncio.timeout(self._config.send_timeout_s):
            await self._ensure_started()
            await _send_all(self._producer, records)

    async def connected(self, timeout_s: float = 2.0) -> bool:
        """Whether a broker answers now (a metadata refresh, connecting first if needed)."""
        try:
            async with _as_publish_error(), asyncio.timeout(timeout_s):
                await self._ensure_started()
                return bool(await self._producer.client.force_metadata_update())
        except PublishError:
            return False

    async def aclose(self) -> None:
        """Flush what is pending (bounded by the send timeout) and close the connections."""
        await self._producer.stop()

    async def _ensure_started(self) -> None:
        async with self._starting:
            if not self._started:
                await self._producer.start()
                self._started = True
