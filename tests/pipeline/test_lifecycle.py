"""The processor as users run it (`aexy-stream run`, a real process): stop, crash, scale out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.decode import retried_requests
from consumers.routing import CODE_CHANGE_ANALYSES, route_code_change
from consumers.topics import admin_client
from schemas.events import parse_code_change
from schemas.request import AnalysisRequest
from tests.conftest import free_port
from tests.pipeline.harness import commit_event
from tests.plugins.kafka import KafkaBroker, consume_all, produce, topic_environment

pytestmark = pytest.mark.slow
PASS_THROUGH = ("PATH", "HOME", "LANG")


class ProcessorProcess:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aexy_stream.cli.main", "run",
            env=self.env, cwd=self.cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=30)
        assert b"aexy-stream processor" in line, line

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, timeout_s: float = 60) -> tuple[int, str]:
        assert self.process is not None and self.process.stdout is not None
        output = await asyncio.wait_for(self.process.stdout.read(), timeout=timeout_s)
        code = await asyncio.wait_for(self.process.wait(), timeout=timeout_s)
        return code, output.decode(errors="replace")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


def environment(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, group: str, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASS_THROUGH}
    return (
        env
        | {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "KAFKA_GROUP_ID": group,
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
            **topic_environment(topics),
            "ANTHROPIC_BASE_URL": sim.base_url,
            "ANTHROPIC_API_KEY": "sk-test",
            "CLAUDE_RPM": "0",  # the default 50/min would (correctly) throttle these runs
            "CLAUDE_TPM": "0",
            "LLM_MAX_RETRIES": "1",
            "LLM_BACKOFF_INITIAL_S": "0.05",
            "RETRY_BACKOFF_BASE_S": "0.2",
            "HTTP_PORT": str(free_port()),
        }
        | extra
    )


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=300)) as handle:
        yield handle


async def publish_commits(kafka: KafkaBroker, topics: Topics, count: int) -> set[str]:
    """`count` commits spread over the partitions; returns the request ids they route to."""
    expected: set[str] = set()
    for i in range(count):
        commit = commit_event(repository=f"octo/repo{i % 8}", sha=uuid.uuid4().hex + "0" * 8)
        key = f"octo/repo{i % 8}".encode()
        await produce(kafka.bootstrap_servers, topics.code_changes, [commit], key=key)
        ids = {r.request_id for r in route_code_change(parse_code_change(commit), RoutingConfig()).requests}
        expected |= ids
    return expected


async def outcomes(kafka: KafkaBroker, topics: Topics, expected: set[str], timeout_s: float) -> set[str]:
    """Request ids that ended as a result or a dead letter, waiting until all expected ones did (one
    consumer reads both topics from the beginning as records arrive)."""
    consumer = AIOKafkaConsumer(
        topics.results,
        topics.dlq,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"peek-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    seen: set[str] = set()
    await consumer.start()
    try:
        while loop.time() < deadline and not expected <= seen:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                seen |= {_request_id(tp.topic == topics.dlq, r.value) for r in records}
    finally:
        await consumer.stop()
    return seen


def _request_id(dead_letter: bool, value: bytes) -> str:
    if dead_letter:
        return AnalysisRequest.model_validate_json(value).request_id
    request_id: str = orjson.loads(value)["request_id"]
    return request_id


async def read_all(kafka: KafkaBroker, topic: str) -> list[Any]:
    """Every record of `topic` so far (read with a throwaway group until a fetch comes back empty)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"peek-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        while batch := await consumer.getmany(timeout_ms=1000):
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def in_flight(port: int) -> float:
    """The processor's own gauge of gateway calls in flight, read from its /metrics endpoint."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("aexy_stream_in_flight_calls "):
            return float(line.split()[1])
    return 0.0


async def assignments(kafka: KafkaBroker, group: str, topic: str) -> list[set[int]]:
    """The partitions of `topic` the group's coordinator gave each member, as it describes the group
    (a member that joined and has no assignment yet, during a rebalance, owns none)."""
    async with admin_client(kafka.bootstrap_servers) as admin:
        [response] = await admin.describe_consumer_groups([group])
    [described] = response.to_object()["groups"]
    owned: list[set[int]] = []
    for member in described["members"]:
        given = member["member_assignment"]
        assignment = ConsumerProtocolMemberAssignment.decode(given).partitions() if given else []
        owned.append({tp.partition for tp in assignment if tp.topic == topic})
    return owned


async def committed(kafka: KafkaBroker, group: str, topic: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return sum([await consumer.committed(TopicPartition(topic, p)) or 0 for p in range(partitions)])
    finally:
        await consumer.stop()


async def test_sigterm_with_calls_in_flight_exits_cleanly_and_loses_nothing(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=3000)) as slow:
        expected = await publish_commits(kafka, topics, 8)
        group = f"g-{uuid.uuid4().hex[:6]}"
        env = environment(kafka, topics, slow, group, SHUTDOWN_GRACE_S="0.5")
        first = ProcessorProcess(env, tmp_path)
        await first.start()
        calls = len(expected) // len(CODE_CHANGE_ANALYSES)  # a commit's three analyses are one fused call
        while await in_flight(int(env["HTTP_PORT"])) < calls:  # every commit's call is out, none answered
            await asyncio.sleep(0.1)
        first.signal(signal.SIGTERM)
        code, output = await first.wait(timeout_s=30)
        assert code == 0, output
        assert "stopped cleanly" in output
        assert (
            await committed(kafka, group, topics.code_changes, topics.partitions) == 8
        )  # every input settled
        # the routed requests, and the team_health each of the 8 repositories' first activity asks for
        calls_parked = calls + 8  # each commit's fused call parked as one record (a retry group)
        parked = await consume_all(kafka.bootstrap_servers, topics.retry, calls_parked, timeout_s=10)
        requests = [request for r in parked for request in retried_requests(r.value, h.as_dict(r.headers))]
        assert {r.request_id for r in requests if r.request_id in expected} == expected
        assert Counter(r.analysis_type.value for r in requests if r.request_id not in expected) == {
            "team_health": 8
        }
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as fast:
        second = ProcessorProcess(environment(kafka, topics, fast, group), tmp_path)
        await second.start()
        try:
            assert expected <= await outcomes(kafka, topics, expected, timeout_s=60)
        finally:
            second.signal(signal.SIGTERM)
            assert (await second.wait())[0] == 0


async def test_kill_9_mid_run_then_restart_loses_nothing(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, tmp_path: Path
) -> None:
    expected = await publish_commits(kafka, topics, 20)
    group = f"g-{uuid.uuid4().hex[:6]}"
    first = ProcessorProcess(environment(kafka, topics, sim, group, MAX_IN_FLIGHT="8"), tmp_path)
    await first.start()
    while sim.stats()["total"] < 12:
        await asyncio.sleep(0.05)
    await first.kill()  # SIGKILL: no cleanup at all
    second = ProcessorProcess(environment(kafka, topics, sim, group), tmp_path)
    await second.start()
    try:
        assert expected <= await outcomes(kafka, topics, expected, timeout_s=90)
    finally:
        second.signal(signal.SIGTERM)
        assert (await second.wait())[0] == 0


async def test_two_instances_share_partitions_and_survive_losing_one(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, tmp_path: Path
) -> None:
    expected = await publish_commits(kafka, topics, 40)
    group = f"g-{uuid.uuid4().hex[:6]}"
    one = ProcessorProcess(environment(kafka, topics, sim, group, MAX_IN_FLIGHT="4"), tmp_path)
    two = ProcessorProcess(environment(kafka, topics, sim, group, MAX_IN_FLIGHT="4"), tmp_path)
    await one.start()
    await two.start()
    try:
        while sim.stats()["total"] < 30:
            await asyncio.sleep(0.05)
        if kafka.backend != "tansu":  # Tansu describes its groups' members without their assignments
            owned: list[set[int]] = []
            async with asyncio.timeout(20):  # until the group settled with both
                while len(owned) != 2 or not all(owned):
                    owned = await assignments(kafka, group, topics.code_changes)
                    await asyncio.sleep(0.1)
            assert not owned[0] & owned[1], owned  # the group split the partitions between them
        await one.kill()
        assert expected <= await outcomes(kafka, topics, expected, timeout_s=120)
    finally:
        await one.kill()
        two.signal(signal.SIGTERM)
        assert (await two.wait())[0] == 0
