"""The activity features the rules read, and the small arithmetic shared by the risk formulas.

Features are read from `request.context`, or from a JSON object given as `content` (context keys
win); the keys of a nested `features`, `activity` or `metrics` object are read as well. Figures
may be numbers or numeric strings; anything else counts as missing. Missing figures give neutral
values and the evidence says so.

==========================  =================================================================
name                        meaning
==========================  =================================================================
commits_per_week_current    commits per week in the current window
commits_per_week_previous   commits per week in the previous window of the same length
prs_per_week_current        pull requests opened per week, current window
prs_per_week_previous       pull requests opened per week, previous window
reviews_per_week_current    reviews given per week, current window
reviews_per_week_previous   reviews given per week, previous window
after_hours_share           share (0-1) of activity outside working hours (percent > 1 accepted)
weekend_share               share (0-1) of activity on weekends (percent > 1 accepted)
longest_streak_days         longest run of consecutive active days in the current window
median_pr_size              median changed lines per pull request
review_turnaround_hours     median hours from review request to first review
collaboration_breadth       distinct people collaborated with (reviews, co-authoring), current
languages                   languages used: list of names, or {name: weight}
frameworks                  frameworks used: list of names, or {name: weight}
==========================  =================================================================

Optional extensions (used when present): `collaboration_breadth_previous`,
`previous_languages`, `previous_frameworks`, `previous_skills`, `years_experience`, `seniority`,
`skills`.
Team figures (team_health) are documented in `team`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.providers.rules.inputs import clamp, count, fmt, names, share
from schemas.results.base import RiskFactor, RiskLevel

METRICS: tuple[str, ...] = ("commits", "prs", "reviews")
METRIC_LABELS: Mapping[str, str] = {"commits": "commits/week", "prs": "PRs/week", "reviews": "reviews/week"}
RISK_LEVELS: tuple[tuple[float, RiskLevel], ...] = ((0.7, "critical"), (0.4, "high"), (0.2, "medium"))
"""Risk level thresholds on a 0-1 score: >= 0.7 critical, >= 0.4 high, >= 0.2 medium, else low."""


@dataclass(frozen=True, slots=True)
class Trend:
    """A figure in the current and the previous window."""

    label: str
    current: float | None
    previous: float | None

    @property
    def known(self) -> bool:
        return self.current is not None and self.previous is not None

    @property
    def change(self) -> float | None:
        """Relative change (current - previous) / previous; +1.0 when starting from zero."""
        if self.current is None or self.previous is None:
            return None
        if self.previous == 0:
            return 1.0 if self.current > 0 else 0.0
        return (self.current - self.previous) / self.previous

    @property
    def drop(self) -> float | None:
        """The relative decrease, 0-1 (0 when the figure grew)."""
        change = self.change
        return None if change is None else clamp(-change)

    def describe(self) -> str:
        if not self.known:
            return f"{self.label} not provided (current {fmt(self.current)}, previous {fmt(self.previous)})"
        change = self.change or 0.0
        return f"{self.label} {fmt(self.current)} vs {fmt(self.previous)} previously ({change:+.0%})"


@dataclass(frozen=True, slots=True)
class Activity:
    """The documented features of one developer (or team), each `None` when missing."""

    trends: Mapping[str, Trend]
    after_hours_share: float | None
    weekend_share: float | None
    longest_streak_days: float | None
    median_pr_size: float | None
    review_turnaround_hours: float | None
    collaboration: Trend
    languages: list[str]
    frameworks: list[str]


def _trend(facts: Mapping[str, Any], metric: str) -> Trend:
    return Trend(
        label=METRIC_LABELS[metric],
        current=count(facts, f"{metric}_per_week_current"),
        previous=count(facts, f"{metric}_per_week_previous"),
    )


def read_activity(facts: Mapping[str, Any]) -> Activity:
    return Activity(
        trends={metric: _trend(facts, metric) for metric in METRICS},
        after_hours_share=share(facts, "after_hours_share"),
        weekend_share=share(facts, "weekend_share"),
        longest_streak_days=count(facts, "longest_streak_days"),
        median_pr_size=count(facts, "median_pr_size"),
        review_turnaround_hours=count(facts, "review_turnaround_hours"),
        collaboration=Trend(
            label="collaboration breadth",
            current=count(facts, "collaboration_breadth"),
            previous=count(facts, "collaboration_breadth_previous"),
        ),
        languages=names(facts.get("languages")),
        frameworks=names(facts.get("frameworks")),
    )


def workload(activity: Activity) -> Trend:
    """Commits + PRs + reviews per week, over the metrics known in both windows."""
    known = [t for t in activity.trends.values() if t.known]
    if not known:
        return Trend("total activity/week", None, None)
    return Trend(
        "total activity/week", sum(t.current or 0.0 for t in known), sum(t.previous or 0.0 for t in known)
    )


@dataclass(frozen=True, slots=True)
class Signal:
    """One weighted factor of a risk formula: `value` is a 0-1 signal, `None` when not computable."""

    factor: str
    weight: float
    value: float | None
    evidence: str

    @property
    def contribution(self) -> float:
        return self.weight * (self.value or 0.0)

    def risk_factor(self) -> RiskFactor:
        value = "n/a (figures not provided, neutral 0)" if self.value is None else f"{self.value:.2f}"
        evidence = f"rules: {self.evidence}; signal {value} x weight {self.weight:.2f}"
        return RiskFactor(factor=self.factor, weight=round(clamp(self.contribution), 3), evidence=evidence)


def total(signals: list[Signal]) -> float:
    return round(clamp(sum(s.contribution for s in signals)), 3)


def risk_level(score: float) -> RiskLevel:
    for threshold, level in RISK_LEVELS:
        if score >= threshold:
            return level
    return "low"


def ramp(value: float | None, start: float, full: float) -> float | None:
    """0 at or below `start`, 1 at or above `full`, linear in between; `None` stays `None`."""
    return None if value is None else clamp((value - start) / (full - start))


def missing(signals: list[Signal]) -> int:
    return sum(1 for s in signals if s.value is None)
