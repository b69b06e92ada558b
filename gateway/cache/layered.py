"""Tiers in front of each other: memory first, then Redis.

A hit in a later tier is copied into the earlier ones for the time it has left. With no tiers
(`LLM_CACHE_ENABLED=false`) every lookup is a miss and nothing is stored: the null cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from gateway.cache.base import CacheBackend, Entry
from gateway.cache.memory import MemoryCache

HitRecorder = Callable[[str, bool], None]


class _Peek(Protocol):
    @property
    def tier(self) -> str: ...

    def peek(self, key: str) -> Entry | None: ...


class _NoMemory:
    """No in-process tier first: every peek is a miss."""

    tier = "memory"

    def peek(self, key: str) -> Entry | None:
        return None


_NO_MEMORY = _NoMemory()


class LayeredCache:
    def __init__(self, tiers: Sequence[CacheBackend], record: HitRecorder = lambda _tier, _hit: None) -> None:
        self._tiers = tuple(tiers)
        self._record = record
        first = self._tiers[0] if self._tiers else None
        self._memory: _Peek = first if isinstance(first, MemoryCache) else _NO_MEMORY

    @property
    def enabled(self) -> bool:
        return bool(self._tiers)

    async def get(self, key: str) -> tuple[Entry, str] | None:
        for depth, tier in enumerate(self._tiers):
            entry = await tier.get(key)
            self._record(tier.tier, entry is not None)
            if entry is not None:
                await self._promote(depth, key, entry)
                return entry, tier.tier
        return None

    async def hits(self, keys: Sequence[str]) -> list[tuple[Entry, str] | None]:
        """What `get` would find for each key, with one `get_many` per tier for all of them (on the
        keys the tiers before it missed); hits are promoted as `get` promotes them. Counted as
        `peek` counts: a key found is counted as `get` counts it (a miss in each tier before the one
        that held it, and the hit); a key no tier holds is not counted: the caller goes on to `get`
        for it, which counts it."""
        found: list[tuple[Entry, str] | None] = [None] * len(keys)
        missing = list(range(len(keys)))
        for depth, tier in enumerate(self._tiers):
            if not missing:
                break
            entries = await tier.get_many([keys[i] for i in missing])
            for i, entry in zip(missing, entries, strict=True):
                if entry is not None:
                    await self._promote(depth, keys[i], entry)
                    self._count_hit(depth)
                    found[i] = entry, tier.tier
            missing = [i for i, entry in zip(missing, entries, strict=True) if entry is None]
        return found

    def peek(self, key: str) -> Entry | None:
        """A hit in the in-process memory tier, found without awaiting; None otherwise (a miss here
        is not counted: the caller goes on to `get`, which counts it)."""
        entry = self._memory.peek(key)
        if entry is not None:
            self._record(self._memory.tier, True)
        return entry

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        for tier in self._tiers:
            await tier.set(key, value, ttl_s)

    async def aclose(self) -> None:
        for tier in self._tiers:
            await tier.aclose()

    def _count_hit(self, depth: int) -> None:
        for tier in self._tiers[:depth]:
            self._record(tier.tier, False)
        self._record(self._tiers[depth].tier, True)

    async def _promote(self, depth: int, key: str, entry: Entry) -> None:
        for tier in self._tiers[:depth]:
            await tier.set(key, entry.value, entry.ttl_s)
