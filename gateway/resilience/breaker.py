"""A circuit breaker per provider that opens on the failure rate of a sliding window, as
resilience4j does: at many calls in flight, a steady share of random faults must not open it,
and an outage still opens it within seconds.

Closed: every call's outcome is counted in a time window (`window_s`, in one-second buckets);
once the window holds at least `failure_threshold` calls and `failure_rate` of them failed, the
circuit opens. Open: calls skip the provider (`is_open`) for `cooldown_s`. Half-open: up to
`probes` calls at once are let through; the first to succeed closes the circuit (its window
starts empty), the first to fail opens it again.

`begin()` hands out a ticket, and every call ends with exactly one of `success`, `failure` or
`release` (in a `finally`), so a probe that ends any other way (a cancelled call, a client error)
gives its slot back instead of keeping the provider half-open forever. Results of calls that
began before the breaker last changed state are ignored: a slow success from before the breaker
opened does not close it.

A 429 that says when to come back (Retry-After) is no health failure: the gateway releases its
ticket, and that call waits as long as it was told (`gateway/resilience/retry.py`, the retry topic).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum
from typing import Literal

from gateway.config import BreakerConfig

Transport = Literal["direct", "batch"]


class State(Enum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class _Window:
    """Calls and failures of the last `window_s` seconds, in one-second buckets."""

    def __init__(self, window_s: float) -> None:
        self._window_s = window_s
        self._buckets: deque[list[int]] = deque()  # [second, calls, failures]
        self.calls = 0
        self.failures = 0

    def add(self, now: float, failed: bool) -> None:
        self._expire(now)
        second = int(now)
        if not self._buckets or self._buckets[-1][0] != second:
            self._buckets.append([second, 0, 0])
        bucket = self._buckets[-1]
        bucket[1] += 1
        bucket[2] += failed
        self.calls += 1
        self.failures += failed

    def clear(self) -> None:
        self._buckets.clear()
        self.calls = self.failures = 0

    def _expire(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window_s:
            _, calls, failures = self._buckets.popleft()
            self.calls -= calls
            self.failures -= failures


class CircuitBreaker:
    def __init__(self, config: BreakerConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._window = _Window(config.window_s)
        self._opened_at = 0.0
        self._state = State.CLOSED
        self._generation = 0
        self._probes: set[int] = set()
        self._next_probe = 0

    @property
    def state(self) -> State:
        self._cool_down()
        return self._state

    def is_open(self) -> bool:
        """True while calls must skip this provider (open, or half-open with every probe out)."""
        self._cool_down()
        if self._state is State.OPEN:
            return True
        return self._state is State.HALF_OPEN and len(self._probes) >= self._config.probes

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
            self._next_probe += 1
            self._probes.add(self._next_probe)
            return -self._next_probe  # probes: negative tickets, one each
        return self._generation

    def success(self, ticket: int) -> None:
        if self._current(ticket):
            if self._state is State.HALF_OPEN:
                self._transition(State.CLOSED)
            else:
                self._window.add(self._clock(), failed=False)

    def failure(self, ticket: int) -> None:
        if not self._current(ticket):
            return
        if self._state is State.HALF_OPEN:
            self._open()
            return
        self._window.add(self._clock(), failed=True)
        calls, failures = self._window.calls, self._window.failures
        if calls >= self._config.failure_threshold and failures >= self._config.failure_rate * calls:
            self._open()

    def release(self, ticket: int) -> None:
        """End a call that proved nothing about the provider's health (client error, cancellation)."""
        self._probes.discard(-ticket)

    def _current(self, ticket: int) -> bool:
        """Whether the call began in the present state: a probe still out (its slot given back
        now), or a call of this closed period."""
        if ticket < 0:
            out = -ticket in self._probes
            self._probes.discard(-ticket)
            return out
        return ticket == self._generation

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._transition(State.OPEN)

    def _cool_down(self) -> None:
        if self._state is State.OPEN and self._clock() - self._opened_at >= self._config.cooldown_s:
            self._transition(State.HALF_OPEN)

    def _transition(self, state: State) -> None:
        if state is not self._state:
            self._state, self._generation = state, self._generation + 1
            self._probes.clear()
            self._window.clear()
