"""Patches trimmed to their changes (`consumers/hunks.py`): on libuv's real diffs a trimmed patch is
what git itself prints with one line of context, the rules provider reads the same added lines at
the same line numbers, and only unchanged lines are left out; then the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.config import RoutingConfig
from consumers.file_skips import file_skips
from consumers.hunks import CONTEXT_LINES, Hunk, parse, trim
from consumers.routing import route_code_change
from gateway.limits.base import estimate_tokens
from gateway.providers.rules.sources import parse_diff
from producers.git import GitRange, iter_code_changes
from producers.git.log import LOG_OPTIONS, _events, resolve
from producers.git.range import MAX_PATCH_BYTES
from schemas.events import CodeChangeEvent, FileChange

WINDOW = (datetime(2023, 9, 20, tzinfo=UTC), datetime(2023, 10, 10, tzinfo=UTC))
"""About 30 commits, among them the switch of 188 test files to the new ASSERT macros."""
UNBOUNDED = 10**9


@pytest.fixture(scope="module")
def changed(libuv_repo: Path) -> list[tuple[CodeChangeEvent, FileChange]]:
    """The analysed files of the window's commits."""
    events = iter_code_changes(
        GitRange(libuv_repo, since=WINDOW[0], until=WINDOW[1], repo_name="libuv/libuv")
    )
    return [
        (event, change)
        for event in events
        for change, skip in zip(event.files, file_skips(event.files, RoutingConfig()), strict=True)
        if skip is None
    ]


def sides(hunk: Hunk) -> tuple[list[str], list[str]]:
    """The hunk's old lines and new lines, without their markers."""
    old = [line[1:] for line in hunk.lines if line[:1] in (" ", "-")]
    new = [line[1:] for line in hunk.lines if line[:1] in (" ", "+")]
    return old, new


def header_counts(hunk: Hunk) -> tuple[int, int]:
    old, new = hunk.text().split(" ")[1:3]
    return tuple(int(side.split(",")[1]) if "," in side else 1 for side in (old, new))  # type: ignore[return-value]


def with_one_line_of_context(repo: Path) -> dict[tuple[str, str], str | None]:
    """The window's patches as git prints them with `--unified=1`, read by the git producer."""
    window = GitRange(repo, since=WINDOW[0], until=WINDOW[1])
    options = [option.replace("--unified=3", "--unified=1") for option in LOG_OPTIONS]
    args = ["log", *options, *window.date_options(), resolve(window), "--"]
    events = _events(repo, args, "libuv/libuv", MAX_PATCH_BYTES)
    return {(event.sha, change.path): change.patch for event in events for change in event.files}


def test_a_trimmed_patch_is_what_git_prints_with_one_line_of_context(
    libuv_repo: Path, changed: list[tuple[CodeChangeEvent, FileChange]]
) -> None:
    """Line numbers, hunks split and merged, headings: byte for byte (libuv has no diff drivers)."""
    git_u1 = with_one_line_of_context(libuv_repo)
    assert CONTEXT_LINES == 1 and len(changed) > 150
    for event, change in changed:
        assert trim(change.patch or "", UNBOUNDED).text == git_u1[event.sha, change.path], change.path


def test_only_unchanged_lines_are_left_out(changed: list[tuple[CodeChangeEvent, FileChange]]) -> None:
    dropped = 0
    for _, change in changed:
        patch = change.patch or ""
        trimmed = trim(patch, UNBOUNDED)
        original, kept = parse(patch), parse(trimmed.text)
        assert original is not None and kept is not None
        changes = [line for hunk in original for line in hunk.lines if line[:1] in "+-"]
        assert [line for hunk in kept for line in hunk.lines if line[:1] in "+-"] == changes
        context = sum(1 for hunk in original for line in hunk.lines if line[:1] == " ")
        assert trimmed.context_lines_omitted == context - sum(
            1 for hunk in kept for line in hunk.lines if line[:1] == " "
        )
        assert not trimmed.cut
        dropped += trimmed.context_lines_omitted
    assert dropped > 1000


def test_the_rules_provider_reads_the_same_added_lines_where_they_were(
    changed: list[tuple[CodeChangeEvent, FileChange]],
) -> None:
    for _, change in changed:
        header = f"diff --git a/{change.path} b/{change.path}\n"
        (original,) = parse_diff(header + (change.patch or ""))
        (trimmed,) = parse_diff(header + trim(change.patch or "", UNBOUNDED).text)
        assert (trimmed.added, trimmed.line_numbers, trimmed.deleted) == (
            original.added,
            original.line_numbers,
            original.deleted,
        )


def test_trimmed_libuv_commits_are_smaller(changed: list[tuple[CodeChangeEvent, FileChange]]) -> None:
    before = sum(len(change.patch or "") for _, change in changed)
    after = sum(len(trim(change.patch or "", UNBOUNDED).text) for _, change in changed)
    assert after < 0.9 * before


# -- edge cases ----------------------------------------------------------------------------------------

FAR_APART = "\n".join(
    (
        "@@ -10,11 +10,11 @@ static int walk(void) {",
        "   a();",
        "   b();",
        "   c();",
        "-  d();",
        "+  D();",
        "   e();",
        " }",
        " ",
        " static int run(void) {",
        "   j();",
        "-  k();",
        "+  K();",
        "   l();",
    )
)


def test_a_hunk_is_split_between_changes_far_apart_each_piece_headed_by_its_function() -> None:
    trimmed = trim(FAR_APART, UNBOUNDED)
    assert trimmed.text.split("\n") == [
        "@@ -12,3 +12,3 @@ static int walk(void) {",
        "   c();",
        "-  d();",
        "+  D();",
        "   e();",
        "@@ -18,3 +18,3 @@ static int run(void) {",
        "   j();",
        "-  k();",
        "+  K();",
        "   l();",
    ]
    assert (trimmed.context_lines_omitted, trimmed.cut) == (5, False)


def test_a_hunk_with_nothing_to_leave_out_is_kept_as_it_came() -> None:
    added = "@@ -0,0 +1,3 @@\n+a\n+b\n+c"
    assert trim(added, UNBOUNDED).text == added
    near = "@@ -4,3 +4,3 @@ f()\n x\n-y\n+Y\n z"
    assert trim(near, UNBOUNDED).text == near


def test_no_newline_at_end_of_file_stays_with_its_line() -> None:
    end = "\\ No newline at end of file"
    patch = f"@@ -1,4 +1,4 @@\n  a\n  b\n  c\n- d\n{end}\n+ D\n{end}"
    assert trim(patch, UNBOUNDED).text == f"@@ -3,2 +3,2 @@\n  c\n- d\n{end}\n+ D\n{end}"
    far = f"@@ -1,4 +1,4 @@\n- a\n+ A\n  b\n  c\n  d\n{end}"
    assert trim(far, UNBOUNDED).text == "@@ -1,2 +1,2 @@\n- a\n+ A\n  b"


def test_a_huge_hunk_over_the_budget_is_cut_and_says_so() -> None:
    patch = "@@ -1,2000 +1,2000 @@\n" + "\n".join(f"-old line {n}\n+new line {n}" for n in range(2000))
    trimmed = trim(patch, 500)
    assert estimate_tokens(len(trimmed.text), 0) <= 500
    (hunk,) = parse(trimmed.text) or []
    old, new = sides(hunk)
    assert header_counts(hunk) == (len(old), len(new)) and len(old) > 50
    assert trimmed.text.split("\n")[1:] == patch.split("\n")[1 : 1 + len(hunk.lines)]
    assert (trimmed.cut, trimmed.hunks_omitted) == (True, 1)
    assert trimmed.changed_lines_omitted == 4000 - len(hunk.lines)


def test_hunks_past_the_budget_are_left_out_whole() -> None:
    hunk = "@@ -{n},3 +{n},3 @@\n a\n-b{n}\n+c{n}\n d"
    patch = "\n".join(hunk.format(n=10 * n + 1) for n in range(100))
    trimmed = trim(patch, 100)
    kept = parse(trimmed.text) or []
    assert 1 < len(kept) < 100 and estimate_tokens(len(trimmed.text), 0) <= 100
    assert (trimmed.hunks_omitted, trimmed.changed_lines_omitted) == (100 - len(kept), 2 * (100 - len(kept)))


def test_text_that_is_no_diff_is_only_cut() -> None:
    assert parse("not a diff\n@@ -1 +1 @@\n-a\n+b") is None
    assert parse("@@ -1 +1 @@\n-a\nnot a hunk line") is None
    assert trim("int main() {}", UNBOUNDED).text == "int main() {}"
    cut = trim("x" * 10_000 + "\n+y\n-z", 100)
    assert estimate_tokens(len(cut.text), 0) <= 100 and (cut.cut, cut.changed_lines_omitted) == (True, 2)


def test_an_empty_patch_stays_empty() -> None:
    assert trim("", 100).text == "" and not trim("", 100).cut


def event(files: list[dict[str, Any]]) -> CodeChangeEvent:
    return CodeChangeEvent.model_validate(
        {
            "repository": "libuv/libuv",
            "sha": "c" * 40,
            "author": {"name": "Ben", "email": "ben@example.com", "login": "bnoordhuis"},
            "authored_at": "2023-10-06T12:00:00Z",
            "message": "Rename and tidy",
            "parents": ["d" * 40],
            "files": files,
        }
    )


def test_a_renamed_file_is_trimmed_under_its_two_names_and_a_binary_one_is_left_out() -> None:
    renamed = {
        "path": "src/unix/walk.c",
        "previous_path": "src/walk.c",
        "status": "renamed",
        "additions": 2,
        "deletions": 2,
        "patch": FAR_APART,
    }
    binary = {"path": "docs/logo.png", "status": "modified", "binary": True}
    moved = {"path": "src/b.c", "previous_path": "src/a.c", "status": "renamed"}
    (request, *_) = route_code_change(event([renamed, binary, moved]), RoutingConfig()).requests
    assert request.content == "diff --git a/src/walk.c b/src/unix/walk.c\n" + trim(FAR_APART, UNBOUNDED).text
    assert request.context["paths"] == ["src/unix/walk.c"]
    assert (request.context["diff_context_lines"], request.context["truncated"]) == (1, False)
    skipped = {f["path"]: f.get("skipped") for f in request.context["commit"]["files"]}
    assert skipped == {"src/unix/walk.c": None, "docs/logo.png": "binary", "src/b.c": "no_diff"}
