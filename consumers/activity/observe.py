"""What an event says about who did what, when: the observations the activity state counts.

Code changes count as commits (the push webhook's commits arrive as code changes too, so a push
only teaches email -> login aliases). Pull requests opened, reviews, comments and issues opened
count for their authors. Nothing of the content is kept: kinds, times, sizes and who with whom.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from consumers.identity.keys import noreply_login
from schemas.events import ActivityEvent, CodeChangeEvent

Kind = Literal["commit", "pull_request", "review", "comment", "issue"]
CO_AUTHOR = re.compile(r"^co-authored-by:\s*(?P<name>.*?)\s*<(?P<email>[^>]+)>\s*$", re.I | re.M)


@dataclass(frozen=True, slots=True)
class Person:
    login: str | None
    email: str | None
    name: str = ""

    @property
    def known_login(self) -> str | None:
        """The login the event gives: its own, else the one inside a GitHub noreply address."""
        if self.login and self.login.strip():
            return self.login.strip().lower()
        return noreply_login(self.email or "")


@dataclass(frozen=True, slots=True)
class Observation:
    event_id: str
    person: Person
    repository: str
    kind: Kind
    at: datetime
    """Aware, in the author's own offset where the event has it (after-hours and weekends)."""
    size: int | None = None
    turnaround_h: float | None = None
    peers: tuple[str, ...] = ()
    """Others worked with: logins, or emails when no login is known."""


def of_code_change(event: CodeChangeEvent) -> list[Observation]:
    if event.is_merge:
        return []
    author = Person(event.author.login, event.author.email, event.author.name)
    peers = tuple(_peer(Person(None, m["email"])) for m in CO_AUTHOR.finditer(event.message))
    return [Observation(event.event_id, author, event.repository, "commit", event.authored_at, peers=peers)]


def of_activity(event: ActivityEvent) -> list[Observation]:
    at = event.occurred_at
    if at is None or not event.repository:
        return []
    made = _made(event, at)
    return [made] if made is not None else []


def _made(event: ActivityEvent, at: datetime) -> Observation | None:
    observe = _OBSERVERS.get((event.event_type, event.action))
    return observe(event, at) if observe is not None else None


def _pull_request(event: ActivityEvent, at: datetime) -> Observation | None:
    pr = event.pull_request
    if pr is None:
        return None
    size = (pr.additions or 0) + (pr.deletions or 0)
    return _observed(event, pr.author, "pull_request", pr.created_at or at, size=size)


def _review(event: ActivityEvent, at: datetime) -> Observation | None:
    """The reviewer's, with the turnaround since the pull request was opened."""
    pr, review = event.pull_request, event.review
    if review is None:
        return None
    submitted = review.submitted_at or at
    started = pr.created_at if pr is not None else None
    hours = (submitted - started).total_seconds() / 3600 if started else None
    peers = (pr.author.lower(),) if pr is not None and pr.author else ()
    return _observed(event, review.author, "review", submitted, turnaround_h=hours, peers=peers)


def _comment(event: ActivityEvent, at: datetime) -> Observation | None:
    author = event.comment.author if event.comment else ""
    return _observed(event, author, "comment", at, peers=_issue_peer(event))


def _issue(event: ActivityEvent, at: datetime) -> Observation | None:
    return _observed(event, event.issue.author, "issue", at) if event.issue is not None else None


_OBSERVERS: dict[tuple[str, str], Callable[[ActivityEvent, datetime], Observation | None]] = {
    ("pull_request", "opened"): _pull_request,
    ("pull_request_review", "submitted"): _review,
    ("issue_comment", "created"): _comment,
    ("pull_request_review_comment", "created"): _comment,
    ("commit_comment", "created"): _comment,
    ("issues", "opened"): _issue,
}
"""What each (event, action) counts as; any other event counts nothing."""


def _observed(
    event: ActivityEvent,
    login: str,
    kind: Kind,
    at: datetime,
    *,
    size: int | None = None,
    turnaround_h: float | None = None,
    peers: tuple[str, ...] = (),
) -> Observation | None:
    who = login or (event.actor.login if event.actor else "")
    if not who:
        return None
    person = Person(who, None)
    return Observation(event.event_id, person, event.repository, kind, at, size, turnaround_h, peers)


def _issue_peer(event: ActivityEvent) -> tuple[str, ...]:
    author = (event.issue.author if event.issue else "") or (
        event.pull_request.author if event.pull_request else ""
    )
    return (author.lower(),) if author else ()


def _peer(person: Person) -> str:
    return person.known_login or (person.email or "").lower()


def people(event: CodeChangeEvent | ActivityEvent) -> list[Person]:
    """Everyone the event names (to pseudonymize requests): authors, committers, co-authors, actors."""
    if isinstance(event, CodeChangeEvent):
        found = [Person(p.login, p.email, p.name) for p in (event.author, event.committer) if p is not None]
        return found + [Person(None, m["email"], m["name"]) for m in CO_AUTHOR.finditer(event.message)]
    logins = [
        event.actor.login if event.actor else "",
        *(d.author for d in (event.pull_request, event.review, event.comment, event.issue) if d is not None),
    ]
    commits = event.push.commits if event.push else ()
    pushed = [Person(c.author_login, c.author_email, c.author_name) for c in commits]
    return [Person(login, None) for login in logins if login] + pushed
