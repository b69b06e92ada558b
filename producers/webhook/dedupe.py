"""Which deliveries were already published: one small seam, a memory and a Redis backend.

A delivery is marked only after the broker acknowledged its records, so a failed write can be redelivered.
A store that is down never blocks a delivery: `seen` answers False (the delivery may be published twice,
at least once) and the error is counted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.resilience.outage import OutageWindow


class DedupeStore(Protocol):
    async def seen(self, delivery_id: str) -> bool:
        """Whether the delivery was marked within the TTL."""
        ...

    async def mark(self, delivery_id: str) -> None:
        """Remember the delivery for the TTL (a second mark keeps the first)."""
        ...


class MemoryDedupeStore:
    """One process's memory: a size-bounded TTL map (the oldest entries go first when full)."""

    def __init__(self, ttl_s: float, max_items: int = 100_000, timer: Callable[[], float] = time.monotonic):
        self._marked: TTLCache[str, bool] = TTLCache(max_items, ttl_s, timer=timer)

    async def seen(self, delivery_id: str) -> bool:
        return delivery_id in self._marked

    async def mark(self, delivery_id: str) -> None:
        if delivery_id not in self._marked:
            self._marked[delivery_id] = True

    def __len__(self) -> int:
        return len(self._marked)


class RedisDedupeStore:
    """Shared by every replica: `SET prefix+id 1 NX PX ttl`.

    At most `max_concurrency` commands at once: redis-py's asyncio pool raises (not waits) past its
    size (100 by default), and a burst of deliveries would otherwise look like an outage.
    """

    def __init__(
        self,
        client: Redis,
        ttl_s: float,
        *,
        prefix: str = "aexy:webhook:delivery:",
        retry_after_s: float = 5.0,
        on_error: Callable[[str], None] = lambda _store: None,
        max_concurrency: int = 32,
    ) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(max_concurrency)
        self._ttl_ms = max(int(ttl_s * 1000), 1)
        self._prefix = prefix
        self._outage = OutageWindow("redis", retry_after_s=retry_after_s, on_error=on_error)

    async def seen(self, delivery_id: str) -> bool:
        if self._outage.is_down:
            return False
        try:
            async with self._slots:
                return bool(await self._client.exists(self._prefix + delivery_id))
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return False

    async def mark(self, delivery_id: str) -> None:
        if self._outage.is_down:
            return
        try:
            async with self._slots:
                await self._client.set(self._prefix + delivery_id, b"1", nx=True, px=self._ttl_ms)
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
