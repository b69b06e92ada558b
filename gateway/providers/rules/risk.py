"""Attrition risk, burnout risk and performance trajectory from the activity features.

Feature names are documented in `activity`. Every factor is a 0-1 signal of change against the
developer's own baseline (else the previous window), times a fixed weight. The score is the
weighted mean of the known signals: a factor the source cannot observe, or whose figures are
missing, is left out (listed in `unobserved`), and so is one the history is too short to judge
(its evidence says why). A steady pattern, however unusual (always in the evenings), is no signal;
only a change from it is. Each `RiskFactor.weight` is that factor's contribution to the score;
the level follows `activity.RISK_LEVELS` (>= 0.7 critical, >= 0.4 high, >= 0.2 medium, else low);
critical takes two factors with a signal of 0.5 or more (one alone stops at 0.69, see `activity.scale`).

Attrition (disengagement):
    0.35 * commit drop + 0.15 * PR drop + 0.15 * review drop
      (drop = ramp((ref - cur) / ref, 0.3 -> 1), a drop within noise counting as none)
  + 0.25 * shrink of collaboration_breadth vs collaboration_breadth_previous (from >= 3 people)
  + 0.10 * off-hours shift: the larger of the after-hours and weekend rises, ramp 0.10 -> 0.40

Burnout (overload):
    0.35 * ramp(after-hours share rise, 0.10 -> 0.40) + 0.25 * ramp(weekend share rise, 0.10 -> 0.35)
  + 0.20 * longer streaks: ramp(longest_streak_days, 14 -> 28) when longer than the baseline's
  + 0.20 * rising workload: ramp(relative rise of commits+PRs+reviews/week, +50% -> +200%)
  A share is of the days with commits (else of commits); its rise counts only when judged and
  beyond noise (see `activity.Shift`).

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
    MATERIAL_DROP,
    MATERIAL_RISE,
    Activity,
    Shift,
    Signal,
    Trend,
    factors,
    ramp,
    read_activity,
    risk_level,
    total,
    unobserved,
    workload,
)
from gateway.providers.rules.inputs import clamp, fmt, merge_facts
from schemas.request import AnalysisRequest
from schemas.results.risk import AttritionRiskResult, BurnoutRiskResult, PerformanceTrajectoryResult

Trajectory = Literal["improving", "stable", "declining"]

MIN_BREADTH = 3.0
TREND_THRESHOLD_PCT = 15.0
SLOW_REVIEW_HOURS = 48.0
LARGE_PR_LINES = 400.0
WARNING_SIGNAL = 0.5
MAX_CHANGE = 5.0
STREAK_START, STREAK_FULL = 14.0, 28.0

ATTRITION_WEIGHTS = {"commits": 0.35, "prs": 0.15, "reviews": 0.15}
UNOBSERVED_NOTE = (
    "rules: not observed for this developer: {names}; left out of the score, neither risk nor reassurance."
)
NOTHING_JUDGED = "rules: nothing could be judged against the developer's own baseline yet."


def _trend_signal(factor: str, weight: float, metric: str, trend: Trend, value: float | None) -> Signal:
    missing = trend.current is None or trend.previous is None
    return Signal(factor, weight, value, trend.describe(), f"{metric}_per_week" if missing else None)


def _drop_signal(metric: str, trend: Trend) -> Signal:
    value = ramp(trend.drop, MATERIAL_DROP, 1.0)
    return _trend_signal(f"{metric}_decline", ATTRITION_WEIGHTS[metric], metric, trend, value)


def _collaboration_signal(activity: Activity) -> Signal:
    breadth = activity.collaboration
    if breadth.current is None or breadth.previous is None:
        return Signal("collaboration_narrowing", 0.25, None, breadth.describe(), "collaboration_breadth")
    if breadth.previous < MIN_BREADTH:
        evidence = f"{breadth.describe()}: not judged, fewer than {MIN_BREADTH:g} people before"
        return Signal("collaboration_narrowing", 0.25, None, evidence)
    return Signal("collaboration_narrowing", 0.25, breadth.drop, breadth.describe())


def _shift_value(shift: Shift, start: float, full: float) -> float | None:
    return ramp(shift.rise, start, full)


def _shift_signal(factor: str, weight: float, key: str, shift: Shift, full: float) -> Signal:
    return Signal(
        factor, weight, _shift_value(shift, 0.10, full), shift.describe(), key if shift.missing else None
    )


def _off_hours_signal(activity: Activity) -> Signal:
    shifts = (activity.after_hours, activity.weekend)
    values = [v for s in shifts if (v := _shift_value(s, 0.10, 0.40)) is not None]
    evidence = "; ".join(s.describe() for s in shifts)
    missing = all(s.missing for s in shifts)
    return Signal(
        "off_hours_shift", 0.10, max(values, default=None), evidence, "after_hours_share" if missing else None
    )


def attrition_signals(activity: Activity) -> list[Signal]:
    signals = [_drop_signal(metric, activity.trends[metric]) for metric in ATTRITION_WEIGHTS]
    return [*signals, _collaboration_signal(activity), _off_hours_signal(activity)]


ATTRITION_ADVICE = {
    "commits_decline": "rules: talk about workload and motivation; commits fell well below their usual rate.",
    "prs_decline": "rules: check whether the developer still owns work they care about.",
    "reviews_decline": "rules: re-engage in code review, e.g. pair reviews on interesting changes.",
    "collaboration_narrowing": "rules: widen collaboration: cross-team reviews, pairing, shared projects.",
    "off_hours_shift": "rules: ask about the move to off-hours work; new routines may precede disengagement.",
}


def _advice(signals: list[Signal], table: dict[str, str], fallback: str) -> list[str]:
    advice = [table[s.factor] for s in signals if (s.value or 0.0) >= WARNING_SIGNAL and s.factor in table]
    if not advice:
        advice = [NOTHING_JUDGED if all(s.value is None for s in signals) else fallback]
    if hidden := unobserved(signals):
        advice.append(UNOBSERVED_NOTE.format(names=", ".join(hidden)))
    return advice


def analyze_attrition_risk(request: AnalysisRequest) -> AttritionRiskResult:
    signals = attrition_signals(read_activity(merge_facts(request.content, request.context)))
    score = total(signals)
    return AttritionRiskResult(
        risk_score=score,
        risk_level=risk_level(score),
        factors=factors(signals),
        recommendations=_advice(signals, ATTRITION_ADVICE, "rules: no attrition signal; keep regular 1:1s."),
        unobserved=unobserved(signals),
    )


def _streak_signal(activity: Activity) -> Signal:
    streak = activity.streak
    if streak.current is None or streak.previous is None:
        return Signal("longer_streaks", 0.20, None, streak.describe(), "longest_streak_days")
    if not streak.known:
        return Signal("longer_streaks", 0.20, None, streak.describe())
    value = ramp(streak.current, STREAK_START, STREAK_FULL) if streak.current > streak.previous else 0.0
    return Signal("longer_streaks", 0.20, value, streak.describe())


def burnout_signals(activity: Activity) -> list[Signal]:
    load = workload(activity)
    rising = Signal("rising_workload", 0.20, ramp(load.change, MATERIAL_RISE, 2.0), load.describe())
    if load.current is None:
        rising = Signal("rising_workload", 0.20, None, load.describe(), "commits_per_week")
    return [
        _shift_signal("after_hours_shift", 0.35, "after_hours_share", activity.after_hours, 0.40),
        _shift_signal("weekend_shift", 0.25, "weekend_share", activity.weekend, 0.35),
        _streak_signal(activity),
        rising,
    ]


BURNOUT_WARNINGS = {
    "after_hours_shift": "rules: a clearly larger share of work after hours than the developer's usual",
    "weekend_shift": "rules: clearly more weekend work than the developer's usual",
    "longer_streaks": "rules: a longer run without a day off than the developer's usual",
    "rising_workload": "rules: workload well above the developer's own baseline",
}
BURNOUT_ADVICE = {
    "after_hours_shift": "rules: ask what moved work into the evenings; move deadlines rather than hours.",
    "weekend_shift": "rules: protect weekends; check on-call and release schedules.",
    "longer_streaks": "rules: encourage time off after the current push.",
    "rising_workload": "rules: rebalance the workload across the team.",
}


def analyze_burnout_risk(request: AnalysisRequest) -> BurnoutRiskResult:
    signals = burnout_signals(read_activity(merge_facts(request.content, request.context)))
    score = total(signals)
    warnings = [
        f"{BURNOUT_WARNINGS[s.factor]}: {s.evidence}" for s in signals if (s.value or 0.0) >= WARNING_SIGNAL
    ]
    return BurnoutRiskResult(
        risk_score=score,
        risk_level=risk_level(score),
        factors=factors(signals),
        warning_signs=warnings,
        recommendations=_advice(signals, BURNOUT_ADVICE, "rules: no burnout signal; keep the current pace."),
        unobserved=unobserved(signals),
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
    return _trend_signal(f"{metric}_trend", 1 / 3, metric, trend, value)


def performance_signals(activity: Activity) -> list[Signal]:
    turnaround, size = activity.review_turnaround_hours, activity.median_pr_size
    signals = [_trend_factor(metric, trend) for metric, trend in activity.trends.items()]
    slow = None if turnaround is None else float(turnaround > SLOW_REVIEW_HOURS)
    large = None if size is None else float(size > LARGE_PR_LINES)
    evidence = f"review turnaround {fmt(turnaround, 1)} h (slow above {SLOW_REVIEW_HOURS:.0f} h)"
    unseen = "review_turnaround_hours" if turnaround is None else None
    signals.append(Signal("slow_review_turnaround", 0.10, slow, evidence, unseen))
    evidence = f"median PR size {fmt(size, 0)} lines (large above {LARGE_PR_LINES:.0f})"
    signals.append(
        Signal("large_pull_requests", 0.05, large, evidence, "median_pr_size" if size is None else None)
    )
    return signals


def _trajectory(change: float) -> Trajectory:
    if change > TREND_THRESHOLD_PCT:
        return "improving"
    return "declining" if change < -TREND_THRESHOLD_PCT else "stable"


PENALTIES = {"slow_review_turnaround": 0.10, "large_pull_requests": 0.05}
PERFORMANCE_ADVICE: dict[Trajectory, str] = {
    "improving": "rules: output is rising; make sure quality and review depth keep up.",
    "stable": "rules: output is steady; look for a stretch goal to keep growth going.",
    "declining": "rules: output is falling; check for blockers, context switching or disengagement.",
}


def _performance_advice(trajectory: Trajectory, signals: list[Signal]) -> list[str]:
    flagged = [f"rules: {s.evidence}." for s in signals if s.factor in PENALTIES and s.value]
    hidden = unobserved(signals)
    note = [UNOBSERVED_NOTE.format(names=", ".join(hidden))] if hidden else []
    return [PERFORMANCE_ADVICE[trajectory], *flagged, *note]


def analyze_performance_trajectory(request: AnalysisRequest) -> PerformanceTrajectoryResult:
    activity = read_activity(merge_facts(request.content, request.context))
    signals = performance_signals(activity)
    change = velocity_change_pct(activity) or 0.0
    penalties = sum(PENALTIES[s.factor] * (s.value or 0.0) for s in signals if s.factor in PENALTIES)
    known = sum(1 for t in activity.trends.values() if t.known)
    return PerformanceTrajectoryResult(
        trajectory=_trajectory(change),
        score=round(clamp(0.5 + change / 200 - penalties), 3),
        velocity_change_pct=change,
        factors=factors(signals),
        recommendations=_performance_advice(_trajectory(change), signals),
        confidence=round(0.2 + 0.2 * known, 3),
        unobserved=unobserved(signals),
    )
