"""Results about work items: what a task needs, and who fits it."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.results.base import ResultModel, Score10, Severity, Unit


class TaskSignalsResult(ResultModel):
    task_type: Literal["feature", "bugfix", "refactor", "docs", "test", "chore", "infra", "security"]
    estimated_complexity: Score10
    estimated_effort_hours: Annotated[float, Field(ge=0)]
    required_skills: list[str]
    risk_level: Severity
    blockers: list[str]
    summary: str


class TaskMatch(ResultModel):
    developer: str
    score: Unit
    rationale: str
    skill_gaps: list[str]


class TaskMatchingResult(ResultModel):
    matches: list[TaskMatch]
    recommended_developer: str
    confidence: Unit
