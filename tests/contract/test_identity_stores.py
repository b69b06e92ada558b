"""One contract for the identity stores (disjoint sets, canonical ids), run against memory and Redis."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from consumers.activity.store.base import StateUnavailable
from consumers.identity.store.base import IdentityStore
from consumers.identity.store.memory import MemoryIdentityStore
from consumers.identity.store.redis import RedisIdentityStore
from tests.conftest import REDIS_TEST_URL, free_port

TTL_S = 60
SHORT_TTL_S = 1
"""Of the stores whose expiry a test waits for (Redis counts TTLs in whole seconds)."""
DORA, DORA_WORK, DORA_LOGIN = "email:dora@home.org", "email:dora@work.com", "login:dora"


HAMMER_CALLS = 200
LARGE_SET = 8_200


async def canonical(store: IdentityStore, key: str) -> str:
    return (await store.find(key)).canonical


async def hammered(stores: list[IdentityStore], calls: int) -> None:
    """`calls` links and look-ups at once, spread over `stores`, all on one person's keys (new
    addresses linked to their login or to each other, look-ups of the keys already linked); then
    every key, asked of every store, is in one set, whose canonical id is the login."""
    addresses = [f"email:dora{i:03}@example.com" for i in range(calls // 2)]
    work = []
    for i, address in enumerate(addresses):
        store = stores[i % len(stores)]
        other = DORA_LOGIN if i % 3 == 0 else addresses[i - 1]  # a chain: one person
        work += [store.link(address, other, "login"), stores[(i + 1) % len(stores)].find(address)]
    await asyncio.gather(*work)  # any call giving up raises here
    found = [await s.find(key) for s in stores for key in (*addresses, DORA_LOGIN)]
    assert {joined.canonical for joined in found} == {"dora"}
    assert {joined.members for joined in found} == {frozenset({*addresses, DORA_LOGIN})}


class IdentityStoreContract:
    @pytest.fixture
    async def store(self) -> AsyncIterator[IdentityStore]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    @pytest.fixture
    async def short_lived(self) -> AsyncIterator[IdentityStore]:  # pragma: no cover - abstract
        """A store whose keys expire `SHORT_TTL_S` after they were last written or looked up."""
        raise NotImplementedError
        yield

    async def test_a_key_never_seen_is_its_own_canonical_id(self, store: IdentityStore) -> None:
        assert await canonical(store, DORA) == "dora@home.org"
        assert await canonical(store, DORA_LOGIN) == "dora"

    async def test_linking_two_new_keys_replaces_no_subject(self, store: IdentityStore) -> None:
        joined = await store.link(DORA_WORK, DORA, "login")
        assert (joined.canonical, joined.members, joined.replaced) == (
            "dora@home.org",  # the lowest e-mail, whichever side it came from
            frozenset({DORA, DORA_WORK}),
            (),
        )
        assert await canonical(store, DORA_WORK) == await canonical(store, DORA) == "dora@home.org"

    async def test_a_login_becomes_the_canonical_id_and_replaces_the_known_address(
        self, store: IdentityStore
    ) -> None:
        assert await canonical(store, DORA) == "dora@home.org"  # results published under the address
        joined = await store.link(DORA, DORA_LOGIN, "login")
        assert (joined.canonical, joined.replaced) == ("dora", ("dora@home.org",))
        assert await canonical(store, DORA) == "dora"

    async def test_links_are_transitive_and_report_every_set_they_fold(self, store: IdentityStore) -> None:
        await store.link(DORA, "email:d@old.net", "login")
        await canonical(store, DORA_WORK)
        joined = await store.link(DORA_WORK, "email:d@old.net", "login")
        assert joined.canonical == "d@old.net"
        assert joined.replaced == ("dora@work.com",)  # dora@home.org's set was already d@old.net's
        assert joined.members == frozenset({DORA, DORA_WORK, "email:d@old.net"})
        for key in joined.members:
            assert await canonical(store, key) == "d@old.net"

    async def test_two_logins_keep_the_lowest(self, store: IdentityStore) -> None:
        await store.link("login:zed", DORA, "login")
        await store.link(DORA_LOGIN, DORA_WORK, "login")
        joined = await store.link(DORA, DORA_WORK, "login")
        assert (joined.canonical, joined.replaced) == ("dora", ("zed",))

    async def test_linking_what_is_already_one_set_changes_nothing(self, store: IdentityStore) -> None:
        await store.link(DORA, DORA_LOGIN, "login")
        again = await store.link(DORA_LOGIN, DORA, "login")
        assert (again.canonical, again.replaced) == ("dora", ())
        assert again.members == frozenset({DORA, DORA_LOGIN})

    async def test_a_new_key_joins_a_set_whose_canonical_id_stays(self, store: IdentityStore) -> None:
        await store.link(DORA, DORA_LOGIN, "login")
        joined = await store.link(DORA_WORK, DORA, "login")
        assert (joined.canonical, joined.replaced) == ("dora", ())
        assert await canonical(store, DORA_WORK) == "dora"

    async def test_concurrent_links_of_one_person_end_in_one_set(self, store: IdentityStore) -> None:
        addresses = [f"email:dora{i}@example.com" for i in range(12)]
        await asyncio.gather(*(store.link(a, b, "login") for a, b in itertools.pairwise(addresses)))
        await asyncio.gather(*(store.link(a, DORA_LOGIN, "login") for a in addresses[::5]))
        assert {await canonical(store, a) for a in addresses} == {"dora"}

    async def test_a_crowd_of_links_and_look_ups_on_one_person_gives_up_on_none(
        self, store: IdentityStore
    ) -> None:
        """200 calls at once on one growing set (each look-up renews every member): none raises,
        and every key ends in one set with one canonical id."""
        await hammered([store], HAMMER_CALLS)

    async def test_a_look_up_renews_the_ttl_of_every_member(self, short_lived: IdentityStore) -> None:
        """A person active under their login keeps the link of their e-mail: looking up one key
        renews every member's pointer, not only the key's."""
        await short_lived.link(DORA, DORA_LOGIN, "login")
        await asyncio.sleep(0.6 * SHORT_TTL_S)
        assert await canonical(short_lived, DORA_LOGIN) == "dora"
        await asyncio.sleep(0.6 * SHORT_TTL_S)  # past the TTL of the link's own write
        found = await short_lived.find(DORA)
        assert (found.canonical, found.members) == ("dora", frozenset({DORA, DORA_LOGIN}))

    async def test_linking_two_keys_of_one_set_renews_the_ttl_of_every_member(
        self, short_lived: IdentityStore
    ) -> None:
        await short_lived.link(DORA, DORA_LOGIN, "login")
        await asyncio.sleep(0.6 * SHORT_TTL_S)
        assert (await short_lived.link(DORA_LOGIN, DORA, "login")).replaced == ()
        await asyncio.sleep(0.6 * SHORT_TTL_S)
        assert await canonical(short_lived, DORA) == "dora"

    async def test_a_merge_is_pending_with_its_link_until_settled(self, store: IdentityStore) -> None:
        assert (await store.find(DORA)).pending == ()  # results published under the address
        joined = await store.link(DORA, DORA_LOGIN, "login")
        assert (joined.root, joined.pending) == (DORA_LOGIN, (("dora@home.org", "login"),))
        assert (await store.find(DORA)).pending == joined.pending  # whoever asks next is told
        assert (await store.link(DORA_LOGIN, DORA, "login")).pending == joined.pending
        await store.settle(joined.root, ["dora@home.org"])
        assert (await store.find(DORA)).pending == ()
        assert (await store.link(DORA_WORK, DORA, "login")).pending == ()  # a new key: no merge

    async def test_pending_merges_move_with_their_set_and_settle_where_it_is(
        self, store: IdentityStore
    ) -> None:
        await store.find(DORA)
        await store.find(DORA_WORK)
        first = await store.link(DORA, DORA_WORK, "alias")
        assert (first.root, first.pending) == (DORA, (("dora@work.com", "alias"),))
        second = await store.link(DORA_WORK, DORA_LOGIN, "login")
        assert second.pending == (("dora@home.org", "login"), ("dora@work.com", "alias"))
        await store.settle(first.root, ["dora@work.com"])  # reported before the set moved on
        assert (await store.find(DORA_WORK)).pending == (("dora@home.org", "login"),)


class TestMemoryIdentityStore(IdentityStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[IdentityStore]:
        memory = MemoryIdentityStore(TTL_S)
        yield memory
        await memory.aclose()

    @pytest.fixture
    async def short_lived(self) -> AsyncIterator[IdentityStore]:
        yield MemoryIdentityStore(SHORT_TTL_S)


@pytest.mark.redis
class TestRedisIdentityStore(IdentityStoreContract):
    @pytest.fixture
    async def client(self) -> AsyncIterator[Redis]:
        client = Redis.from_url(REDIS_TEST_URL)
        yield client
        await client.aclose()

    @pytest.fixture
    def prefix(self) -> str:
        return f"test:identity:{uuid.uuid4().hex[:8]}:"

    @pytest.fixture
    async def redis_store(self, client: Redis, prefix: str) -> AsyncIterator[Callable[[int], IdentityStore]]:
        yield lambda ttl_s: RedisIdentityStore(client, ttl_s, prefix=prefix)
        keys = [key async for key in client.scan_iter(f"{prefix}*")]
        if keys:
            await client.delete(*keys)

    @pytest.fixture
    def store(self, redis_store: Callable[[int], IdentityStore]) -> IdentityStore:
        return redis_store(TTL_S)

    @pytest.fixture
    def short_lived(self, redis_store: Callable[[int], IdentityStore]) -> IdentityStore:
        return redis_store(SHORT_TTL_S)

    async def test_links_survive_a_restart_and_are_shared(self, prefix: str, store: IdentityStore) -> None:
        await store.link(DORA, DORA_LOGIN, "login")
        other = Redis.from_url(REDIS_TEST_URL)  # another instance of the group, or the process restarted
        try:
            again = RedisIdentityStore(other, TTL_S, prefix=prefix)
            assert await canonical(again, DORA) == "dora"
            assert (await again.link(DORA_WORK, DORA, "login")).canonical == "dora"
        finally:
            await other.aclose()
        assert await canonical(store, DORA_WORK) == "dora"

    async def test_two_instances_linking_at_once_make_one_set(
        self, prefix: str, store: IdentityStore
    ) -> None:
        other = Redis.from_url(REDIS_TEST_URL)
        try:
            again = RedisIdentityStore(other, TTL_S, prefix=prefix)
            addresses = [f"email:dora{i}@example.com" for i in range(10)]
            pairs = list(itertools.pairwise(addresses))
            await asyncio.gather(*(s.link(a, b, "login") for a, b in pairs for s in (store, again)))
            await asyncio.gather(
                store.link(addresses[0], DORA_LOGIN, "login"), again.link(addresses[-1], DORA_LOGIN, "login")
            )
            assert {await canonical(s, a) for a in addresses for s in (store, again)} == {"dora"}
        finally:
            await other.aclose()

    async def test_two_instances_hammering_one_person_give_up_on_nothing(
        self, prefix: str, store: IdentityStore
    ) -> None:
        other = Redis.from_url(REDIS_TEST_URL)
        try:
            await hammered([store, RedisIdentityStore(other, TTL_S, prefix=prefix)], HAMMER_CALLS)
        finally:
            await other.aclose()

    @pytest.mark.slow
    async def test_a_set_larger_than_a_scripts_stack_joins_whole(self, store: IdentityStore) -> None:
        """The scripts write a set's members in parts (Lua unpacks at most about 8,000 values at
        once)."""
        many = [f"email:bot{i}@example.com" for i in range(LARGE_SET)]
        step = 1
        while step < LARGE_SET:  # sets of 2, then 4, …: each member's pointer rewritten a few times only
            await asyncio.gather(
                *(store.link(many[i], many[i + step], "alias") for i in range(0, LARGE_SET - step, 2 * step))
            )
            step *= 2
        built = await store.find(many[-1])  # a merge pending from each join of two sets (not of two keys)
        assert len(built.pending) == LARGE_SET // 2 - 1
        await store.settle(built.root, [name for name, _ in built.pending])
        joined = await store.link(many[-1], DORA_LOGIN, "login")
        assert (joined.canonical, len(joined.members)) == ("dora", LARGE_SET + 1)
        assert joined.pending == (("bot0@example.com", "login"),)
        await store.settle(joined.root, ["bot0@example.com"])
        assert (await store.find(many[LARGE_SET // 2])).pending == ()

    async def test_every_key_expires_with_the_ttl(
        self, client: Redis, prefix: str, store: IdentityStore
    ) -> None:
        await store.link(DORA, DORA_LOGIN, "login")
        await canonical(store, DORA_WORK)
        found = [key async for key in client.scan_iter(f"{prefix}*")]
        assert len(found) == 5  # three pointers, two sets
        for key in found:
            assert 0 < await client.ttl(key) <= TTL_S


async def test_a_redis_outage_is_state_unavailable() -> None:
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    store = RedisIdentityStore(dead, TTL_S)
    try:
        for attempt in (store.find(DORA), store.link(DORA, DORA_LOGIN, "login")):
            with pytest.raises(StateUnavailable):
                await attempt
    finally:
        await dead.aclose()
