"""The one place statuses become gateway errors: every class, for all three wire protocols."""

from __future__ import annotations

import pytest

from gateway.errors import (
    AuthError,
    BadRequest,
    GatewayError,
    LLMUnavailableError,
    Overloaded,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    SpendLimitReached,
    is_retryable,
)
from gateway.providers.base import token_count
from gateway.providers.translate import from_status, parse_retry_after

ANTHROPIC_429 = {
    "type": "error",
    "error": {"type": "rate_limit_error", "message": "Number of requests exceeded"},
}
ANTHROPIC_SPEND = {
    "type": "error",
    "error": {
        "type": "rate_limit_error",
        "message": "Usage paused",
        "details": {"error_code": "enforced_spend_limit_reached"},
    },
}
ANTHROPIC_400_SPEND = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "You have reached your specified API usage limits.",
    },
}
OPENAI_QUOTA = {
    "error": {
        "message": "You exceeded your current quota",
        "type": "insufficient_quota",
        "code": "insufficient_quota",
    }
}


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (429, ANTHROPIC_429, {"retry-after": "7"}, RateLimited),
        (429, ANTHROPIC_SPEND, {}, SpendLimitReached),
        (400, ANTHROPIC_400_SPEND, {}, SpendLimitReached),
        (429, OPENAI_QUOTA, {}, SpendLimitReached),
        (
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            {},
            Overloaded,
        ),
        (500, {"error": "model runner crashed"}, {}, ProviderUnavailable),
        (503, {"error": "server busy"}, {}, ProviderUnavailable),
        (504, {}, {}, ProviderTimeout),
        (401, {"error": {"type": "authentication_error", "message": "invalid x-api-key"}}, {}, AuthError),
        (403, {}, {}, AuthError),
        (
            400,
            {"error": {"type": "invalid_request_error", "message": "max_tokens too large"}},
            {},
            BadRequest,
        ),
        (404, {"error": "model 'llama9' not found"}, {}, BadRequest),
    ],
)
def test_statuses_map_to_the_error_tree(
    status: int, body: object, headers: dict[str, str], expected: type[GatewayError]
) -> None:
    error = from_status("p", status, body, headers)
    assert type(error) is expected
    assert error.provider == "p"
    assert str(status) in str(error)


def test_retry_after_is_carried_on_rate_limits() -> None:
    assert from_status("p", 429, ANTHROPIC_429, {"retry-after": "7"}).retry_after == 7.0


def test_retryable_flags() -> None:
    retryable = (RateLimited, Overloaded, ProviderTimeout, ProviderUnavailable, LLMUnavailableError)
    final = (BadRequest, AuthError, SpendLimitReached)
    assert all(is_retryable(cls("x")) for cls in retryable)
    assert not any(is_retryable(cls("x")) for cls in final)
    assert not is_retryable(ValueError("x"))


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers) == seconds


def test_retry_after_as_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


@pytest.mark.parametrize(
    ("reported", "counted"),
    [(12, 12), ("7", 7), (3.0, 3), (None, 0), (-5, 0), ("-1", 0), ("many", 0), (float("nan"), 0),
     (float("inf"), 0), ({"tokens": 1}, 0), (2**53, 2**53), (2**53 + 1, 0), (2**64, 0), ("1e30", 0)],
)  # fmt: skip
def test_a_usage_figure_is_a_count_never_below_zero(reported: object, counted: int) -> None:
    assert token_count(reported) == counted
