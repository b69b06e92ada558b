"""In-process retries with tenacity, for retryable gateway errors only.

Every attempt honours the provider's Retry-After: when the error carries one, the wait is that
(plus a little jitter so replicas do not retry in lockstep); otherwise exponential backoff with
jitter. A Retry-After longer than `backoff_max_s` stops retrying in-process: the caller (the
stream processor) parks the request on its retry topic instead of holding a slot that long.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_exponential_jitter

from gateway.config import RetryConfig
from gateway.errors import CircuitOpen, is_retryable

Sleep = Callable[[float], Awaitable[None]]


def _retry_after(state: RetryCallState) -> float | None:
    exc = state.outcome.exception() if state.outcome else None
    return getattr(exc, "retry_after", None)


class WaitRetryAfter(wait_base):
    """Retry-After when the error has one, else the fallback strategy."""

    def __init__(self, fallback: wait_base, jitter_fraction: float = 0.1) -> None:
        self._fallback = fallback
        self._jitter = jitter_fraction

    def __call__(self, retry_state: RetryCallState) -> float:
        hint = _retry_after(retry_state)
        if hint is None:
            return float(self._fallback(retry_state))
        return hint * (1 + random.uniform(0, self._jitter))


class StopWhenCircuitOpen(stop_base):
    """The provider's breaker opened meanwhile: stop calling it; the chain moves on."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(exc, CircuitOpen)


class StopWhenRetryAfterTooLong(stop_base):
    def __init__(self, max_wait_s: float) -> None:
        self._max_wait_s = max_wait_s

    def __call__(self, retry_state: RetryCallState) -> bool:
        hint = _retry_after(retry_state)
        return hint is not None and hint > self._max_wait_s


def retrying(config: RetryConfig, sleep: Sleep = asyncio.sleep) -> AsyncRetrying:
    backoff = wait_exponential_jitter(
        multiplier=config.backoff_initial_s,
        max=config.backoff_max_s,
        exp_base=config.backoff_factor,
        jitter=config.jitter_s,
    )
    return AsyncRetrying(
        retry=retry_if_exception(is_retryable),
        stop=(
            stop_after_attempt(config.max_retries + 1)
            | StopWhenRetryAfterTooLong(config.backoff_max_s)
            | StopWhenCircuitOpen()
        ),
        wait=WaitRetryAfter(backoff),
        sleep=sleep,
        reraise=True,
    )
