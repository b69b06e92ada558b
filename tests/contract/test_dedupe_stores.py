"""One contract for the webhook receiver's dedupe stores (`DedupeStore`), run against memory and real Redis.

TTLs are real, so expiry is checked with short TTLs and real sleeps.
"""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from producers.webhook.dedupe import DedupeStore, MemoryDedupeStore, RedisDedupeStore
from tests.conftest import RedisServer

TTL_S = 30.0
SHORT_TTL_S = 0.3


class DedupeStoreContract:
    """Behaviour every store must have. Subclasses provide `make(ttl_s)`."""

    async def make(self, ttl_s: float) -> DedupeStore:  # pragma: no cover - abstract
        raise NotImplementedError

    @pytest.fixture
    async def store(self) -> DedupeStore:
        return await self.make(TTL_S)

    async def test_an_unmarked_delivery_is_not_seen(self, store: DedupeStore) -> None:
        assert not await store.seen("72d3162e-cc78-11e3-81ab-4c9367dc0958")

    async def test_a_marked_delivery_is_seen(self, store: DedupeStore) -> None:
        await store.mark("72d3162e-cc78-11e3-81ab-4c9367dc0958")
        assert await store.seen("72d3162e-cc78-11e3-81ab-4c9367dc0958")

    async def test_seen_does_not_mark(self, store: DedupeStore) -> None:
        assert not await store.seen("d1")
        assert not await store.seen("d1")

    async def test_deliveries_are_independent(self, store: DedupeStore) -> None:
        await store.mark("d1")
        assert await store.seen("d1")
        assert not await store.seen("d2")
        assert not await store.seen("d1-suffix")

    async def test_marking_twice_keeps_it_seen(self, store: DedupeStore) -> None:
        await store.mark("d1")
        await store.mark("d1")
        assert await store.seen("d1")

    async def test_a_mark_expires_after_the_ttl(self) -> None:
        store = await self.make(SHORT_TTL_S)
        await store.mark("short")
        assert await store.seen("short")
        await asyncio.sleep(SHORT_TTL_S + 0.15)
        assert not await store.seen("short")

    async def test_a_second_mark_does_not_extend_the_first(self) -> None:
        store = await self.make(SHORT_TTL_S)
        await store.mark("d1")
        await asyncio.sleep(SHORT_TTL_S / 2)
        await store.mark("d1")
        await asyncio.sleep(SHORT_TTL_S / 2 + 0.1)
        assert not await store.seen("d1")

    async def test_many_concurrent_marks_and_reads(self, store: DedupeStore) -> None:
        ids = [f"delivery-{i}" for i in range(200)]
        await asyncio.gather(*(store.mark(i) for i in ids[::2]))
        seen = await asyncio.gather(*(store.seen(i) for i in ids))
        assert seen == [i % 2 == 0 for i in range(200)]


class TestMemoryDedupeStore(DedupeStoreContract):
    async def make(self, ttl_s: float) -> DedupeStore:
        return MemoryDedupeStore(ttl_s)

    async def test_size_bound_forgets_the_oldest(self) -> None:
        store = MemoryDedupeStore(TTL_S, max_items=3)
        for delivery in ("a", "b", "c", "d"):
            await store.mark(delivery)
        assert len(store) == 3
        assert [await store.seen(d) for d in ("a", "b", "c", "d")] == [False, True, True, True]


@pytest.mark.redis
class TestRedisDedupeStore(DedupeStoreContract):
    prefix = "test:dedupe:"

    @pytest.fixture(autouse=True)
    def _client(self, redis_client: Redis) -> None:
        self.client = redis_client

    async def make(self, ttl_s: float) -> DedupeStore:
        return RedisDedupeStore(self.client, ttl_s, prefix=self.prefix)

    async def test_a_mark_is_one_key_under_the_prefix_with_the_ttl(self, store: DedupeStore) -> None:
        await store.mark("d1")
        assert await self.client.keys("*") == [b"test:dedupe:d1"]
        assert await self.client.get("test:dedupe:d1") == b"1"
        assert 29_000 < await self.client.pttl("test:dedupe:d1") <= 30_000

    async def test_a_key_set_by_another_replica_is_seen(self, store: DedupeStore) -> None:
        await self.client.set("test:dedupe:elsewhere", b"1", px=5000)
        assert await store.seen("elsewhere")


@pytest.mark.redis
async def test_redis_outage_fails_open_counts_and_recovers(private_redis: RedisServer) -> None:
    errors: list[str] = []
    client = Redis.from_url(private_redis.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    store = RedisDedupeStore(client, TTL_S, retry_after_s=0.2, on_error=errors.append)
    try:
        await store.mark("before")
        assert await store.seen("before")
        private_redis.stop()
        assert not await store.seen("before")
        await store.mark("during")
        assert errors == ["redis"]
        private_redis.start()
        await asyncio.sleep(0.25)
        await store.mark("after")
        assert await store.seen("after")
        assert not await store.seen("during")
    finally:
        await client.aclose()
    assert errors == ["redis"]
