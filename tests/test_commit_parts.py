"""A commit split into parts: each part carries the whole commit (message, every file, tests and
docs changed, part i of n), and the rules provider's "no test file" verdict is made on the commit,
once. The case of the issue: jq's parser.c judged alone while the commit also changed a test."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consumers.commit_facts import file_language
from consumers.config import RoutingConfig
from consumers.file_skips import head_lines
from consumers.parts import MIN_FILE_TOKENS, Budget
from consumers.routing import CODE_CHANGE_ANALYSES, route_code_change
from gateway.limits.base import estimate_tokens
from gateway.prompts.base import canonical_json
from gateway.prompts.fused import fused_prompt
from gateway.prompts.registry import prompt_for
from gateway.providers.rules.quality import analyze_code_quality
from gateway.providers.rules.sources import collect
from producers.git import GitRange, iter_code_changes
from schemas.events import CodeChangeEvent, FileChange
from schemas.languages import language_of, language_of_name, language_of_path
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

SPLIT = RoutingConfig(max_input_tokens=1_000)
"""Room for one of the files below in a part, not two."""


def added(path: str, lines: int) -> dict[str, Any]:
    body = "\n".join(f"+int value_{n} = compute({n}, {n + 1});" for n in range(lines))
    return {"path": path, "status": "added", "additions": lines, "patch": f"@@ -0,0 +1,{lines} @@\n{body}"}


def commit(files: list[dict[str, Any]], message: str = "Parse ?// alternatives") -> CodeChangeEvent:
    return CodeChangeEvent.model_validate(
        {
            "repository": "jqlang/jq",
            "sha": "a" * 40,
            "author": {"name": "Nico", "email": "nico@example.com", "login": "nicowilliams"},
            "authored_at": "2019-02-26T12:00:00Z",
            "message": message,
            "parents": ["b" * 40],
            "files": files,
        }
    )


def quality_parts(event: CodeChangeEvent, config: RoutingConfig = SPLIT) -> list[AnalysisRequest]:
    requests = route_code_change(event, config).requests
    return [r for r in requests if r.analysis_type == AnalysisType.CODE_QUALITY]


def no_test_verdicts(requests: list[AnalysisRequest]) -> list[tuple[int, str]]:
    return [
        (r.context["part"]["index"], issue.description)
        for r in requests
        for issue in analyze_code_quality(r).issues
        if "no test file" in issue.description
    ]


def test_every_part_carries_the_commit_and_its_place() -> None:
    event = commit([added("src/parser.c", 50), added("src/execute.c", 45), added("tests/jq.test", 40)])
    parts = quality_parts(event)
    assert [r.context["path"] for r in parts] == ["src/parser.c", "src/execute.c", "tests/jq.test"]
    assert [r.context["part"] for r in parts] == [{"index": i, "count": 3} for i in (1, 2, 3)]
    whole = parts[0].context["commit"]
    assert all(r.context["commit"] == whole for r in parts)
    assert whole["message"] == "Parse ?// alternatives"
    assert (whole["tests_changed"], whole["docs_changed"], whole["code_additions"]) == (True, False, 95)
    assert [(f["path"], f["additions"]) for f in whole["files"]] == [
        ("src/parser.c", 50),
        ("src/execute.c", 45),
        ("tests/jq.test", 40),
    ]
    assert len({r.request_id for r in parts}) == 3
    assert collect(parts[1].content, parts[1].context).commit is not None


def test_no_test_verdict_on_a_part_of_a_commit_that_changes_a_test() -> None:
    event = commit([added("src/parser.c", 50), added("src/execute.c", 45), added("tests/jq.test", 40)])
    assert no_test_verdicts(quality_parts(event)) == []
    strengths = analyze_code_quality(quality_parts(event)[0]).strengths
    assert "rules: the commit changes tests too" in strengths


def test_without_tests_the_verdict_is_given_once_for_the_whole_commit() -> None:
    event = commit([added("src/parser.c", 50), added("src/execute.c", 45), added("docs/manual.md", 40)])
    parts = quality_parts(event)
    assert len(parts) == 3 and parts[0].context["commit"]["docs_changed"] is True
    assert no_test_verdicts(parts) == [(1, "rules: 95 added lines of code and no test file in the commit")]


def test_a_small_commit_without_tests_is_judged_as_before() -> None:
    event = commit([added("src/parser.c", 25)])
    (request,) = quality_parts(event)
    assert request.context["part"] == {"index": 1, "count": 1}
    assert no_test_verdicts([request]) == [
        (1, "rules: 25 added lines of code and no test file in the commit")
    ]


def test_every_part_carries_the_message_once_shared() -> None:
    """One facts object for all parts of a commit (the gateway redacts it, with the rest of the context)."""
    message = "Split the parser\n\nLonger explanation of the change."
    routed = route_code_change(commit([added("src/a.c", 60), added("src/b.c", 60)], message), SPLIT)
    assert len(routed.requests) == 6
    assert {r.context["commit"]["message"] for r in routed.requests} == {message}
    assert len({id(r.context["commit"]) for r in routed.requests}) == 1


def test_a_language_is_looked_up_only_for_a_file_analysed_or_listed() -> None:
    """Of 300 vendored files and one analysed after 150 of them: the 100 listed and the analysed one."""
    vendored = [added(f"vendor/lib/file_{n}.c", 1) for n in range(300)]
    event = commit([*vendored[:150], added("src/main.c", 3), *vendored[150:]])
    language_of_path.cache_clear()
    language_of_name.cache_clear()
    facts = route_code_change(event, RoutingConfig()).requests[0].context["commit"]
    assert (facts["files_changed"], facts["files_not_listed"], facts["code_additions"]) == (301, 201, 3)
    assert [f.get("language") for f in facts["files"]] == ["c"] * 100
    assert language_of_name.cache_info().currsize == 101


def request_tokens(request: AnalysisRequest) -> int:
    """The shared estimate of what a request sends besides the instructions: content and context,
    the context as the gateway renders it."""
    return estimate_tokens(len(request.content) + len(canonical_json(request.context)), 0)


@pytest.fixture(scope="module")
def libuv_window(libuv_repo: Path) -> list[CodeChangeEvent]:
    """Commits of libuv's real history, among them one of 188 files (800 KB of patches)."""
    since, until = datetime(2023, 9, 20, tzinfo=UTC), datetime(2023, 10, 10, tzinfo=UTC)
    return list(iter_code_changes(GitRange(libuv_repo, since=since, until=until, repo_name="libuv/libuv")))


def test_libuv_parts_stay_within_the_token_budget(libuv_window: list[CodeChangeEvent]) -> None:
    for budget in (6_000, 12_000):
        config = RoutingConfig(max_input_tokens=budget)
        routed = [route_code_change(event, config).requests for event in libuv_window]
        parts = [r for requests in routed for r in requests if r.analysis_type == AnalysisType.CODE_QUALITY]
        assert max(len(requests) for requests in routed) > 3  # a commit was split
        assert max(request_tokens(r) for r in parts) <= budget
        assert max(request_tokens(r) for r in parts) > budget / 2  # parts are packed, not one file each


@pytest.mark.parametrize("fused", [True, False])
def test_a_whole_call_with_its_instructions_stays_within_the_budget(
    libuv_window: list[CodeChangeEvent], fused: bool
) -> None:
    """As composed from the settings: the prompt the gateway sends for each part, by the estimate."""
    config = RoutingConfig(max_input_tokens=12_000, fuse_code_analyses=fused)
    prompt = fused_prompt(CODE_CHANGE_ANALYSES) if fused else None
    calls = []
    for event in libuv_window:
        for request in route_code_change(event, config).requests:
            rendered = (prompt or prompt_for(request.analysis_type)).render(request)
            calls.append(estimate_tokens(len(rendered.system) + len(rendered.user), 0))
    assert 8_000 < max(calls) <= 12_000


def test_a_file_over_the_budget_is_cut_to_what_a_part_holds() -> None:
    event = commit([added("src/parser.c", 2_000), added("src/execute.c", 10)])
    config = RoutingConfig(max_input_tokens=2_000)
    first, second = quality_parts(event, config)
    assert request_tokens(first) <= 2_000 and request_tokens(second) <= 2_000
    assert first.context["truncated_paths"] == ["src/parser.c"] and second.context["truncated"] is False
    (omitted,) = first.context["omitted"]
    kept = first.content.count("\n+int value_")
    assert omitted == {"path": "src/parser.c", "hunks": 1, "changed_lines": 2_000 - kept}


def test_commit_facts_that_fill_the_budget_still_leave_each_file_a_little() -> None:
    event = commit([added(f"src/file_{n}.c", 40) for n in range(100)], message="x" * 4000)
    config = RoutingConfig(max_input_tokens=1_000)
    budget = Budget.of(config, route_code_change(event, config).requests[0].context["commit"])
    assert budget.fixed > 1_000 and budget.for_material("src/file_0.c") == MIN_FILE_TOKENS
    parts = quality_parts(event, config)
    assert len(parts) == 100 and all(r.content.count("\n+int value_") > 5 for r in parts)


def test_a_file_language_is_its_name_s_else_its_first_line_s(libuv_window: list[CodeChangeEvent]) -> None:
    """`file_language` reads the first line only when the name tells nothing: the same answer as
    `language_of` given the first line every time, on libuv's files and on scripts by their `#!`."""
    scripts = [
        FileChange(path=path, patch=f"@@ -0,0 +1,2 @@\n+{first}\n+echo")
        for path in ("tools/run", "tools/run.py", "Makefile", "bin/x.in")
        for first in ("#!/bin/sh", "#!/usr/bin/env python3", "plain")
    ]
    changes = [*scripts, *(f for event in libuv_window for f in event.files)]
    for change in changes:
        head = head_lines(change.patch, 1)
        assert file_language(change) == language_of(change.path, head[0] if head else ""), change.path
    assert {file_language(s) for s in scripts[:3]} == {"shell", "python", None}
