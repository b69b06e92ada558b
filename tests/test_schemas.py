from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from schemas import RESULT_MODELS, AnalysisRequest, AnalysisResult, AnalysisType, export
from schemas.results import AttritionRiskResult, SkillExtractionResult


def test_every_analysis_type_has_a_result_model() -> None:
    assert set(RESULT_MODELS) == set(AnalysisType)
    assert len(AnalysisType) == 15


def test_checked_in_json_schemas_are_current() -> None:
    assert export.stale() == [], "run `aexy-stream schemas export` and commit schemas/json/"


def test_stale_detects_a_changed_file(tmp_path: Path) -> None:
    directory = tmp_path
    export.export(directory)
    target = directory / "results" / "attrition_risk.schema.json"
    target.write_text("{}")
    assert export.stale(directory) == ["results/attrition_risk.schema.json"]


def test_result_schemas_are_closed_objects_with_every_field_required() -> None:
    for model in RESULT_MODELS.values():
        schema = model.model_json_schema()
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])


def test_attrition_risk_bounds_are_enforced() -> None:
    good = {"risk_score": 0.4, "risk_level": "medium", "factors": [], "recommendations": []}
    assert AttritionRiskResult.model_validate(good).risk_score == 0.4
    with pytest.raises(ValidationError):
        AttritionRiskResult.model_validate({**good, "risk_score": 1.5})
    with pytest.raises(ValidationError):
        AttritionRiskResult.model_validate({**good, "risk_level": "extreme"})


def test_envelope_round_trips_through_json() -> None:
    result = SkillExtractionResult(
        language="Python", frameworks=["fastapi"], patterns=[], complexity=4, quality_indicators=[], skills=[]
    )
    envelope = AnalysisResult[SkillExtractionResult](
        request_id="r1",
        analysis_type=AnalysisType.SKILL_EXTRACTION,
        subject="octocat",
        result=result,
        provider="rules",
        model="rules-v1",
        prompt_version="skill_extraction/v1",
        cache_hit=False,
        latency_ms=1.5,
        input_tokens=0,
        output_tokens=0,
        cost_usd=0.0,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    data = orjson.loads(envelope.model_dump_json())
    assert data["schema_version"] == 1
    assert AnalysisResult[SkillExtractionResult].model_validate(data) == envelope


def test_request_defaults_and_priority() -> None:
    request = AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content="x = 1")
    assert request.priority == "live"
    assert len(request.request_id) == 32
    with pytest.raises(ValidationError):
        AnalysisRequest(analysis_type=AnalysisType.CODE_QUALITY, content="x", priority="urgent")  # type: ignore[arg-type]


def test_a_revised_request_is_validated_and_has_a_context_of_its_own() -> None:
    request = AnalysisRequest(
        analysis_type=AnalysisType.CODE_QUALITY,
        content="x = 1",
        context={"repository": "octo/app"},
        subject="ada",
    )
    revised = request.revised(analysis_type=AnalysisType.CODE_COMPLEXITY, request_id="r-2")
    assert revised == request.model_copy(
        update={"analysis_type": AnalysisType.CODE_COMPLEXITY, "request_id": "r-2"}
    )
    revised.context["repository"] = "octo/other"
    assert request.context == {"repository": "octo/app"}
    with pytest.raises(ValidationError):
        request.revised(priority="urgent")
    with pytest.raises(ValidationError):
        request.revised(unknown_field=1)
