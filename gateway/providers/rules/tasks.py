"""Task signals from issue/PR text, and matching developers to a task by skill overlap.

Task type: the keyword groups of `TASK_KEYWORDS` are counted in the title/body/description/labels
of the context and in the content (for a diff, in its file paths instead of its code: test files
count for `test`, docs for `docs`, CI/containers/IaC for `infra`). The type with most hits wins,
ties broken by table order (security first); no hit at all gives `feature`.

Size and complexity: changed lines (diff, context `files`, or context `additions` + `deletions`)
-> complexity = 1 + number of `SIZE_STEPS` exceeded; without a size, 2 + min(words / 100, 3).
Effort hours come from `EFFORT_HOURS`. Risk: high for security work, complexity >= 8, or sensitive
areas (auth, payments, migrations, ...) at complexity >= 5; medium for complexity >= 5 or sensitive
areas; else low.

Matching: required skills come from context `required_skills` (else `skills`), else from the task
signals of the content. Candidates are context `candidates` (or `developers`): a list of
`{developer|name|login, skills, languages, frameworks}` or a `{developer: [skills]}` mapping.
score = matched required skills / required skills (names compared case-insensitively, with
`SKILL_ALIASES`); ranking by score, then name. confidence = min(0.9, 0.2 + 0.5 * top score
+ 0.2 * (top - second score)), 0 without candidates; `recommended_developer` is empty when nobody
matches a single required skill.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.providers.rules.frameworks import detect
from gateway.providers.rules.inputs import (
    content_json,
    count,
    dict_list,
    first_names,
    item_name,
    merge_facts,
    names,
    text,
    unique,
)
from gateway.providers.rules.languages import NON_CODE, ranked_languages
from gateway.providers.rules.sources import Material, collect
from schemas.request import AnalysisRequest
from schemas.results.base import Severity
from schemas.results.tasks import TaskMatch, TaskMatchingResult, TaskSignalsResult

TaskType = Literal["feature", "bugfix", "refactor", "docs", "test", "chore", "infra", "security"]

TASK_KEYWORDS: Mapping[TaskType, str] = {
    "security": r"security|vulnerab\w*|cve-\d+|xss|csrf|injection|exploit|auth bypass|privilege",
    "bugfix": r"bug|fix(?:es|ed)?|crash\w*|error|regression|broken|exception|fails?|failing|incorrect|hotfix",
    "infra": r"ci|cd|pipeline|docker\w*|kubernetes|k8s|helm|terraform|deploy\w*|infra\w*|github actions",
    "test": r"tests?|testing|coverage|flaky|unit test|e2e",
    "docs": r"docs?|documentation|readme|typo|docstrings?|changelog",
    "refactor": r"refactor\w*|clean ?up|rename|restructur\w*|simplif\w*|tech debt|extract",
    "chore": r"chore|bump|upgrade|dependenc\w*|lint\w*|format\w*|version",
    "feature": r"add|adds|implement\w*|feature|support|introduce\w*|new|enable|allow",
}
_KEYWORDS: Mapping[TaskType, re.Pattern[str]] = {
    kind: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE) for kind, pattern in TASK_KEYWORDS.items()
}
INFRA_PATH = re.compile(
    r"(^|/)\.github/|(^|/)dockerfile|\.tf$|(^|/)(helm|k8s|deploy|charts)/|\.gitlab-ci", re.I
)
SENSITIVE = re.compile(
    r"\b(auth\w*|login|password|payments?|billing|migrations?|crypto\w*|permissions?)\b", re.I
)
BLOCKER = re.compile(
    r"\b(?:blocked (?:by|on)|depends on|dependent on|waiting (?:for|on)|needs .{1,40} first)\b[^.\n]*", re.I
)

SIZE_STEPS: tuple[int, ...] = (10, 30, 80, 150, 300, 500, 800, 1200, 2000)
EFFORT_HOURS: Mapping[int, float] = {1: 0.5, 2: 1, 3: 2, 4: 4, 5: 8, 6: 12, 7: 20, 8: 32, 9: 48, 10: 80}
TEXT_KEYS: tuple[str, ...] = ("title", "body", "description", "summary")
SKILL_KEYWORDS: Mapping[str, str] = {
    "SQL": r"sql|database|migrations?|postgres\w*|mysql",
    "Docker": r"docker\w*|containers?",
    "Kubernetes": r"kubernetes|k8s|helm",
    "Terraform": r"terraform",
    "AWS": r"aws|s3|lambda|dynamodb",
    "API design": r"api|endpoints?|rest",
    "GraphQL": r"graphql",
    "Redis": r"redis",
    "Kafka": r"kafka",
    "CSS": r"css|styling|layout",
    "Performance tuning": r"performance|latency|slow|throughput",
    "Security": r"security|auth\w*|oauth|jwt|xss|csrf",
}
_SKILL_KEYWORDS: Mapping[str, re.Pattern[str]] = {
    skill: re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE) for skill, pattern in SKILL_KEYWORDS.items()
}
SKILL_ALIASES: Mapping[str, str] = {
    "js": "javascript", "ts": "typescript", "golang": "go", "py": "python", "postgres": "postgresql",
    "k8s": "kubernetes", "node": "node.js", "nodejs": "node.js", "reactjs": "react", "react.js": "react",
    "vuejs": "vue", "vue.js": "vue", "c sharp": "c#", "csharp": "c#", "cpp": "c++",
}  # fmt: skip
MAX_BLOCKERS = 5


def task_text(facts: Mapping[str, Any], material: Material, content: str) -> str:
    parts = [text(facts.get(key)) for key in TEXT_KEYS] + names(facts.get("labels"))
    if material.is_diff:
        parts += [f.path for f in material.files]
    elif not content_json(content):
        parts.append(content)
    return "\n".join(p for p in parts if p)


def keyword_hits(body: str, material: Material) -> dict[TaskType, int]:
    hits: dict[TaskType, int] = {kind: len(rx.findall(body)) for kind, rx in _KEYWORDS.items()}
    if material.is_diff:
        hits["test"] += sum(f.is_test for f in material.files)
        hits["docs"] += sum(f.is_doc for f in material.files)
        hits["infra"] += sum(bool(INFRA_PATH.search(f.path)) for f in material.files)
    return hits


def task_type(hits: Mapping[TaskType, int]) -> TaskType:
    best = max(hits, key=lambda kind: hits[kind])
    return best if hits[best] > 0 else "feature"


def changed_lines(facts: Mapping[str, Any], material: Material) -> int | None:
    lines = sum(f.changed_lines for f in material.files if material.is_diff or not f.added)
    given = (count(facts, "additions") or 0.0) + (count(facts, "deletions") or 0.0)
    if lines or given:
        return int(max(lines, given))
    return None


def complexity(lines: int | None, words: int) -> int:
    if lines is None:
        return 2 + min(words // 100, 3)
    return 1 + sum(lines > step for step in SIZE_STEPS)


def risk(kind: TaskType, level: int, body: str) -> Severity:
    sensitive = bool(SENSITIVE.search(body))
    if kind == "security" or level >= 8 or (sensitive and level >= 5):
        return "high"
    return "medium" if level >= 5 or sensitive else "low"


def _code_skills(material: Material, content: str) -> list[str]:
    material = material.named()
    languages = [lang for lang, _ in ranked_languages(material) if lang not in NON_CODE]
    return languages + [hit.name for hit in detect(material, content)]


def required_skills(facts: Mapping[str, Any], material: Material, body: str, content: str) -> list[str]:
    keyword_skills = [skill for skill, rx in _SKILL_KEYWORDS.items() if rx.search(body)]
    given = first_names(facts, ("required_skills", "skills"))
    return unique(given + _code_skills(material, content) + keyword_skills)


def blockers(facts: Mapping[str, Any], body: str) -> list[str]:
    given = first_names(facts, ("blockers", "blocked_by"))
    found = [m.group(0).strip() for m in BLOCKER.finditer(body)]
    return unique(given + found)[:MAX_BLOCKERS]


@dataclass(frozen=True, slots=True)
class TaskFacts:
    kind: TaskType
    hits: Mapping[TaskType, int]
    lines: int | None
    complexity: int
    skills: list[str]
    risk: Severity
    blockers: list[str]


def task_facts(request: AnalysisRequest) -> TaskFacts:
    facts = merge_facts(request.content, request.context)
    material = collect(request.content, request.context)
    body = task_text(facts, material, request.content)
    hits = keyword_hits(body, material)
    kind = task_type(hits)
    lines = changed_lines(facts, material)
    level = complexity(lines, len(body.split()))
    skills = required_skills(facts, material, body, request.content)
    return TaskFacts(kind, hits, lines, level, skills, risk(kind, level, body), blockers(facts, body))


def _summary(task: TaskFacts) -> str:
    top = sorted((k for k, n in task.hits.items() if n), key=lambda k: (-task.hits[k], k))[:3]
    keywords = ", ".join(f"{k} x{task.hits[k]}" for k in top) or "no keyword"
    size = "unknown size" if task.lines is None else f"~{task.lines} changed lines"
    return (
        f"rules: {task.kind} task ({keywords}); {size} -> complexity {task.complexity}/10, "
        f"~{EFFORT_HOURS[task.complexity]:g} h; {task.risk} risk."
    )


def analyze_task_signals(request: AnalysisRequest) -> TaskSignalsResult:
    task = task_facts(request)
    return TaskSignalsResult(
        task_type=task.kind,
        estimated_complexity=task.complexity,
        estimated_effort_hours=EFFORT_HOURS[task.complexity],
        required_skills=task.skills,
        risk_level=task.risk,
        blockers=task.blockers,
        summary=_summary(task),
    )


def normalize(skill: str) -> str:
    key = " ".join(skill.lower().split())
    return SKILL_ALIASES.get(key, key)


CANDIDATE_SKILL_KEYS: tuple[str, ...] = ("skills", "languages", "frameworks")


def candidates(facts: Mapping[str, Any]) -> Iterator[tuple[str, list[str]]]:
    """(developer, skills) pairs from `candidates` / `developers` (list of objects or a mapping)."""
    given = facts.get("candidates", facts.get("developers"))
    if isinstance(given, Mapping):
        yield from ((text(name), names(skills)) for name, skills in given.items() if text(name))
        return
    for index, item in enumerate(dict_list(given), 1):
        skills = [s for key in CANDIDATE_SKILL_KEYS for s in names(item.get(key))]
        yield item_name(item) or f"candidate {index}", unique(skills)


def match(developer: str, skills: list[str], required: list[str]) -> TaskMatch:
    have = {normalize(s) for s in skills}
    matched = [r for r in required if normalize(r) in have]
    gaps = [r for r in required if normalize(r) not in have]
    score = round(len(matched) / len(required), 3) if required else 0.0
    covered = ", ".join(matched) or "none"
    rationale = (
        f"rules: covers {len(matched)}/{len(required)} required skills ({covered})"
        if required
        else "rules: no required skills known; cannot rank by skill overlap"
    )
    return TaskMatch(developer=developer, score=score, rationale=rationale, skill_gaps=gaps)


def _confidence(matches: list[TaskMatch]) -> float:
    if not matches:
        return 0.0
    top = matches[0].score
    second = matches[1].score if len(matches) > 1 else 0.0
    return round(min(0.9, 0.2 + 0.5 * top + 0.2 * (top - second)), 3)


def analyze_task_matching(request: AnalysisRequest) -> TaskMatchingResult:
    facts = merge_facts(request.content, request.context)
    required = first_names(facts, ("required_skills", "skills")) or task_facts(request).skills
    matches = [match(name, skills, required) for name, skills in candidates(facts)]
    matches.sort(key=lambda m: (-m.score, m.developer))
    return TaskMatchingResult(
        matches=matches,
        recommended_developer=matches[0].developer if matches and matches[0].score > 0 else "",
        confidence=_confidence(matches),
    )
