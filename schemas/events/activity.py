"""`ActivityEvent`: one shape for GitHub webhooks and Events API / GH Archive records of every era."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.events.decode import JsonObject, canonical_digest, load_object
from schemas.events.details import (
    CommentDetail,
    IssueDetail,
    PullRequestDetail,
    PushDetail,
    ReviewDetail,
)
from schemas.events.errors import MalformedEvent
from schemas.events.extract import details, webhook_time
from schemas.events.fields import integer, obj, text, when
from schemas.events.names import from_events_api, from_header
from schemas.events.normalize import normalize

Shape = Literal["webhook", "events_api"]


class Actor(BaseModel):
    """Who caused the event. Whether that is a bot is decided by routing (login pattern or `type`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    login: str
    id: int | None = None
    type: str | None = Field(default=None, description="User, Bot, Organization; absent in the Events API.")


class ActivityEvent(BaseModel):
    """A normalized GitHub activity event; details are None when the event type does not carry them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(description="Events API id, else the delivery id, else sha256 of the payload.")
    event_type: str = Field(description="Webhook-style name: push, pull_request, issue_comment, ...")
    action: str = ""
    actor: Actor | None = None
    repository: str = Field(default="", description='"owner/name"; "" for events without a repository.')
    occurred_at: AwareDatetime | None = None
    shape: Shape
    pull_request: PullRequestDetail | None = None
    review: ReviewDetail | None = None
    comment: CommentDetail | None = None
    issue: IssueDetail | None = None
    push: PushDetail | None = None


def parse_activity(value: bytes, event_header: str | None, delivery_header: str | None) -> ActivityEvent:
    """Read an Events API record, or a webhook payload whose event name is `event_header`."""
    data = load_object(value)
    event_type = from_header(event_header or "")
    if _is_events_api(data, event_type):
        return _from_events_api(data, delivery_header)
    if not event_type:
        raise MalformedEvent("webhook payload without an x-github-event header")
    return _from_webhook(data, event_type, delivery_header)


def _is_events_api(data: JsonObject, event_header: str) -> bool:
    """Both `type` and `payload`; without an event header, either one (then checked as a record)."""
    marks = ("type" in data) + ("payload" in data)
    return marks == 2 or (marks == 1 and not event_header)


def _from_webhook(data: JsonObject, event_type: str, delivery: str | None) -> ActivityEvent:
    fields = {
        "event_id": (delivery or "").strip() or canonical_digest(data),
        "event_type": event_type,
        "actor": _actor(obj(data, "sender")),
        "repository": _full_name(obj(data, "repository")),
        "occurred_at": webhook_time(event_type, data),
        "shape": "webhook",
    }
    return _event(fields, data)


def _from_events_api(data: JsonObject, delivery: str | None) -> ActivityEvent:
    """Older shapes are read through `normalize`; the id digest is of the record as it came."""
    record = normalize(data)
    type_name, payload = record.get("type"), record.get("payload")
    if not isinstance(type_name, str) or not type_name:
        raise MalformedEvent("events api record without a 'type' name")
    if not isinstance(payload, dict):
        raise MalformedEvent(f"events api {type_name} record without a 'payload' object")
    event_type = from_events_api(type_name)
    fields = {
        "event_id": _record_id(data) or (delivery or "").strip() or canonical_digest(data),
        "event_type": event_type,
        "actor": _actor(obj(record, "actor")),
        "repository": text(obj(record, "repo"), "name"),
        "occurred_at": when(record.get("created_at")) or webhook_time(event_type, payload),
        "shape": "events_api",
    }
    return _event(fields, payload)


def _event(fields: Mapping[str, object], payload: JsonObject) -> ActivityEvent:
    found = details(str(fields["event_type"]), payload)
    return ActivityEvent.model_validate({**fields, "action": text(payload, "action"), **found})


def _actor(user: JsonObject) -> Actor | None:
    login = text(user, "login")
    return Actor(login=login, id=integer(user, "id"), type=text(user, "type") or None) if login else None


def _full_name(repository: JsonObject) -> str:
    owner, name = text(obj(repository, "owner"), "login"), text(repository, "name")
    return text(repository, "full_name") or (f"{owner}/{name}" if owner and name else "")


def _record_id(data: JsonObject) -> str:
    record_id = data.get("id")
    return str(record_id) if isinstance(record_id, str | int) and not isinstance(record_id, bool) else ""
