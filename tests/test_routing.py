"""Routing events to analysis requests: the table, bots, merges, skipped files, splits (secrets are
redacted later, by the gateway: tests/test_redaction*.py)."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import orjson
import pytest

from consumers.config import RoutingConfig
from consumers.file_skips import FileSkip
from consumers.routing import ACTIVITY_ROUTES, Routed, files_skipped, route_activity, route_code_change
from consumers.skips import Skip
from schemas.events import ActivityEvent, CodeChangeEvent, parse_activity
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.corpora import WEBHOOKS

CONFIG = RoutingConfig()

TASK = AnalysisType.TASK_SIGNALS
SOFT = AnalysisType.SOFT_SKILLS
CODE = (AnalysisType.SKILL_EXTRACTION, AnalysisType.CODE_QUALITY, AnalysisType.CODE_COMPLEXITY)
API_TYPES = {
    "pull_request": "PullRequestEvent",
    "issues": "IssuesEvent",
    "issue_comment": "IssueCommentEvent",
}


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads((WEBHOOKS / name).read_bytes())
    return loaded


def webhook(name: str, changes: dict[str, Any] | None = None, delivery: str | None = "d-1") -> ActivityEvent:
    data = {**payload(name), **(changes or {})}
    return parse_activity(orjson.dumps(data), name.split("/", maxsplit=1)[0], delivery)


def rid(event_id: str, analysis: AnalysisType, part: str = "all") -> str:
    return hashlib.sha256(f"{event_id}:{analysis.value}:{part}".encode()).hexdigest()[:32]


# --- activity --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "analyses", "subject", "skipped", "detail"),
    [
        ("pull_request/opened.payload.json", [TASK], "Codertocat/Hello-World", None, ""),
        ("pull_request/reopened.payload.json", [TASK], "Codertocat/Hello-World", None, ""),
        ("pull_request/opened.with-null-body.json", [TASK], "Codertocat/Hello-World", None, ""),
        ("pull_request/closed.payload.json", [], "", Skip.UNROUTED_ACTION, "pull_request closed"),
        ("pull_request/synchronize.payload.json", [], "", Skip.UNROUTED_ACTION, "pull_request synchronize"),
        ("issues/opened.payload.json", [TASK], "Codertocat/Hello-World", None, ""),
        ("issues/edited.payload.json", [TASK], "Codertocat/Hello-World", None, ""),
        ("issues/labeled.payload.json", [], "", Skip.UNROUTED_ACTION, "issues labeled"),
        ("issue_comment/created.payload.json", [SOFT], "Codertocat", None, ""),
        ("issue_comment/edited.payload.json", [SOFT], "Codertocat", None, ""),
        ("issue_comment/deleted.payload.json", [], "", Skip.UNROUTED_ACTION, "issue_comment deleted"),
        ("pull_request_review_comment/created.payload.json", [SOFT], "Codertocat", None, ""),
        ("pull_request_review_comment/edited.payload.json", [SOFT], "Codertocat", None, ""),
        ("commit_comment/created.payload.json", [SOFT], "Codertocat", None, ""),
        ("pull_request_review/submitted.payload.json", [], "", Skip.NO_TEXT, "pull_request_review submitted"),
        (
            "pull_request_review/dismissed.payload.json",
            [],
            "",
            Skip.UNROUTED_ACTION,
            "pull_request_review dismissed",
        ),
        ("push/with-new-branch.payload.json", [], "", Skip.UNROUTED_TYPE, "event push"),
        ("watch/started.payload.json", [], "", Skip.UNROUTED_TYPE, "event watch"),
        ("create/payload.json", [], "", Skip.UNROUTED_TYPE, "event create"),
        ("discussion_comment/created.payload.json", [], "", Skip.UNROUTED_TYPE, "event discussion_comment"),
        ("ping/payload.json", [], "", Skip.UNROUTED_TYPE, "event ping"),
    ],
)
def test_corpus_events_route_by_the_table(
    name: str, analyses: list[AnalysisType], subject: str, skipped: Skip | None, detail: str
) -> None:
    routed = route_activity(webhook(name), CONFIG)
    assert [r.analysis_type for r in routed.requests] == analyses
    assert [r.subject for r in routed.requests] == ([subject] if analyses else [])
    assert routed.skipped is skipped
    assert routed.detail.endswith(detail)
    assert all(r.priority == "live" for r in routed.requests)


def test_the_table_covers_exactly_the_routed_event_types() -> None:
    assert set(ACTIVITY_ROUTES) == {
        "pull_request",
        "issues",
        "pull_request_review",
        "pull_request_review_comment",
        "issue_comment",
        "commit_comment",
    }


def test_requests_per_event_type_over_the_whole_corpus() -> None:
    counts: Counter[tuple[str, AnalysisType]] = Counter()
    examples = sorted(WEBHOOKS.glob("*/*.json"))
    for path in examples:
        routed = route_activity(parse_activity(path.read_bytes(), path.parent.name, None), CONFIG)
        assert bool(routed.requests) != (routed.skipped is not None), path
        counts.update((path.parent.name, r.analysis_type) for r in routed.requests)
    assert len(examples) >= 250
    assert counts == {
        ("pull_request", TASK): 5,  # opened x3, reopened x2
        ("issues", TASK): 6,  # opened x4, edited x2
        ("issue_comment", SOFT): 6,  # created x4, edited x2
        ("pull_request_review_comment", SOFT): 3,  # created x2, edited
        ("commit_comment", SOFT): 4,  # created x4
    }


def test_pull_request_request_carries_title_body_and_size() -> None:
    (request,) = route_activity(webhook("pull_request/opened.payload.json"), CONFIG).requests
    assert request.content == (
        "Pull request #2: Update the README with new information.\n\n"
        "This is a pretty simple change that we need to pull into master.\n\n"
        "Size: 1 additions, 1 deletions, 1 changed files"
    )
    assert request.context == {
        "event_id": "d-1",
        "event_type": "pull_request",
        "action": "opened",
        "repository": "Codertocat/Hello-World",
        "occurred_at": "2019-05-15T15:20:33+00:00",
        "author": "Codertocat",
        "number": 2,
        "state": "open",
        "additions": 1,
        "deletions": 1,
        "changed_files": 1,
    }
    assert request.request_id == rid("d-1", TASK)


def test_empty_paragraphs_are_left_out() -> None:
    (pr,) = route_activity(webhook("pull_request/opened.with-null-body.json"), CONFIG).requests
    (issue,) = route_activity(webhook("issues/opened.with-empty-body.payload.json"), CONFIG).requests
    assert pr.content.split("\n\n") == [
        "Pull request #2: Update the README with new information.",
        "Size: 1 additions, 1 deletions, 1 changed files",
    ]
    assert "\n" not in issue.content and issue.content.startswith("Issue #")


def test_a_review_with_a_body_asks_for_the_reviewers_soft_skills() -> None:
    data = payload("pull_request_review/submitted.payload.json")
    review = {**data["review"], "body": "Thanks, nice work!", "user": {"login": "reviewer", "id": 9}}
    (request,) = route_activity(
        webhook("pull_request_review/submitted.payload.json", {"review": review}), CONFIG
    ).requests
    assert (request.analysis_type, request.subject, request.content) == (
        SOFT,
        "reviewer",
        "Thanks, nice work!",
    )
    assert request.context["review_state"] == "commented" and request.context["number"] == 2


def test_a_comment_request_names_its_kind_and_file() -> None:
    (request,) = route_activity(webhook("pull_request_review_comment/created.payload.json"), CONFIG).requests
    assert request.content == "Maybe you should use more emoji on this line."
    assert (request.context["comment_kind"], request.context["path"], request.context["number"]) == (
        "review",
        "README.md",
        2,
    )


@pytest.mark.parametrize(
    ("name", "event"),
    [
        ("pull_request/opened.payload.json", "pull_request"),
        ("issues/opened.payload.json", "issues"),
        ("issue_comment/created.payload.json", "issue_comment"),
    ],
)
def test_events_api_records_route_like_webhooks(name: str, event: str) -> None:
    data = payload(name)
    record = {
        "id": "123",
        "type": API_TYPES[event],
        "actor": {"id": 1, "login": data["sender"]["login"]},
        "repo": {"name": data["repository"]["full_name"]},
        "payload": data,
        "created_at": "2026-05-01T00:00:00Z",
    }
    from_api = route_activity(parse_activity(orjson.dumps(record), None, None), CONFIG, priority="backfill")
    from_webhook = route_activity(webhook(name, delivery="123"), CONFIG)
    assert [r.content for r in from_api.requests] == [r.content for r in from_webhook.requests]
    assert [r.request_id for r in from_api.requests] == [r.request_id for r in from_webhook.requests]
    assert [r.priority for r in from_api.requests] == ["backfill"]


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ({"login": "dependabot[bot]", "id": 49699333, "type": "Bot"}, "bot actor dependabot[bot]"),
        ({"login": "some-app", "id": 5, "type": "Bot"}, "bot actor some-app"),
        ({"login": "Renovate-Bot", "id": 5, "type": "User"}, "bot actor Renovate-Bot"),
        ({"login": "GitHub-Actions", "id": 5, "type": "User"}, "bot actor GitHub-Actions"),
    ],
)
def test_bot_actors_are_filtered(sender: dict[str, Any], reason: str) -> None:
    routed = route_activity(webhook("issue_comment/created.payload.json", {"sender": sender}), CONFIG)
    assert routed == Routed((), Skip.BOT, detail=reason)


def test_a_bot_authored_comment_is_filtered_even_when_a_human_sends_it() -> None:
    data = payload("issue_comment/created.payload.json")
    comment = {**data["comment"], "user": {"login": "codecov[bot]", "id": 8, "type": "Bot"}}
    routed = route_activity(webhook("issue_comment/created.payload.json", {"comment": comment}), CONFIG)
    assert routed == Routed((), Skip.BOT, detail="bot author codecov[bot]")


def test_a_comment_without_any_author_is_skipped() -> None:
    data = payload("issue_comment/created.payload.json")
    changes = {"comment": {**data["comment"], "user": None}, "sender": None}
    routed = route_activity(webhook("issue_comment/created.payload.json", changes), CONFIG)
    assert routed == Routed((), Skip.NO_AUTHOR, detail="no author for soft_skills")


def test_a_humans_login_that_merely_contains_bot_is_kept() -> None:
    sender = {"login": "abbott", "id": 5, "type": "User"}
    routed = route_activity(webhook("issue_comment/created.payload.json", {"sender": sender}), CONFIG)
    assert [r.analysis_type for r in routed.requests] == [SOFT]


def test_activity_request_ids_are_deterministic_and_priority_free() -> None:
    event = webhook("issues/opened.payload.json", delivery="delivery-7")
    live = route_activity(event, CONFIG)
    again = route_activity(webhook("issues/opened.payload.json", delivery="delivery-7"), CONFIG)
    backfill = route_activity(event, CONFIG, priority="backfill")
    assert live == again
    assert [r.request_id for r in backfill.requests] == [rid("delivery-7", TASK)]
    assert [r.priority for r in backfill.requests] == ["backfill"]


# --- code changes ----------------------------------------------------------------------------

SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
PY_PATCH = "@@ -1,2 +1,3 @@\n def add(a, b):\n-    return a+b\n+    total = a + b\n+    return total"


def commit(files: list[dict[str, Any]], **changes: Any) -> CodeChangeEvent:
    record: dict[str, Any] = {
        "repository": "octo/app",
        "sha": SHA,
        "author": {"name": "Ada Lovelace", "email": "ada@example.com", "login": "ada"},
        "authored_at": "2026-05-01T22:10:00+02:00",
        "committed_at": "2026-05-01T20:11:00Z",
        "message": "Refactor add",
        "parents": ["89e6c98d92887913cadf06b2adb97f26cde4849b"],
        "files": files,
    }
    return CodeChangeEvent.model_validate({**record, **changes})


def py_file(path: str = "src/calc.py", patch: str = PY_PATCH) -> dict[str, Any]:
    return {"path": path, "status": "modified", "additions": 2, "deletions": 1, "patch": patch}


def test_a_commits_analyses_have_the_same_material_in_contexts_of_their_own() -> None:
    """Each request of a commit is validated and holds its own context dict: changing one request's
    context leaves its siblings' as routed."""
    first, *others = route_code_change(commit([py_file(), py_file("src/other.py")]), CONFIG).requests
    routed = first.context.copy()
    for request in others:
        assert (request.content, request.context, request.subject) == (first.content, routed, first.subject)
        assert request.context is not first.context
        assert AnalysisRequest.model_validate(request.model_dump()) == request
    first.context["repository"] = "octo/other"
    assert all(request.context == routed for request in others)


def test_a_commit_asks_for_three_analyses_of_its_diff() -> None:
    event = commit([py_file()])
    routed = route_code_change(event, CONFIG)
    assert [r.analysis_type for r in routed.requests] == list(CODE)
    assert routed.skipped is None
    assert {r.content for r in routed.requests} == {f"diff --git a/src/calc.py b/src/calc.py\n{PY_PATCH}"}
    assert {r.subject for r in routed.requests} == {"ada"}
    assert [r.request_id for r in routed.requests] == [rid(event.event_id, a) for a in CODE]
    context = routed.requests[0].context
    assert context == {
        "event_id": event.event_id,
        "event_type": "code_change",
        "action": "",
        "repository": "octo/app",
        "sha": SHA,
        "author": "ada",
        "authored_at": "2026-05-01T22:10:00+02:00",
        "path": "src/calc.py",
        "paths": ["src/calc.py"],
        "files": [{"path": "src/calc.py", "status": "modified", "additions": 2, "deletions": 1}],
        "languages": ["python"],
        "diff_context_lines": 1,
        "truncated": False,
        "commit": {
            "message": "Refactor add",
            "files_changed": 1,
            "additions": 2,
            "deletions": 1,
            "code_additions": 2,
            "tests_changed": False,
            "docs_changed": False,
            "files": [
                {
                    "path": "src/calc.py",
                    "status": "modified",
                    "additions": 2,
                    "deletions": 1,
                    "language": "python",
                }
            ],
        },
        "part": {"index": 1, "count": 1},
    }


def test_without_a_login_the_subject_is_the_author_email() -> None:
    event = commit([py_file()], author={"name": "Ada", "email": "ada@example.com"})
    assert {r.subject for r in route_code_change(event, CONFIG).requests} == {"ada@example.com"}


def test_a_renamed_file_keeps_its_old_path_in_the_header() -> None:
    change = {**py_file("src/new.py"), "previous_path": "src/old.py", "status": "renamed"}
    (request, *_) = route_code_change(commit([change]), CONFIG).requests
    assert request.content.startswith("diff --git a/src/old.py b/src/new.py\n@@ -1,2 +1,3 @@")


def test_merge_commits_are_skipped() -> None:
    event = commit([py_file()], parents=["a" * 40, "b" * 40])
    assert route_code_change(event, CONFIG) == Routed((), Skip.MERGE_COMMIT)


@pytest.mark.parametrize(
    "author",
    [
        {"name": "dependabot[bot]", "email": "49699333+dependabot[bot]@users.noreply.github.com"},
        {"name": "Renovate", "email": "bot@renovateapp.com", "login": "renovate[bot]"},
    ],
)
def test_bot_commits_are_skipped(author: dict[str, Any]) -> None:
    routed = route_code_change(commit([py_file()], author=author), CONFIG)
    assert routed.requests == () and routed.skipped is Skip.BOT and routed.detail.startswith("bot author ")


def test_lock_vendored_generated_and_binary_files_are_skipped() -> None:
    skipped: list[dict[str, Any]] = [
        {"path": "package-lock.json", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"path": "vendor/lib/x.go", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"path": "web/app.min.js", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"path": "api/service_pb2.py", "patch": "@@ -1 +1 @@\n-a\n+b"},
        {"path": "img/logo.png", "binary": True},
        {"path": "docs/big.txt", "patch": None},
    ]
    reasons = {"binary": 1, "generated": 2, "lockfile": 1, "no_diff": 1, "vendored": 1}
    nothing = route_code_change(commit(skipped), CONFIG)
    assert (nothing.requests, nothing.skipped, dict(nothing.files_skipped)) == (
        (),
        Skip.NOTHING_ANALYSABLE,
        reasons,
    )
    assert nothing.detail == "no file to analyse: 1 binary, 2 generated, 1 lockfile, 1 no_diff, 1 vendored"
    routed = route_code_change(commit([*skipped, py_file()]), CONFIG)
    assert dict(routed.files_skipped) == reasons
    assert len(routed.requests) == 3
    assert {r.context["paths"] == ["src/calc.py"] for r in routed.requests} == {True}
    assert all("package-lock" not in r.content and "vendor/" not in r.content for r in routed.requests)


def test_a_commit_without_files_is_skipped() -> None:
    assert route_code_change(commit([]), CONFIG) == Routed((), Skip.NOTHING_ANALYSABLE, detail="no files")


def test_a_large_diff_is_split_into_one_request_triple_per_part() -> None:
    body = "\n".join(f"+line_{i} = {i}" for i in range(10))
    files = [py_file(f"src/m{i}.py", f"@@ -0,0 +1,10 @@\n{body}") for i in range(3)]
    config = RoutingConfig(max_input_tokens=500)  # room for the commit's facts and one file
    event = commit(files)
    whole = route_code_change(event, RoutingConfig())
    split = route_code_change(event, config)
    assert len(whole.requests) == 3 and whole.requests[0].context["paths"] == [
        "src/m0.py",
        "src/m1.py",
        "src/m2.py",
    ]
    assert len(split.requests) == 9
    assert [r.context["path"] for r in split.requests] == [f"src/m{i}.py" for i in range(3) for _ in CODE]
    assert [r.analysis_type for r in split.requests] == list(CODE) * 3
    assert split.requests[3].content == f"diff --git a/src/m1.py b/src/m1.py\n@@ -0,0 +1,10 @@\n{body}"
    assert split.requests[3].request_id == rid(event.event_id, CODE[0], "src/m1.py")
    assert len({r.request_id for r in split.requests}) == 9


def test_an_overlong_file_patch_is_cut_and_noted() -> None:
    patch = "@@ -0,0 +1,1000 @@\n" + "\n".join(f"+value_{i} = {i}" for i in range(1000))
    config = RoutingConfig(max_input_tokens=1000)
    routed = route_code_change(commit([py_file(patch=patch), py_file("src/small.py")]), config)
    request = routed.requests[0]
    kept = request.content.split("\n")[2:]
    assert request.content.startswith("diff --git a/src/calc.py b/src/calc.py\n@@ -0,0 +1,")
    assert 50 < len(kept) < 1000 and kept == patch.split("\n")[1 : len(kept) + 1]
    assert request.context["truncated"] is True
    assert request.context["truncated_paths"] == ["src/calc.py"]
    omitted = {"path": "src/calc.py", "hunks": 1, "changed_lines": 1000 - len(kept)}
    assert request.context["omitted"] == [omitted]


def test_code_change_request_ids_are_deterministic() -> None:
    first = route_code_change(commit([py_file()]), CONFIG)
    replay = route_code_change(commit([py_file()]), CONFIG, priority="backfill")
    assert [r.request_id for r in first.requests] == [r.request_id for r in replay.requests]
    assert [r.priority for r in replay.requests] == ["backfill"] * 3
    assert len({r.request_id for r in first.requests}) == 3


def test_ordinary_code_passes_unchanged() -> None:
    patch = (
        "@@ -1,3 +1,4 @@\n"
        "+def login(user: str, password: str, token: str | None = None) -> bool:\n"
        "+    secret = load_secret(user)\n"
        '+    return hmac.compare_digest(secret, password) and token != ""\n'
        '+URL = "https://example.com:8443/api"'
    )
    routed = route_code_change(commit([py_file(patch=patch)]), CONFIG)
    assert routed.requests[0].content == f"diff --git a/src/calc.py b/src/calc.py\n{patch}"


def test_files_skipped_counts_each_reason_once_in_the_order_of_reasons() -> None:
    reasons = [*FileSkip, None]
    for n in range(200):
        skips = [reasons[(n * 7 + i * i) % len(reasons)] for i in range(n % 13)]
        expected = tuple(sorted(Counter(s for s in skips if s is not None).items()))
        assert files_skipped(skips) == expected
    assert files_skipped([None, None]) == ()
