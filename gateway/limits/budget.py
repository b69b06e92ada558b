"""Requests and tokens per window for one provider, with a capped share for backfills.

Live calls draw from the provider's budgets. Backfill calls draw from the same budgets and also
from backfill budgets sized `backfill_share` of them, so a backfill can never take more than its
share and live analysis always keeps the rest.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable

from gateway.config import RateLimitConfig
from gateway.limits.base import Draw, Permit, WindowStore
from gateway.limits.pacer import HeaderPacer
from gateway.providers.base import RateHint
from schemas.types import Priority

Sleep = Callable[[float], Awaitable[None]]


class BudgetLimiter:
    def __init__(
        self,
        provider: str,
        config: RateLimitConfig,
        store: WindowStore,
        *,
        pacer: HeaderPacer | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._provider = provider
        self._config = config
        self._store = store
        self._pacer = pacer or HeaderPacer()
        self._sleep = sleep

    async def acquire(self, tokens: int, priority: Priority) -> Permit:
        draws = self._draws(tokens, priority)
        entry_id = uuid.uuid4().hex
        waited = await self._take(draws, entry_id)
        waited += await self._pace()
        return Permit(
            entry_id, self._tokens_drawn(draws), tuple(d.key for d in draws if d.key.endswith(":tok")), waited
        )

    async def settle(self, permit: Permit, actual_tokens: int) -> None:
        delta = actual_tokens - permit.tokens
        if delta and permit.keys:
            await self._store.adjust(permit.keys, permit.entry_id, delta)

    def observe(self, hint: RateHint) -> None:
        self._pacer.observe(hint)

    async def _take(self, draws: tuple[Draw, ...], entry_id: str) -> float:
        started = time.monotonic()
        while draws and (wait := await self._store.take(draws, entry_id, self._config.window_s)) > 0:
            await self._sleep(wait + random.uniform(0, 0.01))
        return time.monotonic() - started

    async def _pace(self) -> float:
        delay = self._pacer.delay()
        if delay > 0:
            await self._sleep(delay)
        return delay

    def _draws(self, tokens: int, priority: Priority) -> tuple[Draw, ...]:
        scales = (("", 1.0), (":backfill", self._config.backfill_share))
        return tuple(
            draw
            for suffix, share in scales[: 2 if priority == "backfill" else 1]
            for draw in self._pair(suffix, share, tokens)
        )

    def _pair(self, suffix: str, share: float, tokens: int) -> list[Draw]:
        base = f"{self._provider}{suffix}"
        pairs = (
            (":req", self._config.requests_per_window, 1),
            (":tok", self._config.tokens_per_window, tokens),
        )
        return [
            Draw(base + kind, limit, min(amount, limit))
            for kind, budget, amount in pairs
            if (limit := max(int(budget * share), 1) if budget else 0)
        ]

    @staticmethod
    def _tokens_drawn(draws: tuple[Draw, ...]) -> int:
        return max((d.amount for d in draws if d.key.endswith(":tok")), default=0)
