"""What one verified delivery becomes: records written and acknowledged, or a reason why not.

The delivery's lock is held from the duplicate check to the mark, so copies arriving together wait for the
first: they see it marked (duplicate) or, if its write failed, try again themselves. The mark comes only
after the broker acknowledged every record, so a failed write is published when GitHub redelivers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from producers.fitting import fit_code_change
from producers.kafka import Publisher, PublishError, Record, RecordTooLargeError
from producers.webhook.commits import push_commits
from producers.webhook.config import WebhookConfig
from producers.webhook.dedupe import DedupeStore
from producers.webhook.delivery import Delivery
from producers.webhook.github_api import DiffSource
from producers.webhook.guard import DeliveryLocks
from producers.webhook.metrics import WebhookMetrics
from producers.webhook.records import activity_record, code_change_record
from schemas.events.code_change import CodeChangeEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    """One of `metrics.OUTCOMES`."""
    status: int
    detail: str = ""
    records: int = 0


PING = Outcome("ping", 200, "pong: pings are not published")
DUPLICATE = Outcome("duplicate", 200, "already published")
UNAVAILABLE = Outcome("unavailable", 503, "kafka did not acknowledge the records; redeliver later")
TOO_LARGE = Outcome("too_large", 413, "a record is over the broker's size limit")


class Receiver:
    def __init__(
        self,
        config: WebhookConfig,
        publisher: Publisher,
        dedupe: DedupeStore,
        diffs: DiffSource,
        metrics: WebhookMetrics,
    ) -> None:
        self._config = config
        self._publisher = publisher
        self._dedupe = dedupe
        self._diffs = diffs
        self._metrics = metrics
        self._locks = DeliveryLocks()

    async def receive(self, delivery: Delivery) -> Outcome:
        if delivery.event == "ping":
            return PING
        async with self._locks.hold(delivery.delivery_id):
            if await self._dedupe.seen(delivery.delivery_id):
                return DUPLICATE
            return await self._publish(delivery)

    async def _publish(self, delivery: Delivery) -> Outcome:
        records = [
            activity_record(delivery, self._config.activity_topic),
            *await self._code_changes(delivery),
        ]
        try:
            await self._publisher.publish(records)
        except RecordTooLargeError:
            return TOO_LARGE
        except PublishError:
            return UNAVAILABLE
        await self._dedupe.mark(delivery.delivery_id)
        return Outcome("published", 202, "published", len(records))

    async def _code_changes(self, delivery: Delivery) -> list[Record]:
        if delivery.event != "push":
            return []
        push = push_commits(delivery.payload)
        self._metrics.skipped("not_distinct", push.not_distinct)
        self._metrics.skipped("invalid", push.invalid)
        events = await self._diffs.with_diffs(push.events)
        return [
            record for event in events if (record := self._fitted(event, delivery.delivery_id)) is not None
        ]

    def _fitted(self, event: CodeChangeEvent, delivery_id: str) -> Record | None:
        """Over the processor's MAX_EVENT_BYTES it would be dead-lettered: the largest patches go until
        it fits, as in a backfill; one that does not fit even without patches is not published."""
        fitted = fit_code_change(event, self._config.max_event_bytes)
        if fitted.trimmed:
            self._metrics.diff("too_large")
        if fitted.value is None:
            self._metrics.skipped("too_large", 1)
            log.warning(
                "commit %s of %s not published: too large without patches", event.sha, event.repository
            )
            return None
        return code_change_record(event, fitted.value, self._config.code_changes_topic, delivery_id)
