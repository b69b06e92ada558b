"""Reading a model's reply into its typed result model."""

from __future__ import annotations

import re

import orjson
from pydantic import ValidationError

from schemas.results import ResultModel

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class OutputMismatch(ValueError):
    """The reply is not JSON matching the model; the message lists what is wrong, briefly."""


def parse_result(model: type[ResultModel], text: str) -> ResultModel:
    fenced = _FENCE.match(text)
    try:
        return model.model_validate(orjson.loads(fenced.group(1) if fenced else text))
    except orjson.JSONDecodeError as exc:
        raise OutputMismatch(f"not valid JSON: {exc}") from exc
    except ValidationError as exc:
        raise OutputMismatch(_summary(exc)) from exc


def _summary(exc: ValidationError, limit: int = 8) -> str:
    problems = [f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:limit]]
    return "; ".join(problems)
