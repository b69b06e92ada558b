"""Events API and GH Archive records of every era, rewritten to today's Events API shape.

The one place older shapes are known (`tests/data/gharchive/SOURCES.md` describes them):
- the Timeline shape: `actor` a login string (or null) beside an `actor_attributes` object, a
  `repository` object (`name`, `owner` as a string, html `url`) instead of `repo`, no `payload` on
  some types, dates like `2011/01/18 11:42:14 -0800` (read by `fields.when`);
- legacy payloads (Timeline and the early Events API): a push lists `shas`
  (`[sha, email, message, name, distinct]`) instead of `commits`; an issue, an issue comment or a
  commit comment is named by its id only (`issue: 545975`, `issue_id`, `comment_id`); a review
  comment has no `pull_request`, only a link to it;
- actions said otherwise than in webhooks: the Events API sends a review as `created` (a webhook
  says `submitted`), and comments without an action (a comment event is its creation).

Each rule applies where its old field is found, whatever the record's era; a record already in
today's shape comes back as it is. Nothing is invented: what the old record does not say (an issue's
title, a comment's text) stays empty, and routing skips it as having no text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from schemas.events.decode import JsonObject
from schemas.events.fields import obj, text

Rule = Callable[[JsonObject], dict[str, Any]]
"""A payload -> the fields to replace in it (none when the payload is already in today's shape)."""

IMPLIED_ACTION = "created"
"""The action of a comment event that names none."""

_PULL_LINK = re.compile(r"/pulls/(?P<number>\d+)$")
_PAGE = re.compile(r"https://github\.com/(?P<owner>[^/]+)/(?P<name>[^/#?]+)")


def normalize(record: JsonObject) -> JsonObject:
    """The record in today's Events API shape."""
    changes = _timeline(record) if _is_timeline(record) else {}
    payload = changes.get("payload", record.get("payload"))
    if isinstance(payload, Mapping):
        fixed = _payload(str(record.get("type")), payload)
        if fixed is not payload:
            changes["payload"] = fixed
    return {**record, **changes} if changes else record


def _is_timeline(record: JsonObject) -> bool:
    """A login string as `actor`, or a `repository` / `actor_attributes` in place of `repo`."""
    legacy = "repository" in record or "actor_attributes" in record
    return isinstance(record.get("actor"), str) or ("repo" not in record and legacy)


def _timeline(record: JsonObject) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    attributes = obj(record, "actor_attributes")
    login = record.get("actor") if isinstance(record.get("actor"), str) else text(attributes, "login")
    if login:
        changes["actor"] = {"login": login, "type": text(attributes, "type") or None}
    full_name = _full_name(record)
    if "repo" not in record and full_name:
        changes["repo"] = {"name": full_name}
    if record.get("payload") is None:  # absent on some types (PublicEvent)
        changes["payload"] = {}
    return changes


def _full_name(record: JsonObject) -> str:
    """`owner/name` of the `repository` (`owner` a login string). Where the owner is left empty
    (an account since renamed or deleted), the event's own page (the record's html `url`,
    `https://github.com/<owner>/<name>/...`) names it, when it is a page of that repository: a
    fork's page is the new fork's, so a fork gets none."""
    repository = obj(record, "repository")
    owner, name = text(repository, "owner"), text(repository, "name")
    if owner and name:
        return f"{owner}/{name}"
    page = _PAGE.match(text(record, "url"))
    same = page is not None and page["name"] == name and record.get("type") != "ForkEvent"
    return f"{page['owner']}/{name}" if page is not None and same else ""


# --- payloads --------------------------------------------------------------------------------


def _payload(type_name: str, payload: JsonObject) -> JsonObject:
    changes: dict[str, Any] = {}
    for rule in RULES.get(type_name, ()):
        changes.update(rule({**payload, **changes} if changes else payload))
    return {**payload, **changes} if changes else payload


def _commits_from_shas(payload: JsonObject) -> dict[str, Any]:
    shas = payload.get("shas")
    if "commits" in payload or not isinstance(shas, list):
        return {}
    return {"commits": [_sha_commit(entry) for entry in shas if isinstance(entry, list) and entry]}


def _sha_commit(entry: list[Any]) -> dict[str, Any]:
    """`[sha, email, message, name]`, with `distinct` fifth from 2012 on."""
    sha, email, message, name, distinct = (entry + [None] * 5)[:5]
    commit = {"sha": sha, "author": {"email": email, "name": name}, "message": message}
    return commit | ({"distinct": distinct} if isinstance(distinct, bool) else {})


def _issue_by_id(payload: JsonObject) -> dict[str, Any]:
    """`issue: <id>` with the issue's `number` beside it, or `issue_id` alone."""
    issue = payload.get("issue")
    if _is_id(issue):
        number = payload.get("number")
        return {"issue": {"id": issue, **({"number": number} if _is_id(number) else {})}}
    if "issue" not in payload and _is_id(payload.get("issue_id")):
        return {"issue": {"id": payload["issue_id"]}}
    return {}


def _comment_by_id(payload: JsonObject) -> dict[str, Any]:
    """`comment_id` (and a commit comment's `commit`) instead of the comment."""
    if "comment" in payload or not _is_id(payload.get("comment_id")):
        return {}
    commit = {"commit_id": payload["commit"]} if isinstance(payload.get("commit"), str) else {}
    return {"comment": {"id": payload["comment_id"], **commit}}


def _linked_pull_request(payload: JsonObject) -> dict[str, Any]:
    """A review comment always belongs to a pull request; an old one only links it. Its number is
    read from the link; without a link, which pull request stays unknown."""
    if "pull_request" in payload:
        return {}
    comment = obj(payload, "comment")
    link = text(comment, "pull_request_url") or text(obj(obj(comment, "_links"), "pull_request"), "href")
    found = _PULL_LINK.search(link)
    return {"pull_request": {"number": int(found["number"])} if found else {}}


def _implied_action(payload: JsonObject) -> dict[str, Any]:
    return {} if text(payload, "action") else {"action": IMPLIED_ACTION}


def _review_submitted(payload: JsonObject) -> dict[str, Any]:
    """The Events API's `created` review is the webhook's `submitted` one."""
    return {"action": "submitted"} if text(payload, "action") == "created" else {}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


RULES: Mapping[str, tuple[Rule, ...]] = MappingProxyType(
    {
        "PushEvent": (_commits_from_shas,),
        "IssuesEvent": (_issue_by_id,),
        "IssueCommentEvent": (_issue_by_id, _comment_by_id, _implied_action),
        "CommitCommentEvent": (_comment_by_id, _implied_action),
        "PullRequestReviewCommentEvent": (_linked_pull_request, _implied_action),
        "PullRequestReviewEvent": (_review_submitted,),
    }
)
"""Events API type -> the rules its payload goes through, in order."""
