"""Turning record bytes into a JSON object, or a `MalformedEvent` that says why not."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from schemas.events.errors import MalformedEvent

JsonObject = Mapping[str, Any]


def load_object(value: bytes) -> JsonObject:
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent(f"not a JSON object but a JSON {type(data).__name__}")
    return data


def canonical_digest(data: JsonObject) -> str:
    """sha256 hex of the object's canonical JSON (sorted keys), equal for equal content."""
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
