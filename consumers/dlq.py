"""Reading and re-driving the dead-letter topic (`aexy-stream dlq list|replay`).

`replay` re-publishes each matching dead letter, value, key and the producer's own headers
untouched, to the topic in its `x-replay-topic` header (the input topic it came from, or
`analysis.requests` for a request that exhausted its retries). It reads the whole DLQ each time
and commits nothing, so a later replay with another `--reason` still finds every record. Running
the same replay twice re-drives twice: results carry deterministic request ids (deduplicable)
and answers already in the cache cost no provider call.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from consumers import headers as h
from consumers.size_policy import DEFAULT_MAX_EVENT_BYTES, record_limit
from producers.kafka import idempotence

IDLE_S = 1.5


@dataclass(frozen=True, slots=True)
class DeadLetter:
    partition: int
    offset: int
    record: Any

    @property
    def meta(self) -> dict[str, str]:
        return h.as_dict(self.record.headers)

    def line(self) -> str:
        m = self.meta
        topic, partition = m.get(h.ORIGINAL_TOPIC, "?"), m.get(h.ORIGINAL_PARTITION, "?")
        source = f"{topic}[{partition}]@{m.get(h.ORIGINAL_OFFSET, '?')}"
        return (
            f"{self.partition}@{self.offset}  {m.get(h.ERROR_TYPE, '?')}  attempts={m.get(h.ATTEMPTS, '?')}  "
            f"from {source}  {m.get(h.DLQ_REASON, '')}"
        )

    @property
    def cut(self) -> bool:
        """Only a prefix of the original value is here (`consumers/dead_letter_fit.py`): replaying
        it would replay the prefix; the original is where `x-original-*` says."""
        return h.DLQ_VALUE_KEPT in self.meta

    def matches(self, reason: str) -> bool:
        text = f"{self.meta.get(h.ERROR_TYPE, '')} {self.meta.get(h.DLQ_REASON, '')}"
        return reason.lower() in text.lower()


async def dead_letters(bootstrap: str, topic: str) -> AsyncIterator[DeadLetter]:
    """Every dead letter so far (a throwaway consumer group, nothing committed), until idle."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"aexy-stream-dlq-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        while batch := await consumer.getmany(timeout_ms=int(IDLE_S * 1000)):
            for records in batch.values():
                for record in records:
                    yield DeadLetter(record.partition, record.offset, record)
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str,
    topic: str,
    reason: str = "",
    passed_over: Callable[[DeadLetter], None] = lambda _: None,
    max_record_bytes: int = record_limit(DEFAULT_MAX_EVENT_BYTES),
) -> int:
    """Re-publish matching dead letters to their replay topic; returns how many. One that carries
    only a prefix of its value is passed over (told to `passed_over`), never replayed cut."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=await idempotence(bootstrap),
        max_request_size=max_record_bytes,
    )
    await producer.start()
    count = 0
    try:
        async for letter in dead_letters(bootstrap, topic):
            if letter.matches(reason) and letter.cut:
                passed_over(letter)
            elif letter.matches(reason):
                await _republish(producer, letter)
                count += 1
    finally:
        await producer.stop()
    return count


async def _republish(producer: AIOKafkaProducer, letter: DeadLetter) -> None:
    target = letter.meta.get(h.REPLAY_TOPIC) or letter.meta[h.ORIGINAL_TOPIC]
    record = letter.record
    delivery = await producer.send(
        target, record.value, key=record.key, headers=h.own_headers(record.headers)
    )
    await asyncio.wait_for(delivery, timeout=30)
