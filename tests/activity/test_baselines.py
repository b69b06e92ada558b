"""Change judged against each developer's own baseline, and what the source cannot see left unknown.

Scripted commit histories go through the real state documents, features, triggers and rules provider:
a steady habit is no risk, a sustained change from it is, with its numbers; a git-only history has
no reviews, pull requests or collaboration breadth to judge, and the results say so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from consumers.activity import docs, features, triggers
from consumers.activity.config import ActivityConfig
from consumers.activity.observe import Observation, Person, of_code_change
from gateway.providers.rules import analyze_request
from schemas.events import parse_code_change
from schemas.results import AttritionRiskResult, BurnoutRiskResult, PerformanceTrajectoryResult
from schemas.types import AnalysisType
from tests.activity.history import START, by_time, commit, declining, weeks

CONFIG = ActivityConfig()
GIT_ONLY = ["collaboration_breadth", "prs_per_week", "reviews_per_week"]


def features_of(history: list[bytes], extra: tuple[Observation, ...] = ()) -> dict[str, Any]:
    """The developer's features as of their last event, from the real state document."""
    doc: docs.Doc = {}
    observations = [o for value in history for o in of_code_change(parse_code_change(value))]
    for obs in sorted([*observations, *extra], key=lambda o: o.at):
        doc = docs.record_developer(doc, obs, [], obs.repository, CONFIG)
    return features.developer_features(doc, CONFIG)


def analysed(kind: AnalysisType, found: dict[str, Any]) -> Any:
    """The rules provider's result for the request the tracker would make of these features."""
    return analyze_request(triggers.request(kind, "dev", found, {"developer": "dev"}, "backfill", "t"))


def factor(result: Any, name: str) -> Any:
    return next(f for f in result.factors if f.factor == name)


# -- the developer's own baseline ------------------------------------------------------------------


def test_a_steady_evening_contributor_is_not_a_rising_burnout_risk() -> None:
    evenings = features_of(list(weeks("eve", 0, 13, per_week=10, weekend=2, hour=21)))
    assert evenings["after_hours_days_share"] == evenings["after_hours_days_share_baseline"] == 1.0

    assert triggers.risk_reasons(evenings, CONFIG.min_previous) == []
    burnout = analysed(AnalysisType.BURNOUT_RISK, evenings)
    assert isinstance(burnout, BurnoutRiskResult)
    assert (burnout.risk_level, burnout.risk_score, burnout.warning_signs) == ("low", 0.0, [])
    shift = factor(burnout, "after_hours_shift")
    assert shift.weight == 0.0
    assert "1.00 over 28 days vs own baseline 1.00 over the 62 days before" in shift.evidence


def test_a_sustained_move_to_the_evenings_is_rising_and_cites_its_numbers() -> None:
    moved = features_of([*weeks("sam", 0, 9, per_week=10), *weeks("sam", 9, 13, per_week=10, hour=21)])

    cited = (
        "after-hours share of days with commits 1.00 over 28 days vs own baseline 0.00 over the 61 days"
        " before (of 20 days with commits; baseline 45) (+1.00)"
    )
    assert triggers.risk_reasons(moved, CONFIG.min_previous) == [cited]
    burnout = analysed(AnalysisType.BURNOUT_RISK, moved)
    assert isinstance(burnout, BurnoutRiskResult)
    # the shift alone (signal 1.0 x 0.35); weekends, streaks and workload are as usual (0)
    assert (burnout.risk_level, burnout.risk_score) == ("medium", 0.35)
    shift = factor(burnout, "after_hours_shift")
    assert shift.weight == 0.35 and cited in shift.evidence
    assert [w for w in burnout.warning_signs if cited in w]


def test_one_busy_late_night_is_no_sustained_shift() -> None:
    history = list(weeks("nia", 0, 13, per_week=10))
    night = START + timedelta(weeks=11, days=2, hours=22)
    history += [commit("nia", night + timedelta(minutes=n), n=9000 + n) for n in range(12)]
    late = features_of(by_time(history))

    assert late["after_hours_share"] > 0.2  # 12 of 52 commits ...
    assert late["after_hours_days_share"] < 0.1  # ... on one of 20 days
    assert triggers.risk_reasons(late, CONFIG.min_previous) == []
    burnout = analysed(AnalysisType.BURNOUT_RISK, late)
    assert isinstance(burnout, BurnoutRiskResult)
    assert factor(burnout, "after_hours_shift").weight == 0.0


def test_a_shift_without_enough_history_is_not_judged_and_not_scored() -> None:
    newcomer = features_of([*weeks("neo", 0, 3, per_week=10), *weeks("neo", 3, 7, per_week=10, hour=21)])

    burnout = analysed(AnalysisType.BURNOUT_RISK, newcomer)
    assert isinstance(burnout, BurnoutRiskResult)
    shift = factor(burnout, "after_hours_shift")
    assert shift.weight == 0.0
    assert "not judged, own baseline covers 19 days (needs 56)" in shift.evidence
    assert burnout.risk_score == 0.0 and burnout.unobserved == []  # all seen, the history too short
    assert "not judged" in factor(burnout, "rising_workload").evidence


# -- what the source cannot observe ----------------------------------------------------------------


def test_a_git_only_developer_has_unknown_reviews_and_collaboration_not_scored() -> None:
    found = features_of(declining("dora"))
    assert found["unobserved"] == [
        "collaboration_breadth",
        "median_pr_size",
        "prs_per_week",
        "review_turnaround_hours",
        "reviews_per_week",
        "reviews_total",
    ]
    assert found["reviews_per_week_current"] is found["collaboration_breadth"] is None

    attrition = analysed(AnalysisType.ATTRITION_RISK, found)
    assert isinstance(attrition, AttritionRiskResult)
    assert attrition.unobserved == GIT_ONLY
    assert {f.factor for f in attrition.factors} == {"commits_decline", "off_hours_shift"}
    assert not any("review" in f.evidence or "collaboration" in f.evidence for f in attrition.factors)
    assert any(
        "reviews_per_week" in r and "neither risk nor reassurance" in r for r in attrition.recommendations
    )
    # the weighted mean of what was seen, over their weights 0.35 + 0.10: commits fell 70 % (signal
    # 0.58 x 0.35) and half the days with commits became weekend days, from none (signal 1.0 x 0.10)
    assert (attrition.risk_score, attrition.risk_level) == (0.672, "high")
    commits = factor(attrition, "commits_decline")
    assert "3.00 over 28 days vs own baseline 10.16 over the 62 days before (-70%)" in commits.evidence
    assert attrition.risk_score == round(sum(f.weight for f in attrition.factors), 3)
    performance = analysed(AnalysisType.PERFORMANCE_TRAJECTORY, found)
    assert isinstance(performance, PerformanceTrajectoryResult)
    assert performance.unobserved == [
        "median_pr_size",
        "prs_per_week",
        "review_turnaround_hours",
        "reviews_per_week",
    ]
    assert performance.confidence == 0.4  # one known pair (commits), not three


def test_once_reviews_are_seen_none_is_a_known_zero() -> None:
    review = Observation("r-1", Person("dora", None), "octo/app", "review", START + timedelta(days=3))
    found = features_of(declining("dora"), (review,))

    assert found["unobserved"] == []
    assert found["reviews_per_week_current"] == 0.0 and found["reviews_total"] == 1
    attrition = analysed(AnalysisType.ATTRITION_RISK, found)
    assert isinstance(attrition, AttritionRiskResult)
    assert "reviews_decline" in {f.factor for f in attrition.factors}
    assert "reviews_per_week" not in attrition.unobserved


def test_the_skills_are_those_the_features_list() -> None:
    """What `_skills` compares with the last profile's, read without the rest of the features."""
    doc: docs.Doc = {}
    for n in range(14):  # more frameworks than the features keep, with ties
        doc = docs.record_skills(doc, ["Python", "C", "Go", "Rust"][: 1 + n % 4], [f"fw{n % 12}"])
    doc["languages"]["unknown"] = 99  # a document written before such names were left out
    found = features.developer_features(doc, CONFIG)
    assert features.skills(doc) == sorted({*found["languages"], *found["frameworks"]})
    assert len(found["frameworks"]) == 10 and "unknown" not in features.skills(doc)
