"""One webhook delivery, read from the request's headers and body once its signature was verified."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
_EVENT = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DELIVERY_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Delivery:
    event: str
    delivery_id: str
    body: bytes
    """The raw body, published untouched."""
    payload: Mapping[str, Any]


class InvalidDeliveryError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def read_delivery(headers: Mapping[str, str], body: bytes) -> Delivery:
    """The delivery, or `InvalidDeliveryError` naming what is wrong."""
    if headers.get("Content-Type", "").startswith(_FORM):
        raise InvalidDeliveryError(
            "form-encoded payloads are not accepted: set the content type to JSON", 415
        )
    event = _header(headers, EVENT_HEADER, _EVENT)
    delivery_id = _header(headers, DELIVERY_HEADER, _DELIVERY_ID)
    return Delivery(event, delivery_id, body, _json_object(body))


def _header(headers: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = headers.get(name, "")
    if not pattern.match(value):
        raise InvalidDeliveryError(f"missing or malformed {name} header")
    return value


def _json_object(body: bytes) -> Mapping[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidDeliveryError("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidDeliveryError("the body is not a JSON object")
    return payload


def text_at(owner: Any, field: str) -> str:
    """`owner[field]` when owner is an object and the value a string, else ""."""
    value = owner.get(field) if isinstance(owner, dict) else None
    return value if isinstance(value, str) else ""
