"""When a failed request may run again: backoff doubling per attempt, at least the provider's Retry-After."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 30.0
    max_attempts: int = 5

    def exhausted(self, attempt: int) -> bool:
        """`attempt` failed attempts so far (1 = the first run failed)."""
        return attempt >= self.max_attempts

    def fuses(self, attempt: int) -> bool:
        """Whether analyses of the same material are fused into one call after `attempt` failed
        attempts: yes, unless this is a retry and its last attempt, which runs each analysis alone, so
        a failure of the fused call itself cannot take all of its analyses down."""
        return attempt == 0 or not self.exhausted(attempt + 1)

    def delay_s(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before attempt `attempt + 1`: base, 2*base, 4*base, ... and never below Retry-After."""
        backoff: float = self.base_s * 2.0 ** max(attempt - 1, 0)
        return max(float(backoff), retry_after or 0.0)
