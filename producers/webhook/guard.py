"""One lock per delivery id, held from the duplicate check to the mark, so concurrent copies publish once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Slot:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class DeliveryLocks:
    """Locks exist only while someone holds or waits for them, so memory stays bounded by requests in flight.

    Within one process. Replicas share the Redis store, not these locks: two replicas receiving the same
    delivery at the same instant may both publish it (at least once).
    """

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        slot = self._slots.setdefault(key, _Slot())
        slot.users += 1
        try:
            async with slot.lock:
                yield
        finally:
            slot.users -= 1
            if not slot.users:
                del self._slots[key]
