"""The commit order of the processor, in one place.

For every input record:

1. its outputs (results, retry records, dead letters) are sent with `acks="all"`;
2. the record is marked finished only after the broker acknowledged every one of them
   (each send's delivery future resolved: produced *and* flushed), and after the activity state
   wrote down that its periodic requests were asked (the record's task calls `Activity.settled`
   right after `acknowledged`: killed in between, the record is read again and asks again, with
   the same request ids). A record the poll loop finished itself (every answer in memory, no
   activity state) has no task: `acknowledgement` gives the future that resolves at that point;
3. offsets are committed per partition, and only up to the lowest offset still unfinished
   (`OffsetTracker.committable`), periodically, on partition revocation and at shutdown.

So a crash at any point loses nothing: an input whose outputs were not all acknowledged has no
committed offset past it and is read again (its outputs may then appear twice; they carry the
same deterministic `request_id`, so consumers can deduplicate). The reverse order, committing
before the outputs are acknowledged, could lose an input for good and is never done here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from consumers.client_logs import RateLimited
from consumers.offsets import OffsetTracker

log = logging.getLogger(__name__)
log.addFilter(RateLimited(30.0))  # a broker gone fails a commit every second
COMMIT_TIMEOUT_S = 1.5
"""Bound of one commit: the poll loop waits on it, and a stop must end within its budget."""


async def acknowledged(deliveries: Iterable[asyncio.Future[object]]) -> None:
    """Step 2: wait until the broker acknowledged every output of one input record (raises the
    producer's error if it did not). A result's delivery is its whole batch's (`consumers/outbox.py`):
    it is shielded, so a record cancelled while waiting cancels no other record's delivery."""
    for delivery in deliveries:
        if not delivery.done():  # one at a time: an acknowledged (done) future costs no wait
            await asyncio.shield(delivery)
        delivery.result()


def acknowledgement(deliveries: Iterable[asyncio.Future[object]]) -> asyncio.Future[None]:
    """Step 2 for a record finished in the poll loop, with no task waiting: a future that resolves
    when the broker acknowledged every output. It fails with the first delivery that fails, and is
    cancelled, leaving the record unfinished, if a delivery is cancelled (never sent). Cancelling it
    cancels no delivery: a delivery is shared by its whole batch."""
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting = set(deliveries)

    def settle(delivery: asyncio.Future[object]) -> None:
        waiting.discard(delivery)
        failed = None if delivery.cancelled() else delivery.exception()  # retrieved even if unused
        if finished.done():
            return
        if delivery.cancelled():
            finished.cancel()
        elif failed is not None:
            finished.set_exception(failed)
        elif not waiting:
            finished.set_result(None)

    if not waiting:
        finished.set_result(None)
    for delivery in list(waiting):
        delivery.add_done_callback(settle)
    return finished


async def commit_finished(
    consumer: AIOKafkaConsumer,
    tracker: OffsetTracker,
    partitions: Iterable[TopicPartition] | None = None,
    timeout_s: float = COMMIT_TIMEOUT_S,
) -> dict[TopicPartition, int] | None:
    """Step 3: commit each partition up to its lowest unfinished offset. Returns what was committed,
    or None when the commit failed or the broker did not answer within `timeout_s` (aiokafka would
    wait for a group coordinator without end)."""
    targets = list(partitions) if partitions is not None else tracker.partitions()
    offsets = {tp: offset for tp in targets if (offset := tracker.committable(tp)) is not None}
    if not offsets:
        return {}
    try:
        async with asyncio.timeout(timeout_s):
            await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
    except (KafkaError, TimeoutError) as exc:  # a rebalance, the broker gone: the next commit catches up
        log.warning("offset commit failed, will retry: %r", exc)
        return None
    for tp, offset in offsets.items():
        tracker.mark_committed(tp, offset)
    return offsets
