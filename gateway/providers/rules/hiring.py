"""Learning paths, job descriptions and interview rubrics filled in from templates.

Inputs (context, or a JSON object in content): `role` (or `title`/`position`), `seniority` (or
`level`), `skills` / `required_skills`, `target_skills`, `current_skills`, `languages`,
`frameworks`, `nice_to_have`, `goal`, `current_level`. A plain-text content's first short line is
read as the role when the context has none; code in the content adds the languages and frameworks
it uses. The role's family (`ROLE_FAMILIES`, by keyword; `general` otherwise) picks default skills
and responsibilities when none are given.

Learning path: one step per target skill missing from the current skills (`SKILL_HOURS_NEW` hours,
or a deepening step of `SKILL_HOURS_DEEPEN` hours when every target is already known), scaled by
`LEVEL_PACE` for the current level, plus a capstone step. Rubric: the first `MAX_RUBRIC_SKILLS`
skills share weight 0.6 equally, the core competencies (problem solving, communication, and
system design / technical leadership for senior and above) share 0.4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.providers.rules.frameworks import detect
from gateway.providers.rules.inputs import first_names, first_text, merge_facts, names, unique
from gateway.providers.rules.languages import NON_CODE, ranked_languages
from gateway.providers.rules.sources import collect
from gateway.providers.rules.tasks import normalize
from schemas.request import AnalysisRequest
from schemas.results.hiring import (
    Competency,
    InterviewRubricResult,
    JobDescriptionResult,
    LearningPathResult,
    LearningStep,
)

DEFAULT_ROLE = "Software Engineer"
DEFAULT_SENIORITY = "mid"
MAX_ROLE_LINE = 80
MAX_RUBRIC_SKILLS = 4
MAX_STEPS = 8
SKILL_HOURS_NEW = 20.0
SKILL_HOURS_DEEPEN = 12.0
CAPSTONE_HOURS = 16.0
SKILL_WEIGHT_TOTAL = 0.6

ROLE_FAMILIES: Mapping[str, str] = {
    "fullstack": r"full[- ]?stack",
    "frontend": r"front[- ]?end|\bui\b|\bweb\b",
    "mobile": r"\bios\b|android|mobile",
    "data": r"\bdata\b|analytics|machine learning|\bml\b|scientist",
    "devops": r"devops|\bsre\b|reliability|infrastructure|cloud",
    "backend": r"back[- ]?end|\bapi\b|server|platform",
}
FAMILY_SKILLS: Mapping[str, list[str]] = {
    "backend": ["Python", "SQL", "API design", "Docker"],
    "frontend": ["TypeScript", "React", "CSS", "Accessibility"],
    "fullstack": ["TypeScript", "React", "Node.js", "SQL"],
    "data": ["Python", "SQL", "pandas", "Statistics"],
    "devops": ["Kubernetes", "Terraform", "CI/CD", "Observability"],
    "mobile": ["Swift", "Kotlin", "Mobile UI", "Testing"],
    "general": ["Git", "Testing", "Code review", "System design"],
}
FAMILY_NICE: Mapping[str, list[str]] = {
    "backend": ["Kubernetes", "Observability", "Event streaming"],
    "frontend": ["Design systems", "Performance profiling", "Testing Library"],
    "fullstack": ["Docker", "GraphQL", "Observability"],
    "data": ["Apache Spark", "Apache Airflow", "Data modelling"],
    "devops": ["Go", "Security hardening", "Cost optimisation"],
    "mobile": ["Flutter", "App store releases", "Accessibility"],
    "general": ["Cloud platforms", "Observability", "Open-source contributions"],
}
FAMILY_DUTIES: Mapping[str, list[str]] = {
    "backend": ["Design, build and operate services and APIs", "Model and evolve data stores safely"],
    "frontend": ["Build accessible, fast user interfaces", "Keep the component library consistent"],
    "fullstack": ["Deliver features across UI, API and data layers", "Keep both ends tested and observable"],
    "data": ["Build reliable data pipelines and analyses", "Turn questions into measurable insights"],
    "devops": ["Automate build, deploy and infrastructure", "Keep systems observable and reliable"],
    "mobile": ["Build and release mobile apps", "Keep apps fast, stable and accessible"],
    "general": ["Design, build and maintain software", "Review code and keep quality high"],
}
SENIORITY_DUTIES: Mapping[str, str] = {
    "junior": "Deliver well-scoped tasks with guidance and learn through code review",
    "mid": "Own features end to end, from design notes to production",
    "senior": "Lead technical design for the team and mentor other engineers",
    "staff": "Set technical direction across teams and resolve cross-cutting problems",
    "principal": "Shape the organisation's technical strategy and long-term architecture",
}
TITLE_PREFIX: Mapping[str, str] = {"junior": "Junior", "mid": "", "senior": "Senior", "staff": "Staff"}
LEVEL_PACE: Mapping[str, float] = {"junior": 1.5, "mid": 1.0, "senior": 0.75, "staff": 0.6, "principal": 0.5}
RESOURCES: Mapping[str, list[str]] = {
    "python": ["The Python Tutorial (docs.python.org)", "Fluent Python (book)"],
    "typescript": ["The TypeScript Handbook", "Type Challenges exercises"],
    "javascript": ["MDN JavaScript Guide", "You Don't Know JS (book series)"],
    "go": ["A Tour of Go", "Effective Go"],
    "rust": ["The Rust Programming Language (book)", "Rustlings exercises"],
    "java": ["Dev.java learning paths", "Effective Java (book)"],
    "sql": ["PostgreSQL documentation tutorial", "Use The Index, Luke (use-the-index-luke.com)"],
    "react": ["react.dev Learn section", "Build a small React app with tests"],
    "kubernetes": ["Kubernetes Basics (kubernetes.io tutorials)", "Deploy a service to a local kind cluster"],
    "docker": ["Docker Get Started guide", "Containerise an existing service"],
    "terraform": ["HashiCorp Terraform tutorials", "Manage a sandbox environment with Terraform"],
    "system design": ["Designing Data-Intensive Applications (book)", "Write and review a design doc"],
    "testing": ["Test-driven development kata", "Add tests to an untested module"],
}
CORE_COMPETENCIES: tuple[tuple[str, str], ...] = (
    ("Problem solving", "Walk me through how you would debug a production issue you have never seen."),
    ("Communication & collaboration", "Tell me about a disagreement in code review and how it was resolved."),
)
SENIOR_COMPETENCIES: tuple[tuple[str, str], ...] = (
    ("System design", "Design a service for this team's main use case; where does it break first?"),
)
STAFF_COMPETENCIES: tuple[tuple[str, str], ...] = (
    ("Technical leadership", "Describe a technical direction you set across teams and how you got buy-in."),
)
SENIOR_LEVELS = frozenset({"senior", "staff", "principal"})
STAFF_LEVELS = frozenset({"staff", "principal"})


@dataclass(frozen=True, slots=True)
class RoleFacts:
    role: str
    seniority: str
    family: str
    skills: list[str]
    skills_source: str
    detected: list[str]
    facts: Mapping[str, Any]


def role_family(role: str) -> str:
    return next((f for f, rx in ROLE_FAMILIES.items() if re.search(rx, role, re.IGNORECASE)), "general")


def _role_from_content(content: str) -> str:
    if content.lstrip().startswith("{"):
        return ""
    first = next((line.strip() for line in content.splitlines() if line.strip()), "")
    return first if len(first) <= MAX_ROLE_LINE and not collect(content, {}).is_diff else ""


def _detected(request: AnalysisRequest) -> list[str]:
    material = collect(request.content, request.context).named()
    languages = [
        lang for lang, _ in ranked_languages(material) if lang not in NON_CODE and material.code_files
    ]
    return languages + [hit.name for hit in detect(material, request.content)]


def role_facts(request: AnalysisRequest) -> RoleFacts:
    facts = merge_facts(request.content, request.context)
    role = (
        first_text(facts, ("role", "title", "position"))
        or _role_from_content(request.content)
        or DEFAULT_ROLE
    )
    seniority = first_text(facts, ("seniority", "level"), DEFAULT_SENIORITY).lower()
    family = role_family(role)
    given = first_names(facts, ("required_skills", "skills"))
    detected = _detected(request)
    skills = unique(given + detected) or list(FAMILY_SKILLS[family])
    source = "the request" if given or detected else f"the {family} template"
    return RoleFacts(role, seniority, family, skills, source, detected, facts)


def _title(role: RoleFacts) -> str:
    prefix = TITLE_PREFIX.get(role.seniority, role.seniority.capitalize())
    if not prefix or prefix.lower() in role.role.lower():
        return role.role
    return f"{prefix} {role.role}"


def analyze_job_description(request: AnalysisRequest) -> JobDescriptionResult:
    role = role_facts(request)
    known = {normalize(s) for s in role.skills}
    nice = first_names(role.facts, ("nice_to_have",)) or FAMILY_NICE[role.family]
    duty = SENIORITY_DUTIES.get(role.seniority, SENIORITY_DUTIES[DEFAULT_SENIORITY])
    return JobDescriptionResult(
        title=_title(role),
        seniority=role.seniority,
        summary=(
            f"rules: template job description for a {role.seniority} {role.role} "
            f"({role.family} family); required skills from {role.skills_source}."
        ),
        responsibilities=[*FAMILY_DUTIES[role.family], duty, "Write tests and review teammates' code"],
        required_skills=role.skills,
        nice_to_have=[s for s in unique(nice) if normalize(s) not in known],
    )


def resources_for(skill: str) -> list[str]:
    curated = RESOURCES.get(normalize(skill), [f"Official {skill} documentation"])
    return [*curated, f"A small project using {skill}, reviewed by a more experienced colleague"]


def _step(order: int, skill: str, hours: float, deepen: bool) -> LearningStep:
    topic = f"Advanced {skill}" if deepen else f"{skill} fundamentals"
    outcome = f"Can {'lead work' if deepen else 'ship production changes'} using {skill}"
    return LearningStep(
        order=order, topic=topic, outcome=outcome, resources=resources_for(skill), estimated_hours=hours
    )


def _current_skills(facts: Mapping[str, Any]) -> list[str]:
    listed = first_names(facts, ("current_skills",))
    return listed or names(facts.get("skills")) + names(facts.get("languages")) + names(
        facts.get("frameworks")
    )


def learning_steps(targets: list[str], current: list[str], level: str) -> list[LearningStep]:
    have = {normalize(s) for s in current}
    gaps = [t for t in targets if normalize(t) not in have]
    deepen = not gaps
    pace = LEVEL_PACE.get(level, 1.0)
    hours = round((SKILL_HOURS_DEEPEN if deepen else SKILL_HOURS_NEW) * pace, 1)
    chosen = (gaps or targets)[: MAX_STEPS - 1]
    steps = [_step(i, skill, hours, deepen) for i, skill in enumerate(chosen, 1)]
    capstone = LearningStep(
        order=len(steps) + 1,
        topic="Capstone project",
        outcome=f"Applies {', '.join(chosen[:3]) or 'the new skills'} together in a real change",
        resources=["Pick a real backlog item and agree on it with your lead"],
        estimated_hours=round(CAPSTONE_HOURS * pace, 1),
    )
    return [*steps, capstone]


def analyze_learning_path(request: AnalysisRequest) -> LearningPathResult:
    role = role_facts(request)
    facts = role.facts
    targets = first_names(facts, ("target_skills",)) or role.skills
    level = first_text(facts, ("current_level", "seniority", "level"), "unknown").lower()
    steps = learning_steps(targets, _current_skills(facts), level)
    goal = first_text(facts, ("goal",)) or f"Grow as a {role.role}: {', '.join(targets[:3])}"
    return LearningPathResult(
        goal=goal,
        current_level=level,
        steps=steps,
        total_hours=round(sum(s.estimated_hours for s in steps), 1),
        milestones=[f"rules: step {s.order} done - {s.outcome}" for s in steps],
    )


def _skill_competency(skill: str, weight: float) -> Competency:
    return Competency(
        name=skill,
        weight=weight,
        questions=[
            f"Describe the most complex thing you built with {skill}. What would you change now?",
            f"How do you test and debug work built with {skill}?",
        ],
        strong_signals=[
            f"Explains {skill} trade-offs with concrete examples",
            "Mentions testing and failure modes",
        ],
        weak_signals=[f"Only textbook knowledge of {skill}", "Cannot explain past decisions"],
    )


def _core_competency(name: str, question: str, weight: float) -> Competency:
    return Competency(
        name=name,
        weight=weight,
        questions=[question],
        strong_signals=["Structured, specific answer with measurable outcome", "Owns mistakes and learnings"],
        weak_signals=["Vague or hypothetical answer", "Blames others"],
    )


def core_competencies(seniority: str) -> tuple[tuple[str, str], ...]:
    extra = SENIOR_COMPETENCIES if seniority in SENIOR_LEVELS else ()
    return CORE_COMPETENCIES + extra + (STAFF_COMPETENCIES if seniority in STAFF_LEVELS else ())


def analyze_interview_rubric(request: AnalysisRequest) -> InterviewRubricResult:
    role = role_facts(request)
    skills = role.skills[:MAX_RUBRIC_SKILLS]
    core = core_competencies(role.seniority)
    skill_weight = round(SKILL_WEIGHT_TOTAL / len(skills), 3) if skills else 0.0
    core_weight = round((1 - skill_weight * len(skills)) / len(core), 3)
    competencies = [_skill_competency(s, skill_weight) for s in skills]
    competencies += [_core_competency(name, question, core_weight) for name, question in core]
    return InterviewRubricResult(
        role=_title(role),
        competencies=competencies,
        scoring_guide=(
            "rules: template rubric. Score each competency 1 (no evidence) to 4 (strong signals on "
            "every question); the weighted sum of score / 4 gives 0-1; suggested bar 0.7 for "
            f"{role.seniority} level."
        ),
    )
