"""Reading `analysis.results` and `analysis.dlq` from their start, as short lines, while the demo runs.

No consumer group: every partition is read from offset 0 (the demo's broker is new and in memory,
so everything on these topics is the demo's own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer

from aexy_dev.demo.completion import Seen
from aexy_dev.demo.line import Shown, dead_letter_shown, result_shown
from aexy_stream.cli.reader import assigned_consumer


@asynccontextmanager
async def watching(bootstrap_servers: str, results_topic: str, dlq_topic: str) -> AsyncIterator[Watcher]:
    topics = (results_topic, dlq_topic)
    client = "aexy-stream-demo-watch"
    async with assigned_consumer(
        bootstrap_servers, topics, from_beginning=True, client_id=client
    ) as consumer:
        yield Watcher(consumer, results_topic)


class Watcher:
    def __init__(self, consumer: AIOKafkaConsumer, results_topic: str) -> None:
        self._consumer = consumer
        self._results_topic = results_topic
        self.seen = Seen()

    async def rows(self, timeout_s: float) -> list[Shown]:
        """The records that arrived (waiting up to `timeout_s` for the first), as short lines."""
        batch = await self._consumer.getmany(timeout_ms=int(timeout_s * 1000))
        return [self._row(record) for records in batch.values() for record in records]

    def _row(self, record: Any) -> Shown:
        if record.topic == self._results_topic:
            self.seen = Seen(self.seen.results + 1, self.seen.dead_letters)
            return result_shown(record)
        self.seen = Seen(self.seen.results, self.seen.dead_letters + 1)
        return dead_letter_shown(record)
