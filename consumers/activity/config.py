"""Plain configuration of the activity state and its triggers (built from settings in compose)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActivityConfig:
    window_days: int = 28
    """Features compare the current window with the previous one of the same length."""
    baseline_windows: int = 6
    """A developer's own baseline: this many windows before the current one (fewer for a newcomer:
    it starts at their first activity)."""
    interval_s: float = 24 * 3600.0
    """RISK_ANALYSIS_INTERVAL: at most one periodic request per subject and type per interval,
    counted in event time (interval index = event time // interval)."""
    state_ttl_s: int = 90 * 24 * 3600
    history_days: int = 400
    """Days of counters kept behind a subject's latest event: features are computed as of each
    event's own time, so a backfill up to this far behind live events still sees its history."""
    work_hours: tuple[int, int] = (9, 18)
    """Local hours [start, end) that count as working hours."""
    min_previous: float = 2.0
    """A relative change is judged only from a previous figure at least this large (per week)."""
    max_candidates: int = 20
    """Developers offered to task_matching, the most active first."""
