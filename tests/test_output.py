from __future__ import annotations

import pytest

from gateway.output import OutputMismatch, parse_result
from schemas.results import TeamHealthResult

GOOD = (
    '{"health_score": 0.8, "health_level": "healthy", "bus_factor": 3, "collaboration_score": 0.7,'
    ' "workload_balance": 0.6, "risks": [], "recommendations": ["keep going"]}'
)


def test_valid_json_parses_into_the_model() -> None:
    result = parse_result(TeamHealthResult, GOOD)
    assert isinstance(result, TeamHealthResult)
    assert result.bus_factor == 3


def test_a_markdown_fenced_reply_is_accepted() -> None:
    assert parse_result(TeamHealthResult, f"```json\n{GOOD}\n```").health_level == "healthy"


def test_not_json_is_a_mismatch() -> None:
    with pytest.raises(OutputMismatch, match="not valid JSON"):
        parse_result(TeamHealthResult, "Sure! Here is the analysis: healthy")


def test_schema_violations_are_listed_by_field() -> None:
    with pytest.raises(OutputMismatch) as caught:
        parse_result(TeamHealthResult, GOOD.replace('"bus_factor": 3', '"bus_factor": -1'))
    assert "bus_factor" in str(caught.value)


def test_extra_keys_are_rejected() -> None:
    with pytest.raises(OutputMismatch, match="pwned"):
        parse_result(TeamHealthResult, GOOD[:-1] + ', "pwned": true}')
