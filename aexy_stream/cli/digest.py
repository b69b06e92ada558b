"""One readable line per Kafka record: results by their key fields, dead letters by their reason.

Shared by `aexy-stream demo` (its table and plain lines) and `aexy-stream tail`. A result is read
from its JSON envelope (the `analysis.results` contract), so any producer's results are shown the
same way; a value that is not an envelope is shown as key, headers and a value preview instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from consumers import headers as h

KEY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "code_quality": ("quality_score", "readability", "maintainability", "issues"),
    "code_complexity": ("complexity_score", "max_cyclomatic_complexity", "function_count", "hotspots"),
    "skill_extraction": ("language", "frameworks", "complexity"),
    "developer_profile": ("seniority_estimate", "primary_languages", "frameworks"),
    "soft_skills": ("tone", "communication", "collaboration", "constructiveness"),
    "growth_trajectory": ("trajectory", "growth_score", "new_skills"),
    "task_signals": ("task_type", "estimated_complexity", "estimated_effort_hours", "risk_level"),
    "task_matching": ("recommended_developer", "confidence", "matches"),
    "attrition_risk": ("risk_level", "risk_score", "factors"),
    "burnout_risk": ("risk_level", "risk_score", "warning_signs"),
    "performance_trajectory": ("trajectory", "score", "velocity_change_pct"),
    "team_health": ("health_level", "health_score", "bus_factor"),
    "learning_path": ("goal", "total_hours", "steps"),
    "job_description": ("title", "seniority", "required_skills"),
    "interview_rubric": ("role", "competencies"),
}
"""The fields of each result type worth one glance (the whole result is on the topic)."""

LIST_ITEMS = 3
TEXT_CHARS = 40
PREVIEW_CHARS = 160


@dataclass(frozen=True, slots=True)
class Row:
    """One record as the demo's table and `tail` show it."""

    subject: str
    kind: str
    """The analysis type, or `dead letter`."""
    digest: str
    provider: str = "-"
    cache_hit: bool | None = None
    latency_ms: float | None = None

    @property
    def cache(self) -> str:
        return {True: "hit", False: "miss", None: "-"}[self.cache_hit]

    @property
    def latency(self) -> str:
        return "-" if self.latency_ms is None else f"{self.latency_ms:.0f} ms"

    def line(self) -> str:
        return (
            f"{self.subject} | {self.kind} | {self.digest} | {self.provider} | "
            f"cache {self.cache} | {self.latency}"
        )


def result_row(value: bytes | None) -> Row | None:
    """The row of a result envelope; None when `value` is not one."""
    envelope = _json_object(value)
    if envelope is None or not isinstance(envelope.get("result"), dict) or "analysis_type" not in envelope:
        return None
    kind = str(envelope["analysis_type"])
    return Row(
        subject=str(envelope.get("subject") or "-"),
        kind=kind,
        digest=digest(kind, envelope["result"]),
        provider=str(envelope.get("provider") or "-"),
        cache_hit=bool(envelope.get("cache_hit")),
        latency_ms=_number(envelope.get("latency_ms")),
    )


def dead_letter_row(record: Any) -> Row:
    """A dead letter: its key as the subject, the analysis or error type, and the reason."""
    meta = h.as_dict(record.headers or ())
    kind = meta.get(h.ANALYSIS_TYPE) or meta.get(h.ERROR_TYPE) or "?"
    return Row(
        subject=_text(record.key) or "-",
        kind="dead letter",
        digest=f"{kind}: {meta.get(h.DLQ_REASON, 'no reason given')}",
    )


def digest(kind: str, result: Mapping[str, Any]) -> str:
    """`field value, ...` over the type's key fields (unknown types: the first few fields)."""
    names = KEY_FIELDS.get(kind) or tuple(result)[:LIST_ITEMS]
    return ", ".join(f"{name} {_brief(result[name])}" for name in names if name in result)


def record_line(record: Any) -> str:
    """Any record: where it is, its key and headers, and the start of its value on one line."""
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    parts = [f"key={_text(record.key) or '-'}", *(f"{k}={_text(v)}" for k, v in record.headers or ())]
    return " ".join([where, *parts, f"value={_preview(record.value)}"])


def _brief(value: Any) -> str:
    if isinstance(value, list):
        return _items(value)
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return _short(str(value))


def _items(values: Sequence[Any]) -> str:
    if not values:
        return "none"
    if not all(isinstance(v, str) for v in values):
        return f"x{len(values)}"  # e.g. `issues x3`
    more = f" +{len(values) - LIST_ITEMS}" if len(values) > LIST_ITEMS else ""
    return "/".join(_short(v) for v in values[:LIST_ITEMS]) + more


def _short(text: str) -> str:
    flat = " ".join(text.split()) or "-"
    return flat if len(flat) <= TEXT_CHARS else flat[: TEXT_CHARS - 1] + "…"


def _preview(value: bytes | None) -> str:
    text = " ".join(_text(value).split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _text(value: bytes | None) -> str:
    return (value or b"").decode("utf-8", errors="replace")


def _json_object(value: bytes | None) -> dict[str, Any] | None:
    try:
        decoded = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
