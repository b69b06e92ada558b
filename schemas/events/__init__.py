"""Input events of the stream processor: GitHub activity and code changes, normalized."""

from schemas.events.activity import ActivityEvent, Actor, parse_activity
from schemas.events.code_change import CodeChangeEvent, FileChange, GitIdentity, parse_code_change
from schemas.events.details import (
    CommentDetail,
    IssueDetail,
    PullRequestDetail,
    PushCommit,
    PushDetail,
    ReviewDetail,
)
from schemas.events.errors import MalformedEvent
from schemas.events.names import EVENTS_API_NAMES

__all__ = [
    "EVENTS_API_NAMES",
    "ActivityEvent",
    "Actor",
    "CodeChangeEvent",
    "CommentDetail",
    "FileChange",
    "GitIdentity",
    "IssueDetail",
    "MalformedEvent",
    "PullRequestDetail",
    "PushCommit",
    "PushDetail",
    "ReviewDetail",
    "parse_activity",
    "parse_code_change",
]
