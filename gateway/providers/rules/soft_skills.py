"""Soft skills from review and discussion comments.

Comments come from the context key `comments` (a list of strings or of `{body|text|comment}`
objects, or one string), or else from the content split at blank lines (a single block is split
at line breaks).

Each comment is matched against `MARKERS` (regexes, case-insensitive); a marker's *rate* is the
share of comments that contain it. Every score is

    round(base + sum(coefficient * rate) [+ 3 * min(mean words per comment / 25, 1) for
          communication]), clamped to 1-10

with the bases and coefficients of `SCORES`. Tone: negative when harsh + dismissive rates reach
0.2 or exceed the positive (thanks + praise + politeness) rates; positive when the positive rates
reach 0.3; neutral otherwise. Without any comment text every score is a neutral 5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import mean
from typing import Any, Literal

from gateway.providers.rules.inputs import first_text, text
from schemas.request import AnalysisRequest
from schemas.results.people import SoftSkillSignal, SoftSkillsResult

SkillName = Literal[
    "communication", "collaboration", "mentorship", "constructiveness", "ownership", "empathy"
]
Polarity = Literal["positive", "negative"]
Tone = Literal["positive", "neutral", "negative"]

NEUTRAL = 5
MAX_SIGNALS = 12
EXCERPT = 80
WORDS_FOR_FULL_CREDIT = 25.0


@dataclass(frozen=True, slots=True)
class Marker:
    pattern: re.Pattern[str]
    skill: SkillName
    polarity: Polarity


def _marker(pattern: str, skill: SkillName, polarity: Polarity = "positive") -> Marker:
    return Marker(re.compile(pattern, re.IGNORECASE | re.MULTILINE), skill, polarity)


MARKERS: Mapping[str, Marker] = {
    "thanks": _marker(r"\b(thanks|thank you|thx|appreciate[ds]?)\b", "collaboration"),
    "praise": _marker(r"\b(great|nice|good catch|well done|love this|lgtm|looks good)\b", "empathy"),
    "politeness": _marker(r"\b(please|could you|would you|would it|maybe|might)\b", "empathy"),
    "question": _marker(r"\?|\b(what do you think|wdyt|have you considered)\b", "collaboration"),
    "explanation": _marker(r"\b(because|since|so that|the reason|this means|otherwise)\b", "communication"),
    "mentoring": _marker(
        r"\b(you could|consider|i suggest|suggestion|for example|e\.g\.|here's how|tip:)|https?://|```",
        "mentorship",
    ),
    "nit": _marker(r"(^|\s)nit:", "constructiveness"),
    "ownership": _marker(r"\b(i'll|i will|i can take|my bad|i broke|on it)\b", "ownership"),
    "harsh": _marker(
        r"\b(stupid|dumb|idiot|terrible|awful|garbage|useless|lazy|ridiculous|nonsense|wtf|horrible|crap)\b",
        "constructiveness",
        "negative",
    ),
    "dismissive": _marker(
        r"\b(obviously|just do|why would you|never do|clearly you)\b", "empathy", "negative"
    ),
}

SCORES: Mapping[str, tuple[float, Mapping[str, float]]] = {
    "communication": (4.0, {"explanation": 2.0, "question": 1.0, "harsh": -3.0}),
    "collaboration": (
        4.0,
        {"thanks": 2.0, "praise": 1.0, "question": 2.0, "politeness": 1.0, "harsh": -4.0, "dismissive": -2.0},
    ),
    "mentorship": (3.0, {"mentoring": 4.0, "explanation": 2.0, "question": 1.0, "harsh": -2.0}),
    "constructiveness": (
        5.0,
        {
            "nit": 2.0,
            "mentoring": 1.0,
            "explanation": 2.0,
            "politeness": 1.0,
            "harsh": -5.0,
            "dismissive": -2.0,
        },
    ),
}


COMMENT_KEYS: tuple[str, ...] = ("body", "text", "comment", "content")


def _comment_text(item: Any) -> str:
    if isinstance(item, Mapping):
        return first_text(item, COMMENT_KEYS)
    return text(item)


def comments(content: str, context: Mapping[str, Any]) -> list[str]:
    """The comment texts, in order (duplicates kept: they count in the rates)."""
    given = context.get("comments")
    if isinstance(given, str):
        content = given
    elif isinstance(given, list | tuple):
        return [t for t in map(_comment_text, given) if t]
    blocks = [b.strip() for b in re.split(r"\n\s*\n", content) if b.strip()]
    if len(blocks) == 1:
        blocks = [line.strip() for line in blocks[0].splitlines() if line.strip()]
    return blocks


def rates(texts: list[str]) -> dict[str, float]:
    return {name: sum(1 for t in texts if m.pattern.search(t)) / len(texts) for name, m in MARKERS.items()}


def score(dimension: str, rate: Mapping[str, float], words: float) -> int:
    base, coefficients = SCORES[dimension]
    raw = base + sum(coefficient * rate[marker] for marker, coefficient in coefficients.items())
    if dimension == "communication":
        raw += 3 * min(words / WORDS_FOR_FULL_CREDIT, 1.0)
    return max(1, min(10, round(raw)))


def tone(rate: Mapping[str, float]) -> Tone:
    positive = rate["thanks"] + rate["praise"] + rate["politeness"]
    negative = rate["harsh"] + rate["dismissive"]
    if negative >= 0.2 or negative > positive:
        return "negative"
    return "positive" if positive >= 0.3 else "neutral"


def _excerpt(comment: str) -> str:
    flat = " ".join(comment.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 3] + "..."


def signals(texts: list[str]) -> list[SoftSkillSignal]:
    found: list[SoftSkillSignal] = []
    for comment in texts:
        for name, marker in MARKERS.items():
            match = marker.pattern.search(comment)
            if match and len(found) < MAX_SIGNALS:
                evidence = f"rules: '{match.group(0).strip()}' ({name}) in \"{_excerpt(comment)}\""
                found.append(SoftSkillSignal(skill=marker.skill, polarity=marker.polarity, evidence=evidence))
    return found


def _neutral() -> SoftSkillsResult:
    return SoftSkillsResult(
        communication=NEUTRAL,
        collaboration=NEUTRAL,
        mentorship=NEUTRAL,
        constructiveness=NEUTRAL,
        tone="neutral",
        signals=[],
        summary="rules: no comment text to assess; neutral defaults.",
    )


def analyze_soft_skills(request: AnalysisRequest) -> SoftSkillsResult:
    texts = comments(request.content, request.context)
    if not texts:
        return _neutral()
    rate = rates(texts)
    words = mean(len(t.split()) for t in texts)
    mood = tone(rate)
    top = sorted((name for name in MARKERS if rate[name]), key=lambda n: (-rate[n], n))[:3]
    markers = ", ".join(f"{n} {rate[n]:.0%}" for n in top) or "no markers"
    return SoftSkillsResult(
        communication=score("communication", rate, words),
        collaboration=score("collaboration", rate, words),
        mentorship=score("mentorship", rate, words),
        constructiveness=score("constructiveness", rate, words),
        tone=mood,
        signals=signals(texts),
        summary=f"rules: {len(texts)} comment(s), {words:.0f} words on average, {mood} tone; {markers}.",
    )
