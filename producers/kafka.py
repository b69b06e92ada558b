"""Writing records to Kafka and waiting until the broker acknowledged them: the producers' one Kafka seam.

Generic on purpose: the webhook receiver uses it per delivery, backfills can use `start_producer` and
`publish` in batches. Every write uses `acks="all"`, and a caller learns of success only once the broker
acknowledged every record of the call; anything else raises `PublishError` within the time bound.

At least once: after a timeout the caller answers "failed" (and its source retries), yet a batch already on
the wire may still land. Consumers deduplicate by event id (docs/contracts.md).

`idempotence` decides, for every producer the product builds (these, the processor's, the dead-letter
replay's), whether it runs idempotent: when the broker gives it a producer id (Apache Kafka), so a
batch the producer sends again after a lost answer is written once; not on a broker that advertises
the API but refuses it (Tansu). It asks the broker at start and logs which.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, for_code
from aiokafka.protocol.admin import ApiVersionRequest
from aiokafka.protocol.transaction import InitProducerIdRequest

Headers = tuple[tuple[str, bytes], ...]
log = logging.getLogger(__name__)
INIT_PRODUCER_ID_API = 22
IDEMPOTENCE_PROBE_S = 10.0
"""How long the broker may answer "not ready" (its producer id manager loading) before the producer
starts without idempotence."""
_PROBE_BACKOFF_S = 0.2


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    bootstrap_servers: str
    client_id: str = "aexy-stream-producer"
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


async def idempotence(bootstrap_servers: str, timeout_s: float = IDEMPOTENCE_PROBE_S) -> bool:
    """Whether producers of this broker run idempotent: it lists InitProducerId among its APIs and
    answers one (no transactional id) with a producer id. Logged either way. A broker that answers
    no request raises `KafkaConnectionError` (or `TimeoutError`); one still loading after
    `timeout_s` gets producers without idempotence (logged as a warning)."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers,
        client_id="aexy-stream-probe",
        request_timeout_ms=int(timeout_s * 1000),
    )
    try:
        await client.bootstrap()
        supported, why = await _gives_producer_ids(client, timeout_s)
    finally:
        await client.close()
    if supported:
        log.info("idempotent producers: on (%s gives producer ids)", bootstrap_servers)
    else:
        (log.info if why.startswith("refused") else log.warning)(
            "idempotent producers: off (%s %s)", bootstrap_servers, why
        )
    return supported


async def _gives_producer_ids(client: AIOKafkaClient, timeout_s: float) -> tuple[bool, str]:
    node = client.get_random_node()
    versions = await client.send(node, ApiVersionRequest())
    if INIT_PRODUCER_ID_API not in {entry[0] for entry in versions.api_versions}:
        return False, "refused: no InitProducerId API"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        answer = await client.send(
            node, InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=60_000)
        )
        error = for_code(answer.error_code)
        if answer.error_code == 0 and answer.producer_id >= 0:
            return True, ""
        if not error.retriable:
            return False, f"refused: InitProducerId answered {error.__name__}"
        if loop.time() + _PROBE_BACKOFF_S > deadline:
            return False, f"kept answering InitProducerId with {error.__name__} for {timeout_s:g} s"
        await asyncio.sleep(_PROBE_BACKOFF_S)


def build_producer(config: ProducerConfig, *, idempotent: bool) -> AIOKafkaProducer:
    """A producer, not started (needs a running event loop); `idempotent` as `idempotence` decided."""
    return AIOKafkaProducer(
        bootstrap_servers=config.bootstrap_servers,
        client_id=config.client_id,
        acks="all",
        enable_idempotence=idempotent,
        request_timeout_ms=int(config.send_timeout_s * 1000),
        max_request_size=config.max_request_size,
        linger_ms=config.linger_ms,
    )


async def start_producer(config: ProducerConfig) -> AIOKafkaProducer:
    """A started producer, idempotent where the broker allows; raises `PublishError` (and releases
    it) when no broker answers in time."""
    async with _as_publish_error(), asyncio.timeout(config.send_timeout_s):
        producer = build_producer(
            config, idempotent=await idempotence(config.bootstrap_servers, config.send_timeout_s / 2)
        )
        try:
            await producer.start()
        except BaseException:
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
    """One producer, built and connected on first use (idempotent where the broker allows), and
    again after a failed start.

    The process therefore starts while Kafka is down, answers "unavailable" until it is back, and needs
    no restart. Once started, the producer reconnects by itself. Create it inside a running event loop;
    `aclose()` flushes and stops the producer.
    """

    def __init__(self, config: ProducerConfig) -> None:
        self._config = config
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def publish(self, records: Sequence[Record]) -> None:
        async with _as_publish_error(), asyncio.timeout(self._config.send_timeout_s):
            await _send_all(await self._ensure_started(), records)

    async def connected(self, timeout_s: float = 2.0) -> bool:
        """Whether a broker answers now (a metadata refresh, connecting first if needed)."""
        try:
            async with _as_publish_error(), asyncio.timeout(timeout_s):
                producer = await self._ensure_started()
                return bool(await producer.client.force_metadata_update())
        except PublishError:
            return False

    async def aclose(self) -> None:
        """Flush what is pending (bounded by the send timeout) and close the connections."""
        if self._producer is not None:
            await self._producer.stop()

    async def _ensure_started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                producer = build_producer(
                    self._config,
                    idempotent=await idempotence(
                        self._config.bootstrap_servers, self._config.send_timeout_s / 2
                    ),
                )
                try:
                    await producer.start()
                except BaseException:
                    await producer.stop()
                    raise
                self._producer = producer
            return self._producer
