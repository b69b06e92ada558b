"""The seam between the shared request pipeline (`engine`) and one provider's wire protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import orjson
from aiohttp import web

from aexy_dev.simulator.answers import Answer
from aexy_dev.simulator.call import Call, JsonObject
from aexy_dev.simulator.config import ProtocolName
from aexy_dev.simulator.window import RateSnapshot

Listing = Callable[[], web.Response]


@dataclass(frozen=True, slots=True)
class ReplyMeta:
    """Per-reply facts every protocol renders in its own way."""

    request_id: str
    rate: RateSnapshot
    elapsed_s: float
    headers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Usage:
    """`input_tokens` counts every prompt token; the cache figures are parts of it."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0

    @property
    def uncached_input_tokens(self) -> int:
        return self.input_tokens - self.cache_read_tokens - self.cache_write_tokens


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """An error to render: the fault kind, an optional message/param and the `retry-after` text."""

    kind: str
    model: str
    message: str | None = None
    param: str | None = None
    retry_after: str | None = None


class Dialect(Protocol):
    """One provider's wire protocol: request parsing, reply and error shapes, extra GET routes."""

    name: ProtocolName
    completion_path: str
    missing_key_message: str

    def authorized(self, headers: Mapping[str, str], required: bool) -> bool: ...

    def parse(self, body: JsonObject) -> Call: ...

    def reply(self, call: Call, answer: Answer, usage: Usage, meta: ReplyMeta) -> web.Response: ...

    def error(self, spec: ErrorSpec, meta: ReplyMeta) -> web.Response: ...

    def listings(self) -> Mapping[str, Listing]: ...


def json_response(
    payload: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, headers=headers, content_type="application/json"
    )


def has_bearer(headers: Mapping[str, str]) -> bool:
    return headers.get("authorization", "").lower().startswith("bearer ")


def rfc3339_after(seconds: float) -> str:
    """The wall-clock time `seconds` from now, as RFC 3339 in UTC (second precision)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_extra(headers: dict[str, str], meta: ReplyMeta, retry_after: str | None = None) -> dict[str, str]:
    """The protocol's headers, then `retry-after`, then any headers a script step asked for."""
    if retry_after is not None:
        headers["retry-after"] = retry_after
    headers.update(meta.headers)
    return headers
