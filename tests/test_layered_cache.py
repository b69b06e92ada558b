"""Memory in front of Redis: promotion, hit/miss per tier, the null cache, and a Redis outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.cache.redis import RedisCache
from gateway.metrics import GatewayMetrics
from tests.conftest import RedisServer

PREFIX = "test:layered:"


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def gauges(registry: CollectorRegistry) -> GatewayMetrics:
    return GatewayMetrics(registry)


def lookups(registry: CollectorRegistry, tier: str, result: str) -> float:
    value = registry.get_sample_value("aexy_llm_cache_lookups_total", {"tier": tier, "result": result})
    return value or 0.0


def errors(registry: CollectorRegistry, tier: str) -> float:
    return registry.get_sample_value("aexy_llm_cache_errors_total", {"tier": tier}) or 0.0


@pytest.fixture
async def tiers(redis_client: Redis) -> AsyncIterator[tuple[MemoryCache, RedisCache]]:
    memory = MemoryCache()
    yield memory, RedisCache(redis_client, prefix=PREFIX)
    await memory.aclose()


async def test_redis_hit_is_promoted_into_memory_with_remaining_ttl(
    tiers: tuple[MemoryCache, RedisCache], redis_client: Redis
) -> None:
    memory, redis = tiers
    layered = LayeredCache([memory, redis])
    await redis.set("k", b"from-redis", 60)
    await redis_client.pexpire(PREFIX + "k", 3000)  # only 3 s left of the 60

    found = await layered.get("k")
    assert found is not None
    entry, tier = found
    assert tier == "redis"
    assert entry.value == b"from-redis"
    assert 2.5 < entry.ttl_s <= 3.0

    promoted = await memory.get("k")
    assert promoted is not None
    assert promoted.value == b"from-redis"
    assert 2.5 < promoted.ttl_s <= 3.0  # the remaining TTL, not the original 60 s

    again = await layered.get("k")
    assert again is not None
    assert again[1] == "memory"


async def test_set_writes_every_tier(tiers: tuple[MemoryCache, RedisCache], redis_client: Redis) -> None:
    memory, redis = tiers
    layered = LayeredCache([memory, redis])
    await layered.set("k", b"v", 30)
    in_memory = await memory.get("k")
    assert in_memory is not None
    assert in_memory.value == b"v"
    assert await redis_client.get(PREFIX + "k") == b"v"
    assert 29_000 < await redis_client.pttl(PREFIX + "k") <= 30_000


async def test_hits_and_misses_are_recorded_per_tier(
    tiers: tuple[MemoryCache, RedisCache], gauges: GatewayMetrics, registry: CollectorRegistry
) -> None:
    memory, redis = tiers
    layered = LayeredCache([memory, redis], record=gauges.record_cache)

    assert await layered.get("k") is None  # miss in both tiers
    assert lookups(registry, "memory", "miss") == 1
    assert lookups(registry, "redis", "miss") == 1
    assert lookups(registry, "memory", "hit") == 0
    assert lookups(registry, "redis", "hit") == 0

    await redis.set("k", b"v", 30)
    found = await layered.get("k")  # memory miss, redis hit, promoted
    assert found is not None
    assert found[1] == "redis"
    assert lookups(registry, "memory", "miss") == 2
    assert lookups(registry, "redis", "hit") == 1

    found = await layered.get("k")  # memory hit: redis is not asked
    assert found is not None
    assert found[1] == "memory"
    assert lookups(registry, "memory", "hit") == 1
    assert lookups(registry, "memory", "miss") == 2
    assert lookups(registry, "redis", "hit") == 1
    assert lookups(registry, "redis", "miss") == 1


async def test_no_tiers_is_the_null_cache() -> None:
    recorded: list[tuple[str, bool]] = []
    layered = LayeredCache([], record=lambda tier, hit: recorded.append((tier, hit)))
    assert not layered.enabled
    await layered.set("k", b"v", 30)
    assert await layered.get("k") is None
    assert recorded == []
    await layered.aclose()


async def test_enabled_with_tiers(tiers: tuple[MemoryCache, RedisCache]) -> None:
    assert LayeredCache(list(tiers)).enabled


async def test_redis_outage_degrades_to_memory_and_recovers(
    private_redis: RedisServer, gauges: GatewayMetrics, registry: CollectorRegistry
) -> None:
    client = Redis.from_url(private_redis.url, socket_timeout=0.2, socket_connect_timeout=0.2)
    before = Redis.from_url(private_redis.url)
    after = Redis.from_url(private_redis.url)
    retry_after_s = 0.2
    redis = RedisCache(client, prefix=PREFIX, retry_after_s=retry_after_s, on_error=gauges.record_cache_error)
    memory = MemoryCache()
    layered = LayeredCache([memory, redis], record=gauges.record_cache)
    try:
        await layered.set("warm", b"cached-before", 60)
        assert await before.get(PREFIX + "warm") == b"cached-before"
        await before.aclose()

        private_redis.stop()

        found = await layered.get("warm")  # memory keeps serving
        assert found is not None
        assert found[1] == "memory"
        assert found[0].value == b"cached-before"
        assert errors(registry, "redis") == 0

        started = time.monotonic()
        assert await layered.get("cold") is None  # the Redis error is a miss, not an exception
        probe_s = time.monotonic() - started
        assert errors(registry, "redis") == 1
        assert redis.is_down
        assert lookups(registry, "redis", "miss") == 1

        await layered.set("during", b"kept-in-memory", 60)  # must not raise
        found = await layered.get("during")
        assert found is not None
        assert found[0].value == b"kept-in-memory"
        assert await layered.get("cold-2") is None  # tier skipped while down: no new error
        assert errors(registry, "redis") == 1

        await asyncio.sleep(retry_after_s + 0.05)
        assert not redis.is_down
        assert await layered.get("cold-3") is None  # this call is the probe: it fails again
        assert errors(registry, "redis") == 2

        private_redis.start()
        await asyncio.sleep(retry_after_s + 0.05)
        assert not redis.is_down
        await layered.set("after", b"back-in-redis", 60)
        assert await after.get(PREFIX + "after") == b"back-in-redis"
        assert errors(registry, "redis") == 2
        memory_only = MemoryCache()
        assert await LayeredCache([memory_only, redis]).get("after") is not None
        await memory_only.aclose()
        # A failing probe must not stall the request for long (the client's retries included).
        assert probe_s < 2.0
    finally:
        await before.aclose()
        await after.aclose()
        await layered.aclose()
        await client.aclose()  # the cache tier does not own its client


async def test_peek_finds_only_memory_hits_and_counts_only_hits(
    tiers: tuple[MemoryCache, RedisCache], gauges: GatewayMetrics, registry: CollectorRegistry
) -> None:
    memory, redis = tiers
    layered = LayeredCache([memory, redis], record=gauges.record_cache)
    await redis.set("k", b"v", 30)
    assert layered.peek("k") is None  # only in Redis: peeking never waits on a network tier
    assert lookups(registry, "memory", "miss") == 0  # the caller's `get` counts the miss
    await memory.set("k", b"v", 30)
    entry = layered.peek("k")
    assert entry is not None and entry.value == b"v" and 0 < entry.ttl_s <= 30
    assert lookups(registry, "memory", "hit") == 1


async def test_peek_without_a_memory_tier_is_always_a_miss(tiers: tuple[MemoryCache, RedisCache]) -> None:
    _, redis = tiers
    await redis.set("k", b"v", 30)
    assert LayeredCache([redis]).peek("k") is None
    assert LayeredCache([]).peek("k") is None


async def test_hits_finds_each_key_in_the_first_tier_holding_it_and_promotes_it(
    tiers: tuple[MemoryCache, RedisCache],
    redis_client: Redis,
    gauges: GatewayMetrics,
    registry: CollectorRegistry,
) -> None:
    memory, redis = tiers
    layered = LayeredCache([memory, redis], record=gauges.record_cache)
    await memory.set("in-memory", b"m", 30)
    await redis.set("in-redis", b"r", 60)
    await redis_client.pexpire(PREFIX + "in-redis", 3000)

    found = await layered.hits(["in-redis", "nowhere", "in-memory"])

    assert [(hit[0].value, hit[1]) if hit else None for hit in found] == [
        (b"r", "redis"),
        None,
        (b"m", "memory"),
    ]
    promoted = memory.peek("in-redis")
    assert promoted is not None and promoted.value == b"r" and 2.5 < promoted.ttl_s <= 3.0
    # as `get` counts its hits; the key found nowhere is the caller's `get` to count
    assert lookups(registry, "memory", "hit") == 1
    assert lookups(registry, "memory", "miss") == 1
    assert lookups(registry, "redis", "hit") == 1
    assert lookups(registry, "redis", "miss") == 0


async def test_hits_asks_redis_once_for_every_key_memory_missed(
    private_redis: RedisServer, gauges: GatewayMetrics, registry: CollectorRegistry
) -> None:
    client = Redis.from_url(private_redis.url)
    redis = RedisCache(client, prefix=PREFIX, on_error=gauges.record_cache_error)
    memory = MemoryCache()
    layered = LayeredCache([memory, redis], record=gauges.record_cache)
    try:
        for key in ("a", "b", "c"):
            await redis.set(key, key.encode(), 30)
        await memory.set("d", b"d", 30)
        await client.config_resetstat()

        found = await layered.hits(["a", "b", "c", "d", "e"])

        assert [hit[0].value if hit else None for hit in found] == [b"a", b"b", b"c", b"d", None]
        stats = await client.info("commandstats")
        assert stats["cmdstat_mget"]["calls"] == 1 and "cmdstat_get" not in stats
        assert stats["cmdstat_pttl"]["calls"] == 4  # a, b, c and e: memory answered d

        private_redis.stop()
        assert await LayeredCache([MemoryCache(), redis]).hits(["a", "e"]) == [None, None]  # a miss
        assert errors(registry, "redis") == 1 and redis.is_down
    finally:
        await layered.aclose()
        await client.aclose()
