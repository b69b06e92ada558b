"""One submitted batch: create it, poll until it has ended, then resolve each call as its line arrives.

Failures keep the per-request rules of direct calls: a failed submission or results download fails
the calls still waiting with that (translated) error; a retryable failure of a poll is only logged
and the next poll tries again. A call still waiting when the batch is abandoned (deadline, close,
a line missing from the results) gets a retryable error, so nothing is lost: the gateway retries it
or the stream processor parks it on the retry topic.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable

from gateway.batches.client import BatchApi
from gateway.batches.collector import Pending
from gateway.batches.results import Outcome
from gateway.config import BatchConfig
from gateway.errors import GatewayError, ProviderTimeout, ProviderUnavailable
from gateway.providers.base import ProviderReply

log = logging.getLogger("aexy.gateway.batches")
Sleep = Callable[[float], Awaitable[None]]
Waiting = dict[str, asyncio.Future[ProviderReply]]


class BatchPoller:
    def __init__(
        self,
        api: BatchApi,
        config: BatchConfig,
        provider: str,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._config = config
        self._provider = provider
        self._sleep = sleep
        self._clock = clock
        self.submitted: set[str] = set()
        """Ids of the batches created and not yet ended (what `aclose` cancels)."""

    async def run(self, batch: list[Pending]) -> None:
        waiting: Waiting = {pending.custom_id: pending.future for pending in batch}
        try:
            await self._through(batch, waiting)
        except GatewayError as exc:
            _fail(waiting, exc)
        except Exception:  # a task boundary: log it; the callers still get a retryable error below
            log.exception("claude batch: unexpected failure")
        finally:
            _fail(waiting, self._abandoned("the batch was abandoned before its result arrived"))

    async def _through(self, batch: list[Pending], waiting: Waiting) -> None:
        batch_id = await self._api.create(batch)
        self.submitted.add(batch_id)
        log.info("claude batch %s submitted with %d requests", batch_id, len(batch))
        await self._until_ended(batch_id)
        self.submitted.discard(batch_id)
        await self._api.results(batch_id, lambda custom_id, outcome: _settle(waiting, custom_id, outcome))

    async def _until_ended(self, batch_id: str) -> None:
        deadline = self._clock() + self._config.deadline_s
        while True:
            await self._sleep(self._config.poll_s)
            if await self._ended(batch_id):
                return
            if self._clock() >= deadline:
                await self.cancel(batch_id)
                raise ProviderTimeout(
                    f"{self._provider}: batch {batch_id} still not ended after {self._config.deadline_s:g} s",
                    provider=self._provider,
                )

    async def _ended(self, batch_id: str) -> bool:
        try:
            return await self._api.ended(batch_id)
        except GatewayError as exc:
            if not exc.retryable:
                raise
            log.warning("claude batch %s: poll failed (%s), polling again", batch_id, exc.error_type)
            return False

    async def cancel(self, batch_id: str) -> None:
        """Best effort: asks the API to stop the batch; a failure is logged, never raised."""
        self.submitted.discard(batch_id)
        try:
            await self._api.cancel(batch_id)
        except GatewayError as exc:
            log.warning("claude batch %s: cancel failed (%s)", batch_id, exc.error_type)

    def _abandoned(self, why: str) -> GatewayError:
        return ProviderUnavailable(f"{self._provider}: {why}", provider=self._provider)


def _settle(waiting: Waiting, custom_id: str, outcome: Outcome) -> None:
    future = waiting.pop(custom_id, None)
    if future is None or future.done():  # unknown id, or its caller has given up
        return
    if isinstance(outcome, GatewayError):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _fail(waiting: Waiting, error: GatewayError) -> None:
    """Every call still waiting fails with its own copy of `error` (one raise per caller)."""
    for future in waiting.values():
        if not future.done():
            future.set_exception(_copy(error))
    waiting.clear()


def _copy(error: GatewayError) -> GatewayError:
    clone = copy.copy(error)
    clone.__cause__ = error.__cause__
    return clone
