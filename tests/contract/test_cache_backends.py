"""One contract for every cache tier (`CacheBackend`), run against memory and real Redis.

Redis TTLs are real, so expiry is checked with short TTLs and real sleeps.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.cache.base import CacheBackend, Entry
from gateway.cache.memory import MemoryCache
from gateway.cache.redis import RedisCache

MEGABYTE = os.urandom(1024 * 1024)
NON_UTF8 = b"\xff\xfe\x00\x80\xc3\x28" + bytes(range(256))


class CacheBackendContract:
    """Behaviour every tier must have. Subclasses provide the `backend` fixture and `expected_tier`."""

    expected_tier: str

    @pytest.fixture
    async def backend(self) -> AsyncIterator[CacheBackend]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    async def test_unknown_key_is_a_miss(self, backend: CacheBackend) -> None:
        assert await backend.get("never-set") is None

    @pytest.mark.parametrize(
        "value",
        [b"hello", b"", NON_UTF8, MEGABYTE],
        ids=["small", "empty", "non-utf8", "1mb"],
    )
    async def test_round_trip_returns_the_exact_bytes(self, backend: CacheBackend, value: bytes) -> None:
        await backend.set("k", value, 30)
        entry = await backend.get("k")
        assert isinstance(entry, Entry)
        assert isinstance(entry.value, bytes)
        assert entry.value == value

    async def test_overwrite_replaces_value_and_ttl(self, backend: CacheBackend) -> None:
        await backend.set("k", b"first", 30)
        await backend.set("k", b"second", 100)
        entry = await backend.get("k")
        assert entry is not None
        assert entry.value == b"second"
        assert 99 < entry.ttl_s <= 100

    @pytest.mark.parametrize("ttl_s", [30.0, 2.5])
    async def test_entry_reports_remaining_ttl(self, backend: CacheBackend, ttl_s: float) -> None:
        await backend.set("k", b"v", ttl_s)
        entry = await backend.get("k")
        assert entry is not None
        assert ttl_s - 0.5 < entry.ttl_s <= ttl_s

    async def test_remaining_ttl_decreases_with_time(self, backend: CacheBackend) -> None:
        await backend.set("k", b"v", 10)
        await asyncio.sleep(0.3)
        entry = await backend.get("k")
        assert entry is not None
        assert 9.0 < entry.ttl_s <= 9.75

    async def test_entry_expires_after_its_ttl(self, backend: CacheBackend) -> None:
        await backend.set("short", b"v", 0.3)
        await backend.set("long", b"w", 30)
        assert await backend.get("short") is not None
        await asyncio.sleep(0.45)
        assert await backend.get("short") is None
        long = await backend.get("long")
        assert long is not None
        assert long.value == b"w"

    @pytest.mark.parametrize("ttl_s", [0, 0.0, -1, -0.5])
    async def test_non_positive_ttl_stores_nothing(self, backend: CacheBackend, ttl_s: float) -> None:
        await backend.set("k", b"v", ttl_s)
        assert await backend.get("k") is None

    async def test_keys_are_independent(self, backend: CacheBackend) -> None:
        await backend.set("a", b"alpha", 30)
        await backend.set("b", b"beta", 0.3)
        await backend.set("a", b"alpha-2", 30)
        entry_b = await backend.get("b")
        assert entry_b is not None
        assert entry_b.value == b"beta"
        await asyncio.sleep(0.45)
        assert await backend.get("b") is None
        entry_a = await backend.get("a")
        assert entry_a is not None
        assert entry_a.value == b"alpha-2"
        assert await backend.get("c") is None

    async def test_tier_name(self, backend: CacheBackend) -> None:
        assert backend.tier == self.expected_tier

    async def test_get_many_answers_each_key_in_order(self, backend: CacheBackend) -> None:
        await backend.set("a", b"alpha", 30)
        await backend.set("b", NON_UTF8, 100)
        found = await backend.get_many(["b", "never-set", "a", "b"])
        assert [entry.value if entry else None for entry in found] == [NON_UTF8, None, b"alpha", NON_UTF8]
        b_entry, _, a_entry, _ = found
        assert a_entry is not None and 29.5 < a_entry.ttl_s <= 30
        assert b_entry is not None and 99.5 < b_entry.ttl_s <= 100
        assert all(isinstance(entry.value, bytes) for entry in found if entry is not None)

    async def test_get_many_of_no_keys_is_empty(self, backend: CacheBackend) -> None:
        assert await backend.get_many([]) == []

    async def test_get_many_agrees_with_get(self, backend: CacheBackend) -> None:
        """Expired, never set, overwritten, empty and large values: the same answers as `get`."""
        await backend.set("short", b"v", 0.3)
        await backend.set("long", b"first", 30)
        await backend.set("long", b"second", 60)
        await backend.set("empty", b"", 30)
        await backend.set("big", MEGABYTE, 30)
        await asyncio.sleep(0.45)
        keys = ["short", "long", "empty", "big", "never-set"]
        many = await backend.get_many(keys)
        one_by_one = [await backend.get(key) for key in keys]
        assert [e.value if e else None for e in many] == [e.value if e else None for e in one_by_one]
        assert [e.value if e else None for e in many] == [None, b"second", b"", MEGABYTE, None]
        for entry, again in zip(many, one_by_one, strict=True):
            assert (entry is None) == (again is None)
            if entry is not None and again is not None:
                assert abs(entry.ttl_s - again.ttl_s) < 0.5


class TestMemoryCache(CacheBackendContract):
    expected_tier = "memory"

    @pytest.fixture
    async def backend(self) -> AsyncIterator[CacheBackend]:
        cache = MemoryCache(max_items=100)
        yield cache
        await cache.aclose()

    async def test_size_bound_evicts_least_recently_used(self) -> None:
        cache = MemoryCache(max_items=3)
        for key in ("a", "b", "c"):
            await cache.set(key, key.encode(), 30)
        assert await cache.get("a") is not None  # "a" is now more recent than "b"
        await cache.set("d", b"d", 30)
        assert len(cache) == 3
        assert await cache.get("b") is None
        for key in ("a", "c", "d"):
            entry = await cache.get(key)
            assert entry is not None
            assert entry.value == key.encode()

    async def test_size_bound_holds_under_many_inserts(self) -> None:
        cache = MemoryCache(max_items=10)
        for i in range(100):
            await cache.set(f"k{i}", b"x", 30)
        assert len(cache) == 10
        assert await cache.get("k0") is None
        assert await cache.get("k99") is not None


class TestRedisCache(CacheBackendContract):
    expected_tier = "redis"
    prefix = "test:contract:"

    @pytest.fixture
    async def backend(self, redis_client: Redis) -> AsyncIterator[CacheBackend]:
        # The RedisCache shares the fixture's client, which the fixture closes.
        yield RedisCache(redis_client, prefix=self.prefix)

    async def test_entries_are_stored_under_the_prefix(
        self, backend: CacheBackend, redis_client: Redis
    ) -> None:
        await backend.set("k", b"value", 30)
        assert await redis_client.get(self.prefix + "k") == b"value"
        assert 29_000 < await redis_client.pttl(self.prefix + "k") <= 30_000
        assert await redis_client.exists("k") == 0
        assert await redis_client.keys("*") == [(self.prefix + "k").encode()]

    async def test_value_written_directly_under_the_prefix_is_read(
        self, backend: CacheBackend, redis_client: Redis
    ) -> None:
        await redis_client.set(self.prefix + "other", b"\x00raw", px=5000)
        entry = await backend.get("other")
        assert entry is not None
        assert entry.value == b"\x00raw"
        assert 4.5 < entry.ttl_s <= 5.0
