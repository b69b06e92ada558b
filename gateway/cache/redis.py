"""The shared tier: Redis with SETEX.

A Redis outage never fails a request: an error is counted, the tier is skipped for
`retry_after_s`, and used again after that (the next call is the probe).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.cache.base import Entry
from gateway.resilience.outage import OutageWindow


class RedisCache:
    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "aexy:llm:",
        retry_after_s: float = 5.0,
        on_error: Callable[[str], None] = lambda _tier: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._outage = OutageWindow(self.tier, retry_after_s=retry_after_s, on_error=on_error, clock=clock)

    @property
    def tier(self) -> str:
        return "redis"

    @property
    def is_down(self) -> bool:
        return self._outage.is_down

    async def get(self, key: str) -> Entry | None:
        if self.is_down:
            return None
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.get(self._prefix + key)
                pipe.pttl(self._prefix + key)
                value, ttl_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return None
        return Entry(value, ttl_ms / 1000) if value is not None and ttl_ms > 0 else None

    async def get_many(self, keys: Sequence[str]) -> list[Entry | None]:
        """MGET and each key's PTTL in one pipeline: one round trip, however many keys."""
        if self.is_down or not keys:
            return [None] * len(keys)
        names = [self._prefix + key for key in keys]
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.mget(names)
                for name in names:
                    pipe.pttl(name)
                values, *ttls_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return [None] * len(keys)
        return [
            Entry(value, ttl_ms / 1000) if value is not None and ttl_ms > 0 else None
            for value, ttl_ms in zip(values, ttls_ms, strict=True)
        ]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if self.is_down or ttl_s <= 0:
            return
        try:
            await self._client.set(self._prefix + key, value, px=max(int(ttl_s * 1000), 1))
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)

    async def aclose(self) -> None:
        """The client belongs to whoever made it (the composition root closes it)."""
