"""Reading the remaining-budget headers providers send with successful replies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from time import time

from gateway.providers.base import NO_HINT, RateHint

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _seconds_until_rfc3339(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - time(), 0.0)
    except ValueError:
        return None


def _duration(value: str | None) -> float | None:
    """OpenAI-style durations: '1s', '6m0s', '250ms', '1h2m3.5s'."""
    match = _DURATION.match(value or "")
    if not value or not match:
        return None
    hours, minutes, seconds, millis = (float(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def anthropic_hint(headers: Mapping[str, str]) -> RateHint:
    prefix = "anthropic-ratelimit-"
    requests = _int(headers.get(prefix + "requests-remaining"))
    tokens = _int(headers.get(prefix + "tokens-remaining"))
    if requests is None and tokens is None:
        return NO_HINT
    reset = _seconds_until_rfc3339(
        headers.get(prefix + "requests-reset") or headers.get(prefix + "tokens-reset")
    )
    return RateHint(requests_remaining=requests, tokens_remaining=tokens, reset_after_s=reset)


def openai_hint(headers: Mapping[str, str]) -> RateHint:
    requests = _int(headers.get("x-ratelimit-remaining-requests"))
    tokens = _int(headers.get("x-ratelimit-remaining-tokens"))
    if requests is None and tokens is None:
        return NO_HINT
    reset = _duration(headers.get("x-ratelimit-reset-requests") or headers.get("x-ratelimit-reset-tokens"))
    return RateHint(requests_remaining=requests, tokens_remaining=tokens, reset_after_s=reset)
