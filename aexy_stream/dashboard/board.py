"""The dashboard's state in one place: the view, the event hub, and how far the reader has come."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.events import RESULT, RESYNC, STATUS, Hub
from aexy_stream.dashboard.records import Record, Result
from aexy_stream.dashboard.view import View, ViewLimits
from schemas.types import AnalysisType


@dataclass(slots=True)
class Status:
    """What the page says while it is not showing everything yet."""

    ready: bool = False
    """Caught up with the end offsets seen at start."""
    to_read: int = 0
    """Records between the start and the end offsets seen at start."""
    read: int = 0
    error: str = ""
    """Why the topic cannot be read now (one line, no record content)."""

    def as_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "read": self.read, "to_read": self.to_read, "error": self.error}


class Board:
    def __init__(self, config: DashboardConfig) -> None:
        self.config = config
        limits = ViewLimits(
            config.history_points, config.feed_size, config.skills_per_person, config.hide_risks
        )
        self.view = View(limits)
        self.hub = Hub(config.ring_events, config.client_queue)
        self.status = Status()

    def apply(self, record: Record) -> None:
        changed = self.view.apply(record)
        self.status.read += 1
        if isinstance(changed, str):
            self.hub.publish(RESYNC, RESYNC)
            return
        for subject, kind in changed:
            self.hub.publish(RESULT, key_of(subject, kind))

    def status_changed(self) -> None:
        self.hub.publish(STATUS, STATUS)

    def latest(self, key: str) -> Result | None:
        kind, _, subject = key.partition("|")
        return self.view.of(subject, AnalysisType(kind))


def key_of(subject: str, kind: AnalysisType) -> str:
    """The key the page and the event stream name a (subject, analysis type) by."""
    return f"{kind.value}|{subject}"
