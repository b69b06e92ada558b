"""BudgetLimiter (requests and tokens per window, backfill share) and HeaderPacer, on a fake clock."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from gateway.config import RateLimitConfig
from gateway.limits.base import WindowStore, estimate_tokens
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.limits.pacer import HeaderPacer
from gateway.limits.redis import RedisWindowStore
from gateway.providers.base import RateHint


class FakeTime:
    """A clock and an async sleep that advances it, recording every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class MustWait(Exception):
    """Raised by `refuse_to_sleep`: the limiter wanted to wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


async def refuse_to_sleep(seconds: float) -> None:
    raise MustWait(seconds)


def limiter(
    config: RateLimitConfig, t: FakeTime | None = None, store: WindowStore | None = None
) -> BudgetLimiter:
    """A limiter whose store, pacer and sleep share the fake clock; without `t` it refuses to wait."""
    if t is None:
        return BudgetLimiter("p", config, store or MemoryWindowStore(), sleep=refuse_to_sleep)
    return BudgetLimiter(
        "p",
        config,
        store or MemoryWindowStore(clock=t.clock),
        pacer=HeaderPacer(clock=t.clock),
        sleep=t.sleep,
    )


@pytest.fixture(params=["memory", "redis"])
async def any_store(request: pytest.FixtureRequest, redis_client: Redis) -> WindowStore:
    if request.param == "memory":
        return MemoryWindowStore()
    return RedisWindowStore(redis_client, prefix=f"test:limiter:{uuid.uuid4().hex}:")


# --- requests per window -------------------------------------------------------------------------


async def test_requests_per_window_are_enforced() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(requests_per_window=3, window_s=10.0), t)
    granted_at = []
    for _ in range(7):
        await lim.acquire(1, "live")
        granted_at.append(t.now - 1000.0)
    assert granted_at[:3] == [0.0, 0.0, 0.0]
    assert 10.0 <= granted_at[3] <= 10.02  # the 4th waits a whole window (plus jitter)
    assert granted_at[4] == granted_at[5] == granted_at[3]  # the window is free again
    assert 20.0 <= granted_at[6] <= 20.04
    assert len(t.sleeps) == 2
    assert all(10.0 <= s <= 10.02 for s in t.sleeps)


async def test_no_budget_means_no_limit() -> None:
    lim = limiter(RateLimitConfig(requests_per_window=0, tokens_per_window=0, window_s=10.0))
    for _ in range(1000):
        permit = await lim.acquire(10_000, "backfill")
        assert permit.token_draws == ()


async def test_permit_reports_the_pacer_wait() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(requests_per_window=100, window_s=10.0), t)
    assert (await lim.acquire(1, "live")).waited_s < 0.05
    lim.observe(RateHint(requests_remaining=0, reset_after_s=2.0))
    permit = await lim.acquire(1, "live")
    # the window part is measured in real time (~0 here with a fake sleep), plus the pacer's 2 s
    assert 2.0 <= permit.waited_s < 2.05
    assert t.sleeps == pytest.approx([2.0])


async def test_window_wait_already_covers_the_pacer_reset() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(requests_per_window=1, window_s=10.0), t)
    await lim.acquire(1, "live")
    lim.observe(RateHint(requests_remaining=0, reset_after_s=2.0))
    await lim.acquire(1, "live")  # waits 10 s for the window; the 2 s reset has passed by then
    assert len(t.sleeps) == 1
    assert 10.0 <= t.sleeps[0] <= 10.02


# --- backfill share ------------------------------------------------------------------------------


async def test_backfill_gets_at_most_its_share_while_live_keeps_the_rest(any_store: WindowStore) -> None:
    lim = limiter(RateLimitConfig(requests_per_window=10, window_s=60.0, backfill_share=0.2), store=any_store)
    for _ in range(2):
        await lim.acquire(1, "backfill")
    with pytest.raises(MustWait) as waited:
        await lim.acquire(1, "backfill")
    assert 59.0 < waited.value.seconds <= 60.02
    for _ in range(8):
        await lim.acquire(1, "live")  # granted without waiting
    with pytest.raises(MustWait):
        await lim.acquire(1, "live")  # 2 backfill + 8 live = the whole budget


async def test_live_traffic_uses_the_whole_budget_and_blocks_backfill(any_store: WindowStore) -> None:
    lim = limiter(RateLimitConfig(requests_per_window=10, window_s=60.0, backfill_share=0.2), store=any_store)
    for _ in range(10):
        await lim.acquire(1, "live")
    with pytest.raises(MustWait):
        await lim.acquire(1, "backfill")  # backfill also draws from the provider budget


async def test_backfill_token_share() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0, backfill_share=0.2))
    await lim.acquire(150, "backfill")
    with pytest.raises(MustWait):
        await lim.acquire(100, "backfill")  # 250 > 200 of the backfill share
    await lim.acquire(50, "backfill")
    await lim.acquire(800, "live")  # 200 + 800 = 1000
    with pytest.raises(MustWait):
        await lim.acquire(1, "live")


async def test_backfill_share_waits_then_proceeds_on_the_fake_clock() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(requests_per_window=10, window_s=60.0, backfill_share=0.2), t)
    grants = []
    for _ in range(5):
        await lim.acquire(1, "backfill")
        grants.append(t.now - 1000.0)
    assert grants[:2] == [0.0, 0.0]
    assert 60.0 <= grants[2] == grants[3] <= 60.02
    assert 120.0 <= grants[4] <= 120.04


# --- tokens: reservation and settlement ----------------------------------------------------------


async def test_over_estimate_is_refunded_by_settle() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0))
    first = await lim.acquire(600, "live")
    assert [d.amount for d in first.token_draws] == [600]
    with pytest.raises(MustWait):
        await lim.acquire(600, "live")  # 1200 reserved would exceed the budget
    await lim.settle(first, 200)  # the call really used 200
    await lim.acquire(600, "live")  # 200 + 600 fits
    with pytest.raises(MustWait):
        await lim.acquire(201, "live")  # 200 + 600 + 201 > 1000
    await lim.acquire(200, "live")


async def test_under_estimate_consumes_more_on_settle() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0))
    permit = await lim.acquire(200, "live")
    await lim.settle(permit, 900)
    with pytest.raises(MustWait):
        await lim.acquire(101, "live")
    await lim.acquire(100, "live")


async def test_settle_with_exact_estimate_changes_nothing() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0))
    permit = await lim.acquire(400, "live")
    await lim.settle(permit, 400)
    await lim.acquire(600, "live")
    with pytest.raises(MustWait):
        await lim.acquire(1, "live")


async def test_settle_on_redis_store(redis_client: Redis) -> None:
    store = RedisWindowStore(redis_client, prefix=f"test:limiter:{uuid.uuid4().hex}:")
    lim = limiter(
        RateLimitConfig(requests_per_window=100, tokens_per_window=1000, window_s=60.0), store=store
    )
    permit = await lim.acquire(900, "live")
    await lim.settle(permit, 100)
    await lim.acquire(900, "live")
    with pytest.raises(MustWait):
        await lim.acquire(1, "live")


async def test_a_call_larger_than_the_whole_budget_is_capped_not_starved() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0), t)
    permit = await lim.acquire(5000, "live")
    assert t.sleeps == []
    assert [d.amount for d in permit.token_draws] == [1000]
    await lim.acquire(5000, "live")  # the next one waits one window, then goes through
    assert len(t.sleeps) == 1
    assert 60.0 <= t.sleeps[0] <= 60.02


async def test_a_backfill_larger_than_its_share_is_capped_not_starved() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0, backfill_share=0.2))
    permit = await lim.acquire(5000, "backfill")
    assert sorted(d.amount for d in permit.token_draws) == [200, 1000]
    with pytest.raises(MustWait):
        await lim.acquire(1, "backfill")


async def test_settling_a_capped_backfill_keeps_the_backfill_share() -> None:
    lim = limiter(RateLimitConfig(tokens_per_window=1000, window_s=60.0, backfill_share=0.2))
    # draws 500 from the provider budget and min(500, 200) = 200 from the backfill share
    permit = await lim.acquire(500, "backfill")
    await lim.settle(permit, 100)  # the call really used 100: 100 of the 200-token share is used
    with pytest.raises(MustWait):
        await lim.acquire(150, "backfill")  # 100 + 150 > 200


# --- header pacing -------------------------------------------------------------------------------


def pacer() -> tuple[HeaderPacer, FakeTime]:
    t = FakeTime()
    return HeaderPacer(low_requests=5, low_tokens=4000, clock=t.clock), t


def test_pacer_waits_for_the_reset_when_nothing_remains() -> None:
    p, _ = pacer()
    p.observe(RateHint(requests_remaining=0, reset_after_s=2.0))
    assert p.delay() == pytest.approx(2.0)


def test_pacer_spreads_the_remaining_requests_over_the_reset() -> None:
    p, t = pacer()
    p.observe(RateHint(requests_remaining=2, reset_after_s=4.0))
    sent_at = []
    for _ in range(3):
        t.now += p.delay()
        sent_at.append(t.now - 1000.0)
    assert sent_at == pytest.approx([0.0, 2.0, 4.0])


def test_pacer_delays_reserve_successive_slots() -> None:
    p, _ = pacer()
    p.observe(RateHint(requests_remaining=2, reset_after_s=4.0))
    assert [p.delay() for _ in range(3)] == pytest.approx([0.0, 2.0, 4.0])


def test_pacer_counts_low_tokens_in_request_units() -> None:
    p, _ = pacer()
    p.observe(RateHint(requests_remaining=1000, tokens_remaining=1600, reset_after_s=4.0))  # 1600*5//4000 = 2
    assert [p.delay() for _ in range(3)] == pytest.approx([0.0, 2.0, 4.0])


@pytest.mark.parametrize(
    "hint",
    [
        RateHint(requests_remaining=500, tokens_remaining=100_000, reset_after_s=2.0),
        RateHint(requests_remaining=6, reset_after_s=2.0),
        RateHint(requests_remaining=0, reset_after_s=None),
        RateHint(),
    ],
    ids=["plenty", "just-above-low-water", "no-reset", "no-hint"],
)
def test_pacer_does_not_delay_with_plenty_remaining(hint: RateHint) -> None:
    p, _ = pacer()
    p.observe(hint)
    assert [p.delay() for _ in range(5)] == [0.0] * 5


def test_pacer_stops_delaying_after_the_reset() -> None:
    p, t = pacer()
    p.observe(RateHint(requests_remaining=0, reset_after_s=2.0))
    assert p.delay() == pytest.approx(2.0)
    t.now += 10.0
    assert p.delay() == 0.0


async def test_limiter_applies_the_pacer_delay() -> None:
    t = FakeTime()
    lim = limiter(RateLimitConfig(requests_per_window=100, window_s=60.0), t)
    lim.observe(RateHint(requests_remaining=2, reset_after_s=4.0))
    grants = []
    for _ in range(3):
        await lim.acquire(1, "live")
        grants.append(t.now - 1000.0)
    assert grants == pytest.approx([0.0, 2.0, 4.0])


# --- estimate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt_chars", "max_tokens", "expected"),
    [(400, 100, 200), (0, 0, 0), (3, 10, 10), (4001, 0, 1000)],
)
def test_estimate_tokens(prompt_chars: int, max_tokens: int, expected: int) -> None:
    assert estimate_tokens(prompt_chars, max_tokens) == expected


def test_a_healthy_hint_clears_the_pacing_backlog() -> None:
    t = FakeTime()
    pace = HeaderPacer(clock=t.clock)
    pace.observe(RateHint(requests_remaining=0, reset_after_s=30.0))
    assert [round(pace.delay()) for _ in range(4)] == [30, 30, 30, 30]  # everyone waits once, for the reset
    t.now += 31
    pace.observe(RateHint(requests_remaining=49, reset_after_s=29.0))
    assert pace.delay() == 0.0
