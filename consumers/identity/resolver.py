"""The canonical developer subject of every request, and the merges new links make.

The record handler asks `settled` first, in the poll loop: when every link the event proves already
holds and every developer subject is in the in-process cache, the requests come back with their
canonical subjects and no store is asked. Otherwise `resolve` (in the record's task) writes the
links to the store, updates the cache with each joined set (so a merge is seen at once here; another
instance's within `IdentityConfig.cache_ttl_s`) and reports the merges pending in every set the store
answered for: those the links just made (the store records them with the link, atomically), and any
earlier one never settled (its record lost, or the state join failed). The record handler settles a
merge once its `identity_merged` record is acknowledged and the activity state joined; until then,
the first record to reach the store for that set (after a restart, or once the cache of it lapses)
reports it again.

With pseudonyms on, the store holds keyed hashes of the identities (`login:dev_…`), so canonical ids
are pseudonyms: the pseudonym of the canonical member.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from cachetools import LRUCache

from consumers.activity.identity import Pseudonyms, is_pseudonym
from consumers.activity.store.base import StateUnavailable
from consumers.identity import keys
from consumers.identity.config import IdentityConfig
from consumers.identity.links import Aliases, Link, Seen, Via, implied, links_of, person_links, seen_in
from consumers.identity.recent import Recent
from consumers.identity.store.base import IdentityStore, Joined
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
    root: str
    """The set's canonical key in the identity store when the merge was reported (to settle it)."""


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
        """The event's links learned; the requests with canonical subjects; the merges pending in
        the sets the store answered for."""
        ...

    async def settle(self, merges: Sequence[Merge]) -> None:
        """These merges are published and joined in the activity state: no longer pending."""
        ...


class Unresolved:
    """No identity resolution: requests keep the subjects routing gave them."""

    def settled(self, event: Event | None, requests: Sequence[AnalysisRequest]) -> list[AnalysisRequest]:
        return list(requests)

    async def resolve(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> tuple[list[AnalysisRequest], list[Merge]]:
        return list(requests), []

    async def settle(self, merges: Sequence[Merge]) -> None:
        return None


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
        """Stored key -> its set's canonical key."""
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
            root = self._cache.get(self._stored(keys.subject_key(request.subject)), now)
            if root is None:
                return None
            resolved.append(self._rewritten(request, keys.value(root), event))
        return resolved

    async def resolve(
        self, event: Event | None, requests: Sequence[AnalysisRequest]
    ) -> tuple[list[AnalysisRequest], list[Merge]]:
        """A store outage leaves the subjects as far as memory and the noreply rule resolve them
        (counted and logged, like the activity state's); the records go on."""
        found: dict[str, Joined] = {}
        try:
            if event is not None:
                await self._learn(event, found)
            return [await self._resolved(r, event, found) for r in requests], _merges(found)
        except StateUnavailable as exc:
            self._on_error()
            log.warning("identity resolution skipped: %s", exc)
            return [self._local(r, event) for r in requests], _merges(found)

    async def settle(self, merges: Sequence[Merge]) -> None:
        """An outage leaves them pending (counted and logged): reported again later, which is
        harmless (`docs/contracts.md`)."""
        for merge in merges:
            try:
                await self._store.settle(merge.root, merge.merged)
            except StateUnavailable as exc:
                self._on_error()
                log.warning("identity merge left pending: %s", exc)

    # -- for the activity state ----------------------------------------------------------------------

    def links(self, event: Event) -> list[Link]:
        return links_of(event, self._config.match_by_name, self._aliases)

    async def learn(self, event: Event) -> list[Merge]:
        """The links of the people the event names written (those not known to hold here); the
        merges pending in the sets the store answered for."""
        found: dict[str, Joined] = {}
        await self._learn(event, found)
        return _merges(found)

    async def developer(self, login: str | None, email: str | None) -> str:
        """The canonical id of a person named by login or e-mail ("" when neither)."""
        key = keys.person_key(login, email)
        return await self._canonical(key, {}) if key else ""

    async def subject(self, subject: str) -> str:
        """The canonical id of a developer subject (a login or an e-mail; a pseudonym as it is)."""
        if not subject or is_pseudonym(subject):
            return subject
        return await self._canonical(keys.subject_key(subject), {})

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

    async def _learn(self, event: Event, found: dict[str, Joined]) -> None:
        now = time.monotonic()
        for seen in seen_in(event):
            if not self._people.get(seen, now):
                await self._learned(person_links(seen, self._config.match_by_name, self._aliases), found)
                self._people.put(seen, True)

    async def _learned(self, links: Sequence[Link], found: dict[str, Joined]) -> None:
        for link in links:
            if not self._holds(link):
                self._remember(
                    await self._store.link(self._stored(link.a), self._stored(link.b), link.via), found
                )

    async def _canonical(self, key: str, found: dict[str, Joined]) -> str:
        """From memory, else from the store, with the links the key implies learned first."""
        stored = self._stored(key)
        root = self._cache.get(stored, time.monotonic())
        if root is None:
            await self._learned(implied(key, self._aliases), found)
            root = self._cache.get(stored, time.monotonic())
        if root is None:
            root = self._remember(await self._store.find(stored), found)
        return keys.value(root)

    def _remember(self, joined: Joined, found: dict[str, Joined]) -> str:
        """A set the store answered with: cached, and kept in `found` for its pending merges (a set
        it has since joined is left out: its pending merges moved with it)."""
        for member in joined.members:
            self._cache.put(member, joined.root)
            if member != joined.root:
                found.pop(member, None)
        found[joined.root] = joined
        return joined.root

    async def _resolved(
        self, request: AnalysisRequest, event: Event | None, found: dict[str, Joined]
    ) -> AnalysisRequest:
        if not _of_developer(request):
            return request
        canonical = await self._canonical(keys.subject_key(request.subject), found)
        return self._rewritten(request, canonical, event)

    def _local(self, request: AnalysisRequest, event: Event | None) -> AnalysisRequest:
        """Without the store: memory, else the login of a noreply address, else the subject itself."""
        if not _of_developer(request):
            return request
        key = keys.subject_key(request.subject)
        login = keys.noreply_login(keys.value(key)) if key.startswith(keys.EMAIL) else None
        fallback = self._pseudonyms.of(login or keys.value(key))
        cached = self._cache.get(self._stored(key), time.monotonic())
        return self._rewritten(request, keys.value(cached) if cached else fallback, event)

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


def _merges(found: dict[str, Joined]) -> list[Merge]:
    """The merges pending in the sets found, one per set and via."""
    merges = []
    for joined in found.values():
        by_via: dict[str, list[str]] = {}
        for merged, via in joined.pending:
            by_via.setdefault(via, []).append(merged)
        merges += [
            Merge(joined.canonical, tuple(names), cast(Via, via), joined.root)
            for via, names in by_via.items()
        ]
    return merges


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
