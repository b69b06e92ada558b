"""Predictive results about a developer's wellbeing and performance over time."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.results.base import ResultModel, RiskFactor, RiskLevel, Unit


class AttritionRiskResult(ResultModel):
    risk_score: Unit
    risk_level: RiskLevel
    factors: list[RiskFactor]
    recommendations: list[str]


class BurnoutRiskResult(ResultModel):
    risk_score: Unit
    risk_level: RiskLevel
    factors: list[RiskFactor]
    warning_signs: list[str]
    recommendations: list[str]


class PerformanceTrajectoryResult(ResultModel):
    trajectory: Literal["improving", "stable", "declining"]
    score: Unit
    velocity_change_pct: Annotated[float, Field(ge=-100.0)]
    factors: list[RiskFactor]
    recommendations: list[str]
    confidence: Unit
