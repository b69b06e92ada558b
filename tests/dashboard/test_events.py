"""Event bookkeeping: coalescing per key, a bounded queue, resume from the ring buffer, snapshots."""

from __future__ import annotations

from aexy_stream.dashboard.events import RESULT, RESYNC, STATUS, Hub


async def test_repeated_updates_to_one_key_coalesce_into_the_newest_in_id_order() -> None:
    hub = Hub(ring_events=100, client_queue=10)
    client = hub.subscribe(hub.event_id(hub.seq))
    for key in ("a", "b", "a", "c", "a"):
        hub.publish(RESULT, key)
    taken = await client.take()
    assert taken is not None
    assert [(e.key, e.seq) for e in taken] == [("b", 2), ("c", 4), ("a", 5)]
    assert hub.stats["coalesced"] == 2


async def test_a_client_past_its_bound_gets_one_snapshot_instead() -> None:
    hub = Hub(ring_events=1000, client_queue=3)
    client = hub.subscribe(hub.event_id(0))
    for n in range(10):
        hub.publish(RESULT, f"k{n}")
    assert await client.take() is None  # a snapshot, then what follows it
    assert hub.stats["overflows"] == 1
    assert hub.stats["dropped"] == 3 + 6  # three waiting when it overflowed, six while the snapshot waited
    hub.publish(STATUS, STATUS)
    taken = await client.take()
    assert taken is not None and [e.key for e in taken] == [STATUS]


async def test_resume_from_the_ring_buffer_sends_only_what_was_missed() -> None:
    hub = Hub(ring_events=5, client_queue=100)
    for n in range(8):
        hub.publish(RESULT, f"k{n}")
    client = hub.subscribe(hub.event_id(5))
    taken = await client.take()
    assert taken is not None and [e.seq for e in taken] == [6, 7, 8]
    assert hub.stats["resumed"] == 1
    up_to_date = hub.subscribe(hub.event_id(8))
    assert up_to_date.waiting == 0


async def test_a_client_too_far_behind_or_from_another_run_gets_a_snapshot() -> None:
    hub = Hub(ring_events=5, client_queue=100)
    for n in range(8):
        hub.publish(RESULT, f"k{n}")
    other = Hub(ring_events=5, client_queue=100)
    for last in (hub.event_id(1), other.event_id(7), hub.event_id(99), "garbage", None):
        assert await hub.subscribe(last).take() is None, last
    assert hub.stats["too_far_behind"] == 1
    assert await hub.subscribe(hub.event_id(2)).take() is None  # the ring holds 4..8: 3 is missing
    resumed = await hub.subscribe(hub.event_id(3)).take()
    assert resumed is not None and [e.seq for e in resumed] == [4, 5, 6, 7, 8]


async def test_an_identity_merge_sends_every_client_a_snapshot() -> None:
    hub = Hub(ring_events=100, client_queue=100)
    clients = [hub.subscribe(hub.event_id(0)) for _ in range(3)]
    hub.publish(RESULT, "a")
    hub.publish(RESYNC, RESYNC)
    for client in clients:
        assert await client.take() is None
    late = hub.subscribe(hub.event_id(1))  # resuming across the merge
    assert await late.take() is None
