"""The shared tier: Redis with SETEX.

A Redis outage never fails a request: an error is counted, the tier is skipped for
`retry_after_s`, and used again after that (the next call is the probe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.cache.base import Entry

log = logging.getLogger(__name__)


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
        self._retry_after_s = retry_after_s
        self._on_error = on_error
        self._clock = clock
        self._down_until = 0.0

    @property
    def tier(self) -> str:
        return "redis"

    @property
    def is_down(self) -> bool:
        return self._clock() < self._down_until

    async def get(self, key: str) -> Entry | None:
        if self.is_down:
            return None
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                pipe.get(self._prefix + key)
                pipe.pttl(self._prefix + key)
                value, ttl_ms = await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        return Entry(value, ttl_ms / 1000) if value is not None and ttl_ms > 0 else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if self.is_down or ttl_s <= 0:
            return
        try:
            await self._client.set(self._prefix + key, value, px=max(int(ttl_s * 1000), 1))
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def aclose(self) -> None:
        """The client belongs to whoever made it (the composition root closes it)."""

    def _failed(self, exc: BaseException) -> None:
        self._down_until = self._clock() + self._retry_after_s
        self._on_error(self.tier)
        log.warning("redis cache unavailable for %.1fs: %s", self._retry_after_s, type(exc).__name__)
