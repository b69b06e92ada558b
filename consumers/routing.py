"""From events to analysis requests: one table says which analyses each event asks for.

`ACTIVITY_ROUTES` maps a GitHub activity event type to the actions that count, the analysis, and
the reader of its material; every commit of `code.changes` asks for `CODE_CHANGE_ANALYSES`.
Bots, merge commits and commits with no file worth analysing (`consumers/file_skips.py`:
signatures, lock files, vendored, generated or binary files) give nothing; a skip says why with
one `Skip` label (`consumers/skips.py`). Secrets are redacted by the gateway, in everything it sends
to a provider (`gateway/redaction/`). Request ids
are derived from the event id, the analysis and the part (`all`, or the path of its first file when a
large commit is split into parts, `consumers/parts.py`), so a replayed event yields the same
requests. Every part of a commit carries the whole commit's facts and which part it is
(`consumers/commit_facts.py`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from consumers.commit_facts import commit_facts, file_language, part_facts
from consumers.config import RoutingConfig
from consumers.file_skips import FileSkip, file_skips
from consumers.parts import CODE_CHANGE_ANALYSES, WHOLE, Budget, FileDiff, file_diff, split, trimming_facts
from consumers.skips import Skip
from schemas.events import ActivityEvent, CodeChangeEvent, FileChange
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType, Priority


@dataclass(frozen=True, slots=True)
class Routed:
    """The requests an event gives; when there are none, `skipped` says why (one fixed label)."""

    requests: tuple[AnalysisRequest, ...]
    skipped: Skip | None = None
    detail: str = ""
    """The skip in words for people (which bot, which action): for logs, never a metric label."""
    files_skipped: tuple[tuple[FileSkip, int], ...] = ()
    """A commit's files left out of its analyses, counted per reason (`consumers/file_skips.py`)."""


@dataclass(frozen=True, slots=True)
class Material:
    """What an activity event gives its analysis: whose it is, the text and some facts."""

    author: str
    text: str
    facts: Mapping[str, Any]


Reader = Callable[[ActivityEvent], Material | Skip]
"""The material of an event, or why there is none."""


# --- material readers ------------------------------------------------------------------------


def pull_request_material(event: ActivityEvent) -> Material | Skip:
    pr = event.pull_request
    if pr is None or not (pr.title.strip() or pr.body.strip()):
        return Skip.NO_TEXT
    size = {"additions": pr.additions, "deletions": pr.deletions, "changed_files": pr.changed_files}
    known = {name: value for name, value in size.items() if value is not None}
    figures = ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in known.items())
    text = _paragraphs(f"Pull request #{pr.number}: {pr.title}", pr.body, f"Size: {figures or 'unknown'}")
    facts = {"number": pr.number, "state": pr.state, **known}
    return Material(pr.author or _actor_login(event), text, facts)


def issue_material(event: ActivityEvent) -> Material | Skip:
    issue = event.issue
    if issue is None or not (issue.title.strip() or issue.body.strip()):
        return Skip.NO_TEXT
    text = _paragraphs(f"Issue #{issue.number}: {issue.title}", issue.body)
    facts = {"number": issue.number, "state": issue.state, "labels": list(issue.labels)}
    return Material(issue.author or _actor_login(event), text, facts)


def review_material(event: ActivityEvent) -> Material | Skip:
    review = event.review
    if review is None or not review.body.strip():
        return Skip.NO_TEXT
    facts = {"review_state": review.state, "number": _pull_number(event)}
    return Material(review.author or _actor_login(event), review.body, facts)


def comment_material(event: ActivityEvent) -> Material | Skip:
    comment = event.comment
    if comment is None or not comment.body.strip():
        return Skip.NO_TEXT
    number = _pull_number(event) or (event.issue.number if event.issue else None)
    facts = {"comment_kind": comment.kind, "path": comment.path, "number": number}
    return Material(comment.author or _actor_login(event), comment.body, facts)


def _paragraphs(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part.strip())


def _pull_number(event: ActivityEvent) -> int | None:
    return event.pull_request.number if event.pull_request else None


def _actor_login(event: ActivityEvent) -> str:
    return event.actor.login if event.actor else ""


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Route:
    actions: str
    """The actions that count, space-separated."""
    analysis: AnalysisType
    material: Reader

    def applies_to(self, action: str) -> bool:
        return action in self.actions.split()


TASK_SIGNALS, SOFT_SKILLS = AnalysisType.TASK_SIGNALS, AnalysisType.SOFT_SKILLS

# fmt: off
ACTIVITY_ROUTES: Mapping[str, Route] = MappingProxyType({
    # event type                    actions that count               analysis      material
    "pull_request":                 Route("opened edited reopened", TASK_SIGNALS, pull_request_material),
    "issues":                       Route("opened edited",          TASK_SIGNALS, issue_material),
    "pull_request_review":          Route("submitted edited",       SOFT_SKILLS,  review_material),
    "pull_request_review_comment":  Route("created edited",         SOFT_SKILLS,  comment_material),
    "issue_comment":                Route("created edited",         SOFT_SKILLS,  comment_material),
    "commit_comment":               Route("created",                SOFT_SKILLS,  comment_material),
})
# fmt: on
"""Activity event type -> the one analysis it asks for; every other event type asks for none."""


DEVELOPER_ANALYSES: frozenset[AnalysisType] = frozenset({SOFT_SKILLS, *CODE_CHANGE_ANALYSES})
"""Analyses about a developer (subject: login, else email); the others are about the repository."""


# --- activity --------------------------------------------------------------------------------


def route_activity(event: ActivityEvent, config: RoutingConfig, priority: Priority = "live") -> Routed:
    route = ACTIVITY_ROUTES.get(event.event_type)
    if route is None:
        return Routed((), Skip.UNROUTED_TYPE, detail=f"no analyses for event {event.event_type}")
    if not route.applies_to(event.action):
        action = event.action or "(no action)"
        return Routed((), Skip.UNROUTED_ACTION, detail=f"no analyses for {event.event_type} {action}")
    actor = event.actor
    if actor is not None and (actor.type == "Bot" or is_bot(actor.login, config)):
        return Routed((), Skip.BOT, detail=f"bot actor {actor.login}")
    material = route.material(event)
    if isinstance(material, Skip):
        return Routed((), material, detail=f"{material.value}: {event.event_type} {event.action}")
    return _refusal(route, material, config) or _activity_request(event, route, material, priority)


def _refusal(route: Route, material: Material, config: RoutingConfig) -> Routed | None:
    if is_bot(material.author, config):
        return Routed((), Skip.BOT, detail=f"bot author {material.author}")
    if route.analysis in DEVELOPER_ANALYSES and not material.author:
        return Routed((), Skip.NO_AUTHOR, detail=f"no author for {route.analysis.value}")
    return None


def _activity_request(event: ActivityEvent, route: Route, material: Material, priority: Priority) -> Routed:
    facts = {"author": material.author, **material.facts}
    context = {**_event_context(event), **{k: v for k, v in facts.items() if v is not None}}
    subject = material.author if route.analysis in DEVELOPER_ANALYSES else event.repository
    request = _request(route.analysis, material.text, context, subject, priority, (event.event_id, WHOLE))
    return Routed((request,))


def _event_context(event: ActivityEvent) -> dict[str, Any]:
    occurred = event.occurred_at.isoformat() if event.occurred_at else None
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "action": event.action,
        "repository": event.repository,
        **({"occurred_at": occurred} if occurred else {}),
    }


# --- code changes ----------------------------------------------------------------------------


def route_code_change(event: CodeChangeEvent, config: RoutingConfig, priority: Priority = "live") -> Routed:
    if event.is_merge:
        return Routed((), Skip.MERGE_COMMIT)
    author = event.author.login or event.author.name
    if is_bot(author, config):
        return Routed((), Skip.BOT, detail=f"bot author {author}")
    skips = file_skips(event.files, config)
    skipped = files_skipped(skips)
    kept = [f for f, skip in zip(event.files, skips, strict=True) if skip is None]
    if not kept:
        detail = f"no file to analyse: {_described(skipped)}" if event.files else "no files"
        return Routed((), Skip.NOTHING_ANALYSABLE, detail=detail, files_skipped=skipped)
    commit = commit_facts(event, skips)
    budget = Budget.of(config, commit)
    groups = split([file_diff(f, budget) for f in kept], budget)
    requests = [
        request
        for index, (group, part) in enumerate(groups, 1)
        for request in _code_requests(event, group, part, _whole(commit, index, len(groups)), priority)
    ]
    return Routed(tuple(requests), files_skipped=skipped)


def files_skipped(skips: Iterable[FileSkip | None]) -> tuple[tuple[FileSkip, int], ...]:
    """How many files were left out for each reason, by reason."""
    counts: dict[FileSkip, int] = {}
    for skip in skips:
        if skip is not None:
            counts[skip] = counts.get(skip, 0) + 1
    return tuple(sorted(counts.items()))


def _described(skipped: tuple[tuple[FileSkip, int], ...]) -> str:
    return ", ".join(f"{count} {reason.value}" for reason, count in skipped)


def _code_requests(
    event: CodeChangeEvent, diffs: list[FileDiff], part: str, whole: dict[str, Any], priority: Priority
) -> Iterable[AnalysisRequest]:
    subject = event.author.login or event.author.email
    context = {**_commit_context(event, subject), **_files_context(diffs), **whole}
    first, *others = CODE_CHANGE_ANALYSES
    request = _request(first, _join(diffs), context, subject, priority, (event.event_id, part))
    yield request
    for analysis in others:
        yield _sibling(request, analysis, request_id(event.event_id, analysis, part))


def _commit_context(event: CodeChangeEvent, subject: str) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": "code_change",
        "action": "",
        "repository": event.repository,
        "sha": event.sha,
        "author": subject,
        "authored_at": event.authored_at.isoformat(),
    }


def _files_context(diffs: list[FileDiff]) -> dict[str, Any]:
    paths = [d.change.path for d in diffs]
    files = [_file_facts(d.change) for d in diffs]
    languages = sorted({lang for lang in (file_language(d.change) for d in diffs) if lang})
    single = {"path": paths[0]} if len(paths) == 1 else {}
    return {**single, "paths": paths, "files": files, "languages": languages, **trimming_facts(diffs)}


def _file_facts(change: FileChange) -> dict[str, Any]:
    facts = ("path", "status", "additions", "deletions")
    return {name: getattr(change, name) for name in facts}


def _whole(commit: dict[str, Any], index: int, count: int) -> dict[str, Any]:
    """The commit every part belongs to, and which part this is (`consumers/commit_facts.py`)."""
    return {"commit": commit, "part": part_facts(index, count)}


def _join(diffs: list[FileDiff]) -> str:
    return "\n".join(d.text for d in diffs)


# --- shared ----------------------------------------------------------------------------------


def is_bot(login: str, config: RoutingConfig) -> bool:
    return bool(login) and _bot_pattern(config.bot_pattern).search(login) is not None


@cache
def _bot_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def request_id(event_id: str, analysis: AnalysisType, part: str) -> str:
    """Deterministic: sha256 of `event_id:analysis:part`, first 32 hex characters."""
    return hashlib.sha256(f"{event_id}:{analysis.value}:{part}".encode()).hexdigest()[:32]


def _sibling(request: AnalysisRequest, analysis: AnalysisType, request_id: str) -> AnalysisRequest:
    """Another analysis of a validated request's material, with a context dict of its own (changing
    one request's context never changes another's). `model_copy` validates nothing, and nothing
    needs it: the other fields are the request's, and the analysis type and the request id are
    typed values on which their fields put no constraint."""
    update = {"analysis_type": analysis, "request_id": request_id, "context": dict(request.context)}
    return request.model_copy(update=update)


def _request(
    analysis: AnalysisType,
    content: str,
    context: Mapping[str, Any],
    subject: str,
    priority: Priority,
    origin: tuple[str, str],
) -> AnalysisRequest:
    return AnalysisRequest(
        analysis_type=analysis,
        content=content,
        context=dict(context),
        request_id=request_id(origin[0], analysis, origin[1]),
        priority=priority,
        subject=subject,
    )


# --- fused calls -----------------------------------------------------------------------------


def fused_groups(requests: Iterable[AnalysisRequest], fuse: bool) -> list[list[AnalysisRequest]]:
    """The requests in gateway calls: with `fuse` (`RoutingConfig.fuse_code_analyses`), the code
    analyses of the same material (content, context and priority) together, for one fused call
    (`Gateway.analyze_many`); every other request alone. In the order of each group's first request."""
    groups: list[list[AnalysisRequest]] = []
    shared: dict[tuple[str, Priority], list[list[AnalysisRequest]]] = {}
    for request in requests:
        if not fuse or request.analysis_type not in CODE_CHANGE_ANALYSES:
            groups.append([request])
            continue
        candidates = shared.setdefault((request.content, request.priority), [])
        group = next((g for g in candidates if _joins(g, request)), None)
        if group is None:
            candidates.append(group := [])
            groups.append(group)
        group.append(request)
    return groups


def _joins(group: list[AnalysisRequest], request: AnalysisRequest) -> bool:
    """Same context as the group, and an analysis the group does not have yet."""
    first = group[0]
    return first.context == request.context and all(r.analysis_type != request.analysis_type for r in group)
