"""Results about a piece of code or a diff."""

from typing import Annotated, Literal

from pydantic import Field

from schemas.results.base import ResultModel, Score10, Severity, Unit


class Skill(ResultModel):
    name: str
    category: Literal["language", "framework", "library", "tool", "practice", "domain"]
    confidence: Unit
    evidence: str


class SkillExtractionResult(ResultModel):
    language: str
    frameworks: list[str]
    patterns: list[str]
    complexity: Score10
    quality_indicators: list[str]
    skills: list[Skill]


class QualityIssue(ResultModel):
    severity: Severity
    category: Literal["correctness", "security", "performance", "readability", "maintainability", "testing"]
    description: str
    location: str


class CodeQualityResult(ResultModel):
    quality_score: Score10
    readability: Score10
    maintainability: Score10
    testability: Score10
    issues: list[QualityIssue]
    strengths: list[str]
    suggestions: list[str]


class ComplexityHotspot(ResultModel):
    name: str
    location: str
    cyclomatic_complexity: Annotated[int, Field(ge=1)]
    reason: str


class CodeComplexityResult(ResultModel):
    complexity_score: Score10
    average_cyclomatic_complexity: Annotated[float, Field(ge=0)]
    max_cyclomatic_complexity: Annotated[int, Field(ge=0)]
    function_count: Annotated[int, Field(ge=0)]
    hotspots: list[ComplexityHotspot]
    summary: str
