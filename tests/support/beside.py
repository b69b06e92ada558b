"""Running one call while another is held: the gateway's live-versus-backfill tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def promptly_beside(held: asyncio.Task[Any], call: Awaitable[T], timeout_s: float = 5.0) -> T:
    """`call`'s result within `timeout_s` (TimeoutError otherwise) while `held` is still running;
    `held` is cancelled afterwards, whatever happened."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    finally:
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)
