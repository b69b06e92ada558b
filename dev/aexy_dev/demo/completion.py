"""When the demo has shown everything: read from the processor's own metrics, not guessed.

What a record asks for depends on routing, on the activity state (follow-up analyses) and on
failures, so the demo does not predict a count. It is complete when the processor has read every
record published to it and has nothing unfinished (retry records read back included), and the
watcher has seen every result and dead letter the processor wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from aexy_dev.demo.totals import total


@dataclass(frozen=True, slots=True)
class Seen:
    """What the watcher has read so far."""

    results: int = 0
    dead_letters: int = 0


class Completion:
    def __init__(self, registry: CollectorRegistry, published: Mapping[str, int], retry_topic: str) -> None:
        self._registry = registry
        self._published = dict(published)
        self._retry_topic = retry_topic

    def complete(self, seen: Seen) -> bool:
        return self._processed() and self._shown(seen)

    def _processed(self) -> bool:
        read = all(self._read(topic) >= count for topic, count in self._published.items())
        retries_read = self._read(self._retry_topic) >= self._total("aexy_stream_retries_total")
        return read and retries_read and self._total("aexy_stream_pending_records") == 0

    def _shown(self, seen: Seen) -> bool:
        written = self._total("aexy_stream_events_out_total", topic="results")
        return seen.results >= written and seen.dead_letters >= self._total("aexy_stream_dead_letters_total")

    def _read(self, topic: str) -> float:
        return self._total("aexy_stream_events_in_total", topic=topic)

    def _total(self, name: str, **labels: str) -> float:
        return total(self._registry, name, **labels)
