"""`aexy-stream replay --since`: history already analyzed, re-run from the cache, as `backfill`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import RecordsToDelete

from aexy_dev.simulator import SimulatorHandle
from aexy_stream.compose import LLMGateway, build_activity, build_identities
from aexy_stream.settings import Settings
from consumers.config import Topics
from consumers.replay import lookup_holds, plan_replay
from consumers.topics import admin_client
from tests.conftest import REDIS_TEST_URL
from tests.pipeline.harness import acked_producer, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, topic_environment

pytestmark = pytest.mark.redis
PROJECT = Path(__file__).resolve().parents[2]
OLD = int(datetime(2020, 5, 1, tzinfo=UTC).timestamp() * 1000)
SINCE = "2025-01-01"


def settings_env(kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle) -> dict[str, str]:
    """The same settings for the live run (in this process) and the replay (a CLI process)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        **topic_environment(topics),
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
    producer = acked_producer(bootstrap)
    await producer.start()
    try:
        for value in old:
            await producer.send_and_wait(topic, value, key=b"octo", partition=0, timestamp_ms=OLD)
        for value in new:
            await producer.send_and_wait(topic, value, key=b"octo", partition=0)
    finally:
        await producer.stop()
    return old, new


async def replay_cli(
    env: dict[str, str], *args: str, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    command = [sys.executable, "-m", "aexy_stream.cli.main", "replay", *args]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            env=base | env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
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


@pytest.mark.slow  # a live run, then `aexy-stream replay` as a process
async def test_replay_since_reruns_only_that_history_from_the_cache(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    env = settings_env(kafka, topics, sim)
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    settings = Settings(**{k.lower(): v for k, v in env.items()})  # type: ignore[arg-type]
    gateway = LLMGateway(settings=settings)
    identities = build_identities(settings, gateway.redis, lambda: None)
    activity = build_activity(settings, gateway.redis, lambda: None, identities)  # the live run keeps it too
    try:
        async with running(processor_config(kafka.bootstrap_servers, topics), gateway, activity):
            await consume_all(kafka.bootstrap_servers, topics.results, 20, timeout_s=30)
            live = await settled(kafka.bootstrap_servers, topics.results, 20)
    finally:
        await gateway.aclose()
    kinds = [orjson.loads(r.value)["analysis_type"] for r in live]
    assert kinds.count("team_health") == 5  # once for each repository in this interval
    calls_live = sim.stats()["total"]
    assert calls_live == len(live) - 2 * kinds.count("code_quality")  # a part's 3 code analyses: 1 call

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


@pytest.mark.slow  # `aexy-stream replay` as a process, twice
async def test_a_replay_resumed_with_its_group_ends_at_once_when_it_had_finished(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """The group committed the stop offset: the partition yields no record, yet the replay is done."""
    env = settings_env(kafka, topics, sim) | {"CLAUDE_TPM": "0"}  # no backfill share to wait for
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    args = ("--since", SINCE, "--topics", topics.code_changes, "--group", f"replay-{uuid.uuid4().hex[:8]}")
    first = await replay_cli(env, *args)
    assert first.returncode == 0, first.stderr
    assert "3 records analyzed" in first.stdout, first.stdout

    again = await replay_cli(env, *args, timeout_s=60)  # before the fix: no end, killed by the timeout

    assert again.returncode == 0, again.stderr
    assert "0 records analyzed, 0 out of range, 0 results" in again.stdout, again.stdout


async def plan_reader(bootstrap: str, tp: TopicPartition) -> AIOKafkaConsumer:
    """A consumer like the plan's own (no group, assigned, earliest reset)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    consumer.assign([tp])
    return consumer


async def test_the_check_reads_nothing_before_the_first_offset_of_a_partition(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """After retention, a `since` older than the log gets the first kept offset, and nothing before it
    can be read (Kafka: out of range). Tansu cannot delete records, so the first offset is given here;
    the records are real: offset 0, stamped after `since`, would contradict a start at 1."""
    tp = TopicPartition(topics.code_changes, 0)
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    since = OLD - 1000  # every record is at or after it
    consumer = await plan_reader(kafka.bootstrap_servers, tp)
    try:
        assert await lookup_holds(consumer, {tp: 1}, since, first={tp: 1}, stop={tp: 5})
        assert not await lookup_holds(consumer, {tp: 1}, since, first={tp: 0}, stop={tp: 5})
    finally:
        await consumer.stop()


@pytest.mark.needs_real_kafka
async def test_a_since_older_than_what_retention_kept_starts_at_the_first_kept_offset(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """Offset 1 is gone: reading it would fall to the end of the log and wait (then fail) there.

    Apache Kafka 4.1.1 answers the time lookup for partition 0 with no offset (as if nothing were at or
    after `since`), though offsets 2-4 are; the plan's check catches that and starts from the first kept
    offset, which is the same start."""
    tp = TopicPartition(topics.code_changes, 0)
    await produce_history(kafka.bootstrap_servers, topics.code_changes)
    async with admin_client(kafka.bootstrap_servers) as admin:
        await admin.delete_records({tp: RecordsToDelete(before_offset=2)})
    plan = await plan_replay(kafka.bootstrap_servers, [topics.code_changes], OLD - 1000)
    assert (plan.start[tp], plan.stop[tp], plan.records) == (2, 5, 3)


@pytest.mark.needs_real_kafka
async def test_a_transaction_marker_just_before_the_start_offset_proves_nothing(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """Offsets 0-1 in a transaction (stamped 2020), its commit marker at 2, then 3-5 stamped after
    `since`: the record read from offset 2 is the one at 3, not a record before the start."""
    tp = TopicPartition(topics.code_changes, 0)
    await produce_transaction(kafka.bootstrap_servers, tp, [commit_event(), commit_event()], OLD)
    await asyncio.sleep(1.0)  # the marker's timestamp (broker clock) stays before `since`
    since = int(time.time() * 1000)
    await produce_now(kafka.bootstrap_servers, tp, 3)
    plan = await plan_replay(kafka.bootstrap_servers, [topics.code_changes], since)
    assert (plan.by_time, plan.start[tp], plan.stop[tp]) == (True, 3, 6)


async def produce_transaction(bootstrap: str, tp: TopicPartition, values: list[bytes], stamp: int) -> None:
    """`values` in one committed transaction; returns once its commit marker is in the log."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"test-{uuid.uuid4().hex}")
    await producer.start()
    try:
        async with producer.transaction():
            for value in values:
                await producer.send_and_wait(tp.topic, value, partition=tp.partition, timestamp_ms=stamp)
    finally:
        await producer.stop()
    consumer = await plan_reader(bootstrap, tp)
    try:
        async with asyncio.timeout(10):
            while (await consumer.end_offsets([tp]))[tp] < len(values) + 1:
                await asyncio.sleep(0.05)
    finally:
        await consumer.stop()


async def produce_now(bootstrap: str, tp: TopicPartition, count: int) -> None:
    """`count` commits stamped now, outside any transaction."""
    producer = acked_producer(bootstrap)
    await producer.start()
    try:
        for _ in range(count):
            await producer.send_and_wait(tp.topic, commit_event(), partition=tp.partition)
    finally:
        await producer.stop()
