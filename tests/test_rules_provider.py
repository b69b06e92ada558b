"""The deterministic `rules` provider: valid results for every analysis type, and its heuristics."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from gateway.errors import BadRequest
from gateway.providers import rules
from gateway.providers.base import ChatMessage, Provider, ProviderCall
from gateway.providers.rules import RulesProvider, analyze_request
from gateway.providers.rules import provider as rules_provider
from gateway.providers.rules.complexity import complexity_score, measure
from gateway.providers.rules.frameworks import detect
from gateway.providers.rules.languages import dominant_language
from gateway.providers.rules.sources import collect
from gateway.providers.rules.team import bus_factor, commit_shares
from schemas.request import AnalysisRequest
from schemas.results import (
    RESULT_MODELS,
    AttritionRiskResult,
    BurnoutRiskResult,
    CodeComplexityResult,
    CodeQualityResult,
    GrowthTrajectoryResult,
    JobDescriptionResult,
    PerformanceTrajectoryResult,
    ResultModel,
    SkillExtractionResult,
    SoftSkillsResult,
    TaskMatchingResult,
    TaskSignalsResult,
    TeamHealthResult,
)
from schemas.types import AnalysisType

DIFF = """\
diff --git a/app/views.py b/app/views.py
index 3b18e51..a9c2f4d 100644
--- a/app/views.py
+++ b/app/views.py
@@ -10,4 +10,20 @@ from app.models import Order
 import logging
+from django.http import JsonResponse
+import pandas as pd
+
+logger = logging.getLogger(__name__)
+
+
+def order_summary(request, order_id: int) -> JsonResponse:
+    \"\"\"Summarise one order.\"\"\"
+    order = Order.objects.get(pk=order_id)
+    if order.cancelled:
+        return JsonResponse({"status": "cancelled"})
+    frame = pd.DataFrame(order.lines)
+    total = frame["price"].sum()
+    logger.info("order %s total %s", order_id, total)
+    return JsonResponse({"total": total})
+
\x20
 def health(request):
     return JsonResponse({"ok": True})
diff --git a/web/src/Order.tsx b/web/src/Order.tsx
index 1c2d3e4..5f6a7b8 100644
--- a/web/src/Order.tsx
+++ b/web/src/Order.tsx
@@ -1,3 +1,4 @@
 import React from 'react';
+import axios from 'axios';
\x20
 export function Order() {
diff --git a/README.md b/README.md
--- a/README.md
+++ b/README.md
@@ -1,1 +1,2 @@
 # Shop
+Order summaries.
"""

ACTIVITY_STEADY: dict[str, Any] = {
    "commits_per_week_current": 10,
    "commits_per_week_previous": 10,
    "prs_per_week_current": 3,
    "prs_per_week_previous": 3,
    "reviews_per_week_current": 5,
    "reviews_per_week_previous": 5,
    "after_hours_share": 0.1,
    "weekend_share": 0.05,
    "longest_streak_days": 5,
    "median_pr_size": 120,
    "review_turnaround_hours": 6,
    "collaboration_breadth": 6,
    "collaboration_breadth_previous": 6,
    "languages": ["Python", "Go"],
    "frameworks": ["Django"],
}

ACTIVITY_DISENGAGING: dict[str, Any] = {
    **ACTIVITY_STEADY,
    "commits_per_week_current": 3,
    "collaboration_breadth": 2,
}

TYPICAL: dict[AnalysisType, tuple[str, dict[str, Any]]] = {
    AnalysisType.CODE_QUALITY: (DIFF, {}),
    AnalysisType.CODE_COMPLEXITY: (DIFF, {}),
    AnalysisType.SKILL_EXTRACTION: (DIFF, {}),
    AnalysisType.DEVELOPER_PROFILE: (
        DIFF,
        {
            "languages": ["Python", "TypeScript"],
            "frameworks": ["Django"],
            "skills": ["pytest"],
            "years_experience": 6,
        },
    ),
    AnalysisType.SOFT_SKILLS: (
        "",
        {
            "comments": [
                "Thanks! Could you add a test? because this path fails on empty input",
                "nit: rename x",
            ]
        },
    ),
    AnalysisType.GROWTH_TRAJECTORY: (
        "",
        {**ACTIVITY_STEADY, "commits_per_week_current": 14, "previous_languages": ["Python"]},
    ),
    AnalysisType.TASK_SIGNALS: (
        "Checkout crashes with a KeyError when the cart is empty. Blocked by #42 (cart API rewrite).",
        {"title": "Fix crash in checkout", "labels": ["bug"]},
    ),
    AnalysisType.TASK_MATCHING: (
        "",
        {
            "required_skills": ["Python", "Django", "PostgreSQL"],
            "candidates": [
                {"developer": "alice", "skills": ["Go", "Kubernetes"]},
                {"developer": "bob", "skills": ["python", "django", "postgres"]},
                {"developer": "carol", "skills": ["Python"]},
            ],
        },
    ),
    AnalysisType.ATTRITION_RISK: ("", ACTIVITY_DISENGAGING),
    AnalysisType.BURNOUT_RISK: (
        "",
        {
            **ACTIVITY_STEADY,
            "after_hours_share": 0.5,
            "after_hours_share_previous": 0.1,
            "weekend_share": 0.3,
            "weekend_share_previous": 0.05,
        },
    ),
    AnalysisType.PERFORMANCE_TRAJECTORY: ("", ACTIVITY_DISENGAGING),
    AnalysisType.TEAM_HEALTH: (
        "",
        {
            "contributors": [
                {"developer": "alice", "commits_share": 0.6},
                {"developer": "bob", "commits_share": 0.3},
                {"developer": "carol", "commits_share": 0.1},
            ],
            "collaboration_breadth": 3,
        },
    ),
    AnalysisType.LEARNING_PATH: (
        "",
        {"role": "Backend Engineer", "skills": ["Python"], "target_skills": ["Python", "Go", "Kubernetes"]},
    ),
    AnalysisType.JOB_DESCRIPTION: (
        "",
        {"role": "Backend Engineer", "seniority": "senior", "skills": ["Go", "SQL"]},
    ),
    AnalysisType.INTERVIEW_RUBRIC: (
        "",
        {"role": "Backend Engineer", "seniority": "staff", "skills": ["Go", "SQL"]},
    ),
}

MALFORMED_CONTEXT: dict[str, Any] = {
    "commits_per_week_current": "lots",
    "commits_per_week_previous": float("nan"),
    "after_hours_share": [0.4],
    "weekend_share": True,
    "contributors": "alice",
    "commit_shares": {"alice": "x", "bob": None},
    "candidates": 5,
    "files": [None, 3, {"path": 7}],
    "languages": 7,
    "frameworks": {"Django": "many"},
    "comments": {"a": 1},
    "skills": [None, {"x": 1}],
    "seniority": ["senior"],
    "path": {"not": "a path"},
    "role": 3.5,
}


def call_for(
    analysis_type: AnalysisType, content: str = "", context: dict[str, Any] | None = None
) -> ProviderCall:
    request = AnalysisRequest(
        analysis_type=analysis_type, content=content, context=context or {}, request_id="r1"
    )
    return ProviderCall(
        request=request,
        system="",
        messages=(ChatMessage(role="user", content=content),),
        schema={},
        schema_name=analysis_type.value,
        max_tokens=1024,
    )


async def analyze(
    analysis_type: AnalysisType, content: str = "", context: dict[str, Any] | None = None
) -> Any:
    reply = await RulesProvider().analyze(call_for(analysis_type, content, context))
    assert (reply.model, reply.input_tokens, reply.output_tokens) == ("rules-v1", 0, 0)
    return RESULT_MODELS[analysis_type].model_validate_json(reply.text)


def result(analysis_type: AnalysisType, content: str = "", **context: Any) -> Any:
    return analyze_request(AnalysisRequest(analysis_type=analysis_type, content=content, context=context))


# --- every type, every time -------------------------------------------------------------------


def test_every_analysis_type_has_typical_input() -> None:
    assert set(TYPICAL) == set(AnalysisType) == set(rules.ANALYZERS)


@pytest.mark.parametrize("analysis_type", list(AnalysisType))
async def test_typical_input_gives_a_valid_result_labelled_as_rules(analysis_type: AnalysisType) -> None:
    content, context = TYPICAL[analysis_type]
    parsed = await analyze(analysis_type, content, context)
    assert isinstance(parsed, RESULT_MODELS[analysis_type])
    assert "rules" in parsed.model_dump_json().lower()


@pytest.mark.parametrize("analysis_type", list(AnalysisType))
async def test_empty_content_and_context_give_a_valid_result(analysis_type: AnalysisType) -> None:
    parsed = await analyze(analysis_type)
    assert isinstance(parsed, RESULT_MODELS[analysis_type])


@pytest.mark.parametrize("analysis_type", list(AnalysisType))
async def test_malformed_context_degrades_instead_of_crashing(analysis_type: AnalysisType) -> None:
    parsed = await analyze(analysis_type, "{not json", MALFORMED_CONTEXT)
    assert isinstance(parsed, RESULT_MODELS[analysis_type])


@pytest.mark.parametrize("analysis_type", list(AnalysisType))
async def test_same_input_gives_identical_json(analysis_type: AnalysisType) -> None:
    content, context = TYPICAL[analysis_type]
    first = await RulesProvider().analyze(call_for(analysis_type, content, context))
    second = await RulesProvider().analyze(call_for(analysis_type, content, dict(reversed(context.items()))))
    assert first.text == second.text
    assert orjson.loads(first.text) == json.loads(second.text)


async def test_provider_protocol_surface() -> None:
    provider: Provider = RulesProvider()
    assert (provider.name, provider.model) == ("rules", "rules-v1")
    assert await provider.is_available() is True
    await provider.aclose()


def test_failing_analyzer_falls_back_to_empty_input_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def flaky(request: AnalysisRequest) -> ResultModel:
        calls.append(request.content)
        if request.content:
            raise ValueError("boom")
        return SoftSkillsResult(
            communication=5,
            collaboration=5,
            mentorship=5,
            constructiveness=5,
            tone="neutral",
            signals=[],
            summary="x",
        )

    monkeypatch.setattr(rules_provider, "ANALYZERS", {AnalysisType.SOFT_SKILLS: flaky})
    fallback = analyze_request(AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="hi"))
    assert calls == ["hi", ""]
    assert isinstance(fallback, SoftSkillsResult)


def test_analyzer_failing_even_on_empty_input_raises_bad_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(request: AnalysisRequest) -> ResultModel:
        raise ValueError("always")

    monkeypatch.setattr(rules_provider, "ANALYZERS", {AnalysisType.SOFT_SKILLS: broken})
    with pytest.raises(BadRequest) as info:
        analyze_request(AnalysisRequest(analysis_type=AnalysisType.SOFT_SKILLS, content="hi"))
    assert info.value.provider == "rules"
    assert not info.value.retryable


# --- languages and frameworks ------------------------------------------------------------------


def test_language_detection_on_a_unified_diff_picks_python() -> None:
    material = collect(DIFF, {})
    assert [f.path for f in material.files] == ["app/views.py", "web/src/Order.tsx", "README.md"]
    assert [len(f.added) for f in material.files] == [16, 1, 1]
    assert dominant_language(material, {}) == "python"
    extracted = result(AnalysisType.SKILL_EXTRACTION, DIFF)
    assert isinstance(extracted, SkillExtractionResult)
    assert extracted.language == "python"
    assert {"Django", "pandas", "Axios"} <= set(extracted.frameworks)


def test_a_material_without_any_language_has_none_not_unknown() -> None:
    material = collect("diff --git a/NOTES b/NOTES\n@@ -0,0 +1 @@\n+plain words\n", {})
    assert dominant_language(material, {"language": "unknown"}) == ""
    extracted = result(
        AnalysisType.SKILL_EXTRACTION, "diff --git a/NOTES b/NOTES\n@@ -0,0 +1 @@\n+plain words\n"
    )
    assert isinstance(extracted, SkillExtractionResult)
    assert extracted.language == "" and not [s for s in extracted.skills if s.category == "language"]


def test_language_comes_from_context_files_weighted_by_changed_lines() -> None:
    context = {
        "files": [{"path": "a.go", "additions": 300, "deletions": 20}, {"path": "b.py", "additions": 40}]
    }
    assert dominant_language(collect("", context), context) == "go"


def test_frameworks_from_imports() -> None:
    code = (
        "import pytest\nfrom fastapi import FastAPI\nimport numpy as np\n"
        "import React from 'react';\nconst express = require('express');\n"
        'import (\n\t"github.com/gin-gonic/gin"\n)\nuse tokio::runtime;\n'
    )
    names = [hit.name for hit in detect(collect(code, {}))]
    assert names == ["Express", "FastAPI", "Gin", "NumPy", "pytest", "React", "Tokio"]


def test_frameworks_from_package_json() -> None:
    manifest = json.dumps(
        {
            "name": "shop",
            "dependencies": {"react": "^18.2.0", "next": "14.0.0"},
            "devDependencies": {"jest": "^29"},
        }
    )
    with_path = detect(collect(manifest, {"path": "web/package.json"}), manifest)
    without_path = detect(collect(manifest, {}), manifest)
    assert [h.name for h in with_path] == [h.name for h in without_path] == ["Jest", "Next.js", "React"]
    assert all(h.via_manifest and "package.json" in h.evidence for h in with_path)


# --- complexity and quality -------------------------------------------------------------------

KNOWN_BRANCHES = """\
def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    for d in (2, 3, 5):
        if n % d == 0 and n != d:
            return "composite"
    return "other"
"""


def test_lizard_complexity_of_a_function_with_known_branches() -> None:
    # 1 + if + elif + for + if + and = 6
    measured = result(AnalysisType.CODE_COMPLEXITY, KNOWN_BRANCHES, path="pkg/classify.py")
    assert isinstance(measured, CodeComplexityResult)
    assert (measured.function_count, measured.max_cyclomatic_complexity) == (1, 6)
    assert measured.average_cyclomatic_complexity == 6.0
    assert measured.hotspots == []
    # 1 + round(4 * 0.6 + 3 * 6 / 25 + 0 + 9 / 400) = 1 + round(3.14) = 4
    assert measured.complexity_score == 4


def test_hotspots_and_diff_line_numbers() -> None:
    branches = "".join(f"+    if x == {i}:\n+        return {i}\n" for i in range(12))
    diff = (
        "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -40,2 +40,27 @@\n"
        f" import os\n+def pick(x):\n{branches}+    return -1\n"
    )
    measured = result(AnalysisType.CODE_COMPLEXITY, diff)
    assert isinstance(measured, CodeComplexityResult)
    assert measured.max_cyclomatic_complexity == 13
    [hotspot] = measured.hotspots
    assert (hotspot.name, hotspot.cyclomatic_complexity, hotspot.location) == ("pick", 13, "m.py:41-66")
    report = measure(collect(diff, {}))
    assert (
        measured.complexity_score == complexity_score(report) == 1 + round(4 * 1 + 3 * 13 / 25 + 1 + 26 / 400)
    )


def test_code_quality_flags_secrets_and_missing_tests() -> None:
    body = "".join(f"+    total += {i}\n" for i in range(25))
    diff = (
        "diff --git a/pay.py b/pay.py\n--- a/pay.py\n+++ b/pay.py\n@@ -1,0 +1,28 @@\n"
        f'+API_KEY = "sk_live_0123456789abcdef"\n+def pay(total):\n{body}+    return total\n'
    )
    quality = result(AnalysisType.CODE_QUALITY, diff)
    assert isinstance(quality, CodeQualityResult)
    by_category = {issue.category: issue for issue in quality.issues}
    assert by_category["security"].severity == "high"
    assert by_category["security"].location == "pay.py:1"
    assert "no test file" in by_category["testing"].description
    with_tests = result(AnalysisType.CODE_QUALITY, diff.replace("pay.py", "tests/test_pay.py"))
    assert isinstance(with_tests, CodeQualityResult)
    assert with_tests.testability > quality.testability
    assert quality.quality_score < with_tests.quality_score


# --- activity risks ----------------------------------------------------------------------------


def test_attrition_high_for_a_disengaging_developer_and_low_for_a_steady_one() -> None:
    leaving = result(AnalysisType.ATTRITION_RISK, **ACTIVITY_DISENGAGING)
    steady = result(AnalysisType.ATTRITION_RISK, **ACTIVITY_STEADY)
    assert isinstance(leaving, AttritionRiskResult)
    assert isinstance(steady, AttritionRiskResult)
    assert leaving.risk_level in ("high", "critical")
    assert steady.risk_level == "low"
    assert leaving.risk_score > steady.risk_score
    # (0.35 * ramp(0.7 commit drop, 0.3 -> 1) + 0.25 * (6 - 2) / 6 breadth shrink) over the known
    # weights 0.9 (the off-hours shift has no reference share: unobserved) = 0.407
    assert leaving.risk_score == pytest.approx(0.407, abs=0.001)
    assert leaving.unobserved == ["after_hours_share"]
    commits = next(f for f in leaving.factors if f.factor == "commits_decline")
    assert "3.00 vs 10.00" in commits.evidence
    assert "-70%" in commits.evidence


def test_activity_figures_are_read_from_json_content_too() -> None:
    from_content = result(AnalysisType.ATTRITION_RISK, json.dumps(ACTIVITY_DISENGAGING))
    from_context = result(AnalysisType.ATTRITION_RISK, **ACTIVITY_DISENGAGING)
    assert from_content == from_context


def test_missing_figures_are_unknown_and_said_so() -> None:
    empty = result(AnalysisType.ATTRITION_RISK)
    assert isinstance(empty, AttritionRiskResult)
    assert (empty.risk_score, empty.risk_level, empty.factors) == (0.0, "low", [])
    assert empty.unobserved == [
        "after_hours_share",
        "collaboration_breadth",
        "commits_per_week",
        "prs_per_week",
        "reviews_per_week",
    ]
    assert any("nothing could be judged" in r for r in empty.recommendations)


def test_burnout_high_with_after_hours_and_weekend_work() -> None:
    strained = result(AnalysisType.BURNOUT_RISK, **TYPICAL[AnalysisType.BURNOUT_RISK][1])
    rested = result(AnalysisType.BURNOUT_RISK, **ACTIVITY_STEADY)
    assert isinstance(strained, BurnoutRiskResult)
    assert isinstance(rested, BurnoutRiskResult)
    assert strained.risk_level in ("high", "critical")
    # after hours +0.40 (signal 1.0 x 0.35), weekends +0.25 (0.6 x 0.25), workload flat (0 x 0.20),
    # over the known weights 0.8 (no streak baseline: unobserved) = 0.625
    assert strained.risk_score == pytest.approx(0.625)
    assert len(strained.warning_signs) == 2
    assert rested.risk_level == "low"
    percent = result(
        AnalysisType.BURNOUT_RISK,
        **{**TYPICAL[AnalysisType.BURNOUT_RISK][1], "after_hours_share": 50, "weekend_share": 30},
    )
    assert percent == strained


def test_performance_trajectory_declines_with_falling_output() -> None:
    falling = result(AnalysisType.PERFORMANCE_TRAJECTORY, **ACTIVITY_DISENGAGING)
    assert isinstance(falling, PerformanceTrajectoryResult)
    assert falling.trajectory == "declining"
    assert falling.velocity_change_pct == pytest.approx(-23.3)
    steady = result(AnalysisType.PERFORMANCE_TRAJECTORY, **ACTIVITY_STEADY)
    assert isinstance(steady, PerformanceTrajectoryResult)
    assert (steady.trajectory, steady.velocity_change_pct) == ("stable", 0.0)


@pytest.mark.parametrize(
    ("shares", "expected"),
    [
        ({"alice": 0.6, "bob": 0.3, "carol": 0.1}, 1),
        ({"a": 0.3, "b": 0.3, "c": 0.2, "d": 0.2}, 2),
        ({"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}, 3),
        ({}, 0),
    ],
)
def test_bus_factor(shares: dict[str, float], expected: int) -> None:
    assert bus_factor(shares) == expected


def test_team_health_reads_contributor_counts_and_share_lists() -> None:
    counts = {
        "contributors": [{"developer": "a", "commits_share": 60}, {"developer": "b", "commits_share": 40}]
    }
    assert commit_shares(counts) == {"a": 0.6, "b": 0.4}
    health = result(AnalysisType.TEAM_HEALTH, commit_shares=[0.7, 0.2, 0.1])
    assert isinstance(health, TeamHealthResult)
    assert health.bus_factor == 1
    even = result(AnalysisType.TEAM_HEALTH, commit_shares=[0.25, 0.25, 0.25, 0.25])
    assert isinstance(even, TeamHealthResult)
    assert (even.bus_factor, even.workload_balance) == (3, 1.0)
    assert even.health_score > health.health_score


# --- people and tasks --------------------------------------------------------------------------


def test_task_matching_ranks_the_best_skilled_candidate_first() -> None:
    content, context = TYPICAL[AnalysisType.TASK_MATCHING]
    matching = result(AnalysisType.TASK_MATCHING, content, **context)
    assert isinstance(matching, TaskMatchingResult)
    assert [m.developer for m in matching.matches] == ["bob", "carol", "alice"]
    assert [m.score for m in matching.matches] == [1.0, pytest.approx(1 / 3, abs=0.001), 0.0]
    assert matching.recommended_developer == "bob"
    assert matching.matches[1].skill_gaps == ["Django", "PostgreSQL"]


def test_task_signals_classify_bugfix_and_blockers() -> None:
    content, context = TYPICAL[AnalysisType.TASK_SIGNALS]
    signals = result(AnalysisType.TASK_SIGNALS, content, **context)
    assert isinstance(signals, TaskSignalsResult)
    assert signals.task_type == "bugfix"
    assert signals.blockers == ["Blocked by #42 (cart API rewrite)"]
    security = result(AnalysisType.TASK_SIGNALS, "XSS vulnerability in the search page", title="Escape input")
    assert isinstance(security, TaskSignalsResult)
    assert (security.task_type, security.risk_level) == ("security", "high")


def test_soft_skills_tone_follows_the_comments() -> None:
    kind = ["Thanks, nice work! Could you add a test because the empty case fails?", "nit: typo here, thanks"]
    harsh = ["This is garbage, obviously wrong.", "Terrible naming. Just do it properly."]
    polite = result(AnalysisType.SOFT_SKILLS, comments=kind)
    rude = result(AnalysisType.SOFT_SKILLS, comments=harsh)
    assert isinstance(polite, SoftSkillsResult)
    assert isinstance(rude, SoftSkillsResult)
    assert (polite.tone, rude.tone) == ("positive", "negative")
    assert polite.constructiveness > rude.constructiveness
    assert polite.collaboration > rude.collaboration
    assert any(s.polarity == "negative" and "garbage" in s.evidence for s in rude.signals)


def test_growth_compares_each_skill_list_with_its_own_history() -> None:
    growth = result(
        AnalysisType.GROWTH_TRAJECTORY,
        languages=["Python", "Go"],
        frameworks=["Django"],
        previous_languages=["python"],
    )
    assert isinstance(growth, GrowthTrajectoryResult)
    assert growth.new_skills == ["Go"]
    assert growth.deepening_skills == ["Python", "Django"]


def test_task_size_comes_from_change_figures_not_from_prose() -> None:
    signals = result(
        AnalysisType.TASK_SIGNALS, "Add CSV export to the billing page.", additions=400, deletions=150
    )
    assert isinstance(signals, TaskSignalsResult)
    # 550 changed lines exceed 6 of the size steps (10, 30, 80, 150, 300, 500)
    assert (signals.task_type, signals.estimated_complexity, signals.estimated_effort_hours) == (
        "feature",
        7,
        20,
    )
    assert signals.risk_level == "high"  # billing is a sensitive area at complexity >= 5


def test_prose_is_never_sniffed_for_a_language() -> None:
    prose = "Data Engineer\nYour main function will be to export reports and const-ly improve pipelines."
    job = result(AnalysisType.JOB_DESCRIPTION, prose)
    assert isinstance(job, JobDescriptionResult)
    assert job.title == "Data Engineer"
    assert job.required_skills == ["Python", "SQL", "pandas", "Statistics"]
