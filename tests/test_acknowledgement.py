"""`acknowledgement`: one future for all the outputs of a record finished in the poll loop."""

from __future__ import annotations

import asyncio

import pytest

from consumers.commit import acknowledgement


def futures(count: int) -> list[asyncio.Future[object]]:
    loop = asyncio.get_running_loop()
    return [loop.create_future() for _ in range(count)]


async def settled(future: asyncio.Future[None]) -> None:
    """Until the callbacks scheduled so far have run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_resolves_once_every_delivery_is_acknowledged_shared_ones_counted_once() -> None:
    first, second = futures(2)
    finished = acknowledgement([first, second, first])  # two results in one batch share a delivery
    first.set_result("batch 1")
    await settled(finished)
    assert not finished.done()
    second.set_result("batch 2")
    await settled(finished)
    assert finished.done() and finished.result() is None


async def test_nothing_to_wait_for_is_already_acknowledged() -> None:
    assert acknowledgement([]).done()
    done = futures(1)
    done[0].set_result(None)
    finished = acknowledgement(done)
    await settled(finished)
    assert finished.done() and finished.exception() is None


async def test_a_failed_delivery_fails_it_with_the_producers_error() -> None:
    first, second = futures(2)
    finished = acknowledgement([first, second])
    second.set_exception(ConnectionError("broker gone"))
    await settled(finished)
    with pytest.raises(ConnectionError, match="broker gone"):
        finished.result()
    first.set_result(None)  # a later success changes nothing
    await settled(finished)
    assert isinstance(finished.exception(), ConnectionError)


async def test_a_delivery_never_sent_leaves_the_record_unfinished() -> None:
    (only,) = futures(1)
    finished = acknowledgement([only])
    only.cancel()
    await settled(finished)
    assert finished.cancelled()


async def test_cancelling_it_cancels_no_delivery() -> None:
    shared, own = futures(2)
    finished = acknowledgement([shared, own])
    finished.cancel()
    await settled(finished)
    assert not shared.cancelled() and not own.cancelled()
    shared.set_result(None)
    own.set_result(None)
    await settled(finished)  # the callbacks find it cancelled and leave it so
    assert finished.cancelled()
