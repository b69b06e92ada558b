"""Event names: Events API / GH Archive `type` values and their webhook (X-GitHub-Event) names."""

from __future__ import annotations

import re
from types import MappingProxyType

EVENTS_API_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {
        "CommitCommentEvent": "commit_comment",
        "CreateEvent": "create",
        "DeleteEvent": "delete",
        "DiscussionEvent": "discussion",
        "ForkEvent": "fork",
        "GollumEvent": "gollum",
        "IssueCommentEvent": "issue_comment",
        "IssuesEvent": "issues",
        "MemberEvent": "member",
        "PublicEvent": "public",
        "PullRequestEvent": "pull_request",
        "PullRequestReviewCommentEvent": "pull_request_review_comment",
        "PullRequestReviewEvent": "pull_request_review",
        "PullRequestReviewThreadEvent": "pull_request_review_thread",
        "PushEvent": "push",
        "ReleaseEvent": "release",
        "SponsorshipEvent": "sponsorship",
        "WatchEvent": "watch",
    }
)
"""The event types the Events API documents, by name."""

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def from_events_api(type_name: str) -> str:
    """`PullRequestEvent` -> `pull_request`; unlisted names by rule (`CheckRunEvent` -> `check_run`)."""
    known = EVENTS_API_NAMES.get(type_name)
    if known is not None:
        return known
    stem = type_name.removesuffix("Event") or type_name
    return _WORD_START.sub("_", stem).lower()


def from_header(header: str) -> str:
    """The X-GitHub-Event header value as an event type (trimmed, lower case)."""
    return header.strip().lower()
