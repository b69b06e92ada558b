"""The cache-backend seam: bytes in, bytes out, with a time to live."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Entry:
    value: bytes
    ttl_s: float
    """Seconds this entry has left to live."""


class CacheBackend(Protocol):
    """One cache tier. `get`/`set` never raise for an outage: a tier that is down is a miss."""

    @property
    def tier(self) -> str: ...

    async def get(self, key: str) -> Entry | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def aclose(self) -> None: ...
