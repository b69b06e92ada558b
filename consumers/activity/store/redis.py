"""The Redis state store: shared by every instance of the consumer group, survives restarts.

Documents are JSON strings changed with WATCH/MULTI (optimistic concurrency: an update that races
another instance's is re-applied to the new value); markers are `SET NX EX`. Every key expires
the state TTL after its last update. Keys: `<prefix>doc:<key>`, `<prefix>seen:<marker>`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError

from consumers.activity.store.base import Change, Doc, StateUnavailable

log = logging.getLogger(__name__)
PREFIX = "aexy:activity:"
ATTEMPTS = 20
MAX_CONCURRENT = 16
"""Store operations at once: the state never takes more than this many of the pool's connections."""
BACKOFF_S = 0.01


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

    async def first(self, marker: str) -> bool:
        async with self._gate, _outage():
            return bool(await self._client.set(self._seen(marker), b"\0", nx=True, ex=self._ttl_s))

    async def seen(self, marker: str) -> bool:
        async with self._gate, _outage():
            return bool(await self._client.exists(self._seen(marker)))

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
        read together with the marker in one MULTI, so it holds that change; None if it is not set."""
        async with self._gate, _outage(), self._client.pipeline(transaction=True) as pipe:
            pipe.exists(marker)
            pipe.get(name)
            found, raw = await pipe.execute()
        if not found:
            return None
        return _decoded(raw) if raw is not None else {}

    async def _locked(self, key: str, update: Change, marker: str | None) -> tuple[Doc, bool]:
        """One update per key at a time in this process (records of one developer arrive
        together); WATCH settles the races with other instances, with a short random backoff.
        While the key's lock is held, a change whose marker is already set (a redelivery, a replay)
        is answered in one round trip instead of waiting: the lock serializes every record of a
        repository. Uncontended, the locked path reads the marker anyway, at no extra round trip."""
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
        """The document and the marker watched together: the update and the marker are written in
        one MULTI, or neither is (a marker already there means: counted before, change nothing)."""
        watched = (name, marker) if marker else (name,)
        async with self._client.pipeline(transaction=True) as pipe:
            for _ in range(ATTEMPTS):
                try:
                    await pipe.watch(*watched)
                    raw = await pipe.get(name)
                    doc = _decoded(raw) if raw is not None else {}
                    if marker and await pipe.exists(marker):
                        return doc, False
                    doc = update(doc)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(name, orjson.dumps(doc), ex=self._ttl_s)
                    if marker:
                        pipe.set(marker, b"\0", ex=self._ttl_s)
                    await pipe.execute()
                    return doc, True
                except WatchError:
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


def _decoded(raw: bytes | str) -> Doc:
    """A document that is not a JSON object (written by hand, truncated) starts again empty: the
    next update replaces it, rather than every event of that subject failing on it."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        log.warning("activity state: a document that is not JSON was reset")
        return {}
    return doc if isinstance(doc, dict) else {}
