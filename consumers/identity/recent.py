"""A bounded in-process map whose entries are trusted for a while: the resolver's cache.

One dict look-up and one clock read per question: cachetools' `TTLCache.get` costs some thirty times
a dict look-up, and the processor asks once per request on its fast path.
"""

from __future__ import annotations

import time
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most `size` entries, each trusted `ttl_s` after it was put; the oldest put goes first."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self._size = size
        self._ttl_s = ttl_s
        self._items: dict[K, tuple[V, float]] = {}

    def get(self, key: K, now: float) -> V | None:
        """The value, if it was put less than `ttl_s` before `now` (`time.monotonic()`)."""
        found = self._items.get(key)
        return found[0] if found is not None and found[1] > now else None

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)  # put again: last in the order
        if len(self._items) >= self._size:
            del self._items[next(iter(self._items))]
        self._items[key] = (value, time.monotonic() + self._ttl_s)

    def __len__(self) -> int:
        return len(self._items)
