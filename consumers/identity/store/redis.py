"""The Redis identity store: shared by every instance of the consumer group, survives restarts.

`<prefix>of:<key>` holds the canonical key of the key's set, `<prefix>set:<canonical key>` the set's
members (a Redis set), `<prefix>pending:<canonical key>` the merges into the set not yet settled (a
hash: merged canonical id -> via). A link is one WATCH/MULTI transaction over the pointers of both
keys, their sets and pending merges: a link racing another instance's on the same sets is applied
again to the new value, and the merges it makes are recorded in the same MULTI as the link. A look-up
reads the set and renews the TTL of every member's pointer, the set and its pending merges in one
transaction too, so a person's keys expire together, the TTL after they were last looked up.
"""

from __future__ import annotations

import asyncio
import functools
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

    async def find(self, key: str) -> Joined:
        async with self._gate, _outage():
            joined: Joined = await self._transaction((key,), self._lookup)
            return joined

    async def link(self, a: str, b: str, via: str) -> Joined:
        async with self._gate, _outage():
            joined: Joined = await self._transaction((a, b), functools.partial(self._join, via=via))
            return joined

    async def settle(self, root: str, merged: Iterable[str]) -> None:
        names = sorted(set(merged))
        if names:
            async with self._gate, _outage():
                await self._transaction((root,), functools.partial(self._settle, merged=names))

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

    async def _lookup(self, pipe: Pipeline, key: str) -> Joined:
        """The key's set (registered as a set of its own if its pointer is gone), every member's TTL
        renewed."""
        found = _text(await pipe.get(self._of(key)))
        root = found or key
        await pipe.watch(self._set(root))
        members = await self._members(pipe, root)
        pending = await self._pending(pipe, root)
        pipe.multi()  # type: ignore[no-untyped-call]
        if found is None:
            pipe.set(self._of(key), root, ex=self._ttl_s)
        if key not in members:
            members |= {key}
            pipe.sadd(self._set(root), key)
        self._renew(pipe, root, members)
        await pipe.execute()
        return Joined(root, frozenset(members), (), tuple(sorted(pending.items())))

    async def _join(self, pipe: Pipeline, a: str, b: str, *, via: str) -> Joined:
        found = [_text(await pipe.get(self._of(a))), _text(await pipe.get(self._of(b)))]
        roots = sorted({root for root in found if root is not None})
        if roots:
            await pipe.watch(*(self._set(root) for root in roots), *(self._pending_of(r) for r in roots))
        sets = [await self._members(pipe, root) for root in roots]
        pendings = [await self._pending(pipe, root) for root in roots]
        if found[0] is not None and found[0] == found[1] and a in sets[0] and b in sets[0]:
            pipe.multi()  # type: ignore[no-untyped-call]
            self._renew(pipe, found[0], sets[0])
            await pipe.execute()
            return Joined(found[0], frozenset(sets[0]), (), tuple(sorted(pendings[0].items())))
        members = frozenset({a, b}.union(*sets))
        root = keys.canonical(members)
        replaced = tuple(keys.value(r) for r in roots if r != root)
        pending = {name: how for found_pending in pendings for name, how in found_pending.items()}
        pending.update(dict.fromkeys(replaced, via))
        pipe.multi()  # type: ignore[no-untyped-call]
        self._write(pipe, root, members, roots, pending)
        await pipe.execute()
        return Joined(root, members, replaced, tuple(sorted(pending.items())))

    async def _settle(self, pipe: Pipeline, root: str, *, merged: list[str]) -> None:
        now = _text(await pipe.get(self._of(root)))
        if now is None:
            return  # expired: nothing pending any more
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.hdel(self._pending_of(now), *merged)
        await pipe.execute()

    def _write(
        self, pipe: Pipeline, root: str, members: frozenset[str], old: Iterable[str], pending: dict[str, str]
    ) -> None:
        for name in old:
            pipe.delete(self._set(name), self._pending_of(name))
        for member in members:
            pipe.set(self._of(member), root, ex=self._ttl_s)
        pipe.sadd(self._set(root), *members)
        pipe.expire(self._set(root), self._ttl_s)
        if pending:
            pipe.hset(self._pending_of(root), mapping=pending)  # type: ignore[arg-type]
            pipe.expire(self._pending_of(root), self._ttl_s)

    def _renew(self, pipe: Pipeline, root: str, members: Iterable[str]) -> None:
        for member in members:
            pipe.expire(self._of(member), self._ttl_s)
        pipe.expire(self._set(root), self._ttl_s)
        pipe.expire(self._pending_of(root), self._ttl_s)

    async def _members(self, pipe: Pipeline, root: str) -> set[str]:
        return {_text(m) or "" for m in await pipe.smembers(self._set(root))}

    async def _pending(self, pipe: Pipeline, root: str) -> dict[str, str]:
        found = await pipe.hgetall(self._pending_of(root))
        return {_text(name) or "": _text(via) or "" for name, via in found.items()}

    def _of(self, key: str) -> str:
        return f"{self._prefix}of:{key}"

    def _set(self, root: str) -> str:
        return f"{self._prefix}set:{root}"

    def _pending_of(self, root: str) -> str:
        return f"{self._prefix}pending:{root}"


@asynccontextmanager
async def _outage() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StateUnavailable(f"identity store: {type(exc).__name__}: {exc}") from exc


def _text(raw: bytes | str | None) -> str | None:
    return raw.decode() if isinstance(raw, bytes) else raw
