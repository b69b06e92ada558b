"""The materialized view: the latest result per (subject, analysis type), a bounded history per key,
the newest results for the feed, and identity merges folded so that one person is one subject.

Keys are always current canonical subjects: a result is stored under its subject's canonical id, and
an `identity_merged` record moves what was stored under the merged subjects to the person's id.
A result read again (a replay: same `request_id` in its key's history) changes nothing.
"""

from __future__ import annotations

import bisect
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from aexy_stream.dashboard.records import RISKS, Merge, Record, Result, Unreadable
from schemas.types import AnalysisType

Key = tuple[str, AnalysisType]


@dataclass(frozen=True, slots=True)
class Point:
    at: float
    value: float | None
    level: str | None
    request_id: str


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    category: str
    confidence: float
    evidence: str
    at: float


@dataclass(frozen=True, slots=True)
class ViewLimits:
    history_points: int = 60
    feed_size: int = 500
    skills_per_person: int = 60
    hide_risks: bool = False


RESYNC = "resync"
"""What `apply` returns for a merge: every client needs the whole state again."""


class View:
    def __init__(self, limits: ViewLimits | None = None) -> None:
        self.limits = limits or ViewLimits()
        self.latest: dict[Key, Result] = {}
        self.history: dict[Key, list[Point]] = {}
        self.kinds: dict[str, set[AnalysisType]] = {}
        self.feed: deque[Result] = deque(maxlen=self.limits.feed_size)
        self.aliases: dict[str, str] = {}
        self.repositories: dict[str, set[str]] = {}
        """Person -> the repositories whose task matching named them (envelopes carry no repository)."""
        self.skills: dict[str, dict[str, Skill]] = {}
        self.counts: Counter[str] = Counter()

    def canonical(self, subject: str) -> str:
        seen = {subject}
        while (onward := self.aliases.get(subject)) is not None and onward not in seen:
            seen.add(onward)
            subject = onward
        return subject

    def apply(self, record: Record) -> list[Key] | str:
        """The keys that changed, or RESYNC."""
        self.counts["records"] += 1
        if isinstance(record, Unreadable):
            self.counts["unreadable"] += 1
            return []
        if isinstance(record, Merge):
            self.counts["merges"] += 1
            self._merge(record)
            return RESYNC
        return self._result(record)

    def _result(self, result: Result) -> list[Key]:
        if self.limits.hide_risks and result.kind in RISKS:
            self.counts["hidden"] += 1
            return []
        key = (self.canonical(result.subject), result.kind)
        points = self.history.setdefault(key, [])
        if any(point.request_id == result.request_id for point in points):
            self.counts["duplicates"] += 1
            return []
        self.counts["results"] += 1
        point = Point(result.at, result.headline, result.level, result.request_id)
        bisect.insort(points, point, key=lambda p: p.at)
        del points[: max(0, len(points) - self.limits.history_points)]
        current = self.latest.get(key)
        if current is None or result.at >= current.at:
            self.latest[key] = result
        self.kinds.setdefault(key[0], set()).add(result.kind)
        self.feed.append(result)
        self._learn(key[0], result)
        return [key]

    def _learn(self, subject: str, result: Result) -> None:
        if result.kind is AnalysisType.TASK_MATCHING:
            for match in result.result["matches"]:
                self.repositories.setdefault(self.canonical(match["developer"]), set()).add(subject)
        elif result.kind is AnalysisType.SKILL_EXTRACTION:
            for skill in result.result["skills"]:
                seen = Skill(
                    skill["name"], skill["category"], skill["confidence"], skill["evidence"], result.at
                )
                self._add_skill(subject, seen)

    def _add_skill(self, subject: str, skill: Skill) -> None:
        skills = self.skills.setdefault(subject, {})
        name = skill.name.lower()
        before = skills.get(name)
        if before is not None and before.at > skill.at:
            skill, before = before, skill
        if before is not None:
            skill = Skill(
                skill.name, skill.category, max(skill.confidence, before.confidence), skill.evidence, skill.at
            )
        skills[name] = skill
        if len(skills) > self.limits.skills_per_person:
            weakest = min(skills, key=lambda n: (skills[n].confidence, skills[n].at))
            del skills[weakest]

    def _merge(self, merge: Merge) -> None:
        """Fold each merged subject into the merge's, as the view already knows them: merges are never
        undone, so a merge record read again, or late, only ever adds aliases."""
        target = self.canonical(merge.subject)
        for old in merge.merged:
            merged = self.canonical(old)
            if merged != target:
                self.aliases[merged] = target
                self._fold(merged, target)

    def _fold(self, old: str, target: str) -> None:
        for kind in self.kinds.pop(old, set()):
            self._fold_key((old, kind), (target, kind))
            self.kinds.setdefault(target, set()).add(kind)
        if (repositories := self.repositories.pop(old, None)) is not None:
            self.repositories.setdefault(target, set()).update(repositories)
        for skill in self.skills.pop(old, {}).values():
            self._add_skill(target, skill)

    def _fold_key(self, old: Key, new: Key) -> None:
        moved = self.latest.pop(old)
        current = self.latest.get(new)
        if current is None or moved.at > current.at:
            self.latest[new] = moved
        points = {p.request_id: p for p in (*self.history.pop(old, ()), *self.history.get(new, ()))}
        joined = sorted(points.values(), key=lambda p: p.at)
        self.history[new] = joined[-self.limits.history_points :]

    # -- reading -------------------------------------------------------------------------------------

    def subjects(self, kinds: frozenset[AnalysisType]) -> list[str]:
        """The subjects that have a result of one of `kinds`, sorted."""
        return sorted(subject for subject, held in self.kinds.items() if held & kinds)

    def of(self, subject: str, kind: AnalysisType) -> Result | None:
        return self.latest.get((subject, kind))

    def result_fields(self, subject: str, kind: AnalysisType) -> dict[str, Any] | None:
        found = self.latest.get((subject, kind))
        return None if found is None else found.result

    def last_at(self, subject: str) -> float | None:
        times = [self.latest[(subject, kind)].at for kind in self.kinds.get(subject, ())]
        return max(times, default=None)

    def repositories_of(self, result: Result) -> list[str]:
        subject = self.canonical(result.subject)
        if "/" in subject:
            return [subject]
        return sorted(self.repositories.get(subject, ()))
