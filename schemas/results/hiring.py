"""Results that help people grow and hire: learning paths, job descriptions, interview rubrics."""

from typing import Annotated

from pydantic import Field

from schemas.results.base import ResultModel, Unit


class LearningStep(ResultModel):
    order: Annotated[int, Field(ge=1)]
    topic: str
    outcome: str
    resources: list[str]
    estimated_hours: Annotated[float, Field(ge=0)]


class LearningPathResult(ResultModel):
    goal: str
    current_level: str
    steps: list[LearningStep]
    total_hours: Annotated[float, Field(ge=0)]
    milestones: list[str]


class JobDescriptionResult(ResultModel):
    title: str
    seniority: str
    summary: str
    responsibilities: list[str]
    required_skills: list[str]
    nice_to_have: list[str]


class Competency(ResultModel):
    name: str
    weight: Unit
    questions: list[str]
    strong_signals: list[str]
    weak_signals: list[str]


class InterviewRubricResult(ResultModel):
    role: str
    competencies: list[Competency]
    scoring_guide: str
