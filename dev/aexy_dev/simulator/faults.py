"""What goes wrong, and when: the test script, persistent rules and seeded random faults.

A script step or rule is JSON: `{"kind": ..., "retry_after": 2.5?, "delay_ms": 100?, "headers": {..}?,
"match": "substring"?, "part": "skill_extraction"?}`. A step applies once, to the first request
whose prompt contains `match` (or whose schema title equals it) and whose schema has the property
`part`; a rule applies to every matching request until cleared.
The kinds `expired` and `canceled` apply to requests inside a Message Batch only (their result
type); direct requests pass them by. `invalid_part` breaks one part of a fused answer (the part named
by `part`, else the first) and leaves the others valid; on any other schema it is `invalid_output`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, get_args

from aexy_dev.simulator.call import Call

FaultKind = Literal[
    "ok",
    "rate_limit",
    "spend_limit",
    "overloaded",
    "server_error",
    "unavailable",
    "auth",
    "bad_request",
    "not_found",
    "invalid_output",
    "invalid_part",
    "injection_echo",
    "expired",
    "canceled",
]
KINDS: frozenset[str] = frozenset(get_args(FaultKind))
ANSWER_KINDS: frozenset[str] = frozenset({"ok", "invalid_output", "invalid_part", "injection_echo"})
BATCH_ONLY_KINDS: frozenset[str] = frozenset({"expired", "canceled"})
RANDOM_KINDS: tuple[FaultKind, ...] = ("rate_limit", "overloaded", "server_error")
NO_HEADERS: Mapping[str, str] = MappingProxyType({})


def no_headers() -> Mapping[str, str]:
    return NO_HEADERS


@dataclass(frozen=True, slots=True)
class Step:
    """One scripted behaviour; also the shape of a persistent rule."""

    kind: FaultKind
    retry_after: float | None = None
    delay_ms: float | None = None
    headers: Mapping[str, str] = field(default_factory=no_headers)
    match: str | None = None
    part: str | None = None

    def applies_to(self, call: Call, title: str, batched: bool = False) -> bool:
        return (
            (batched or self.kind not in BATCH_ONLY_KINDS)
            and call.matches(self.match, title)
            and (self.part is None or self.part in _properties(call))
        )

    def as_json(self) -> dict[str, Any]:
        fields = {"kind": self.kind, "retry_after": self.retry_after, "delay_ms": self.delay_ms}
        extra = {"headers": dict(self.headers), "match": self.match, "part": self.part}
        return {key: value for key, value in {**fields, **extra}.items() if value not in (None, {})}


def _properties(call: Call) -> dict[str, Any]:
    properties = call.schema.get("properties") if call.schema is not None else None
    return properties if isinstance(properties, dict) else {}


def parse_steps(body: object, key: str) -> list[Step]:
    """The steps of `{"<key>": [step, ...]}`; ValueError with a readable message when malformed."""
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ValueError(f'body must be {{"{key}": [...]}}')
    return [parse_step(item) for item in items]


def parse_step(item: object) -> Step:
    if not isinstance(item, dict):
        raise ValueError("each step must be an object")
    kind = item.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    return Step(
        kind=kind,
        retry_after=_number(item, "retry_after"),
        delay_ms=_number(item, "delay_ms"),
        headers=_headers(item.get("headers")),
        match=_match(item.get("match")),
        part=_part(item.get("part")),
    )


def _number(item: dict[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{key} must be a number >= 0")
    return float(value)


def _headers(value: object) -> Mapping[str, str]:
    if value is None:
        return NO_HEADERS
    if not isinstance(value, dict):
        raise ValueError("headers must be an object of header names to values")
    return MappingProxyType({str(name): str(text) for name, text in value.items()})


def _part(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("part must be a string (an analysis type of the fused schema)")
    return value or None


def _match(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("match must be a string")
    return value or None


class FaultPlan:
    """Decides each request's fault: first a script step, then a rule, then the random error rate."""

    def __init__(self, error_rate: float, seed: int) -> None:
        self.error_rate = error_rate
        self._random = random.Random(seed)
        self._script: deque[Step] = deque()
        self._rules: list[Step] = []

    def add_script(self, steps: list[Step]) -> None:
        self._script.extend(steps)

    def add_rules(self, rules: list[Step]) -> None:
        self._rules.extend(rules)

    def clear_script(self) -> None:
        self._script.clear()

    def clear_rules(self) -> None:
        self._rules.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [step.as_json() for step in self._script]

    def rules(self) -> list[dict[str, Any]]:
        return [rule.as_json() for rule in self._rules]

    def next_step(self, call: Call, title: str, *, batched: bool = False) -> Step | None:
        """The step this request gets, consuming a script step; None means a normal answer."""
        step = self._take_scripted(call, title, batched) if self._script else None
        if step is None and self._rules:
            step = next((rule for rule in self._rules if rule.applies_to(call, title, batched)), None)
        return step if step is not None else self._random_step()

    def _take_scripted(self, call: Call, title: str, batched: bool) -> Step | None:
        for step in self._script:
            if step.applies_to(call, title, batched):
                self._script.remove(step)
                return step
        return None

    def _random_step(self) -> Step | None:
        if self.error_rate <= 0 or self._random.random() >= self.error_rate:
            return None
        return Step(kind=self._random.choice(RANDOM_KINDS))
