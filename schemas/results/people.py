"""Results about one developer: profile, soft skills, growth."""

from typing import Literal

from schemas.results.base import ResultModel, Score10, Unit

Level = Literal["beginner", "intermediate", "advanced", "expert"]


class Expertise(ResultModel):
    area: str
    level: Level
    evidence: str


class DeveloperProfileResult(ResultModel):
    summary: str
    primary_languages: list[str]
    frameworks: list[str]
    expertise: list[Expertise]
    seniority_estimate: Literal["junior", "mid", "senior", "staff", "principal"]
    strengths: list[str]
    growth_areas: list[str]


class SoftSkillSignal(ResultModel):
    skill: Literal["communication", "collaboration", "mentorship", "constructiveness", "ownership", "empathy"]
    polarity: Literal["positive", "negative"]
    evidence: str


class SoftSkillsResult(ResultModel):
    communication: Score10
    collaboration: Score10
    mentorship: Score10
    constructiveness: Score10
    tone: Literal["positive", "neutral", "negative"]
    signals: list[SoftSkillSignal]
    summary: str


class GrowthTrajectoryResult(ResultModel):
    trajectory: Literal["accelerating", "steady", "plateauing", "declining"]
    growth_score: Unit
    new_skills: list[str]
    deepening_skills: list[str]
    milestones: list[str]
    next_steps: list[str]
    confidence: Unit
