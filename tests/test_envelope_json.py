"""`envelope_json` writes the very bytes `model_dump_json` writes, for every result type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from aexy_dev.simulator.answers import model_instance
from gateway.envelope import envelope_type
from schemas import RESULT_MODELS, AnalysisType
from schemas.envelope import AnalysisResult, SourceRef, envelope_json

SOURCE = SourceRef(topic="code.changes", partition=3, offset=1_234_567, event_id="e" * 64)


def envelope(analysis: AnalysisType, **fields: Any) -> AnalysisResult[Any]:
    values: dict[str, Any] = {
        "request_id": "r" * 32,
        "analysis_type": analysis,
        "subject": "mona",
        "result": RESULT_MODELS[analysis].model_validate(model_instance(RESULT_MODELS[analysis])),
        "provider": "claude",
        "model": "claude-sonnet-5-5",
        "prompt_version": f"{analysis.value}/v1",
        "cache_hit": True,
        "latency_ms": 0.041170999963924265,
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
        "created_at": datetime(2026, 11, 29, 22, 14, 41, 559387, tzinfo=UTC),
        "source": SOURCE,
    }
    return envelope_type(analysis).model_validate(values | fields)


@pytest.mark.parametrize("analysis", list(AnalysisType), ids=lambda a: a.value)
def test_every_result_type_serializes_to_the_same_bytes(analysis: AnalysisType) -> None:
    built = envelope(analysis)
    assert envelope_json(built) == built.model_dump_json().encode()


@pytest.mark.parametrize(
    "fields",
    [
        {"source": None},
        {"created_at": datetime(2026, 1, 1, tzinfo=UTC)},  # no microseconds
        {"created_at": datetime(2026, 1, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))},
        {"created_at": datetime(2026, 1, 1, 12, 0, 0, 5)},  # naive, as a caller may give it
        {"subject": 'Zoë "the" \\ dev \u2028 \x01 😀', "request_id": "<tag>&'"},
        {"latency_ms": 1e-7, "cost_usd": 123456789.123, "input_tokens": 2**40, "output_tokens": 7},
        {"latency_ms": 0.30000000000000004, "cost_usd": 2.5e-05, "cache_hit": False},
    ],
    ids=["no source", "whole second", "offset", "naive", "escapes", "numbers", "more numbers"],
)
def test_edge_values_serialize_to_the_same_bytes(fields: dict[str, Any]) -> None:
    built = envelope(AnalysisType.CODE_QUALITY, **fields)
    assert envelope_json(built) == built.model_dump_json().encode()


def test_a_result_changed_in_place_is_serialized_with_its_new_value() -> None:
    """Envelopes built from a cached answer share its result object; its lists stay mutable."""
    first = envelope(AnalysisType.SKILL_EXTRACTION)
    before = envelope_json(first)
    first.result.frameworks.append("changed-in-place")
    again = envelope(AnalysisType.SKILL_EXTRACTION, result=first.result)
    assert envelope_json(again) != before
    assert orjson.loads(envelope_json(again))["result"]["frameworks"][-1] == "changed-in-place"
    assert envelope_json(again) == again.model_dump_json().encode()
