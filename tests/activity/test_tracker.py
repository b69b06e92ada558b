"""The activity state on scripted histories: features, triggers, idempotence, intervals, pseudonyms."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consumers.activity import features
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.tracker import ActivityTracker
from schemas.events import parse_code_change
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.activity.history import START, by_time, commit, declining, steady

RISKS = {"attrition_risk", "burnout_risk", "performance_trajectory"}
CONFIG = ActivityConfig()


def tracker(**kw: object) -> ActivityTracker:
    return ActivityTracker(MemoryStateStore(CONFIG.state_ttl_s), CONFIG, Pseudonyms(str(kw.get("key", ""))))


async def feed(t: ActivityTracker, events: list[bytes]) -> list[AnalysisRequest]:
    triggered: list[AnalysisRequest] = []
    for value in events:
        triggered += await t.on_event(parse_code_change(value), [], "backfill")
    return triggered


def of(requests: list[AnalysisRequest], subject: str) -> list[str]:
    return [r.analysis_type.value for r in requests if r.subject == subject]


async def test_a_declining_developer_fires_the_risks_and_a_steady_one_does_not() -> None:
    t = tracker()
    triggered = await feed(t, by_time(declining("dora"), steady("stan")))

    assert set(of(triggered, "dora")) == RISKS
    assert of(triggered, "stan") == []
    assert all(r.priority == "backfill" for r in triggered)
    dora = next(r for r in triggered if r.subject == "dora")
    assert "dora@example.com" not in dora.content and "@@" not in dora.content  # features, not code
    assert any("commits/week" in reason for reason in dora.context["trigger"])


async def test_the_features_of_the_scripted_history() -> None:
    t = tracker()
    await feed(t, by_time(declining("dora"), steady("stan")))
    store = t._store
    dora = features.developer_features(await store.load("dev:dora") or {}, CONFIG)
    stan = features.developer_features(await store.load("dev:stan") or {}, CONFIG)

    assert (dora["commits_per_week_current"], dora["commits_per_week_previous"]) == (3.0, 10.0)
    assert dora["weekend_share"] == pytest.approx(2 / 3, abs=1e-3)
    assert dora["weekend_share_previous"] == 0.0
    assert dora["after_hours_share"] == 0.0  # 11:00 local time
    assert stan["commits_per_week_current"] == stan["commits_per_week_previous"] == 10.0
    assert stan["weekend_share"] == 0.0
    assert stan["longest_streak_days"] == 5  # weekdays only: Monday to Friday
    assert stan["collaboration_breadth"] == 1  # one repository, no co-authors


async def test_replaying_the_same_events_counts_nothing_twice() -> None:
    t = tracker()
    history = by_time(declining("dora"))
    first = await feed(t, history)
    doc = await t._store.load("dev:dora")
    again = await feed(t, history)
    assert again == []
    assert await t._store.load("dev:dora") == doc
    assert first


async def test_exactly_one_team_health_per_interval_over_a_year_in_event_time() -> None:
    t = tracker()
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


async def test_an_interval_of_a_week_asks_weekly() -> None:
    t = ActivityTracker(MemoryStateStore(3600), ActivityConfig(interval_s=7 * 86400), Pseudonyms())
    times = [START + timedelta(days=d, hours=10) for d in range(70)]
    team = [
        r
        for r in await feed(t, [commit("yuki", at, n=i) for i, at in enumerate(times)])
        if r.analysis_type == AnalysisType.TEAM_HEALTH
    ]
    weeks = {int(at.timestamp() // (7 * 86400)) for at in times}  # intervals count from the epoch
    assert len(team) == len(weeks) == 11


async def test_pseudonyms_replace_every_identity_in_requests() -> None:
    t = tracker(key="k" * 32)
    event = parse_code_change(commit("dora", START))
    routed = [
        AnalysisRequest(
            analysis_type=AnalysisType.SKILL_EXTRACTION,
            content="Reviewed by Dora <dora@example.com>, thanks dora!",
            context={"author": "dora", "people": ["dora@example.com"]},
            subject="dora",
        )
    ]
    [scrubbed, *triggered] = await t.on_event(event, routed, "live")
    text = scrubbed.model_dump_json()
    assert "dora" not in text.lower()
    pseudonym = Pseudonyms("k" * 32).of("dora")
    assert scrubbed.subject == pseudonym and pseudonym in scrubbed.content
    assert all("dora" not in r.model_dump_json().lower() for r in triggered)
    assert await t._store.load(f"dev:{pseudonym}") is not None  # the state is keyed by pseudonym
    assert await t._store.load("dev:dora") is None


async def test_an_email_only_commit_joins_its_login_once_seen_together() -> None:
    t = tracker()
    await feed(t, [commit("dora", START)])  # author with login and email: alias learned
    anonymous = parse_code_change(commit("dora", START + timedelta(hours=1), n=1))
    anonymous = anonymous.model_copy(update={"author": anonymous.author.model_copy(update={"login": None})})
    await t.on_event(anonymous, [], "live")
    doc = await t._store.load("dev:dora")
    assert doc is not None and sum(day.get("commit", 0) for day in doc["days"].values()) == 2
    assert await t._store.load("dev:dora@example.com") is None
