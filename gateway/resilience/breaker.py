"""A circuit breaker per provider: opens after N consecutive failed calls, half-opens after a cool-down.

While open, the fallback chain skips the provider (`is_open`). After the cool-down one probe call
is let through (half-open): `begin()` hands out the probe, and every call ends with exactly one of
`success`, `failure` or `release` (in a `finally`), so a probe that ends any other way (a cancelled
call, a client error) gives its slot back instead of keeping the provider half-open forever.
Results of calls that began before the breaker last changed state are ignored: a slow success
from before the breaker opened does not close it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import Literal

from gateway.config import BreakerConfig

Transport = Literal["direct", "batch"]


class State(Enum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._failures = 0
        self._opened_at = 0.0
        self._state = State.CLOSED
        self._generation = 0
        self._probe: int | None = None

    @property
    def state(self) -> State:
        self._cool_down()
        return self._state

    def is_open(self) -> bool:
        """True while calls must skip this provider (open, or half-open with its probe out)."""
        self._cool_down()
        return self._state is State.OPEN or (self._state is State.HALF_OPEN and self._probe is not None)

    def retry_in(self, probe_poll_s: float = 0.2) -> float:
        """Seconds until a call may be tried: 0 now, the cool-down left when open, a poll while probing."""
        self._cool_down()
        if self._state is State.OPEN:
            return max(self._config.cooldown_s - (self._clock() - self._opened_at), 0.0)
        return probe_poll_s if self.is_open() else 0.0

    def begin(self) -> int | None:
        """A ticket for one call, or None when the breaker does not allow a call now."""
        if self.is_open():
            return None
        if self._state is State.HALF_OPEN:
            self._probe = self._generation
        return self._generation

    def success(self, ticket: int) -> None:
        if ticket == self._generation:
            self._failures = 0
            self._transition(State.CLOSED)

    def failure(self, ticket: int) -> None:
        if ticket != self._generation:
            return
        self._failures += 1
        if self._state is State.HALF_OPEN or self._failures >= self._config.failure_threshold:
            self._opened_at = self._clock()
            self._transition(State.OPEN)

    def release(self, ticket: int) -> None:
        """End a call that proved nothing about the provider's health (client error, cancellation)."""
        if ticket == self._generation and self._probe == ticket:
            self._probe = None

    def _cool_down(self) -> None:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._config.cooldown_s:
            self._transition(State.HALF_OPEN)

    def _transition(self, state: State) -> None:
        if state is not self._state:
            self._state, self._generation, self._probe = state, self._generation + 1, None
