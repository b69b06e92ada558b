"""Attrition risk, burnout risk and performance trajectory from the activity features.

Feature names are documented in `activity`. Every factor is a 0-1 signal times a fixed weight
(weights sum to 1); the score is the sum of the contributions, the level follows
`activity.RISK_LEVELS` (>= 0.7 critical, >= 0.4 high, >= 0.2 medium, else low). A missing figure
contributes 0 and its factor's evidence says it was not provided. Each `RiskFactor.weight` is that
factor's contribution to the score.

Attrition (disengagement):
    0.35 * commit drop + 0.15 * PR drop + 0.15 * review drop       (drop = (prev - cur) / prev, 0-1)
  + 0.25 * collaboration: max(shrink of collaboration_breadth vs collaboration_breadth_previous,
                              0.5 * (1 - min(collaboration_breadth / 5, 1)))
  + 0.10 * off-hours: ramp(after_hours_share + weekend_share, 0.15 -> 0.60)

Burnout (overload):
    0.35 * ramp(after_hours_share, 0.10 -> 0.40) + 0.25 * ramp(weekend_share, 0.05 -> 0.30)
  + 0.20 * ramp(longest_streak_days, 10 -> 30) + 0.20 * workload rise (commits+PRs+reviews vs
    previous, ramp 0 -> +100%)

Performance trajectory:
    velocity_change_pct = 100 * mean relative change of commits, PRs and reviews per week (known
    pairs only); improving above +15 %, declining below -15 %, else stable;
    score = 0.5 + velocity_change_pct / 200, minus 0.10 when review_turnaround_hours > 48 and 0.05
    when median_pr_size > 400, clamped to 0-1; confidence = 0.2 + 0.2 per known pair.
"""

from __future__ import annotations

from statistics import mean
from typing import Literal

from gateway.providers.rules.activity import (
    Activity,
    Signal,
    Trend,
    missing,
    ramp,
    read_activity,
    risk_level,
    total,
    workload,
)
from gateway.providers.rules.inputs import clamp, fmt, merge_facts
from schemas.request import AnalysisRequest
from schemas.results.risk import AttritionRiskResult, BurnoutRiskResult, PerformanceTrajectoryResult

Trajectory = Literal["improving", "stable", "declining"]

HEALTHY_BREADTH = 5.0
TREND_THRESHOLD_PCT = 15.0
SLOW_REVIEW_HOURS = 48.0
LARGE_PR_LINES = 400.0
WARNING_SIGNAL = 0.5
MAX_CHANGE = 5.0

ATTRITION_WEIGHTS = {"commits": 0.35, "prs": 0.15, "reviews": 0.15}
MISSING_DATA_NOTE = "rules: {n} of {m} factors lacked figures and counted as 0; collect them before acting."


def _drop_signal(metric: str, trend: Trend) -> Signal:
    return Signal(f"{metric}_decline", ATTRITION_WEIGHTS[metric], trend.drop, trend.describe())


def _collaboration_signal(activity: Activity) -> Signal:
    breadth = activity.collaboration
    if breadth.current is None:
        return Signal("collaboration_narrowing", 0.25, None, "collaboration_breadth not provided")
    isolation = 0.5 * (1 - min(breadth.current / HEALTHY_BREADTH, 1.0))
    value = max(breadth.drop or 0.0, isolation)
    return Signal("collaboration_narrowing", 0.25, value, breadth.describe())


def _off_hours(activity: Activity) -> float | None:
    if activity.after_hours_share is None or activity.weekend_share is None:
        return None
    return activity.after_hours_share + activity.weekend_share


def _off_hours_signal(activity: Activity, weight: float) -> Signal:
    evidence = (
        f"after-hours share {fmt(activity.after_hours_share)}, weekend share {fmt(activity.weekend_share)}"
    )
    return Signal("off_hours_work", weight, ramp(_off_hours(activity), 0.15, 0.60), evidence)


def attrition_signals(activity: Activity) -> list[Signal]:
    signals = [_drop_signal(metric, activity.trends[metric]) for metric in ATTRITION_WEIGHTS]
    return [*signals, _collaboration_signal(activity), _off_hours_signal(activity, 0.10)]


ATTRITION_ADVICE = {
    "commits_decline": "rules: talk about workload and motivation; commit activity fell sharply.",
    "prs_decline": "rules: check whether the developer still owns work they care about.",
    "reviews_decline": "rules: re-engage in code review, e.g. pair reviews on interesting changes.",
    "collaboration_narrowing": "rules: widen collaboration: cross-team reviews, pairing, shared projects.",
    "off_hours_work": "rules: look at off-hours work; it often precedes disengagement.",
}


def _advice(signals: list[Signal], table: dict[str, str], fallback: str) -> list[str]:
    advice = [table[s.factor] for s in signals if (s.value or 0.0) >= WARNING_SIGNAL and s.factor in table]
    if missing(signals):
        advice.append(MISSING_DATA_NOTE.format(n=missing(signals), m=len(signals)))
    return advice or [fallback]


def analyze_attrition_risk(request: AnalysisRequest) -> AttritionRiskResult:
    signals = attrition_signals(read_activity(merge_facts(request.content, request.context)))
    score = total(signals)
    return AttritionRiskResult(
        risk_score=score,
        risk_level=risk_level(score),
        factors=[s.risk_factor() for s in signals],
        recommendations=_advice(signals, ATTRITION_ADVICE, "rules: no attrition signal; keep regular 1:1s."),
    )


def burnout_signals(activity: Activity) -> list[Signal]:
    load = workload(activity)
    after, weekend = activity.after_hours_share, activity.weekend_share
    return [
        Signal("after_hours_work", 0.35, ramp(after, 0.10, 0.40), f"after-hours share {fmt(after)}"),
        Signal("weekend_work", 0.25, ramp(weekend, 0.05, 0.30), f"weekend share {fmt(weekend)}"),
        Signal(
            "long_streaks",
            0.20,
            ramp(activity.longest_streak_days, 10.0, 30.0),
            f"longest streak {fmt(activity.longest_streak_days, 0)} days",
        ),
        Signal("rising_workload", 0.20, ramp(load.change, 0.0, 1.0), load.describe()),
    ]


BURNOUT_WARNINGS = {
    "after_hours_work": "rules: a large share of work happens after hours",
    "weekend_work": "rules: regular weekend work",
    "long_streaks": "rules: long streaks without a day off",
    "rising_workload": "rules: workload rising fast compared with the previous window",
}
BURNOUT_ADVICE = {
    "after_hours_work": "rules: agree on working hours and move deadlines rather than hours.",
    "weekend_work": "rules: protect weekends; check on-call and release schedules.",
    "long_streaks": "rules: encourage time off after the current push.",
    "rising_workload": "rules: rebalance the workload across the team.",
}


def analyze_burnout_risk(request: AnalysisRequest) -> BurnoutRiskResult:
    signals = burnout_signals(read_activity(merge_facts(request.content, request.context)))
    score = total(signals)
    warnings = [BURNOUT_WARNINGS[s.factor] for s in signals if (s.value or 0.0) >= WARNING_SIGNAL]
    return BurnoutRiskResult(
        risk_score=score,
        risk_level=risk_level(score),
        factors=[s.risk_factor() for s in signals],
        warning_signs=warnings,
        recommendations=_advice(signals, BURNOUT_ADVICE, "rules: no burnout signal; keep the current pace."),
    )


def velocity_change_pct(activity: Activity) -> float | None:
    """Mean relative change of the known metric pairs, in percent (>= -100, capped at +500)."""
    changes = [t.change for t in activity.trends.values() if t.change is not None]
    if not changes:
        return None
    return round(max(-100.0, min(100.0 * MAX_CHANGE, 100.0 * mean(changes))), 1)


def _trend_factor(metric: str, trend: Trend) -> Signal:
    change = trend.change
    value = None if change is None else min(abs(change), 1.0)
    return Signal(f"{metric}_trend", 1 / 3, value, trend.describe())


def performance_signals(activity: Activity) -> list[Signal]:
    turnaround, size = activity.review_turnaround_hours, activity.median_pr_size
    signals = [_trend_factor(metric, trend) for metric, trend in activity.trends.items()]
    slow = None if turnaround is None else float(turnaround > SLOW_REVIEW_HOURS)
    large = None if size is None else float(size > LARGE_PR_LINES)
    evidence = f"review turnaround {fmt(turnaround, 1)} h (slow above {SLOW_REVIEW_HOURS:.0f} h)"
    signals.append(Signal("slow_review_turnaround", 0.10, slow, evidence))
    evidence = f"median PR size {fmt(size, 0)} lines (large above {LARGE_PR_LINES:.0f})"
    signals.append(Signal("large_pull_requests", 0.05, large, evidence))
    return signals


def _trajectory(change: float) -> Trajectory:
    if change > TREND_THRESHOLD_PCT:
        return "improving"
    return "declining" if change < -TREND_THRESHOLD_PCT else "stable"


PENALTY_FACTORS = frozenset({"slow_review_turnaround", "large_pull_requests"})
PERFORMANCE_ADVICE: dict[Trajectory, str] = {
    "improving": "rules: output is rising; make sure quality and review depth keep up.",
    "stable": "rules: output is steady; look for a stretch goal to keep growth going.",
    "declining": "rules: output is falling; check for blockers, context switching or disengagement.",
}


def _performance_advice(trajectory: Trajectory, signals: list[Signal]) -> list[str]:
    flagged = [f"rules: {s.evidence}." for s in signals if s.factor in PENALTY_FACTORS and s.value]
    return [PERFORMANCE_ADVICE[trajectory], *flagged]


def analyze_performance_trajectory(request: AnalysisRequest) -> PerformanceTrajectoryResult:
    activity = read_activity(merge_facts(request.content, request.context))
    signals = performance_signals(activity)
    change = velocity_change_pct(activity) or 0.0
    penalties = sum(s.contribution for s in signals if s.factor in PENALTY_FACTORS)
    known = sum(1 for t in activity.trends.values() if t.known)
    return PerformanceTrajectoryResult(
        trajectory=_trajectory(change),
        score=round(clamp(0.5 + change / 200 - penalties), 3),
        velocity_change_pct=change,
        factors=[s.risk_factor() for s in signals],
        recommendations=_performance_advice(_trajectory(change), signals),
        confidence=round(0.2 + 0.2 * known, 3),
    )
