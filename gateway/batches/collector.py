"""The open batch: calls join it until it is full or its first call has waited `max_wait_s`."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.config import BatchConfig
from gateway.providers.base import ProviderReply


@dataclass(frozen=True, slots=True)
class Pending:
    """One call in a batch: its `custom_id`, its Messages API body, and the future its caller awaits."""

    custom_id: str
    params: dict[str, Any]
    future: asyncio.Future[ProviderReply]


Submit = Callable[[list[Pending]], None]


class BatchCollector:
    """Groups calls into batches and hands each full or aged batch to `submit`."""

    def __init__(self, config: BatchConfig, submit: Submit) -> None:
        self._config = config
        self._submit = submit
        self._open: list[Pending] = []
        self._timer: asyncio.TimerHandle | None = None
        self._ids = itertools.count(1)

    def add(self, params: dict[str, Any]) -> asyncio.Future[ProviderReply]:
        future: asyncio.Future[ProviderReply] = asyncio.get_running_loop().create_future()
        self._open.append(Pending(f"call-{next(self._ids)}", params, future))
        if len(self._open) >= self._config.max_requests:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._config.max_wait_s, self.flush)
        return future

    def flush(self) -> None:
        """Submit the open batch now, without the calls whose callers have given up."""
        batch = [pending for pending in self.take() if not pending.future.done()]
        if batch:
            self._submit(batch)

    def take(self) -> list[Pending]:
        """The open batch, removed (and its timer stopped)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._open = self._open, []
        return batch
