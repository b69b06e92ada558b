"""One contract for the sliding-window logs (`WindowStore`), run in memory and on real Redis.

Both stores run on a real clock (process monotonic / Redis server time), so windows are short
and waits are real sleeps.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.limits.base import Draw, WindowStore
from gateway.limits.memory import MemoryWindowStore
from gateway.limits.redis import RedisWindowStore

SLACK = 0.03  # scheduling and millisecond rounding


def ids() -> str:
    return uuid.uuid4().hex


class WindowStoreContract:
    """Behaviour every window store must have. Subclasses provide the `store` fixture."""

    @pytest.fixture
    async def store(self) -> AsyncIterator[WindowStore]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    async def take(
        self, store: WindowStore, key: str, limit: int, amount: int = 1, window_s: float = 10.0
    ) -> float:
        return await store.take((Draw(key, limit, amount),), ids(), window_s)

    async def test_grants_up_to_the_limit_then_waits_at_most_a_window(self, store: WindowStore) -> None:
        for _ in range(5):
            assert await self.take(store, "req", 5) == 0.0
        wait = await self.take(store, "req", 5)
        assert 0 < wait <= 10.0
        assert wait > 10.0 - 1.0  # the oldest entry was just taken
        assert await self.take(store, "req", 5) > 0  # a refused take records nothing and keeps refusing

    async def test_amounts_count_against_the_limit(self, store: WindowStore) -> None:
        assert await self.take(store, "tok", 100, 70) == 0.0
        assert await self.take(store, "tok", 100, 31) > 0
        assert await self.take(store, "tok", 100, 30) == 0.0
        assert await self.take(store, "tok", 100, 1) > 0

    async def test_capacity_is_back_after_the_window(self, store: WindowStore) -> None:
        window_s = 0.5
        for _ in range(3):
            assert await self.take(store, "req", 3, window_s=window_s) == 0.0
        assert await self.take(store, "req", 3, window_s=window_s) > 0
        await asyncio.sleep(window_s + SLACK)
        for _ in range(3):
            assert await self.take(store, "req", 3, window_s=window_s) == 0.0
        assert await self.take(store, "req", 3, window_s=window_s) > 0

    async def test_returned_wait_is_accurate(self, store: WindowStore) -> None:
        window_s = 0.6
        for _ in range(2):
            assert await self.take(store, "req", 2, window_s=window_s) == 0.0
        wait = await self.take(store, "req", 2, window_s=window_s)
        assert window_s - 0.1 < wait <= window_s
        await asyncio.sleep(wait / 2)
        half = await self.take(store, "req", 2, window_s=window_s)
        assert 0 < half < wait  # not yet: and the new wait accounts for the time that passed
        assert half == pytest.approx(wait / 2, abs=0.1)
        await asyncio.sleep(half + SLACK)
        assert await self.take(store, "req", 2, window_s=window_s) == 0.0

    async def test_wait_is_until_enough_of_the_oldest_entries_expire(self, store: WindowStore) -> None:
        """Entries at 0, 0.2 and 0.4 s (limit 3, window 1 s): a take of 2 at 0.4 s waits for the 2nd."""
        window_s = 1.0
        assert await self.take(store, "req", 3, window_s=window_s) == 0.0
        await asyncio.sleep(0.2)
        assert await self.take(store, "req", 3, window_s=window_s) == 0.0
        await asyncio.sleep(0.2)
        assert await self.take(store, "req", 3, window_s=window_s) == 0.0
        wait_one = await self.take(store, "req", 3, 1, window_s=window_s)
        wait_two = await self.take(store, "req", 3, 2, window_s=window_s)
        assert wait_one == pytest.approx(0.6, abs=0.08)
        assert wait_two == pytest.approx(0.8, abs=0.08)
        await asyncio.sleep(wait_one + SLACK)
        assert await self.take(store, "req", 3, 2, window_s=window_s) > 0  # only one entry has left
        assert await self.take(store, "req", 3, 1, window_s=window_s) == 0.0

    async def test_all_or_nothing_when_one_key_is_full(self, store: WindowStore) -> None:
        assert await self.take(store, "a", 2, 2) == 0.0  # "a" is full
        both = (Draw("a", 2, 1), Draw("b", 2, 1))
        for _ in range(3):
            assert await store.take(both, ids(), 10.0) > 0
        # nothing was recorded on "b": its whole budget is still there
        assert await self.take(store, "b", 2, 2) == 0.0
        assert await self.take(store, "b", 2, 1) > 0

    async def test_a_granted_take_records_on_every_key(self, store: WindowStore) -> None:
        both = (Draw("a", 3, 1), Draw("b", 5, 2))
        assert await store.take(both, ids(), 10.0) == 0.0
        assert await self.take(store, "a", 3, 3) > 0
        assert await self.take(store, "b", 5, 4) > 0
        assert await self.take(store, "a", 3, 2) == 0.0
        assert await self.take(store, "b", 5, 3) == 0.0

    async def test_wait_over_several_keys_is_the_longest(self, store: WindowStore) -> None:
        assert await store.take((Draw("short", 1, 1),), ids(), 0.4) == 0.0
        assert await store.take((Draw("long", 1, 1),), ids(), 5.0) == 0.0
        wait = await store.take((Draw("short", 1, 1), Draw("long", 1, 1)), ids(), 5.0)
        assert wait > 4.0

    async def test_negative_adjust_refunds_capacity(self, store: WindowStore) -> None:
        assert await store.take((Draw("tok", 100, 100),), "e1", 10.0) == 0.0
        assert await self.take(store, "tok", 100, 50) > 0
        await store.adjust(("tok",), "e1", -60)
        assert await self.take(store, "tok", 100, 50) == 0.0  # 40 + 50
        assert await self.take(store, "tok", 100, 11) > 0  # 40 + 50 + 11 > 100
        assert await self.take(store, "tok", 100, 10) == 0.0

    async def test_positive_adjust_consumes_more(self, store: WindowStore) -> None:
        assert await store.take((Draw("tok", 100, 50),), "e1", 10.0) == 0.0
        await store.adjust(("tok",), "e1", 40)
        assert await self.take(store, "tok", 100, 11) > 0
        assert await self.take(store, "tok", 100, 10) == 0.0

    async def test_adjust_applies_to_every_key_given(self, store: WindowStore) -> None:
        draws = (Draw("t1", 100, 80), Draw("t2", 100, 80))
        assert await store.take(draws, "e1", 10.0) == 0.0
        await store.adjust(("t1", "t2"), "e1", -50)
        assert await self.take(store, "t1", 100, 70) == 0.0
        assert await self.take(store, "t2", 100, 70) == 0.0
        assert await self.take(store, "t1", 100, 1) > 0
        assert await self.take(store, "t2", 100, 1) > 0

    async def test_adjust_of_an_unknown_entry_is_a_no_op(self, store: WindowStore) -> None:
        assert await store.take((Draw("tok", 100, 100),), "e1", 10.0) == 0.0
        await store.adjust(("tok",), "not-an-entry", -60)
        assert await self.take(store, "tok", 100, 1) > 0
        await store.adjust(("never-used",), "e1", -5)  # unknown key: no negative balance created
        assert await self.take(store, "never-used", 1, 1) == 0.0
        assert await self.take(store, "never-used", 1, 1) > 0

    async def test_adjust_after_the_entry_left_the_window_is_a_no_op(self, store: WindowStore) -> None:
        window_s = 0.3
        assert await store.take((Draw("tok", 100, 100),), "e1", window_s) == 0.0
        await asyncio.sleep(window_s + SLACK)
        await store.adjust(("tok",), "e1", -60)
        assert await store.take((Draw("tok", 100, 100),), ids(), window_s) == 0.0
        assert await store.take((Draw("tok", 100, 1),), ids(), window_s) > 0

    async def test_concurrent_takes_never_overshoot(self, store: WindowStore) -> None:
        results = await asyncio.gather(*(self.take(store, "req", 7) for _ in range(30)))
        assert sum(1 for r in results if r == 0.0) == 7


class TestMemoryWindowStore(WindowStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[WindowStore]:
        yield MemoryWindowStore()


class TestRedisWindowStore(WindowStoreContract):
    @pytest.fixture
    async def store(self, redis_client: Redis) -> AsyncIterator[WindowStore]:
        yield RedisWindowStore(redis_client, prefix=f"test:window:{uuid.uuid4().hex}:")

    async def test_keys_expire_from_redis(self, redis_client: Redis) -> None:
        prefix = f"test:window:{uuid.uuid4().hex}:"
        store = RedisWindowStore(redis_client, prefix=prefix)
        assert await store.take((Draw("req", 5, 1),), ids(), 0.2) == 0.0
        assert len(await redis_client.keys(prefix + "*")) == 3
        await asyncio.sleep(0.5)
        assert await redis_client.keys(prefix + "*") == []

    async def test_two_stores_on_one_redis_share_the_budget(self, redis_client: Redis) -> None:
        prefix = f"test:window:{uuid.uuid4().hex}:"
        first, second = RedisWindowStore(redis_client, prefix), RedisWindowStore(redis_client, prefix)
        assert await first.take((Draw("req", 2, 1),), ids(), 10.0) == 0.0
        assert await second.take((Draw("req", 2, 1),), ids(), 10.0) == 0.0
        assert await first.take((Draw("req", 2, 1),), ids(), 10.0) > 0
        assert await second.take((Draw("req", 2, 1),), ids(), 10.0) > 0
