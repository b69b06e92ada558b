"""JSON over an injectable `httpx.AsyncClient`, with failures translated once.

The default client is `httpx_aiohttp.HttpxAiohttpClient`: the httpx API over aiohttp's transport.
At 64 calls in flight httpx's own connection pool spends most of the CPU scanning its connections;
the aiohttp transport does not (docs/decisions.md; figures in bench/README.md).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import HttpxAiohttpClient

from gateway.config import ProviderConfig
from gateway.errors import GatewayError, ProviderUnavailable
from gateway.providers import translate
from gateway.providers.base import ConfiguredProvider

JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}


def default_client(timeout_s: float, max_connections: int = 256) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return HttpxAiohttpClient(timeout=timeout_s, limits=limits)


class HttpJsonProvider(ConfiguredProvider):
    """A provider speaking JSON over an `httpx.AsyncClient` it owns unless one was injected."""

    def __init__(
        self, config: ProviderConfig, default_base: str, http_client: httpx.AsyncClient | None
    ) -> None:
        super().__init__(config)
        self._base = (config.base_url or default_base).rstrip("/")
        self._owns_client = http_client is None
        self._client = http_client or default_client(config.timeout_s)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


async def post_json(
    client: httpx.AsyncClient, provider: str, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[dict[str, Any], httpx.Headers]:
    """POST `body`; return the decoded reply and its headers, or raise a `GatewayError`."""
    try:
        response = await client.post(url, content=orjson.dumps(body), headers={**JSON_HEADERS, **headers})
    except httpx.TransportError as exc:
        raise _transport_error(provider, exc) from exc
    payload = _decode(response)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise translate.from_status(provider, response.status_code, payload, response.headers) from exc
    if not isinstance(payload, dict):
        message = f"{provider}: HTTP {response.status_code} reply is not a JSON object"
        raise ProviderUnavailable(message, provider=provider)
    return payload, response.headers


def _transport_error(provider: str, exc: httpx.TransportError) -> GatewayError:
    # httpx_aiohttp reports a refused connection (aiohttp.ClientConnectorError) as ConnectTimeout.
    refused = isinstance(exc.__cause__, aiohttp.ClientConnectorError)
    if isinstance(exc, httpx.TimeoutException) and not refused:
        return translate.timeout(provider, exc)
    return translate.unreachable(provider, exc)


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
