"""Deterministic, plausible instances of a JSON Schema (the generic generator behind every answer).

Supports object, array, string, integer, number, boolean, null, enum, const, $ref into $defs or
definitions, anyOf/oneOf (first non-null branch), allOf (merged), minimum/maximum (and exclusive),
multipleOf, minItems/maxItems, minLength/maxLength and common string formats.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aexy_dev.simulator.call import JsonObject
from aexy_dev.simulator.vocabulary import word_for

MAX_DEPTH = 8
HARD_LIMIT = 32
ORDINALS = frozenset({"order", "rank", "position", "step", "index"})
FORMATS = {
    "date-time": "2025-01-15T09:30:00Z",
    "date": "2025-01-15",
    "time": "09:30:00Z",
    "email": "dev@example.com",
    "uri": "https://example.com/resource",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


@dataclass(frozen=True, slots=True)
class _Ctx:
    root: JsonObject
    echo: str | None = None
    depth: int = 0
    path: str = ""
    name: str = ""
    parent: str = ""
    index: int = 0
    listed: bool = False

    def child(self, name: str) -> _Ctx:
        """A property's context; it keeps the index of the list item it belongs to, for variety."""
        path = f"{self.path}/{name}"
        return replace(self, depth=self.depth + 1, path=path, name=name, parent=self.name, listed=False)

    def item(self, index: int) -> _Ctx:
        return replace(self, depth=self.depth + 1, path=f"{self.path}/{index}", index=index, listed=True)


def instance_of(schema: JsonObject, *, echo: str | None = None) -> Any:
    """An instance of `schema`; with `echo`, every free-text string is that text instead."""
    return _generate(schema, _Ctx(root=schema, echo=echo))


def _generate(schema: object, ctx: _Ctx) -> Any:
    resolved = _resolve(schema, ctx.root, 0)
    if "const" in resolved:
        return resolved["const"]
    if isinstance(resolved.get("enum"), list) and resolved["enum"]:
        return _pick(resolved["enum"], ctx)
    return _GENERATORS[_type_of(resolved)](resolved, ctx)


def _resolve(schema: object, root: JsonObject, hops: int) -> JsonObject:
    if not isinstance(schema, dict) or hops > MAX_DEPTH:
        return {}
    if isinstance(schema.get("$ref"), str):
        return _resolve(_pointer(root, schema["$ref"]), root, hops + 1)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return _resolve(_first_non_null(schema[key]), root, hops + 1)
    if isinstance(schema.get("allOf"), list):
        return _merge([_resolve(part, root, hops + 1) for part in schema["allOf"]], schema)
    return schema


def _pointer(root: JsonObject, ref: str) -> object:
    node: object = root
    for part in ref.removeprefix("#").strip("/").split("/") if ref != "#" else []:
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node


def _first_non_null(options: list[Any]) -> object:
    useful = [option for option in options if not (isinstance(option, dict) and option.get("type") == "null")]
    return useful[0] if useful else {"type": "null"}


def _merge(parts: list[JsonObject], schema: JsonObject) -> JsonObject:
    merged: JsonObject = {key: value for key, value in schema.items() if key != "allOf"}
    for part in parts:
        merged = {**part, **merged}
    return merged


def _type_of(schema: JsonObject) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((kind for kind in declared if kind != "null"), "null")
    if isinstance(declared, str) and declared in _GENERATORS:
        return declared
    if "properties" in schema:
        return "object"
    return "array" if "items" in schema else "string"


def _fraction(ctx: _Ctx) -> float:
    """A stable number in [0.55, 0.85] derived from the value's path: varied but deterministic."""
    return 0.55 + (zlib.crc32(ctx.path.encode()) % 31) / 100


def _pick(options: list[Any], ctx: _Ctx) -> Any:
    return options[zlib.crc32(ctx.path.encode()) % len(options)]


def _object(schema: JsonObject, ctx: _Ctx) -> JsonObject:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    keys = list(properties) if ctx.depth < MAX_DEPTH else _required(schema, ctx)
    return {key: _generate(properties[key], ctx.child(key)) for key in keys if key in properties}


def _required(schema: JsonObject, ctx: _Ctx) -> list[str]:
    """Deep down (recursive schemas) only required keys, and none at all past the hard limit."""
    required = schema.get("required")
    return [str(key) for key in required] if isinstance(required, list) and ctx.depth < HARD_LIMIT else []


def _array(schema: JsonObject, ctx: _Ctx) -> list[Any]:
    items = schema.get("items", {})
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [_generate(part, ctx.item(index)) for index, part in enumerate(prefix)]
    return [_generate(items, ctx.item(index)) for index in range(_item_count(schema, ctx))]


def _item_count(schema: JsonObject, ctx: _Ctx) -> int:
    wanted = 2 if ctx.depth < MAX_DEPTH else 0
    lowest = schema.get("minItems", 0)
    highest = schema.get("maxItems", wanted)
    return max(int(lowest), min(wanted, int(highest)))


def _string(schema: JsonObject, ctx: _Ctx) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt]
    text = (
        ctx.echo if ctx.echo is not None else word_for(ctx.name, ctx.index, ctx.parent, distinct=ctx.listed)
    )
    return _fit(text, schema)


def _fit(text: str, schema: JsonObject) -> str:
    shortest, longest = schema.get("minLength", 0), schema.get("maxLength")
    if len(text) < shortest:
        text = text + "x" * (int(shortest) - len(text))
    return text[: int(longest)] if isinstance(longest, int) else text


def _number(schema: JsonObject, ctx: _Ctx) -> float:
    low, high = _bounds(schema, 0.01)
    value = _between(low, high, _fraction(ctx))
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and step > 0:
        value = _snap(value, float(step), low, high)
    return round(value, 2) if not step else value


def _integer(schema: JsonObject, ctx: _Ctx) -> int:
    low, high = _bounds(schema, 1)
    low = math.ceil(low) if low is not None else None
    high = math.floor(high) if high is not None else None
    value = round(_between(low, high, _fraction(ctx)))
    if ctx.name in ORDINALS:
        value = max(int(low or 0), ctx.index + 1)
    step = schema.get("multipleOf")
    if isinstance(step, int) and step > 0:
        value = int(_snap(value, step, low, high))
    return value


def _bounds(schema: JsonObject, epsilon: float) -> tuple[float | None, float | None]:
    low = _limit(schema, "minimum", "exclusiveMinimum", epsilon)
    high = _limit(schema, "maximum", "exclusiveMaximum", -epsilon)
    return low, high


def _limit(schema: JsonObject, inclusive: str, exclusive: str, epsilon: float) -> float | None:
    if isinstance(schema.get(exclusive), int | float) and not isinstance(schema[exclusive], bool):
        return float(schema[exclusive]) + epsilon
    value = schema.get(inclusive)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _between(low: float | None, high: float | None, fraction: float) -> float:
    if low is not None and high is not None:
        return low + (high - low) * fraction if high >= low else low
    typical = 2 + 4 * fraction
    if low is not None:
        return max(low, typical)
    return min(high, typical) if high is not None else typical


def _snap(value: float, step: float, low: float | None, high: float | None) -> float:
    snapped = math.ceil(value / step) * step
    if high is not None and snapped > high:
        snapped -= step
    return snapped if low is None or snapped >= low else value


def _boolean(schema: JsonObject, ctx: _Ctx) -> bool:
    return _fraction(ctx) < 0.75


def _null(schema: JsonObject, ctx: _Ctx) -> None:
    return None


_GENERATORS: dict[str, Callable[[JsonObject, _Ctx], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": _boolean,
    "null": _null,
}
