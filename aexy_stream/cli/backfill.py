"""`aexy-stream backfill git|events`: publish history to the backfill lane topics.

    aexy-stream backfill git PATH [--since DATE] [--until DATE] [--branch NAME] [--repo-name OWNER/NAME]
    aexy-stream backfill events FILE...

A progress bar while it runs (on stderr), one summary line at the end (on stdout). The processor
reads the lane topics as `backfill` priority, within the gateway's backfill share. `events` says in one
line which file it cannot read, publishes the other files, and then exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import EXIT_FAILURE, EXIT_USAGE, fail
from aexy_stream.compose import App
from producers.archive import BadLine, iter_archive
from producers.backfill.records import archive_records, code_change_record
from producers.backfill.sink import BackfillSink
from producers.git import GitError, GitRange, count_commits, iter_code_changes, repository_name
from producers.kafka import ProducerConfig, PublishError, Record

_ERR = Console(stderr=True)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "backfill", help="publish history (git, GH Archive files) to the backfill lane"
    )
    sources = cmd.add_subparsers(dest="source", required=True, metavar="SOURCE")
    git = sources.add_parser("git", help="one code change per non-merge commit of a repository, oldest first")
    git.add_argument("path", type=Path, help="a git repository (working tree or bare)")
    git.add_argument("--since", type=moment, help="first commit date (ISO date or datetime; UTC if naive)")
    git.add_argument("--until", type=until_moment, help=f"last commit date ({UNTIL_FORMS})")
    git.add_argument("--branch", help="ref to walk (default: HEAD)")
    git.add_argument("--repo-name", metavar="OWNER/NAME", help="default: from remote.origin.url")
    git.set_defaults(handler=run_git)
    events = sources.add_parser("events", help="Events API / GH Archive NDJSON files (plain or .gz)")
    events.add_argument("files", type=Path, nargs="+", metavar="FILE")
    events.set_defaults(handler=run_events)


UNTIL_FORMS = "ISO date or datetime; UTC if naive; a date alone includes that whole day"


def moment(text: str) -> datetime:
    """An ISO date or datetime, UTC if naive; a date alone is its midnight, where that day begins."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an ISO date or datetime, not {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def until_moment(text: str) -> datetime:
    """As `moment`, but a date alone is the end of that day: `--until 2025-01-31` means up to and
    including the 31st, as people read it, not its first instant."""
    parsed = moment(text)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return parsed  # a datetime: exactly that instant
    return datetime.combine(day, datetime.max.time(), tzinfo=UTC)


Records = Callable[["Tally"], Iterable[Record | None]]
"""The records of a backfill (None for an item passed over, so progress still counts it)."""


@dataclass(slots=True)
class Tally:
    published: int = 0
    trimmed: int = 0
    skipped: int = 0
    bad: int = 0
    unreadable: int = 0
    """Files that could not be read at all: the backfill is incomplete, so it exits 1."""


@dataclass(frozen=True, slots=True)
class Lane:
    """Where a backfill publishes: one topic of the backfill lane, records of at most `max_event_bytes`."""

    topic: str
    max_event_bytes: int
    producer: ProducerConfig

    @classmethod
    def of(cls, app: App, topic: str) -> Lane:
        producer = app.producer("aexy-stream-backfill", linger_ms=20)
        return cls(topic, app.processor.max_event_bytes, producer)


@with_app
def run_git(args: argparse.Namespace, app: App) -> int:
    try:
        span = GitRange(args.path, args.since, args.until, args.branch, args.repo_name, app.max_patch_bytes)
        total = count_commits(span)
    except (GitError, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    lane = Lane.of(app, app.processor.topics.backfill_code_changes)
    return _publish(lane, lambda tally: _git_records(span, lane, tally), total, "commits", _git_line(span))


@with_app
def run_events(args: argparse.Namespace, app: App) -> int:
    files: list[Path] = args.files
    source = ", ".join(str(f) for f in files)
    lane = Lane.of(app, app.processor.topics.backfill_activity)
    return _publish(lane, lambda tally: _event_records(files, lane, tally), None, "events", source)


def _git_line(span: GitRange) -> str:
    return span.repo_name or repository_name(span.path)


def _git_records(span: GitRange, lane: Lane, tally: Tally) -> Iterator[Record | None]:
    for event in iter_code_changes(span):
        fitted = code_change_record(event, lane.topic, lane.max_event_bytes)
        tally.trimmed += fitted.trimmed
        if fitted.record is None:
            tally.skipped += 1
            _note(f"skipped {event.sha[:12]}: over MAX_EVENT_BYTES even without patches")
        yield fitted.record


def _event_records(files: Iterable[Path], lane: Lane, tally: Tally) -> Iterator[Record | None]:
    for item in iter_archive(files, max_line_bytes=lane.max_event_bytes):
        if isinstance(item, BadLine) and item.whole_file:
            tally.unreadable += 1
            _note(f"{item.path}: {item.reason}")
            yield None
        elif isinstance(item, BadLine):
            tally.bad += 1
            _note(f"{item.path}:{item.line_no}: skipped: {item.reason}")
            yield None
        else:
            yield from archive_records([item], lane.topic)


def _note(line: str) -> None:
    _ERR.print(line, markup=False, highlight=False, soft_wrap=True)


def _publish(lane: Lane, produce: Records, total: int | None, unit: str, source: str) -> int:
    tally = Tally()
    started = time.monotonic()
    try:
        asyncio.run(_stream(lane.producer, produce, total, unit, tally))
    except PublishError as exc:
        return fail(f"Kafka at {lane.producer.bootstrap_servers} did not take the records: {exc}")
    except GitError as exc:
        return fail(str(exc))
    print(_summary(tally, unit, source, time.monotonic() - started), flush=True)
    return EXIT_FAILURE if tally.unreadable else 0


async def _stream(
    config: ProducerConfig, produce: Records, total: int | None, unit: str, tally: Tally
) -> None:
    columns = (TextColumn(f"{unit}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=_ERR, transient=True) as progress:
        task = progress.add_task(unit, total=total)
        async with BackfillSink(config) as sink:
            for record in produce(tally):
                progress.advance(task)
                if record is not None:
                    await sink.send(record)
                    tally.published += 1


def _summary(tally: Tally, unit: str, source: str, seconds: float) -> str:
    extras = [
        f"{tally.trimmed} trimmed to fit MAX_EVENT_BYTES" if tally.trimmed else "",
        f"{tally.skipped} too large, skipped" if tally.skipped else "",
        f"{tally.bad} malformed lines skipped" if tally.bad else "",
        f"{tally.unreadable} unreadable {_files(tally.unreadable)} skipped" if tally.unreadable else "",
    ]
    notes = "; ".join(e for e in extras if e)
    return f"backfill: published {tally.published} {unit} from {source} in {seconds:.1f} s" + (
        f" ({notes})" if notes else ""
    )


def _files(count: int) -> str:
    return "file" if count == 1 else "files"
