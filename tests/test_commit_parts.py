"""A commit split into parts: each part carries the whole commit (message, every file, tests and
docs changed, part i of n), and the rules provider's "no test file" verdict is made on the commit,
once. The case of the issue: jq's parser.c judged alone while the commit also changed a test."""

from __future__ import annotations

from typing import Any

from consumers.config import RoutingConfig
from consumers.routing import route_code_change
from gateway.providers.rules.quality import analyze_code_quality
from gateway.providers.rules.sources import collect
from schemas.events import CodeChangeEvent
from schemas.languages import language_of_name
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

SPLIT = RoutingConfig(max_diff_chars=2_000)


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


def quality_parts(event: CodeChangeEvent) -> list[AnalysisRequest]:
    requests = route_code_change(event, SPLIT).requests
    return [r for r in requests if r.analysis_type == AnalysisType.CODE_QUALITY]


def no_test_verdicts(requests: list[AnalysisRequest]) -> list[tuple[int, str]]:
    return [
        (r.context["part"]["index"], issue.description)
        for r in requests
        for issue in analyze_code_quality(r).issues
        if "no test file" in issue.description
    ]


def test_every_part_carries_the_commit_and_its_place() -> None:
    event = commit([added("src/parser.c", 105), added("src/execute.c", 40), added("tests/jq.test", 30)])
    parts = quality_parts(event)
    assert [r.context["path"] for r in parts] == ["src/parser.c", "src/execute.c", "tests/jq.test"]
    assert [r.context["part"] for r in parts] == [{"index": i, "count": 3} for i in (1, 2, 3)]
    whole = parts[0].context["commit"]
    assert all(r.context["commit"] == whole for r in parts)
    assert whole["message"] == "Parse ?// alternatives"
    assert (whole["tests_changed"], whole["docs_changed"], whole["code_additions"]) == (True, False, 145)
    assert [(f["path"], f["additions"]) for f in whole["files"]] == [
        ("src/parser.c", 105),
        ("src/execute.c", 40),
        ("tests/jq.test", 30),
    ]
    assert len({r.request_id for r in parts}) == 3
    assert collect(parts[1].content, parts[1].context).commit is not None


def test_no_test_verdict_on_a_part_of_a_commit_that_changes_a_test() -> None:
    event = commit([added("src/parser.c", 105), added("src/execute.c", 40), added("tests/jq.test", 30)])
    assert no_test_verdicts(quality_parts(event)) == []
    strengths = analyze_code_quality(quality_parts(event)[0]).strengths
    assert "rules: the commit changes tests too" in strengths


def test_without_tests_the_verdict_is_given_once_for_the_whole_commit() -> None:
    event = commit([added("src/parser.c", 105), added("src/execute.c", 40), added("docs/manual.md", 30)])
    parts = quality_parts(event)
    assert len(parts) == 3 and parts[0].context["commit"]["docs_changed"] is True
    assert no_test_verdicts(parts) == [(1, "rules: 145 added lines of code and no test file in the commit")]


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
    language_of_name.cache_clear()
    facts = route_code_change(event, RoutingConfig()).requests[0].context["commit"]
    assert (facts["files_changed"], facts["files_not_listed"], facts["code_additions"]) == (301, 201, 3)
    assert [f.get("language") for f in facts["files"]] == ["c"] * 100
    assert language_of_name.cache_info().currsize == 101
