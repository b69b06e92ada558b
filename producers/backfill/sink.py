"""Streaming records to Kafka with a bounded number of unacknowledged sends.

A backfill may publish millions of records: each is sent as soon as it is read, and at most
`window` of them wait for the broker's acknowledgement at once, so memory stays flat and the
broker sees full batches. The first failed acknowledgement stops the backfill with
`PublishError`: what was acknowledged before it is on the topic, and ids are stable, so running
the backfill again republishes the same events (consumers deduplicate by event id).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaProducer

from producers.kafka import ProducerConfig, PublishError, Record, start_producer

WINDOW = 2000


class BackfillSink:
    def __init__(self, config: ProducerConfig, window: int = WINDOW) -> None:
        self._config = config
        self._window = window
        self._pending: deque[asyncio.Future[Any]] = deque()
        self._producer: AIOKafkaProducer | None = None
        self.acknowledged = 0

    async def __aenter__(self) -> Self:
        self._producer = await start_producer(self._config)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                await self.flush()
        finally:
            await self._started().stop()

    async def send(self, record: Record) -> None:
        """Send one record; wait for the oldest acknowledgement first when the window is full."""
        if len(self._pending) >= self._window:
            await self._settle_oldest()
        producer = self._started()
        delivery = await self._as_publish_error(
            producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
        )
        self._pending.append(delivery)

    async def flush(self) -> None:
        """Wait until every record sent so far is acknowledged."""
        while self._pending:
            await self._settle_oldest()

    async def _settle_oldest(self) -> None:
        await self._as_publish_error(self._pending.popleft())
        self.acknowledged += 1

    async def _as_publish_error(self, waiting: Any) -> Any:
        try:
            async with asyncio.timeout(self._config.send_timeout_s * 6):
                return await waiting
        except PublishError:
            raise
        except Exception as exc:  # KafkaError, TimeoutError, OSError: the broker did not take it
            raise PublishError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("BackfillSink used outside `async with`")
        return self._producer
