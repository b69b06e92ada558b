"""The in-process tier: a size-bounded cachetools TLRU cache with a TTL per entry."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TLRUCache

from gateway.cache.base import Entry

_Stored = tuple[bytes, float]  # value, expiry on the cache's clock


def _expires(_key: str, stored: _Stored, _now: float) -> float:
    return stored[1]


class MemoryCache:
    def __init__(self, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: TLRUCache[str, _Stored] = TLRUCache(maxsize=max_items, ttu=_expires, timer=clock)

    @property
    def tier(self) -> str:
        return "memory"

    async def get(self, key: str) -> Entry | None:
        return self.peek(key)

    def peek(self, key: str) -> Entry | None:
        """`get` without awaiting: this tier never waits on anything."""
        stored = self._entries.get(key)
        if stored is None:
            return None
        return Entry(stored[0], stored[1] - self._clock())

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s > 0:
            self._entries[key] = (value, self._clock() + ttl_s)

    async def aclose(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
