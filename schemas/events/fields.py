"""Tolerant readers of GitHub JSON: a missing, null or wrongly typed field reads as empty."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from schemas.events.decode import JsonObject
from schemas.events.errors import MalformedEvent

EMPTY: JsonObject = MappingProxyType({})
TIMELINE_TIME = "%Y/%m/%d %H:%M:%S %z"
"""The Timeline's dates of 2011: `2011/01/18 11:42:14 -0800`."""


def obj(data: JsonObject, key: str) -> JsonObject:
    value = data.get(key)
    return value if isinstance(value, Mapping) else EMPTY


def required_obj(data: JsonObject, key: str, event_type: str) -> JsonObject:
    """A part the event cannot do without: absent or not an object makes the event malformed."""
    if key not in data:
        raise MalformedEvent(f"{event_type} event has no '{key}' object")
    value = data[key]
    if not isinstance(value, Mapping):
        raise MalformedEvent(f"{event_type} event: '{key}' is {_json_kind(value)}, not an object")
    return value


def text(data: JsonObject, key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def opt_text(data: JsonObject, key: str) -> str | None:
    return text(data, key) or None


def integer(data: JsonObject, key: str) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def flag(data: JsonObject, key: str) -> bool | None:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def login(data: JsonObject, key: str) -> str:
    """The login of the user object at `key` ("" when there is none)."""
    return text(obj(data, key), "login")


def strings(data: JsonObject, key: str) -> tuple[str, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def objects(data: JsonObject, key: str) -> tuple[JsonObject, ...]:
    value = data.get(key)
    return tuple(v for v in value if isinstance(v, Mapping)) if isinstance(value, list) else ()


def when(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text (offset kept; naive read as UTC), the Timeline's
    `2011/01/18 11:42:14 -0800`, or epoch seconds."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        parsed = _from_text(value) if isinstance(value, str) else None
    except (ValueError, OverflowError, OSError):
        return None
    if parsed is None or parsed.tzinfo:
        return parsed
    return parsed.replace(tzinfo=UTC)


def _from_text(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.strptime(value, TIMELINE_TIME)


def _json_kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"
