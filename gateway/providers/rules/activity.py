"""The activity features the rules read, and the small arithmetic shared by the risk formulas.

Features are read from `request.context`, or from a JSON object given as `content` (context keys
win); the keys of a nested `features`, `activity` or `metrics` object are read as well. Figures
may be numbers or numeric strings; anything else counts as missing.

Change is judged against the developer's own baseline: the figure over the current window against
the same figure over the days before it (`*_baseline`, over `baseline_days`), or, when no baseline
is given, against the previous window (`*_previous`). A figure that is missing, or that the source
cannot observe (named in `unobserved`), is unknown: it is left out of the score, neither risk nor
reassurance, and the result lists it as unobserved.

==============================  ===============================================================
name                            meaning
==============================  ===============================================================
commits_per_week_current        commits per week in the current window
commits_per_week_previous       commits per week in the previous window of the same length
commits_per_week_baseline       commits per week over the baseline days before the current window
prs_per_week_*                  pull requests opened per week (current / previous / baseline)
reviews_per_week_*              reviews given per week (current / previous / baseline)
after_hours_share               share (0-1) of commits outside working hours (percent > 1 accepted)
weekend_share                   share (0-1) of commits on weekends (percent > 1 accepted)
after_hours_days_share          share (0-1) of the days with commits that had one after hours,
                                current window (`_baseline`: over the baseline days)
weekend_days_share              the same for weekend days (`_baseline` likewise)
commit_days_current             days with commits the current day shares are taken from
commit_days_baseline            days with commits the baseline day shares are taken from
longest_streak_days             longest run of consecutive active days in the current window
longest_streak_days_baseline    longest such run over the baseline days
median_pr_size                  median changed lines per pull request
review_turnaround_hours         median hours from review request to first review
collaboration_breadth           distinct people collaborated with (reviews, co-authoring), current
collaboration_breadth_previous  the same in the previous window
window_days, baseline_days      length of the current window, and of the baseline before it
history_days                    days from the developer's first to the current activity (tenure)
reviews_total                   reviews given over the history the source keeps
unobserved                      feature names the source cannot observe for this developer
languages                       languages used: list of names, or {name: weight}
frameworks                      frameworks used: list of names, or {name: weight}
==============================  ===============================================================

A shift of working hours is judged on days, not commits, so that only a sustained change counts (one
late night of twenty commits is one day): the day shares against their baseline when given, else the
commit shares against the previous window. It is judged only with enough days with commits on both
sides (`MIN_DAYS_CURRENT`, `MIN_DAYS_BASELINE`, when the counts are given) and a baseline of at least
`MIN_BASELINE_DAYS` (when `baseline_days` is given); its rise counts only beyond noise: a
two-proportion z of at least `NOISE_Z` on those counts.

Optional extensions: `previous_languages`, `previous_frameworks`, `previous_skills`,
`years_experience`, `seniority`, `skills`. Team figures are documented in `team`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.providers.rules.inputs import clamp, count, fmt, names, share
from schemas.results.base import RiskFactor, RiskLevel

METRICS: tuple[str, ...] = ("commits", "prs", "reviews")
METRIC_LABELS: Mapping[str, str] = {"commits": "commits/week", "prs": "PRs/week", "reviews": "reviews/week"}
RISK_LEVELS: tuple[tuple[float, RiskLevel], ...] = ((0.7, "critical"), (0.4, "high"), (0.2, "medium"))
"""Risk level thresholds on a 0-1 score: >= 0.7 critical, >= 0.4 high, >= 0.2 medium, else low."""
MIN_BASELINE_DAYS = 56.0
MIN_DAYS_CURRENT = 5.0
MIN_DAYS_BASELINE = 10.0
NOISE_Z = 2.0
MATERIAL_DROP, MATERIAL_RISE = 0.3, 0.5
"""A per-week rate down by 30 % or up by 50 % against its reference is a material change (what asks
for a risk analysis, and where the rate signals start)."""


@dataclass(frozen=True, slots=True)
class Span:
    """What a current figure is compared with: the developer's own baseline over `baseline_days`
    before a window of `window_days`, or (`baseline_days` None) the previous window."""

    window_days: float | None = None
    baseline_days: float | None = None

    @property
    def weeks(self) -> tuple[float | None, float | None]:
        """The current window's and the reference's length in weeks (the previous window is as long
        as the current one)."""
        now = None if self.window_days is None else self.window_days / 7
        before = now if self.baseline_days is None else self.baseline_days / 7
        return now, before

    @property
    def short(self) -> str | None:
        """Why a baseline this short is not judged, or None."""
        days = self.baseline_days
        if days is not None and days < MIN_BASELINE_DAYS:
            return f"own baseline covers {days:g} days (needs {MIN_BASELINE_DAYS:g})"
        return None

    def versus(self, now: str, before: str) -> str:
        if self.baseline_days is None:
            return f"{now} vs {before} previously"
        window = f" over {self.window_days:g} days" if self.window_days else ""
        return f"{now}{window} vs own baseline {before} over the {self.baseline_days:g} days before"


@dataclass(frozen=True, slots=True)
class Trend:
    """A figure in the current window and its reference (own baseline, else the previous window).

    For a per-week rate (`rate`), a change within noise counts as none: a Poisson score test on
    the counts both periods imply, |z| below `NOISE_Z` (when the periods' lengths are known)."""

    label: str
    current: float | None
    previous: float | None
    span: Span = Span()
    rate: bool = False

    @property
    def known(self) -> bool:
        return self.current is not None and self.previous is not None and self.span.short is None

    @property
    def raw_change(self) -> float | None:
        """Relative change (current - reference) / reference; +1.0 when starting from zero."""
        if not self.known or self.current is None or self.previous is None:
            return None
        if self.previous == 0:
            return 1.0 if self.current > 0 else 0.0
        return (self.current - self.previous) / self.previous

    @property
    def z(self) -> float | None:
        """The rate change's Poisson score z (None when not a rate or the periods are unknown)."""
        weeks_now, weeks_before = self.span.weeks
        if (
            not self.rate
            or not weeks_now
            or not weeks_before
            or self.current is None
            or self.previous is None
        ):
            return None
        pooled = (self.current * weeks_now + self.previous * weeks_before) / (weeks_now + weeks_before)
        spread = math.sqrt(pooled * (1 / weeks_now + 1 / weeks_before))
        return (self.current - self.previous) / spread if spread else 0.0

    @property
    def noise(self) -> bool:
        z = self.z
        return z is not None and abs(z) < NOISE_Z

    @property
    def change(self) -> float | None:
        """The relative change that counts: 0 when within noise."""
        return 0.0 if self.noise and self.raw_change is not None else self.raw_change

    @property
    def drop(self) -> float | None:
        """The relative decrease, 0-1 (0 when the figure grew)."""
        change = self.change
        return None if change is None else clamp(-change)

    def describe(self) -> str:
        if self.current is None or self.previous is None:
            return f"{self.label} not provided (current {fmt(self.current)}, reference {fmt(self.previous)})"
        compared = self.span.versus(f"{self.label} {fmt(self.current)}", fmt(self.previous))
        if (short := self.span.short) is not None:
            return f"{compared}: not judged, {short}"
        if self.noise:
            return f"{compared} ({self.raw_change or 0.0:+.0%}, within noise: z {self.z:+.1f})"
        return f"{compared} ({self.change or 0.0:+.0%})"


@dataclass(frozen=True, slots=True)
class Shift:
    """A share of commits (after hours, at weekends) now against the developer's own baseline."""

    label: str
    current: float | None
    baseline: float | None
    current_n: float | None
    baseline_n: float | None
    span: Span = Span()

    @property
    def short(self) -> str | None:
        """Why the history is too short to judge the shift, or None."""
        if self.current_n is not None and self.current_n < MIN_DAYS_CURRENT:
            return f"{self.current_n:g} days with commits in the window (needs {MIN_DAYS_CURRENT:g})"
        if self.baseline_n is not None and self.baseline_n < MIN_DAYS_BASELINE:
            return f"{self.baseline_n:g} days with commits in the own baseline (needs {MIN_DAYS_BASELINE:g})"
        return self.span.short

    @property
    def missing(self) -> bool:
        """No figure to judge, and no short history to explain it: unobserved or not provided."""
        return (self.current is None or self.baseline is None) and self.short is None

    @property
    def unjudged(self) -> str | None:
        """Why the shift is not judged, or None when it is."""
        return "not provided" if self.missing else self.short

    @property
    def z(self) -> float | None:
        """Two-proportion z of the rise (None without the commit counts)."""
        n1, n0, p1, p0 = self.current_n, self.baseline_n, self.current, self.baseline
        if not n1 or not n0 or p1 is None or p0 is None:
            return None
        pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
        spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        return (p1 - p0) / spread if spread else (math.inf if p1 > p0 else 0.0)

    @property
    def rise(self) -> float | None:
        """The rise over the baseline that counts: 0 when within noise, None when not judged."""
        if self.unjudged is not None or self.current is None or self.baseline is None:
            return None
        z = self.z
        return 0.0 if z is not None and z < NOISE_Z else max(self.current - self.baseline, 0.0)

    def describe(self) -> str:
        compared = self.span.versus(f"{self.label} {fmt(self.current)}", fmt(self.baseline))
        counts = _counts(self.current_n, self.baseline_n)
        if (reason := self.unjudged) is not None or self.current is None or self.baseline is None:
            return f"{compared}{counts}: not judged, {reason}"
        if self.rise == 0.0 and self.current > self.baseline:
            return f"{compared}{counts}: within noise (z {self.z:.1f} < {NOISE_Z:g})"
        return f"{compared}{counts} ({self.current - self.baseline:+.2f})"


def _counts(current_n: float | None, baseline_n: float | None) -> str:
    if current_n is None or baseline_n is None:
        return ""
    return f" (of {current_n:g} days with commits; baseline {baseline_n:g})"


@dataclass(frozen=True, slots=True)
class Activity:
    """The documented features of one developer (or team), each `None` when missing or unobserved."""

    trends: Mapping[str, Trend]
    after_hours: Shift
    weekend: Shift
    streak: Trend
    """Longest run of active days, current window against the own baseline's longest."""
    median_pr_size: float | None
    review_turnaround_hours: float | None
    collaboration: Trend
    languages: list[str]
    frameworks: list[str]
    unobserved: frozenset[str]
    """Feature names (see the table) the source cannot observe for this subject."""
    history_days: float | None = None
    reviews_total: float | None = None

    @property
    def after_hours_share(self) -> float | None:
        return self.after_hours.current

    @property
    def weekend_share(self) -> float | None:
        return self.weekend.current

    @property
    def longest_streak_days(self) -> float | None:
        return self.streak.current


class _Reader:
    """Figures from the facts, `None` for those named (or prefixed by a name) in `unobserved`."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        self.facts = facts
        self.unobserved = frozenset(n.lower() for n in names(facts.get("unobserved")))

    def hidden(self, key: str) -> bool:
        return bool(self.unobserved) and any(
            key == name or key.startswith(f"{name}_") for name in self.unobserved
        )

    def count(self, key: str) -> float | None:
        return None if self.hidden(key) else count(self.facts, key)

    def share(self, key: str) -> float | None:
        return None if self.hidden(key) else share(self.facts, key)

    def span(self) -> Span:
        return Span(count(self.facts, "window_days"), count(self.facts, "baseline_days"))

    def reference(self, key: str) -> tuple[str, Span]:
        """The baseline key when the facts give one, else the previous window's."""
        if f"{key}_baseline" in self.facts:
            return f"{key}_baseline", self.span()
        return f"{key}_previous", Span(count(self.facts, "window_days"))


def _trend(read: _Reader, metric: str) -> Trend:
    reference, span = read.reference(f"{metric}_per_week")
    current = read.count(f"{metric}_per_week_current")
    return Trend(METRIC_LABELS[metric], current, read.count(reference), span, rate=True)


def _shift(read: _Reader, name: str, label: str) -> Shift:
    """The day shares of `name` (after_hours, weekend) when given, else its commit shares."""
    by_days = f"{name}_days_share" in read.facts
    key = f"{name}_days_share" if by_days else f"{name}_share"
    reference, span = read.reference(key)
    counted = by_days and reference.endswith("_baseline")
    baseline_n = read.count("commit_days_baseline") if counted else None
    current_n = read.count("commit_days_current") if counted else None
    label = f"{label} of days with commits" if by_days else f"{label} of commits"
    return Shift(label, read.share(key), read.share(reference), current_n, baseline_n, span)


def read_activity(facts: Mapping[str, Any]) -> Activity:
    read = _Reader(facts)
    return Activity(
        trends={metric: _trend(read, metric) for metric in METRICS},
        after_hours=_shift(read, "after_hours", "after-hours share"),
        weekend=_shift(read, "weekend", "weekend share"),
        streak=Trend(
            "longest streak (days)",
            read.count("longest_streak_days"),
            read.count("longest_streak_days_baseline"),
            read.span(),
        ),
        median_pr_size=read.count("median_pr_size"),
        review_turnaround_hours=read.count("review_turnaround_hours"),
        collaboration=Trend(
            "collaboration breadth",
            read.count("collaboration_breadth"),
            read.count("collaboration_breadth_previous"),
        ),
        languages=names(facts.get("languages")),
        frameworks=names(facts.get("frameworks")),
        unobserved=read.unobserved,
        history_days=count(facts, "history_days"),
        reviews_total=read.count("reviews_total"),
    )


def workload(activity: Activity) -> Trend:
    """Commits + PRs + reviews per week, over the metrics given on both sides."""
    paired = [t for t in activity.trends.values() if t.current is not None and t.previous is not None]
    if not paired:
        return Trend("total activity/week", None, None)
    return Trend(
        "total activity/week",
        sum(t.current or 0.0 for t in paired),
        sum(t.previous or 0.0 for t in paired),
        paired[0].span,
        rate=True,
    )


@dataclass(frozen=True, slots=True)
class Signal:
    """One weighted factor of a risk formula: `value` is a 0-1 signal, `None` when unknown.

    `unseen` names the feature when the source could not observe it (or it was not provided): the
    factor is then left out of the result's factors and listed as unobserved."""

    factor: str
    weight: float
    value: float | None
    evidence: str
    unseen: str | None = None

    def contribution(self, scale: float) -> float:
        return self.weight * (self.value or 0.0) * scale

    def risk_factor(self, scale: float) -> RiskFactor:
        value = "not judged, left out of the score" if self.value is None else f"{self.value:.2f}"
        evidence = f"rules: {self.evidence}; signal {value} x weight {self.weight:.2f}"
        return RiskFactor(
            factor=self.factor, weight=round(clamp(self.contribution(scale)), 3), evidence=evidence
        )


CRITICAL = RISK_LEVELS[0][0]
STRONG_SIGNAL = 0.5
CORROBORATION = 2
BELOW_CRITICAL = 0.69
"""Critical takes at least `CORROBORATION` factors with a signal of `STRONG_SIGNAL` or more: one
factor alone, however strong, keeps the score at `BELOW_CRITICAL`."""


def scale(signals: list[Signal]) -> float:
    """What each weight x signal is multiplied by: 1 / the known factors' weights (the score is
    their weighted mean), less when a lone strong factor would make it critical."""
    weight = sum(s.weight for s in signals if s.value is not None)
    if not weight:
        return 0.0
    mean = sum(s.weight * (s.value or 0.0) for s in signals) / weight
    strong = sum(1 for s in signals if (s.value or 0.0) >= STRONG_SIGNAL)
    capped = BELOW_CRITICAL / mean if mean >= CRITICAL and strong < CORROBORATION else 1.0
    return capped / weight


def total(signals: list[Signal]) -> float:
    """The weighted mean of the known signals (0 when none is known), held below critical
    without corroboration."""
    factor = scale(signals)
    return round(clamp(sum(s.contribution(factor) for s in signals)), 3)


def factors(signals: list[Signal]) -> list[RiskFactor]:
    """The factors the source could observe (judged or not); weights are contributions to the score."""
    factor = scale(signals)
    return [s.risk_factor(factor) for s in signals if s.unseen is None]


def unobserved(signals: list[Signal]) -> list[str]:
    return sorted({s.unseen for s in signals if s.unseen is not None})


def unseen(activity: Activity, *keys: str) -> str | None:
    """The first of `keys` (feature names) the source does not observe, else None."""
    hidden: Collection[str] = activity.unobserved
    return next((key for key in keys if key in hidden), None)


def risk_level(score: float) -> RiskLevel:
    for threshold, level in RISK_LEVELS:
        if score >= threshold:
            return level
    return "low"


def ramp(value: float | None, start: float, full: float) -> float | None:
    """0 at or below `start`, 1 at or above `full`, linear in between; `None` stays `None`."""
    return None if value is None else clamp((value - start) / (full - start))
