"""The Redis identity store: shared by every instance of the consumer group, survives restarts.

`<prefix>of:<key>` holds the canonical key of the key's set, `<prefix>set:<canonical key>` the set's
members (a Redis set). A link is one WATCH/MULTI transaction over the pointers of both keys and their
sets: a link racing another instance's on the same sets is applied again to the new value. Every key
expires the TTL after its set last changed or was looked up.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError, WatchError

from consumers.activity.store.base import StateUnavailable
from consumers.activity.store.redis import BACKOFF_S, MAX_CONCURRENT
from consumers.identity import keys
from consumers.identity.store.base import Joined

PREFIX = "aexy:identity:"
ATTEMPTS = 20
Step = Callable[..., Awaitable[Any]]


class RedisIdentityStore:
    def __init__(
        self, client: Redis, ttl_s: int, prefix: str = PREFIX, max_concurrent: int = MAX_CONCURRENT
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._prefix = prefix
        self._gate = asyncio.Semaphore(max_concurrent)

    async def canonical(self, key: str) -> str:
        async with self._gate, _outage():
            root = _text(await self._client.getex(self._of(key), ex=self._ttl_s))
            if root is not None:
                await self._client.expire(self._set(root), self._ttl_s)
                return keys.value(root)
            return keys.value(await self._transaction((key,), self._register))

    async def link(self, a: str, b: str) -> Joined:
        async with self._gate, _outage():
            joined: Joined = await self._transaction((a, b), self._join)
            return joined

    async def aclose(self) -> None:
        return None  # the client belongs to the composition root

    async def _transaction(self, names: tuple[str, ...], step: Step) -> Any:
        """`step` inside WATCH on the pointers of `names`, again while another instance's change
        to what it read gets in between."""
        async with self._client.pipeline(transaction=True) as pipe:
            for _ in range(ATTEMPTS):
                try:
                    await pipe.watch(*(self._of(name) for name in names))
                    return await step(pipe, *names)
                except WatchError:
                    await asyncio.sleep(random.uniform(0, BACKOFF_S))
        raise StateUnavailable(f"identity store: {ATTEMPTS} concurrent changes in a row to {names}")

    async def _register(self, pipe: Pipeline, key: str) -> str:
        root = _text(await pipe.get(self._of(key)))
        if root is not None:
            return root
        pipe.multi()  # type: ignore[no-untyped-call]
        self._write(pipe, key, frozenset({key}), ())
        await pipe.execute()
        return key

    async def _join(self, pipe: Pipeline, a: str, b: str) -> Joined:
        found = [_text(await pipe.get(self._of(a))), _text(await pipe.get(self._of(b)))]
        roots = sorted({root for root in found if root is not None})
        if roots:
            await pipe.watch(*(self._set(root) for root in roots))
        sets = [{_text(m) or "" for m in await pipe.smembers(self._set(root))} for root in roots]
        if found[0] is not None and found[0] == found[1] and a in sets[0] and b in sets[0]:
            await pipe.reset()  # type: ignore[no-untyped-call]
            return Joined(keys.value(found[0]), frozenset(sets[0]))
        members = frozenset({a, b}.union(*sets))
        root = keys.canonical(members)
        pipe.multi()  # type: ignore[no-untyped-call]
        self._write(pipe, root, members, roots)
        await pipe.execute()
        return Joined(keys.value(root), members, tuple(keys.value(r) for r in roots if r != root))

    def _write(self, pipe: Pipeline, root: str, members: frozenset[str], old: Iterable[str]) -> None:
        for name in old:
            pipe.delete(self._set(name))
        for member in members:
            pipe.set(self._of(member), root, ex=self._ttl_s)
        pipe.sadd(self._set(root), *members)
        pipe.expire(self._set(root), self._ttl_s)

    def _of(self, key: str) -> str:
        return f"{self._prefix}of:{key}"

    def _set(self, root: str) -> str:
        return f"{self._prefix}set:{root}"


@asynccontextmanager
async def _outage() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StateUnavailable(f"identity store: {type(exc).__name__}: {exc}") from exc


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw
