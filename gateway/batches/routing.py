"""Backfill calls one way, live calls the other, behind one provider name.

`PriorityRoutingProvider(live, backfill)` is what the gateway sees as `claude`: the cache key,
retries and fallback chain stay the gateway's, and only the transport differs by
`call.request.priority`. `transport(priority)` tells the gateway which one a call takes, so each
gets its own circuit breaker: a batched call (30 s to 24 h) never holds the live circuit's
half-open probe, and a failed or expired batch never opens the live circuit.

`BatchedBackfillLimiter(live)` keeps the rate budgets right: `CLAUDE_RPM`/`CLAUDE_TPM` (and their
backfill share) meter the Messages API, while batched requests count against the separate Message
Batches limits, which a few API calls per batch never approach. So backfill calls pass unmetered;
how many wait in batches at once is bounded by the caller (the processor's `MAX_IN_FLIGHT`).
"""

from __future__ import annotations

from gateway.limits.base import Limiter, Permit
from gateway.providers.base import Provider, ProviderCall, ProviderReply, RateHint
from gateway.resilience.breaker import Transport
from schemas.types import Priority

UNMETERED = Permit("unmetered")


class PriorityRoutingProvider:
    def __init__(self, live: Provider, backfill: Provider) -> None:
        self._live = live
        self._backfill = backfill

    @property
    def name(self) -> str:
        return self._live.name

    @property
    def model(self) -> str:
        return self._live.model

    def transport(self, priority: Priority) -> Transport:
        return "batch" if priority == "backfill" else "direct"

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        batched = self.transport(call.request.priority) == "batch"
        return await (self._backfill if batched else self._live).analyze(call)

    async def is_available(self) -> bool:
        return await self._live.is_available()

    async def aclose(self) -> None:
        await self._live.aclose()
        await self._backfill.aclose()


class BatchedBackfillLimiter:
    """The live limiter for live calls; backfill calls, which go out in batches, pass unmetered."""

    def __init__(self, live: Limiter) -> None:
        self._live = live

    async def acquire(self, tokens: int, priority: Priority) -> Permit:
        if priority == "backfill":
            return UNMETERED
        return await self._live.acquire(tokens, priority)

    async def settle(self, permit: Permit, actual_tokens: int) -> None:
        if permit is not UNMETERED:
            await self._live.settle(permit, actual_tokens)

    def observe(self, hint: RateHint) -> None:
        """Rate headers come from direct Messages replies only (batch results carry none)."""
        self._live.observe(hint)
