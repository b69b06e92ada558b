"""The cache-backend seam: bytes in, bytes out, with a time to live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    ttl_s: float
    """Seconds this entry has left to live."""


class CacheBackend(Protocol):
    """One cache tier. `get`/`get_many`/`set` never raise for an outage: a tier that is down is a miss."""

    @property
    def tier(self) -> str: ...

    async def get(self, key: str) -> Entry | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        """`get` of each key, in order, in one round trip for all of them."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def aclose(self) -> None: ...
