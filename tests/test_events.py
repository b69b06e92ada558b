"""Normalizing GitHub activity (webhooks and Events API records) and code changes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.events import (
    EVENTS_API_NAMES,
    ActivityEvent,
    CodeChangeEvent,
    MalformedEvent,
    parse_activity,
    parse_code_change,
)
from tests.corpora import WEBHOOKS

EXAMPLES = sorted(WEBHOOKS.glob("*/*.json"))

EVENTS_API_TYPES = {
    "push": "PushEvent",
    "pull_request": "PullRequestEvent",
    "pull_request_review": "PullRequestReviewEvent",
    "pull_request_review_comment": "PullRequestReviewCommentEvent",
    "pull_request_review_thread": "PullRequestReviewThreadEvent",
    "issue_comment": "IssueCommentEvent",
    "issues": "IssuesEvent",
    "commit_comment": "CommitCommentEvent",
    "create": "CreateEvent",
    "delete": "DeleteEvent",
    "watch": "WatchEvent",
    "fork": "ForkEvent",
    "release": "ReleaseEvent",
    "gollum": "GollumEvent",
    "member": "MemberEvent",
    "public": "PublicEvent",
    "discussion": "DiscussionEvent",
    "sponsorship": "SponsorshipEvent",
}
DETAILS = ("pull_request", "review", "comment", "issue", "push")


def example(name: str) -> tuple[str, bytes]:
    path = WEBHOOKS / name
    return path.parent.name, path.read_bytes()


def webhook(name: str, delivery: str | None = None) -> ActivityEvent:
    event, value = example(name)
    return parse_activity(value, event, delivery)


def events_api_record(event: str, payload: dict[str, Any], record_id: str = "40512345678") -> dict[str, Any]:
    type_name = EVENTS_API_TYPES.get(event) or "".join(w.capitalize() for w in event.split("_")) + "Event"
    sender = payload.get("sender") or {"login": "someone", "id": 1}
    full_name = (payload.get("repository") or {}).get("full_name", "octo/repo")
    return {
        "id": record_id,
        "type": type_name,
        "actor": {"id": sender["id"], "login": sender["login"], "display_login": sender["login"]},
        "repo": {"id": 7, "name": full_name, "url": f"https://api.github.com/repos/{full_name}"},
        "payload": payload,
        "public": True,
        "created_at": "2026-05-01T20:10:00Z",
    }


def test_the_corpus_is_there() -> None:
    assert len(EXAMPLES) >= 250
    assert len({p.parent.name for p in EXAMPLES}) >= 58


def test_events_api_names_are_mapped_to_webhook_names() -> None:
    assert {v: k for k, v in EVENTS_API_NAMES.items()} == EVENTS_API_TYPES


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_webhook_example_parses(path: Path) -> None:
    payload = orjson.loads(path.read_bytes())
    event = parse_activity(path.read_bytes(), path.parent.name, None)
    assert event.shape == "webhook"
    assert event.event_type == path.parent.name
    assert event.action == (payload.get("action") or "")
    assert event.repository == ((payload.get("repository") or {}).get("full_name") or "")
    sender = payload.get("sender")
    assert (event.actor.login if event.actor else None) == (sender["login"] if sender else None)
    assert len(event.event_id) == 64
    assert parse_activity(path.read_bytes(), path.parent.name, None) == event


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_parses_as_an_events_api_record(path: Path) -> None:
    payload = orjson.loads(path.read_bytes())
    record = events_api_record(path.parent.name, payload)
    event = parse_activity(orjson.dumps(record), None, "ignored-delivery")
    from_webhook = parse_activity(path.read_bytes(), path.parent.name, None)
    assert event.shape == "events_api"
    assert event.event_id == "40512345678"
    assert event.event_type == path.parent.name
    assert event.action == from_webhook.action
    assert event.repository == record["repo"]["name"]
    assert event.occurred_at == datetime(2026, 5, 1, 20, 10, tzinfo=UTC)
    assert event.actor is not None and event.actor.login == record["actor"]["login"]
    for detail in DETAILS:
        assert getattr(event, detail) == getattr(from_webhook, detail)


# --- normalization details -------------------------------------------------------------------


def test_push_with_a_commit() -> None:
    event = webhook("push/with-new-branch.payload.json")
    assert (event.event_type, event.action, event.repository) == ("push", "", "Codertocat/Hello-World")
    assert event.push is not None and event.push.ref == "refs/heads/master"
    assert event.push.after == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    (commit,) = event.push.commits
    assert (commit.sha[:7], commit.message, commit.author_login) == (
        "6113728",
        "Initial commit",
        "Codertocat",
    )
    assert commit.author_email == "21031067+Codertocat@users.noreply.github.com"
    assert (commit.added, commit.removed, commit.modified, commit.distinct) == (("README.md",), (), (), True)
    assert commit.timestamp == datetime(2019, 5, 15, 15, 19, 25, tzinfo=UTC)
    assert event.occurred_at == commit.timestamp
    assert event.pull_request is None and event.comment is None


def test_tag_deletion_push_takes_its_time_from_the_repository_pushed_at() -> None:
    event = webhook("push/payload.json")
    assert event.push is not None and event.push.commits == ()
    assert event.occurred_at == datetime.fromtimestamp(1557933657, UTC)


def test_events_api_push_commits_use_sha_and_head() -> None:
    payload = {
        "push_id": 1,
        "ref": "refs/heads/main",
        "head": "b" * 40,
        "before": "a" * 40,
        "commits": [
            {
                "sha": "b" * 40,
                "author": {"email": "ada@example.com", "name": "Ada"},
                "message": "Fix",
                "distinct": False,
            }
        ],
    }
    event = parse_activity(orjson.dumps(events_api_record("push", payload)), None, None)
    assert event.push is not None and event.push.after == "b" * 40
    (commit,) = event.push.commits
    assert (commit.sha, commit.author_name, commit.author_login, commit.distinct) == (
        "b" * 40,
        "Ada",
        None,
        False,
    )
    assert commit.timestamp is None


def test_pull_request_opened() -> None:
    event = webhook("pull_request/opened.payload.json", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert event.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert (event.event_type, event.action) == ("pull_request", "opened")
    assert event.actor is not None and (event.actor.login, event.actor.type) == ("Codertocat", "User")
    pr = event.pull_request
    assert pr is not None
    assert (pr.number, pr.title, pr.author, pr.state, pr.merged) == (
        2,
        "Update the README with new information.",
        "Codertocat",
        "open",
        False,
    )
    assert (pr.additions, pr.deletions, pr.changed_files) == (1, 1, 1)
    assert pr.body.startswith("This is a pretty simple change")
    assert pr.created_at == datetime(2019, 5, 15, 15, 20, 33, tzinfo=UTC)


def test_pull_request_with_a_null_body_reads_as_empty() -> None:
    event = webhook("pull_request/opened.with-null-body.json")
    assert event.pull_request is not None and event.pull_request.body == ""


def test_review_submitted() -> None:
    event = webhook("pull_request_review/submitted.payload.json")
    assert event.review is not None
    assert (event.review.state, event.review.body, event.review.author) == ("commented", "", "Codertocat")
    assert event.review.submitted_at == datetime(2019, 5, 15, 15, 20, 38, tzinfo=UTC)
    assert event.occurred_at == event.review.submitted_at
    assert event.pull_request is not None and event.pull_request.number == 2


def test_issue_comment_created() -> None:
    event = webhook("issue_comment/created.payload.json")
    assert event.comment is not None and event.issue is not None
    assert event.comment.kind == "issue"
    assert event.comment.body == "You are totally right! I'll get this fixed right away."
    assert (event.comment.author, event.comment.path, event.issue.number) == ("Codertocat", None, 1)
    assert event.occurred_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "kind", "path"),
    [
        ("pull_request_review_comment/created.payload.json", "review", "README.md"),
        ("commit_comment/created.on-file.payload.json", "commit", "README.md"),
        ("discussion_comment/created.payload.json", "discussion", None),
    ],
)
def test_comment_kinds(name: str, kind: str, path: str | None) -> None:
    event = webhook(name)
    assert event.comment is not None
    assert (event.comment.kind, event.comment.path, event.comment.author) == (kind, path, "Codertocat")


def test_issues_opened() -> None:
    event = webhook("issues/opened.payload.json")
    issue = event.issue
    assert issue is not None
    assert (issue.number, issue.title, issue.author, issue.state) == (
        1,
        "Spelling error in the README file",
        "Codertocat",
        "open",
    )
    assert issue.labels == ("bug",)
    assert "accidently spelled" in issue.body


def test_an_org_level_event_has_no_repository() -> None:
    event = webhook("organization/member_added.payload.json")
    assert event.repository == ""
    assert event.event_type == "organization"


def test_an_unknown_event_type_parses_without_details() -> None:
    event = parse_activity(b'{"action": "appeared", "sender": {"login": "ada", "id": 3}}', "Brand_New ", None)
    assert (event.event_type, event.action, event.shape) == ("brand_new", "appeared", "webhook")
    assert all(getattr(event, detail) is None for detail in DETAILS)


def test_webhook_ids_are_payload_digests_independent_of_key_order() -> None:
    first = parse_activity(b'{"a": 1, "b": {"c": 2, "d": 3}}', "watch", None)
    second = parse_activity(b'{"b": {"d": 3, "c": 2}, "a": 1}', "watch", "  ")
    assert first.event_id == second.event_id
    assert first.event_id == hashlib.sha256(b'{"a":1,"b":{"c":2,"d":3}}').hexdigest()


def test_an_events_api_record_without_id_uses_the_delivery_then_a_digest() -> None:
    record = {"type": "WatchEvent", "payload": {"action": "started"}}
    assert parse_activity(orjson.dumps(record), None, "delivery-9").event_id == "delivery-9"
    digest = parse_activity(orjson.dumps(record), None, None).event_id
    assert digest == hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_an_unlisted_events_api_type_is_named_by_rule() -> None:
    record = {"id": 5, "type": "CheckRunEvent", "payload": {"action": "created"}}
    event = parse_activity(orjson.dumps(record), None, None)
    assert (event.event_id, event.event_type, event.action) == ("5", "check_run", "created")


# --- malformed -------------------------------------------------------------------------------


def _pr_payload(value: Any) -> bytes:
    return orjson.dumps({"action": "opened", "number": 1, "pull_request": value})


@pytest.mark.parametrize(
    ("value", "header", "reason"),
    [
        (b"\x00\xffgarbage{", "push", "not JSON"),
        (b"", "push", "not JSON"),
        (b"[1, 2, 3]", "push", "not a JSON object but a JSON list"),
        (b'"text"', "push", "not a JSON object but a JSON str"),
        (b'{"action": "opened"}', None, "without an x-github-event header"),
        (b'{"action": "opened"}', "", "without an x-github-event header"),
        (b'{"payload": {}, "actor": {"login": "a"}}', None, "without a 'type'"),
        (b'{"type": "PushEvent", "actor": {"login": "a"}}', None, "without a 'payload' object"),
        (b'{"type": "PushEvent", "payload": []}', None, "without a 'payload' object"),
        (_pr_payload("oops"), "pull_request", "'pull_request' is a str, not an object"),
        (_pr_payload(None), "pull_request", "'pull_request' is null, not an object"),
        (b'{"action": "opened"}', "pull_request", "pull_request event has no 'pull_request' object"),
        (b'{"action": "created", "issue": {}, "comment": 7}', "issue_comment", "'comment' is a int"),
        (b'{"ref": "refs/heads/x", "commits": {"a": 1}}', "push", "'commits' is a dict, not a list"),
        (
            b'{"id": "1", "type": "PullRequestEvent", "payload": {"pull_request": [1]}}',
            None,
            "'pull_request' is a list",
        ),
    ],
)
def test_malformed_activity(value: bytes, header: str | None, reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        parse_activity(value, header, None)
    assert reason in caught.value.reason
    assert "\n" not in caught.value.reason and str(caught.value) == caught.value.reason
    assert isinstance(caught.value, ValueError)


# --- code changes ----------------------------------------------------------------------------

PLUS_TWO = timezone(timedelta(hours=2))


def code_change(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "repository": "octo/app",
        "sha": "3f786850e387550fdab836ed7e6dc881de23001b",
        "author": {"name": "Ada Lovelace", "email": "ada@example.com", "login": "ada"},
        "committer": {"name": "GitHub", "email": "noreply@github.com"},
        "authored_at": "2026-05-01T22:10:00+02:00",
        "committed_at": "2026-05-01T20:15:00Z",
        "message": "Add parser\n\nWith tests.",
        "parents": ["89e6c98d92887913cadf06b2adb97f26cde4849b"],
        "files": [
            {"path": "src/parse.py", "status": "added", "additions": 2, "patch": "@@ -0,0 +1,2 @@\n+a\n+b"},
            {"path": "logo.png", "status": "modified", "binary": True},
            {"path": "new.py", "previous_path": "old.py", "status": "renamed"},
        ],
    }
    return {**record, **changes}


def test_code_change_round_trip_keeps_offsets() -> None:
    event = parse_code_change(orjson.dumps(code_change()))
    assert event.authored_at.utcoffset() == timedelta(hours=2)
    assert event.authored_at == datetime(2026, 5, 1, 22, 10, tzinfo=PLUS_TWO)
    assert event.committed_at is not None and event.committed_at.utcoffset() == timedelta(0)
    dumped = event.model_dump_json()
    assert '"authored_at":"2026-05-01T22:10:00+02:00"' in dumped
    again = parse_code_change(dumped.encode())
    assert again == event
    assert again.files[2].previous_path == "old.py" and again.files[1].binary is True
    assert (event.files[0].additions, event.files[0].deletions, event.files[1].patch) == (2, 0, None)


def test_code_change_event_id_is_stable() -> None:
    event = parse_code_change(orjson.dumps(code_change()))
    expected = hashlib.sha256(b"octo/app@3f786850e387550fdab836ed7e6dc881de23001b").hexdigest()
    assert event.event_id == expected
    assert parse_code_change(orjson.dumps(code_change(message="other"))).event_id == expected
    assert parse_code_change(orjson.dumps(code_change(event_id=expected))).event_id == expected
    assert CodeChangeEvent.model_validate(code_change()).event_id == expected
    assert "event_id" in event.model_fields_set  # derived or given, it is set
    assert event.model_dump(exclude_unset=True)["event_id"] == expected


def test_a_code_change_with_a_foreign_event_id_is_malformed() -> None:
    with pytest.raises(MalformedEvent, match="event_id is not sha256 of repository@sha"):
        parse_code_change(orjson.dumps(code_change(event_id="abc")))


def test_merge_commits() -> None:
    single = parse_code_change(orjson.dumps(code_change()))
    merge = parse_code_change(orjson.dumps(code_change(parents=["a" * 40, "b" * 40])))
    assert (single.is_merge, merge.is_merge) == (False, True)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"authored_at": "2026-05-01T22:10:00"}, "authored_at: Input should have timezone info"),
        ({"repository": "no-slash"}, "repository: String should match pattern"),
        ({"sha": "not-a-sha"}, "sha: String should match pattern"),
        ({"files": [{"path": "a.py", "status": "moved"}]}, "files.0.status: Input should be 'added'"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"author": None, "sha": 5}, "(+1 more)"),
    ],
)
def test_invalid_code_changes_are_malformed_in_one_line(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        parse_code_change(orjson.dumps(code_change(**changes)))
    assert caught.value.reason.startswith("invalid code change: ")
    assert reason in caught.value.reason
    assert "\n" not in caught.value.reason


@pytest.mark.parametrize("value", [b"{not json", b"[]", b"null"])
def test_code_change_that_is_not_a_json_object(value: bytes) -> None:
    with pytest.raises(MalformedEvent, match=r"^not (JSON|a JSON object)"):
        parse_code_change(value)


def test_a_webhook_with_a_type_field_stays_a_webhook_when_the_header_is_given() -> None:
    event = parse_activity(b'{"action": "created", "type": "Organization"}', "installation_target", None)
    assert (event.shape, event.event_type, event.action) == ("webhook", "installation_target", "created")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\xffgarbage{", "not JSON"),
        (b"[1, 2, 3]", "not a JSON object but a JSON list"),
        (b'{"repository": "octo/app"}', "invalid code change: sha: Field required (+2 more)"),
        (orjson.dumps({**code_change(), "sha": "xyz"}), "invalid code change: sha: String should match"),
    ],
)
def test_a_malformed_code_change_says_why(value: bytes, reason: str) -> None:
    """Validated from JSON in one pass; what is wrong is said as for every event."""
    with pytest.raises(MalformedEvent) as caught:
        parse_code_change(value)
    assert str(caught.value).startswith(reason)
