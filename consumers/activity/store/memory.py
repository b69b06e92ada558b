"""The in-process state store: the embedded default (lost on restart, not shared)."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from cachetools import TTLCache

from consumers.activity.store.base import Change, Doc

MAX_DOCS = 100_000
MAX_MARKERS = 1_000_000
"""Markers beyond this evict the oldest: an event older than the last million may count twice."""


class MemoryStateStore:
    """No await between reading and writing: every method is atomic within the process."""

    def __init__(self, ttl_s: float, max_docs: int = MAX_DOCS, max_markers: int = MAX_MARKERS) -> None:
        self._docs: TTLCache[str, Doc] = TTLCache(max_docs, ttl_s)
        self._markers: TTLCache[str, bool] = TTLCache(max_markers, ttl_s)

    async def first(self, marker: str) -> bool:
        if marker in self._markers:
            return False
        self._markers[marker] = True
        return True

    async def seen(self, marker: str) -> bool:
        return marker in self._markers

    async def seen_among(self, markers: Sequence[str]) -> frozenset[str]:
        return frozenset(marker for marker in markers if marker in self._markers)

    async def load(self, key: str) -> Doc | None:
        found = self._docs.get(key)
        return copy.deepcopy(found) if found is not None else None

    async def change(self, key: str, update: Change) -> Doc:
        doc = update(self._docs.get(key) or {})
        self._docs[key] = doc  # re-set: the TTL restarts at every update
        return copy.deepcopy(doc)

    async def change_once(self, key: str, update: Change, marker: str) -> tuple[Doc, bool]:
        if not await self.first(marker):
            return (await self.load(key) or {}), False
        return await self.change(key, update), True

    async def aclose(self) -> None:
        self._docs.clear()
        self._markers.clear()
