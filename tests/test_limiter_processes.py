"""Two OS processes share one Redis-backed budget and never exceed it together."""

from __future__ import annotations

import asyncio
import bisect
import json
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_TEST_URL

WORKER = Path(__file__).parent / "support" / "limiter_worker.py"
PER_WINDOW = 20
WINDOW_S = 2.0
DURATION_S = 6.0
CONCURRENCY = 8
GAP_S = 0.05  # between the Lua grant on the Redis clock and the time.time() a process records


def most_in_any_window(times: list[float], width: float) -> int:
    """The largest number of times falling in any half-open interval [t, t + width)."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + width) - i for i, t in enumerate(ordered)), default=0)


def test_most_in_any_window_helper() -> None:
    assert most_in_any_window([], 1.0) == 0
    assert most_in_any_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert most_in_any_window([3.0, 1.0, 2.0, 1.1], 1.0) == 2


async def run_worker(prefix: str, start_at: float) -> list[float]:
    args = [REDIS_TEST_URL, prefix, start_at, DURATION_S, CONCURRENCY, PER_WINDOW, WINDOW_S]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        *map(str, args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    grants: list[float] = json.loads(stdout)
    return grants


@pytest.mark.slow
async def test_two_processes_never_exceed_the_shared_budget(redis_client: Redis) -> None:
    prefix = f"test:processes:{uuid.uuid4().hex}:"
    start_at = time.time() + 2.0  # both start together, after their imports
    first, second = await asyncio.gather(run_worker(prefix, start_at), run_worker(prefix, start_at))

    assert first, "the first process got no grant"
    assert second, "the second process got no grant"
    merged = first + second
    assert min(merged) >= start_at
    # No sliding window holds more than the budget, across both processes.
    assert most_in_any_window(merged, WINDOW_S - GAP_S) <= PER_WINDOW
    # ... and the budget was really used: 20 per 2 s for 6 s is 60; demand far exceeds it.
    in_run = [t for t in merged if t < start_at + DURATION_S]
    assert len(in_run) >= 40, f"only {len(in_run)} grants in {DURATION_S} s"
    # The limiter kept its log in Redis under the run's prefix.
    assert await redis_client.keys(prefix + "*")
