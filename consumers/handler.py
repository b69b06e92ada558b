"""The work of one input record: decode, run each request through the gateway, publish the outcome.

A request ends in exactly one output: a result, a retry record (retryable failure, attempts
left; one for the requests of a fused call that failed as a whole) or a dead letter (final
failure, attempts exhausted, malformed input). The record is
finished only when the broker acknowledged all of them (`consumers/commit.py`). A record that
fails anywhere else (decoding, routing, keys, the activity state, identities, publishing) ends in
one dead letter of its own: `failed`, which the processor calls for every record whose work
raised, so no path can leave a record unfinished.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any, Protocol

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from consumers import headers as h
from consumers.activity.tracker import Activity, NoActivity
from consumers.client_logs import RateLimited
from consumers.commit import acknowledged, acknowledgement
from consumers.decode import Decoder, Work
from consumers.identity.resolver import Identities, Merge, Unresolved
from consumers.metrics import ProcessorMetrics
from consumers.publish import Delivery, Failure, Origin, Publisher, now_iso
from consumers.retry_policy import RetryPolicy
from consumers.routing import fused_groups
from consumers.skips import Skip
from gateway.errors import GatewayError
from schemas.envelope import AnalysisResult, SourceRef
from schemas.events import MalformedEvent
from schemas.identity import IdentityMerged
from schemas.request import AnalysisRequest
from schemas.types import Priority

Produced = list[AnalysisResult[Any]]
Outcomes = list[AnalysisResult[Any] | GatewayError]
log = logging.getLogger(__name__)
unwritten = logging.getLogger(f"{__name__}.unwritten")
unwritten.addFilter(RateLimited(60.0))
DEAD_LETTER_BACKOFF_S = (0.5, 30.0)
"""A dead letter the broker did not take is written again after 0.5 s, doubling up to 30 s."""


class Analyze(Protocol):
    """What the processor needs of the gateway."""

    async def analyze(
        self, request: AnalysisRequest, *, source: SourceRef | None = None
    ) -> AnalysisResult[Any]:
        """The envelope, with `source` stamped on it."""
        ...

    async def analyze_many(
        self, requests: Sequence[AnalysisRequest], *, source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | GatewayError]:
        """Several analyses of the same material in one call: each request's envelope, or the
        error it alone failed with."""
        ...

    def cached_many(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        """Each analysis's envelope if the gateway's memory holds the answer (no await), else None;
        the requests are analyses of the same material, or one request."""
        ...

    async def find_cached(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        """`cached` for several requests, in every cache tier, with one lookup per tier for all of
        them; None for a request no tier answers."""
        ...

    def cooling_down_for(self, priority: Priority = "live") -> float:
        """Seconds until a provider may be tried for a request of this priority (0: now)."""
        ...


class RecordHandler:
    def __init__(
        self,
        gateway: Analyze,
        publisher: Publisher,
        decoder: Decoder,
        policy: RetryPolicy,
        metrics: ProcessorMetrics,
        max_in_flight: int,
        backfill_in_flight: int = 16,
        activity: Activity | None = None,
        identities: Identities | None = None,
    ) -> None:
        self._gateway = gateway
        self._publisher = publisher
        self._decoder = decoder
        self._policy = policy
        self._metrics = metrics
        self._slots: dict[Priority, asyncio.Semaphore] = {
            "live": asyncio.Semaphore(max_in_flight),
            "backfill": asyncio.Semaphore(backfill_in_flight),
        }
        """Call slots per lane: backfill requests waiting on their rate share never hold live slots."""
        self._calls: set[asyncio.Task[Outcomes]] = set()
        self._fuse = decoder.routing.fuse_code_analyses
        self._parking = False
        self._activity: Activity = activity or NoActivity()
        self._identities: Identities = identities or Unresolved()

    def take(self, record: Any) -> asyncio.Future[None] | Coroutine[Any, Any, None]:
        """Start one record's work in the poll loop. Unless the activity state takes part in the
        record or it is a retry not yet due (then all of its work comes back as a coroutine, for a
        task), the answers the gateway holds in memory are published at once; with no call left
        to make, the record's acknowledgement future comes back (no task), else a coroutine that
        makes the calls. Either is done when the broker acknowledged every output of the record.

        A record that fails here (malformed input, or input that passes validation but that nothing
        downstream can take, or a defect) comes back as its `failed` coroutine."""
        self._metrics.events_in.labels(record.topic).inc()
        try:
            return self._take(record)
        except Exception as exc:
            return self.failed(record, exc)

    async def failed(self, record: Any, exc: BaseException) -> None:
        """How a record that failed anywhere ends: one dead letter with the error, rather than left
        unfinished to hold back its partition's commits (results it published stay published).
        The dead letter is written however long the broker takes: retried with backoff, ended only
        by cancellation (shutdown, the partition revoked)."""
        if isinstance(exc, MalformedEvent):
            reason, error_type = str(exc), "MalformedEvent"
        else:
            log.error("record %s@%s could not be processed: dead-lettered", record.topic, record.offset,
                      exc_info=exc)  # fmt: skip
            reason, error_type = f"could not be processed: {exc!r}", type(exc).__name__
        failure = Failure(reason, error_type, 0, now_iso())
        origin = Origin.of(record)
        wait = wait_exponential(multiplier=DEAD_LETTER_BACKOFF_S[0], max=DEAD_LETTER_BACKOFF_S[1])
        retrying = AsyncRetrying(retry=retry_if_exception_type(Exception), wait=wait, before_sleep=_unwritten)
        async for attempt in retrying:
            with attempt:
                await acknowledged([await self._publisher.dead_letter(origin, failure, record.topic)])

    def _take(self, record: Any) -> asyncio.Future[None] | Coroutine[Any, Any, None]:
        work = self._decoder.decode(record)
        self._count_skipped_files(work)
        settled = self._identities.settled(work.event, work.requests)  # canonical subjects, from memory
        requests = None if settled is None else self._activity.passes(settled)
        if requests is None or work.due_at_ms > time.time() * 1000:
            return self._handle(work)
        if not requests:
            self._skipped(work)
            return acknowledgement(())
        self._count_routed(requests, work)
        source = _source_of(work)
        deliveries, misses = self._publish_cached(requests, work, source, [])
        if misses:
            return self._finish(misses, work, source, deliveries)
        return acknowledgement(deliveries)

    async def _handle(self, work: Work) -> None:
        """A record the activity state or the identity store takes part in, or a retry to wait for."""
        resolved, merges = await self._identities.resolve(work.event, work.requests)
        await self._merged(merges, work)
        requests = await self._activity.on_event(work.event, resolved, work.priority)
        if not requests:
            self._skipped(work)
            return
        self._count_routed(requests, work)
        await _until_due(work.due_at_ms)
        source, produced = _source_of(work), Produced()
        deliveries = await self._analyze(requests, work, source, produced)
        if follow := await self._activity.on_results(produced, work.priority):
            self._count_routed(follow, work)
            deliveries += await self._analyze(follow, work, source, [])
        await acknowledged(deliveries)
        await self._activity.settled([*requests, *follow])

    async def _merged(self, merges: Sequence[Merge], work: Work) -> None:
        """Merges of subjects (new, or pending since an earlier record): their activity state joined,
        and an `identity_merged` record published and acknowledged, before the record's requests go
        out. Each merge is settled once both are done; one whose join failed (the state store out)
        stays pending, and a later record reports it again. A record that is not acknowledged fails
        the record (dead-lettered) and leaves every merge pending."""
        if not merges:
            return
        joined = [await self._activity.merged(merge) for merge in merges]
        source = _source_of(work)
        records = [
            IdentityMerged(subject=m.subject, merged=m.merged, via=m.via, source=source) for m in merges
        ]
        await acknowledged([await self._publisher.identity_merged(record) for record in records])
        await self._identities.settle([merge for merge, done in zip(merges, joined, strict=True) if done])

    async def _finish(
        self, misses: list[AnalysisRequest], work: Work, source: SourceRef, deliveries: list[Delivery]
    ) -> None:
        """The rest of a record the activity state takes no part in: what the other cache tiers
        answer, then the calls."""
        found, misses = await self._publish_found(misses, work, source, [])
        await acknowledged(deliveries + found + await self._called(misses, work, source, []))

    def stop_calls(self) -> None:
        """Shutdown: no call starts from now on; a request that would start one goes to the retry
        topic, due now. Calls in flight go on."""
        self._parking = True

    def park_all(self) -> None:
        """Shutdown, the grace period over: stop the calls in flight too; their requests go to the
        retry topic, due now."""
        self._parking = True
        for call in list(self._calls):
            call.cancel()

    async def _analyze(
        self, requests: Sequence[AnalysisRequest], work: Work, source: SourceRef, produced: Produced
    ) -> list[Delivery]:
        """Answers in memory published at once, then those in the other cache tiers, the rest
        analyzed concurrently; every result published is added to `produced`."""
        deliveries, misses = self._publish_cached(requests, work, source, produced)
        found, misses = await self._publish_found(misses, work, source, produced)
        return deliveries + found + await self._called(misses, work, source, produced)

    async def _called(
        self, requests: Sequence[AnalysisRequest], work: Work, source: SourceRef, produced: Produced
    ) -> list[Delivery]:
        """The requests analyzed concurrently, each call (one request, or a commit part's code
        analyses fused: `fused_groups`; each alone on a retry's last attempt, `RetryPolicy.fuses`)
        in its own call slot."""
        groups = fused_groups(requests, self._fuse and self._policy.fuses(work.attempt))
        called = await asyncio.gather(*(self._run(group, work, source, produced) for group in groups))
        return [delivery for deliveries in called for delivery in deliveries]

    def _publish_cached(
        self, requests: Sequence[AnalysisRequest], work: Work, source: SourceRef, produced: Produced
    ) -> tuple[list[Delivery], list[AnalysisRequest]]:
        """Publishes what the gateway's memory answers (no task, no call slot); returns those
        deliveries and the requests left for a call."""
        deliveries: list[Delivery] = []
        misses: list[AnalysisRequest] = []
        for group in fused_groups(requests, fuse=True):  # a part's analyses share their keys' material
            for request, envelope in zip(group, self._gateway.cached_many(group, source), strict=True):
                if envelope is None:
                    misses.append(request)
                else:
                    deliveries.append(self._published(envelope, work, produced))
        return deliveries, misses

    async def _publish_found(
        self, requests: Sequence[AnalysisRequest], work: Work, source: SourceRef, produced: Produced
    ) -> tuple[list[Delivery], list[AnalysisRequest]]:
        """Publishes what any cache tier answers, looked up together in one call slot of the lane
        (one Redis round trip for the record, not one per request); returns those deliveries and the
        requests left for a call."""
        if not requests:
            return [], []
        async with self._slots[work.priority]:
            envelopes = await self._gateway.find_cached(requests, source)
        deliveries: list[Delivery] = []
        misses: list[AnalysisRequest] = []
        for request, envelope in zip(requests, envelopes, strict=True):
            if envelope is None:
                misses.append(request)
            else:
                deliveries.append(self._published(envelope, work, produced))
        return deliveries, misses

    async def _run(
        self, requests: list[AnalysisRequest], work: Work, source: SourceRef, produced: Produced
    ) -> list[Delivery]:
        priority = requests[0].priority
        async with self._slots[priority]:
            await self._providers_ready(priority)
            if self._parking:
                return [await self._park(requests, work)]
            call = asyncio.ensure_future(self._analysis(requests, source))
            self._calls.add(call)
            self._metrics.in_flight.inc()
            try:
                outcomes = await call
            except asyncio.CancelledError:
                if not call.cancelled() or _cancelling():
                    raise
                return [await self._park(requests, work)]
            except GatewayError as exc:
                outcomes = [exc] * len(requests)
            finally:
                self._calls.discard(call)
                self._metrics.in_flight.dec()
        return await self._delivered(requests, outcomes, work, produced)

    async def _analysis(self, requests: list[AnalysisRequest], source: SourceRef) -> Outcomes:
        if len(requests) == 1:
            return [await self._gateway.analyze(requests[0], source=source)]
        return await self._gateway.analyze_many(requests, source=source)

    async def _delivered(
        self, requests: list[AnalysisRequest], outcomes: Outcomes, work: Work, produced: Produced
    ) -> list[Delivery]:
        """Each result published. A call of several requests that failed as a whole fails as one
        (`_failed`: one retry record, fused again when it comes back); any other failure is its
        request's alone (a part invalid after repair)."""
        if (whole := _failed_whole(outcomes)) is not None:
            return await self._failed(requests, work, whole)
        deliveries: list[Delivery] = []
        for request, outcome in zip(requests, outcomes, strict=True):
            if isinstance(outcome, GatewayError):
                deliveries += await self._failed([request], work, outcome)
            else:
                deliveries.append(self._published(outcome, work, produced))
        return deliveries

    async def _providers_ready(self, priority: Priority) -> None:
        """Every provider cooling down for this lane: wait here (the processor pauses its input
        meanwhile), rather than burn retry attempts on calls that would be refused."""
        while not self._parking and (delay := self._gateway.cooling_down_for(priority)) > 0:  # noqa: ASYNC110 - a time-based cool-down, no event to wait on
            await asyncio.sleep(min(delay, 1.0))

    def _published(self, envelope: AnalysisResult[Any], work: Work, produced: Produced) -> Delivery:
        delivery = self._publisher.result(envelope)
        produced.append(envelope)
        if work.event_time is not None:
            self._metrics.e2e.observe(max(time.time() - work.event_time, 0.0))
        return delivery

    async def _failed(self, requests: list[AnalysisRequest], work: Work, exc: GatewayError) -> list[Delivery]:
        """Requests of one call that failed with `exc` (one request, or a fused group that failed as
        a whole): back to the retry topic in one record while attempts are left, else each
        dead-lettered."""
        attempts = work.attempt + (0 if exc.root_type == "CircuitOpen" else 1)  # never tried: no attempt
        failure = Failure(str(exc), exc.root_type, attempts, work.first_failure_at or now_iso())
        if not exc.retryable or self._policy.exhausted(attempts):
            return [await self._dead_letter(request, work, failure) for request in requests]
        delay = self._policy.delay_s(attempts, exc.retry_after)
        return [await self._publisher.retry(requests, work.origin, failure, delay)]

    async def _dead_letter(self, request: AnalysisRequest, work: Work, failure: Failure) -> Delivery:
        """The input record with the request named; a request that came back in a retry group is
        dead-lettered as its own `AnalysisRequest`, to be replayed alone."""
        origin = work.origin
        if work.retry_group:
            origin = origin.with_value(request.model_dump_json().encode())
        extra = {h.ANALYSIS_TYPE: request.analysis_type.value, h.REQUEST_ID: request.request_id}
        return await self._publisher.dead_letter(origin, failure, work.replay_topic, **extra)

    async def _park(self, requests: list[AnalysisRequest], work: Work) -> Delivery:
        """A call's requests parked in one record (a fused group stays one), due now."""
        failure = Failure(
            "shutdown before the call finished", "Shutdown", work.attempt, work.first_failure_at or now_iso()
        )
        return await self._publisher.retry(requests, work.origin, failure, 0.0)

    def _skipped(self, work: Work) -> None:
        """Counted by its label; without one, routing asked for analyses that are all turned off."""
        label = work.skipped or Skip.ANALYSES_OFF
        self._metrics.skipped.labels(label.value).inc()
        log.debug("skipped %s (%s): %s", work.origin.event_id, label.value, work.skip_detail or label.value)

    def _count_skipped_files(self, work: Work) -> None:
        for reason, files in work.files_skipped:
            self._metrics.files_skipped.labels(reason.value).inc(files)

    def _count_routed(self, requests: Sequence[AnalysisRequest], work: Work) -> None:
        for request in requests:
            self._metrics.routed.labels(request.analysis_type.value).inc()


def _source_of(work: Work) -> SourceRef:
    origin = work.origin
    return SourceRef(
        topic=origin.topic, partition=origin.partition, offset=origin.offset, event_id=origin.event_id
    )


def _unwritten(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    unwritten.warning("a dead letter was not written (%r): written again in %.1f s, its partition's "
                      "commits wait for it (oldest_unfinished_age_seconds)", error, wait)  # fmt: skip


def _failed_whole(outcomes: Outcomes) -> GatewayError | None:
    """The error a call of several requests failed with as a whole (every request with an error of
    one kind, retryable or not alike), the one with the longest Retry-After; else None."""
    errors = [outcome for outcome in outcomes if isinstance(outcome, GatewayError)]
    if len(outcomes) < 2 or len(errors) < len(outcomes):
        return None
    if len({(error.root_type, error.retryable) for error in errors}) > 1:
        return None
    return max(errors, key=lambda error: error.retry_after or 0.0)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _until_due(due_at_ms: int) -> None:
    """A retry record waits in its own task, so a later record that is due is never held back."""
    delay = due_at_ms / 1000 - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
