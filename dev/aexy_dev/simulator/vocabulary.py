"""Plausible words for generated answers, keyed by JSON property name (lists cycle by item index)."""

from __future__ import annotations

from types import MappingProxyType

VOCABULARY: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "language": ("python", "typescript", "go"),
        "primary_languages": ("python", "typescript", "sql"),
        "frameworks": ("fastapi", "pydantic", "react"),
        "patterns": ("dependency injection", "repository pattern", "retry with backoff"),
        "quality_indicators": ("type hints throughout", "small focused functions", "unit tests present"),
        "name": ("parse_payload", "asyncio", "pytest"),
        "evidence": ("Seen repeatedly in the analysed changes.", "Consistent across recent commits."),
        "description": ("Unvalidated input reaches the query builder.", "Function mixes I/O and logic."),
        "location": ("app/handlers.py:42", "app/models.py:17", "app/service.py:88"),
        "strengths": ("Clear naming", "Good test coverage", "Consistent error handling"),
        "suggestions": ("Extract the retry loop into a helper", "Add a test for the empty input case"),
        "reason": ("Deeply nested conditionals with several early returns.", "Long chain of special cases."),
        "summary": ("Solid, well-structured work with a few areas to tighten.",),
        "goal": ("Become productive with distributed systems design",),
        "current_level": ("intermediate",),
        "topic": ("Async I/O fundamentals", "Observability and tracing", "Data modelling"),
        "outcome": ("Can design and review the topic independently.",),
        "resources": ("Official documentation", "Internal design review recordings"),
        "milestones": ("Ship a feature end to end", "Lead a design review", "Mentor a new hire"),
        "title": ("Senior Backend Engineer",),
        "seniority": ("senior",),
        "role": ("Senior Backend Engineer",),
        "responsibilities": ("Design and operate backend services", "Review code and mentor peers"),
        "required_skills": ("python", "sql", "distributed systems"),
        "nice_to_have": ("kubernetes", "event streaming"),
        "questions": ("Walk me through a system you designed.", "How do you handle retries?"),
        "strong_signals": ("Discusses trade-offs unprompted", "Quantifies impact"),
        "weak_signals": ("Vague about own contribution", "No testing strategy"),
        "scoring_guide": ("Score each competency 1-4; hire at an average of 3 or more.",),
        "area": ("backend services", "data pipelines", "testing"),
        "growth_areas": ("System design documentation", "Cross-team communication"),
        "new_skills": ("rust", "terraform"),
        "deepening_skills": ("python", "postgresql"),
        "next_steps": ("Own the next service migration", "Pair on the incident review"),
        "recommendations": ("Rebalance on-call load", "Schedule a growth conversation"),
        "factor": ("Rising after-hours activity", "Declining review participation"),
        "warning_signs": ("Commits late at night", "Shorter review comments"),
        "blockers": ("Waiting on API contract", "Missing test fixtures"),
        "developer": ("alice", "bob", "carol"),
        "recommended_developer": ("alice",),
        "rationale": (
            "Has shipped similar changes in this codebase.",
            "Strong overlap with required skills.",
        ),
        "skill_gaps": ("frontend testing", "observability"),
        "skill": ("communication",),
        "skills.name": ("python", "asyncio", "pytest"),
        "hotspots.name": ("parse_payload", "handle_event", "merge_config"),
        "competencies.name": ("System design", "Code quality", "Collaboration"),
    }
)


def word_for(name: str, index: int, parent: str = "", *, distinct: bool = False) -> str:
    """A plausible value for property `name` (item `index` of a list), or a readable placeholder.

    `distinct` (list items) numbers the words once the vocabulary runs out, so items stay unique.
    """
    words = VOCABULARY.get(f"{parent}.{name}") or VOCABULARY.get(name)
    if words:
        lap = index // len(words)
        return words[index % len(words)] + (f" ({lap + 1})" if lap and distinct else "")
    label = name.replace("_", " ").strip() or "value"
    return f"{label} {index + 1}"
