"""The typed parts of an activity event that the analyses read: pull request, review, comment, ..."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.events.decode import JsonObject
from schemas.events.fields import flag, integer, login, obj, objects, opt_text, strings, text, when

CommentKind = Literal["issue", "review", "commit", "discussion"]


class Detail(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PullRequestDetail(Detail):
    number: int | None = None
    title: str = ""
    body: str = ""
    author: str = Field(default="", description="Login of the pull request's author.")
    state: str = ""
    merged: bool | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    created_at: AwareDatetime | None = None


class ReviewDetail(Detail):
    state: str = ""
    body: str = ""
    author: str = ""
    submitted_at: AwareDatetime | None = None


class CommentDetail(Detail):
    body: str = ""
    author: str = ""
    kind: CommentKind
    path: str | None = Field(default=None, description="The commented file (review and commit comments).")
    created_at: AwareDatetime | None = None


class IssueDetail(Detail):
    number: int | None = None
    title: str = ""
    body: str = ""
    author: str = ""
    labels: tuple[str, ...] = ()
    state: str = ""


class PushCommit(Detail):
    sha: str
    message: str = ""
    author_name: str = ""
    author_email: str = ""
    author_login: str | None = None
    timestamp: AwareDatetime | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    distinct: bool = True


class PushDetail(Detail):
    ref: str = ""
    before: str = ""
    after: str = ""
    commits: tuple[PushCommit, ...] = ()


def pull_request_detail(pr: JsonObject, payload: JsonObject) -> PullRequestDetail:
    return PullRequestDetail(
        number=integer(pr, "number") or integer(payload, "number"),
        title=text(pr, "title"),
        body=text(pr, "body"),
        author=login(pr, "user"),
        state=text(pr, "state"),
        merged=flag(pr, "merged"),
        additions=integer(pr, "additions"),
        deletions=integer(pr, "deletions"),
        changed_files=integer(pr, "changed_files"),
        created_at=when(pr.get("created_at")),
    )


def review_detail(review: JsonObject) -> ReviewDetail:
    return ReviewDetail(
        state=text(review, "state"),
        body=text(review, "body"),
        author=login(review, "user"),
        submitted_at=when(review.get("submitted_at")),
    )


def comment_detail(comment: JsonObject, kind: CommentKind) -> CommentDetail:
    return CommentDetail(
        body=text(comment, "body"),
        author=login(comment, "user"),
        kind=kind,
        path=opt_text(comment, "path"),
        created_at=when(comment.get("created_at")),
    )


def issue_detail(issue: JsonObject) -> IssueDetail:
    return IssueDetail(
        number=integer(issue, "number"),
        title=text(issue, "title"),
        body=text(issue, "body"),
        author=login(issue, "user"),
        labels=tuple(text(label, "name") for label in objects(issue, "labels")) + strings(issue, "labels"),
        state=text(issue, "state"),
    )


def push_commit(commit: JsonObject) -> PushCommit:
    """A commit of a webhook push (`id`, `timestamp`, paths) or of an Events API push (`sha`)."""
    author = obj(commit, "author")
    return PushCommit(
        sha=text(commit, "id") or text(commit, "sha"),
        message=text(commit, "message"),
        author_name=text(author, "name"),
        author_email=text(author, "email"),
        author_login=opt_text(author, "username"),
        timestamp=when(commit.get("timestamp")),
        added=strings(commit, "added"),
        removed=strings(commit, "removed"),
        modified=strings(commit, "modified"),
        distinct=flag(commit, "distinct") is not False,
    )


def push_detail(payload: JsonObject, commits: tuple[JsonObject, ...]) -> PushDetail:
    return PushDetail(
        ref=text(payload, "ref"),
        before=text(payload, "before"),
        after=text(payload, "after") or text(payload, "head"),
        commits=tuple(push_commit(c) for c in commits),
    )
