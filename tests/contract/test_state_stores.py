"""One contract for the activity state stores, run against memory and real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from consumers.activity.store.base import Doc, StateStore, StateUnavailable
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.store.redis import RedisStateStore
from tests.conftest import REDIS_TEST_URL, free_port

TTL_S = 60


def incremented(doc: Doc) -> Doc:
    doc["n"] = doc.get("n", 0) + 1
    return doc


class StateStoreContract:
    @pytest.fixture
    async def store(self) -> AsyncIterator[StateStore]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    async def test_a_marker_is_new_once(self, store: StateStore) -> None:
        assert await store.first("event:1")
        assert not await store.first("event:1")
        assert await store.first("event:2")

    async def test_seen_looks_without_setting(self, store: StateStore) -> None:
        assert not await store.seen("emit:dora:team_health:7")
        assert not await store.seen("emit:dora:team_health:7")
        assert await store.first("emit:dora:team_health:7")
        assert await store.seen("emit:dora:team_health:7")

    async def test_seen_among_gives_the_markers_set_and_sets_none(self, store: StateStore) -> None:
        assert await store.seen_among([]) == frozenset()
        assert await store.seen_among(["emit:a:1", "emit:b:1"]) == frozenset()
        await store.first("emit:a:1")
        assert await store.seen_among(["emit:a:1", "emit:b:1", "emit:a:1"]) == {"emit:a:1"}
        await store.change_once("dev:a", incremented, "emit:b:1")
        assert await store.seen_among(["emit:b:1", "emit:a:1"]) == {"emit:a:1", "emit:b:1"}
        assert not await store.seen("emit:c:1") and await store.seen_among(["emit:c:1"]) == frozenset()

    async def test_change_once_applies_once_per_marker(self, store: StateStore) -> None:
        assert await store.change_once("dev:a", incremented, "event:1") == ({"n": 1}, True)
        assert await store.change_once("dev:a", incremented, "event:1") == ({"n": 1}, False)
        assert await store.change_once("dev:a", incremented, "event:2") == ({"n": 2}, True)
        assert await store.change_once("dev:b", incremented, "event:1") == ({}, False)  # one marker
        assert not await store.first("event:2")  # the same markers as `first`

    async def test_concurrent_change_once_counts_each_marker_once(self, store: StateStore) -> None:
        markers = [f"event:{i % 10}" for i in range(60)]
        await asyncio.gather(*(store.change_once("dev:busy", incremented, m) for m in markers))
        assert await store.load("dev:busy") == {"n": 10}

    async def test_change_starts_from_an_empty_document(self, store: StateStore) -> None:
        assert await store.load("dev:a") is None
        assert await store.change("dev:a", incremented) == {"n": 1}
        assert await store.load("dev:a") == {"n": 1}

    async def test_loaded_documents_are_copies(self, store: StateStore) -> None:
        await store.change("dev:a", lambda d: {"days": {"2026-01-01": {"commit": 1}}})
        loaded = await store.load("dev:a")
        assert loaded is not None
        loaded["days"]["2026-01-01"]["commit"] = 99
        assert await store.load("dev:a") == {"days": {"2026-01-01": {"commit": 1}}}

    async def test_concurrent_changes_all_apply(self, store: StateStore) -> None:
        await asyncio.gather(*(store.change("dev:busy", incremented) for _ in range(50)))
        assert await store.load("dev:busy") == {"n": 50}

    async def test_many_subjects_at_once_all_apply(self, store: StateStore) -> None:
        """More concurrent updates than a Redis client's default pool has connections (100)."""
        keys = [f"dev:{i}" for i in range(300)]
        await asyncio.gather(*(store.change(k, incremented) for k in keys), *(store.first(k) for k in keys))
        assert [await store.load(k) for k in keys] == [{"n": 1}] * 300

    async def test_documents_keep_json_types(self, store: StateStore) -> None:
        doc: dict[str, Any] = {"list": [1.5, "x"], "nested": {"k": None, "b": True}}
        await store.change("dev:types", lambda _d: dict(doc))
        assert await store.load("dev:types") == doc


class TestMemoryStateStore(StateStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[StateStore]:
        memory = MemoryStateStore(TTL_S)
        yield memory
        await memory.aclose()


@pytest.mark.redis
class TestRedisStateStore(StateStoreContract):
    @pytest.fixture
    async def client(self) -> AsyncIterator[Redis]:
        client = Redis.from_url(REDIS_TEST_URL)
        yield client
        await client.aclose()

    @pytest.fixture
    def prefix(self) -> str:
        return f"test:activity:{uuid.uuid4().hex[:8]}:"

    @pytest.fixture
    async def store(self, client: Redis, prefix: str) -> AsyncIterator[StateStore]:
        yield RedisStateStore(client, TTL_S, prefix=prefix)
        keys = [key async for key in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)

    async def test_state_survives_a_restart_and_is_shared(
        self, client: Redis, prefix: str, store: StateStore
    ) -> None:
        await store.change("dev:a", incremented)
        await store.first("event:1")
        other = Redis.from_url(REDIS_TEST_URL)  # another instance of the group, or the process restarted
        try:
            again = RedisStateStore(other, TTL_S, prefix=prefix)
            assert await again.load("dev:a") == {"n": 1}
            assert not await again.first("event:1")
        finally:
            await other.aclose()

    async def test_two_instances_count_each_marker_once(
        self, client: Redis, prefix: str, store: StateStore
    ) -> None:
        other = Redis.from_url(REDIS_TEST_URL)
        try:
            again = RedisStateStore(other, TTL_S, prefix=prefix)
            markers = [f"event:{i % 10}" for i in range(40)]
            await asyncio.gather(
                *(s.change_once("dev:x", incremented, m) for m in markers for s in (store, again))
            )
            assert await store.load("dev:x") == {"n": 10}
        finally:
            await other.aclose()

    async def test_a_change_counted_before_does_not_wait_behind_the_keys_other_records(
        self, client: Redis, prefix: str
    ) -> None:
        """A replay: every record of a repository changes its document, one at a time in this
        process; those already counted are answered at once, the new one waits its turn."""
        store = RedisStateStore(client, TTL_S, prefix=prefix)
        assert await store.change_once("repo:r", incremented, "event:1") == ({"n": 1}, True)
        held = asyncio.Lock()
        store._locks["repo:r"] = held  # another record of the repository, changing it now
        async with held:
            counted = await asyncio.wait_for(store.change_once("repo:r", incremented, "event:1"), 5)
            assert counted == ({"n": 1}, False)
            new = asyncio.ensure_future(store.change_once("repo:r", incremented, "event:2"))
            await asyncio.sleep(0.2)
            assert not new.done()  # not counted before: it waits for the lock
        assert await new == ({"n": 2}, True)

    async def test_a_change_raced_by_another_instance_is_applied_again_to_its_value(
        self, client: Redis, prefix: str, store: StateStore
    ) -> None:
        await store.change("dev:a", incremented)
        seen: list[Doc] = []
        other = SyncRedis.from_url(REDIS_TEST_URL)

        def raced(doc: Doc) -> Doc:
            seen.append(dict(doc))
            if len(seen) == 1:  # another instance writes between this one's read and write
                other.set(f"{prefix}doc:dev:a", b'{"n": 41}')
            return incremented(doc)

        try:
            assert await store.change_once("dev:a", raced, "event:1") == ({"n": 42}, True)
        finally:
            other.close()
        assert seen == [{"n": 1}, {"n": 41}]
        assert await store.change_once("dev:a", incremented, "event:1") == ({"n": 42}, False)

    async def test_a_document_that_is_not_json_starts_again_empty(
        self, client: Redis, prefix: str, store: StateStore
    ) -> None:
        await client.set(f"{prefix}doc:dev:a", b"{truncated")
        assert await store.load("dev:a") == {}
        assert await store.change("dev:a", incremented) == {"n": 1}

    async def test_every_key_expires_with_the_state_ttl(
        self, client: Redis, prefix: str, store: StateStore
    ) -> None:
        await store.change("dev:a", incremented)
        await store.first("event:1")
        for key in [key async for key in client.scan_iter(f"{prefix}*")]:
            assert 0 < await client.ttl(key) <= TTL_S


async def test_a_redis_outage_is_state_unavailable() -> None:
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    store = RedisStateStore(dead, TTL_S)
    try:
        attempts = (
            store.first("m"),
            store.seen("m"),
            store.load("k"),
            store.change("k", incremented),
            store.change_once("k", incremented, "m"),
        )
        for attempt in attempts:
            with pytest.raises(StateUnavailable):
                await attempt
    finally:
        await dead.aclose()
