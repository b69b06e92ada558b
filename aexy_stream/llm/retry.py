"""The original design's retry strategy: `LLMRetryConfig` and `retry_with_backoff`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import ClassVar, ParamSpec, TypeVar

from gateway.config import RetryConfig
from gateway.errors import GatewayError
from gateway.resilience.retry import retrying

P = ParamSpec("P")
T = TypeVar("T")

_DEFAULTS = RetryConfig()


def retryable_codes() -> tuple[str, ...]:
    """The `code` of every error class flagged retryable, in the order the tree declares them."""
    codes: list[str] = []
    classes: list[type[GatewayError]] = [GatewayError]
    while classes:
        cls = classes.pop(0)
        if cls.retryable and cls.code not in codes:
            codes.append(cls.code)
        classes.extend(cls.__subclasses__())
    return tuple(codes)


class LLMRetryConfig:
    """The design's retry settings: thin names over the gateway's defaults (`RetryConfig`).

    `MAX_RETRIES` counts retries after the first call, as LLM_MAX_RETRIES does (the design's loop
    made MAX_RETRIES calls in all). `RETRYABLE_ERRORS` lists the `code`s of the retryable errors;
    it is read from the error tree, whose `retryable` flag is the one retry predicate, so it
    cannot disagree with it (changing this tuple changes nothing)."""

    MAX_RETRIES: ClassVar[int] = _DEFAULTS.max_retries
    BACKOFF_FACTOR: ClassVar[float] = _DEFAULTS.backoff_factor
    RETRYABLE_ERRORS: ClassVar[tuple[str, ...]] = retryable_codes()


async def retry_with_backoff(func: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """`await func(*args, **kwargs)`, again after a retryable `LLMError`: a thin name over the
    gateway's retries (`gateway/resilience/retry.py`), with `LLMRetryConfig`'s MAX_RETRIES and
    BACKOFF_FACTOR. A wait is the error's Retry-After when it has one, else exponential backoff
    with jitter; a Retry-After longer than the longest backoff ends the retries. Any other error,
    and the last one, is raised as it came."""
    config = replace(
        _DEFAULTS, max_retries=LLMRetryConfig.MAX_RETRIES, backoff_factor=LLMRetryConfig.BACKOFF_FACTOR
    )
    async for attempt in retrying(config):
        with attempt:
            return await func(*args, **kwargs)
    raise AssertionError("unreachable: tenacity returns or raises the last error")
