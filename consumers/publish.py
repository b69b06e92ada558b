"""The records the processor writes: results, retry records and dead letters.

Every method returns the broker's delivery future; the caller awaits it before marking the
input finished (see `consumers/commit.py`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from consumers import headers as h
from consumers.config import Topics
from consumers.outbox import Outbox
from schemas.envelope import AnalysisResult, envelope_json
from schemas.identity import IdentityMerged
from schemas.request import AnalysisRequest

Delivery = asyncio.Future[Any]
_KEYED = DefaultPartitioner()


@dataclass(frozen=True, slots=True)
class Origin:
    """The input record a piece of work came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    event_id: str = ""
    headers: tuple[tuple[str, bytes], ...] = ()
    """The input record's own headers (e.g. x-github-event), kept on dead letters for replay."""

    @classmethod
    def of(cls, record: Any) -> Origin:
        """The origin of a consumed aiokafka record."""
        value, headers = record.value or b"", tuple(record.headers or ())
        return cls(record.topic, record.partition, record.offset, record.key, value, headers=headers)

    def with_event_id(self, event_id: str) -> Origin:
        """Not `dataclasses.replace`, which inspects the fields on every call: this runs once per event."""
        return Origin(self.topic, self.partition, self.offset, self.key, self.value, event_id, self.headers)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a request failed, and its retry history."""

    reason: str
    error_type: str
    attempts: int
    first_failure_at: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Publisher:
    def __init__(self, producer: AIOKafkaProducer, topics: Topics) -> None:
        self._producer = producer
        self._topics = topics
        self._outbox = Outbox(producer)
        self._counts: dict[str, int] = {}
        """Partitions per topic as last seen in the producer's metadata."""

    async def start(self) -> None:
        """Learn the results topic's partitions (waits for the producer's metadata) before the
        first result: `result` then never waits."""
        self._counts[self._topics.results] = len(await self._producer.partitions_for(self._topics.results))

    def result(self, envelope: AnalysisResult[Any]) -> Delivery:
        """Keyed by subject, so one subject's results stay in order on one partition; batched per
        partition (`consumers/outbox.py`): the delivery is the batch's."""
        value = envelope_json(envelope)
        key = (envelope.subject or envelope.request_id).encode()
        topic = self._topics.results
        partition = _keyed_partition(key, self._partition_count(topic))
        return self._outbox.put(TopicPartition(topic, partition), key, value)

    async def identity_merged(self, record: IdentityMerged) -> Delivery:
        """On the results topic, keyed by the canonical subject (the partition of its results)."""
        headers = h.encode({h.RECORD_TYPE: record.record_type})
        delivery: Delivery = await self._producer.send(
            self._topics.results,
            record.model_dump_json().encode(),
            key=record.subject.encode(),
            headers=headers,
        )
        return delivery

    async def flush(self) -> None:
        """Every result published so far handed to the producer (call before stopping it)."""
        await self._outbox.flush()

    def _partition_count(self, topic: str) -> int:
        """From the producer's metadata at hand (it follows a topic that grows), else as last seen."""
        known = self._producer.client.cluster.partitions_for_topic(topic)
        if known:
            self._counts[topic] = len(known)
        elif topic not in self._counts:
            raise RuntimeError(f"no partitions known for {topic}: call Publisher.start() first")
        return self._counts[topic]

    async def retry(
        self, request: AnalysisRequest, origin: Origin, failure: Failure, due_s: float
    ) -> Delivery:
        due_ms = int((time.time() + due_s) * 1000)
        meta = self._origin_headers(origin) | {
            h.ATTEMPT: failure.attempts,
            h.DUE_AT: due_ms,
            h.ERROR_TYPE: failure.error_type,
            h.DLQ_REASON: h.one_line(failure.reason),
            h.FIRST_FAILURE_AT: failure.first_failure_at,
        }
        value = request.model_dump_json().encode()
        delivery: Delivery = await self._producer.send(
            self._topics.retry, value, key=origin.key, headers=h.encode(meta)
        )
        return delivery

    async def dead_letter(
        self, origin: Origin, failure: Failure, replay_topic: str, **extra: str
    ) -> Delivery:
        """The original value and key untouched, the story in headers."""
        meta = (
            self._origin_headers(origin)
            | extra
            | {
                h.DLQ_REASON: h.one_line(failure.reason),
                h.ERROR_TYPE: failure.error_type,
                h.ATTEMPTS: failure.attempts,
                h.FIRST_FAILURE_AT: failure.first_failure_at,
                h.REPLAY_TOPIC: replay_topic,
            }
        )
        headers = h.own_headers(origin.headers) + h.encode(meta)
        delivery: Delivery = await self._producer.send(
            self._topics.dlq, origin.value, key=origin.key, headers=headers
        )
        return delivery

    @staticmethod
    def _origin_headers(origin: Origin) -> dict[str, object]:
        return {
            h.ORIGINAL_TOPIC: origin.topic,
            h.ORIGINAL_PARTITION: origin.partition,
            h.ORIGINAL_OFFSET: origin.offset,
            h.EVENT_ID: origin.event_id,
        }


@lru_cache(maxsize=65_536)
def _keyed_partition(key: bytes, count: int) -> int:
    """What the producer's default partitioner picks for a key: murmur2 over all partitions (Kafka
    numbers them 0..count-1), as Java clients do. Chosen here because aiokafka otherwise builds the
    set of available partitions on every send, which a keyed partitioner then ignores. Memoized:
    aiokafka's murmur2 is pure Python and a subject's key recurs with each of its results; keyed by
    the count too, so a topic that grows is hashed anew."""
    partitions = list(range(count))
    return int(_KEYED(key, partitions, partitions))
