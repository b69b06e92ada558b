"""The JSON the page reads: the snapshot (`GET /api/state`, and the `snapshot` event) and the
payload of each event. A result travels as its envelope, as read from the topic (the contract),
beside what the view knows of it: its canonical subject, repositories, headline number and level.
"""

from __future__ import annotations

from typing import Any

import orjson

from aexy_stream.dashboard.board import Board, key_of
from aexy_stream.dashboard.events import RESULT, STATUS, Event
from aexy_stream.dashboard.records import Result
from aexy_stream.dashboard.tables import (
    Filters,
    feed,
    is_person,
    people_rows,
    person_row,
    team_row,
    team_rows,
)
from aexy_stream.dashboard.view import Key, View
from consumers.activity.identity import is_pseudonym
from schemas.types import AnalysisType


def entry(view: View, result: Result) -> dict[str, Any]:
    subject = view.canonical(result.subject)
    return {
        "key": key_of(subject, result.kind),
        "subject": subject,
        "type": result.kind.value,
        "request_id": result.request_id,
        "at": result.at,
        "headline": result.headline,
        "level": result.level,
        "repositories": view.repositories_of(result),
        "pseudonym": is_pseudonym(subject),
        "place": {"partition": result.place.partition, "offset": result.place.offset},
        "envelope": orjson.Fragment(result.envelope),
    }


def history(view: View, key: Key) -> list[list[Any]]:
    return [[point.at, point.value, point.level] for point in view.history.get(key, ())]


def skills(view: View, subject: str) -> list[dict[str, Any]]:
    held = sorted(view.skills.get(subject, {}).values(), key=lambda s: (-s.confidence, s.name.lower()))
    return [
        {
            "name": s.name,
            "category": s.category,
            "confidence": s.confidence,
            "evidence": s.evidence,
            "at": s.at,
        }
        for s in held
    ]


def state(board: Board) -> bytes:
    """Everything the page shows, as of `id` (the event id a client resumes from)."""
    view = board.view
    return orjson.dumps(
        {
            "id": board.hub.event_id(board.hub.seq),
            "status": board.status.as_json(),
            "hide_risks": view.limits.hide_risks,
            "teams": team_rows(view),
            "people": people_rows(view),
            "entries": [entry(view, result) for result in view.latest.values()],
            "history": {key_of(*key): history(view, key) for key in view.latest},
            "skills": {subject: skills(view, subject) for subject in view.skills},
            "feed": [entry(view, result) for result in feed(view, Filters())],
        }
    )


def event_data(board: Board, event: Event) -> bytes | None:
    """The payload of an event as of now; None when its key no longer holds anything."""
    if event.kind == STATUS:
        return orjson.dumps(board.status.as_json())
    if event.kind != RESULT:
        return None
    found = board.latest(event.key)
    if found is None:
        return None
    view = board.view
    subject, kind = view.canonical(found.subject), found.kind
    return orjson.dumps(
        {
            "entry": entry(view, found),
            "history": history(view, (subject, kind)),
            "team": team_row(view, subject) if kind is AnalysisType.TEAM_HEALTH else None,
            "people": [person_row(view, person) for person in _people_of(view, found)],
            "skills": skills(view, subject) if kind is AnalysisType.SKILL_EXTRACTION else None,
        }
    )


def _people_of(view: View, result: Result) -> list[str]:
    """The people whose row a result changes: its subject, or the developers a task matching names."""
    subject = view.canonical(result.subject)
    if result.kind is AnalysisType.TASK_MATCHING:
        named = {view.canonical(match["developer"]) for match in result.result["matches"]}
        return sorted(person for person in named if is_person(person, view))
    return [subject] if is_person(subject, view) else []
