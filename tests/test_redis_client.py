"""The composition root's Redis client waits for a free connection instead of failing."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from aexy_stream.compose import REDIS_MAX_CONNECTIONS, redis_client
from aexy_stream.settings import Settings
from tests.conftest import REDIS_TEST_URL

pytestmark = pytest.mark.redis
AT_ONCE = 3 * REDIS_MAX_CONNECTIONS


async def blocked_commands(client: Redis) -> None:
    """More commands at once than the pool has connections, each holding one for 100 ms (a
    blocking pop on an empty list: the server itself goes on serving others meanwhile)."""
    await asyncio.gather(*(client.blpop(["aexy:test:never"], timeout=0.1) for _ in range(AT_ONCE)))


async def test_more_commands_than_connections_wait_for_one() -> None:
    client = redis_client(Settings(redis_url=REDIS_TEST_URL))
    assert client is not None
    try:
        await blocked_commands(client)
    finally:
        await client.aclose()
