"""The rolling 60-second request window behind `rpm` and the rate-limit headers."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

WINDOW_S = 60.0
UNLIMITED_REQUESTS = 1_000_000
TOKENS_PER_MINUTE = 100_000_000


@dataclass(frozen=True, slots=True)
class RateSnapshot:
    """What the rate-limit headers of one reply say."""

    requests_limit: int
    requests_remaining: int
    tokens_limit: int
    tokens_remaining: int
    reset_s: float

    def exhausted(self) -> RateSnapshot:
        return RateSnapshot(self.requests_limit, 0, self.tokens_limit, self.tokens_remaining, self.reset_s)


class RateWindow:
    """Admits at most `rpm` requests per rolling minute and tracks tokens used.

    With `rpm` 0 nothing is tracked: the headers then report a huge, untouched budget.
    """

    def __init__(self, rpm: int) -> None:
        self.rpm = rpm
        self._admitted: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        self._token_total = 0

    def admit(self, now: float) -> float | None:
        """None if the request fits (and is counted), else the seconds until a slot frees."""
        if not self.rpm:
            return None
        self._expire(now)
        if len(self._admitted) >= self.rpm:
            return max(self._admitted[0] + WINDOW_S - now, 0.001)
        self._admitted.append(now)
        return None

    def spend(self, now: float, tokens: int) -> None:
        if tokens and self.rpm:
            self._tokens.append((now, tokens))
            self._token_total += tokens

    def snapshot(self, now: float) -> RateSnapshot:
        self._expire(now)
        limit = self.rpm or UNLIMITED_REQUESTS
        remaining = max(limit - len(self._admitted), 0)
        tokens = max(TOKENS_PER_MINUTE - self._token_total, 0)
        return RateSnapshot(limit, remaining, TOKENS_PER_MINUTE, tokens, self._reset_s(now))

    def clear(self) -> None:
        self._admitted.clear()
        self._tokens.clear()
        self._token_total = 0

    def _reset_s(self, now: float) -> float:
        return max(self._admitted[0] + WINDOW_S - now, 0.0) if self._admitted else 0.0

    def _expire(self, now: float) -> None:
        horizon = now - WINDOW_S
        while self._admitted and self._admitted[0] <= horizon:
            self._admitted.popleft()
        while self._tokens and self._tokens[0][0] <= horizon:
            self._token_total -= self._tokens.popleft()[1]


def whole_seconds(seconds: float) -> str:
    """A wait as the real services send it in `retry-after`: whole seconds, rounded up, at least 1."""
    return str(max(math.ceil(seconds - 1e-9), 1))
