"""Translation of provider failures into the gateway's error tree: the one place that reads statuses.

All three wire protocols (Anthropic, Ollama, OpenAI-compatible) come through here, so a 429 means
the same thing everywhere. Messages carry the provider's own error text, never request headers,
so API keys cannot leak into logs or dead letters.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from time import time
from typing import Any

from gateway.errors import (
    AuthError,
    BadRequest,
    GatewayError,
    Overloaded,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    SpendLimitReached,
)

SPEND_CODES = frozenset({"enforced_spend_limit_reached", "insufficient_quota", "billing_error"})
SPEND_MESSAGES = (
    "You have reached your specified",
    "credit balance is too low",
    "exceeded your current quota",
    "upgrade for higher limits",
)
MAX_MESSAGE = 300


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `retry-after` as seconds or an HTTP date."""
    if (millis := headers.get("retry-after-ms")) is not None:
        return _non_negative(millis, 1000.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _non_negative(value, 1.0)
    return seconds if seconds is not None else _seconds_until_http_date(value)


def _non_negative(value: str, divisor: float) -> float | None:
    try:
        return max(float(value) / divisor, 0.0)
    except ValueError:
        return None


def _seconds_until_http_date(value: str) -> float | None:
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError):
        return None


def error_fields(body: object) -> tuple[str, str, str]:
    """(type, code, message) from the error bodies of Anthropic, OpenAI and Ollama."""
    if not isinstance(body, Mapping):
        return "", "", str(body or "")
    error: Any = body.get("error", body)
    if isinstance(error, str):
        return "", "", error
    if not isinstance(error, Mapping):
        return "", "", ""
    details: Any = error.get("details")
    if not isinstance(details, Mapping):
        details = {}
    code = str(error.get("code") or details.get("error_code") or "")
    return str(error.get("type") or ""), code, str(error.get("message") or "")


def _is_spend_limit(status: int, kind: str, code: str, message: str) -> bool:
    if status not in (400, 402, 429):
        return False
    return (
        code in SPEND_CODES
        or kind in SPEND_CODES
        or message.startswith(SPEND_MESSAGES[0])
        or any(text in message for text in SPEND_MESSAGES[1:])
    )


def from_status(provider: str, status: int, body: object, headers: Mapping[str, str]) -> GatewayError:
    """The gateway error for an HTTP error reply."""
    kind, code, message = error_fields(body)
    text = f"{provider}: HTTP {status} {kind or code or 'error'}: {message[:MAX_MESSAGE]}".rstrip(": ")
    retry_after = parse_retry_after(headers)
    if _is_spend_limit(status, kind, code, message):
        return SpendLimitReached(text, provider=provider)
    return _by_status(status, kind, text, provider, retry_after)


def _by_status(status: int, kind: str, text: str, provider: str, retry_after: float | None) -> GatewayError:
    if status == 429:
        return RateLimited(text, provider=provider, retry_after=retry_after)
    if status == 529 or kind == "overloaded_error":
        return Overloaded(text, provider=provider, retry_after=retry_after)
    if status in (408, 504):
        return ProviderTimeout(text, provider=provider, retry_after=retry_after)
    if status >= 500 or status == 409:
        return ProviderUnavailable(text, provider=provider, retry_after=retry_after)
    if status in (401, 403):
        return AuthError(text, provider=provider)
    return BadRequest(text, provider=provider)


def timeout(provider: str, exc: BaseException) -> GatewayError:
    return ProviderTimeout(f"{provider}: timed out ({type(exc).__name__})", provider=provider)


def unreachable(provider: str, exc: BaseException) -> GatewayError:
    return ProviderUnavailable(f"{provider}: connection failed ({type(exc).__name__})", provider=provider)
