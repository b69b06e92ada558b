"""Skill extraction from code: language, frameworks, programming patterns, complexity.

* language: `languages.dominant_language` ("" when there is none); a programming language (not
  prose, markup or data) is a skill with confidence 0.5 + 0.4 * its share of the changed lines;
* frameworks/libraries/tools: `frameworks.detect`, confidence 0.8 when imported in code, 0.6 when
  only listed in a manifest;
* patterns: `PATTERNS`, a regex per practice, counted on the code lines; each becomes a `practice`
  skill with confidence min(0.3 + 0.1 * matching lines, 0.7);
* complexity: `complexity.complexity_score`; quality indicators: the strengths and issue
  descriptions of `quality`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gateway.providers.rules.complexity import complexity_score, measure
from gateway.providers.rules.frameworks import FrameworkHit, detect
from gateway.providers.rules.languages import dominant_language, ranked_languages
from gateway.providers.rules.quality import findings, strengths
from gateway.providers.rules.sources import Material, collect
from schemas.languages import is_skill
from schemas.request import AnalysisRequest
from schemas.results.code import Skill, SkillExtractionResult

MAX_INDICATORS = 8
IMPORT_CONFIDENCE = 0.8
MANIFEST_CONFIDENCE = 0.6

PATTERNS: Mapping[str, str] = {
    "async programming": r"\basync\s+(?:def|function|fn)\b|\bawait\b",
    "object-oriented design": r"^\s*(?:export\s+)?(?:public\s+)?(?:abstract\s+)?class\s+\w+",
    "decorators/annotations": r"^\s*@\w+",
    "type annotations": r"\)\s*->\s*[\w\[]|\w:\s*(?:str|int|float|bool|string|number|boolean)\b",
    "error handling": r"^\s*(?:try\b|except\b|catch\b|rescue\b|\}\s*catch\b)|\bif err != nil\b",
    "unit testing": r"\bdef test_\w+|\b(?:describe|it|test)\(\s*['\"]|@Test\b|\bfunc Test\w+\(|#\[test\]",
    "resource management": r"^\s*(?:async\s+)?with\s+.+:\s*$|\busing\s*\(|\bdefer\b",
    "functional style": r"\[[^\]]+\bfor\b[^\]]+\bin\b[^\]]+\]|\.(?:map|filter|reduce)\(",
    "dependency injection": r"\bDepends\(|@Inject\b|@Autowired\b",
    "SQL": r"(?i)\bselect\b.+\bfrom\b|\binsert\s+into\b|\bcreate\s+table\b",
    "REST API design": (
        r"@(?:app|router|bp|api)\.(?:get|post|put|delete|patch|route)\b"
        r"|\b(?:app|router)\.(?:get|post|put|delete|patch)\(|@(?:Get|Post|Put|Delete|Request)Mapping\b"
    ),
    "concurrency": (
        r"\b(?:threading|multiprocessing|asyncio\.gather|Promise\.all|ExecutorService|tokio::spawn)\b"
        r"|\bgo func\b"
    ),
    "generics": r"\bTypeVar\(|\bGeneric\[|\b[A-Z]\w*<[A-Z]\w*(?:,\s*[A-Z]\w*)*>",
    "logging": r"\blogger\.\w+\(|\blogging\.\w+|\blog\.(?:info|debug|warn|warning|error)\(",
}

_COMPILED: Mapping[str, re.Pattern[str]] = {name: re.compile(p, re.MULTILINE) for name, p in PATTERNS.items()}


def pattern_counts(code: str) -> dict[str, int]:
    """Matching lines per pattern, for the patterns that match at least once."""
    lines = code.splitlines()
    counts = {name: sum(1 for line in lines if rx.search(line)) for name, rx in _COMPILED.items()}
    return {name: n for name, n in counts.items() if n}


def _language_skill(material: Material, language: str) -> list[Skill]:
    if not is_skill(language):
        return []
    share = dict(ranked_languages(material)).get(language, 0.0)
    evidence = f"rules: {share:.0%} of the changed lines are {language}"
    if not material.files:
        evidence = "rules: language given in the request context"
    return [
        Skill(name=language, category="language", confidence=round(0.5 + 0.4 * share, 3), evidence=evidence)
    ]


def _framework_skill(hit: FrameworkHit) -> Skill:
    confidence = MANIFEST_CONFIDENCE if hit.via_manifest else IMPORT_CONFIDENCE
    return Skill(name=hit.name, category=hit.category, confidence=confidence, evidence=hit.evidence)


def _pattern_skill(name: str, lines: int) -> Skill:
    confidence = round(min(0.3 + 0.1 * lines, 0.7), 3)
    return Skill(
        name=name, category="practice", confidence=confidence, evidence=f"rules: {lines} matching line(s)"
    )


def analyze_skill_extraction(request: AnalysisRequest) -> SkillExtractionResult:
    material = collect(request.content, request.context)
    language = dominant_language(material, request.context)
    hits = detect(material, request.content)
    patterns = pattern_counts(material.code)
    report = measure(material)
    indicators = sorted(strengths(material, report).values())
    indicators += [f.issue.description for f in findings(material, report)]
    skills = _language_skill(material, language) + [_framework_skill(h) for h in hits]
    skills += [_pattern_skill(name, n) for name, n in sorted(patterns.items())]
    return SkillExtractionResult(
        language=language,
        frameworks=[h.name for h in hits],
        patterns=sorted(patterns),
        complexity=complexity_score(report),
        quality_indicators=indicators[:MAX_INDICATORS],
        skills=skills,
    )
