"""The Redis identity store: shared by every instance of the consumer group, survives restarts.

`<prefix>of:<key>` holds the canonical key of the key's set, `<prefix>set:<canonical key>` the set's
members (a Redis set), `<prefix>pending:<canonical key>` the merges into the set not yet settled (a
hash: merged canonical id -> via). Every method is one Lua script, run by Redis as one atomic step:
a link reads both keys' sets, joins them and records the merges it makes; a look-up reads the set
and renews the TTL of every member's pointer, the set and its pending merges, so a person's keys
expire together, the TTL after they were last looked up. No other client's change can get in
between, so nothing is ever retried and no number of concurrent calls about one person can make one
give up (an optimistic WATCH would: every look-up renews the pointers the others watch). The scripts
find a set's keys as they go, so the store needs one Redis server (not Cluster); they write a set's
members in parts (Lua unpacks at most about 8,000 values at once).

A key's pointer counts only while its set still lists the key (either may have expired alone), as
in the memory store; canonical keys are compared byte by byte (code points, as Python sorts them),
whatever the server's locale.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from consumers.activity.store.base import StateUnavailable
from consumers.activity.store.redis import MAX_CONCURRENT
from consumers.identity import keys
from consumers.identity.store.base import Joined

PREFIX = "aexy:identity:"

COMMON = """
local prefix, ttl = ARGV[1], tonumber(ARGV[2])
local function of(key) return prefix .. 'of:' .. key end
local function set_of(root) return prefix .. 'set:' .. root end
local function pending_of(root) return prefix .. 'pending:' .. root end
local function found(key)
  local root = redis.call('GET', of(key))
  if root and redis.call('SISMEMBER', set_of(root), key) == 1 then return root end
  return false
end
local function less(x, y)
  for i = 1, math.min(#x, #y) do
    local cx, cy = string.byte(x, i), string.byte(y, i)
    if cx ~= cy then return cx < cy end
  end
  return #x < #y
end
local function lowest(members, kind)
  local best = false
  for _, m in ipairs(members) do
    if (kind == '' or string.sub(m, 1, #kind) == kind) and (not best or less(m, best)) then best = m end
  end
  return best
end
local function chunked(command, key, items)
  for i = 1, #items, 1000 do redis.call(command, key, unpack(items, i, math.min(i + 999, #items))) end
end
local function renewed(root, members)
  for _, m in ipairs(members) do redis.call('SET', of(m), root, 'EX', ttl) end
  redis.call('EXPIRE', set_of(root), ttl)
  redis.call('EXPIRE', pending_of(root), ttl)
  return {root, members, {}, redis.call('HGETALL', pending_of(root))}
end
"""

FIND = (
    COMMON
    + """
local key = ARGV[3]
local root = found(key) or key
redis.call('SADD', set_of(root), key)
return renewed(root, redis.call('SMEMBERS', set_of(root)))
"""
)

LINK = (
    COMMON
    + f"""
local a, b, via = ARGV[3], ARGV[4], ARGV[5]
local ra, rb = found(a), found(b)
if ra and ra == rb then return renewed(ra, redis.call('SMEMBERS', set_of(ra))) end
local roots = {{}}
if ra then roots[#roots + 1] = ra end
if rb and rb ~= ra then roots[#roots + 1] = rb end
table.sort(roots, less)
local members, seen = {{}}, {{}}
local function add(m) if not seen[m] then seen[m] = true; members[#members + 1] = m end end
add(a)
add(b)
local pending = {{}}
for _, r in ipairs(roots) do
  for _, m in ipairs(redis.call('SMEMBERS', set_of(r))) do add(m) end
  local held = redis.call('HGETALL', pending_of(r))
  for i = 1, #held, 2 do pending[held[i]] = held[i + 1] end
end
local root = lowest(members, '{keys.LOGIN}') or lowest(members, '{keys.EMAIL}') or lowest(members, '')
local replaced = {{}}
for _, r in ipairs(roots) do
  if r ~= root then
    replaced[#replaced + 1] = r
    pending[string.sub(r, string.find(r, ':', 1, true) + 1)] = via
  end
  redis.call('DEL', set_of(r), pending_of(r))
end
for _, m in ipairs(members) do redis.call('SET', of(m), root, 'EX', ttl) end
chunked('SADD', set_of(root), members)
redis.call('EXPIRE', set_of(root), ttl)
local flat = {{}}
for name, how in pairs(pending) do flat[#flat + 1] = name; flat[#flat + 1] = how end
if #flat > 0 then
  chunked('HSET', pending_of(root), flat)
  redis.call('EXPIRE', pending_of(root), ttl)
end
return {{root, members, replaced, flat}}
"""
)

SETTLE = (
    COMMON
    + """
local now = found(ARGV[3])
if not now then return 0 end
local names = {}
for i = 4, #ARGV do names[#names + 1] = ARGV[i] end
chunked('HDEL', pending_of(now), names)
return 1
"""
)


class RedisIdentityStore:
    def __init__(
        self, client: Redis, ttl_s: int, prefix: str = PREFIX, max_concurrent: int = MAX_CONCURRENT
    ) -> None:
        self._ttl_s = ttl_s
        self._prefix = prefix
        self._gate = asyncio.Semaphore(max_concurrent)
        self._find = client.register_script(FIND)
        self._link = client.register_script(LINK)
        self._settle = client.register_script(SETTLE)

    async def find(self, key: str) -> Joined:
        async with self._gate, _outage():
            return _joined(await self._find(args=self._args(key)))

    async def link(self, a: str, b: str, via: str) -> Joined:
        async with self._gate, _outage():
            return _joined(await self._link(args=self._args(a, b, via)))

    async def settle(self, root: str, merged: Iterable[str]) -> None:
        names = sorted(set(merged))
        if names:
            async with self._gate, _outage():
                await self._settle(args=self._args(root, *names))

    async def aclose(self) -> None:
        return None  # the client belongs to the composition root

    def _args(self, *values: str) -> list[str | int]:
        return [self._prefix, self._ttl_s, *values]


def _joined(answer: Sequence[Any]) -> Joined:
    """A script's answer: the set's canonical key, its members, the canonical keys of the sets the
    call replaced, and its pending merges (a flat list of merged canonical id, via)."""
    root, members, replaced, pending = answer
    flat = [_text(item) for item in pending]
    return Joined(
        _text(root),
        frozenset(_text(member) for member in members),
        tuple(keys.value(old) for old in sorted(_text(r) for r in replaced)),
        tuple(sorted(zip(flat[::2], flat[1::2], strict=True))),
    )


@asynccontextmanager
async def _outage() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StateUnavailable(f"identity store: {type(exc).__name__}: {exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
