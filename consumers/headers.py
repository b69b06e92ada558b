"""Kafka header names of the contracts (docs/contracts.md), and their encoding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Headers = list[tuple[str, bytes]]

GITHUB_EVENT = "x-github-event"
GITHUB_DELIVERY = "x-github-delivery"

ATTEMPT = "x-attempt"
DUE_AT = "x-due-at"
"""Epoch milliseconds at which a retry record may be run."""

DLQ_REASON = "x-dlq-reason"
ERROR_TYPE = "x-error-type"
ORIGINAL_TOPIC = "x-original-topic"
ORIGINAL_PARTITION = "x-original-partition"
ORIGINAL_OFFSET = "x-original-offset"
ATTEMPTS = "x-attempts"
ORIGINAL_SIZE = "x-original-size"
"""On dead letters: the original value's length in bytes."""
ORIGINAL_SHA256 = "x-original-sha256"
"""On dead letters: the original value's SHA-256 (hex), to match it with the record it came from."""
DLQ_VALUE_KEPT = "x-dlq-value-kept"
"""On a dead letter too large to carry its original whole: the bytes of the value kept (a prefix)."""
DLQ_DROPPED = "x-dlq-dropped"
"""On a dead letter whose key or own headers alone were too large: which of them were left out."""
FIRST_FAILURE_AT = "x-first-failure-at"
REPLAY_TOPIC = "x-replay-topic"
EVENT_ID = "x-event-id"
ANALYSIS_TYPE = "x-analysis-type"
REQUEST_ID = "x-request-id"
RECORD_TYPE = "x-record-type"
"""On `analysis.results` records that are not result envelopes (`identity_merged`), and on
`analysis.retry` records that carry a fused group (`retry_group`)."""

PIPELINE_PREFIXES = (
    "x-dlq-",
    "x-error-",
    "x-original-",
    "x-attempt",
    "x-first-failure",
    "x-replay-",
    "x-due-at",
)
"""Headers the pipeline adds; everything else on a record is the producer's own and travels with it."""


def own_headers(headers: Sequence[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    return [(key, value) for key, value in headers or () if not key.lower().startswith(PIPELINE_PREFIXES)]


def as_dict(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Header values decoded as text (last value wins), keys lower-cased."""
    return {key.lower(): value.decode("utf-8", "replace") for key, value in headers or ()}


def encode(values: Mapping[str, object]) -> Headers:
    return [(key, str(value).encode()) for key, value in values.items()]


def one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]
