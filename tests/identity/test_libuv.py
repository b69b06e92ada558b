"""Identity resolution on libuv's real history (its .mailmap, noreply addresses, people with several
addresses): one subject per person, across code results, profiles and risks."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.tracker import ActivityTracker
from consumers.config import RoutingConfig
from consumers.identity.config import IdentityConfig
from consumers.identity.keys import name_key
from consumers.identity.resolver import DEVELOPER_SUBJECTS, IdentityResolver
from consumers.identity.store.memory import MemoryIdentityStore
from consumers.routing import route_code_change
from gateway.config import GatewayConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.rules import RulesProvider
from producers.git import GitRange, iter_code_changes
from producers.git.command import stream_git
from producers.git.commit import HEADER_FORMAT, read_commit
from producers.git.log import _CommitNumber
from schemas.events import CodeChangeEvent
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

NOREPLY = re.compile(r"^(?:\d+\+)?(?P<login>[a-z\d][a-z\d-]*)@users\.noreply\.github\.com$", re.I)
HISTORY = timedelta(days=90)
"""Of commits before the second address, run with it (risks compare two 28-day windows)."""


def git(path: Path, *args: str) -> list[str]:
    done = subprocess.run(["git", "-C", str(path), *args], capture_output=True, check=True)
    return [line for line in done.stdout.decode(errors="replace").split("\n") if line]


@pytest.fixture(scope="module")
def commits(libuv_repo: Path) -> list[CodeChangeEvent]:
    """Every non-merge commit as the git backfill reads it (.mailmap applied), without patches."""
    return list(_headers(libuv_repo))


def _headers(path: Path) -> Iterator[CodeChangeEvent]:
    args = ["log", "--no-merges", "--reverse", f"--format={HEADER_FORMAT}", "HEAD", "--"]
    with closing(stream_git(path, args)) as lines:
        for _, chunk in groupby(lines, _CommitNumber()):
            yield read_commit(chunk, "libuv/libuv", 0)


async def subjects_of(commits: list[CodeChangeEvent], match_by_name: bool = False) -> dict[str, set[str]]:
    """Each author's subject -> the (mailmapped) addresses resolved to it."""
    resolver = IdentityResolver(MemoryIdentityStore(10**9), IdentityConfig(match_by_name=match_by_name))
    for event in commits:
        await resolver.learn(event)
    found: dict[str, set[str]] = defaultdict(set)
    for event in commits:
        found[await resolver.developer(event.author.login, event.author.email)].add(event.author.email)
    return found


async def test_no_more_subjects_than_addresses_after_mailmap_and_noreply_joins_its_login(
    libuv_repo: Path, commits: list[CodeChangeEvent]
) -> None:
    written = set(git(libuv_repo, "log", "--format=%ae"))
    mapped = set(git(libuv_repo, "log", "--format=%aE"))
    found = await subjects_of(commits)
    assert len(mapped) < len(written)  # the history's .mailmap joins addresses
    assert len(found) <= len(mapped)
    assert any(e.author.observed_email for e in commits)  # backfills carry the address as written
    noreply = {a: m["login"].lower() for a in mapped if (m := NOREPLY.match(a))}
    assert noreply  # the history has them
    for subject, addresses in found.items():
        for address in addresses & noreply.keys():
            assert subject == noreply[address]


async def test_with_names_same_name_addresses_join_too(
    libuv_repo: Path, commits: list[CodeChangeEvent]
) -> None:
    by_name: dict[str, set[str]] = defaultdict(set)
    for line in git(libuv_repo, "log", "--no-merges", "--format=%aN%x00%aE"):
        name, address = line.split("\x00")
        if (key := name_key(name)) is not None:
            by_name[key].add(address)
    shared = [addresses for addresses in by_name.values() if len(addresses) > 1]
    assert shared  # people who wrote under one full name with several addresses
    without, joined = await subjects_of(commits), await subjects_of(commits, match_by_name=True)
    assert len(joined) <= len(without)
    subject_of = {address: subject for subject, addresses in joined.items() for address in addresses}
    for addresses in shared:
        assert len({subject_of[a] for a in addresses}) == 1


async def test_one_persons_code_results_profile_and_risks_share_one_subject(
    libuv_repo: Path, commits: list[CodeChangeEvent]
) -> None:
    """The commits around the latest time someone wrote under a second address, with their patches,
    through routing, identity resolution, the activity state and the rules provider; results made
    before the link are folded by the `identity_merged` merges, as a dashboard folds them."""
    first, last = _latest_second_address(commits)
    start, end = first.committed_at or first.authored_at, last.committed_at or last.authored_at
    window = GitRange(libuv_repo, since=start - HISTORY, until=end, repo_name="libuv/libuv")
    resolver = IdentityResolver(MemoryIdentityStore(10**9))
    config = ActivityConfig()
    state = MemoryStateStore(config.state_ttl_s)
    tracker = ActivityTracker(state, config, Pseudonyms(), identities=resolver)
    gateway = Gateway(GatewayConfig(chain=("rules",)), {"rules": RulesProvider()}, metrics=_metrics())
    asked: list[AnalysisRequest] = []
    folded: dict[str, str] = {}
    try:
        for event in iter_code_changes(window):
            routed, merges = await resolver.resolve(event, route_code_change(event, RoutingConfig()).requests)
            for merge in merges:
                await tracker.merged(merge)
                folded.update(dict.fromkeys(merge.merged, merge.subject))
            requests = await tracker.on_event(event, routed, "backfill")
            skills = [
                await gateway.analyze(r) for r in requests if r.analysis_type is AnalysisType.SKILL_EXTRACTION
            ]
            requests += await tracker.on_results(skills, "backfill")
            await tracker.settled(requests)
            asked += requests
    finally:
        await gateway.aclose()
    by_kind = _subjects_by_kind(asked, folded)
    code = by_kind[AnalysisType.CODE_QUALITY]
    assert by_kind[AnalysisType.DEVELOPER_PROFILE]  # risks only where a developer's rates changed
    for kind in (AnalysisType.ATTRITION_RISK, AnalysisType.BURNOUT_RISK, AnalysisType.DEVELOPER_PROFILE):
        assert by_kind[kind] <= code
    person = _fold(folded, await resolver.developer(None, last.author.email))
    seen = {
        r.observed_as
        for r in asked
        if r.analysis_type is AnalysisType.CODE_QUALITY and _fold(folded, r.subject) == person
    }
    assert {
        first.author.observed_email or first.author.email,
        last.author.observed_email or last.author.email,
    } <= seen
    assert await state.load(f"dev:{person}") is not None
    merged = [old for old in folded if _fold(folded, old) == person]
    assert merged  # the second address came later: a merge, published, and the state joined
    for old in merged:
        assert await state.load(f"dev:{old}") == {"merged_into": folded[old]}


def _latest_second_address(commits: list[CodeChangeEvent]) -> tuple[CodeChangeEvent, CodeChangeEvent]:
    """The two commits, one after the other, in which one (mailmapped) author wrote two addresses."""
    last_of: dict[str, CodeChangeEvent] = {}
    pair: tuple[CodeChangeEvent, CodeChangeEvent] | None = None
    for event in sorted(commits, key=lambda e: e.committed_at or e.authored_at):
        before = last_of.get(event.author.email)
        if before is not None and _written(before) != _written(event):
            pair = (before, event)
        last_of[event.author.email] = event
    assert pair is not None
    return pair


def _written(event: CodeChangeEvent) -> str:
    return (event.author.observed_email or event.author.email).lower()


def _fold(folded: dict[str, str], subject: str) -> str:
    while subject in folded:
        subject = folded[subject]
    return subject


def _subjects_by_kind(
    requests: list[AnalysisRequest], folded: dict[str, str]
) -> dict[AnalysisType, set[str]]:
    found: dict[AnalysisType, set[str]] = defaultdict(set)
    for request in requests:
        if request.analysis_type in DEVELOPER_SUBJECTS:
            found[request.analysis_type].add(_fold(folded, request.subject))
    return found


def _metrics() -> Any:
    return GatewayMetrics(CollectorRegistry())
