"""The gateway's error tree.

Providers translate their own failures into these classes once, at the provider boundary
(`raise ... from exc`). Everything above the providers (retries, fallback, the stream processor's
retry topic) decides with one predicate, `is_retryable`, and never looks at HTTP statuses again.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """Base class (`LLMError` in `aexy_stream.llm`, the original design's name). `retryable` says
    whether the same call may succeed later; `code` names the failure in the design's words (the
    codes of the retryable classes are `LLMRetryConfig.RETRYABLE_ERRORS`)."""

    retryable: ClassVar[bool] = False
    code: ClassVar[str] = "llm_error"

    def __init__(self, message: str, *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after = retry_after

    @property
    def error_type(self) -> str:
        return type(self).__name__

    @property
    def root_type(self) -> str:
        """The class name of what actually went wrong (a chain failure reports its last cause)."""
        return self.error_type


class RateLimited(GatewayError):
    """429 from the provider; `retry_after` holds the server's hint in seconds when it gave one."""

    retryable = True
    code = "rate_limit_exceeded"


class Overloaded(GatewayError):
    """The provider is overloaded for everyone (Anthropic 529)."""

    retryable = True
    code = "overloaded"


class ProviderTimeout(GatewayError):
    retryable = True
    code = "timeout"


class ProviderUnavailable(GatewayError):
    """5xx or a connection failure."""

    retryable = True
    code = "provider_unavailable"


class CircuitOpen(ProviderUnavailable):
    """The provider's circuit breaker is open: it is skipped until its cool-down ends."""

    code = "circuit_open"


class BadRequest(GatewayError):
    """The provider rejected the request itself (4xx other than auth and rate limits)."""

    code = "bad_request"


class AuthError(GatewayError):
    """Missing, invalid or unauthorized credentials."""

    code = "authentication_failed"


class SpendLimitReached(GatewayError):
    """A 429/400 that means money ran out: retrying cannot help until someone acts."""

    code = "spend_limit_reached"


class InvalidOutput(GatewayError):
    """The model's reply did not match the result schema, even after one repair attempt."""

    code = "invalid_output"


class LLMUnavailableError(GatewayError):
    """Every provider of the chain failed with a retryable error (or none was available); try again
    later."""

    retryable = True
    code = "llm_unavailable"

    def __init__(
        self, message: str, *, causes: tuple[GatewayError, ...] = (), retry_after: float | None = None
    ):
        super().__init__(message, retry_after=retry_after)
        self.causes = causes

    @property
    def root_type(self) -> str:
        return self.causes[-1].root_type if self.causes else self.error_type


def is_retryable(exc: BaseException) -> bool:
    """The one retry predicate of the project: only gateway errors flagged retryable qualify."""
    return isinstance(exc, GatewayError) and exc.retryable
