"""The webhook receiver over real HTTP against the real test broker (and real Redis where it says so).

GitHub's side is played by this test: signed requests as GitHub sends them, and a local server speaking
the REST API's commit wire format. What reached Kafka is read back with a plain consumer: `drain` writes
a marker to every partition and reads up to the markers, so "nothing else was written" is provable.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_stream.compose import webhook_config
from aexy_stream.settings import Settings
from consumers.config import Topics
from consumers.http import serving
from consumers.topics import ensure_topics
from producers.kafka import ProducerConfig, PublishError, Record, publish, start_producer
from producers.webhook.config import GitHubApiConfig, WebhookConfig
from producers.webhook.dedupe import DedupeStore, MemoryDedupeStore, RedisDedupeStore
from producers.webhook.metrics import WebhookMetrics
from producers.webhook.service import diff_source, webhook_server
from producers.webhook.signature import HmacSha256, sign
from schemas.events import parse_code_change
from schemas.events.code_change import CodeChangeEvent
from tests.conftest import free_port
from tests.corpora import WEBHOOKS
from tests.plugins.kafka import KafkaBroker, delete_topics, unique_topics

CORPUS = WEBHOOKS
SECRET = "It's a Secret to Everybody"
PATH = "/webhooks/github"
MARKER = "x-test-marker"
SHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
PARENT = "9049f1265b7d61be4a8904a9a27120d2064dab3b"
NEW_BRANCH_PUSH = CORPUS / "push" / "with-new-branch.payload.json"
SMALL_PATCH = "@@ -1 +1 @@\n-# Guide\n+# The guide"


# -- GitHub's side ------------------------------------------------------------------------------------


def github_signature(body: bytes, secret: str = SECRET) -> str:
    """Computed here, independently of the code under test."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def github_headers(body: bytes, event: str, delivery_id: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": github_signature(body, secret),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }


def new_id() -> str:
    return str(uuid.uuid4())


def expected_key(payload: dict[str, Any]) -> bytes | None:
    for owner, name in (("repository", "full_name"), ("organization", "login"), ("sender", "login")):
        value = (payload.get(owner) or {}).get(name)
        if value:
            return str(value).encode()
    return None


def api_commit(sha: str = SHA, patch: str = "@@ -0,0 +1 @@\n+# Hello-World") -> dict[str, Any]:
    """A `GET /repos/{owner}/{repo}/commits/{sha}` answer, in the API's wire format."""
    person = {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com"}
    user = {"login": "Codertocat", "id": 21031067, "type": "User", "site_admin": False}
    return {
        "sha": sha,
        "node_id": "C_kwDOABCDEF",
        "commit": {
            "author": person | {"date": "2019-05-15T15:19:25Z"},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2019-05-15T15:21:03Z"},
            "message": "Initial commit",
            "tree": {"sha": "31b122c26a97cf9af023e9ddab94a82c6e77b0ea", "url": "https://api.github.com/x"},
            "comment_count": 0,
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        },
        "url": f"https://api.github.com/repos/Codertocat/Hello-World/commits/{sha}",
        "author": user,
        "committer": {"login": "web-flow", "id": 19864447, "type": "User", "site_admin": False},
        "parents": [{"sha": PARENT, "url": "https://api.github.com/x", "html_url": "https://github.com/x"}],
        "stats": {"total": 1, "additions": 1, "deletions": 0},
        "files": [
            {
                "sha": "f1b4c3a3b6f2e2d8f1c1a7d0d0d0d0d0d0d0d0d0",
                "filename": "README.md",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "changes": 1,
                "blob_url": "https://github.com/x",
                "raw_url": "https://github.com/x",
                "contents_url": "https://api.github.com/x",
                "patch": patch,
            },
            {
                "sha": "a1b4c3a3b6f2e2d8f1c1a7d0d0d0d0d0d0d0d0d0",
                "filename": "docs/guide.md",
                "previous_filename": "guide.md",
                "status": "renamed",
                "additions": 0,
                "deletions": 0,
                "changes": 0,
                "blob_url": "https://github.com/x",
                "raw_url": "https://github.com/x",
                "contents_url": "https://api.github.com/x",
            },
        ],
    }


@dataclass
class FakeGitHubApi:
    status: int = 200
    delay_s: float = 0.0
    commits: dict[str, dict[str, Any]] = field(default_factory=lambda: {SHA: api_commit()})
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    received: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def commit(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers)))
        self.received.set()
        await asyncio.sleep(self.delay_s)
        sha = request.match_info["sha"]
        if self.status != 200:
            return web.json_response({"message": "Server Error"}, status=self.status)
        if sha not in self.commits:
            body = {"message": f"No commit found for SHA: {sha}", "status": "422"}
            return web.json_response(body, status=422)
        return web.json_response(self.commits[sha])


@pytest.fixture
async def github_api() -> AsyncIterator[FakeGitHubApi]:
    fake = FakeGitHubApi()
    app = web.Application()
    app.router.add_get("/repos/{owner}/{repo}/commits/{sha}", fake.commit)
    async with serving(app, "127.0.0.1", 0) as port:
        fake.url = f"http://127.0.0.1:{port}"
        yield fake


# -- reading the topics back --------------------------------------------------------------------------


class Collector:
    """Reads every partition of a topic from the beginning (no group, so no join wait) in the background."""

    def __init__(self, bootstrap_servers: str, topic: str, partitions: int) -> None:
        self.bootstrap_servers, self.topic, self.partitions = bootstrap_servers, topic, partitions
        self.records: list[Any] = []
        self._markers: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> Collector:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=20,
            auto_offset_reset="earliest",  # as the seek below: aiokafka may apply either (docs/kafka.md)
        )  # fmt: skip
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, acks="all", enable_idempotence=False
        )
        await self._consumer.start()
        await self._producer.start()
        self._consumer.assign([TopicPartition(self.topic, p) for p in range(self.partitions)])
        await self._consumer.seek_to_beginning()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()
        await self._producer.stop()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for record in (r for batch in batches.values() for r in batch):
                marker = dict(record.headers or ()).get(MARKER)
                if marker is None:
                    self.records.append(record)
                else:
                    self._markers[marker.decode()] = self._markers.get(marker.decode(), 0) + 1
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(predicate)

    async def barrier(self) -> list[Any]:
        """Everything written before now: a marker on every partition, read up to all of them."""
        marker = uuid.uuid4().hex
        for partition in range(self.partitions):
            await self._producer.send_and_wait(
                self.topic, b"marker", partition=partition, headers=[(MARKER, marker.encode())]
            )
        await self.wait_for(lambda: self._markers.get(marker) == self.partitions)
        return list(self.records)

    def of(self, delivery_id: str) -> list[Any]:
        return [r for r in self.records if dict(r.headers).get("x-github-delivery") == delivery_id.encode()]


async def drain(bootstrap_servers: str, topic: str, partitions: int = 4) -> list[Any]:
    async with Collector(bootstrap_servers, topic, partitions) as collector:
        return await collector.barrier()


# -- the receiver under test --------------------------------------------------------------------------


@dataclass
class Running:
    http: httpx.AsyncClient
    metrics: WebhookMetrics
    config: WebhookConfig

    async def deliver(
        self, body: bytes, event: str = "issues", delivery_id: str = "", **headers: str
    ) -> httpx.Response:
        sent = github_headers(body, event, delivery_id or new_id()) | headers
        return await self.http.post(PATH, content=body, headers=sent)

    def count(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(f"aexy_webhook_{name}_total", labels) or 0.0


def make_config(bootstrap_servers: str, topics: Topics, **changes: Any) -> WebhookConfig:
    github = GitHubApiConfig(**changes.pop("github", {}))
    producer = ProducerConfig(bootstrap_servers, send_timeout_s=changes.pop("send_timeout_s", 3.0))
    config = WebhookConfig(
        producer=producer,
        secret=SECRET,
        activity_topic=topics.activity,
        code_changes_topic=topics.code_changes,
        github=github,
        host="127.0.0.1",
        port=0,
    )
    return replace(config, **changes)


@asynccontextmanager
async def running(config: WebhookConfig, dedupe: DedupeStore | None = None) -> AsyncIterator[Running]:
    metrics = WebhookMetrics(CollectorRegistry())
    store = dedupe or MemoryDedupeStore(config.dedupe_ttl_s)
    async with httpx.AsyncClient() as api_client:
        diffs = diff_source(config.github, api_client, metrics)
        async with (
            webhook_server(config, store, diffs, metrics) as port,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http,
        ):
            yield Running(http, metrics, config)


def example(relative: str) -> bytes:
    return (CORPUS / relative).read_bytes()


ISSUE = "issues/opened.payload.json"


# -- publishing ---------------------------------------------------------------------------------------


async def test_signed_delivery_is_published_once_untouched_with_headers_and_key(
    kafka: KafkaBroker, topics: Topics
) -> None:
    body = example(ISSUE)
    delivery_id = new_id()
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        response = await receiver.deliver(body, "issues", delivery_id)
        assert response.status_code == 202, response.text
        assert response.json() == {"status": "published", "detail": "published", "records": 1}
        assert receiver.count("deliveries", event="issues", outcome="published") == 1
    records = await drain(kafka.bootstrap_servers, topics.activity)
    assert len(records) == 1
    record = records[0]
    assert record.value == body
    assert record.key == b"Codertocat/Hello-World"
    assert record.headers == (("x-github-event", b"issues"), ("x-github-delivery", delivery_id.encode()))
    assert await drain(kafka.bootstrap_servers, topics.code_changes) == []


@pytest.mark.parametrize(
    "signature",
    [
        None,
        github_signature(example(ISSUE), "another secret"),
        github_signature(example(ISSUE).replace(b"opened", b"closed", 1)),
        "sha1=" + hmac.new(SECRET.encode(), example(ISSUE), hashlib.sha1).hexdigest(),
        github_signature(example(ISSUE)).upper(),
        "sha256=",
        "",
    ],
    ids=["missing", "wrong-secret", "other-body", "sha1", "upper-case", "empty-digest", "empty"],
)
async def test_missing_or_wrong_signature_is_401_and_nothing_is_written(
    kafka: KafkaBroker, topics: Topics, signature: str | None
) -> None:
    body = example(ISSUE)
    headers = github_headers(body, "issues", new_id())
    del headers["X-Hub-Signature-256"]
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        response = await receiver.http.post(PATH, content=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["status"] == "unauthorized"
        assert receiver.count("deliveries", event="unverified", outcome="unauthorized") == 1
    assert await drain(kafka.bootstrap_servers, topics.activity) == []


async def test_a_body_changed_after_signing_is_401(kafka: KafkaBroker, topics: Topics) -> None:
    body = example(ISSUE)
    headers = github_headers(body, "issues", new_id())
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        response = await receiver.http.post(PATH, content=body + b" ", headers=headers)
        assert response.status_code == 401
    assert await drain(kafka.bootstrap_servers, topics.activity) == []


def padded(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    skeleton = b'{"repository":{"full_name":"octo/pad"},"padding":""}'
    return skeleton[:-2] + b"x" * (size - len(skeleton)) + skeleton[-2:]


async def _chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_body_over_the_limit_is_413_and_nothing_is_written(
    kafka: KafkaBroker, topics: Topics, framing: str
) -> None:
    limit = 4096
    body = padded(limit + 1)
    headers = github_headers(body, "issues", new_id())
    content: bytes | AsyncIterator[bytes] = body if framing == "content-length" else _chunks(body)
    async with running(make_config(kafka.bootstrap_servers, topics, max_body_bytes=limit)) as receiver:
        response = await receiver.http.post(PATH, content=content, headers=headers)
        assert response.status_code == 413
        assert response.json()["status"] == "too_large"
        assert receiver.count("deliveries", event="unverified", outcome="too_large") == 1
        at_limit = await receiver.deliver(padded(limit), "issues")
        assert at_limit.status_code == 202, at_limit.text
    records = await drain(kafka.bootstrap_servers, topics.activity)
    assert [len(r.value) for r in records] == [limit]


async def test_a_body_over_kafkas_default_request_size_is_published_whole(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """MAX_EVENT_BYTES of 3 MiB: the composition root sizes the producer for it (aiokafka's default is
    1 MiB); the test topics take the default policy's 2 MiB records (`consumers/size_policy.py`)."""
    settings = Settings(
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        github_webhook_secret=SECRET,
        topic_github_activity=topics.activity,
        topic_code_changes=topics.code_changes,
        max_event_bytes=3 * 1024 * 1024,
        webhook_host="127.0.0.1",
        webhook_port=0,
    )
    body = padded(3 * 1024 * 1024 // 2)
    async with running(webhook_config(settings)) as receiver:
        response = await receiver.deliver(body, "issues")
        assert response.status_code == 202, response.text
    records = await drain(kafka.bootstrap_servers, topics.activity)
    assert [r.value for r in records] == [body]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"body": b"not json"}, 400),
        ({"body": b"[1, 2]"}, 400),
        ({"drop": "X-GitHub-Event"}, 400),
        ({"drop": "X-GitHub-Delivery"}, 400),
        ({"X-GitHub-Event": "Issues; DROP"}, 400),
        ({"X-GitHub-Delivery": "../" * 50}, 400),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
    ],
    ids=["not-json", "not-object", "no-event", "no-delivery", "bad-event", "bad-delivery", "form"],
)
async def test_signed_but_malformed_deliveries_are_refused_and_nothing_is_written(
    kafka: KafkaBroker, topics: Topics, change: dict[str, Any], status: int
) -> None:
    body = change.pop("body", example(ISSUE))
    headers = github_headers(body, "issues", new_id())
    headers.pop(change.pop("drop", ""), None)
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        response = await receiver.http.post(PATH, content=body, headers=headers | change)
        assert response.status_code == status
        assert response.json()["status"] == "invalid"
    assert await drain(kafka.bootstrap_servers, topics.activity) == []


async def test_ping_is_answered_and_not_published(kafka: KafkaBroker, topics: Topics) -> None:
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        response = await receiver.deliver(example("ping/payload.json"), "ping")
        assert response.status_code == 200
        assert response.json()["status"] == "ping"
        assert receiver.count("deliveries", event="ping", outcome="ping") == 1
    assert await drain(kafka.bootstrap_servers, topics.activity) == []


# -- duplicates ---------------------------------------------------------------------------------------


async def test_a_redelivery_is_acknowledged_and_not_published_again(
    kafka: KafkaBroker, topics: Topics
) -> None:
    body, first, second = example(ISSUE), new_id(), new_id()
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        statuses = [(await receiver.deliver(body, "issues", d)).status_code for d in (first, first, second)]
        assert statuses == [202, 200, 202]
        assert receiver.count("deliveries", event="issues", outcome="duplicate") == 1
    records = await drain(kafka.bootstrap_servers, topics.activity)
    assert sorted(dict(r.headers)["x-github-delivery"] for r in records) == sorted(
        [first.encode(), second.encode()]
    )


async def test_concurrent_copies_of_a_delivery_are_published_once(kafka: KafkaBroker, topics: Topics) -> None:
    body, delivery_id = example(ISSUE), new_id()
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        responses = await asyncio.gather(*(receiver.deliver(body, "issues", delivery_id) for _ in range(20)))
        assert sorted(r.status_code for r in responses) == [200] * 19 + [202]
    assert len(await drain(kafka.bootstrap_servers, topics.activity)) == 1


@pytest.mark.redis
async def test_replicas_sharing_redis_publish_a_delivery_once(
    kafka: KafkaBroker, topics: Topics, redis_client: Redis
) -> None:
    body, delivery_id = example(ISSUE), new_id()
    config = make_config(kafka.bootstrap_servers, topics)
    one, two = RedisDedupeStore(redis_client, 60), RedisDedupeStore(redis_client, 60)
    async with running(config, one) as first, running(config, two) as second:
        assert (await first.deliver(body, "issues", delivery_id)).status_code == 202
        assert (await second.deliver(body, "issues", delivery_id)).status_code == 200
    assert 59_000 < await redis_client.pttl(f"aexy:webhook:delivery:{delivery_id}") <= 60_000
    assert len(await drain(kafka.bootstrap_servers, topics.activity)) == 1


async def test_a_record_the_producer_cannot_send_is_413_not_503(kafka: KafkaBroker, topics: Topics) -> None:
    """Over the producer's max request size: redelivering the same body could never succeed."""
    config = make_config(kafka.bootstrap_servers, topics)
    config = replace(config, producer=replace(config.producer, max_request_size=2048))
    async with running(config) as receiver:
        response = await receiver.deliver(padded(3000), "issues")
        assert (response.status_code, response.json()["status"]) == (413, "too_large")
        assert receiver.count("deliveries", event="issues", outcome="too_large") == 1
        assert (await receiver.deliver(padded(1000), "issues")).status_code == 202
    assert [len(r.value) for r in await drain(kafka.bootstrap_servers, topics.activity)] == [1000]


async def test_the_kafka_helpers_publish_in_order_and_fail_fast_without_a_broker(
    kafka: KafkaBroker, topics: Topics
) -> None:
    records = [Record(topics.activity, f"v{i}".encode(), b"k", (("h", b"1"),)) for i in range(5)]
    producer = await start_producer(ProducerConfig(kafka.bootstrap_servers))
    try:
        acknowledged = await publish(producer, records, timeout_s=5)
    finally:
        await producer.stop()
    assert [m.offset for m in acknowledged] == sorted(m.offset for m in acknowledged)
    assert len({m.partition for m in acknowledged}) == 1
    read = await drain(kafka.bootstrap_servers, topics.activity)
    assert [(r.value, r.headers) for r in read] == [(f"v{i}".encode(), (("h", b"1"),)) for i in range(5)]
    started = time.monotonic()
    with pytest.raises(PublishError):
        await start_producer(ProducerConfig(f"127.0.0.1:{free_port()}", send_timeout_s=1.0))
    assert time.monotonic() - started < 1.5


# -- Kafka down ---------------------------------------------------------------------------------------


async def test_kafka_down_is_503_then_the_redelivery_after_recovery_is_published(topics: Topics) -> None:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    body, delivery_id = example(ISSUE), new_id()
    config = make_config(bootstrap, topics, send_timeout_s=1.0)
    async with running(config) as receiver:
        started = time.monotonic()
        response = await receiver.deliver(body, "issues", delivery_id)
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert time.monotonic() - started < 2.5
        assert (await receiver.http.get("/healthz")).status_code == 503

        async with EmbeddedBroker(port, stop_timeout_s=0.5) as broker:
            await ensure_topics(bootstrap, topics)
            assert (await receiver.http.get("/healthz")).status_code == 200
            assert (await receiver.deliver(body, "issues", delivery_id)).status_code == 202
            assert len(await drain(bootstrap, topics.activity)) == 1
            assert receiver.count("deliveries", event="issues", outcome="unavailable") == 1
            assert receiver.count("deliveries", event="issues", outcome="published") == 1
            await asyncio.to_thread(broker.stop)

            started = time.monotonic()
            assert (await receiver.deliver(body, "issues", new_id())).status_code == 503
            assert time.monotonic() - started < 2.5
            assert (await receiver.http.get("/healthz")).status_code == 503


# -- pushes and code changes --------------------------------------------------------------------------


def code_changes(records: list[Any]) -> list[CodeChangeEvent]:
    """Read as the stream processor reads them."""
    return [parse_code_change(r.value) for r in records]


async def test_push_with_token_publishes_commits_with_patches_from_the_api(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    config = make_config(
        kafka.bootstrap_servers, topics, github={"token": "ghp_test", "api_url": github_api.url}
    )
    delivery_id = new_id()
    async with running(config) as receiver:
        response = await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push", delivery_id)
        assert response.status_code == 202
        assert response.json()["records"] == 2
        assert receiver.count("commit_diffs", outcome="fetched") == 1
    path, headers = github_api.requests[0]
    assert path == f"/repos/Codertocat/Hello-World/commits/{SHA}"
    assert headers["Authorization"] == "Bearer ghp_test"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"

    records = await drain(kafka.bootstrap_servers, topics.code_changes)
    assert [(r.key, dict(r.headers)["x-github-delivery"]) for r in records] == [
        (b"Codertocat/Hello-World", delivery_id.encode())
    ]
    [event] = code_changes(records)
    assert event.sha == SHA
    assert event.repository == "Codertocat/Hello-World"
    assert event.parents == (PARENT,)
    assert event.author.login == "Codertocat"
    assert event.committer is not None
    assert event.committer.email == "noreply@github.com"
    assert event.authored_at.isoformat() == "2019-05-15T15:19:25+00:00"
    assert event.committed_at is not None
    assert event.committed_at.isoformat() == "2019-05-15T15:21:03+00:00"
    readme, guide = event.files
    assert (readme.path, readme.status, readme.additions, readme.patch) == (
        "README.md", "added", 1, "@@ -0,0 +1 @@\n+# Hello-World",
    )  # fmt: skip
    assert (guide.path, guide.previous_path, guide.status, guide.patch) == (
        "docs/guide.md", "guide.md", "renamed", None,
    )  # fmt: skip


async def test_push_without_token_publishes_commits_from_the_payload_without_patches(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    config = make_config(kafka.bootstrap_servers, topics, github={"api_url": github_api.url})
    async with running(config) as receiver:
        assert (await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push")).status_code == 202
    assert github_api.requests == []
    [event] = code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))
    assert event.sha == SHA
    assert event.message == "Initial commit"
    assert (event.author.name, event.author.login) == ("Codertocat", "Codertocat")
    assert event.authored_at.isoformat() == "2019-05-15T15:19:25+00:00"
    assert [(f.path, f.status, f.patch) for f in event.files] == [("README.md", "added", None)]
    assert event.parents == ()


async def test_webhook_commit_timestamps_keep_their_offset(kafka: KafkaBroker, topics: Topics) -> None:
    payload = orjson.loads(NEW_BRANCH_PUSH.read_bytes())
    payload["commits"][0]["timestamp"] = "2026-11-20T22:15:00-07:00"
    payload["commits"][0]["committer"].pop("username")
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        assert (await receiver.deliver(orjson.dumps(payload), "push")).status_code == 202
    [event] = code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))
    assert event.authored_at.isoformat() == "2026-11-20T22:15:00-07:00"
    assert event.authored_at == datetime(2026, 11, 21, 5, 15, tzinfo=UTC)
    assert event.committer is not None
    assert event.committer.login is None


@pytest.mark.parametrize("status", [500, 404, 403])
async def test_api_failure_falls_back_to_the_commit_without_patches(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi, status: int
) -> None:
    github_api.status = status
    config = make_config(kafka.bootstrap_servers, topics, github={"token": "t", "api_url": github_api.url})
    async with running(config) as receiver:
        assert (await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push")).status_code == 202
        assert receiver.count("commit_diffs", outcome="failed") == 1
    [event] = code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))
    assert [(f.path, f.patch) for f in event.files] == [("README.md", None)]


async def test_api_answer_in_an_unexpected_shape_falls_back(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    github_api.commits[SHA] = {"sha": SHA, "files": "not a list"}
    config = make_config(kafka.bootstrap_servers, topics, github={"token": "t", "api_url": github_api.url})
    async with running(config) as receiver:
        assert (await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push")).status_code == 202
        assert receiver.count("commit_diffs", outcome="failed") == 1
    assert len(await drain(kafka.bootstrap_servers, topics.code_changes)) == 1


async def test_api_slower_than_the_budget_falls_back_in_time(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    github_api.delay_s = 1.0
    github = {"token": "t", "api_url": github_api.url, "budget_s": 0.2}
    async with running(make_config(kafka.bootstrap_servers, topics, github=github)) as receiver:
        started = time.monotonic()
        assert (await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push")).status_code == 202
        assert time.monotonic() - started < 0.9
        assert receiver.count("commit_diffs", outcome="timeout") == 1
    [event] = code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))
    assert event.files[0].patch is None


async def test_a_commit_over_max_event_bytes_loses_its_largest_patches_until_it_fits(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    """As a backfill does it (one shared function): the small patch stays, so the change keeps a diff."""
    commit = api_commit(patch="@@ -0,0 +1 @@\n+" + "x" * 5000)
    commit["files"][1]["patch"] = SMALL_PATCH
    github_api.commits[SHA] = commit
    github = {"token": "t", "api_url": github_api.url}
    config = make_config(kafka.bootstrap_servers, topics, github=github, max_event_bytes=3000)
    async with running(config) as receiver:
        assert (await receiver.deliver(NEW_BRANCH_PUSH.read_bytes(), "push")).status_code == 202
        assert receiver.count("commit_diffs", outcome="too_large") == 1
    [record] = await drain(kafka.bootstrap_servers, topics.code_changes)
    assert len(record.value) <= 3000
    [event] = code_changes([record])
    assert [(f.path, f.patch) for f in event.files] == [("README.md", None), ("docs/guide.md", SMALL_PATCH)]
    assert event.files[0].additions == 1  # the counts stay
    assert event.parents == (PARENT,)


async def test_a_commit_over_max_event_bytes_even_without_patches_is_not_published(
    kafka: KafkaBroker, topics: Topics
) -> None:
    """The processor would only dead-letter it; the push itself is still published."""
    payload = orjson.loads(NEW_BRANCH_PUSH.read_bytes())
    payload["commits"][0]["message"] = "A very long message. " * 200
    config = make_config(kafka.bootstrap_servers, topics, max_event_bytes=3000)
    async with running(config) as receiver:
        response = await receiver.deliver(orjson.dumps(payload), "push")
        assert (response.status_code, response.json()["records"]) == (202, 1)
        assert receiver.count("commits_skipped", reason="too_large") == 1
    assert await drain(kafka.bootstrap_servers, topics.code_changes) == []
    assert len(await drain(kafka.bootstrap_servers, topics.activity)) == 1


async def test_non_distinct_commits_and_branch_deletions_yield_no_code_changes(
    kafka: KafkaBroker, topics: Topics
) -> None:
    payload = orjson.loads(NEW_BRANCH_PUSH.read_bytes())
    seen = payload["commits"][0] | {"id": "a" * 40, "distinct": False}
    payload["commits"].append(seen)
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        assert (await receiver.deliver(orjson.dumps(payload), "push")).status_code == 202
        assert (await receiver.deliver(example("push/payload.json"), "push")).status_code == 202
        assert receiver.count("commits_skipped", reason="not_distinct") == 1
    assert [e.sha for e in code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))] == [SHA]
    assert len(await drain(kafka.bootstrap_servers, topics.activity)) == 2


# -- service ------------------------------------------------------------------------------------------


async def test_healthz_and_metrics(kafka: KafkaBroker, topics: Topics) -> None:
    async with running(make_config(kafka.bootstrap_servers, topics)) as receiver:
        health = await receiver.http.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        await receiver.deliver(example(ISSUE), "issues")
        await receiver.deliver(
            example(ISSUE), "made_up_by_a_stranger", **{"X-Hub-Signature-256": "sha256=00"}
        )
        page = (await receiver.http.get("/metrics")).text
    assert 'aexy_webhook_deliveries_total{event="issues",outcome="published"} 1.0' in page
    assert 'aexy_webhook_deliveries_total{event="unverified",outcome="unauthorized"} 1.0' in page
    assert "made_up_by_a_stranger" not in page


async def test_shutdown_finishes_requests_in_flight(
    kafka: KafkaBroker, topics: Topics, github_api: FakeGitHubApi
) -> None:
    github_api.delay_s = 0.5
    config = make_config(kafka.bootstrap_servers, topics, github={"token": "t", "api_url": github_api.url})
    body = NEW_BRANCH_PUSH.read_bytes()
    async with httpx.AsyncClient(timeout=30) as github:
        async with running(config) as receiver:
            url = f"{receiver.http.base_url}".rstrip("/") + PATH
            in_flight = asyncio.create_task(
                github.post(url, content=body, headers=github_headers(body, "push", new_id()))
            )
            await asyncio.wait_for(github_api.received.wait(), 5)
        response = await asyncio.wait_for(in_flight, 5)
        with pytest.raises(httpx.ConnectError):
            await github.post(url, content=body, headers=github_headers(body, "push", new_id()))
    assert response.status_code == 202
    [event] = code_changes(await drain(kafka.bootstrap_servers, topics.code_changes))
    assert event.files[0].patch is not None


async def test_insecure_mode_without_a_secret_accepts_unsigned_deliveries(
    kafka: KafkaBroker, topics: Topics
) -> None:
    config = make_config(kafka.bootstrap_servers, topics, secret="", insecure_no_signature=True)
    body = example(ISSUE)
    headers = github_headers(body, "issues", new_id())
    del headers["X-Hub-Signature-256"]
    async with running(config) as receiver:
        assert (await receiver.http.post(PATH, content=body, headers=headers)).status_code == 202
    assert [r.value for r in await drain(kafka.bootstrap_servers, topics.activity)] == [body]


def test_config_refuses_to_exist_without_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        WebhookConfig(ProducerConfig("127.0.0.1:9092"))
    assert WebhookConfig(ProducerConfig("127.0.0.1:9092"), insecure_no_signature=True).secret == ""


def test_secrets_stay_out_of_the_config_repr() -> None:
    config = WebhookConfig(
        ProducerConfig("k:9092"), secret="hook-secret", github=GitHubApiConfig(token="ghp_x")
    )
    assert "hook-secret" not in repr(config)
    assert "ghp_x" not in repr(config)


def test_signature_matches_githubs_documented_example() -> None:
    """From GitHub's "Validating webhook deliveries"."""
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(SECRET.encode(), b"Hello, World!") == expected
    assert HmacSha256(SECRET).verify(b"Hello, World!", expected)
    assert not HmacSha256(SECRET).verify(b"Hello, World!", expected[:-1] + "8")
    assert not HmacSha256(SECRET).verify(b"Hello, World!", "sha256=é")


# -- every official example ---------------------------------------------------------------------------


def corpus_examples() -> Iterator[Any]:
    for path in sorted(CORPUS.glob("*/*.json")):
        yield pytest.param(path.parent.name, path.read_bytes(), id=str(path.relative_to(CORPUS)))


@dataclass
class CorpusRun:
    receiver: Running
    collector: Collector


@pytest_asyncio.fixture(scope="class", loop_scope="class")
async def corpus_run(kafka: KafkaBroker) -> AsyncIterator[CorpusRun]:
    """One receiver, one set of topics and one reader for all the examples (each test stays ~20 ms)."""
    fresh = unique_topics()
    await ensure_topics(kafka.bootstrap_servers, fresh)
    try:
        async with (
            running(make_config(kafka.bootstrap_servers, fresh)) as receiver,
            Collector(kafka.bootstrap_servers, fresh.activity, fresh.partitions) as collector,
        ):
            yield CorpusRun(receiver, collector)
    finally:
        await delete_topics(kafka.bootstrap_servers, fresh.all)


@pytest.mark.asyncio(loop_scope="class")
class TestEveryOfficialExample:
    @pytest.mark.parametrize(("event", "body"), list(corpus_examples()))
    async def test_is_accepted_and_published_unless_a_ping(
        self, corpus_run: CorpusRun, event: str, body: bytes
    ) -> None:
        receiver, collector, delivery_id = corpus_run.receiver, corpus_run.collector, new_id()
        response = await receiver.deliver(body, event, delivery_id)
        if event == "ping":
            assert response.status_code == 200
            await collector.barrier()
            assert collector.of(delivery_id) == []
            return
        assert response.status_code == 202, response.text
        await collector.wait_for(lambda: bool(collector.of(delivery_id)))
        [record] = collector.of(delivery_id)
        assert record.value == body
        assert record.key == expected_key(orjson.loads(body))
        assert dict(record.headers)["x-github-event"] == event.encode()


def test_the_corpus_is_there() -> None:
    assert len(list(CORPUS.glob("*/*.json"))) > 250


# -- the command --------------------------------------------------------------------------------------

PASS_THROUGH = ("PATH", "HOME", "LANG")


async def _command(env: dict[str, str], cwd: Path, *args: str) -> asyncio.subprocess.Process:
    base = {k: os.environ[k] for k in PASS_THROUGH if k in os.environ}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "ingest", "webhook", *args,
        env=base | env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_command_serves_until_sigterm_and_exits_0(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "TOPIC_GITHUB_ACTIVITY": topics.activity,
        "TOPIC_CODE_CHANGES": topics.code_changes,
        "WEBHOOK_HOST": "127.0.0.1",
    }
    process = await _command(env, tmp_path, "--port", "0")
    try:
        assert process.stdout is not None and process.stderr is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert "webhook receiver" in line, line
        url = line.split("POST ", 1)[1].split(" ", 1)[0]
        body = example(ISSUE)
        async with httpx.AsyncClient() as http:
            response = await http.post(url, content=body, headers=github_headers(body, "issues", new_id()))
        assert response.status_code == 202
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        assert b"stopped cleanly" in await process.stdout.read()
        assert b"Traceback" not in await process.stderr.read()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert [r.value for r in await drain(kafka.bootstrap_servers, topics.activity)] == [body]


async def test_command_without_a_secret_refuses_to_start_with_one_line(tmp_path: Path) -> None:
    process = await _command({"GITHUB_WEBHOOK_SECRET": ""}, tmp_path, "--port", "0")
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().count("\n") == 1
    assert "GITHUB_WEBHOOK_SECRET" in err.decode()
    assert "--insecure-no-signature" in err.decode()


async def test_command_on_a_taken_port_fails_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "WEBHOOK_HOST": "127.0.0.1",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        }
        process = await _command(env, tmp_path, "--port", port)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in err.decode()
    assert b"Traceback" not in err
