"""Apache Kafka killed (SIGKILL) mid-run and restarted on its data directory and port: the processor
(`aexy-stream run`) and the webhook receiver (`aexy-stream ingest webhook`), real processes, recover
without a restart of their own, and every delivery ends in its results.

The receiver answers 503 while Kafka is down (the delivery is not marked, GitHub redelivers it); this
test redelivers as GitHub would. A delivery whose records landed though its answer was a 503 is then
published twice: its copies carry the same delivery id, hence the same request ids, so the only
duplicates allowed are results with the same `request_id`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from itertools import cycle, islice
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from aexy_dev.broker.kafka import ApacheKafka
from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from consumers.size_policy import DEFAULT_MAX_EVENT_BYTES
from consumers.topics import ensure_topics
from tests.conftest import free_port
from tests.pipeline.harness import corpus_examples
from tests.pipeline.test_lifecycle import environment
from tests.plugins.kafka import KafkaBroker, kafka_version, records_in, topic_environment, unique_topics
from tests.producers.test_webhook import SECRET, github_headers

pytestmark = [
    pytest.mark.slow,  # an Apache Kafka of its own, started twice, and two product processes
    pytest.mark.skipif(shutil.which("java") is None, reason="needs Java (Apache Kafka is killed here)"),
]
PER_PHASE = 6
"""Deliveries sent before the kill, while Kafka is down, and after the restart."""
ROUTED = {"issues", "issue_comment", "pull_request", "commit_comment", "pull_request_review_comment"}


class Service:
    """A product process, its output in a file (a pipe nobody reads would block it while Kafka is
    down and its clients log)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, ready: str) -> None:
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "aexy_stream.cli.main", *self.args,
                env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while ready not in self.output():
            assert self.process.returncode is None, self.output()
            assert loop.time() < deadline, f"no {ready!r} in 30 s:\n{self.output()}"
            await asyncio.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> int | None:
        """SIGTERM, then its exit code (None if it had to be killed)."""
        if not self.running:
            return None if self.process is None else self.process.returncode
        assert self.process is not None
        self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), timeout=30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            return None


class GitHub:
    """Sends signed deliveries to the receiver and redelivers the ones not answered 202."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.examples = [(event, body) for event, body in corpus_examples() if event in ROUTED]
        self.http = httpx.AsyncClient(timeout=30)

    async def deliver(self, event: str, body: bytes, delivery_id: str) -> int:
        response = await self.http.post(
            self.url, content=body, headers=github_headers(body, event, delivery_id)
        )
        return response.status_code

    def batch(self, count: int) -> list[tuple[str, bytes, str]]:
        """`count` routed webhook examples, each under a delivery id of its own."""
        return [(event, body, str(uuid.uuid4())) for event, body in islice(cycle(self.examples), count)]

    async def until_accepted(self, deliveries: list[tuple[str, bytes, str]], timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        waiting = list(deliveries)
        while waiting:
            assert loop.time() < deadline, f"{len(waiting)} deliveries not accepted in {timeout_s:g} s"
            waiting = [d for d in waiting if await self.deliver(*d) != 202]
            if waiting:
                await asyncio.sleep(0.5)


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=800)) as handle:
        yield handle


async def test_kafka_killed_and_restarted_in_place_loses_nothing_and_needs_no_service_restart(
    tmp_path: Path, sim: SimulatorHandle
) -> None:
    broker = await asyncio.to_thread(ApacheKafka(version=kafka_version(), data_dir=tmp_path / "kafka").start)
    kafka = KafkaBroker(broker.bootstrap_servers, "kafka", True, True)
    topics = unique_topics()
    processor = Service(
        ["run"], environment(kafka, topics, sim, f"g-{uuid.uuid4().hex[:6]}"), tmp_path / "run.log"
    )
    port = free_port()
    receiver = Service(
        ["ingest", "webhook", "--host", "127.0.0.1", "--port", str(port)],
        receiver_environment(kafka, topics),
        tmp_path / "webhook.log",
    )
    github = GitHub(f"http://127.0.0.1:{port}/webhooks/github")
    try:
        await ensure_topics(kafka.bootstrap_servers, topics)
        await processor.start("aexy-stream processor:")
        await receiver.start("aexy-stream webhook receiver:")

        before = github.batch(PER_PHASE)
        await github.until_accepted(before, timeout_s=30)
        while sim.stats()["total"] < 2:  # calls out: their results are published into the outage
            await asyncio.sleep(0.05)
        await asyncio.to_thread(broker.kill)

        during = github.batch(PER_PHASE)
        answers = await asyncio.gather(*(github.deliver(*delivery) for delivery in during))
        assert set(answers) == {503}, answers  # not accepted: GitHub redelivers

        await asyncio.to_thread(broker.restart)
        await github.until_accepted(during, timeout_s=60)
        after = github.batch(PER_PHASE)
        await github.until_accepted(after, timeout_s=30)

        deliveries = {delivery_id for *_, delivery_id in before + during + after}
        expected = await expected_requests(kafka, topics, deliveries)
        results = await results_covering(kafka, topics, set().union(*expected.values()), timeout_s=90)
        assert processor.running, processor.output()
        assert receiver.running, receiver.output()
        assert await records_in(kafka.bootstrap_servers, topics.dlq) == []
    finally:
        processor_code, receiver_code = await processor.stop(), await receiver.stop()
        await github.http.aclose()
        await asyncio.to_thread(broker.kill)  # its data is thrown away: no clean shutdown to wait for

    assert processor_code == 0, processor.output()
    assert receiver_code == 0, receiver.output()
    by_work: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)
    for result in results:
        if result["source"]["event_id"] in deliveries:
            by_work[result["source"]["event_id"], result["analysis_type"], result["subject"]].add(
                result["request_id"]
            )
    assert {work: ids for work, ids in by_work.items() if len(ids) > 1} == {}
    assert {event_id for event_id, *_ in by_work} == deliveries


def receiver_environment(kafka: KafkaBroker, topics: Topics) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return (
        env
        | topic_environment(topics)
        | {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "GITHUB_WEBHOOK_SECRET": SECRET,
        }
    )


async def expected_requests(kafka: KafkaBroker, topics: Topics, deliveries: set[str]) -> dict[str, set[str]]:
    """The request ids each delivery routes to, from its records on the activity topic: every
    delivery is there, and its copies (a delivery published twice) route to the same ids."""
    decoder = Decoder(topics, RoutingConfig(), DEFAULT_MAX_EVENT_BYTES)
    copies: defaultdict[str, list[set[str]]] = defaultdict(list)
    for record in await records_in(kafka.bootstrap_servers, topics.activity):
        delivery_id = h.as_dict(record.headers)[h.GITHUB_DELIVERY]
        copies[delivery_id].append({request.request_id for request in decoder.decode(record).requests})
    assert set(copies) == deliveries
    assert {d: ids for d, ids in copies.items() if any(other != ids[0] for other in ids)} == {}
    assert all(ids[0] for ids in copies.values())  # every delivery asks for an analysis
    return {delivery_id: ids[0] for delivery_id, ids in copies.items()}


async def results_covering(
    kafka: KafkaBroker, topics: Topics, expected: set[str], timeout_s: float
) -> list[dict[str, Any]]:
    """The results topic once it holds a result for every expected request id."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        values = [orjson.loads(r.value) for r in await records_in(kafka.bootstrap_servers, topics.results)]
        results = [value for value in values if "request_id" in value]  # not identity merges
        missing = expected - {result["request_id"] for result in results}
        if not missing:
            return results
        assert loop.time() < deadline, f"{len(missing)} of {len(expected)} requests without a result"
        await asyncio.sleep(1.0)
