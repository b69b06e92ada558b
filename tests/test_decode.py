"""From a Kafka record to work, by topic: live inputs, the backfill lane, a replay."""

from __future__ import annotations

from dataclasses import dataclass

from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from schemas.request import AnalysisRequest
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
