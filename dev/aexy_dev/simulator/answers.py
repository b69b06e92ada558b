"""The model's answers: a schema-valid JSON document per requested schema, cached by schema.

A schema whose `title` (or requested name) is a result model of `schemas.results` gets a validated
instance of that pydantic model; a fused schema (an object whose every property is named after an
analysis type and holds that type's result schema, inline or as a `$ref`) gets one validated
instance per part; any other schema gets the generic generator of `instances`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

import orjson

from aexy_dev.simulator.call import Call, JsonObject, estimate_tokens
from aexy_dev.simulator.instances import instance_of
from schemas.results import RESULT_MODELS, ResultModel

NO_SCHEMA = "none"
MAX_CACHED = 1024
Finish = Literal["stop", "length"]

_BY_TYPE: dict[str, type[ResultModel]] = {analysis.value: model for analysis, model in RESULT_MODELS.items()}
_MODELS: dict[str, type[ResultModel]] = {
    **{model.__name__: model for model in RESULT_MODELS.values()},
    **_BY_TYPE,
}


@dataclass(frozen=True, slots=True)
class Answer:
    """One reply of the simulated model: the JSON value, its text, its size and why it stopped."""

    title: str
    value: Any
    text: str
    tokens: int
    finish: Finish = "stop"

    def truncated(self, max_tokens: int) -> Answer:
        """The answer cut at `max_tokens`, as a real model would stop mid-document."""
        text = self.text[: max_tokens * 4]
        return replace(self, value={}, text=text, tokens=max_tokens, finish="length")


def answer_of(title: str, value: Any) -> Answer:
    text = orjson.dumps(value).decode()
    return Answer(title=title, value=value, text=text, tokens=estimate_tokens(text))


class AnswerBook:
    """Builds and caches answers; `for_kind` serves the ok, invalid_output and injection_echo kinds."""

    def __init__(self) -> None:
        self._cache: dict[bytes, Answer] = {}
        self._last: tuple[Call, Answer] | None = None

    def for_kind(self, kind: str, call: Call, part: str | None = None) -> Answer:
        if kind == "invalid_part" and call.schema is not None and fused_parts(call.schema):
            return invalid_part(self.valid(call), fused_parts(call.schema) or {}, part)
        if kind in ("invalid_output", "invalid_part"):
            return invalid_answer(self.valid(call), call.schema)
        if kind == "injection_echo":
            return build_answer(call.schema, call.schema_name, echo=call.last_user)
        return self.valid(call)

    def valid(self, call: Call) -> Answer:
        """The schema-valid answer for `call` (asked twice per request: the second ask is free)."""
        if self._last is not None and self._last[0] is call:
            return self._last[1]
        key = cache_key(call)
        answer = self._cache.get(key)
        if answer is None:
            answer = build_answer(call.schema, call.schema_name)
            self._remember(key, answer)
        self._last = (call, answer)
        return answer

    def _remember(self, key: bytes, answer: Answer) -> None:
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[key] = answer


def cache_key(call: Call) -> bytes:
    if call.schema is None:
        return b"-"
    name = (call.schema_name or "").encode()
    return name + b"\x00" + orjson.dumps(call.schema, option=orjson.OPT_SORT_KEYS)


def build_answer(schema: JsonObject | None, name: str | None, *, echo: str | None = None) -> Answer:
    if schema is None:
        return answer_of(NO_SCHEMA, {})
    model = result_model_for(schema, name)
    if model is not None:
        return answer_of(model.__name__, model_instance(model, echo))
    parts = fused_parts(schema)
    if parts:
        fused = {key: model_instance(part, echo) for key, part in parts.items()}
        return answer_of(schema_title(schema, name), fused)
    return answer_of(schema_title(schema, name), instance_of(schema, echo=echo))


def result_model_for(schema: JsonObject, name: str | None) -> type[ResultModel] | None:
    """The result model a schema stands for: by its `title`, else by the requested schema name."""
    for key in (schema.get("title"), name):
        model = _MODELS.get(key) if isinstance(key, str) else None
        if model is not None and _same_fields(model, schema):
            return model
    return None


def fused_parts(schema: JsonObject) -> dict[str, type[ResultModel]]:
    """The result model of each part of a fused schema, in the schema's order; empty if not fused."""
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return {}
    parts: dict[str, type[ResultModel]] = {}
    for key, part in properties.items():
        model = _BY_TYPE.get(key)
        resolved = _dereferenced(part, schema)
        if model is None or not _same_fields(model, resolved) or "properties" not in resolved:
            return {}
        parts[key] = model
    return parts


def _dereferenced(part: object, root: JsonObject) -> JsonObject:
    """A part's schema, following a local `$ref` (`#/$defs/...`) into the root."""
    for _ in range(8):
        if not isinstance(part, dict):
            return {}
        ref = part.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return part
        node: object = root
        for name in ref[2:].split("/"):
            node = node.get(name.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
        part = node
    return {}


def _same_fields(model: type[ResultModel], schema: JsonObject) -> bool:
    properties = schema.get("properties")
    return not isinstance(properties, dict) or set(properties) == set(model.model_fields)


def model_instance(model: type[ResultModel], echo: str | None = None) -> JsonObject:
    """A generated instance of `model`, validated by pydantic before it is served."""
    value = instance_of(_model_schema(model), echo=echo)
    return model.model_validate(value).model_dump(mode="json")


@cache
def _model_schema(model: type[ResultModel]) -> JsonObject:
    return model.model_json_schema()


def schema_title(schema: JsonObject, name: str | None) -> str:
    title = schema.get("title")
    return title if isinstance(title, str) and title else name or "untitled"


def invalid_part(valid: Answer, parts: dict[str, type[ResultModel]], part: str | None) -> Answer:
    """A fused answer whose one part (`part`, else the first) misses its first required field; the
    other parts stay valid."""
    target = part if part in parts else next(iter(parts))
    value = dict(valid.value)
    required = [name for name, field in parts[target].model_fields.items() if field.is_required()]
    broken = {key: item for key, item in value[target].items() if key != required[0]} if required else []
    value[target] = broken
    return answer_of(valid.title, value)


def invalid_answer(valid: Answer, schema: JsonObject | None) -> Answer:
    """Syntactically valid JSON that breaks the schema: the first required field is missing."""
    value = valid.value
    if isinstance(value, dict) and value:
        required = schema.get("required", []) if schema is not None else []
        dropped = next((key for key in required if key in value), next(iter(value)))
        return answer_of(valid.title, {key: item for key, item in value.items() if key != dropped})
    return answer_of(valid.title, {"unexpected": [value]})
