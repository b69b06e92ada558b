"""Tiers in front of each other: memory first, then Redis.

A hit in a later tier is copied into the earlier ones for the time it has left. With no tiers
(`LLM_CACHE_ENABLED=false`) every lookup is a miss and nothing is stored: the null cache.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gateway.cache.base import CacheBackend, Entry

HitRecorder = Callable[[str, bool], None]


class LayeredCache:
    def __init__(self, tiers: Sequence[CacheBackend], record: HitRecorder = lambda _tier, _hit: None) -> None:
        self._tiers = tuple(tiers)
        self._record = record

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

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        for tier in self._tiers:
            await tier.set(key, value, ttl_s)

    async def aclose(self) -> None:
        for tier in self._tiers:
            await tier.aclose()

    async def _promote(self, depth: int, key: str, entry: Entry) -> None:
        for tier in self._tiers[:depth]:
            await tier.set(key, entry.value, entry.ttl_s)
