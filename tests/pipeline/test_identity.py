"""Identity resolution in the record handler: canonical subjects on results, `identity_merged` records,
and the fast path for people already known (real broker, simulated provider)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from aexy_dev.simulator import SimulatorHandle
from consumers import headers as h
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.redis import RedisStateStore
from consumers.activity.tracker import Activity, ActivityTracker
from consumers.config import RoutingConfig, Topics
from consumers.decode import Decoder
from consumers.handler import RecordHandler
from consumers.identity.resolver import IdentityResolver
from consumers.identity.store.memory import MemoryIdentityStore
from consumers.metrics import ProcessorMetrics
from consumers.publish import Publisher
from consumers.retry_policy import RetryPolicy
from gateway.gateway import Gateway
from schemas.events import parse_code_change
from schemas.identity import IdentityMerged
from tests.conftest import free_port
from tests.pipeline.harness import commit_event
from tests.pipeline.test_take import record, warmed
from tests.plugins.kafka import KafkaBroker, consume_all


def as_written(value: bytes, login: str | None, email: str) -> bytes:
    event = orjson.loads(value)
    event["author"] = {"name": "Mona Lisa", "email": email, "login": login}
    return orjson.dumps(event)


async def handler(
    producer: AIOKafkaProducer,
    topics: Topics,
    gateway: Gateway,
    identities: IdentityResolver | None = None,
    activity: Activity | None = None,
) -> RecordHandler:
    publisher = Publisher(producer, topics)
    await publisher.start()
    decoder = Decoder(topics, RoutingConfig(), 1_000_000)
    metrics = ProcessorMetrics(CollectorRegistry())
    identities = identities or IdentityResolver(MemoryIdentityStore(3600))
    return RecordHandler(
        gateway, publisher, decoder, RetryPolicy(0.2, 3), metrics, 8, activity=activity, identities=identities
    )


async def merges_published(kafka: KafkaBroker, topics: Topics, count: int) -> list[IdentityMerged]:
    records = await consume_all(kafka.bootstrap_servers, topics.results, count)
    return [
        IdentityMerged.model_validate_json(r.value)
        for r in records
        if r.headers and dict(r.headers).get(h.RECORD_TYPE) == b"identity_merged"
    ]


async def finished(started: Any) -> None:
    await asyncio.wait_for(
        started if isinstance(started, asyncio.Future) else asyncio.ensure_future(started), 10
    )


async def test_a_later_link_is_published_and_the_next_results_carry_the_canonical_subject(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer, sim: SimulatorHandle
) -> None:
    backfilled = as_written(commit_event(), None, "Mona@Example.com")  # git: an address, no login
    linked = as_written(commit_event(), "mona", "mona@example.com")  # API or push: both
    gateway = await warmed(sim, backfilled, linked)
    work = await handler(producer, topics, gateway)
    await finished(work.take(record(topics.code_changes, backfilled, offset=1)))
    await finished(work.take(record(topics.code_changes, linked, offset=2)))
    again = work.take(record(topics.code_changes, backfilled, offset=3))
    assert isinstance(again, asyncio.Future)  # a known person, answers in memory: no task, no store
    await finished(again)
    records = await consume_all(kafka.bootstrap_servers, topics.results, 10)
    merged = [r for r in records if (r.headers and dict(r.headers).get(h.RECORD_TYPE) == b"identity_merged")]
    [merge] = [IdentityMerged.model_validate_json(r.value) for r in merged]
    assert (merge.subject, merge.merged, merge.via) == ("mona", ("mona@example.com",), "login")
    assert merged[0].key == b"mona" and merge.source is not None and merge.source.offset == 2
    envelopes = [orjson.loads(r.value) for r in records if r not in merged]
    by_offset = {(e["source"]["offset"], e["subject"], e["observed_as"]) for e in envelopes}
    assert by_offset == {
        (1, "mona@example.com", "Mona@Example.com"),
        (2, "mona", "mona"),
        (3, "mona", "Mona@Example.com"),
    }
    assert len(envelopes) == 9
    await gateway.aclose()


async def test_a_merge_whose_process_died_after_the_link_is_published_by_the_next_record_of_that_set(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer, sim: SimulatorHandle
) -> None:
    backfilled = as_written(commit_event(), None, "Mona@Example.com")
    linked = as_written(commit_event(), "mona", "mona@example.com")
    gateway = await warmed(sim, backfilled, linked)
    store = MemoryIdentityStore(3600)  # outlives the process, as Redis does
    first = await handler(producer, topics, gateway, IdentityResolver(store))
    await finished(first.take(record(topics.code_changes, backfilled, offset=1)))
    await IdentityResolver(store).resolve(parse_code_change(linked), [])  # the link written; then killed
    restarted = await handler(producer, topics, gateway, IdentityResolver(store))
    await finished(restarted.take(record(topics.code_changes, backfilled, offset=3)))  # the address only
    once_more = await handler(producer, topics, gateway, IdentityResolver(store))  # settled: nothing again
    await finished(once_more.take(record(topics.code_changes, backfilled, offset=4)))
    merges = await merges_published(kafka, topics, 10)
    assert [(m.subject, m.merged, m.via) for m in merges] == [("mona", ("mona@example.com",), "login")]
    assert merges[0].source is not None and merges[0].source.offset == 3
    await gateway.aclose()


async def test_a_merge_the_activity_state_could_not_join_is_published_and_stays_pending(
    kafka: KafkaBroker, topics: Topics, producer: AIOKafkaProducer, sim: SimulatorHandle
) -> None:
    backfilled = as_written(commit_event(), None, "Mona@Example.com")
    linked = as_written(commit_event(), "mona", "mona@example.com")
    gateway = await warmed(sim, backfilled, linked)
    store = MemoryIdentityStore(3600)
    identities = IdentityResolver(store)
    dead = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2)
    state = RedisStateStore(dead, 3600)  # the state store out
    activity = ActivityTracker(state, ActivityConfig(), Pseudonyms(), identities=identities)
    work = await handler(producer, topics, gateway, identities, activity)
    try:
        await finished(work.take(record(topics.code_changes, backfilled, offset=1)))
        await finished(work.take(record(topics.code_changes, linked, offset=2)))
    finally:
        await dead.aclose()
    [merge] = await merges_published(kafka, topics, 7)
    assert (merge.subject, merge.merged) == ("mona", ("mona@example.com",))
    assert (await store.find("email:mona@example.com")).pending == (("mona@example.com", "login"),)
    await gateway.aclose()
