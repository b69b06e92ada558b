"""Single flight: identical requests in flight at the same moment share one provider call.

The first caller (the leader) runs the work inline, in its own task, so the common case of no
duplicate costs no extra task and no extra trip through the event loop. Later callers await a
future the leader resolves. If the leader is cancelled, the followers get a retryable
`LLMUnavailableError` instead of hanging or being cancelled themselves.

A caller may name flights to join before its own key (`join_first`) without ever leading them:
the gateway lets a backfill call join a live flight, never the other way round.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from gateway.errors import LLMUnavailableError

T = TypeVar("T")


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

    def _joinable(self, key: str, join_first: tuple[str, ...]) -> asyncio.Future[T] | None:
        for candidate in join_first:
            if (shared := self._futures.get(candidate)) is not None:
                return shared
        return self._futures.get(key)


def _fail(shared: asyncio.Future[T], exc: BaseException) -> None:
    if isinstance(exc, asyncio.CancelledError):
        exc = LLMUnavailableError("the identical call this request joined was cancelled")
    shared.set_exception(exc)
    shared.exception()  # retrieved: no "never retrieved" log when nobody joined
