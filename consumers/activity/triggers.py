"""When the state has something new to say, and the requests that say it.

- attrition_risk, burnout_risk, performance_trajectory for a developer: when the current window
  differs materially from the developer's own baseline (`risk_reasons`, judged as the rules
  provider judges it), at most once per interval;
- team_health for a repository: once per interval in which it had activity;
- developer_profile and growth_trajectory: when the developer's accumulated languages or
  frameworks changed, at most once per interval;
- task_matching: for every task_signals result, with the repository's known developers.

Intervals are counted in event time: interval index = event time // RISK_ANALYSIS_INTERVAL. Request
ids derive from subject, type and interval, so asking twice in one interval (an event that comes
back before its request was settled) repeats the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from consumers.identity.resolver import DEVELOPER_SUBJECTS
from gateway.providers.rules.activity import MATERIAL_DROP, MATERIAL_RISE, Trend, read_activity
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType, Priority

RISKS = (AnalysisType.ATTRITION_RISK, AnalysisType.BURNOUT_RISK, AnalysisType.PERFORMANCE_TRAJECTORY)
PROFILES = (AnalysisType.DEVELOPER_PROFILE, AnalysisType.GROWTH_TRAJECTORY)
SHARE_RISE, NARROWING = 0.15, 0.4


def interval_of(at: datetime, interval_s: float) -> int:
    return int(at.timestamp() // interval_s)


def risk_reasons(features: Mapping[str, Any], min_previous: float) -> list[str]:
    """What changed materially against the developer's own baseline (judged only once the history
    covers two windows: a newcomer's ramp-up is not a change; a steady habit is none either)."""
    if too_new(features["history_days"], features["window_days"]):
        return []
    activity = read_activity(features)
    reasons = [r for trend in activity.trends.values() if (r := _rate_change(trend, min_previous))]
    reasons += [
        s.describe() for s in (activity.after_hours, activity.weekend) if (s.rise or 0.0) >= SHARE_RISE
    ]
    breadth = activity.collaboration
    if (breadth.previous or 0.0) >= 3 and (breadth.drop or 0.0) >= NARROWING:
        reasons.append(breadth.describe())
    return reasons


def too_new(history_days: float, window_days: int) -> bool:
    """A history shorter than two windows is not judged: `risk_reasons` finds no reason in it."""
    return history_days < 2 * window_days


PERIODIC = frozenset({*RISKS, *PROFILES, AnalysisType.TEAM_HEALTH})


def emitted_marker(request: AnalysisRequest) -> str | None:
    """The state's marker that this periodic request was asked (None for any other request)."""
    interval = request.context.get("interval")
    if request.analysis_type not in PERIODIC or not isinstance(interval, int):
        return None
    return marker(request.analysis_type, request.subject, interval)


def marker(kind: AnalysisType, subject: str, interval: int) -> str:
    """The marker that the periodic request of `kind` about `subject` was asked in `interval`."""
    return f"emit:{subject}:{kind.value}:{interval}"


def request_id(kind: AnalysisType, subject: str, tag: str) -> str:
    """The id of `request(kind, subject, …, tag)`, whatever its facts."""
    return hashlib.sha256(f"{subject}:{kind.value}:{tag}".encode()).hexdigest()[:32]


def request(
    kind: AnalysisType,
    subject: str,
    facts: Mapping[str, Any],
    context: Mapping[str, Any],
    priority: Priority,
    tag: str,
) -> AnalysisRequest:
    """Content is the facts as JSON (features, never raw code); the id is stable per tag. A periodic
    analysis of a developer is of the person as a whole: observed under their canonical id."""
    content = orjson.dumps(facts, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()
    return AnalysisRequest(
        analysis_type=kind,
        content=content,
        context=dict(context),
        request_id=request_id(kind, subject, tag),
        priority=priority,
        subject=subject,
        observed_as=subject if kind in DEVELOPER_SUBJECTS else None,
    )


def _rate_change(trend: Trend, min_previous: float) -> str | None:
    change = trend.change
    if change is None or (trend.previous or 0.0) < min_previous:
        return None
    return trend.describe() if change <= -MATERIAL_DROP or change >= MATERIAL_RISE else None
