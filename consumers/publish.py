"""The records the processor writes: results, retry records and dead letters.

Every method returns the broker's delivery future; the caller awaits it before marking the
input finished (see `consumers/commit.py`). The counters of records written (`events_out`,
`retries`, `dead_letters`) are counted here, when the broker acknowledged the record, so they
equal what the topics hold.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import CollectorRegistry

from consumers import headers as h
from consumers.commit import acknowledgement
from consumers.config import Topics
from consumers.dead_letter_fit import fitted
from consumers.metrics import ProcessorMetrics
from consumers.outbox import Outbox
from consumers.size_policy import DEFAULT_MAX_EVENT_BYTES, record_limit
from gateway.metric_family import CountChild
from schemas.envelope import AnalysisResult, envelope_json
from schemas.identity import IdentityMerged
from schemas.request import AnalysisRequest
from schemas.retry import RETRY_GROUP, RetryGroup

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

    def with_value(self, value: bytes) -> Origin:
        return Origin(self.topic, self.partition, self.offset, self.key, value, self.event_id, self.headers)


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
    def __init__(
        self,
        producer: AIOKafkaProducer,
        topics: Topics,
        metrics: ProcessorMetrics | None = None,
        max_record_bytes: int = record_limit(DEFAULT_MAX_EVENT_BYTES),
    ) -> None:
        self._producer = producer
        self._topics = topics
        self._metrics = metrics or ProcessorMetrics(CollectorRegistry())
        self._outbox = Outbox(producer, self._metrics.events_out.labels("results").inc)
        self._copies = Outbox(producer, self._metrics.events_out.labels("results_by_type").inc)
        """The per-type copies of results (`Topics.results_per_type`), counted apart from the results."""
        self._counts: dict[str, int] = {}
        """Partitions per topic as last seen in the producer's metadata."""
        self._max_record_bytes = max_record_bytes
        """The producer's `max_request_size`."""
        self._dead_letter_bytes = max_record_bytes
        """What a dead letter may take: the producer's limit, or the dead-letter topic's if lower."""

    async def start(self) -> None:
        """Learn the partitions of every topic written (results and their per-type copies, retries,
        dead letters; waits for the producer's metadata) before the first record: a send then never
        waits for metadata, which a producer whose broker is gone would wait for without end."""
        written = (self._topics.results, self._topics.retry, self._topics.dlq, *self._topics.results_by_type)
        for topic in written:
            self._counts[topic] = len(await self._producer.partitions_for(topic))

    def limit_dead_letters(self, topic_bytes: int) -> None:
        """The dead-letter topic's own `max.message.bytes`: dead letters are fitted to the lower
        of it and the producer's limit (`consumers/dead_letter_fit.py`)."""
        self._dead_letter_bytes = min(self._max_record_bytes, topic_bytes)

    def result(self, envelope: AnalysisResult[Any]) -> Delivery:
        """Keyed by subject, so one subject's results stay in order on one partition; batched per
        partition (`consumers/outbox.py`): the delivery is the batch's.

        With `results_per_type`, the same record (key, value, no headers) goes to the type's topic
        too, and the delivery is both records': it resolves when the broker acknowledged both, fails
        if either failed, so the input stays unfinished and is read again (at least once, both)."""
        value = envelope_json(envelope)
        key = (envelope.subject or envelope.request_id).encode()
        delivery = self._keyed(self._outbox, self._topics.results, key, value)
        if not self._topics.results_per_type:
            return delivery
        topic = self._topics.results_of(envelope.analysis_type.value)
        return acknowledgement((delivery, self._keyed(self._copies, topic, key, value)))

    def _keyed(self, outbox: Outbox, topic: str, key: bytes, value: bytes) -> Delivery:
        partition = _keyed_partition(key, self._partition_count(topic))
        return outbox.put(TopicPartition(topic, partition), key, value)

    async def identity_merged(self, record: IdentityMerged) -> Delivery:
        """On the results topic, keyed by the canonical subject (the partition of its results)."""
        headers = h.encode({h.RECORD_TYPE: record.record_type})
        delivery: Delivery = await self._producer.send(
            self._topics.results,
            record.model_dump_json().encode(),
            key=record.subject.encode(),
            headers=headers,
        )
        return _when_written(delivery, self._metrics.events_out.labels("results"))

    async def flush(self) -> None:
        """Every result published so far handed to the producer (call before stopping it)."""
        await asyncio.gather(self._outbox.flush(), self._copies.flush())

    async def close(self, timeout_s: float) -> bool:
        """`flush` within `timeout_s` (before stopping the producer); what is not handed over by
        then is abandoned, its deliveries cancelled. Whether everything was handed over."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.flush()
        except TimeoutError:
            await asyncio.gather(self._outbox.abandon(), self._copies.abandon())
            return False
        return True

    def _partition_count(self, topic: str) -> int:
        """From the producer's metadata at hand (it follows a topic that grows), else as last seen."""
        known = self._producer.client.cluster.partitions_for_topic(topic)
        if known:
            self._counts[topic] = len(known)
        elif topic not in self._counts:
            raise RuntimeError(f"no partitions known for {topic}: call Publisher.start() first")
        return self._counts[topic]

    async def retry(
        self, requests: Sequence[AnalysisRequest], origin: Origin, failure: Failure, due_s: float
    ) -> Delivery:
        """One record for `requests`: one request's value is the `AnalysisRequest`; several (a fused
        call that failed as a whole) are one `RetryGroup`, header `x-record-type: retry_group`."""
        due_ms = int((time.time() + due_s) * 1000)
        meta = self._origin_headers(origin) | {
            h.ATTEMPT: failure.attempts,
            h.DUE_AT: due_ms,
            h.ERROR_TYPE: failure.error_type,
            h.DLQ_REASON: h.one_line(failure.reason),
            h.FIRST_FAILURE_AT: failure.first_failure_at,
        }
        if len(requests) == 1:
            value = requests[0].model_dump_json().encode()
        else:
            value = RetryGroup(requests=tuple(requests)).model_dump_json().encode()
            meta[h.RECORD_TYPE] = RETRY_GROUP
        delivery: Delivery = await self._producer.send(
            self._topics.retry, value, key=origin.key, headers=h.encode(meta)
        )
        m = self._metrics
        return _when_written(delivery, m.retries.labels(failure.error_type), m.events_out.labels("retry"))

    async def dead_letter(
        self, origin: Origin, failure: Failure, replay_topic: str, **extra: str
    ) -> Delivery:
        """The original value, key and headers untouched when they fit the dead-letter topic, else
        a bounded prefix (`consumers/dead_letter_fit.py`); the story in headers."""
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
        own = h.own_headers(origin.headers)
        letter = fitted(origin.key, origin.value, own, h.encode(meta), self._dead_letter_bytes)
        delivery: Delivery = await self._producer.send(
            self._topics.dlq, letter.value, key=letter.key, headers=letter.headers
        )
        m = self._metrics
        return _when_written(delivery, m.dead_letters.labels(failure.error_type), m.events_out.labels("dlq"))

    @staticmethod
    def _origin_headers(origin: Origin) -> dict[str, object]:
        return {
            h.ORIGINAL_TOPIC: origin.topic,
            h.ORIGINAL_PARTITION: origin.partition,
            h.ORIGINAL_OFFSET: origin.offset,
            h.EVENT_ID: origin.event_id,
        }


def _when_written(delivery: Delivery, *counts: CountChild) -> Delivery:
    """Counted once the broker acknowledged the record, not when it was handed to the producer."""

    def written(done: Delivery) -> None:
        if not done.cancelled() and done.exception() is None:
            for count in counts:
                count.inc()

    delivery.add_done_callback(written)
    return delivery


@lru_cache(maxsize=65_536)
def _keyed_partition(key: bytes, count: int) -> int:
    """What the producer's default partitioner picks for a key: murmur2 over all partitions (Kafka
    numbers them 0..count-1), as Java clients do. Chosen here because aiokafka otherwise builds the
    set of available partitions on every send, which a keyed partitioner then ignores. Memoized:
    aiokafka's murmur2 is pure Python and a subject's key recurs with each of its results; keyed by
    the count too, so a topic that grows is hashed anew."""
    partitions = list(range(count))
    return int(_KEYED(key, partitions, partitions))
