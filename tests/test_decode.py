"""From a Kafka record to work, by topic: live inputs, the backfill lane, a replay."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest

from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from schemas.events import MalformedEvent
from schemas.request import AnalysisRequest
from schemas.retry import RETRY_GROUP, RetryGroup
from schemas.types import AnalysisType, Priority
from tests.pipeline.harness import commit_event

TOPICS = Topics()


@dataclass
class Record:
    topic: str
    value: bytes
    partition: int = 0
    offset: int = 7
    key: bytes | None = b"octo/app"
    headers: tuple[tuple[str, bytes], ...] = ()


def priorities(decoder: Decoder, record: Record) -> set[Priority]:
    return {request.priority for request in decoder.decode(record).requests}


def test_code_changes_on_the_lane_are_backfill_and_live_ones_live() -> None:
    decoder = Decoder(TOPICS, RoutingConfig(), 1_000_000)
    assert priorities(decoder, Record(TOPICS.code_changes, commit_event())) == {"live"}
    assert priorities(decoder, Record(TOPICS.backfill_code_changes, commit_event())) == {"backfill"}


def test_the_lane_routes_like_the_live_topic() -> None:
    decoder = Decoder(TOPICS, RoutingConfig(), 1_000_000)
    value = commit_event(sha="b" * 40)
    live = decoder.decode(Record(TOPICS.code_changes, value)).requests
    lane = decoder.decode(Record(TOPICS.backfill_code_changes, value)).requests
    assert [r.request_id for r in live] == [r.request_id for r in lane]  # same ids: deduplicable
    assert [r.model_copy(update={"priority": "live"}) for r in lane] == list(live)


def test_a_replay_makes_every_request_backfill_even_those_given_as_live() -> None:
    replay = Decoder(TOPICS, RoutingConfig(), 1_000_000, priority="backfill")
    given = AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="Thanks for the review!")
    assert given.priority == "live"
    assert priorities(replay, Record(TOPICS.requests, given.model_dump_json().encode())) == {"backfill"}
    assert priorities(replay, Record(TOPICS.code_changes, commit_event())) == {"backfill"}


def retry_record(value: bytes, *headers: tuple[str, bytes]) -> Record:
    due = ((h.ATTEMPT, b"2"), (h.DUE_AT, b"0"), (h.ORIGINAL_TOPIC, TOPICS.code_changes.encode()))
    return Record(TOPICS.retry, value, headers=(*due, *headers))


def test_a_retry_record_of_one_request_the_original_form_is_read_as_that_request() -> None:
    request = AnalysisRequest(analysis_type=AnalysisType.TASK_SIGNALS, content="Fix the build")
    work = Decoder(TOPICS, RoutingConfig(), 1_000_000).decode(
        retry_record(request.model_dump_json().encode())
    )
    assert (work.requests, work.attempt, work.retry_group) == ((request,), 2, False)
    assert work.origin.topic == TOPICS.code_changes


def test_a_retry_group_is_read_back_as_its_requests_in_order() -> None:
    decoder = Decoder(TOPICS, RoutingConfig(), 1_000_000)
    requests = decoder.decode(Record(TOPICS.code_changes, commit_event())).requests
    value = RetryGroup(requests=requests).model_dump_json().encode()
    work = decoder.decode(retry_record(value, (h.RECORD_TYPE, RETRY_GROUP.encode())))
    assert (work.requests, work.attempt, work.retry_group) == (requests, 2, True)
    assert work.origin.event_id == requests[0].request_id  # no x-event-id header given


def test_a_malformed_retry_group_is_a_malformed_event() -> None:
    decoder = Decoder(TOPICS, RoutingConfig(), 1_000_000)
    (request, *_) = decoder.decode(Record(TOPICS.code_changes, commit_event())).requests
    alone = orjson.dumps(
        {"schema_version": 1, "record_type": "retry_group", "requests": [request.model_dump()]}
    )
    as_group = (h.RECORD_TYPE, RETRY_GROUP.encode())
    with pytest.raises(MalformedEvent, match="not a RetryGroup: requests"):
        decoder.decode(retry_record(alone, as_group))  # a group holds two requests or more
    with pytest.raises(MalformedEvent, match="not an AnalysisRequest"):
        decoder.decode(retry_record(RetryGroup(requests=(request, request)).model_dump_json().encode()))
