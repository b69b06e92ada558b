"""Code quality from documented indicators.

Issues (one per rule and file for line rules, one per function for function rules):

* line rules (`LINE_RULES`): hard-coded secrets (keyword = long literal, AWS keys, GitHub tokens,
  private-key blocks, and the gateway's `[REDACTED:<kind>]` markers where it removed one) -> high
  security; `eval(` -> medium security; bare `except:` -> medium
  correctness; TODO/FIXME/XXX/HACK -> low maintainability; debugger statements -> low readability;
  lines over `LONG_LINE` characters -> low readability;
* function rules (lizard): more than `LONG_FUNCTION` lines -> medium (twice that: high)
  maintainability; CCN over `HIGH_CCN` -> medium (twice that: high) maintainability;
* nesting: indentation deeper than `DEEP_NESTING` levels -> medium readability;
* change rules: at least `TESTS_EXPECTED_AFTER` added lines of code and no test file -> medium testing.
  For a part of a commit (`Material.commit`) this is a verdict on the commit, given once, on its
  first part: the commit's added lines of code (`code_additions`) and its `tests_changed`.

Scores (1-10): readability and maintainability start at `BASE_SCORE`, testability at
`BASE_TESTABILITY` (+3 when the change includes tests); each issue subtracts its severity penalty
(low 1, medium 2, high 3) from the dimension of its category (readability; maintainability for
maintainability/correctness/performance; testability for testing), each strength adds 1 to its
dimension. quality_score = round(mean of the three) minus the penalties of security issues.
Without any code every score is a neutral 5.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from statistics import mean
from typing import Literal

from gateway.providers.rules.complexity import ComplexityReport, FunctionMetric, measure
from gateway.providers.rules.languages import NON_CODE, file_language
from gateway.providers.rules.sources import Commit, FileChange, Material, collect
from schemas.request import AnalysisRequest
from schemas.results.base import Severity
from schemas.results.code import CodeQualityResult, QualityIssue

IssueCategory = Literal["correctness", "security", "performance", "readability", "maintainability", "testing"]

LONG_LINE = 120
LONG_FUNCTION = 60
HIGH_CCN = 10
DEEP_NESTING = 5
TESTS_EXPECTED_AFTER = 20
BASE_SCORE = 8
BASE_TESTABILITY = 6
NEUTRAL_SCORE = 5
MAX_ISSUES = 25
SMALL_FUNCTION_NLOC = 20
LOW_AVERAGE_CCN = 5.0
COMMENT_SHARE = 0.10

PENALTY: Mapping[Severity, int] = {"low": 1, "medium": 2, "high": 3}
DIMENSION: Mapping[str, str] = {
    "readability": "readability",
    "maintainability": "maintainability",
    "correctness": "maintainability",
    "performance": "maintainability",
    "testing": "testability",
    "security": "quality",
}


@dataclass(frozen=True, slots=True)
class LineRule:
    pattern: re.Pattern[str]
    severity: Severity
    category: IssueCategory
    description: str
    suggestion: str


def _rule(
    pattern: str, severity: Severity, category: IssueCategory, description: str, suggestion: str
) -> LineRule:
    return LineRule(re.compile(pattern), severity, category, description, suggestion)


LINE_RULES: tuple[LineRule, ...] = (
    _rule(
        r"""(?i)\b(api[_-]?key|secret|passw(?:or)?d|token|private[_-]?key)\w*\s*[:=]\s*['"][^'"\s]{8,}['"]""",
        "high",
        "security",
        "possible hard-coded secret",
        "Move secrets to a secret store or environment.",
    ),
    _rule(
        r"\bAKIA[0-9A-Z]{16}\b",
        "high",
        "security",
        "AWS access key id in code",
        "Revoke the key and load credentials from the environment.",
    ),
    _rule(
        r"\bgh[pousr]_[A-Za-z0-9]{36}\b",
        "high",
        "security",
        "GitHub token in code",
        "Revoke the token and load it from a secret store.",
    ),
    _rule(
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----",
        "high",
        "security",
        "private key block in code",
        "Remove the key from the repository and rotate it.",
    ),
    _rule(
        r"\[REDACTED:\w+\]",
        "high",
        "security",
        "secret in code (redacted before analysis)",
        "Revoke the secret and load it from a secret store or the environment.",
    ),
    _rule(
        r"(?<![\w.])eval\(",
        "medium",
        "security",
        "dynamic code evaluation (eval)",
        "Replace eval with explicit parsing or dispatch.",
    ),
    _rule(
        r"^\s*except\s*:",
        "medium",
        "correctness",
        "bare except swallows every error",
        "Catch the specific exceptions you expect.",
    ),
    _rule(
        r"\b(?:TODO|FIXME|XXX|HACK)\b",
        "low",
        "maintainability",
        "unresolved TODO/FIXME marker",
        "Resolve TODO/FIXME markers or track them as issues.",
    ),
    _rule(
        r"\bdebugger;|\bpdb\.set_trace\(|^\s*breakpoint\(\)|\bconsole\.log\(",
        "low",
        "readability",
        "debugging statement left in code",
        "Remove debugging statements or use the logger.",
    ),
    _rule(
        rf"^.{{{LONG_LINE + 1},}}$",
        "low",
        "readability",
        f"lines longer than {LONG_LINE} characters",
        f"Wrap lines at {LONG_LINE} characters or less.",
    ),
)

SUGGESTIONS: Mapping[str, str] = {
    "long_function": "Split long functions into smaller, named steps.",
    "high_ccn": "Reduce branching: early returns, lookup tables, smaller functions.",
    "nesting": "Flatten deep nesting with guard clauses or helper functions.",
    "tests": "Add or update tests alongside the code change.",
}

COMMENT_LINE = re.compile(r'^\s*(#|//|/\*|\*|"""|\'\'\'|--)')
TYPE_HINTS = re.compile(r"\)\s*->\s*[\w\[]|\w:\s*(?:str|int|float|bool|string|number|boolean)\b")


@dataclass(frozen=True, slots=True)
class Finding:
    issue: QualityIssue
    suggestion: str


def _location(change: FileChange, index: int) -> str:
    return f"{change.path or 'snippet'}:{change.file_line(index)}"


def _line_findings(change: FileChange) -> Iterator[Finding]:
    for rule in LINE_RULES:
        hits = [i for i, line in enumerate(change.added, 1) if rule.pattern.search(line)]
        if hits:
            description = f"rules: {rule.description} ({len(hits)} line(s))"
            issue = QualityIssue(
                severity=rule.severity,
                category=rule.category,
                description=description,
                location=_location(change, hits[0]),
            )
            yield Finding(issue, rule.suggestion)


def _scaled(value: float, limit: float) -> Severity:
    return "high" if value > 2 * limit else "medium"


def _function_findings(metric: FunctionMetric) -> Iterator[Finding]:
    if metric.nloc > LONG_FUNCTION:
        text = f"rules: function {metric.name} has {metric.nloc} lines (> {LONG_FUNCTION})"
        issue = QualityIssue(
            severity=_scaled(metric.nloc, LONG_FUNCTION),
            category="maintainability",
            description=text,
            location=metric.location,
        )
        yield Finding(issue, SUGGESTIONS["long_function"])
    if metric.ccn > HIGH_CCN:
        text = f"rules: function {metric.name} has cyclomatic complexity {metric.ccn} (> {HIGH_CCN})"
        issue = QualityIssue(
            severity=_scaled(metric.ccn, HIGH_CCN),
            category="maintainability",
            description=text,
            location=metric.location,
        )
        yield Finding(issue, SUGGESTIONS["high_ccn"])


def nesting_depth(change: FileChange) -> tuple[int, int]:
    """(deepest indentation level, its 1-based line in `code`).

    The indentation unit is the smallest step between distinct indentation widths (at least 2),
    so both 2- and 4-space styles and tab-indented code (tab = 4) are read correctly.
    """
    rows = [(i, _indent(line)) for i, line in enumerate(change.added, 1) if line.strip()]
    if not rows:
        return 0, 1
    widths = sorted({0} | {width for _, width in rows})
    unit = max(min((b - a for a, b in itertools.pairwise(widths)), default=4), 2)
    line, width = max(rows, key=lambda row: (row[1], -row[0]))
    return width // unit, line


def _indent(line: str) -> int:
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def _nesting_finding(change: FileChange) -> Iterator[Finding]:
    depth, line = nesting_depth(change)
    if depth >= DEEP_NESTING:
        issue = QualityIssue(
            severity="medium",
            category="readability",
            location=_location(change, line),
            description=f"rules: indentation {depth} levels deep (>= {DEEP_NESTING})",
        )
        yield Finding(issue, SUGGESTIONS["nesting"])


def is_source(change: FileChange) -> bool:
    language = file_language(change)
    return bool(change.added) and language is not None and language not in NON_CODE


def _tests_finding(material: Material) -> Iterator[Finding]:
    source = [f for f in material.code_files if is_source(f) and not f.is_test]
    if material.commit is not None:
        yield from _commit_tests_finding(material.commit, source)
        return
    added = sum(len(f.added) for f in source)
    has_tests = any(f.is_test for f in material.files)
    if material.is_diff and added >= TESTS_EXPECTED_AFTER and not has_tests:
        yield _no_tests(added, source[0].path or "change", "change")


def _commit_tests_finding(commit: Commit, source: list[FileChange]) -> Iterator[Finding]:
    """The verdict on the whole commit, on its first part only."""
    if commit.part == 1 and commit.code_additions >= TESTS_EXPECTED_AFTER and not commit.tests_changed:
        location = source[0].path if source else "commit"
        yield _no_tests(commit.code_additions, location, "commit")


def _no_tests(added: int, location: str, scope: str) -> Finding:
    issue = QualityIssue(
        severity="medium",
        category="testing",
        location=location,
        description=f"rules: {added} added lines of code and no test file in the {scope}",
    )
    return Finding(issue, SUGGESTIONS["tests"])


def findings(material: Material, report: ComplexityReport) -> list[Finding]:
    found: list[Finding] = []
    for change in material.code_files:
        found.extend(_line_findings(change))
        found.extend(_nesting_finding(change) if is_source(change) else ())
    for metric in report.functions:
        found.extend(_function_findings(metric))
    found.extend(_tests_finding(material))
    return found[:MAX_ISSUES]


def _source_lines(material: Material) -> list[str]:
    return [line for f in material.code_files if is_source(f) for line in f.added if line.strip()]


def _tests_strength(material: Material, _: ComplexityReport) -> str | None:
    tests = sum(1 for f in material.files if f.is_test)
    if tests:
        return f"rules: the change includes {tests} test file(s)"
    if material.commit is not None and material.commit.tests_changed:
        return "rules: the commit changes tests too"
    return None


def _comments_strength(material: Material, _: ComplexityReport) -> str | None:
    lines = _source_lines(material)
    comments = sum(1 for line in lines if COMMENT_LINE.match(line))
    if not lines or comments / len(lines) < COMMENT_SHARE:
        return None
    return f"rules: documented code ({comments} of {len(lines)} lines are comments/docstrings)"


def _complexity_strength(_: Material, report: ComplexityReport) -> str | None:
    if not report.functions or report.average_ccn > LOW_AVERAGE_CCN:
        return None
    return f"rules: low complexity (average CCN {report.average_ccn})"


def _typing_strength(material: Material, _: ComplexityReport) -> str | None:
    typed = any(TYPE_HINTS.search(line) for line in _source_lines(material))
    return "rules: type annotations in use" if typed else None


STRENGTHS: Mapping[str, Callable[[Material, ComplexityReport], str | None]] = {
    "testability": _tests_strength,
    "readability": _comments_strength,
    "maintainability": _complexity_strength,
    "typing": _typing_strength,
}
"""Strength checks, keyed by the score they raise (`typing` raises maintainability)."""


def strengths(material: Material, report: ComplexityReport) -> dict[str, str]:
    """Strength text per key of `STRENGTHS`, for the checks that pass."""
    found = {key: check(material, report) for key, check in STRENGTHS.items()}
    return {key: text for key, text in found.items() if text}


def _dimension_score(base: int, dimension: str, issues: list[QualityIssue], bonus: int) -> int:
    penalty = sum(PENALTY[i.severity] for i in issues if DIMENSION[i.category] == dimension)
    return max(1, min(10, base + bonus - penalty))


def scores(issues: list[QualityIssue], strong: Mapping[str, str]) -> tuple[int, int, int, int]:
    """(quality, readability, maintainability, testability), per the module docstring."""
    test_bonus = 3 if "testability" in strong else 0
    readability = _dimension_score(BASE_SCORE, "readability", issues, int("readability" in strong))
    maintainability = _dimension_score(
        BASE_SCORE, "maintainability", issues, int("maintainability" in strong) + int("typing" in strong)
    )
    testability = _dimension_score(BASE_TESTABILITY, "testability", issues, test_bonus)
    quality = round(mean((readability, maintainability, testability)))
    return _dimension_score(quality, "quality", issues, 0), readability, maintainability, testability


def _empty_quality() -> CodeQualityResult:
    return CodeQualityResult(
        quality_score=NEUTRAL_SCORE,
        readability=NEUTRAL_SCORE,
        maintainability=NEUTRAL_SCORE,
        testability=NEUTRAL_SCORE,
        issues=[],
        strengths=[],
        suggestions=["rules: no source code found in the content; send a diff or a file to assess."],
    )


def analyze_code_quality(request: AnalysisRequest) -> CodeQualityResult:
    material = collect(request.content, request.context)
    if not any(is_source(f) for f in material.code_files):
        return _empty_quality()
    report = measure(material)
    found = findings(material, report)
    strong = strengths(material, report)
    issues = [f.issue for f in found]
    quality, readability, maintainability, testability = scores(issues, strong)
    suggestions = list(dict.fromkeys(f"rules: {f.suggestion}" for f in found))
    return CodeQualityResult(
        quality_score=quality,
        readability=readability,
        maintainability=maintainability,
        testability=testability,
        issues=issues,
        strengths=sorted(strong.values()),
        suggestions=suggestions
        or ["rules: no issue found by the rule set; keep the change small and tested."],
    )
