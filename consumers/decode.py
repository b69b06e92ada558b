"""From a Kafka record to the work it implies, by topic. Bad input raises `MalformedEvent`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.file_skips import FileSkip
from consumers.publish import Origin
from consumers.routing import Routed, route_activity, route_code_change
from consumers.skips import Skip
from schemas.events import (
    ActivityEvent,
    CodeChangeEvent,
    MalformedEvent,
    parse_activity,
    parse_code_change,
)
from schemas.request import AnalysisRequest
from schemas.retry import RETRY_GROUP, RetryGroup
from schemas.types import Priority


@dataclass(frozen=True, slots=True)
class Work:
    """The requests one input record asks for, and where it came from."""

    origin: Origin
    requests: tuple[AnalysisRequest, ...] = ()
    skipped: Skip | None = None
    skip_detail: str = ""
    files_skipped: tuple[tuple[FileSkip, int], ...] = ()
    """A commit's files left out of its analyses, per reason."""
    attempt: int = 0
    """Failed attempts so far (retry records)."""
    due_at_ms: int = 0
    first_failure_at: str = ""
    replay_topic: str = ""
    event_time: float | None = None
    """When the event happened (epoch seconds), for the end-to-end latency of its results."""
    labels: dict[str, str] = field(default_factory=dict)
    event: ActivityEvent | CodeChangeEvent | None = None
    """The parsed input event, for the activity state (None for requests, retries and bots)."""
    priority: Priority = "live"
    retry_group: bool = False
    """The requests came back in one retry record (a fused group): each is dead-lettered as its own
    `AnalysisRequest`, not as the record's value."""


@dataclass(frozen=True, slots=True)
class Decoder:
    topics: Topics
    routing: RoutingConfig
    max_event_bytes: int
    priority: Priority = "live"

    def decode(self, record: Any) -> Work:
        origin = Origin.of(record)
        if len(origin.value) > self.max_event_bytes:
            raise MalformedEvent(
                f"record of {len(origin.value)} bytes is over MAX_EVENT_BYTES={self.max_event_bytes}"
            )
        meta = h.as_dict(record.headers)
        topic = record.topic
        if topic in (self.topics.activity, self.topics.backfill_activity):
            return self._activity(origin, meta)
        if topic in (self.topics.code_changes, self.topics.backfill_code_changes):
            return self._code_change(origin)
        if record.topic == self.topics.retry:
            return self._retry(origin, meta)
        return self._request(origin)

    def _activity(self, origin: Origin, meta: dict[str, str]) -> Work:
        event = parse_activity(origin.value, meta.get(h.GITHUB_EVENT), meta.get(h.GITHUB_DELIVERY))
        priority = self._priority(origin.topic)
        routed = route_activity(event, self.routing, priority=priority)
        return _routed(origin, event, routed, event.occurred_at, priority)

    def _code_change(self, origin: Origin) -> Work:
        event = parse_code_change(origin.value)
        priority = self._priority(origin.topic)
        routed = route_code_change(event, self.routing, priority=priority)
        return _routed(origin, event, routed, event.committed_at or event.authored_at, priority)

    def _priority(self, topic: str) -> Priority:
        """Backfill for the lane topics, else the processor's own (backfill for a replay)."""
        return "backfill" if topic in self.topics.lanes else self.priority

    def _request(self, origin: Origin) -> Work:
        request = _analysis_request(origin.value)
        if self.priority == "backfill":  # a replay re-runs other services' requests as backfill
            request = request.model_copy(update={"priority": "backfill"})
        origin = origin.with_event_id(request.request_id)
        return Work(origin, (request,), replay_topic=self.topics.requests, priority=request.priority)

    def _retry(self, origin: Origin, meta: dict[str, str]) -> Work:
        requests = retried_requests(origin.value, meta)
        source = Origin(
            meta.get(h.ORIGINAL_TOPIC, origin.topic),
            _int(meta.get(h.ORIGINAL_PARTITION), origin.partition),
            _int(meta.get(h.ORIGINAL_OFFSET), origin.offset),
            origin.key,
            origin.value,
            meta.get(h.EVENT_ID, requests[0].request_id),
        )
        return Work(
            source,
            requests,
            attempt=_int(meta.get(h.ATTEMPT), 1),
            due_at_ms=_int(meta.get(h.DUE_AT), 0),
            first_failure_at=meta.get(h.FIRST_FAILURE_AT, ""),
            replay_topic=self.topics.requests,
            priority=requests[0].priority,
            retry_group=len(requests) > 1,
        )


def _routed(
    origin: Origin,
    event: ActivityEvent | CodeChangeEvent,
    routed: Routed,
    event_time: datetime | None,
    priority: Priority,
) -> Work:
    return Work(
        origin.with_event_id(event.event_id),
        routed.requests,
        skipped=routed.skipped,
        skip_detail=routed.detail,
        files_skipped=routed.files_skipped,
        replay_topic=origin.topic,
        event_time=None if event_time is None else event_time.timestamp(),
        event=None if routed.skipped is Skip.BOT else event,  # bots are not developers
        priority=priority,
    )


def retried_requests(value: bytes, meta: Mapping[str, str]) -> tuple[AnalysisRequest, ...]:
    """The requests of a retry record (`meta`: its headers, `headers.as_dict`): one
    `AnalysisRequest`, or a fused group's (`RetryGroup`, header `x-record-type: retry_group`)."""
    if meta.get(h.RECORD_TYPE) == RETRY_GROUP:
        try:
            return RetryGroup.model_validate_json(value).requests
        except ValidationError as exc:
            raise _malformed("a RetryGroup", exc) from exc
    return (_analysis_request(value),)


def _analysis_request(value: bytes) -> AnalysisRequest:
    try:
        return AnalysisRequest.model_validate_json(value)
    except ValidationError as exc:
        raise _malformed("an AnalysisRequest", exc) from exc


def _malformed(expected: str, exc: ValidationError) -> MalformedEvent:
    first = exc.errors()[0]
    where = ".".join(map(str, first["loc"])) or "<root>"
    return MalformedEvent(f"not {expected}: {where}: {first['msg']}")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
