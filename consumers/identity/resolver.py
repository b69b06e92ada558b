"""The canonical developer subject of every request, and the merges new links make.

The record handler asks `settled` first, in the poll loop: when every link the event proves already
holds and every developer subject is in the in-process cache, the requests come back with their
canonical subjects and no store is asked. Otherwise `resolve` (in the record's task) writes the
links to the store, updates the cache with each joined set (so a merge is seen at once here; another
instance's within `IdentityConfig.cache_ttl_s`) and reports every merge of sets that existed before.

With pseudonyms on, the store holds keyed hashes of the identities (`login:dev_…`), so canonical ids
are pseudonyms: the pseudonym of the canonical member.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cachetools import LRUCache

from consumers.activity.identity import Pseudonyms, is_pseudonym
from consumers.activity.store.base import StateUnavailable
from consumers.identity import keys
from consumers.identity.config import IdentityConfig
from consumers.identity.links import Aliases, Link, Seen, Via, implied, links_of, person_links, seen_in
from consumers.identity.recent import Recent
from consumers.identity.store.base import IdentityStore
from schemas.events import ActivityEvent, CodeChangeEvent
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

Event = ActivityEvent | CodeChangeEvent
log = logging.getLogger(__name__)

DEVELOPER_SUBJECTS = frozenset(
    {
        AnalysisType.CODE_QUALITY,
        AnalysisType.CODE_COMPLEXITY,
        AnalysisType.SKILL_EXTRACTION,
        AnalysisType.SOFT_SKILLS,
        AnalysisType.DEVELOPER_PROFILE,
        AnalysisType.GROWTH_TRAJECTORY,
        AnalysisType.ATTRITION_RISK,
        AnalysisType.BURNOUT_RISK,
        AnalysisType.PERFORMANCE_TRAJECTORY,
        AnalysisType.LEARNING_PATH,
    }
)
"""Analyses whose subject is a developer; the others' is a repository (or nobody)."""


@dataclass(frozen=True, slots=True)
class Merge:
    """Sets that results were published under, now one person."""

    subject: str
    """The canonical id now."""
    merged: tuple[str, ...]
    """The canonical ids before, other than `subject`."""
    via: Via


class Identities(Protocol):
    """What the record handler needs of identity resolution."""

    def settled(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> list[AnalysisRequest] | None:
        """The requests with canonical subjects, from memory alone; None when the store must be asked."""
        ...

    async def resolve(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> tuple[list[AnalysisRequest], list[Merge]]:
        """The event's links learned; the requests with canonical subjects; the merges made."""
        ...


class Unresolved:
    """No identity resolution: requests keep the subjects routing gave them."""

    def settled(self, event: Event | None, requests: Sequence[AnalysisRequest]) -> list[AnalysisRequest]:
        return list(requests)

    async def resolve(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> tuple[list[AnalysisRequest], list[Merge]]:
        return list(requests), []


class IdentityResolver:
    def __init__(
        self,
        store: IdentityStore,
        config: IdentityConfig | None = None,
        pseudonyms: Pseudonyms | None = None,
        aliases: Aliases | None = None,
        on_error: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._config = config or IdentityConfig()
        self._pseudonyms = pseudonyms or Pseudonyms()
        self._aliases: Aliases = aliases or {}
        self._on_error = on_error
        self._cache: Recent[str, str] = Recent(self._config.cache_items, self._config.cache_ttl_s)
        """Stored key -> canonical id."""
        self._people: Recent[Seen, bool] = Recent(self._config.cache_items, self._config.cache_ttl_s)
        """People whose links this process wrote or found holding (a link, once made, always holds)."""
        self._hashed: LRUCache[str, str] = LRUCache(self._config.cache_items)
        """Key -> stored key, when pseudonyms are on (an HMAC each, else)."""

    # -- the record handler's two steps ------------------------------------------------------------

    def settled(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> list[AnalysisRequest] | None:
        now = time.monotonic()
        if event is not None and not all(self._known(seen, now) for seen in seen_in(event)):
            return None
        resolved = []
        for request in requests:
            if not _of_developer(request):
                resolved.append(request)
                continue
            canonical = self._cache.get(self._stored(keys.subject_key(request.subject)), now)
            if canonical is None:
                return None
            resolved.append(self._rewritten(request, canonical, event))
        return resolved

    async def resolve(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> tuple[list[AnalysisRequest], list[Merge]]:
        """A store outage leaves the subjects as far as memory and the noreply rule resolve them
        (counted and logged, like the activity state's); the records go on."""
        merges: list[Merge] = []
        try:
            if event is not None:
                merges += await self.learn(event)
            return [await self._resolved(r, event, merges) for r in requests], merges
        except StateUnavailable as exc:
            self._on_error()
            log.warning("identity resolution skipped: %s", exc)
            return [self._local(r, event) for r in requests], merges

    # -- for the activity state ----------------------------------------------------------------------

    def links(self, event: Event) -> list[Link]:
        return links_of(event, self._config.match_by_name, self._aliases)

    async def learn(self, event: Event) -> list[Merge]:
        """The links of the people the event names written (those not known to hold here); the
        merges they made."""
        merges: list[Merge] = []
        now = time.monotonic()
        for seen in seen_in(event):
            if not self._people.get(seen, now):
                merges += await self._learned(person_links(seen, self._config.match_by_name, self._aliases))
                self._people.put(seen, True)
        return merges

    async def developer(self, login: str | None, email: str | None) -> str:
        """The canonical id of a person named by login or e-mail ("" when neither)."""
        key = keys.person_key(login, email)
        return await self._canonical(key, []) if key else ""

    async def subject(self, subject: str) -> str:
        """The canonical id of a developer subject (a login or an e-mail; a pseudonym as it is)."""
        if not subject or is_pseudonym(subject):
            return subject
        return await self._canonical(keys.subject_key(subject), [])

    # -- inside ----------------------------------------------------------------------------------------

    def _known(self, seen: Seen, now: float) -> bool:
        """Whether every link of this person holds here (memory alone)."""
        if self._people.get(seen, now):
            return True
        if not all(
            self._holds(link) for link in person_links(seen, self._config.match_by_name, self._aliases)
        ):
            return False
        self._people.put(seen, True)
        return True

    def _holds(self, link: Link) -> bool:
        now = time.monotonic()
        found = self._cache.get(self._stored(link.a), now)
        return found is not None and found == self._cache.get(self._stored(link.b), now)

    async def _learned(self, links: Sequence[Link]) -> list[Merge]:
        merges = []
        for link in links:
            if self._holds(link):
                continue
            joined = await self._store.link(self._stored(link.a), self._stored(link.b))
            for member in joined.members:
                self._cache.put(member, joined.canonical)
            if joined.replaced:
                merges.append(Merge(joined.canonical, joined.replaced, link.via))
        return merges

    async def _canonical(self, key: str, merges: list[Merge]) -> str:
        """From memory, else from the store, with the links the key implies learned first."""
        stored = self._stored(key)
        found = self._cache.get(stored, time.monotonic())
        if found is None:
            merges += await self._learned(implied(key, self._aliases))
            found = self._cache.get(stored, time.monotonic()) or await self._store.canonical(stored)
            self._cache.put(stored, found)
        return found

    async def _resolved(
        self, request: AnalysisRequest, event: Event | None, merges: list[Merge]
    ) -> AnalysisRequest:
        if not _of_developer(request):
            return request
        canonical = await self._canonical(keys.subject_key(request.subject), merges)
        return self._rewritten(request, canonical, event)

    def _local(self, request: AnalysisRequest, event: Event | None) -> AnalysisRequest:
        """Without the store: memory, else the login of a noreply address, else the subject itself."""
        if not _of_developer(request):
            return request
        key = keys.subject_key(request.subject)
        login = keys.noreply_login(keys.value(key)) if key.startswith(keys.EMAIL) else None
        fallback = self._pseudonyms.of(login or keys.value(key))
        cached = self._cache.get(self._stored(key), time.monotonic())
        return self._rewritten(request, cached or fallback, event)

    def _rewritten(self, request: AnalysisRequest, canonical: str, event: Event | None) -> AnalysisRequest:
        observed = self._pseudonyms.of(_observed(request, event))
        if request.subject == canonical and request.observed_as == observed:
            return request
        return request.revised(subject=canonical, observed_as=observed)

    def _stored(self, key: str) -> str:
        """The key as the store holds it: a keyed hash of the identity when pseudonyms are on."""
        if not self._pseudonyms.enabled:
            return key
        stored = self._hashed.get(key)
        if stored is None:
            kind, _, identity = key.partition(":")
            stored = self._hashed[key] = f"{kind}:{self._pseudonyms.of(identity)}"
        return stored


def _of_developer(request: AnalysisRequest) -> bool:
    return (
        request.analysis_type in DEVELOPER_SUBJECTS
        and bool(request.subject)
        and not is_pseudonym(request.subject)
    )


def _observed(request: AnalysisRequest, event: Event | None) -> str:
    """The identity a request's subject was observed under: as the request first had it, or, for a
    commit whose author .mailmap changed, the address written in the commit."""
    if request.observed_as:
        return request.observed_as
    if isinstance(event, CodeChangeEvent):
        author = event.author
        if author.observed_email and request.subject in (author.login, author.email):
            return author.observed_email
    return request.subject
