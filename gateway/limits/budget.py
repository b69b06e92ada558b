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
REQUESTS, TOKENS = ":req", ":tok"


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
        return Permit(entry_id, tuple(d for d in draws if d.key.endswith(TOKENS)), waited)

    async def settle(self, permit: Permit, actual_tokens: int) -> None:
        """Correct each token budget by what the call really used (capped like its draw was)."""
        for draw in permit.token_draws:
            delta = min(actual_tokens, draw.limit) - draw.amount
            if delta:
                await self._store.adjust((draw.key,), permit.entry_id, delta)

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
        base = f"{{{self._provider}}}{suffix}"  # one hash tag per provider: one cluster slot
        pairs = (
            (REQUESTS, self._config.requests_per_window, 1),
            (TOKENS, self._config.tokens_per_window, tokens),
        )
        return [
            Draw(base + kind, limit, min(amount, limit))
            for kind, budget, amount in pairs
            if (limit := max(int(budget * share), 1) if budget else 0)
        ]
