"""Slowing down before the provider says 429, from the remaining-budget headers of its replies.

When a reply says few requests (or tokens) remain until the reset, later calls are spread evenly
over the time left; when none remain, calls wait for the reset.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.providers.base import RateHint


class HeaderPacer:
    def __init__(
        self, low_requests: int = 5, low_tokens: int = 4000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._low_requests = low_requests
        self._low_tokens = low_tokens
        self._clock = clock
        self._interval = 0.0
        self._next_slot = 0.0
        self._until = 0.0

    def observe(self, hint: RateHint) -> None:
        if hint.reset_after_s is None:
            return
        remaining = self._remaining(hint)
        if remaining is None:  # budget is healthy again: forget any backlog of slots
            self._interval, self._next_slot, self._until = 0.0, 0.0, 0.0
            return
        self._until = self._clock() + hint.reset_after_s
        if remaining == 0:  # nothing left: everyone waits once, for the reset
            self._interval, self._next_slot = 0.0, max(self._next_slot, self._until)
        else:  # running low: spread the rest evenly over the time left
            self._interval = hint.reset_after_s / remaining

    def _remaining(self, hint: RateHint) -> int | None:
        """Requests left when the budget runs low (tokens counted in low-water units), else None."""
        low: list[int] = []
        if hint.requests_remaining is not None and hint.requests_remaining <= self._low_requests:
            low.append(hint.requests_remaining)
        if hint.tokens_remaining is not None and hint.tokens_remaining <= self._low_tokens:
            low.append(hint.tokens_remaining * self._low_requests // max(self._low_tokens, 1))
        return min(low) if low else None

    def delay(self) -> float:
        """Seconds the next call should wait; reserves its slot."""
        now = self._clock()
        if now >= self._until and now >= self._next_slot:
            return 0.0
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        return slot - now
