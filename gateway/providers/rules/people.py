"""Developer profile and growth trajectory from context skills and activity figures.

Profile: languages, frameworks and skills come from the context (`languages`, `frameworks`,
`skills`; lists in priority order or `{name: weight}` mappings) plus whatever `languages` and
`frameworks` detect in the content. Expertise level by rank in its list: first -> advanced
(expert with `years_experience` >= 8), second and third -> intermediate, later -> beginner.
Seniority: the context `seniority` when it is one of the five levels, else by
`years_experience` (< 2 junior, < 5 mid, < 9 senior, < 14 staff, else principal), else by
breadth (distinct languages + frameworks: <= 2 junior, <= 5 mid, <= 9 senior, else staff),
and `mid` when nothing is known.

Growth: growth_score = 0.4 * activity + 0.3 * novelty + 0.3 * breadth, where
activity = clamp(0.5 + velocity_change_pct / 200) (see `risk`), novelty = min(new skills / 3, 1)
with new skills = current `languages` / `frameworks` / `skills` absent from the matching
`previous_languages` / `previous_frameworks` / `previous_skills` (when that list is given),
breadth = min(current skills / 6, 1); each unknown part counts as a neutral 0.5.
Trajectory: >= 0.65 accelerating, >= 0.45 steady, >= 0.3 plateauing, else declining.
Confidence = 0.2 + 0.2 per known part (max 0.8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gateway.providers.rules.activity import Activity, read_activity
from gateway.providers.rules.frameworks import detect
from gateway.providers.rules.inputs import clamp, count, merge_facts, names, text, unique
from gateway.providers.rules.languages import NON_CODE, ranked_languages
from gateway.providers.rules.risk import velocity_change_pct
from gateway.providers.rules.sources import collect
from schemas.request import AnalysisRequest
from schemas.results.people import DeveloperProfileResult, Expertise, GrowthTrajectoryResult, Level

Seniority = Literal["junior", "mid", "senior", "staff", "principal"]
Growth = Literal["accelerating", "steady", "plateauing", "declining"]

SENIORITIES: tuple[Seniority, ...] = ("junior", "mid", "senior", "staff", "principal")
SENIORITY_NAMES: Mapping[str, Seniority] = {
    **{level: level for level in SENIORITIES},
    "jr": "junior",
    "sr": "senior",
    "middle": "mid",
    "lead": "staff",
}
YEARS_TO_SENIORITY: tuple[tuple[float, Seniority], ...] = (
    (2, "junior"),
    (5, "mid"),
    (9, "senior"),
    (14, "staff"),
)
BREADTH_TO_SENIORITY: tuple[tuple[float, Seniority], ...] = ((3, "junior"), (6, "mid"), (10, "senior"))
"""A level applies below its limit: breadth 0-2 junior, 3-5 mid, 6-9 senior, 10+ staff."""
GROWTH_LEVELS: tuple[tuple[float, Growth], ...] = (
    (0.65, "accelerating"),
    (0.45, "steady"),
    (0.3, "plateauing"),
)
TEST_TOOLS: frozenset[str] = frozenset(
    {
        "pytest",
        "jest",
        "junit",
        "rspec",
        "mocha",
        "vitest",
        "testify",
        "phpunit",
        "xunit",
        "hypothesis",
        "testing",
    }
)
EXPERT_YEARS = 8.0
MAX_EXPERTISE = 8
ACTIVE_REVIEWER = 5.0
BROAD_COLLABORATION = 5.0
NEUTRAL = 0.5


def _detected(request: AnalysisRequest) -> tuple[list[str], list[str]]:
    material = collect(request.content, request.context).named()
    languages = [lang for lang, _ in ranked_languages(material) if lang not in NON_CODE]
    return languages, [hit.name for hit in detect(material, request.content)]


def level_for(rank: int, years: float | None) -> Level:
    if rank == 0:
        return "expert" if (years or 0.0) >= EXPERT_YEARS else "advanced"
    return "intermediate" if rank <= 2 else "beginner"


def seniority(facts: Mapping[str, Any], breadth: int) -> tuple[Seniority, str]:
    """The estimate and the rule that produced it."""
    given = SENIORITY_NAMES.get(text(facts.get("seniority")).lower())
    if given is not None:
        return given, "given in context"
    years = count(facts, "years_experience")
    if years is not None:
        return _first_below(YEARS_TO_SENIORITY, years, "principal"), f"{years:g} years"
    if breadth == 0:
        return "mid", "no evidence, default"
    level = _first_below(BREADTH_TO_SENIORITY, breadth, "staff")
    return level, f"breadth of {breadth} languages/frameworks"


def _first_below(table: tuple[tuple[float, Seniority], ...], value: float, default: Seniority) -> Seniority:
    return next((level for limit, level in table if value < limit), default)


def _expertise(items: list[str], kind: str, sources: str, years: float | None) -> list[Expertise]:
    return [
        Expertise(
            area=item,
            level=level_for(rank, years),
            evidence=f"rules: #{rank + 1} of {len(items)} {kind} {sources}",
        )
        for rank, item in enumerate(items)
    ]


def _strengths(languages: list[str], frameworks: list[str], activity: Activity) -> list[str]:
    found: list[str] = []
    if len(languages) >= 2:
        found.append(f"rules: works across {len(languages)} languages ({', '.join(languages[:4])})")
    if frameworks:
        found.append(f"rules: framework experience: {', '.join(frameworks[:4])}")
    reviews = activity.trends["reviews"].current
    if reviews is not None and reviews >= ACTIVE_REVIEWER:
        found.append(f"rules: active reviewer ({reviews:g} reviews/week)")
    breadth = activity.collaboration.current
    if breadth is not None and breadth >= BROAD_COLLABORATION:
        found.append(f"rules: broad collaboration ({breadth:g} collaborators)")
    return found


def _growth_areas(languages: list[str], skills: list[str], activity: Activity) -> list[str]:
    if not languages and not skills:
        return ["rules: not enough data to suggest growth areas"]
    areas: list[str] = []
    if not {s.lower() for s in skills} & TEST_TOOLS:
        areas.append("rules: no testing framework or practice seen; build testing depth")
    if len(languages) == 1:
        areas.append(f"rules: only {languages[0]} seen; a second language would broaden range")
    reviews = activity.trends["reviews"].current
    if reviews is not None and reviews < 1:
        areas.append("rules: fewer than one review a week; review more to spread knowledge")
    return areas


def analyze_developer_profile(request: AnalysisRequest) -> DeveloperProfileResult:
    facts = merge_facts(request.content, request.context)
    activity = read_activity(facts)
    found_languages, found_frameworks = _detected(request)
    languages = unique(activity.languages + found_languages)
    frameworks = unique(activity.frameworks + found_frameworks)
    skills = unique(names(facts.get("skills")) + frameworks)
    years = count(facts, "years_experience")
    level, basis = seniority(facts, len(languages) + len(frameworks))
    expertise = _expertise(languages, "languages", "in context/code", years)
    expertise += _expertise(frameworks, "frameworks", "in context/code", years)
    subject = request.subject or "the developer"
    return DeveloperProfileResult(
        summary=(
            f"rules: profile of {subject} from context figures and analysed code: "
            f"{', '.join(languages[:3]) or 'no languages known'}; estimated {level} ({basis})."
        ),
        primary_languages=languages[:3],
        frameworks=frameworks,
        expertise=expertise[:MAX_EXPERTISE],
        seniority_estimate=level,
        strengths=_strengths(languages, frameworks, activity),
        growth_areas=_growth_areas(languages, skills, activity),
    )


def growth_level(score: float) -> Growth:
    for threshold, level in GROWTH_LEVELS:
        if score >= threshold:
            return level
    return "declining"


SKILL_HISTORY: tuple[tuple[str, str], ...] = (
    ("languages", "previous_languages"),
    ("frameworks", "previous_frameworks"),
    ("skills", "previous_skills"),
)
"""(current key, previous key): an item is new when its previous list is given and lacks it."""


def new_skills(facts: Mapping[str, Any]) -> list[str] | None:
    """The new skills, or `None` when no previous list is given at all."""
    if not any(names(facts.get(previous)) for _, previous in SKILL_HISTORY):
        return None
    new: list[str] = []
    for current_key, previous_key in SKILL_HISTORY:
        before = {p.lower() for p in names(facts.get(previous_key))}
        if before:
            new += [s for s in names(facts.get(current_key)) if s.lower() not in before]
    return unique(new)


def growth_parts(activity: Activity, current: list[str], new: list[str] | None) -> list[float | None]:
    """activity, novelty and breadth, each `None` when unknown (see the module docstring)."""
    change = velocity_change_pct(activity)
    return [
        None if change is None else clamp(0.5 + change / 200),
        None if new is None or not current else min(len(new) / 3, 1.0),
        min(len(current) / 6, 1.0) if current else None,
    ]


def _milestones(activity: Activity, current: list[str]) -> list[str]:
    found = [f"rules: uses {len(current)} languages/frameworks ({', '.join(current[:5])})"] if current else []
    found += [f"rules: {t.describe()}" for t in activity.trends.values() if t.known]
    streak = activity.longest_streak_days
    return found + ([f"rules: longest streak {streak:g} days"] if streak else [])


def _next_steps(current: list[str], new: list[str]) -> list[str]:
    steps = [
        f"rules: deepen {current[0]} with a design-level task" if current else "rules: share activity data"
    ]
    if new:
        steps.append(f"rules: consolidate the new skills ({', '.join(new[:3])}) in production work")
    else:
        steps.append("rules: pick one complementary skill to learn next quarter")
    return steps


def analyze_growth_trajectory(request: AnalysisRequest) -> GrowthTrajectoryResult:
    facts = merge_facts(request.content, request.context)
    activity = read_activity(facts)
    current = unique(activity.languages + activity.frameworks + names(facts.get("skills")))
    new = new_skills(facts)
    parts = growth_parts(activity, current, new)
    score = round(0.4 * _or(parts[0]) + 0.3 * _or(parts[1]) + 0.3 * _or(parts[2]), 3)
    return GrowthTrajectoryResult(
        trajectory=growth_level(score),
        growth_score=score,
        new_skills=new or [],
        deepening_skills=[s for s in current if s not in (new or [])],
        milestones=_milestones(activity, current),
        next_steps=_next_steps(current, new or []),
        confidence=round(0.2 + 0.2 * sum(p is not None for p in parts), 3),
    )


def _or(value: float | None) -> float:
    return NEUTRAL if value is None else value
