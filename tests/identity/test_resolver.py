"""The resolver: canonical subjects from memory on the fast path, the store on the slow one, merges."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from consumers.activity.identity import Pseudonyms
from consumers.config import RoutingConfig
from consumers.identity.config import IdentityConfig
from consumers.identity.resolver import IdentityResolver, Merge
from consumers.identity.store.base import Joined
from consumers.identity.store.memory import MemoryIdentityStore
from consumers.identity.store.redis import RedisIdentityStore
from consumers.routing import route_code_change
from schemas.events import CodeChangeEvent, FileChange, GitIdentity, parse_activity
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.conftest import REDIS_TEST_URL, free_port
from tests.corpora import WEBHOOKS

AT = datetime(2024, 1, 1, tzinfo=UTC)
NOREPLY = "21031067+codertocat@users.noreply.github.com"


class Counted:
    """The memory store, with its calls counted."""

    def __init__(self) -> None:
        self.store = MemoryIdentityStore(3600)
        self.calls = 0

    async def find(self, key: str) -> Joined:
        self.calls += 1
        return await self.store.find(key)

    async def link(self, a: str, b: str, via: str) -> Joined:
        self.calls += 1
        return await self.store.link(a, b, via)

    async def settle(self, root: str, merged: Iterable[str]) -> None:
        self.calls += 1
        await self.store.settle(root, merged)

    async def aclose(self) -> None:
        await self.store.aclose()


def commit(email: str, login: str | None = None, observed: str | None = None, n: int = 0) -> CodeChangeEvent:
    author = GitIdentity(name="Coder Cat", email=email, login=login, observed_email=observed)
    patch = f"@@ -1 +1 @@\n-x = {n}\n+x = {n + 1}\n"
    files = (FileChange(path="src/app.py", additions=1, deletions=1, patch=patch),)
    return CodeChangeEvent(repository="octo/app", sha=f"{n:040x}", author=author, authored_at=AT, files=files)


def routed(event: CodeChangeEvent) -> list[AnalysisRequest]:
    return list(route_code_change(event, RoutingConfig()).requests)


async def test_a_known_person_resolves_from_memory_without_asking_the_store() -> None:
    store = Counted()
    resolver = IdentityResolver(store)
    first = commit("cat@example.com", login="codertocat")
    assert resolver.settled(first, routed(first)) is None  # nothing known yet: the store is asked
    requests, merges = await resolver.resolve(first, routed(first))
    assert {r.subject for r in requests} == {"codertocat"} and merges == []
    asked = store.calls
    later = commit("cat@example.com", n=1)  # the same address, no login this time
    settled = resolver.settled(later, routed(later))
    assert settled is not None and store.calls == asked
    assert [(r.subject, r.observed_as) for r in settled] == [("codertocat", "cat@example.com")] * 3


async def test_a_noreply_address_is_its_login() -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    event = commit(NOREPLY.upper())
    requests, _ = await resolver.resolve(event, routed(event))
    assert {(r.subject, r.observed_as) for r in requests} == {("codertocat", NOREPLY.upper())}


async def test_results_carry_the_address_written_in_a_mailmapped_commit() -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    event = commit("cat@example.com", observed="cat@old-laptop.(none)")
    requests, merges = await resolver.resolve(event, routed(event))
    assert {(r.subject, r.observed_as) for r in requests} == {("cat@example.com", "cat@old-laptop.(none)")}
    assert merges == []  # neither address had results yet


async def test_a_later_link_merges_and_moves_the_fast_path_at_once() -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    before = commit(NOREPLY)
    old = commit("cat@example.com", n=1)
    await resolver.resolve(old, routed(old))  # results published under cat@example.com
    assert {r.subject for r in resolver.settled(old, routed(old)) or []} == {"cat@example.com"}
    await resolver.resolve(before, routed(before))
    push = parse_activity((WEBHOOKS / "push" / "with-new-branch.payload.json").read_bytes(), "push", "d-1")
    merged = commit("cat@example.com", login="codertocat", n=2)  # an API commit: login and address
    _, merges = await resolver.resolve(push, [])
    assert merges == []  # the push names the noreply address with its own login: nothing new
    _, merges = await resolver.resolve(merged, routed(merged))
    assert merges == [Merge("codertocat", ("cat@example.com",), "login", "login:codertocat")]
    again = resolver.settled(old, routed(old))
    assert again is not None and {(r.subject, r.observed_as) for r in again} == {
        ("codertocat", "cat@example.com")
    }


async def test_a_merge_not_settled_is_reported_again_by_the_next_record_after_a_restart() -> None:
    """The link and its pending merge are written together: a process that dies before the merge
    was published and joined leaves it for the next one, whichever record reaches that set."""
    store = MemoryIdentityStore(3600)
    dying = IdentityResolver(store)
    old, linked = commit("cat@example.com"), commit("cat@example.com", login="codertocat", n=1)
    await dying.resolve(old, routed(old))
    _, merges = await dying.resolve(linked, routed(linked))
    assert merges == [Merge("codertocat", ("cat@example.com",), "login", "login:codertocat")]
    restarted = IdentityResolver(store)  # the merge never settled: nothing published, no state joined
    later = commit("cat@example.com", n=2)  # names only the address
    requests, again = await restarted.resolve(later, routed(later))
    assert again == merges and {r.subject for r in requests} == {"codertocat"}
    await restarted.settle(again)  # published and joined this time
    _, none = await IdentityResolver(store).resolve(later, routed(later))
    assert none == []


async def test_a_merge_is_reported_once_while_the_cache_holds_its_set() -> None:
    store = Counted()
    resolver = IdentityResolver(store)
    old, linked = commit("cat@example.com"), commit("cat@example.com", login="codertocat", n=1)
    await resolver.resolve(old, routed(old))
    _, merges = await resolver.resolve(linked, routed(linked))
    assert len(merges) == 1
    later = commit("cat@example.com", login="codertocat", n=2)
    assert resolver.settled(later, routed(later)) is not None  # known: no store, no report
    _, again = await resolver.resolve(later, routed(later))
    assert again == []  # records of that set while the merge is being settled repeat nothing


async def test_settling_in_an_outage_leaves_the_merge_pending_and_is_counted() -> None:
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    errors: list[int] = []
    resolver = IdentityResolver(RedisIdentityStore(dead, 60), on_error=lambda: errors.append(1))
    try:
        await resolver.settle([Merge("codertocat", ("cat@example.com",), "login", "login:codertocat")])
    finally:
        await dead.aclose()
    assert errors == [1]


async def test_repository_subjects_are_left_alone() -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    team = AnalysisRequest(analysis_type=AnalysisType.TEAM_HEALTH, content="{}", subject="octo/app")
    assert resolver.settled(None, [team]) == [team]
    assert await resolver.resolve(None, [team]) == ([team], [])


async def test_a_request_from_another_service_is_resolved_by_its_subject() -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    learning = AnalysisRequest(analysis_type=AnalysisType.LEARNING_PATH, content="{}", subject=NOREPLY)
    assert resolver.settled(None, [learning]) is None
    [resolved], _ = await resolver.resolve(None, [learning])
    assert (resolved.subject, resolved.observed_as) == ("codertocat", NOREPLY)
    assert resolver.settled(None, [learning]) == [resolved]


async def test_with_pseudonyms_the_store_holds_hashes_and_subjects_are_pseudonyms() -> None:
    key = "k" * 32
    store = MemoryIdentityStore(3600)
    resolver = IdentityResolver(store, pseudonyms=Pseudonyms(key))
    event = commit("cat@example.com", login="codertocat")
    requests, _ = await resolver.resolve(event, routed(event))
    pseudonym = Pseudonyms(key).of("codertocat")
    assert {(r.subject, r.observed_as) for r in requests} == {(pseudonym, pseudonym)}
    assert set(store._root) == {f"login:{pseudonym}", f"email:{Pseudonyms(key).of('cat@example.com')}"}


async def test_same_names_join_only_when_asked() -> None:
    events = [commit("cat@home.org", n=0), commit("cat@work.com", n=1)]
    for match_by_name, expected in ((False, 2), (True, 1)):
        resolver = IdentityResolver(MemoryIdentityStore(3600), IdentityConfig(match_by_name=match_by_name))
        subjects = {r.subject for e in events for r in (await resolver.resolve(e, routed(e)))[0]}
        assert len(subjects) == expected


async def test_an_outage_falls_back_to_memory_and_the_noreply_rule_and_is_counted() -> None:
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    errors: list[int] = []
    resolver = IdentityResolver(RedisIdentityStore(dead, 60), on_error=lambda: errors.append(1))
    try:
        event = commit(NOREPLY)
        requests, merges = await resolver.resolve(event, routed(event))
    finally:
        await dead.aclose()
    assert {r.subject for r in requests} == {"codertocat"} and merges == [] and errors == [1]


@pytest.mark.redis
async def test_two_instances_resolving_one_person_at_once_skip_no_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """100 commits of one person, each naming the login with another address, resolved at once by
    two instances sharing Redis: every record is resolved by the store, none skipped."""
    prefix = f"test:identity:{uuid.uuid4().hex[:8]}:"
    clients = [Redis.from_url(REDIS_TEST_URL) for _ in range(2)]
    errors: list[int] = []
    resolvers = [
        IdentityResolver(RedisIdentityStore(client, 60, prefix=prefix), on_error=lambda: errors.append(1))
        for client in clients
    ]
    events = [commit(f"cat{i}@example.com", login="codertocat", n=i) for i in range(100)]
    try:
        resolved = await asyncio.gather(
            *(resolvers[i % 2].resolve(event, routed(event)) for i, event in enumerate(events))
        )
    finally:
        found = [key async for key in clients[0].scan_iter(f"{prefix}*")]
        if found:
            await clients[0].delete(*found)
        for client in clients:
            await client.aclose()
    assert errors == [] and "skipped" not in caplog.text
    assert {r.subject for requests, _ in resolved for r in requests} == {"codertocat"}


@pytest.mark.parametrize("subject", ["", "dev_0123456789abcdef0123"])
async def test_no_subject_and_pseudonyms_stay_as_they_are(subject: str) -> None:
    resolver = IdentityResolver(MemoryIdentityStore(3600))
    request = AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="x", subject=subject)
    assert resolver.settled(None, [request]) == [request]
