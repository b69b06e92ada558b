"""Single flight: identical requests in flight at the same moment share one provider call.

The first caller (the leader) runs the work inline, in its own task, so the common case of no
duplicate costs no extra task and no extra trip through the event loop. Later callers await a
future the leader resolves. If the leader is cancelled, the followers get a retryable
`LLMUnavailableError` instead of hanging or being cancelled themselves.

A caller may name flights to join before its own key (`join_first`) without ever leading them:
the gateway lets a backfill call join a live flight, never the other way round.

`run_many` does the same for several keys at once (a fused call): each key joins a flight in
flight, and one piece of work answers every key the caller leads, each with a value or an error
of its own, so a caller of `run` for one of those keys joins that key's part alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from gateway.errors import LLMUnavailableError

T = TypeVar("T")
Flight = tuple[str, tuple[str, ...]]
"""A key to lead under, and the flights to join first (as `run` takes them)."""


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[T]] = {}

    def __len__(self) -> int:
        return len(self._futures)

    async def run(
        self, key: str, work: Callable[[], Awaitable[T]], *, join_first: tuple[str, ...] = ()
    ) -> tuple[T, bool]:
        """The result, and whether this caller joined a call already in flight (the first found
        under `join_first`, then under `key`); otherwise it runs `work`, leading under `key`."""
        shared = self._joinable(key, join_first)
        if shared is not None:
            return await asyncio.shield(shared), True
        shared = asyncio.get_running_loop().create_future()
        self._futures[key] = shared
        try:
            result = await work()
        except BaseException as exc:
            _fail(shared, exc)
            raise
        finally:
            del self._futures[key]
        shared.set_result(result)
        return result, False

    async def run_many(
        self,
        flights: Sequence[Flight],
        work: Callable[[list[int]], Awaitable[Sequence[T | Exception]]],
    ) -> list[tuple[T | Exception, bool]]:
        """Each flight's outcome (a value, or the exception its callers get) and whether this caller
        joined it. `work` runs once, for the indices of the flights this caller leads (none joinable),
        and returns their outcomes in that order; if it raises, every flight it leads fails with
        that. Keys must be distinct."""
        found = [self._joinable(key, first) for key, first in flights]
        joined = {i: shared for i, shared in enumerate(found) if shared is not None}
        led = [i for i in range(len(flights)) if i not in joined]
        loop = asyncio.get_running_loop()
        futures = {i: loop.create_future() for i in led}
        for i, shared in futures.items():
            self._futures[flights[i][0]] = shared
        outcomes: dict[int, T | Exception] = {}
        try:
            if led:
                outcomes = dict(zip(led, await work(led), strict=True))
        except BaseException as exc:
            for shared in futures.values():
                _fail(shared, exc)
            raise
        finally:
            for i in led:
                del self._futures[flights[i][0]]
        for i, shared in futures.items():
            _settle(shared, outcomes[i])
        for i, shared in joined.items():
            try:
                outcomes[i] = await asyncio.shield(shared)
            except Exception as exc:  # the leader's error for this key: its followers' outcome
                outcomes[i] = exc
        return [(outcomes[i], i in joined) for i in range(len(flights))]

    def _joinable(self, key: str, join_first: tuple[str, ...]) -> asyncio.Future[T] | None:
        for candidate in join_first:
            if (shared := self._futures.get(candidate)) is not None:
                return shared
        return self._futures.get(key)


def _settle(shared: asyncio.Future[T], outcome: T | Exception) -> None:
    if isinstance(outcome, Exception):
        _fail(shared, outcome)
    else:
        shared.set_result(outcome)


def _fail(shared: asyncio.Future[T], exc: BaseException) -> None:
    if isinstance(exc, asyncio.CancelledError):
        exc = LLMUnavailableError("the identical call this request joined was cancelled")
    shared.set_exception(exc)
    shared.exception()  # retrieved: no "never retrieved" log when nobody joined
