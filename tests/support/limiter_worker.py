"""One process hammering a BudgetLimiter on a shared RedisWindowStore; prints its grant times.

Usage: limiter_worker.py REDIS_URL PREFIX START_AT DURATION_S CONCURRENCY RPW WINDOW_S
Waits until the wall-clock time START_AT, runs CONCURRENCY workers calling `acquire` until
START_AT + DURATION_S, and prints a JSON list of the wall-clock times (time.time()) at which
each permit was granted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from redis.asyncio import Redis

from gateway.config import RateLimitConfig
from gateway.limits.budget import BudgetLimiter
from gateway.limits.redis import RedisWindowStore


async def main(argv: list[str]) -> list[float]:
    url, prefix = argv[0], argv[1]
    start_at, duration_s = float(argv[2]), float(argv[3])
    concurrency, per_window, window_s = int(argv[4]), int(argv[5]), float(argv[6])
    client = Redis.from_url(url)
    try:
        await client.ping()
        config = RateLimitConfig(requests_per_window=per_window, window_s=window_s)
        limiter = BudgetLimiter("shared", config, RedisWindowStore(client, prefix=prefix))
        grants: list[float] = []
        deadline = start_at + duration_s

        async def worker() -> None:
            while time.time() < deadline:
                await limiter.acquire(1, "live")
                grants.append(time.time())

        await asyncio.sleep(max(start_at - time.time(), 0.0))
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return grants
    finally:
        await client.aclose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1:]))))
