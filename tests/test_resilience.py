from __future__ import annotations

import asyncio

import pytest

from gateway.config import BreakerConfig, RetryConfig
from gateway.errors import BadRequest, LLMUnavailableError, RateLimited
from gateway.flight import SingleFlight
from gateway.resilience.breaker import CircuitBreaker, State
from gateway.resilience.retry import retrying


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def call(breaker: CircuitBreaker, failed: bool) -> None:
    ticket = breaker.begin()
    assert ticket is not None
    (breaker.failure if failed else breaker.success)(ticket)


def test_breaker_opens_after_threshold_and_half_opens_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=3, cooldown_s=10, probes=1), clock)
    for _ in range(3):
        call(breaker, failed=True)
    assert breaker.state is State.OPEN
    assert breaker.is_open() and breaker.begin() is None
    clock.now = 10.0
    assert breaker.state is State.HALF_OPEN
    probe = breaker.begin()
    assert probe is not None  # the one probe
    assert breaker.begin() is None  # no second probe while the first is out
    breaker.failure(probe)
    assert breaker.state is State.OPEN
    clock.now = 20.0
    probe = breaker.begin()
    assert probe is not None
    breaker.success(probe)
    assert breaker.state is State.CLOSED
    assert breaker.begin() is not None


def test_a_steady_share_of_faults_below_the_rate_never_opens_it() -> None:
    """30% of 64 concurrent calls failing, for a minute: the resilience4j model stays closed."""
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(), clock)
    tickets = []
    for n in range(6000):
        clock.now = n / 100
        tickets.append(breaker.begin())
        if len(tickets) == 64:
            ticket = tickets.pop(0)
            assert ticket is not None
            (breaker.failure if n % 10 < 3 else breaker.success)(ticket)
    assert breaker.state is State.CLOSED


def test_it_opens_on_the_failure_rate_of_enough_calls_in_the_window() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=20, failure_rate=0.5, window_s=10), clock)
    for n in range(19):
        call(breaker, failed=n % 2 == 0)  # 10 of 19 failed: too few calls to judge
    assert breaker.state is State.CLOSED
    call(breaker, failed=True)  # 11 of 20
    assert breaker.state is State.OPEN


def test_calls_older_than_the_window_do_not_count() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=4, window_s=10), clock)
    for _ in range(3):
        call(breaker, failed=True)
    clock.now = 11.0
    for _ in range(3):
        call(breaker, failed=False)
    call(breaker, failed=True)  # 1 of 4 in the window
    assert breaker.state is State.CLOSED


def test_half_open_lets_a_few_probes_through_and_the_first_success_closes_it() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=1, cooldown_s=5, probes=3), clock)
    call(breaker, failed=True)
    clock.now = 5.0
    probes = [breaker.begin() for _ in range(3)]
    assert None not in probes and breaker.begin() is None  # three at once, no fourth
    assert breaker.retry_in() > 0
    breaker.release(probes[0])  # proved nothing: its slot is free again
    assert breaker.begin() is not None
    breaker.success(probes[1])  # type: ignore[arg-type]
    assert breaker.state is State.CLOSED
    breaker.failure(probes[2])  # type: ignore[arg-type]  # a probe of the closed half-open: ignored
    assert breaker.state is State.CLOSED


def test_a_released_probe_gives_its_slot_back() -> None:
    """A probe that proves nothing (client error, cancellation) must not keep the breaker half-open."""
    clock = FakeClock()
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=1, cooldown_s=5), clock)
    ticket = breaker.begin()
    assert ticket is not None
    breaker.failure(ticket)
    clock.now = 5.0
    probe = breaker.begin()
    assert probe is not None
    breaker.release(probe)
    assert breaker.begin() is not None


def test_a_late_success_from_before_the_breaker_opened_does_not_close_it() -> None:
    breaker = CircuitBreaker(BreakerConfig(failure_threshold=1, cooldown_s=60), FakeClock())
    slow, fast = breaker.begin(), breaker.begin()
    assert slow is not None and fast is not None
    breaker.failure(fast)
    breaker.success(slow)
    assert breaker.state is State.OPEN


async def test_retry_waits_retry_after_on_every_attempt() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    hints = iter([2.0, 3.0, 5.0])
    config = RetryConfig(max_retries=3, backoff_initial_s=0.01, jitter_s=0)
    with pytest.raises(RateLimited):
        async for attempt in retrying(config, sleep=sleep):
            with attempt:
                raise RateLimited("429", retry_after=next(hints, 7.0))
    assert len(waits) == 3
    for wait, hint in zip(waits, (2.0, 3.0, 5.0), strict=True):
        assert hint <= wait <= hint * 1.1


async def test_retry_backs_off_exponentially_without_a_hint() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    config = RetryConfig(max_retries=3, backoff_factor=2, backoff_initial_s=1, jitter_s=0)
    with pytest.raises(RateLimited):
        async for attempt in retrying(config, sleep=sleep):
            with attempt:
                raise RateLimited("429")
    assert waits == [1, 2, 4]


async def test_non_retryable_errors_are_not_retried() -> None:
    attempts = 0
    with pytest.raises(BadRequest):
        async for attempt in retrying(RetryConfig(), sleep=asyncio.sleep):
            with attempt:
                attempts += 1
                raise BadRequest("400")
    assert attempts == 1


async def test_a_retry_after_beyond_the_backoff_cap_stops_in_process_retries() -> None:
    attempts = 0
    with pytest.raises(RateLimited):
        async for attempt in retrying(RetryConfig(backoff_max_s=30), sleep=asyncio.sleep):
            with attempt:
                attempts += 1
                raise RateLimited("429", retry_after=3600)
    assert attempts == 1


async def test_single_flight_runs_identical_work_once() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def work() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    tasks = [asyncio.create_task(flight.run("k", work)) for _ in range(100)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*tasks)
    assert calls == 1
    assert {value for value, _ in results} == {42}
    assert sum(joined for _, joined in results) == 99
    assert len(flight) == 0


async def test_single_flight_shares_failures_and_forgets_them() -> None:
    flight: SingleFlight[int] = SingleFlight()

    async def boom() -> int:
        raise RateLimited("429")

    with pytest.raises(RateLimited):
        await flight.run("k", boom)

    async def fine() -> int:
        return 1

    assert await flight.run("k", fine) == (1, False)


async def test_followers_of_a_cancelled_leader_get_a_retryable_error() -> None:
    flight: SingleFlight[int] = SingleFlight()
    started = asyncio.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(10)
        return 1

    leader = asyncio.create_task(flight.run("k", slow))
    await started.wait()
    follower = asyncio.create_task(flight.run("k", slow))
    await asyncio.sleep(0)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    with pytest.raises(LLMUnavailableError) as caught:
        await follower
    assert caught.value.retryable
    assert len(flight) == 0
