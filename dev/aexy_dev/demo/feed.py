"""What the demo publishes: the last N commits of a repository and the bundled webhook examples.

Commits go to the LIVE `code.changes` topic (not the backfill lane), so the demo shows live-priority
processing; they are read by `producers.git` and encoded by `producers.backfill.records`, exactly
as `backfill git` does. Webhook examples go to `github.activity` with the `x-github-event` header,
as the webhook receiver writes them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import orjson

from consumers.headers import GITHUB_DELIVERY, GITHUB_EVENT
from producers.backfill.records import code_change_record
from producers.git import GitError, GitRange, iter_code_changes, repository_name
from producers.git.command import run_git
from producers.kafka import Record
from producers.webhook.records import partition_key
from schemas.events import CodeChangeEvent

EXAMPLES: Traversable = files("aexy_dev.demo") / "examples"
SHORT_EXAMPLES = ("pull_request.opened", "issue_comment.created", "push")
"""`--short`: a pull request, a comment and a push (which asks for no analysis)."""


@dataclass(frozen=True, slots=True)
class Feed:
    records: tuple[Record, ...]

    def per_topic(self) -> dict[str, int]:
        return dict(Counter(record.topic for record in self.records))


@dataclass(frozen=True, slots=True)
class Commits:
    """The commits the demo publishes and the repository's name, or why the default one was unreadable."""

    events: list[CodeChangeEvent]
    repository: str = ""
    unreadable: str = ""


def read_commits(repo: Path | None, count: int, max_patch_bytes: int) -> Commits:
    """The newest `count` commits of `repo`, which must be a repository with commits (else GitError).

    Without `repo`, those of the current directory. It may be no repository at all (`make demo` in an
    unpacked archive, a container, a machine without git): then there are no commits, and the reason,
    because the webhook examples show the pipeline just as well.
    """
    path = repo if repo is not None else Path(".")
    try:
        return Commits(last_code_changes(path, count, max_patch_bytes), repository_name(path))
    except GitError as exc:
        if repo is not None:
            raise
        return Commits([], unreadable=str(exc))


def last_code_changes(path: Path, count: int, max_patch_bytes: int) -> list[CodeChangeEvent]:
    """The newest `count` non-merge commits reachable from HEAD, oldest first.

    Reads only from the committer date of the oldest of them on, so a long history is not parsed.
    """
    dates = run_git(path, "log", "--no-merges", f"--max-count={count}", "--format=%ct", "HEAD").split()
    if not dates:
        return []
    since = datetime.fromtimestamp(min(int(d) for d in dates), UTC)
    events = list(iter_code_changes(GitRange(path, since=since, max_patch_bytes=max_patch_bytes)))
    return events[-count:]


def commit_records(events: Iterable[CodeChangeEvent], topic: str, max_event_bytes: int) -> list[Record]:
    """Each commit's record (large patches dropped to fit `max_event_bytes`, as backfills do)."""
    fitted = (code_change_record(event, topic, max_event_bytes).record for event in events)
    return [record for record in fitted if record is not None]


def example_names(short: bool) -> list[str]:
    names = sorted(f.name.removesuffix(".json") for f in EXAMPLES.iterdir() if f.name.endswith(".json"))
    return [n for n in names if n in SHORT_EXAMPLES] if short else names


def example_records(names: Sequence[str], topic: str) -> list[Record]:
    """The examples as webhook deliveries: body untouched, event name and a stable delivery id."""
    return [_delivery(name, (EXAMPLES / f"{name}.json").read_bytes(), topic) for name in names]


def _delivery(name: str, body: bytes, topic: str) -> Record:
    event = name.split(".", maxsplit=1)[0]
    delivery_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"aexy-stream-demo:{name}"))
    headers = ((GITHUB_EVENT, event.encode()), (GITHUB_DELIVERY, delivery_id.encode()))
    return Record(topic, body, partition_key(orjson.loads(body)), headers)
