"""One demo run on a started broker: the processor in-process, the feed published, results shown
as they arrive, until everything expected has arrived or `stop` is set (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry

from aexy_dev.demo.completion import Completion
from aexy_dev.demo.feed import Feed
from aexy_dev.demo.summary import Summary
from aexy_dev.demo.view import ResultView
from aexy_dev.demo.watch import watching
from consumers.config import Topics
from producers.kafka import ProducerConfig, publish, start_producer

POLL_S = 0.2
PUBLISH_TIMEOUT_S = 60.0


class Runnable(Protocol):
    """The stream processor, as the demo drives it."""

    async def run(self, stop: asyncio.Event) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    summary: Summary
    seconds: float
    interrupted: bool


@dataclass(frozen=True, slots=True)
class Session:
    processor: Runnable
    registry: CollectorRegistry
    """Where the processor and the gateway count (the completion check and summary read it)."""
    topics: Topics
    producer: ProducerConfig

    async def run(self, feed: Feed, view: ResultView, stop: asyncio.Event) -> Outcome:
        started = time.monotonic()
        halt = asyncio.Event()
        processing = asyncio.create_task(self.processor.run(halt))
        try:
            await self._show(feed, view, stop, processing)
            interrupted = stop.is_set()
        finally:
            halt.set()
            await processing
        summary = Summary.of(self.registry, feed.per_topic())
        return Outcome(summary, time.monotonic() - started, interrupted)

    async def _show(
        self, feed: Feed, view: ResultView, stop: asyncio.Event, processing: asyncio.Task[None]
    ) -> None:
        completion = Completion(self.registry, feed.per_topic(), self.topics.retry)
        async with watching(self.producer.bootstrap_servers, self.topics.results, self.topics.dlq) as watcher:
            await self._publish(feed)
            while not stop.is_set() and not completion.complete(watcher.seen):
                if processing.done():  # it returns only when asked to: this is a failure
                    processing.result()
                    raise RuntimeError("the processor stopped by itself")
                view.add(await watcher.rows(POLL_S))

    async def _publish(self, feed: Feed) -> None:
        producer = await start_producer(self.producer)
        try:
            await publish(producer, feed.records, PUBLISH_TIMEOUT_S)
        finally:
            await producer.stop()
