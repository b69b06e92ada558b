"""The event stream's bookkeeping: ids, the ring buffer resumes read from, and one bounded,
coalescing queue per client.

An event says that a key changed (a (subject, analysis type), the reader's status); what is sent is
that key's state when it is sent. So a client that is slower than the results gets the newest state
of each key once instead of every step ("coalesced"), and a client whose queue would pass its bound,
or that asks to resume from before the ring buffer (or from another run of the server), gets one fresh
snapshot instead of what it missed. An identity merge rewrites many keys at once: every client gets
a snapshot. Ids are `<run>.<seq>`: `run` is random per server start, so an id from an earlier run
is never mistaken for one of this run.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass

RESULT = "result"
STATUS = "status"
RESYNC = "resync"


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    kind: str
    key: str
    """Events with the same key coalesce: only the last one waiting is sent."""


class ClientQueue:
    """What one client has yet to be sent: events in id order, at most one per key, or a snapshot."""

    def __init__(self, limit: int, stats: Counter[str]) -> None:
        self._limit = limit
        self._stats = stats
        self._pending: OrderedDict[str, Event] = OrderedDict()
        self._snapshot = False
        self._closed = False
        self._wake = asyncio.Event()

    def put(self, event: Event) -> None:
        if event.kind == RESYNC:
            self.snapshot()
        elif self._snapshot:
            self._stats["dropped"] += 1  # the snapshot on its way is made later and holds it
        elif self._pending.pop(event.key, None) is not None:
            self._stats["coalesced"] += 1
            self._pending[event.key] = event  # at the end: ids are sent in increasing order
        elif len(self._pending) >= self._limit:
            self._stats["overflows"] += 1
            self.snapshot()
        else:
            self._pending[event.key] = event
            self._wake.set()

    def snapshot(self) -> None:
        """Drop what waits: a fresh snapshot replaces it."""
        self._stats["dropped"] += len(self._pending)
        self._pending.clear()
        self._snapshot = True
        self._wake.set()

    def close(self) -> None:
        """The server is stopping: `take` returns nothing more."""
        self._closed = True
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def take(self) -> list[Event] | None:
        """The events waiting, oldest first, once there are any; None: send a snapshot (built at
        once, before the next await, so that it holds every event taken out of the queue)."""
        await self._wake.wait()
        self._wake.clear()
        if self._closed:
            return []
        if self._snapshot:
            self._snapshot = False
            return None
        taken = list(self._pending.values())
        self._pending.clear()
        return taken


class Hub:
    """Numbers events, keeps the last `ring_events` of them, and hands each to every client's queue."""

    def __init__(self, ring_events: int, client_queue: int) -> None:
        self.run = secrets.token_hex(6)
        self.seq = 0
        self.stats: Counter[str] = Counter()
        self._ring: deque[Event] = deque(maxlen=ring_events)
        self._limit = client_queue
        self._clients: set[ClientQueue] = set()

    @property
    def clients(self) -> int:
        return len(self._clients)

    def event_id(self, seq: int) -> str:
        return f"{self.run}.{seq}"

    def publish(self, kind: str, key: str) -> None:
        self.seq += 1
        event = Event(self.seq, kind, key)
        self._ring.append(event)
        for client in self._clients:
            client.put(event)

    def subscribe(self, last_event_id: str | None) -> ClientQueue:
        """A queue for a client that has seen everything up to `last_event_id` (None: nothing)."""
        client = ClientQueue(self._limit, self.stats)
        self._resume(client, self._seq_of(last_event_id))
        self._clients.add(client)
        return client

    def unsubscribe(self, client: ClientQueue) -> None:
        self._clients.discard(client)

    def close(self) -> None:
        for client in self._clients:
            client.close()

    def _resume(self, client: ClientQueue, seen: int | None) -> None:
        if seen is None:
            self.stats["fresh"] += 1
            client.snapshot()
            return
        oldest = self._ring[0].seq if self._ring else self.seq + 1
        if seen + 1 < oldest:
            self.stats["too_far_behind"] += 1
            client.snapshot()
            return
        self.stats["resumed"] += 1
        for event in self._ring:
            if event.seq > seen:
                client.put(event)

    def _seq_of(self, event_id: str | None) -> int | None:
        """The sequence number of an id of this run that is not in the future; else None."""
        run, _, number = (event_id or "").strip().rpartition(".")
        if run != self.run or not (number.isascii() and number.isdecimal()) or int(number) > self.seq:
            return None
        return int(number)
