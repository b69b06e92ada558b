"""The Message Batches API through the official SDK: every SDK failure leaves as a gateway error.

Paths (anthropic 2.x): `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`, the batch's
`results_url` (JSONL, one `{custom_id, result}` per request, in any order) and
`POST /v1/messages/batches/{id}/cancel`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast

import anthropic
import httpx2
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages.batch_create_params import Request

from gateway.batches.collector import Pending
from gateway.batches.results import Outcome, outcome_of
from gateway.config import ProviderConfig
from gateway.providers.claude import UNREADABLE, anthropic_client, translate_error, unreadable

CANCEL_TIMEOUT_S = 5.0
Deliver = Callable[[str, Outcome], None]
T = TypeVar("T")


class BatchApi(Protocol):
    """What the poller needs from the Message Batches API."""

    async def create(self, batch: list[Pending]) -> str: ...

    async def ended(self, batch_id: str) -> bool: ...

    async def results(self, batch_id: str, deliver: Deliver) -> None: ...

    async def cancel(self, batch_id: str) -> None: ...

    async def aclose(self) -> None: ...


class AnthropicBatchApi:
    def __init__(self, config: ProviderConfig, http_client: httpx2.AsyncClient | None = None) -> None:
        self._name = config.name
        self._client = anthropic_client(config, http_client)

    async def create(self, batch: list[Pending]) -> str:
        """Submits the batch; its id."""
        requests = [Request(custom_id=p.custom_id, params=_params(p.params)) for p in batch]
        created = await self._translated(self._client.messages.batches.create(requests=requests))
        return created.id

    async def ended(self, batch_id: str) -> bool:
        batch = await self._translated(self._client.messages.batches.retrieve(batch_id))
        return batch.processing_status == "ended"

    async def results(self, batch_id: str, deliver: Deliver) -> None:
        """Streams the ended batch's results, handing each line to `deliver` as it arrives."""
        lines = await self._translated(self._client.messages.batches.results(batch_id))
        try:
            async for line in lines:
                deliver(line.custom_id, outcome_of(self._name, line.result))
        except anthropic.AnthropicError as exc:
            raise translate_error(self._name, exc) from exc
        except UNREADABLE as exc:
            raise unreadable(self._name, exc) from exc
        finally:
            await lines.close()

    async def cancel(self, batch_id: str) -> None:
        """Asks the API to stop the batch (requests already processed are still billed)."""
        cancel = self._client.messages.batches.cancel(batch_id, timeout=CANCEL_TIMEOUT_S)
        await self._translated(cancel)

    async def aclose(self) -> None:
        await self._client.close()

    async def _translated(self, request: Awaitable[T]) -> T:
        try:
            return await request
        except anthropic.AnthropicError as exc:
            raise translate_error(self._name, exc) from exc
        except UNREADABLE as exc:
            raise unreadable(self._name, exc) from exc


def _params(params: dict[str, Any]) -> MessageCreateParamsNonStreaming:
    """The body `MessageParams` built, as the SDK's request type (a TypedDict of the same keys)."""
    return cast(MessageCreateParamsNonStreaming, params)
