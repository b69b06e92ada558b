"""The rules provider's predictive results: seniority from evidence, critical only when corroborated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from consumers.activity import docs, features
from consumers.activity.config import ActivityConfig
from consumers.activity.observe import of_code_change
from gateway.providers.rules import analyze_request
from schemas.events import parse_code_change
from schemas.request import AnalysisRequest
from schemas.results import AttritionRiskResult, DeveloperProfileResult
from schemas.types import AnalysisType
from tests.activity.history import START, commit

YEAR = 365.0


def result(kind: AnalysisType, **facts: Any) -> Any:
    return analyze_request(AnalysisRequest(analysis_type=kind, content="", context=facts, request_id="r1"))


def profile(**facts: Any) -> DeveloperProfileResult:
    found = result(AnalysisType.DEVELOPER_PROFILE, **facts)
    assert isinstance(found, DeveloperProfileResult)
    return found


# -- seniority -------------------------------------------------------------------------------------

FILE_TYPES = {
    "markdown": 40,
    "json": 12,
    "yaml": 8,
    "text": 5,
    "unknown": 9,
    "c": 6,
    "python": 4,
    "shell": 3,
    "makefile": 2,
    "javascript": 2,
    "typescript": 1,
}
FRAMEWORKS = ["react", "django", "pytest", "jest", "express"]


def test_a_two_week_contributor_touching_many_file_types_is_junior() -> None:
    newcomer = profile(history_days=14, languages=FILE_TYPES, frameworks=FRAMEWORKS)

    assert newcomer.seniority_estimate == "junior"
    assert "tenure 14 days -> junior" in newcomer.summary
    assert not {"markdown", "json", "yaml", "text", "unknown"} & set(newcomer.primary_languages)


def test_the_same_from_the_activity_state_of_two_weeks_of_commits() -> None:
    config, doc = ActivityConfig(), docs.Doc()
    for day in range(14):
        event = parse_code_change(commit("newt", START + timedelta(days=day, hours=11), n=day))
        for obs in of_code_change(event):
            doc = docs.record_developer(doc, obs, [], "octo/app", config)
        doc = docs.record_skills(doc, [list(FILE_TYPES)[day % len(FILE_TYPES)]], FRAMEWORKS[: day % 5])
    found = features.developer_features(doc, config)

    newcomer = profile(**found)
    assert newcomer.seniority_estimate == "junior"
    assert found["history_days"] == 13.0 and "tenure 13 days" in newcomer.summary


def test_seniority_follows_tenure_volume_in_code_and_reviews_where_known() -> None:
    veteran = {"history_days": 6 * YEAR, "languages": {"c": 700, "markdown": 3000, "python": 20}}
    assert profile(**veteran).seniority_estimate == "staff"  # 6 years; 720 changes in code
    few_reviews = profile(**veteran, reviews_total=30)
    assert few_reviews.seniority_estimate == "mid"  # each known part must support the level
    assert "30 reviews given -> mid" in few_reviews.summary
    unseen = profile(**veteran, reviews_total=30, unobserved=["reviews_total"])
    assert unseen.seniority_estimate == "staff"  # reviews the source cannot see count neither way


def test_markup_and_data_volume_is_never_code() -> None:
    writer = profile(
        history_days=6 * YEAR, languages={"markdown": 5000, "json": 900, "unknown": 400, "c": 10}
    )

    assert writer.seniority_estimate == "junior"
    assert "10 analysed changes in code (c 10) -> junior" in writer.summary


def test_without_any_evidence_the_estimate_is_the_neutral_mid() -> None:
    assert profile().seniority_estimate == "mid"


# -- critical needs corroboration ------------------------------------------------------------------

BASELINE: dict[str, Any] = {
    "window_days": 28,
    "baseline_days": 168,
    "commits_per_week_current": 0.25,
    "commits_per_week_baseline": 12.0,
    "after_hours_days_share": 0.2,
    "after_hours_days_share_baseline": 0.2,
    "weekend_days_share": 0.1,
    "weekend_days_share_baseline": 0.1,
    "commit_days_current": 10,
    "commit_days_baseline": 80,
    "unobserved": ["prs_per_week", "reviews_per_week", "collaboration_breadth"],
}


def test_one_strong_change_alone_is_high_not_critical() -> None:
    alone = result(AnalysisType.ATTRITION_RISK, **BASELINE)

    assert isinstance(alone, AttritionRiskResult)
    # commits -98 % (signal 0.97 x 0.35) over the known weights 0.45 is 0.755, critical by the mean
    # alone; with no second strong change it stops below critical
    assert (alone.risk_level, alone.risk_score) == ("high", 0.69)
    drop = next(f for f in alone.factors if f.factor == "commits_decline")
    assert (
        "commits/week 0.25 over 28 days vs own baseline 12.00 over the 168 days before (-98%)"
        in drop.evidence
    )


def test_two_strong_changes_make_it_critical_each_with_its_numbers() -> None:
    both = result(AnalysisType.ATTRITION_RISK, **{**BASELINE, "weekend_days_share": 0.7})

    assert isinstance(both, AttritionRiskResult)
    assert both.risk_level == "critical" and both.risk_score >= 0.7
    cited = [f.evidence for f in both.factors if f.weight > 0]
    assert len(cited) == 2
    assert any("vs own baseline 12.00" in e and "-98%" in e for e in cited)
    assert any(
        "weekend share of days with commits 0.70 over 28 days vs own baseline 0.10" in e for e in cited
    )
