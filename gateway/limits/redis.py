"""Sliding-window logs in Redis, shared by every process that uses the same API key.

One Lua script checks and records all draws atomically, on the Redis server's clock, so several
replicas never exceed a budget together. Per window key: a ZSET of entry ids scored by time, a
HASH of their amounts and a running sum.
"""

from __future__ import annotations

from redis.asyncio import Redis

from gateway.limits.base import Draw

TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local id = ARGV[2]
local wait = 0
for i = 1, #KEYS do
  local z, h, s = KEYS[i], KEYS[i] .. ':amt', KEYS[i] .. ':sum'
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
for i = 1, #KEYS do
  local z, h, s = KEYS[i], KEYS[i] .. ':amt', KEYS[i] .. ':sum'
  local amount = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', z, now, id)
  redis.call('HSET', h, id, amount)
  redis.call('INCRBY', s, amount)
  for _, k in ipairs({z, h, s}) do redis.call('PEXPIRE', k, window * 2) end
end
return 0
"""

ADJUST = """
for i = 1, #KEYS do
  if redis.call('HEXISTS', KEYS[i] .. ':amt', ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[i] .. ':amt', ARGV[1], ARGV[2])
    redis.call('INCRBY', KEYS[i] .. ':sum', ARGV[2])
  end
end
return 0
"""


class RedisWindowStore:
    def __init__(self, client: Redis, prefix: str = "aexy:limit:") -> None:
        self._prefix = prefix
        self._take = client.register_script(TAKE)
        self._adjust = client.register_script(ADJUST)

    async def take(self, draws: tuple[Draw, ...], entry_id: str, window_s: float) -> float:
        keys = [self._prefix + draw.key for draw in draws]
        args: list[str | int] = [int(window_s * 1000), entry_id]
        for draw in draws:
            args += [draw.limit, draw.amount]
        wait_ms = await self._take(keys=keys, args=args)
        return max(int(wait_ms), 1) / 1000 if int(wait_ms) > 0 else 0.0

    async def adjust(self, keys: tuple[str, ...], entry_id: str, delta: int) -> None:
        await self._adjust(keys=[self._prefix + key for key in keys], args=[entry_id, delta])
