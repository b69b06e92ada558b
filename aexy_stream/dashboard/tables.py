"""The rows of the page's tables, made once here: the page shows them and `export.csv` writes them.

Team: one row per repository with a team-health result. People: one row per developer (a subject of
any developer analysis). Feed: the newest results, filtered as the page filters them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aexy_stream.dashboard.records import Result
from aexy_stream.dashboard.view import View
from consumers.activity.identity import is_pseudonym
from consumers.identity.resolver import DEVELOPER_SUBJECTS
from schemas.types import AnalysisType

Row = dict[str, Any]


def team_row(view: View, repository: str) -> Row | None:
    health = view.result_fields(repository, AnalysisType.TEAM_HEALTH)
    if health is None:
        return None
    trend = [
        p.value for p in view.history.get((repository, AnalysisType.TEAM_HEALTH), ()) if p.value is not None
    ]
    return {
        "repository": repository,
        "pseudonym": is_pseudonym(repository.partition("/")[0]),
        "level": health["health_level"],
        "score": health["health_score"],
        "bus_factor": health["bus_factor"],
        "workload_balance": health["workload_balance"],
        "collaboration": health["collaboration_score"],
        "risks": health["risks"],
        "recommendations": health["recommendations"],
        "trend": trend,
        "change": trend[-1] - trend[-2] if len(trend) > 1 else None,
        "at": _at(view.of(repository, AnalysisType.TEAM_HEALTH)),
    }


def team_rows(view: View) -> list[Row]:
    rows = (team_row(view, repo) for repo in view.subjects(frozenset({AnalysisType.TEAM_HEALTH})))
    return [row for row in rows if row is not None]


def person_row(view: View, subject: str) -> Row:
    row: Row = {
        "subject": subject,
        "pseudonym": is_pseudonym(subject),
        "repositories": sorted(view.repositories.get(subject, ())),
        "performance": _risk(view, subject, AnalysisType.PERFORMANCE_TRAJECTORY),
        "last_activity": view.last_at(subject),
    }
    if not view.limits.hide_risks:
        row["attrition"] = _risk(view, subject, AnalysisType.ATTRITION_RISK)
        row["burnout"] = _risk(view, subject, AnalysisType.BURNOUT_RISK)
    return row


def people_rows(view: View) -> list[Row]:
    return [person_row(view, subject) for subject in view.subjects(DEVELOPER_SUBJECTS)]


def is_person(subject: str, view: View) -> bool:
    return bool(view.kinds.get(subject, set()) & DEVELOPER_SUBJECTS)


def _risk(view: View, subject: str, kind: AnalysisType) -> Row | None:
    found = view.of(subject, kind)
    if found is None:
        return None
    fields = found.result
    return {
        "level": fields.get("risk_level") or fields.get("trajectory"),
        "score": fields.get("risk_score", fields.get("score")),
        "factors": fields["factors"],
        "recommendations": fields["recommendations"],
        **({"warning_signs": fields["warning_signs"]} if "warning_signs" in fields else {}),
        "unobserved": fields.get("unobserved", []),
        "at": found.at,
        "trend": [p.value for p in view.history.get((subject, kind), ())],
    }


def _at(result: Result | None) -> float | None:
    return None if result is None else result.at


# -- sorting ---------------------------------------------------------------------------------------------


def _score(name: str) -> Callable[[Row], Any]:
    return lambda row: (row.get(name) or {}).get("score")


PEOPLE_SORTS: Mapping[str, Callable[[Row], Any]] = {
    "subject": lambda row: row["subject"],
    "attrition": _score("attrition"),
    "burnout": _score("burnout"),
    "performance": _score("performance"),
    "last_activity": lambda row: row["last_activity"],
}
TEAM_SORTS: Mapping[str, Callable[[Row], Any]] = {
    "repository": lambda row: row["repository"],
    "score": lambda row: row["score"],
    "bus_factor": lambda row: row["bus_factor"],
    "workload_balance": lambda row: row["workload_balance"],
}


def sorted_rows(rows: list[Row], sorts: Mapping[str, Callable[[Row], Any]], spec: str) -> list[Row]:
    """`spec` is `column` (ascending) or `-column` (descending), as the page writes it in its URL;
    rows without a value go last either way, and ties keep their order (by name)."""
    column = spec.removeprefix("-")
    value = sorts.get(column)
    if value is None:
        return rows
    present = [row for row in rows if value(row) is not None]
    missing = [row for row in rows if value(row) is None]
    return sorted(present, key=value, reverse=spec.startswith("-")) + missing


# -- the feed's filters -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """The live feed's filters, as the page keeps them in its URL; empty means any."""

    type: str = ""
    subject: str = ""
    repository: str = ""
    level: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        return cls(*(query.get(name, "").strip() for name in ("type", "subject", "repository", "level")))

    def match(self, view: View, result: Result) -> bool:
        if self.type and result.kind.value != self.type:
            return False
        if self.subject and self.subject.lower() not in view.canonical(result.subject).lower():
            return False
        if self.repository and self.repository not in view.repositories_of(result):
            return False
        return not self.level or result.level == self.level


def feed(view: View, filters: Filters) -> list[Result]:
    """Newest first."""
    return [result for result in reversed(view.feed) if filters.match(view, result)]


# -- CSV ----------------------------------------------------------------------------------------------


def people_csv(rows: Iterable[Row], hide_risks: bool) -> str:
    risks = () if hide_risks else ("attrition", "burnout")
    header = ["subject", "pseudonym"]
    for name in (*risks, "performance"):
        header += [f"{name}_level", f"{name}_score", f"{name}_top_factor"]
    header += ["last_activity", "repositories"]
    lines = [header]
    for row in rows:
        line = [row["subject"], _yes(row["pseudonym"])]
        for name in (*risks, "performance"):
            line += _risk_cells(row.get(name))
        line += [_time(row["last_activity"]), " ".join(row["repositories"])]
        lines.append(line)
    return _csv(lines)


def teams_csv(rows: Iterable[Row]) -> str:
    header = [
        "repository",
        "level",
        "score",
        "bus_factor",
        "workload_balance",
        "collaboration",
        "top_risk",
        "at",
    ]
    lines: list[list[Any]] = [header]
    for row in rows:
        top = max(row["risks"], key=lambda risk: risk["weight"], default=None)
        lines.append(
            [
                row["repository"],
                row["level"],
                row["score"],
                row["bus_factor"],
                row["workload_balance"],
                row["collaboration"],
                "" if top is None else top["factor"],
                _time(row["at"]),
            ]
        )
    return _csv(lines)


def feed_csv(view: View, results: Iterable[Result]) -> str:
    lines: list[list[Any]] = [
        ["created_at", "subject", "analysis_type", "level", "headline", "partition", "offset"]
    ]
    for result in results:
        headline = result.headline
        lines.append(
            [
                _time(result.at),
                view.canonical(result.subject),
                result.kind.value,
                result.level or "",
                "" if headline is None else headline,
                result.place.partition,
                result.place.offset,
            ]
        )
    return _csv(lines)


def _risk_cells(risk: Row | None) -> list[Any]:
    if risk is None:
        return ["", "", ""]
    top = max(risk["factors"], key=lambda factor: factor["weight"], default=None)
    return [risk["level"], risk["score"], "" if top is None else top["factor"]]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _time(at: float | None) -> str:
    return "" if at is None else datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


def _csv(lines: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[_cell(value) for value in line] for line in lines])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection): texts starting with
    = + - @ or a tab/CR get a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
