"""Counters of what the simulator served, and the last request it received (credentials redacted)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

SECRET_MARKERS = ("key", "auth", "token", "secret", "cookie", "password", "signature")


@dataclass(frozen=True, slots=True)
class LastRequest:
    """The most recent completion request, kept raw and rendered (redacted) only when asked for."""

    method: str
    path: str
    body: bytes
    headers: Mapping[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "body": _decode(self.body),
            "headers": safe_headers(self.headers),
            "x_api_key_present": bool(self.headers.get("x-api-key")),
            "authorization_present": bool(self.headers.get("authorization")),
        }


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers minus anything that could carry a credential: their values are never recorded."""
    return {str(name): str(value) for name, value in headers.items() if not _sensitive(name)}


def _sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:4096].decode("utf-8", errors="replace")


@dataclass(slots=True)
class SimStats:
    """Per-run counts: requests, status codes, fault kinds, schema titles, tokens in and out."""

    total: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    by_schema: Counter[str] = field(default_factory=Counter)
    tokens_in: int = 0
    """Every prompt token, cached or not."""
    tokens_out: int = 0
    tokens_cache_read: int = 0
    """The part of `tokens_in` read from the prompt cache."""
    tokens_cache_write: int = 0
    """The part of `tokens_in` written to the prompt cache."""
    last: LastRequest | None = None
    completions: int = 0
    """Requests to the completion endpoint itself (`total` also counts batched requests answered)."""
    batches: Counter[str] = field(default_factory=Counter)
    """Message Batches: created, requests, answered, expired, canceled, retrieved, results, cancels."""

    def record(self, status: int, kind: str, schema: str | None) -> None:
        self.total += 1
        self.by_status[status] += 1
        self.by_kind[kind] += 1
        if schema is not None:
            self.by_schema[schema] += 1

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out

    def add_cache_tokens(self, read: int, written: int) -> None:
        self.tokens_cache_read += read
        self.tokens_cache_write += written

    def snapshot(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_status": {str(status): count for status, count in sorted(self.by_status.items())},
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_schema": dict(sorted(self.by_schema.items())),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_cache_read": self.tokens_cache_read,
            "tokens_cache_write": self.tokens_cache_write,
            "completions": self.completions,
            "batches": dict(sorted(self.batches.items())),
        }

    def clear(self) -> None:
        self.total = self.tokens_in = self.tokens_out = self.completions = 0
        self.tokens_cache_read = self.tokens_cache_write = 0
        self.batches.clear()
        self.by_status.clear()
        self.by_kind.clear()
        self.by_schema.clear()
        self.last = None
