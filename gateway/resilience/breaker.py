"""A circuit breaker per provider: opens after N consecutive failures, half-opens after a cool-down.

While open, the fallback chain skips the provider. After the cool-down one probe call is let
through (half-open); its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

from gateway.config import BreakerConfig


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
        self._probing = False

    @property
    def state(self) -> State:
        return self._state

    def allow(self) -> bool:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._config.cooldown_s:
            self._state, self._probing = State.HALF_OPEN, False
        if self._state is State.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return self._state is State.CLOSED

    def record_success(self) -> None:
        self._failures, self._state, self._probing = 0, State.CLOSED, False

    def record_failure(self) -> None:
        self._failures += 1
        if self._state is State.HALF_OPEN or self._failures >= self._config.failure_threshold:
            self._state, self._opened_at, self._probing = State.OPEN, self._clock(), False
