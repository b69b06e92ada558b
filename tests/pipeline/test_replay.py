"""`aexy-stream replay --since`: history already analyzed, re-run from the cache, as `backfill`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from aexy_stream.compose import LLMGateway, build_activity, redis_client
from aexy_stream.settings import Settings
from consumers.config import Topics
from consumers.replay import plan_replay
from gateway.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from tests.conftest import REDIS_TEST_URL
from tests.pipeline.harness import commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all

pytestmark = [pytest.mark.slow, pytest.mark.redis]
PROJECT = Path(__file__).resolve().parents[2]
OLD = int(datetime(2020, 5, 1, tzinfo=UTC).timestamp() * 1000)
SINCE = "2025-01-01"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as handle:
        yield handle


def settings_env(kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle) -> dict[str, str]:
    """The same settings for the live run (in this process) and the replay (a CLI process)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "TOPIC_GITHUB_ACTIVITY": topics.activity,
        "TOPIC_CODE_CHANGES": topics.code_changes,
        "TOPIC_ANALYSIS_REQUESTS": topics.requests,
        "TOPIC_ANALYSIS_RESULTS": topics.results,
        "TOPIC_ANALYSIS_RETRY": topics.retry,
        "TOPIC_ANALYSIS_DLQ": topics.dlq,
        "TOPIC_GITHUB_ACTIVITY_BACKFILL": topics.backfill_activity,
        "TOPIC_CODE_CHANGES_BACKFILL": topics.backfill_code_changes,
        "LLM_PROVIDER": "claude",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": sim.base_url,
        "CLAUDE_RPM": "0",
        "REDIS_URL": REDIS_TEST_URL,
        "KAFKA_SESSION_TIMEOUT_MS": "2000",
        "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
    }


async def produce_history(bootstrap: str, topic: str) -> tuple[list[bytes], list[bytes]]:
    """Two commits stamped in 2020 and three stamped now, on one partition in that order."""
    old = [commit_event(repository=f"octo/{uuid.uuid4().hex[:6]}") for _ in range(2)]
    new = [commit_event(repository=f"octo/{uuid.uuid4().hex[:6]}") for _ in range(3)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for value in old:
            await producer.send_and_wait(topic, value, key=b"octo", partition=0, timestamp_ms=OLD)
        for value in new:
            await producer.send_and_wait(topic, value, key=b"octo", partition=0)
    finally:
        await producer.stop()
    return old, new


async def replay_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    command = [sys.executable, "-m", "aexy_stream.cli.main", "replay", *args]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, env=base | env, cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False
        )

    return await asyncio.to_thread(run)


async def settled(bootstrap: str, topic: str, at_least: int) -> list[Any]:
    """Every record of `topic` once no more arrive for a second (at least `at_least`)."""
    records = await consume_all(bootstrap, topic, at_least, timeout_s=30)
    while True:
        await asyncio.sleep(1.0)
        again = await consume_all(bootstrap, topic, len(records), timeout_s=30)
        if len(again) == len(records):
            return again
        records = again


def by_request(records: list[Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        envelope = orjson.loads(record.value)
        found.setdefault(envelope["request_id"], []).append(envelope)
    return found


async def test_replay_since_reruns_only_that_history_from_the_cache(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    env = settings_env(kafka, topics, sim)
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    settings = Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    gateway, redis = LLMGateway(settings=settings), redis_client(settings)
    activity = build_activity(settings, redis, lambda: None)  # the live run keeps the activity state too
    try:
        async with running(processor_config(kafka.bootstrap_servers, topics), gateway, activity):
            await consume_all(kafka.bootstrap_servers, topics.results, 20, timeout_s=30)
            live = await settled(kafka.bootstrap_servers, topics.results, 20)
    finally:
        await gateway.aclose()
        assert redis is not None
        await redis.aclose()
    kinds = [orjson.loads(r.value)["analysis_type"] for r in live]
    assert kinds.count("team_health") == 5  # once for each repository in this interval
    calls_live = sim.stats()["total"]
    assert calls_live == len(live)

    done = await replay_cli(env, "--since", SINCE, "--topics", topics.code_changes)

    assert done.returncode == 0, done.stderr
    if kafka.supports_time_lookup:
        assert "from the offsets for --since" in done.stdout
    else:
        assert "cannot look offsets up by time (checked)" in done.stdout
    assert "9 results, 0 provider calls" in done.stdout, done.stdout
    assert sim.stats()["total"] == calls_live  # every answer came from the (Redis) cache
    everything = await settled(kafka.bootstrap_servers, topics.results, len(live) + 9)
    assert len(everything) == len(live) + 9  # no periodic analysis asked again: already asked
    live_ids = set(by_request(live))
    replayed = {rid: envelopes for rid, envelopes in by_request(everything).items() if len(envelopes) == 2}
    assert len(replayed) == 9 and set(replayed) <= live_ids  # the same request ids: deduplicable
    for first, again in replayed.values():
        assert again["result"] == first["result"] and again["source"] == first["source"]
        assert again["cache_hit"] and again["provider"] == first["provider"]


async def test_the_plan_checks_the_time_lookup_and_counts_what_is_in_range(
    kafka: KafkaBroker, topics: Topics
) -> None:
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    since = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
    plan = await plan_replay(kafka.bootstrap_servers, [topics.code_changes], since)
    first = next(tp for tp in plan.stop if tp.partition == 0)
    assert plan.stop[first] == 5
    assert plan.start[first] == (2 if plan.by_time else 0)
    assert plan.by_time == kafka.supports_time_lookup  # Tansu answers by receive time: caught by the check
