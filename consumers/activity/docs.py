"""The state documents and how an observation changes them (pure functions on JSON-like dicts).

A document keeps counters per UTC day, trimmed to `history_days` behind its latest event (so a
backfill that runs while live events arrive still finds its days); lists keep their last `KEEP`
values. Both stay small whatever the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from consumers.activity.config import ActivityConfig
from consumers.activity.observe import Observation
from schemas.languages import skill_language

Doc = dict[str, Any]
KEEP = 50


def record_developer(
    doc: Doc, obs: Observation, peers: Iterable[str], repository: str, config: ActivityConfig
) -> Doc:
    _count_day(doc, obs, config)
    day = _day(obs.at)
    known = doc.setdefault("peers", {}).setdefault(day, [])
    known.extend(p for p in sorted({*peers, f"repo:{repository}"}) if p not in known)
    _keep_sizes(doc, obs)
    return _pruned(doc, config)


def record_repository(doc: Doc, obs: Observation, developer: str, config: ActivityConfig) -> Doc:
    _count_day(doc, obs, config)
    if obs.kind == "commit":
        per_day = doc.setdefault("developers", {}).setdefault(_day(obs.at), {})
        per_day[developer] = per_day.get(developer, 0) + 1
    _keep_sizes(doc, obs)
    return _pruned(doc, config)


def record_skills(doc: Doc, languages: Iterable[str], frameworks: Iterable[str]) -> Doc:
    """Each framework and each programming language counts once (`schemas.languages.skill_language`:
    "C++" is `cpp`; "unknown", prose, markup and data formats are no skill and never counted)."""
    skills = {
        "languages": {language for name in languages if (language := skill_language(name))},
        "frameworks": {n.strip().lower() for n in frameworks if n.strip()},
    }
    for field, names in skills.items():
        counts = doc.setdefault(field, {})
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return doc


def record_peer(doc: Doc, at: datetime, peer: str, config: ActivityConfig) -> Doc:
    """Someone who worked with this developer (a reviewer of their pull request), on that day."""
    known = doc.setdefault("peers", {}).setdefault(_day(at), [])
    if peer not in known:
        known.append(peer)
    return _pruned(doc, config)


def merge_developer(doc: Doc, other: Doc, config: ActivityConfig) -> Doc:
    """`other` (the same person under another id) added into `doc`: day counters summed, peers
    joined, kept sizes and skill counts added; the skills last asked about are forgotten, so the
    person's profile is asked again on the joined skills."""
    for day, counts in other.get("days", {}).items():
        mine = doc.setdefault("days", {}).setdefault(day, {})
        for name, n in counts.items():
            mine[name] = mine.get(name, 0) + n
    for day, peers in other.get("peers", {}).items():
        known = doc.setdefault("peers", {}).setdefault(day, [])
        known.extend(p for p in peers if p not in known)
    for field in ("pr_sizes", "turnarounds"):
        values = [*doc.get(field, []), *other.get(field, [])]
        if values:
            doc[field] = values[-KEEP:]
    for field in ("languages", "frameworks"):
        counts = doc.setdefault(field, {})
        for name, n in other.get(field, {}).items():
            counts[name] = counts.get(name, 0) + n
    _span(doc, first(other), latest(other))
    doc.pop("snapshots", None)
    return _pruned(doc, config)


MERGED_INTO, MOVING = "merged_into", "moving"
_POINTER = frozenset({MERGED_INTO, MOVING, "snapshots"})
"""What a merged developer's document keeps that is not a count to move (the skills last asked about
are the person's to ask again)."""


def merged_into(doc: Doc) -> str | None:
    """The developer a merged developer's document points at; None for anyone else's."""
    into = doc.get(MERGED_INTO)
    return into if isinstance(into, str) else None


def moved(doc: Doc, *, into: str, batch: str) -> Doc:
    """A merged developer's document, left pointing at `into`: what it counted is taken out, whole,
    as the batch `batch` (`{"moving": {"id": batch, "doc": ...}}`), held there until it is added
    into `into`'s. A batch still held goes first: then the document only points at `into`, counts
    written beside the pointer since staying for the next batch."""
    if MOVING in doc:
        return {**doc, MERGED_INTO: into}
    taken = {name: value for name, value in doc.items() if name not in _POINTER}
    return {MERGED_INTO: into, **({MOVING: {"id": batch, "doc": taken}} if taken else {})}


def moved_in(doc: Doc, *, batch: str) -> Doc:
    """The batch `batch` added into the person's: no longer held."""
    if doc.get(MOVING, {}).get("id") == batch:
        del doc[MOVING]
    return doc


def repositories(doc: Doc) -> list[str]:
    """The repositories a developer worked in, as their document keeps them (peers `repo:<name>`)."""
    peers = (p for per_day in doc.get("peers", {}).values() for p in per_day)
    return sorted({p.removeprefix("repo:") for p in peers if p.startswith("repo:")})


def rename_developer(doc: Doc, *, old: str, new: str) -> Doc:
    """A repository's commits by `old` counted for `new` (the same person)."""
    for per_day in doc.get("developers", {}).values():
        if old in per_day:
            per_day[new] = per_day.get(new, 0) + per_day.pop(old)
    return doc


def _span(doc: Doc, earliest: datetime | None, newest: datetime | None) -> None:
    mine_first, mine_latest = first(doc), latest(doc)
    if earliest is not None and (mine_first is None or earliest < mine_first):
        doc["first"] = earliest.isoformat()
    if newest is not None and (mine_latest is None or newest > mine_latest):
        doc["latest"] = newest.isoformat()


def latest(doc: Doc) -> datetime | None:
    return _moment(doc.get("latest"))


def first(doc: Doc) -> datetime | None:
    return _moment(doc.get("first"))


def _moment(value: Any) -> datetime | None:
    """A stored time; anything else (a document changed by hand) counts as none."""
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _count_day(doc: Doc, obs: Observation, config: ActivityConfig) -> None:
    counts = doc.setdefault("days", {}).setdefault(_day(obs.at), {})
    for name, hit in _tallies(obs, config):
        if hit:
            counts[name] = counts.get(name, 0) + 1
    current, earliest = latest(doc), first(doc)
    if current is None or obs.at > current:
        doc["latest"] = obs.at.isoformat()
    if earliest is None or obs.at < earliest:
        doc["first"] = obs.at.isoformat()


def _tallies(obs: Observation, config: ActivityConfig) -> list[tuple[str, bool]]:
    """After hours and weekends are judged on commits alone: only their timestamps carry the
    author's own offset (GitHub gives every other time in UTC)."""
    start, end = config.work_hours
    local, timed = obs.at, obs.kind == "commit"
    return [
        (obs.kind, True),
        ("events", True),
        ("timed", timed),
        ("after_hours", timed and not start <= local.hour < end),
        ("weekend", timed and local.weekday() >= 5),
    ]


def _keep_sizes(doc: Doc, obs: Observation) -> None:
    """The pull-request sizes and review turnarounds a subject's medians are taken from."""
    _keep(doc, "pr_sizes", obs.size if obs.kind == "pull_request" else None)
    _keep(doc, "turnarounds", obs.turnaround_h)


def _keep(doc: Doc, field: str, value: float | None) -> None:
    if value is not None:
        values = doc.setdefault(field, [])
        values.append(round(value, 3))
        del values[:-KEEP]


def _pruned(doc: Doc, config: ActivityConfig) -> Doc:
    newest = latest(doc)
    if newest is None:
        return doc
    oldest = _day(newest - timedelta(days=max(config.history_days, 2 * config.window_days)))
    for field in ("days", "peers", "developers"):
        if field in doc:
            doc[field] = {day: v for day, v in doc[field].items() if day > oldest}
    return doc


def _day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()
