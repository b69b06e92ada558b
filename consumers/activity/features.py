"""Rolling features of a developer or a repository, from its document, as of a moment in event time.

The current window is the `window_days` up to that moment (by default the subject's latest event;
the processor passes each event's own time, so a backfill sees what a live run would have seen,
even while live events arrive); the previous window the same length before it. The names are
the ones the analyses read (see `gateway/providers/rules/activity.py` and `team.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Any

from consumers.activity.config import ActivityConfig
from consumers.activity.docs import Doc, first, latest

COUNTED = (("commits", "commit"), ("prs", "pull_request"), ("reviews", "review"))


def developer_features(doc: Doc, config: ActivityConfig, as_of: datetime | None = None) -> dict[str, Any]:
    moment = as_of or latest(doc)
    current, previous = _windows(moment, config)
    days = doc.get("days", {})
    peers = doc.get("peers", {})
    return {
        **_rates(days, current, previous, config),
        **_shares(days, current, previous),
        "longest_streak_days": _longest_streak(day for day in current if days.get(day, {}).get("events")),
        "median_pr_size": _median(doc.get("pr_sizes")),
        "review_turnaround_hours": _median(doc.get("turnarounds")),
        "collaboration_breadth": len(_union(peers, current)),
        "collaboration_breadth_previous": len(_union(peers, previous)),
        "languages": _top(doc.get("languages", {})),
        "frameworks": _top(doc.get("frameworks", {})),
        "window_days": config.window_days,
        "history_days": _history_days(doc, moment),
        "as_of": _iso(moment),
    }


def team_features(doc: Doc, config: ActivityConfig, as_of: datetime | None = None) -> dict[str, Any]:
    moment = as_of or latest(doc)
    current, previous = _windows(moment, config)
    days = doc.get("days", {})
    commits = commits_per_developer(doc, current)
    total = sum(commits.values())
    contributors = [
        {"developer": dev, "commits_share": round(n / total, 4)}
        for dev, n in sorted(commits.items(), key=lambda item: -item[1])
    ]
    return {
        **_rates(days, current, previous, config),
        **_shares(days, current, previous),
        "contributors": contributors,
        "active_developers": len(commits),
        "active_developers_previous": len(commits_per_developer(doc, previous)),
        "median_pr_size": _median(doc.get("pr_sizes")),
        "review_turnaround_hours": _median(doc.get("turnarounds")),
        "window_days": config.window_days,
        "as_of": _iso(moment),
    }


def _windows(moment: datetime | None, config: ActivityConfig) -> tuple[list[str], list[str]]:
    if moment is None:
        return [], []
    end = moment.astimezone(UTC).date()
    span = config.window_days
    current = [(end - timedelta(days=i)).isoformat() for i in range(span)]
    previous = [(end - timedelta(days=span + i)).isoformat() for i in range(span)]
    return current, previous


def _rates(days: Doc, current: list[str], previous: list[str], config: ActivityConfig) -> dict[str, float]:
    weeks = config.window_days / 7
    rates: dict[str, float] = {}
    for name, kind in COUNTED:
        rates[f"{name}_per_week_current"] = round(_sum(days, current, kind) / weeks, 3)
        rates[f"{name}_per_week_previous"] = round(_sum(days, previous, kind) / weeks, 3)
    return rates


def _shares(days: Doc, current: list[str], previous: list[str]) -> dict[str, float | None]:
    return {
        "after_hours_share": _share(days, current, "after_hours"),
        "after_hours_share_previous": _share(days, previous, "after_hours"),
        "weekend_share": _share(days, current, "weekend"),
        "weekend_share_previous": _share(days, previous, "weekend"),
        "events_current": _sum(days, current, "events"),
        "events_previous": _sum(days, previous, "events"),
    }


def _sum(days: Doc, window: list[str], kind: str) -> int:
    return sum(int(days.get(day, {}).get(kind, 0)) for day in window)


def _share(days: Doc, window: list[str], kind: str) -> float | None:
    """Of the commits (the events timed in the author's own offset)."""
    timed = _sum(days, window, "timed")
    return round(_sum(days, window, kind) / timed, 4) if timed else None


def _longest_streak(active: Iterable[str]) -> int:
    best = run = 0
    previous: date | None = None
    for day in sorted(date.fromisoformat(d) for d in active):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best, previous = max(best, run), day
    return best


def _union(per_day: Doc, window: list[str]) -> set[str]:
    return {peer for day in window for peer in per_day.get(day, [])}


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


def _top(counts: dict[str, int], limit: int = 10) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def _history_days(doc: Doc, moment: datetime | None) -> float:
    oldest = first(doc)
    return round(max((moment - oldest).total_seconds(), 0) / 86400, 2) if moment and oldest else 0.0


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
