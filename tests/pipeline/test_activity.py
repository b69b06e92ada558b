"""The activity state in the running processor: real broker, real Redis state, simulated provider."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from aexy_dev.simulator import SimulatorHandle
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.redis import RedisStateStore
from consumers.activity.tracker import ActivityTracker
from consumers.config import Topics
from gateway.errors import GatewayError
from gateway.gateway import Gateway
from schemas.envelope import AnalysisResult, SourceRef
from schemas.request import AnalysisRequest
from schemas.types import Priority
from tests.activity.history import by_time, declining, steady
from tests.conftest import REDIS_TEST_URL
from tests.pipeline.harness import claude_gateway, commit_event, corpus_examples, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce

pytestmark = [pytest.mark.slow, pytest.mark.redis]
RISKS = {"attrition_risk", "burnout_risk", "performance_trajectory"}
KEY = "a-test-pseudonym-key-of-some-length"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_TEST_URL)
    prefix = f"test:activity:{uuid.uuid4().hex[:8]}:"
    client.prefix = prefix  # type: ignore[attr-defined]
    yield client
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def tracker(redis: Redis, key: str = "") -> ActivityTracker:
    store = RedisStateStore(redis, 3600, prefix=redis.prefix)  # type: ignore[attr-defined]
    return ActivityTracker(store, ActivityConfig(), Pseudonyms(key))


class Recording:
    """The real gateway, with every request it is asked for written down."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.requests: list[AnalysisRequest] = []

    async def analyze(
        self, request: AnalysisRequest, *, source: SourceRef | None = None
    ) -> AnalysisResult[Any]:
        self.requests.append(request)
        return await self.gateway.analyze(request, source=source)

    async def analyze_many(
        self, requests: Sequence[AnalysisRequest], *, source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | GatewayError]:
        self.requests += requests
        return await self.gateway.analyze_many(requests, source=source)

    def cached_many(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        self.requests += requests
        return self.gateway.cached_many(requests, source)

    async def find_cached(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        self.requests += requests
        return await self.gateway.find_cached(requests, source)

    def cooling_down_for(self, priority: Priority = "live") -> float:
        return self.gateway.cooling_down_for(priority)


async def results_until(
    kafka: KafkaBroker, topics: Topics, at_least: int, done: Callable[[dict[str, set[str]]], bool]
) -> dict[str, set[str]]:
    """The analysis types per subject on the results topic, once there are `at_least` results and
    `done` holds (the risks come after the code results of the commits that trigger them)."""
    deadline = asyncio.get_running_loop().time() + 60
    wanted = at_least
    while True:
        left = deadline - asyncio.get_running_loop().time()
        records = await consume_all(kafka.bootstrap_servers, topics.results, wanted, timeout_s=max(left, 1))
        by_subject: dict[str, set[str]] = {}
        for record in records:
            envelope = orjson.loads(record.value)
            by_subject.setdefault(envelope["subject"], set()).add(envelope["analysis_type"])
        if done(by_subject) or left <= 0:
            return by_subject
        wanted = len(records) + 1


async def test_the_scripted_history_fires_risks_for_the_declining_developer_only(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, redis: Redis
) -> None:
    history = by_time(declining("dora"), steady("stan"))
    await produce(kafka.bootstrap_servers, topics.backfill_code_changes, history, key=b"octo/app")
    expected = 3 * len(history)
    gateway = Recording(claude_gateway(sim))
    try:
        async with running(processor_config(kafka.bootstrap_servers, topics), gateway, tracker(redis)):
            by_subject = await results_until(
                kafka, topics, expected + 3, lambda found: found.get("dora", set()) >= RISKS
            )
    finally:
        await gateway.gateway.aclose()
    assert by_subject["dora"] >= RISKS
    assert not RISKS & by_subject["stan"]
    assert "team_health" in by_subject["octo/app"]


async def test_no_raw_identity_in_any_request_or_result_with_pseudonyms(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, redis: Redis
) -> None:
    examples = [(name, value) for name, value in corpus_examples() if name != "ping"]
    for name, value in examples:
        await produce(
            kafka.bootstrap_servers, topics.activity, [value], headers=[("x-github-event", name.encode())]
        )
    commit = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit], key=b"octo/app")
    identities = {raw.lower() for raw in _identities(examples, commit) if len(raw) >= 3}
    recording = Recording(claude_gateway(sim))
    try:
        async with running(processor_config(kafka.bootstrap_servers, topics), recording, tracker(redis, KEY)):
            records = await consume_all(kafka.bootstrap_servers, topics.results, 10, timeout_s=30)
            records = await _all_results(kafka, topics, len(records))
    finally:
        await recording.gateway.aclose()
    texts = [r.model_dump_json().lower() for r in recording.requests] + [
        r.value.decode().lower() for r in records
    ]
    assert recording.requests and records
    leaks = {raw: m for raw in identities for text in texts if (m := _mention(text, raw))}
    assert leaks == {}
    assert any(orjson.loads(r.value)["subject"].startswith("dev_") for r in records)


def _identities(examples: list[tuple[str, bytes]], commit: bytes) -> set[str]:
    """Every login and email in the raw payloads (found here, not by the code under test)."""
    found: set[str] = set()
    for value in [value for _, value in examples] + [commit]:
        found |= set(_values(orjson.loads(value), ("login", "email")))
    return found


def _values(data: Any, keys: tuple[str, ...]) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key in keys and isinstance(value, str) and value:
                yield value
            yield from _values(value, keys)
    elif isinstance(data, list):
        for item in data:
            yield from _values(item, keys)


def _mention(text: str, raw: str) -> str:
    """Where `raw` stands in `text` ("" if nowhere). Looser than the scrubber's own boundaries (a
    `.` or `-` ends a word here, as in `alice.github.io`), so what it misses at one shows up; only
    `github.com` and the `github.activity` topic are not counted."""
    found = re.search(rf"(?<![A-Za-z0-9_]){re.escape(raw)}(?![A-Za-z0-9_]|\.(?:com|activity)\b)", text)
    return text[max(found.start() - 60, 0) : found.end() + 60] if found else ""


async def _all_results(kafka: KafkaBroker, topics: Topics, at_least: int) -> list[Any]:
    records = await consume_all(kafka.bootstrap_servers, topics.results, at_least, timeout_s=30)
    while True:
        await asyncio.sleep(1.0)
        again = await consume_all(kafka.bootstrap_servers, topics.results, len(records), timeout_s=30)
        if len(again) == len(records):
            return again
        records = again
