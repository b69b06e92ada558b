"""`BatchingClaudeProvider`: the `Provider` protocol over Claude Message Batches.

`analyze(call)` puts the call's Messages body (built exactly like a direct call's) into the open
batch and awaits its result. A batch goes out at `max_requests` calls or `max_wait_s` after its
first call; one task per submitted batch polls it and resolves its calls.

Timeouts: each HTTP request of the API keeps the provider's `timeout_s` (`LLM_TIMEOUT_S`); the wait
for a batch to end is bounded by `BatchConfig.deadline_s` instead (batches may take hours), after
which the call fails with a retryable `ProviderTimeout`. The gateway applies no deadline of its own.

`aclose()` fails every call still waiting with a retryable error, stops the pollers and asks the
API to cancel the batches still running (requests not yet processed are then not billed). Nothing
outside this process knows which request each `custom_id` of a running batch stood for, so its
results could not be collected after a restart: the stream processor parks those requests and they
run again in a new batch. Leaving the old batch running would bill its requests twice.
"""

from __future__ import annotations

import asyncio

import httpx2

from gateway.batches.client import AnthropicBatchApi
from gateway.batches.collector import BatchCollector, Pending
from gateway.batches.poller import BatchPoller
from gateway.config import BatchConfig, ProviderConfig
from gateway.errors import GatewayError, ProviderUnavailable
from gateway.providers.base import ConfiguredProvider, ProviderCall, ProviderReply
from gateway.providers.claude import MessageParams


class BatchingClaudeProvider(ConfiguredProvider):
    def __init__(
        self,
        config: ProviderConfig,
        batch: BatchConfig,
        *,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        super().__init__(config)
        self._params = MessageParams(config)
        self._api = AnthropicBatchApi(config, http_client)
        self._poller = BatchPoller(self._api, batch, config.name)
        self._collector = BatchCollector(batch, self._submit)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def is_available(self) -> bool:
        return bool(self._config.api_key)

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        if self._closed:
            raise self._closing_error()
        return await self._collector.add(self._params(call))

    async def aclose(self) -> None:
        self._closed = True
        for pending in self._collector.take():
            if not pending.future.done():
                pending.future.set_exception(self._closing_error())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(self._poller.cancel(batch_id) for batch_id in list(self._poller.submitted)))
        await self._api.aclose()

    def _submit(self, batch: list[Pending]) -> None:
        task = asyncio.create_task(self._poller.run(batch), name=f"claude-batch-{batch[0].custom_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _closing_error(self) -> GatewayError:
        return ProviderUnavailable(f"{self.name}: batching closed, request not processed", provider=self.name)
