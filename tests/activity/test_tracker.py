"""The activity state on scripted histories: features, triggers, idempotence, intervals, pseudonyms."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from consumers.activity import features
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms, Scrubber
from consumers.activity.store.base import Change, Doc, StateStore
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.store.redis import RedisStateStore
from consumers.activity.tracker import PREDICTIVE, ActivityTracker, NoActivity
from consumers.identity.resolver import IdentityResolver, Merge
from consumers.identity.store.memory import MemoryIdentityStore
from schemas.events import ActivityEvent, CodeChangeEvent, parse_activity, parse_code_change
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.activity.history import START, by_time, commit, declining, steady
from tests.conftest import REDIS_TEST_URL, free_port

RISKS = {"attrition_risk", "burnout_risk", "performance_trajectory"}
CONFIG = ActivityConfig()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[StateStore]:
    """Every scenario against both stores: process memory, and a real Redis."""
    if request.param == "memory":
        yield MemoryStateStore(CONFIG.state_ttl_s)
        return
    client, prefix = Redis.from_url(REDIS_TEST_URL), f"test:tracker:{uuid.uuid4().hex[:8]}:"
    yield RedisStateStore(client, CONFIG.state_ttl_s, prefix=prefix)
    names = [name async for name in client.scan_iter(f"{prefix}*")]
    if names:
        await client.delete(*names)
    await client.aclose()


async def documents(store: StateStore) -> list[str]:
    """The keys of the documents a store holds (markers left out)."""
    if isinstance(store, MemoryStateStore):
        return list(store._docs)
    assert isinstance(store, RedisStateStore)
    pattern = f"{store._prefix}doc:*"
    return [name.decode().split(":doc:", 1)[1] async for name in store._client.scan_iter(pattern)]


def tracker(store: StateStore, key: str = "", **kw: Any) -> ActivityTracker:
    return ActivityTracker(store, kw.pop("config", CONFIG), Pseudonyms(key), **kw)


async def feed(t: ActivityTracker, events: list[bytes], settle: bool = True) -> list[AnalysisRequest]:
    """As the record handler does: each event's requests, settled once published (unless not)."""
    triggered: list[AnalysisRequest] = []
    for value in events:
        made = await t.on_event(parse_code_change(value), [], "backfill")
        if settle:
            await t.settled(made)
        triggered += made
    return triggered


def of(requests: list[AnalysisRequest], subject: str) -> list[str]:
    return [r.analysis_type.value for r in requests if r.subject == subject]


async def test_a_declining_developer_fires_the_risks_and_a_steady_one_does_not(store: StateStore) -> None:
    t = tracker(store)
    triggered = await feed(t, by_time(declining("dora"), steady("stan")))

    assert set(of(triggered, "dora")) == RISKS
    assert of(triggered, "stan") == []
    assert all(r.priority == "backfill" for r in triggered)
    dora = next(r for r in triggered if r.subject == "dora")
    assert "dora@example.com" not in dora.content and "@@" not in dora.content  # features, not code
    assert any("commits/week" in reason for reason in dora.context["trigger"])


async def test_the_features_of_the_scripted_history(store: StateStore) -> None:
    t = tracker(store)
    await feed(t, by_time(declining("dora"), steady("stan")))
    dora = features.developer_features(await store.load("dev:dora") or {}, CONFIG)
    stan = features.developer_features(await store.load("dev:stan") or {}, CONFIG)

    assert (dora["commits_per_week_current"], dora["commits_per_week_previous"]) == (3.0, 10.0)
    assert dora["weekend_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert dora["weekend_share_previous"] == 0.0
    assert dora["after_hours_share"] == 0.0  # 11:00 local time
    assert stan["commits_per_week_current"] == stan["commits_per_week_previous"] == 10.0
    assert stan["weekend_share"] == 0.0
    assert stan["longest_streak_days"] == 5  # weekdays only: Monday to Friday
    assert stan["collaboration_breadth"] is None  # commits alone cannot show it: unknown, not 1
    assert "collaboration_breadth" in stan["unobserved"]


async def test_replaying_the_same_events_counts_nothing_twice(store: StateStore) -> None:
    t = tracker(store)
    history = by_time(declining("dora"))
    first = await feed(t, history)
    doc = await store.load("dev:dora")
    again = await feed(t, history)
    assert again == []
    assert await store.load("dev:dora") == doc
    assert first


async def test_exactly_one_team_health_per_interval_over_a_year_in_event_time(store: StateStore) -> None:
    t = tracker(store)
    days = 365
    events = [
        commit("yuki", START + timedelta(days=d, hours=h), n=d * 10 + h) for d in range(days) for h in (9, 15)
    ]
    triggered = await feed(t, events)
    team = [r for r in triggered if r.analysis_type == AnalysisType.TEAM_HEALTH]
    intervals = [r.context["interval"] for r in team]
    assert len(team) == days and len(set(intervals)) == days  # one per 24 h of event time
    for kind in RISKS:
        per = [r.context["interval"] for r in triggered if r.analysis_type.value == kind]
        assert len(per) == len(set(per))  # never twice in one interval


async def test_an_interval_of_a_week_asks_weekly(store: StateStore) -> None:
    t = tracker(store, config=ActivityConfig(interval_s=7 * 86400))
    times = [START + timedelta(days=d, hours=10) for d in range(70)]
    team = [
        r
        for r in await feed(t, [commit("yuki", at, n=i) for i, at in enumerate(times)])
        if r.analysis_type == AnalysisType.TEAM_HEALTH
    ]
    weeks = {int(at.timestamp() // (7 * 86400)) for at in times}  # intervals count from the epoch
    assert len(team) == len(weeks) == 11


async def test_pseudonyms_replace_every_identity_in_requests(store: StateStore) -> None:
    linked = MemoryIdentityStore(CONFIG.state_ttl_s)
    resolver = IdentityResolver(linked, pseudonyms=Pseudonyms("k" * 32))
    t = tracker(store, key="k" * 32, identities=resolver)
    event = parse_code_change(commit("dora", START))
    routed = [
        AnalysisRequest(
            analysis_type=AnalysisType.SKILL_EXTRACTION,
            content="Reviewed by Dora <dora@example.com>, thanks dora!",
            context={"author": "dora", "people": ["dora@example.com"]},
            subject="dora",
        )
    ]
    resolved, _ = await resolver.resolve(event, routed)  # the record handler's step: links learned
    [scrubbed, *triggered] = await t.on_event(event, resolved, "live")
    text = scrubbed.model_dump_json()
    assert "dora" not in text.lower()
    pseudonym = Pseudonyms("k" * 32).of("dora")
    assert scrubbed.subject == pseudonym and pseudonym in scrubbed.content
    assert all("dora" not in r.model_dump_json().lower() for r in triggered)
    assert await store.load(f"dev:{pseudonym}") is not None  # the state is keyed by pseudonym
    assert await store.load("dev:dora") is None
    keys = [*await documents(store), *linked._root]
    assert f"email:{Pseudonyms('k' * 32).of('dora@example.com')}" in keys  # the identity store's too
    assert not any("dora" in k or "example.com" in k for k in keys)


async def test_an_email_only_commit_joins_its_login_once_seen_together(store: StateStore) -> None:
    t = tracker(store)
    await feed(t, [commit("dora", START)])  # author with login and email: alias learned
    anonymous = parse_code_change(commit("dora", START + timedelta(hours=1), n=1))
    anonymous = anonymous.model_copy(update={"author": anonymous.author.model_copy(update={"login": None})})
    await t.on_event(anonymous, [], "live")
    doc = await store.load("dev:dora")
    assert doc is not None and sum(day.get("commit", 0) for day in doc["days"].values()) == 2
    assert await store.load("dev:dora@example.com") is None


async def test_a_link_that_arrives_later_joins_both_developers_state(store: StateStore) -> None:
    t = tracker(store)
    unlinked = []
    for n, at in enumerate((START, START + timedelta(days=1))):
        event = parse_code_change(commit("dora", at, n=n))
        unlinked.append(event.model_copy(update={"author": event.author.model_copy(update={"login": None})}))
    for event in unlinked:
        await t.on_event(event, [], "live")
    await feed(t, [commit("dora", START + timedelta(days=2), n=2)])  # login and address together
    doc, old = await store.load("dev:dora"), await store.load("dev:dora@example.com")
    assert doc is not None and sum(day.get("commit", 0) for day in doc["days"].values()) == 3
    assert doc["first"] == START.isoformat()
    assert old == {"merged_into": "dora"}
    team = await store.load("repo:octo/app")
    assert team is not None and features.commits_per_developer(team) == {"dora": 3}


def without_login(value: bytes) -> CodeChangeEvent:
    """A commit as git writes it: the author's address, no login."""
    event = parse_code_change(value)
    return event.model_copy(update={"author": event.author.model_copy(update={"login": None})})


async def commits_of(store: StateStore, dev: str) -> int:
    doc = await store.load(f"dev:{dev}") or {}
    return sum(day.get("commit", 0) for day in doc.get("days", {}).values())


async def test_counts_a_stale_instance_writes_to_a_merged_developer_reach_the_person(
    store: StateStore,
) -> None:
    t = tracker(store)
    await t.on_event(without_login(commit("dora", START)), [], "live")
    await feed(t, [commit("dora", START + timedelta(days=1), n=1)])  # the link: merged
    stale = tracker(store)  # another instance whose cache does not know the link yet
    await stale.on_event(without_login(commit("dora", START + timedelta(days=2), n=2)), [], "live")
    assert await commits_of(store, "dora") == 3
    assert await store.load("dev:dora@example.com") == {"merged_into": "dora"}
    team = await store.load("repo:octo/app")
    assert team is not None and features.commits_per_developer(team) == {"dora": 3}


class Interleaved:
    """A state store that lets another writer in once, right after the first read or change of
    `key` (as a process switch between two awaits would)."""

    def __init__(self, inner: StateStore) -> None:
        self._inner = inner
        self._armed: tuple[str, Callable[[], Awaitable[object]]] | None = None

    def arm(self, key: str, between: Callable[[], Awaitable[object]]) -> None:
        self._armed = (key, between)

    async def _touched(self, key: str) -> None:
        if self._armed is not None and self._armed[0] == key:
            between, self._armed = self._armed[1], None
            await between()

    async def first(self, marker: str) -> bool:
        return await self._inner.first(marker)

    async def seen(self, marker: str) -> bool:
        return await self._inner.seen(marker)

    async def seen_among(self, markers: Sequence[str]) -> frozenset[str]:
        return await self._inner.seen_among(markers)

    async def load(self, key: str) -> Doc | None:
        doc = await self._inner.load(key)
        await self._touched(key)
        return doc

    async def change(self, key: str, update: Change) -> Doc:
        doc = await self._inner.change(key, update)
        await self._touched(key)
        return doc

    async def change_once(self, key: str, update: Change, marker: str) -> tuple[Doc, bool]:
        return await self._inner.change_once(key, update, marker)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Recorded(Interleaved):
    """A state store whose document changes are recorded, by key."""

    def __init__(self, inner: StateStore) -> None:
        super().__init__(inner)
        self.changed: list[str] = []

    async def change_once(self, key: str, update: Change, marker: str) -> tuple[Doc, bool]:
        self.changed.append(key)
        return await super().change_once(key, update, marker)


async def test_a_replayed_event_whose_team_health_was_asked_leaves_the_repository_alone(
    store: StateStore,
) -> None:
    """Its marker and the interval's team_health marker, read together, say it is done: the
    repository's document is neither changed nor read (nor its features computed)."""
    history = by_time(declining("dora"))
    first = await feed(tracker(store), history)
    recorded = Recorded(store)
    assert await feed(tracker(recorded), history) == [] and first
    assert recorded.changed and not [key for key in recorded.changed if key.startswith("repo:")]


async def test_a_count_written_while_a_merge_folds_the_document_is_not_lost(store: StateStore) -> None:
    interleaved = Interleaved(store)
    t = tracker(interleaved)
    await t.on_event(without_login(commit("dora", START)), [], "live")
    stale = tracker(store)
    late = without_login(commit("dora", START + timedelta(days=2), n=2))
    interleaved.arm("dev:dora@example.com", lambda: stale.on_event(late, [], "live"))
    await feed(t, [commit("dora", START + timedelta(days=1), n=1)])  # the merge, with the late write in it
    assert await commits_of(store, "dora") == 3
    assert await store.load("dev:dora@example.com") == {"merged_into": "dora"}


async def test_a_merge_the_state_store_could_not_join_says_so(store: StateStore) -> None:
    dead = Redis.from_url(
        f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.2, socket_timeout=0.2
    )
    errors: list[int] = []
    t = tracker(RedisStateStore(dead, CONFIG.state_ttl_s), on_error=lambda: errors.append(1))
    try:
        joined = await t.merged(Merge("dora", ("dora@example.com",), "login", "login:dora"))
    finally:
        await dead.aclose()
    assert joined is False and errors == [1]  # the merge stays pending, to be joined again
    assert await tracker(store).merged(Merge("dora", ("dora@example.com",), "login", "login:dora")) is True


def review(
    reviewer: str, author: str, at: str, repository: str = "alice/app", body: str = ""
) -> ActivityEvent:
    payload = {
        "action": "submitted",
        "review": {"id": 1, "user": {"login": reviewer}, "submitted_at": at, "body": body},
        "pull_request": {"number": 1, "user": {"login": author}, "created_at": "2026-06-02T10:00:00Z"},
        "repository": {"full_name": repository, "owner": {"login": repository.partition("/")[0]}},
        "sender": {"login": reviewer},
    }
    return parse_activity(orjson.dumps(payload), "pull_request_review", f"delivery-{reviewer}-{at}")


async def test_a_crash_before_settling_asks_again_with_the_same_ids_and_after_it_not(
    store: StateStore,
) -> None:
    t = tracker(store)
    history = by_time(declining("dora"))
    unsettled = await feed(t, history[:3], settle=False)  # published, then killed before the ack
    restarted = tracker(store)  # same store, pending work lost
    again = await feed(restarted, history[:3])
    assert unsettled and [r.request_id for r in again] == [r.request_id for r in unsettled]
    assert await feed(restarted, history[:3]) == []  # settled: a replay asks nothing
    doc = await store.load("dev:dora")
    assert doc is not None and sum(day.get("commit", 0) for day in doc["days"].values()) == 3


async def test_one_event_asks_each_periodic_request_once_while_it_waits_to_be_settled(
    store: StateStore,
) -> None:
    t = tracker(store)
    first = await feed(t, [commit("yuki", START + timedelta(hours=10))], settle=False)
    second = await feed(t, [commit("yuki", START + timedelta(hours=11), n=1)], settle=False)
    assert [r.analysis_type for r in first] == [AnalysisType.TEAM_HEALTH] and second == []


async def test_a_backfill_running_beside_live_events_builds_its_own_history(store: StateStore) -> None:
    t = tracker(store)
    await feed(t, [commit("yuki", START + timedelta(days=500))])  # live, far ahead of the backfill
    year = [commit("yuki", START + timedelta(days=d, hours=10), n=d) for d in range(0, 300, 3)]
    team = [r for r in await feed(t, year) if r.analysis_type == AnalysisType.TEAM_HEALTH]
    assert len(team) == 100  # one per backfilled day: each counted and judged in its own time
    doc = await store.load("dev:yuki")
    assert doc is not None and sum(day.get("commit", 0) for day in doc["days"].values()) > 60


async def test_after_hours_and_weekends_are_judged_on_commits_in_their_own_offset(store: StateStore) -> None:
    t = tracker(store)
    late_utc = "2026-06-06T23:30:00Z"  # a Saturday night in UTC: a review's time says nothing local
    await t.on_event(review("rita", "dora", late_utc, repository="octo/app"), [], "live")
    at_home = START + timedelta(hours=20)  # Monday 20:00 in Berlin, 19:00 UTC
    await t.on_event(parse_code_change(commit("rita", at_home)), [], "live")
    found = features.developer_features(await store.load("dev:rita") or {}, CONFIG)
    assert (found["after_hours_share"], found["weekend_share"]) == (1.0, 0.0)
    assert found["reviews_per_week_current"] == 0.25


async def test_a_reviewer_widens_the_authors_collaboration_too(store: StateStore) -> None:
    t = tracker(store)
    await t.on_event(review("rita", "dora", "2026-06-03T10:00:00Z"), [], "live")
    await t.on_event(review("rita", "dora", "2026-06-03T10:00:00Z"), [], "live")  # redelivered
    dora = await store.load("dev:dora")
    rita = features.developer_features(await store.load("dev:rita") or {}, CONFIG)
    assert dora is not None and dora["peers"] == {"2026-06-03": ["rita"]}
    assert rita["collaboration_breadth"] == 2  # dora and the repository


async def test_predictive_analyses_off_drops_them_wherever_they_come_from(store: StateStore) -> None:
    asked = [
        AnalysisRequest(analysis_type=kind, content="{}", subject="dora")
        for kind in (AnalysisType.LEARNING_PATH, AnalysisType.BURNOUT_RISK, AnalysisType.SKILL_EXTRACTION)
    ]
    off = tracker(store, key="k" * 32, predictive=False)
    for activity in (NoActivity(drop=PREDICTIVE), off):
        kept = await activity.on_event(None, asked, "live")
        assert [r.analysis_type for r in kept] == [AnalysisType.SKILL_EXTRACTION]
    made = await off.on_event(parse_code_change(commit("dora", START)), [], "live")
    assert made == []
    assert [k for k in await documents(store) if k.startswith(("dev:", "repo:"))] == []
    assert [r.analysis_type for r in await NoActivity().on_event(None, asked, "live")] == [
        r.analysis_type for r in asked
    ]


async def test_pseudonyms_cover_owners_mentions_emails_and_requests_from_elsewhere(store: StateStore) -> None:
    key = "k" * 32
    t, p = tracker(store, key=key), Pseudonyms(key)
    body = "LGTM @carol, and ping carol@corp.example or bob <bob@example.com>"
    event = review("rita", "dora", "2026-06-03T10:00:00Z", body=body)
    routed = [AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content=body, subject="rita",
                              context={"repository": "alice/app", "author": "rita"})]  # fmt: skip
    [scrubbed, *triggered] = await t.on_event(event, routed, "live")
    texts = [r.model_dump_json().lower() for r in (scrubbed, *triggered)]
    for raw in ("rita", "dora", "carol", "bob@example.com", "alice/"):
        assert not any(raw in text for text in texts), raw
    assert scrubbed.context["repository"] == f"{p.of('alice')}/app"
    assert f"@{p.of('carol')}" in scrubbed.content and p.of("carol@corp.example") in scrubbed.content
    team = [r for r in triggered if r.analysis_type == AnalysisType.TEAM_HEALTH]
    assert [r.subject for r in team] == [f"{p.of('alice')}/app"]  # one team, whoever names it
    other = AnalysisRequest(analysis_type=AnalysisType.LEARNING_PATH, content="for @dora", subject="dora")
    [theirs] = await t.on_event(None, [other], "live")
    assert (theirs.subject, theirs.content) == (p.of("dora"), f"for @{p.of('dora')}")
    assert (await t.on_event(None, [theirs], "live"))[0] == theirs  # scrubbing twice changes nothing
    assert not any("alice" in k or "rita" in k or "dora" in k for k in await documents(store))


async def test_a_request_settled_long_after_it_was_made_is_still_marked_asked(store: StateStore) -> None:
    t = tracker(store)
    made = await feed(t, [commit("yuki", START + timedelta(hours=10))], settle=False)
    later = tracker(store)  # what the first process remembered is gone (a batch took a day)
    await later.settled(made)
    assert made and await feed(later, [commit("yuki", START + timedelta(hours=11), n=1)]) == []


async def test_two_records_at_once_ask_a_periodic_request_once(store: StateStore) -> None:
    t = tracker(store)
    events = [parse_code_change(commit("yuki", START + timedelta(hours=10 + i), n=i)) for i in range(2)]
    made = await asyncio.gather(*(t.on_event(e, [], "live") for e in events))
    team = [r for requests in made for r in requests if r.analysis_type == AnalysisType.TEAM_HEALTH]
    assert len(team) == 1


async def test_a_document_written_by_hand_does_not_stop_the_updates(store: StateStore) -> None:
    t = tracker(store)
    await store.change("dev:yuki", lambda _d: {"latest": "yesterday", "first": 7, "days": {}})
    await feed(t, [commit("yuki", START + timedelta(hours=10))])
    doc = await store.load("dev:yuki")
    assert doc is not None and doc["latest"] == (START + timedelta(hours=10)).isoformat()


def test_pseudonyms_are_recognized_by_their_whole_shape() -> None:
    p = Pseudonyms("k" * 32)
    assert p.of("dev_ops@corp.example") != "dev_ops@corp.example"
    assert p.of(p.of("dora")) == p.of("dora")


async def test_code_keeps_its_decorators_and_short_logins_replace_only_whole_values(
    store: StateStore,
) -> None:
    p = Pseudonyms("k" * 32)
    t = tracker(store, key="k" * 32)
    event = parse_code_change(commit("al", START))
    code = "+@dataclass\n+class A:  # thanks @carol, see a@corp.example\n+    al = 1\n"
    prose = "Thanks @carol"
    routed = [
        AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content=code, subject="al"),
        AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content=prose, subject="al"),
    ]
    quality, soft = (await t.on_event(event, routed, "live"))[:2]
    assert "@dataclass" in quality.content and "al = 1" in quality.content
    assert "a@corp.example" not in quality.content and quality.subject == p.of("al")
    assert soft.content == f"Thanks @{p.of('carol')}"


def test_a_users_pages_host_is_scrubbed_and_a_dotted_name_is_not() -> None:
    p = Pseudonyms("k" * 32)
    scrub = Scrubber({"dora": p.of("dora")}, p)
    assert scrub.text("see https://dora.github.io/blog and app.dora.py") == (
        f"see https://{p.of('dora')}.github.io/blog and app.dora.py"
    )
