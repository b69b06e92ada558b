"""When the state has something new to say, and the requests that say it.

- attrition_risk, burnout_risk, performance_trajectory for a developer: when the current window
  differs materially from the previous one (`risk_reasons`), at most once per interval;
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

from schemas.request import AnalysisRequest
from schemas.types import AnalysisType, Priority

RISKS = (AnalysisType.ATTRITION_RISK, AnalysisType.BURNOUT_RISK, AnalysisType.PERFORMANCE_TRAJECTORY)
PROFILES = (AnalysisType.DEVELOPER_PROFILE, AnalysisType.GROWTH_TRAJECTORY)
DROP, RISE, SHARE_RISE, NARROWING = 0.3, 0.5, 0.15, 0.4


def interval_of(at: datetime, interval_s: float) -> int:
    return int(at.timestamp() // interval_s)


def risk_reasons(features: Mapping[str, Any], min_previous: float) -> list[str]:
    """What changed materially between the previous window and the current one (judged only once
    the history covers both windows: a newcomer's ramp-up is not a change)."""
    if features["history_days"] < 2 * features["window_days"]:
        return []
    reasons = [
        r for metric in ("commits", "prs", "reviews") if (r := _rate_change(features, metric, min_previous))
    ]
    for share in ("after_hours_share", "weekend_share"):
        now, before = features.get(share), features.get(f"{share}_previous")
        if now is not None and before is not None and now - before >= SHARE_RISE:
            reasons.append(f"{share} {before:.0%} -> {now:.0%}")
    breadth, before = features["collaboration_breadth"], features["collaboration_breadth_previous"]
    if before >= 3 and breadth <= (1 - NARROWING) * before:
        reasons.append(f"collaboration breadth {before} -> {breadth}")
    return reasons


PERIODIC = frozenset({*RISKS, *PROFILES, AnalysisType.TEAM_HEALTH})


def emitted_marker(request: AnalysisRequest) -> str | None:
    """The state's marker that this periodic request was asked (None for any other request)."""
    interval = request.context.get("interval")
    if request.analysis_type not in PERIODIC or not isinstance(interval, int):
        return None
    return f"emit:{request.subject}:{request.analysis_type.value}:{interval}"


def skills_of(features: Mapping[str, Any]) -> list[str]:
    return sorted({*features.get("languages", {}), *features.get("frameworks", {})})


def request(
    kind: AnalysisType,
    subject: str,
    facts: Mapping[str, Any],
    context: Mapping[str, Any],
    priority: Priority,
    tag: str,
) -> AnalysisRequest:
    """Content is the facts as JSON (features, never raw code); the id is stable per tag."""
    content = orjson.dumps(facts, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2).decode()
    digest = hashlib.sha256(f"{subject}:{kind.value}:{tag}".encode()).hexdigest()[:32]
    return AnalysisRequest(
        analysis_type=kind,
        content=content,
        context=dict(context),
        request_id=digest,
        priority=priority,
        subject=subject,
    )


def _rate_change(features: Mapping[str, Any], metric: str, min_previous: float) -> str | None:
    now, before = features[f"{metric}_per_week_current"], features[f"{metric}_per_week_previous"]
    if before < min_previous:
        return None
    if now <= (1 - DROP) * before or now >= (1 + RISE) * before:
        return f"{metric}/week {before:g} -> {now:g}"
    return None
