"""Which typed details each event type carries, and when a webhook's event happened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import MappingProxyType

from schemas.events.decode import JsonObject
from schemas.events.details import (
    CommentKind,
    Detail,
    comment_detail,
    issue_detail,
    pull_request_detail,
    push_detail,
    review_detail,
)
from schemas.events.errors import MalformedEvent
from schemas.events.fields import obj, objects, required_obj, when

Extractor = Callable[[JsonObject, str], tuple[str, Detail]]
"""(payload, event type) -> (ActivityEvent field name, detail)."""


def _pull_request(payload: JsonObject, event_type: str) -> tuple[str, Detail]:
    pr = required_obj(payload, "pull_request", event_type)
    return "pull_request", pull_request_detail(pr, payload)


def _review(payload: JsonObject, event_type: str) -> tuple[str, Detail]:
    return "review", review_detail(required_obj(payload, "review", event_type))


def _issue(payload: JsonObject, event_type: str) -> tuple[str, Detail]:
    return "issue", issue_detail(required_obj(payload, "issue", event_type))


def _comment(kind: CommentKind) -> Extractor:
    def extract(payload: JsonObject, event_type: str) -> tuple[str, Detail]:
        return "comment", comment_detail(required_obj(payload, "comment", event_type), kind)

    return extract


def _push(payload: JsonObject, event_type: str) -> tuple[str, Detail]:
    commits = payload.get("commits")
    if commits is not None and not isinstance(commits, list):
        raise MalformedEvent(f"{event_type} event: 'commits' is a {type(commits).__name__}, not a list")
    return "push", push_detail(payload, objects(payload, "commits"))


DETAILS: MappingProxyType[str, tuple[Extractor, ...]] = MappingProxyType(
    {
        "pull_request": (_pull_request,),
        "pull_request_review": (_pull_request, _review),
        "pull_request_review_comment": (_pull_request, _comment("review")),
        "pull_request_review_thread": (_pull_request,),
        "issues": (_issue,),
        "issue_comment": (_issue, _comment("issue")),
        "commit_comment": (_comment("commit"),),
        "discussion_comment": (_comment("discussion"),),
        "push": (_push,),
    }
)
"""Event type -> the details read from its payload; other event types carry none."""


def details(event_type: str, payload: JsonObject) -> dict[str, Detail]:
    return dict(extract(payload, event_type) for extract in DETAILS.get(event_type, ()))


TIME_OBJECTS: tuple[str, ...] = (
    *("review", "comment", "pull_request", "issue", "discussion", "release"),
    *("deployment_status", "deployment", "check_run", "check_suite", "workflow_job", "workflow_run"),
    *("alert", "security_advisory", "milestone", "project_card", "project_column", "project"),
    *("projects_v2_item", "rule", "forkee", "sponsorship", "head_commit", ""),
)
"""The objects of a webhook that may say when its event happened, first found wins ("" = the payload)."""

TIME_FIELDS: tuple[str, ...] = (
    *("submitted_at", "starred_at", "completed_at", "updated_at"),
    *("published_at", "created_at", "timestamp", "started_at"),
)

PUSHED_AT_EVENTS = frozenset({"push", "create", "delete"})
"""Events whose last resort is the repository's `pushed_at`."""


def webhook_time(event_type: str, payload: JsonObject) -> datetime | None:
    for key in TIME_OBJECTS:
        found = _first_time(obj(payload, key) if key else payload, TIME_FIELDS)
        if found is not None:
            return found
    pushed = event_type in PUSHED_AT_EVENTS
    return _first_time(obj(payload, "repository"), ("pushed_at",)) if pushed else None


def _first_time(source: JsonObject, fields: tuple[str, ...]) -> datetime | None:
    return next((t for t in (when(source.get(f)) for f in fields) if t is not None), None)
