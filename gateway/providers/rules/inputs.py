"""Tolerant readers for the loosely typed parts of a request.

`AnalysisRequest.context` is `dict[str, Any]` and `content` is free text, so every reader here
accepts anything and returns a well-typed value or a neutral default: a malformed figure never
raises, it just counts as "not provided".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

Facts = Mapping[str, Any]

NESTED_FACT_KEYS: tuple[str, ...] = ("features", "activity", "metrics")
"""Sub-objects whose keys are merged into the facts (outer keys win)."""

NAME_KEYS: tuple[str, ...] = ("name", "skill", "path", "filename", "developer", "login", "title", "body")


def content_json(content: str) -> dict[str, Any]:
    """The content parsed as a JSON object, or `{}` when it is anything else."""
    text = content.strip()
    if not text.startswith("{"):
        return {}
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _flatten(source: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for key in NESTED_FACT_KEYS:
        nested = source.get(key)
        if isinstance(nested, Mapping):
            merged.update({str(k): v for k, v in nested.items()})
    merged.update({str(k): v for k, v in source.items()})
    return merged


def merge_facts(content: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Context keys over JSON-object content keys, each with its nested feature objects merged in."""
    facts = _flatten(content_json(content))
    facts.update(_flatten(context))
    return facts


def number(value: Any) -> float | None:
    """A finite float from an int, float or numeric string; `None` for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def count(facts: Facts, key: str) -> float | None:
    """A non-negative figure (negative values are clamped to 0)."""
    value = number(facts.get(key))
    return None if value is None else max(value, 0.0)


def share(facts: Facts, key: str) -> float | None:
    """A 0-1 share; values in (1, 100] are read as percentages, anything else is clamped."""
    value = count(facts, key)
    if value is None:
        return None
    if 1.0 < value <= 100.0:
        value /= 100.0
    return clamp(value)


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


def text(value: Any, default: str = "") -> str:
    """A stripped string for str/number values; `default` otherwise."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


def item_name(item: Any) -> str:
    """The name of a list item: the string itself or the first name-like key of a mapping."""
    if isinstance(item, Mapping):
        for key in NAME_KEYS:
            name = text(item.get(key))
            if name:
                return name
        return ""
    return text(item)


def names(value: Any) -> list[str]:
    """Names from a string (comma separated), a list of strings/objects, or a mapping's keys.

    Order is kept (a mapping is ordered by descending numeric value when its values are numbers);
    duplicates (case-insensitive) and blanks are dropped.
    """
    if isinstance(value, str):
        raw: Iterable[Any] = value.split(",")
    elif isinstance(value, Mapping):
        raw = _keys_by_weight(value)
    elif isinstance(value, list | tuple):
        raw = value
    else:
        return []
    return unique(item_name(item) for item in raw)


def _keys_by_weight(mapping: Mapping[Any, Any]) -> list[str]:
    keys = [text(key) for key in mapping]
    weights = [number(v) or 0.0 for v in mapping.values()]
    return [key for _, key in sorted(zip(weights, keys, strict=True), key=lambda pair: -pair[0])]


def unique(values: Iterable[str]) -> list[str]:
    """Non-blank values in first-seen order, without case-insensitive duplicates."""
    seen: set[str] = set()
    result: list[str] = []
    for value in values:
        key = value.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(value.strip())
    return result


def first_text(facts: Facts, keys: Iterable[str], default: str = "") -> str:
    for key in keys:
        value = text(facts.get(key))
        if value:
            return value
    return default


def first_names(facts: Facts, keys: Iterable[str]) -> list[str]:
    for key in keys:
        found = names(facts.get(key))
        if found:
            return found
    return []


def dict_list(value: Any) -> list[Mapping[str, Any]]:
    """The mapping items of a list; anything else gives `[]`."""
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def fmt(value: float | None, digits: int = 2) -> str:
    """A figure for evidence strings: `n/a` when missing."""
    return "n/a" if value is None else f"{value:.{digits}f}"
