"""The in-process tier: a size-bounded cachetools LRU cache with a TTL per entry.

Each entry carries its expiry and is dropped when read past it. cachetools' `TLRUCache` would also
evict expired entries before live ones, but a lookup there costs several times as much (figures:
bench/README.md), and the stream processor makes three per event; with TTLs of hours, what it would
evict first is rarely there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from cachetools import LRUCache

from gateway.cache.base import Entry

_Stored = tuple[bytes, float]  # value, expiry on the cache's clock


class MemoryCache:
    def __init__(self, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: LRUCache[str, _Stored] = LRUCache(maxsize=max_items)

    @property
    def tier(self) -> str:
        return "memory"

    async def get(self, key: str) -> Entry | None:
        return self.peek(key)

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        return [self.peek(key) for key in keys]

    def peek(self, key: str) -> Entry | None:
        """`get` without awaiting: this tier never waits on anything."""
        stored = self._entries.get(key)
        if stored is None:
            return None
        remaining = stored[1] - self._clock()
        if remaining <= 0:
            del self._entries[key]
            return None
        return Entry(stored[0], remaining)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s > 0:
            self._entries[key] = (value, self._clock() + ttl_s)

    async def aclose(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
