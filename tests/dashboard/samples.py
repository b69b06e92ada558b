"""Result envelopes built with the project's own models (`schemas/envelope.py`, `schemas/results/`),
as the processor writes them to `analysis.results` (`envelope_json`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from schemas.envelope import AnalysisResult, SourceRef, envelope_json
from schemas.identity import IdentityMerged
from schemas.results import (
    AttritionRiskResult,
    BurnoutRiskResult,
    DeveloperProfileResult,
    GrowthTrajectoryResult,
    PerformanceTrajectoryResult,
    RiskFactor,
    SkillExtractionResult,
    SoftSkillsResult,
    TaskMatchingResult,
    TeamHealthResult,
)
from schemas.results.code import Skill
from schemas.results.people import Expertise, SoftSkillSignal
from schemas.results.tasks import TaskMatch
from schemas.types import AnalysisType

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEVELS = ("low", "medium", "high", "critical")


def envelope(
    kind: AnalysisType, subject: str, result: BaseModel, at: datetime = T0, tag: str = "", offset: int = 0
) -> AnalysisResult[Any]:
    request_id = hashlib.sha256(f"{subject}:{kind.value}:{at.isoformat()}:{tag}".encode()).hexdigest()
    return AnalysisResult[Any](
        request_id=request_id,
        analysis_type=kind,
        subject=subject,
        observed_as=None if "/" in subject else subject,
        result=result,
        provider="rules",
        model="rules-v1",
        prompt_version="v3",
        cache_hit=False,
        latency_ms=2.5,
        input_tokens=120,
        output_tokens=80,
        cost_usd=0.0,
        created_at=at,
        source=SourceRef(topic="github.activity", partition=1, offset=offset, event_id=f"evt-{offset}"),
    )


def value(kind: AnalysisType, subject: str, result: BaseModel, at: datetime = T0, tag: str = "") -> bytes:
    return envelope_json(envelope(kind, subject, result, at, tag))


def score_level(score: float) -> str:
    return LEVELS[min(3, int(score * 4))]


def attrition(score: float) -> AttritionRiskResult:
    return AttritionRiskResult(
        risk_score=score,
        risk_level=score_level(score),  # type: ignore[arg-type]
        factors=[
            RiskFactor(factor="commit rate fell", weight=0.6, evidence="12 commits a week before, 3 now"),
            RiskFactor(factor="fewer reviews given", weight=0.3, evidence="reviews fell from 8 to 2"),
        ],
        recommendations=["Have a one-to-one about current work"],
    )


def burnout(score: float) -> BurnoutRiskResult:
    return BurnoutRiskResult(
        risk_score=score,
        risk_level=score_level(score),  # type: ignore[arg-type]
        factors=[RiskFactor(factor="late-night commits", weight=0.7, evidence="40% of commits after 22:00")],
        warning_signs=["weekend work every week"],
        recommendations=["Move on-call away for a sprint"],
    )


def performance(score: float, trajectory: str = "stable") -> PerformanceTrajectoryResult:
    return PerformanceTrajectoryResult(
        trajectory=trajectory,  # type: ignore[arg-type]
        score=score,
        velocity_change_pct=-5.0,
        factors=[RiskFactor(factor="steady merges", weight=0.5, evidence="9 pull requests merged")],
        recommendations=["Keep the current scope"],
        confidence=0.7,
    )


def team_health(score: float, level: str = "watch", bus_factor: int = 2) -> TeamHealthResult:
    return TeamHealthResult(
        health_score=score,
        health_level=level,  # type: ignore[arg-type]
        bus_factor=bus_factor,
        collaboration_score=0.55,
        workload_balance=0.4,
        risks=[RiskFactor(factor="knowledge concentrated", weight=0.8, evidence="one person wrote 70%")],
        recommendations=["Pair on the parser module"],
    )


def profile() -> DeveloperProfileResult:
    return DeveloperProfileResult(
        summary="Works mostly on the event loop and its tests.",
        primary_languages=["c", "python"],
        frameworks=["cmake"],
        expertise=[Expertise(area="event loops", level="advanced", evidence="owns src/unix/core.c")],
        seniority_estimate="senior",
        strengths=["careful reviews"],
        growth_areas=["documentation"],
    )


def skills() -> SkillExtractionResult:
    return SkillExtractionResult(
        language="c",
        frameworks=[],
        patterns=["callbacks"],
        complexity=6,
        quality_indicators=["tests added"],
        skills=[Skill(name="epoll", category="library", confidence=0.8, evidence="epoll_wait in core.c")],
    )


def soft_skills() -> SoftSkillsResult:
    return SoftSkillsResult(
        communication=7,
        collaboration=8,
        mentorship=5,
        constructiveness=7,
        tone="positive",
        signals=[SoftSkillSignal(skill="mentorship", polarity="positive", evidence="explained the fix")],
        summary="Clear and kind in reviews.",
    )


def growth() -> GrowthTrajectoryResult:
    return GrowthTrajectoryResult(
        trajectory="steady",
        growth_score=0.6,
        new_skills=["io_uring"],
        deepening_skills=["epoll"],
        milestones=["first release managed"],
        next_steps=["own the Windows port"],
        confidence=0.6,
    )


def task_matching(developers: list[str]) -> TaskMatchingResult:
    return TaskMatchingResult(
        matches=[TaskMatch(developer=d, score=0.7, rationale="knows it", skill_gaps=[]) for d in developers],
        recommended_developer=developers[0],
        confidence=0.7,
    )


def merge(subject: str, *merged: str) -> bytes:
    return IdentityMerged(subject=subject, merged=merged, via="mailmap").model_dump_json().encode()


def later(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)
