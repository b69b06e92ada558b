"""JSON over an injectable `httpx.AsyncClient`, with failures translated once."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from gateway.errors import BadRequest
from gateway.providers import translate

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


async def post_json(
    client: httpx.AsyncClient, provider: str, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[dict[str, Any], httpx.Headers]:
    """POST `body`; return the decoded reply and its headers, or raise a `GatewayError`."""
    try:
        response = await client.post(url, content=orjson.dumps(body), headers={**JSON_HEADERS, **headers})
    except httpx.TimeoutException as exc:
        raise translate.timeout(provider, exc) from exc
    except httpx.TransportError as exc:
        raise translate.unreachable(provider, exc) from exc
    payload = _decode(response)
    if response.is_error:
        raise translate.from_status(provider, response.status_code, payload, response.headers)
    if not isinstance(payload, dict):
        raise BadRequest(
            f"{provider}: HTTP {response.status_code} reply is not a JSON object", provider=provider
        )
    return payload, response.headers


def _decode(response: httpx.Response) -> object:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:300]


async def answers(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], timeout_s: float = 2.0
) -> bool:
    """True when GET `url` answers 2xx within `timeout_s`."""
    try:
        response = await client.get(url, headers=headers, timeout=timeout_s)
    except httpx.HTTPError:
        return False
    return response.is_success
