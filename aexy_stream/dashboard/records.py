"""What a record of `analysis.results` is: a result envelope, an identity merge, or unreadable.

Envelopes are validated with the project's own models (`schemas/envelope.py`, `schemas/results/`),
so the page shows only what the contract allows. Nothing here logs a record's content.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from consumers import headers as h
from schemas.envelope import AnalysisResult
from schemas.identity import IDENTITY_MERGED, IdentityMerged
from schemas.results import result_model
from schemas.types import AnalysisType

RISKS = frozenset({AnalysisType.ATTRITION_RISK, AnalysisType.BURNOUT_RISK})
"""What DASHBOARD_HIDE_RISKS removes."""

SENIORITY = ("junior", "mid", "senior", "staff", "principal")


@dataclass(frozen=True, slots=True)
class Place:
    """Where the record was read: its partition and offset on the results topic."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class Result:
    """A valid envelope: its JSON as read, and the fields the view keys, orders and tables by."""

    subject: str
    kind: AnalysisType
    request_id: str
    at: float
    """`created_at`, epoch seconds."""
    result: dict[str, Any]
    envelope: bytes
    place: Place

    @property
    def headline(self) -> float | None:
        return headline(self.kind, self.result)

    @property
    def level(self) -> str | None:
        return level(self.kind, self.result)


@dataclass(frozen=True, slots=True)
class Merge:
    subject: str
    merged: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str
    """The kind of failure only (`not JSON`, `invalid envelope`): never the content."""


Record = Result | Merge | Unreadable


def decode(value: bytes | None, headers: Any, place: Place) -> Record:
    if value is None:
        return Unreadable("empty value")
    if h.as_dict(headers).get(h.RECORD_TYPE) == IDENTITY_MERGED:
        return _merge(value)
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError:
        return Unreadable("not JSON")
    if not isinstance(raw, dict):
        return Unreadable("not a JSON object")
    if raw.get("record_type") == IDENTITY_MERGED:
        return _merge(value)
    return _result(raw, value, place)


def _merge(value: bytes) -> Record:
    try:
        record = IdentityMerged.model_validate_json(value)
    except ValidationError:
        return Unreadable("invalid identity_merged record")
    return Merge(record.subject, record.merged)


def _result(raw: dict[str, Any], value: bytes, place: Place) -> Record:
    try:
        kind = AnalysisType(str(raw.get("analysis_type")))
    except ValueError:
        return Unreadable("unknown analysis type")
    try:
        envelope = envelope_model(kind).model_validate(raw)
    except ValidationError:
        return Unreadable(f"invalid {kind.value} envelope")
    fields = envelope.__dict__
    return Result(
        subject=fields["subject"],
        kind=kind,
        request_id=fields["request_id"],
        at=fields["created_at"].timestamp(),
        result=raw["result"],
        envelope=value,
        place=place,
    )


@functools.cache
def envelope_model(kind: AnalysisType) -> type[BaseModel]:
    """`AnalysisResult[<the type's result model>]`, made once: pydantic's own cache of parametrized
    generics holds them weakly, so without a reference each record could build the schema again."""
    model: type[BaseModel] = AnalysisResult[result_model(kind)]  # type: ignore[misc,assignment]
    return model


def headline(kind: AnalysisType, result: dict[str, Any]) -> float | None:
    """The one number of a result that its sparkline follows (None: the type has none)."""
    field = HEADLINES.get(kind)
    if field is not None:
        return float(result[field])
    if kind is AnalysisType.SOFT_SKILLS:
        scores = [
            result[name] for name in ("communication", "collaboration", "mentorship", "constructiveness")
        ]
        return float(sum(scores)) / len(scores)
    if kind is AnalysisType.DEVELOPER_PROFILE:
        return float(SENIORITY.index(result["seniority_estimate"]) + 1)
    return None


HEADLINES: dict[AnalysisType, str] = {
    AnalysisType.CODE_QUALITY: "quality_score",
    AnalysisType.CODE_COMPLEXITY: "complexity_score",
    AnalysisType.SKILL_EXTRACTION: "complexity",
    AnalysisType.GROWTH_TRAJECTORY: "growth_score",
    AnalysisType.TASK_SIGNALS: "estimated_complexity",
    AnalysisType.TASK_MATCHING: "confidence",
    AnalysisType.ATTRITION_RISK: "risk_score",
    AnalysisType.BURNOUT_RISK: "risk_score",
    AnalysisType.PERFORMANCE_TRAJECTORY: "score",
    AnalysisType.TEAM_HEALTH: "health_score",
    AnalysisType.LEARNING_PATH: "total_hours",
}

LEVELS: dict[AnalysisType, str] = {
    AnalysisType.ATTRITION_RISK: "risk_level",
    AnalysisType.BURNOUT_RISK: "risk_level",
    AnalysisType.TASK_SIGNALS: "risk_level",
    AnalysisType.TEAM_HEALTH: "health_level",
    AnalysisType.PERFORMANCE_TRAJECTORY: "trajectory",
    AnalysisType.GROWTH_TRAJECTORY: "trajectory",
    AnalysisType.SOFT_SKILLS: "tone",
    AnalysisType.DEVELOPER_PROFILE: "seniority_estimate",
}


def level(kind: AnalysisType, result: dict[str, Any]) -> str | None:
    """The word a result is filtered and coloured by (a risk level, a health level, a trajectory)."""
    field = LEVELS.get(kind)
    return None if field is None else str(result[field])
