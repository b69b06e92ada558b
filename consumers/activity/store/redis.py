"""The Redis state store: shared by every instance of the consumer group, survives restarts.

Documents are JSON strings changed optimistically: read (with the change's marker) in one round
trip, updated here, then written by a Lua script only if the document is still the one read (its
SHA-1) and the marker still unset, the marker with it; an update that races another instance's is
re-applied to the value the script answers with. A change counted before (its marker set) is one
round trip; a new one two. Markers are `SET NX EX`. Every key expires the state TTL after its last
update. Keys: `<prefix>doc:<key>`, `<prefix>seen:<marker>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from consumers.activity.store.base import Change, Doc, StateUnavailable

log = logging.getLogger(__name__)
PREFIX = "aexy:activity:"
ATTEMPTS = 20
MAX_CONCURRENT = 16
"""Store operations at once: the state never takes more than this many of the pool's connections."""
BACKOFF_S = 0.01
MARK = b"\0"

READ = """
local counted = 0
if KEYS[2] then counted = redis.call('EXISTS', KEYS[2]) end
return {counted, redis.call('GET', KEYS[1])}
"""
WRITE = """
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then return {2, redis.call('GET', KEYS[1])} end
local now = redis.call('GET', KEYS[1])
if (now and redis.sha1hex(now) or '') ~= ARGV[1] then return {0, now} end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
if KEYS[2] then redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[3]) end
return {1, false}
"""
"""Answers (outcome, document now): 1 written; 0 the document changed since it was read; 2 the
marker was set meanwhile (counted by another instance)."""


class RedisStateStore:
    def __init__(
        self, client: Redis, ttl_s: int, prefix: str = PREFIX, max_concurrent: int = MAX_CONCURRENT
    ) -> None:
        self._client = client
        self._gate = asyncio.Semaphore(max_concurrent)
        self._ttl_s = ttl_s
        self._prefix = prefix
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        """Gone with the last coroutine holding or awaiting it."""
        self._read = client.register_script(READ)
        self._write = client.register_script(WRITE)

    async def first(self, marker: str) -> bool:
        async with self._gate, _outage():
            return bool(await self._client.set(self._seen(marker), MARK, nx=True, ex=self._ttl_s))

    async def seen(self, marker: str) -> bool:
        async with self._gate, _outage():
            return bool(await self._client.exists(self._seen(marker)))

    async def seen_among(self, markers: Sequence[str]) -> frozenset[str]:
        if not markers:
            return frozenset()
        async with self._gate, _outage():
            found = await self._client.mget([self._seen(marker) for marker in markers])
        return frozenset(marker for marker, value in zip(markers, found, strict=True) if value is not None)

    async def load(self, key: str) -> Doc | None:
        async with self._gate, _outage():
            raw = await self._client.get(self._doc(key))
        return _decoded(raw) if raw is not None else None

    async def change(self, key: str, update: Change) -> Doc:
        doc, _ = await self._locked(key, update, None)
        return doc

    async def change_once(self, key: str, update: Change, marker: str) -> tuple[Doc, bool]:
        return await self._locked(key, update, self._seen(marker))

    async def _counted(self, name: str, marker: str) -> Doc | None:
        """The document if `marker` is set (the change was made before: a redelivery, a replay),
        read together with the marker in one step, so it holds that change; None if it is not set."""
        async with self._gate, _outage():
            found, raw = _answer(await self._read(keys=[name, marker]))
        if not found:
            return None
        return _decoded(raw) if raw is not None else {}

    async def _locked(self, key: str, update: Change, marker: str | None) -> tuple[Doc, bool]:
        """One update per key at a time in this process (records of one developer arrive
        together); the write's check settles the races with other instances, with a short random
        backoff.
        While the key's lock is held, a change whose marker is already set (a redelivery, a replay)
        is answered in one round trip instead of waiting: the lock serializes every record of a
        repository. Uncontended, the locked path reads the marker with the document anyway."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        if marker and lock.locked():
            counted = await self._counted(self._doc(key), marker)
            if counted is not None:  # counted before: no wait behind this key's other records
                return counted, False
        async with lock, self._gate, _outage():
            return await self._change(self._doc(key), update, marker)

    async def _change(self, name: str, update: Change, marker: str | None) -> tuple[Doc, bool]:
        """The update and the marker written in one step, only onto the document it was applied to,
        or neither is (a marker already there means: counted before, change nothing)."""
        names = [name, marker] if marker else [name]
        counted, raw = _answer(await self._read(keys=names))
        for attempt in range(ATTEMPTS):
            if counted:
                return (_decoded(raw) if raw is not None else {}), False
            doc = update(_decoded(raw) if raw is not None else {})
            args: list[str | bytes | int] = [_sha1(raw), orjson.dumps(doc), self._ttl_s, MARK]
            outcome, now = _answer(await self._write(keys=names, args=args))
            if outcome == 1:
                return doc, True
            counted, raw = outcome == 2, now
            if not counted and attempt < ATTEMPTS - 1:
                await asyncio.sleep(random.uniform(0, BACKOFF_S))
        raise StateUnavailable(f"activity state {name!r}: {ATTEMPTS} concurrent updates in a row")

    async def aclose(self) -> None:
        return None  # the client belongs to the composition root

    def _doc(self, key: str) -> str:
        return f"{self._prefix}doc:{key}"

    def _seen(self, marker: str) -> str:
        return f"{self._prefix}seen:{marker}"


@asynccontextmanager
async def _outage() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StateUnavailable(f"activity state store: {type(exc).__name__}: {exc}") from exc


def _answer(found: Any) -> tuple[int, bytes | str | None]:
    """A script's answer: a number, and a document (None when there is none)."""
    return int(found[0]), (found[1] if len(found) > 1 else None)


def _sha1(raw: bytes | str | None) -> str:
    """As the write script hashes the document it finds ('' for none)."""
    if raw is None:
        return ""
    return hashlib.sha1(raw.encode() if isinstance(raw, str) else raw, usedforsecurity=False).hexdigest()


def _decoded(raw: bytes | str) -> Doc:
    """A document that is not a JSON object (written by hand, truncated) starts again empty: the
    next update replaces it, rather than every event of that subject failing on it."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning("activity state: a document that is not JSON was reset")
        return {}
    return doc if isinstance(doc, dict) else {}
