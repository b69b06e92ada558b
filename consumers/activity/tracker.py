"""The activity state at work in the processor: what each record adds, and what it triggers.

`on_event` runs once per decoded input record, before its requests go out: it counts the event in
the state (once, whatever the replays), pseudonymizes the requests when asked to, and appends the
periodic requests that are due. `on_results` runs on the record's results: skill_extraction
results feed the languages and frameworks, task_signals results ask for task_matching.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from cachetools import TTLCache

from consumers.activity import docs, features, triggers
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms, Scrubber
from consumers.activity.observe import Observation, Person, of_activity, of_code_change, people
from consumers.activity.store.base import StateStore, StateUnavailable
from consumers.identity.resolver import IdentityResolver, Merge
from consumers.identity.store.memory import MemoryIdentityStore
from schemas.envelope import AnalysisResult
from schemas.events import ActivityEvent, CodeChangeEvent
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType, Priority

Event = ActivityEvent | CodeChangeEvent
T = TypeVar("T")
log = logging.getLogger(__name__)


class Activity(Protocol):
    """What the record handler needs of the activity state."""

    def passes(self, requests: Sequence[AnalysisRequest]) -> list[AnalysisRequest] | None:
        """The requests as they go out when the state takes no part in the record: `on_event` would
        give just these, and `on_results` and `settled` would do nothing. None when it takes part
        (then the handler awaits `on_event` and the rest)."""
        ...

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]: ...

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]: ...

    async def settled(self, requests: Sequence[AnalysisRequest]) -> None:
        """These requests' outcomes (results, retry or dead-letter records) are acknowledged by
        the broker: what the state promised about them can be written down now."""
        ...

    async def merged(self, merge: Merge) -> bool:
        """Subjects found to be one person: the state of `merge.merged` joins `merge.subject`'s.
        Whether it did (False: the state store was out; the merge stays pending). Joining again is
        harmless."""
        ...


CODE_ANALYSES = frozenset(
    {AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY}
)
"""Their content is code: @words there are decorators and scoped packages, not mentions."""
PREDICTIVE = frozenset(
    {
        *triggers.RISKS,
        *triggers.PROFILES,
        AnalysisType.TEAM_HEALTH,
        AnalysisType.TASK_MATCHING,
        AnalysisType.LEARNING_PATH,
    }
)
"""The analyses PREDICTIVE_ANALYSES_ENABLED=false turns off, wherever they are asked for."""


class NoActivity:
    """No activity state and no pseudonyms: the requests as routed, less the dropped types."""

    def __init__(self, drop: Iterable[AnalysisType] = ()) -> None:
        self._drop = frozenset(drop)

    def passes(self, requests: Sequence[AnalysisRequest]) -> list[AnalysisRequest]:
        return [r for r in requests if r.analysis_type not in self._drop]

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]:
        return self.passes(requests)

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]:
        return []

    async def settled(self, requests: Sequence[AnalysisRequest]) -> None:
        return None

    async def merged(self, merge: Merge) -> bool:
        return True


FOLD_ROUNDS = 3
"""A batch left by a crash, then what is beside the pointer now, then (raced in) once more."""
FOLD_DEPTH = 8
"""Pointers followed onward when a fold lands on a merged developer's document."""
MAX_WAITING = 100_000
WAITING_TTL_S = 26 * 3600.0
"""Periodic requests made and not yet settled, so that one process does not ask twice while one
waits (a Message Batch may take 24 h); a record that never settles is forgotten after this."""


class ActivityTracker:
    """Periodic requests are marked as asked only once their outcome is acknowledged (`settled`):
    a processor killed before that asks again when the event comes back, with the same request id
    (one per subject, type and interval, so consumers deduplicate); a replay after it asks nothing.

    Developers are keyed by their canonical id (`consumers/identity/`), as `identities` gives it: the
    record handler's resolver, which learns each event's links and reports their merges before
    `on_event` (the composition root always passes it). Without one (tests, benchmarks), the tracker
    has a resolver of its own in memory (default `IdentityConfig`) and teaches it each event's links
    itself."""

    def __init__(
        self,
        store: StateStore,
        config: ActivityConfig,
        pseudonyms: Pseudonyms,
        *,
        predictive: bool = True,
        on_error: Callable[[], None] = lambda: None,
        identities: IdentityResolver | None = None,
    ) -> None:
        self._on_error = on_error
        self._learns = identities is None
        self._identities = identities or IdentityResolver(
            MemoryIdentityStore(config.state_ttl_s), pseudonyms=pseudonyms
        )
        self._store = store
        self._config = config
        self._pseudonyms = pseudonyms
        self._predictive = predictive
        self._waiting: TTLCache[str, bool] = TTLCache(MAX_WAITING, WAITING_TTL_S)

    def passes(self, requests: Sequence[AnalysisRequest]) -> None:
        """Every record counts in the state (and may be pseudonymized): never passed by."""
        return None

    async def on_event(
        self, event: Event | None, requests: Sequence[AnalysisRequest], priority: Priority
    ) -> list[AnalysisRequest]:
        """The requests, pseudonymized when asked to, and the periodic requests now due. Requests
        with no event (other services', retries) are scrubbed of what identities can be found."""
        if not self._predictive:
            requests = [r for r in requests if r.analysis_type not in PREDICTIVE]
        if event is None:
            return [_scrubbed(r, Scrubber({}, self._pseudonyms)) for r in requests]
        if self._learns:
            await self._learn(event)
        scrub = await self._scrubber(event)
        routed = [_scrubbed(r, scrub) for r in requests]
        if not self._predictive:
            return routed
        triggered = [r for obs in _observations(event) for r in await self._observe(obs, priority)]
        return routed + [_scrubbed(r, scrub) for r in triggered]

    async def on_results(
        self, results: Sequence[AnalysisResult[Any]], priority: Priority
    ) -> list[AnalysisRequest]:
        if not self._predictive:
            return []
        follow: list[AnalysisRequest] = []
        for result in results:
            follow += await self._guarded(self._after(result, priority), [])
        return follow

    async def settled(self, requests: Sequence[AnalysisRequest]) -> None:
        """Marks each periodic request as asked; what to mark is read off the request itself (its
        subject, type and interval), so it holds however long the request waited."""
        for request in requests:
            if (marker := triggers.emitted_marker(request)) is not None:
                await self._guarded(self._settle(request, marker), None)
                self._waiting.pop(request.request_id, None)

    async def _settle(self, request: AnalysisRequest, marker: str) -> None:
        await self._store.first(marker)
        if (skills := request.context.get("skills")) is not None:  # profiles: the skills asked about
            await self._store.change(f"dev:{request.subject}", functools.partial(_snapshot, skills=skills))

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
        """The developer id: the person's canonical id (a pseudonym when on). Without the identity
        store: their login (or the one in a noreply address), else their e-mail."""
        found = await self._guarded(self._identities.developer(person.login, person.email), None)
        if found is None:
            found = person.known_login or (person.email or "").strip().lower()
        return self._pseudonyms.of(found)

    async def _learn(self, event: Event) -> None:
        """A tracker with a resolver of its own: the event's links learned, their merges joined."""
        merges = await self._guarded(self._identities.learn(event), [])
        await self._identities.settle([merge for merge in merges if await self.merged(merge)])

    async def merged(self, merge: Merge) -> bool:
        """Each merged developer's document is added into the person's and left pointing at it
        (`_fold`); their commits in each repository they worked in count for the person."""
        into = self._pseudonyms.of(merge.subject)
        folded = [
            await self._guarded(self._fold(self._pseudonyms.of(old), into), False) for old in merge.merged
        ]
        return all(folded)

    async def _fold(self, old: str, into: str, depth: int = 0) -> bool:
        """What `dev:old` holds, added into `dev:into` exactly once, crash or not: taken in one atomic
        change of `dev:old` that leaves it pointing at `into` with what it took held beside the
        pointer as a batch (`docs.moved`), then added under the batch's marker, then the batch
        dropped. A batch left by a crash is finished first. Counts that land on `dev:old` later
        (another instance not yet aware of the merge) are folded the same way by whoever writes them;
        so are those added into a document that itself points further."""
        for _ in range(FOLD_ROUNDS):
            batch = uuid.uuid4().hex
            left = await self._store.change(
                f"dev:{old}", functools.partial(docs.moved, into=into, batch=batch)
            )
            if (moving := left.get(docs.MOVING)) is None:
                break
            marker, taken = f"merged:{old}:{moving['id']}", moving["doc"]
            add = functools.partial(docs.merge_developer, other=taken, config=self._config)
            target, _ = await self._store.change_once(f"dev:{into}", add, marker)
            for repository in docs.repositories(taken):
                move = functools.partial(docs.rename_developer, old=old, new=into)
                await self._store.change_once(f"repo:{repository}", move, f"{marker}:{repository}")
            await self._store.change(f"dev:{old}", functools.partial(docs.moved_in, batch=moving["id"]))
            if (onward := docs.merged_into(target)) is not None and depth < FOLD_DEPTH:
                await self._fold(into, onward, depth + 1)
            if moving["id"] == batch:
                break
        return True

    async def _late(self, dev: str, doc: docs.Doc) -> bool:
        """Whether `doc`, just written for `dev`, is a merged developer's (a writer not yet aware of
        the merge): then what was written is folded into the person's at once."""
        into = docs.merged_into(doc)
        if into is None:
            return False
        await self._fold(dev, into)
        return True

    async def _scrubber(self, event: Event) -> Scrubber:
        if not self._pseudonyms.enabled:
            return Scrubber({}, self._pseudonyms)
        pairs: list[tuple[str, str]] = []
        for person in people(event):
            dev = await self.developer(person)
            pairs += [(raw, dev) for raw in (person.login, person.email, person.name) if raw]
        if repository := event.repository:
            owner = repository.partition("/")[0]
            pairs += [
                (repository, self._pseudonyms.repository(repository)),
                (owner, self._pseudonyms.of(owner)),
            ]
        return Scrubber(dict(pairs), self._pseudonyms)

    async def _peer(self, peer: str) -> str:
        return await self.developer(Person(None, peer) if "@" in peer else Person(peer, None))

    # -- counting and triggers -------------------------------------------------------------------

    async def _observe(self, obs: Observation, priority: Priority) -> list[AnalysisRequest]:
        """Each part counts the event at most once (its marker is written with the change); the
        periodic requests it claimed are asked again when the same event comes back after a crash.
        The team part is written first: a developer found merged folds both parts' counts."""
        dev = await self.developer(obs.person)
        if not dev:
            return []
        marker, repository = f"event:{obs.event_id}:{obs.kind}", self._pseudonyms.repository(obs.repository)
        team = await self._guarded(self._team_part(dev, repository, obs, marker, priority), [])
        made = await self._guarded(self._developer_part(dev, repository, obs, marker, priority), []) + team
        if obs.kind == "review":
            await self._guarded(self._reviewed(dev, obs, marker), None)
        return made

    async def _developer_part(
        self, dev: str, repository: str, obs: Observation, marker: str, priority: Priority
    ) -> list[AnalysisRequest]:
        peers = [await self._peer(p) for p in obs.peers]
        config = self._config
        doc, _ = await self._store.change_once(
            f"dev:{dev}", lambda d: docs.record_developer(d, obs, peers, repository, config), f"{marker}:dev"
        )
        if await self._late(dev, doc):
            return []
        if triggers.too_new(features.history_days(doc, obs.at), config.window_days):
            return []  # no risk is judged yet: the features need not be computed
        found = features.developer_features(doc, config, obs.at)
        reasons = triggers.risk_reasons(found, config.min_previous)
        if not reasons:
            return []
        context = {"developer": dev, "trigger": reasons, "window_days": config.window_days}
        return await self._periodic(dev, obs.at, triggers.RISKS, found, context, priority)

    async def _team_part(
        self, dev: str, repository: str, obs: Observation, marker: str, priority: Priority
    ) -> list[AnalysisRequest]:
        """The event's marker and the interval's team_health marker are read first, in one round
        trip: a replayed event (counted before) whose interval was asked about is done with that."""
        config, counted, kinds = self._config, f"{marker}:repo", (AnalysisType.TEAM_HEALTH,)
        due = self._unclaimed(repository, triggers.interval_of(obs.at, config.interval_s), kinds)
        seen = await self._store.seen_among([counted, *due])
        asked = seen.issuperset(due)  # markers are never unset: what is asked now stays asked
        if asked and counted in seen:
            return []  # change_once would change nothing, and nothing is due
        doc, _ = await self._store.change_once(
            f"repo:{repository}", lambda d: docs.record_repository(d, obs, dev, config), counted
        )
        if asked:
            return []  # nothing due: the features need not be computed
        found = features.team_features(doc, config, obs.at)
        context = {"repository": repository, "window_days": config.window_days}
        return await self._periodic(repository, obs.at, kinds, found, context, priority)

    async def _reviewed(self, reviewer: str, obs: Observation, marker: str) -> None:
        """A review widens the pull-request author's collaboration too: the reviewer is their peer."""
        config = self._config
        for author in [await self._peer(p) for p in obs.peers]:
            change = functools.partial(docs.record_peer, at=obs.at, peer=reviewer, config=config)
            doc, _ = await self._store.change_once(f"dev:{author}", change, f"{marker}:author:{author}")
            await self._late(author, doc)

    async def _periodic(
        self,
        subject: str,
        at: datetime,
        kinds: Iterable[AnalysisType],
        facts: dict[str, Any],
        context: dict[str, Any],
        priority: Priority,
    ) -> list[AnalysisRequest]:
        """One request per kind not yet asked in this interval, nor waiting to be settled here."""
        interval = triggers.interval_of(at, self._config.interval_s)
        made = []
        for kind in kinds:
            context_now = {**context, "as_of": facts.get("as_of"), "interval": interval}
            request = triggers.request(kind, subject, facts, context_now, priority, str(interval))
            if await self._first_ask(request):
                made.append(request)
        return made

    def _unclaimed(self, subject: str, interval: int, kinds: Iterable[AnalysisType]) -> list[str]:
        """The markers of the requests of `kinds` about `subject` in `interval` not waiting here to
        be settled: `_first_ask` would claim any of them whose marker is not set."""
        tag = str(interval)
        return [
            triggers.marker(kind, subject, interval)
            for kind in kinds
            if triggers.request_id(kind, subject, tag) not in self._waiting
        ]

    async def _first_ask(self, request: AnalysisRequest) -> bool:
        """Claimed in this process before the store is asked, so two records at once ask once."""
        if request.request_id in self._waiting:
            return False
        self._waiting[request.request_id] = True
        marker = triggers.emitted_marker(request)
        if marker is None or await self._guarded(self._store.seen(marker), True):
            self._waiting.pop(request.request_id, None)
            return False
        return True

    # -- results ---------------------------------------------------------------------------------

    async def _after(self, result: AnalysisResult[Any], priority: Priority) -> list[AnalysisRequest]:
        if result.analysis_type == AnalysisType.SKILL_EXTRACTION:
            return await self._skills(result, priority)
        if result.analysis_type == AnalysisType.TASK_SIGNALS:
            return await self._task_matching(result, priority)
        return []

    async def _skills(self, result: AnalysisResult[Any], priority: Priority) -> list[AnalysisRequest]:
        """Skills count once per result; profiles are asked when the accumulated skills differ from
        the last ones asked about (the snapshot is written when the request is settled)."""
        if not result.subject:
            return []
        dev = await self._subject_developer(result.subject)
        languages = [result.result.language] if result.result.language else []
        frameworks = list(result.result.frameworks)
        doc, _ = await self._store.change_once(
            f"dev:{dev}",
            lambda d: docs.record_skills(d, languages, frameworks),
            f"skills:{result.request_id}",
        )
        if await self._late(dev, doc):
            return []
        skills, at = features.skills(doc), docs.latest(doc)
        if at is None or skills == doc.get("snapshots", {}).get("skills"):
            return []
        found = features.developer_features(doc, self._config)
        context = {
            "developer": dev,
            "trigger": ["skills changed"],
            "skills": skills,  # written down as asked about once the request is settled
            "window_days": self._config.window_days,
        }
        return await self._periodic(dev, at, triggers.PROFILES, found, context, priority)

    async def _subject_developer(self, subject: str) -> str:
        if self._pseudonyms.enabled:
            return subject  # already a pseudonym (requests were scrubbed)
        return await self._guarded(self._identities.subject(subject), subject)

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
        if doc is None or docs.merged_into(doc) is not None:
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
            "subject": scrub.subject(request.subject),
            "content": scrub.text(request.content, prose=request.analysis_type not in CODE_ANALYSES),
            "context": scrub.data(request.context),
        }
    )


def _snapshot(doc: docs.Doc, *, skills: list[str]) -> docs.Doc:
    if docs.merged_into(doc) is None:  # a merged developer's: the person's profile is asked anew
        doc.setdefault("snapshots", {})["skills"] = skills
    return doc


def _known_developers(team: docs.Doc, config: ActivityConfig) -> list[str]:
    totals = features.commits_per_developer(team)
    ranked = sorted(totals, key=lambda dev: (-totals[dev], dev))
    return ranked[: config.max_candidates]
