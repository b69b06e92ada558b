"""Cyclomatic complexity measured by `lizard`.

Every file lizard can read is measured: for a diff, only its added lines (the leading `+`
stripped, the block dedented), otherwise the whole content. A hotspot is a function whose
cyclomatic complexity (CCN) exceeds `HOTSPOT_CCN`.

The 1-10 complexity score is::

    score = 1 + round(4 * min(avg_ccn / 10, 1)        # typical function
                      + 3 * min(max_ccn / 25, 1)      # the worst function
                      + 1 * hotspots / functions      # share of hotspots
                      + 1 * min(nloc / 400, 1))       # amount of code measured

so a handful of simple functions scores 1-2, an average CCN of 10 with a CCN-25 function scores 8+.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from lizard import analyze_file

from gateway.providers.rules.languages import lizard_extension
from gateway.providers.rules.sources import FileChange, Material, collect
from schemas.request import AnalysisRequest
from schemas.results.code import CodeComplexityResult, ComplexityHotspot

HOTSPOT_CCN = 10
MAX_HOTSPOTS = 10
AVG_CCN_SCALE = 10.0
MAX_CCN_SCALE = 25.0
NLOC_SCALE = 400.0


@dataclass(frozen=True, slots=True)
class FunctionMetric:
    name: str
    location: str
    ccn: int
    nloc: int


@dataclass(frozen=True, slots=True)
class ComplexityReport:
    functions: tuple[FunctionMetric, ...]
    nloc: int
    files: int

    @property
    def average_ccn(self) -> float:
        if not self.functions:
            return 0.0
        return round(sum(f.ccn for f in self.functions) / len(self.functions), 2)

    @property
    def max_ccn(self) -> int:
        return max((f.ccn for f in self.functions), default=0)

    @property
    def hotspots(self) -> tuple[FunctionMetric, ...]:
        hot = [f for f in self.functions if f.ccn > HOTSPOT_CCN]
        return tuple(sorted(hot, key=lambda f: (-f.ccn, f.location)))

    @property
    def worst(self) -> FunctionMetric | None:
        return max(self.functions, key=lambda f: (f.ccn, f.nloc), default=None)


def measure_file(change: FileChange) -> tuple[list[FunctionMetric], int]:
    """The functions of one file and its lines of code; `([], 0)` when lizard cannot read it."""
    extension = lizard_extension(change)
    if extension is None or not change.code.strip():
        return [], 0
    name = change.path or f"snippet.{extension}"
    lizard_name = name if change.path.endswith(f".{extension}") else f"{name}.{extension}"
    try:
        info = analyze_file.analyze_source_code(lizard_name, textwrap.dedent(change.code))
    except Exception:  # lizard's readers are heuristic; unreadable code simply counts as unmeasured
        return [], 0
    return [_metric(change, name, fn) for fn in info.function_list], int(info.nloc)


def _metric(change: FileChange, path: str, fn: object) -> FunctionMetric:
    start = change.file_line(int(getattr(fn, "start_line", 0)))
    end = change.file_line(int(getattr(fn, "end_line", 0)))
    return FunctionMetric(
        name=str(getattr(fn, "name", "?")),
        location=f"{path}:{start}-{end}",
        ccn=max(int(getattr(fn, "cyclomatic_complexity", 1)), 1),
        nloc=int(getattr(fn, "nloc", 0)),
    )


def measure(material: Material) -> ComplexityReport:
    functions: list[FunctionMetric] = []
    nloc = files = 0
    for change in material.code_files:
        found, lines = measure_file(change)
        functions.extend(found)
        nloc += lines
        files += 1 if lines else 0
    return ComplexityReport(functions=tuple(functions), nloc=nloc, files=files)


def complexity_score(report: ComplexityReport) -> int:
    """The documented 1-10 score (see the module docstring)."""
    count = len(report.functions)
    raw = (
        4 * min(report.average_ccn / AVG_CCN_SCALE, 1.0)
        + 3 * min(report.max_ccn / MAX_CCN_SCALE, 1.0)
        + (len(report.hotspots) / count if count else 0.0)
        + min(report.nloc / NLOC_SCALE, 1.0)
    )
    return max(1, min(10, 1 + round(raw)))


def _hotspot(metric: FunctionMetric) -> ComplexityHotspot:
    reason = f"rules (lizard): cyclomatic complexity {metric.ccn} > {HOTSPOT_CCN} over {metric.nloc} lines"
    return ComplexityHotspot(
        name=metric.name, location=metric.location, cyclomatic_complexity=metric.ccn, reason=reason
    )


def summarize(report: ComplexityReport, score: int) -> str:
    if not report.functions:
        return f"rules (lizard): no measurable functions in {report.nloc} lines of code; score {score}/10."
    worst = report.worst
    worst_text = f" ({worst.name} at {worst.location})" if worst else ""
    return (
        f"rules (lizard): {len(report.functions)} functions in {report.files} file(s), "
        f"average CCN {report.average_ccn}, max CCN {report.max_ccn}{worst_text}, "
        f"{len(report.hotspots)} hotspot(s) over CCN {HOTSPOT_CCN}; score {score}/10 = 1 + "
        "4*min(avg/10,1) + 3*min(max/25,1) + hotspot share + min(nloc/400,1)."
    )


def analyze_code_complexity(request: AnalysisRequest) -> CodeComplexityResult:
    report = measure(collect(request.content, request.context))
    score = complexity_score(report)
    return CodeComplexityResult(
        complexity_score=score,
        average_cyclomatic_complexity=report.average_ccn,
        max_cyclomatic_complexity=report.max_ccn,
        function_count=len(report.functions),
        hotspots=[_hotspot(m) for m in report.hotspots[:MAX_HOTSPOTS]],
        summary=summarize(report, score),
    )
