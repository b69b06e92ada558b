"""Developer profile and growth trajectory from context skills and activity figures.

Profile: languages, frameworks and skills come from the context (`languages`, `frameworks`,
`skills`; lists in priority order or `{name: weight}` mappings) plus whatever `languages` and
`frameworks` detect in the content. Expertise level by rank in its list: first -> advanced
(expert with `years_experience` >= 8), second and third -> intermediate, later -> beginner.
Seniority: the context `seniority` when it is one of the five levels, else by
`years_experience` (< 2 junior, < 5 mid, < 9 senior, < 14 staff, else principal), else from the
evidence of the history, the lowest level any known part supports:
tenure (`history_days`, first to latest activity: < 0.5 years junior, < 2 mid, < 5 senior,
< 10 staff), volume in programming languages (the `languages` tallies of analysed changes,
markup, data and prose formats never counted: < 25 junior, < 150 mid, < 500 senior, < 1500
staff) and, where the source observes them, reviews given (`reviews_total`: < 10 junior, < 50
mid, < 200 senior, < 500 staff); `mid` when nothing is known. How many languages or file types
someone touched is no evidence of seniority.

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
from gateway.providers.rules.inputs import clamp, count, merge_facts, names, number, text, unique
from gateway.providers.rules.languages import NON_CODE, ranked_languages
from gateway.providers.rules.risk import velocity_change_pct
from gateway.providers.rules.sources import collect
from schemas.languages import skill_language
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
TENURE_YEARS_TO_SENIORITY: tuple[tuple[float, Seniority], ...] = (
    (0.5, "junior"),
    (2, "mid"),
    (5, "senior"),
    (10, "staff"),
)
CODE_VOLUME_TO_SENIORITY: tuple[tuple[float, Seniority], ...] = (
    (25, "junior"),
    (150, "mid"),
    (500, "senior"),
    (1500, "staff"),
)
REVIEWS_TO_SENIORITY: tuple[tuple[float, Seniority], ...] = (
    (10, "junior"),
    (50, "mid"),
    (200, "senior"),
    (500, "staff"),
)
"""A level applies below its limit; at or past the last one, principal."""
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


def seniority(facts: Mapping[str, Any], activity: Activity) -> tuple[Seniority, str]:
    """The estimate and the rule that produced it."""
    given = SENIORITY_NAMES.get(text(facts.get("seniority")).lower())
    if given is not None:
        return given, "given in context"
    years = count(facts, "years_experience")
    if years is not None:
        return _first_below(YEARS_TO_SENIORITY, years, "principal"), f"{years:g} years"
    evidence = _evidence(facts, activity)
    if not evidence:
        return "mid", "no evidence, default"
    level = min((level for level, _ in evidence), key=SENIORITIES.index)
    return level, "; ".join(f"{basis} -> {found}" for found, basis in evidence)


def _evidence(facts: Mapping[str, Any], activity: Activity) -> list[tuple[Seniority, str]]:
    """(level, basis) for each part of the history that is known."""
    found: list[tuple[Seniority, str]] = []
    if (days := activity.history_days) is not None:
        level = _first_below(TENURE_YEARS_TO_SENIORITY, days / 365, "principal")
        found.append((level, f"tenure {days:g} days"))
    if (volume := code_volume(facts.get("languages"))) is not None:
        total = sum(volume.values())
        shown = ", ".join(f"{name} {n:g}" for name, n in list(volume.items())[:3]) or "none"
        found.append(
            (
                _first_below(CODE_VOLUME_TO_SENIORITY, total, "principal"),
                f"{total:g} analysed changes in code ({shown})",
            )
        )
    if (reviews := activity.reviews_total) is not None:
        found.append((_first_below(REVIEWS_TO_SENIORITY, reviews, "principal"), f"{reviews:g} reviews given"))
    return found


def code_volume(languages: Any) -> dict[str, float] | None:
    """Tallies per programming language, most first, from a `{name: count}` mapping (None for
    anything else: a list of names says nothing about volume)."""
    if not isinstance(languages, Mapping):
        return None
    volume: dict[str, float] = {}
    for name, n in languages.items():
        language, tally = skill_language(text(name)), number(n)
        if language and tally is not None and tally > 0:
            volume[language] = volume.get(language, 0.0) + tally
    return dict(sorted(volume.items(), key=lambda kv: (-kv[1], kv[0])))


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
    languages = unique(lang for lang in activity.languages + found_languages if skill_language(lang))
    frameworks = unique(activity.frameworks + found_frameworks)
    skills = unique(names(facts.get("skills")) + frameworks)
    years = count(facts, "years_experience")
    level, basis = seniority(facts, activity)
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
    languages = [lang for lang in activity.languages if skill_language(lang)]
    current = unique(languages + activity.frameworks + names(facts.get("skills")))
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
