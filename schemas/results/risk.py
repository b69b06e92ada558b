"""Predictive results about a developer's wellbeing and performance over time."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.results.base import ResultModel, RiskFactor, RiskLevel, Unit

UNOBSERVED = (
    "Features the source could not observe for this developer (e.g. reviews in a git-only history): "
    "left out of the assessment, neither risk nor reassurance. Absent in results made before it existed."
)


class AttritionRiskResult(ResultModel):
    risk_score: Unit
    risk_level: RiskLevel
    factors: list[RiskFactor]
    recommendations: list[str]
    unobserved: list[str] = Field(default_factory=list, description=UNOBSERVED)


class BurnoutRiskResult(ResultModel):
    risk_score: Unit
    risk_level: RiskLevel
    factors: list[RiskFactor]
    warning_signs: list[str]
    recommendations: list[str]
    unobserved: list[str] = Field(default_factory=list, description=UNOBSERVED)


class PerformanceTrajectoryResult(ResultModel):
    trajectory: Literal["improving", "stable", "declining"]
    score: Unit
    velocity_change_pct: Annotated[float, Field(ge=-100.0)]
    factors: list[RiskFactor]
    recommendations: list[str]
    confidence: Unit
    unobserved: list[str] = Field(default_factory=list, description=UNOBSERVED)
