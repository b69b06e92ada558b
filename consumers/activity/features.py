"""Rolling features of a developer or a repository, from its document, as of a moment in event time.

The current window is the `window_days` up to that moment (by default the subject's latest event;
the processor passes each event's own time, so a backfill sees what a live run would have seen,
even while live events arrive); the previous window the same length before it; a developer's own
baseline the `baseline_windows` windows before the current one, from their first activity at the
earliest. The names are the ones the analyses read (see `gateway/providers/rules/activity.py` and
`team.py`).

What the source cannot observe is unknown, not zero: a developer with no GitHub activity in the
kept days (a git-only history) has `None` for the features of `UNSEEN_IN_GIT`, and lists them in
`unobserved`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any

from consumers.activity.config import ActivityConfig
from consumers.activity.docs import Doc, first, latest
from schemas.languages import skill_language

COUNTED = (("commits", "commit"), ("prs", "pull_request"), ("reviews", "review"))
GITHUB_KINDS = ("pull_request", "review", "comment", "issue")
"""What only GitHub events show (a commit shows in git too)."""
UNSEEN_IN_GIT = (
    "collaboration_breadth",
    "median_pr_size",
    "prs_per_week",
    "review_turnaround_hours",
    "reviews_per_week",
    "reviews_total",
)
"""Features (and their `_current`/`_previous`/`_baseline` variants) commits alone cannot show."""


def developer_features(doc: Doc, config: ActivityConfig, as_of: datetime | None = None) -> dict[str, Any]:
    moment = as_of or latest(doc)
    days = doc.get("days", {})
    peers = doc.get("peers", {})
    spans = _spans(moment, first(doc), config)
    tallies = _tallies(days, spans)
    current, previous, baseline, kept = (tallies[name] for name in (*WINDOWS, "kept"))
    found = {
        **_rates(current, previous, config),
        **_shares(current, previous),
        **_baseline_figures(current, baseline),
        "longest_streak_days": _longest_streak(current.active),
        "median_pr_size": _median(doc.get("pr_sizes")),
        "review_turnaround_hours": _median(doc.get("turnarounds")),
        "collaboration_breadth": len(_union(peers, spans["current"])),
        "collaboration_breadth_previous": len(_union(peers, spans["previous"])),
        "languages": _languages(doc),
        "frameworks": _frameworks(doc),
        "reviews_total": kept.sums["review"],
        "window_days": config.window_days,
        "history_days": history_days(doc, moment),
        "as_of": _iso(moment),
    }
    return _observable(found, kept)


def skills(doc: Doc) -> list[str]:
    """A developer's skills: the languages and frameworks of `developer_features`, without the rest
    of the features."""
    return sorted({*_languages(doc), *_frameworks(doc)})


def _languages(doc: Doc) -> dict[str, int]:
    return _top(_skill_languages(doc.get("languages", {})))


def _frameworks(doc: Doc) -> dict[str, int]:
    return _top(doc.get("frameworks", {}))


def team_features(doc: Doc, config: ActivityConfig, as_of: datetime | None = None) -> dict[str, Any]:
    moment = as_of or latest(doc)
    days = doc.get("days", {})
    spans = _spans(moment, None, config)
    tallies = _tallies(days, {name: spans[name] for name in ("current", "previous")})
    current, previous = tallies["current"], tallies["previous"]
    commits = commits_per_developer(doc, _dates(spans["current"]))
    total = sum(commits.values())
    contributors = [
        {"developer": dev, "commits_share": round(n / total, 4)}
        for dev, n in sorted(commits.items(), key=lambda item: -item[1])
    ]
    return {
        **_rates(current, previous, config),
        **_shares(current, previous),
        "contributors": contributors,
        "active_developers": len(commits),
        "active_developers_previous": len(commits_per_developer(doc, _dates(spans["previous"]))),
        "median_pr_size": _median(doc.get("pr_sizes")),
        "review_turnaround_hours": _median(doc.get("turnarounds")),
        "window_days": config.window_days,
        "as_of": _iso(moment),
    }


WINDOWS = ("current", "previous", "baseline")
Span = tuple[str, str]
"""First and last day (ISO dates, both included); empty when the first is after the last."""


def _spans(moment: datetime | None, earliest: datetime | None, config: ActivityConfig) -> dict[str, Span]:
    """The days of each window as of `moment`: the current one, the previous one, the own baseline
    (the `baseline_windows` windows before the current one, from the first activity), and all
    kept days up to the moment."""
    if moment is None:
        return {name: ("1", "0") for name in (*WINDOWS, "kept")}
    end, span = moment.astimezone(UTC).date(), config.window_days
    back = end - timedelta(days=span * (1 + config.baseline_windows) - 1)
    start = back if earliest is None else max(back, earliest.astimezone(UTC).date())
    days = {
        "current": (end - timedelta(days=span - 1), end),
        "previous": (end - timedelta(days=2 * span - 1), end - timedelta(days=span)),
        "baseline": (start, end - timedelta(days=span)),
        "kept": (date.min, end),
    }
    return {name: (lo.isoformat(), hi.isoformat()) for name, (lo, hi) in days.items()}


def _length(span: Span) -> int:
    lo, hi = span
    return max((date.fromisoformat(hi) - date.fromisoformat(lo)).days + 1, 0) if lo <= hi else 0


def _dates(span: Span) -> list[str]:
    lo, hi = span
    first_day = date.fromisoformat(lo) if lo <= hi else None
    return [(first_day + timedelta(days=i)).isoformat() for i in range(_length(span))] if first_day else []


@dataclass(slots=True)
class _Tally:
    """A window's counts: totals per kind, days with each kind, and the days with any event."""

    days: int
    sums: Counter[str] = field(default_factory=Counter)
    days_with: Counter[str] = field(default_factory=Counter)
    active: list[str] = field(default_factory=list)


def _tallies(days: Doc, spans: dict[str, Span]) -> dict[str, _Tally]:
    """Each window's counts, in one pass over the kept days."""
    found = {name: _Tally(_length(span)) for name, span in spans.items()}
    for day, counts in days.items():
        into = [found[name] for name, (lo, hi) in spans.items() if lo <= day <= hi]
        if not into:
            continue
        active = bool(counts.get("events"))
        for kind, n in counts.items():
            if n:
                for tally in into:
                    tally.sums[kind] += int(n)
                    tally.days_with[kind] += 1
        for tally in into if active else ():
            tally.active.append(day)
    return found


def _baseline_figures(current: _Tally, baseline: _Tally) -> dict[str, float | None]:
    """The developer's own baseline: rates, day shares and longest streak over the baseline days."""
    weeks = baseline.days / 7
    figures: dict[str, float | None] = {
        f"{name}_per_week_baseline": round(baseline.sums[kind] / weeks, 3) if weeks else None
        for name, kind in COUNTED
    }
    return {
        **figures,
        "after_hours_days_share": _day_share(current, "after_hours"),
        "after_hours_days_share_baseline": _day_share(baseline, "after_hours"),
        "weekend_days_share": _day_share(current, "weekend"),
        "weekend_days_share_baseline": _day_share(baseline, "weekend"),
        "commit_days_current": current.days_with["timed"],
        "commit_days_baseline": baseline.days_with["timed"],
        "longest_streak_days_baseline": _longest_streak(baseline.active) if baseline.days else None,
        "baseline_days": baseline.days,
    }


def _observable(found: dict[str, Any], kept: _Tally) -> dict[str, Any]:
    """`found` with the features of `UNSEEN_IN_GIT` unknown when no GitHub activity was seen."""
    if any(kept.sums[kind] for kind in GITHUB_KINDS):
        return {**found, "unobserved": []}
    hidden = {key: None for key in found if key.startswith(UNSEEN_IN_GIT)}
    return {**found, **hidden, "unobserved": list(UNSEEN_IN_GIT)}


def _rates(current: _Tally, previous: _Tally, config: ActivityConfig) -> dict[str, float]:
    weeks = config.window_days / 7
    rates: dict[str, float] = {}
    for name, kind in COUNTED:
        rates[f"{name}_per_week_current"] = round(current.sums[kind] / weeks, 3)
        rates[f"{name}_per_week_previous"] = round(previous.sums[kind] / weeks, 3)
    return rates


def _shares(current: _Tally, previous: _Tally) -> dict[str, float | None]:
    return {
        "after_hours_share": _share(current, "after_hours"),
        "after_hours_share_previous": _share(previous, "after_hours"),
        "weekend_share": _share(current, "weekend"),
        "weekend_share_previous": _share(previous, "weekend"),
        "events_current": current.sums["events"],
        "events_previous": previous.sums["events"],
    }


def _share(window: _Tally, kind: str) -> float | None:
    """Of the commits (the events timed in the author's own offset)."""
    timed = window.sums["timed"]
    return round(window.sums[kind] / timed, 4) if timed else None


def _day_share(window: _Tally, kind: str) -> float | None:
    """Of the days with commits, those with one of `kind` (a late night counts once, however busy)."""
    timed = window.days_with["timed"]
    return round(window.days_with[kind] / timed, 4) if timed else None


def _longest_streak(active: Iterable[str]) -> int:
    best = run = 0
    previous: date | None = None
    for day in sorted(date.fromisoformat(d) for d in active):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best, previous = max(best, run), day
    return best


def _union(per_day: Doc, span: Span) -> set[str]:
    lo, hi = span
    return {peer for day, peers in per_day.items() if lo <= day <= hi for peer in peers}


def commits_per_developer(doc: Doc, window: Iterable[str] | None = None) -> dict[str, int]:
    """A repository's commits per developer over the days of `window` (all it keeps by default)."""
    per_day = doc.get("developers", {})
    totals: dict[str, int] = {}
    for day in per_day if window is None else window:
        for dev, n in per_day.get(day, {}).items():
            totals[dev] = totals.get(dev, 0) + int(n)
    return totals


def _median(values: list[float] | None) -> float | None:
    return round(median(values), 3) if values else None


def _skill_languages(counts: dict[str, int]) -> dict[str, int]:
    """Tallies by programming language only: a document written before may hold "unknown" or "markdown"."""
    kept: dict[str, int] = {}
    for name, n in counts.items():
        if language := skill_language(name):
            kept[language] = kept.get(language, 0) + n
    return kept


def _top(counts: dict[str, int], limit: int = 10) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def history_days(doc: Doc, moment: datetime | None) -> float:
    """The days from the developer's first activity to `moment` (the features' `history_days`)."""
    oldest = first(doc)
    return round(max((moment - oldest).total_seconds(), 0) / 86400, 2) if moment and oldest else 0.0


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
