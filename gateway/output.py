"""Reading a model's reply into its typed result model (or, for a fused call, one per analysis)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.results import ResultModel, result_model
from schemas.types import AnalysisType

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class OutputMismatch(ValueError):
    """The reply is not JSON matching the model; the message lists what is wrong, briefly."""


@dataclass(frozen=True, slots=True)
class ParsedPart:
    """One analysis of a fused reply: its result or what is wrong with it, and the length of its
    JSON in the reply (0 when absent), by which the call's output tokens are shared out."""

    outcome: ResultModel | OutputMismatch
    chars: int


def parse_result(model: type[ResultModel], text: str) -> ResultModel:
    try:
        return _validated(model, _loaded(text))
    except orjson.JSONDecodeError as exc:
        raise OutputMismatch(f"not valid JSON: {exc}") from exc


def parse_parts(text: str, types: Sequence[AnalysisType]) -> dict[AnalysisType, ParsedPart]:
    """Each analysis of a fused reply (`gateway/prompts/fused.py`), validated on its own: one part
    that does not match its model leaves the others valid."""
    try:
        value = _loaded(text)
    except orjson.JSONDecodeError as exc:
        return dict.fromkeys(types, ParsedPart(OutputMismatch(f"not valid JSON: {exc}"), 0))
    if not isinstance(value, dict):
        return dict.fromkeys(types, ParsedPart(OutputMismatch("<root>: not a JSON object"), 0))
    return {kind: _part(kind, value) for kind in types}


def _part(kind: AnalysisType, reply: dict[str, Any]) -> ParsedPart:
    if kind.value not in reply:
        return ParsedPart(OutputMismatch("<root>: Field required"), 0)
    value = reply[kind.value]
    chars = len(orjson.dumps(value))
    try:
        return ParsedPart(_validated(result_model(kind), value), chars)
    except OutputMismatch as exc:
        return ParsedPart(exc, chars)


def _loaded(text: str) -> Any:
    fenced = _FENCE.match(text)
    return orjson.loads(fenced.group(1) if fenced else text)


def _validated(model: type[ResultModel], value: Any) -> ResultModel:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise OutputMismatch(_summary(exc)) from exc


def _summary(exc: ValidationError, limit: int = 8) -> str:
    problems = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(problems)
