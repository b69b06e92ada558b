"""`trusted` builds the instance `model_validate` would, from values that are already valid."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, PrivateAttr

from aexy_dev.simulator.answers import model_instance
from gateway.gateway import envelope_type
from schemas import RESULT_MODELS, AnalysisType
from schemas.envelope import SourceRef
from schemas.events import CodeChangeEvent
from schemas.trusted import trusted


def envelope_values() -> dict[str, Any]:
    analysis = AnalysisType.TEAM_HEALTH
    return {
        "schema_version": 1,
        "request_id": "r" * 32,
        "analysis_type": analysis,
        "subject": "octo/app",
        "result": RESULT_MODELS[analysis].model_validate(model_instance(RESULT_MODELS[analysis])),
        "provider": "ollama",
        "model": "llama3.1",
        "prompt_version": "team_health/v1",
        "cache_hit": False,
        "latency_ms": 12.5,
        "input_tokens": 120,
        "output_tokens": 80,
        "cost_usd": 0.0,
        "created_at": datetime(2026, 11, 29, tzinfo=UTC),
        "source": SourceRef(topic="github.activity", partition=0, offset=7, event_id="e1"),
    }


def test_the_same_instance_as_validation_gives() -> None:
    model = envelope_type(AnalysisType.TEAM_HEALTH)
    built, validated = trusted(model, envelope_values()), model.model_validate(envelope_values())
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_copy(update={"subject": "other/app"}).subject == "other/app"
    assert built.subject == "octo/app"  # the copy has its own fields


def test_values_out_of_order_or_incomplete_are_refused() -> None:
    model = envelope_type(AnalysisType.TEAM_HEALTH)
    values = envelope_values()
    reordered = {"request_id": values.pop("request_id"), **values}
    with pytest.raises(TypeError, match="in this order"):
        trusted(model, reordered)
    del reordered["source"]
    with pytest.raises(TypeError, match="source"):
        trusted(model, reordered)


def test_models_with_validators_are_refused() -> None:
    with pytest.raises(TypeError, match="validators"):
        trusted(CodeChangeEvent, {})  # its event id is derived by a validator


def test_models_with_private_state_are_refused() -> None:
    class Hidden(BaseModel):
        name: str
        _seen: int = PrivateAttr(default=0)

    with pytest.raises(TypeError, match="private attributes"):
        trusted(Hidden, {"name": "x"})
