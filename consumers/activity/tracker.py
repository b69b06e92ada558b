"""The activity state at work in the processor: what each record adds, and what it triggers.

`on_event` runs once per decoded input record, before its requests go out: it counts the event in
the state (once, whatever the replays), pseudonymizes the requests when asked to, and appends the
periodic requests that are due. `on_results` runs on the record's results: skill_extraction
results feed the languages and frameworks, task_signals results ask for task_matching.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any, Protocol, TypeVar

from consumers.activity import docs, features, triggers
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms, Scrubber
from consumers.activity.observe import Observation, Person, aliases, of_activity, of_code_change, people
from consumers.activity.store.base import StateStore, StateUnavailable
from schemas.envelope import AnalysisResult
from schemas.events import ActivityEvent, CodeChangeEvent
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType, Priority

Event = ActivityEvent | CodeChangeEvent
T = TypeVar("T")
log = logging.getLogger(__name__)


class Activity(Protocol):
    """What the record handler needs of the activity state."""

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]: ...

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]: ...


class NoActivity:
    """Predictive analyses off and no pseudonyms: the requests as routed, nothing more."""

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]:
        return list(requests)

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]:
        return []


class ActivityTracker:
    def __init__(
        self,
        store: StateStore,
        config: ActivityConfig,
        pseudonyms: Pseudonyms,
        *,
        predictive: bool = True,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        self._on_error = on_error
        self._store = store
        self._config = config
        self._pseudonyms = pseudonyms
        self._predictive = predictive

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]:
        if event is None:
            return list(requests)
        await self._guarded(self._learn_aliases(event), None)
        scrub = await self._scrubber(event)
        routed = [_scrubbed(r, scrub) for r in requests]
        if not self._predictive:
            return routed
        observed = [
            await self._guarded(self._observe(obs, scrub, priority), []) for obs in _observations(event)
        ]
        return routed + [_scrubbed(r, scrub) for triggered in observed for r in triggered]

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]:
        if not self._predictive:
            return []
        follow: list[AnalysisRequest] = []
        for result in results:
            follow += await self._guarded(self._after(result, priority), [])
        return follow

    async def _guarded(self, work: Awaitable[T], fallback: T) -> T:
        """A store outage skips the state update (counted and logged); the record goes on."""
        try:
            return await work
        except StateUnavailable as exc:
            self._on_error()
            log.warning("activity state skipped: %s", exc)
            return fallback

    # -- identities ----------------------------------------------------------------------------

    async def developer(self, person: Person) -> str:
        """The developer id (pseudonym when on) by the rule in `identity`."""
        login = person.known_login
        if login is None and person.email:
            alias = await self._guarded(self._store.load(f"alias:{person.email.lower()}"), None)
            login = str(alias["login"]) if alias else None
        return self._pseudonyms.of(login or (person.email or "").lower())

    async def _learn_aliases(self, event: Event) -> None:
        for email, login in aliases(event):
            if await self._store.first(f"alias:{email}:{login}"):
                await self._store.change(f"alias:{email}", _alias(login))

    async def _scrubber(self, event: Event) -> Scrubber:
        if not self._pseudonyms.enabled:
            return Scrubber({})
        pairs: list[tuple[str, str]] = []
        for person in people(event):
            dev = await self.developer(person)
            pairs += [(raw, dev) for raw in (person.login, person.email, person.name) if raw]
        return Scrubber(dict(pairs))

    # -- counting and triggers -------------------------------------------------------------------

    async def _observe(self, obs: Observation, scrub: Scrubber, priority: Priority) -> list[AnalysisRequest]:
        if not await self._store.first(f"event:{obs.event_id}:{obs.kind}"):
            return []  # counted before: a replay or a redelivery
        obs = replace(obs, repository=scrub.text(obs.repository))  # a user's repository names them
        dev = await self.developer(obs.person)
        peers = [self._pseudonyms.of(p) for p in obs.peers]
        config = self._config
        person_doc = await self._store.change(
            f"dev:{dev}", lambda d: docs.record_developer(d, obs, peers, config)
        )
        team_doc = await self._store.change(
            f"repo:{obs.repository}", lambda d: docs.record_repository(d, obs, dev, config)
        )
        return await self._risks(dev, person_doc, priority) + await self._team(
            obs.repository, team_doc, priority
        )

    async def _risks(self, dev: str, doc: docs.Doc, priority: Priority) -> list[AnalysisRequest]:
        found = features.developer_features(doc, self._config)
        reasons = triggers.risk_reasons(found, self._config.min_previous)
        if not reasons:
            return []
        context = {"developer": dev, "trigger": reasons, "window_days": self._config.window_days}
        return await self._periodic(dev, doc, triggers.RISKS, found, context, priority)

    async def _team(self, repository: str, doc: docs.Doc, priority: Priority) -> list[AnalysisRequest]:
        found = features.team_features(doc, self._config)
        context = {"repository": repository, "window_days": self._config.window_days}
        return await self._periodic(repository, doc, (AnalysisType.TEAM_HEALTH,), found, context, priority)

    async def _periodic(
        self,
        subject: str,
        doc: docs.Doc,
        kinds: Iterable[AnalysisType],
        facts: dict[str, Any],
        context: dict[str, Any],
        priority: Priority,
    ) -> list[AnalysisRequest]:
        """One request per kind, if this interval (of the subject's latest event) has none yet."""
        newest = docs.latest(doc)
        if newest is None:
            return []
        interval = triggers.interval_of(newest, self._config.interval_s)
        made = []
        for kind in kinds:
            if await self._store.first(f"emit:{subject}:{kind.value}:{interval}"):
                context_now = {**context, "as_of": facts.get("as_of"), "interval": interval}
                made.append(triggers.request(kind, subject, facts, context_now, priority, str(interval)))
        return made

    # -- results ---------------------------------------------------------------------------------

    async def _after(self, result: AnalysisResult[Any], priority: Priority) -> list[AnalysisRequest]:
        if result.analysis_type == AnalysisType.SKILL_EXTRACTION:
            return await self._skills(result, priority)
        if result.analysis_type == AnalysisType.TASK_SIGNALS:
            return await self._task_matching(result, priority)
        return []

    async def _skills(self, result: AnalysisResult[Any], priority: Priority) -> list[AnalysisRequest]:
        if not result.subject or not await self._store.first(f"skills:{result.request_id}"):
            return []
        dev = await self._subject_developer(result.subject)
        languages = [result.result.language] if result.result.language else []
        frameworks = list(result.result.frameworks)
        doc = await self._store.change(f"dev:{dev}", lambda d: docs.record_skills(d, languages, frameworks))
        found = features.developer_features(doc, self._config)
        if triggers.skills_of(found) == doc.get("snapshots", {}).get("skills"):
            return []
        await self._store.change(f"dev:{dev}", lambda d: _snapshot(d, triggers.skills_of(found)))
        context = {"developer": dev, "trigger": ["skills changed"], "window_days": self._config.window_days}
        return await self._periodic(dev, doc, triggers.PROFILES, found, context, priority)

    async def _subject_developer(self, subject: str) -> str:
        if self._pseudonyms.enabled:
            return subject  # already a pseudonym (requests were scrubbed)
        is_email = "@" in subject
        return await self.developer(Person(None if is_email else subject, subject if is_email else None))

    async def _task_matching(self, result: AnalysisResult[Any], priority: Priority) -> list[AnalysisRequest]:
        repository = result.subject
        team = await self._store.load(f"repo:{repository}") if repository else None
        if team is None:
            return []
        candidates = [await self._candidate(dev) for dev in _known_developers(team, self._config)]
        facts = {"task": result.result.model_dump(mode="json"), "candidates": [c for c in candidates if c]}
        context = {"repository": repository, "task_request_id": result.request_id}
        kind = AnalysisType.TASK_MATCHING
        return [triggers.request(kind, repository, facts, context, priority, result.request_id)]

    async def _candidate(self, dev: str) -> dict[str, Any] | None:
        doc = await self._store.load(f"dev:{dev}")
        if doc is None:
            return None
        found = features.developer_features(doc, self._config)
        keep = ("languages", "frameworks", "commits_per_week_current", "reviews_per_week_current")
        return {"developer": dev, **{k: found[k] for k in keep}}


def _observations(event: Event) -> list[Observation]:
    return of_code_change(event) if isinstance(event, CodeChangeEvent) else of_activity(event)


def _scrubbed(request: AnalysisRequest, scrub: Scrubber) -> AnalysisRequest:
    if scrub.empty:
        return request
    return request.model_copy(
        update={
            "subject": scrub.text(request.subject),
            "content": scrub.text(request.content),
            "context": scrub.data(request.context),
        }
    )


def _snapshot(doc: docs.Doc, skills: list[str]) -> docs.Doc:
    doc.setdefault("snapshots", {})["skills"] = skills
    return doc


def _known_developers(team: docs.Doc, config: ActivityConfig) -> list[str]:
    totals: dict[str, int] = {}
    for per_day in team.get("developers", {}).values():
        for dev, n in per_day.items():
            totals[dev] = totals.get(dev, 0) + int(n)
    ranked = sorted(totals, key=lambda dev: (-totals[dev], dev))
    return ranked[: config.max_candidates]


def _alias(login: str) -> Callable[[docs.Doc], docs.Doc]:
    return lambda _doc: {"login": login}
