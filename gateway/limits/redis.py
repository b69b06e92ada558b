"""Sliding-window logs in Redis, shared by every process that uses the same API key.

One Lua script checks and records all draws atomically, on the Redis server's clock, so several
replicas never exceed a budget together. Per window: a ZSET of entry ids scored by time, a HASH of
their amounts and a running sum, all three declared as KEYS and sharing the provider's hash tag
(`{claude}:req`), so the script also runs on Redis Cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from gateway.limits.base import Draw
from gateway.limits.memory import MemoryWindowStore
from gateway.resilience.outage import OutageWindow

TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local id = ARGV[2]
local wait = 0
for i = 1, #KEYS / 3 do
  local z, h, s = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - window)
  local freed = 0
  for _, member in ipairs(old) do
    freed = freed + (tonumber(redis.call('HGET', h, member)) or 0)
    redis.call('HDEL', h, member)
  end
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - window)
    redis.call('DECRBY', s, freed)
  end
  local limit, amount = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local used = tonumber(redis.call('GET', s) or '0')
  if used + amount > limit then
    local excess, w = used + amount - limit, window
    local entries = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
    for j = 1, #entries, 2 do
      excess = excess - (tonumber(redis.call('HGET', h, entries[j])) or 0)
      if excess <= 0 then w = tonumber(entries[j + 1]) + window - now; break end
    end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS / 3 do
  local z, h, s = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local amount = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', z, now, id)
  redis.call('HSET', h, id, amount)
  redis.call('INCRBY', s, amount)
  for _, k in ipairs({z, h, s}) do redis.call('PEXPIRE', k, window * 2) end
end
return 0
"""

ADJUST = """
for i = 1, #KEYS / 3 do
  if redis.call('HEXISTS', KEYS[3 * i - 1], ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[3 * i - 1], ARGV[1], ARGV[2])
    redis.call('INCRBY', KEYS[3 * i], ARGV[2])
  end
end
return 0
"""


class RedisWindowStore:
    """Windows in Redis; while Redis is unreachable, an in-process window keeps limiting this process.

    An outage never fails a call: the error is counted (`on_error`), the process falls back to its
    own windows for `retry_after_s`, then tries Redis again.
    """

    def __init__(
        self,
        client: Redis,
        prefix: str = "aexy:limit:",
        *,
        retry_after_s: float = 5.0,
        on_error: Callable[[str], None] = lambda _tier: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = prefix
        self._take = client.register_script(TAKE)
        self._adjust = client.register_script(ADJUST)
        self._fallback = MemoryWindowStore()
        self._outage = OutageWindow(
            "redis-limiter", retry_after_s=retry_after_s, on_error=on_error, clock=clock
        )

    async def take(self, draws: tuple[Draw, ...], entry_id: str, window_s: float) -> float:
        if self._outage.is_down:
            return await self._fallback.take(draws, entry_id, window_s)
        args: list[str | int] = [int(window_s * 1000), entry_id]
        for draw in draws:
            args += [draw.limit, draw.amount]
        try:
            wait_ms = int(await self._take(keys=self._keys(d.key for d in draws), args=args))
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)
            return await self._fallback.take(draws, entry_id, window_s)
        return max(wait_ms, 1) / 1000 if wait_ms > 0 else 0.0

    async def adjust(self, keys: tuple[str, ...], entry_id: str, delta: int) -> None:
        await self._fallback.adjust(keys, entry_id, delta)
        if self._outage.is_down:
            return
        try:
            await self._adjust(keys=self._keys(keys), args=[entry_id, delta])
        except (RedisError, OSError) as exc:
            self._outage.failed(exc)

    def _keys(self, names: Iterable[str]) -> list[str]:
        """Three declared keys per window (log, amounts, sum), so the script is cluster-safe."""
        return [self._prefix + name + part for name in names for part in ("", ":amt", ":sum")]
