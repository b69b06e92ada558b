"""A push delivery's commits as `CodeChangeEvent`s, from the webhook payload alone (no patches).

- A branch deletion (`deleted: true`) has no commits and yields none.
- Commits with `distinct: false` are skipped: they were already pushed to this repository (another branch,
  a merge, a fast-forward), so their change was published with that earlier push.
- A commit the schema rejects (no sha, no timestamp) is skipped and counted, never failing the delivery.
- The payload names files added, removed and modified; a rename shows as removed + added. Parents are not
  in the payload, so merge commits are only recognised when the GitHub API fills them in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from producers.webhook.delivery import text_at
from schemas.events.code_change import CodeChangeEvent

_FILE_LISTS = (("added", "added"), ("removed", "removed"), ("modified", "modified"))


@dataclass(frozen=True, slots=True)
class PushCommits:
    events: tuple[CodeChangeEvent, ...] = ()
    not_distinct: int = 0
    invalid: int = 0


def push_commits(payload: Mapping[str, Any]) -> PushCommits:
    repository = text_at(payload.get("repository"), "full_name")
    commits = [c for c in payload.get("commits") or () if isinstance(c, dict)]
    if payload.get("deleted") or not repository:
        return PushCommits()
    distinct = [c for c in commits if c.get("distinct", True) is not False]
    events = tuple(_valid(repository, distinct))
    return PushCommits(events, len(commits) - len(distinct), len(distinct) - len(events))


def _valid(repository: str, commits: Sequence[Mapping[str, Any]]) -> Iterator[CodeChangeEvent]:
    for commit in commits:
        try:
            event = CodeChangeEvent.model_validate(_fields(repository, commit))
        except ValidationError:
            continue
        yield event


def _fields(repository: str, commit: Mapping[str, Any]) -> dict[str, Any]:
    committer = commit.get("committer")
    return {
        "repository": repository,
        "sha": commit.get("id"),
        "author": _identity(commit.get("author") or {}),
        "committer": _identity(committer) if isinstance(committer, dict) else None,
        "authored_at": commit.get("timestamp"),
        "message": commit.get("message") or "",
        "files": [
            {"path": path, "status": status} for key, status in _FILE_LISTS for path in commit.get(key) or ()
        ],
    }


def _identity(person: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": person.get("name") or "",
        "email": person.get("email") or "",
        "login": person.get("username"),
    }
