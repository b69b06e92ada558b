"""The original design's rate limiter."""

from __future__ import annotations

from gateway.config import RateLimitConfig
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.providers.claude import DEFAULT_RPM

MINUTE_S = 60.0


class LLMRateLimiter:
    """A thin name over the gateway's `BudgetLimiter` (`gateway/limits/budget.py`) on an in-process
    window store. Its window is exact: at most `requests_per_minute` calls start in any 60 seconds
    (0: unlimited). `tokens_per_minute` adds the token budget the gateway keeps per provider
    (CLAUDE_TPM): `acquire(tokens)` then also waits until `tokens` fit in the last minute's."""

    def __init__(self, requests_per_minute: int = DEFAULT_RPM, tokens_per_minute: int = 0) -> None:
        if requests_per_minute < 0 or tokens_per_minute < 0:
            raise ValueError("requests_per_minute and tokens_per_minute must be >= 0 (0: unlimited)")
        config = RateLimitConfig(requests_per_minute, tokens_per_minute, window_s=MINUTE_S)
        self._limiter = BudgetLimiter("llm", config, MemoryWindowStore())

    async def acquire(self, tokens: int = 0) -> bool:
        """Wait until one more call may start within the budgets; True, as the design's."""
        await self._limiter.acquire(tokens, "live")
        return True
