"""One line of a batch's results, as the `ProviderReply` or the gateway error of its request.

`succeeded` is read like a direct Messages reply, billed at half price. `errored` carries the error
body a direct call would have got, so it goes through the same translation: its error type stands
for the HTTP status (`overloaded_error` -> 529, retryable; `invalid_request_error` -> 400, final).
`expired` (not processed within 24 hours) and `canceled` are retryable: the request was never run.
"""

from __future__ import annotations

from types import MappingProxyType

from anthropic.types.messages import MessageBatchResult
from anthropic.types.shared import ErrorResponse

from gateway.errors import GatewayError, ProviderTimeout, ProviderUnavailable
from gateway.providers import translate
from gateway.providers.base import ProviderReply
from gateway.providers.claude import reply_of

BATCH_PRICE_FACTOR = 0.5
Outcome = ProviderReply | GatewayError

STATUS_OF_ERROR_TYPE: MappingProxyType[str, int] = MappingProxyType(
    {
        "invalid_request_error": 400,
        "authentication_error": 401,
        "billing_error": 402,
        "permission_error": 403,
        "not_found_error": 404,
        "request_too_large": 413,
        "rate_limit_error": 429,
        "api_error": 500,
        "timeout_error": 504,
        "overloaded_error": 529,
    }
)


def outcome_of(provider: str, result: MessageBatchResult) -> Outcome:
    if result.type == "succeeded":
        return reply_of(result.message, price_factor=BATCH_PRICE_FACTOR)
    if result.type == "errored":
        return errored(provider, result.error)
    if result.type == "expired":
        return ProviderTimeout(f"{provider}: batch request expired unprocessed", provider=provider)
    return ProviderUnavailable(f"{provider}: batch request {result.type}", provider=provider)


def errored(provider: str, response: ErrorResponse) -> GatewayError:
    """The error a direct call would have raised; an unknown error type counts as a server error."""
    body = response.model_dump(mode="json")
    status = STATUS_OF_ERROR_TYPE.get(response.error.type, 500)
    return translate.from_status(provider, status, body, {})
