"""Reading Events API / GH Archive NDJSON files (plain or gzip) lazily, one record per line.

    for item in iter_archive(paths, max_line_bytes=settings.max_event_bytes):
        match item:
            case ArchiveLine(): publish(key=kafka_key(item), value=item.value)
            case BadLine(): report(item.path, item.line_no, item.reason)

Gzip is recognized by its magic bytes whatever the file is named, and concatenated gzip members (as
GH Archive serves them) are read through. Nothing here talks to Kafka.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from schemas.events import MalformedEvent, parse_activity

GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_MAX_LINE_BYTES = 1_000_000
"""The processor's default MAX_EVENT_BYTES: a longer record would only be dead-lettered there."""
SKIP_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class ArchiveLine:
    """A valid record: `value` is the line as read (surrounding whitespace and newline removed)."""

    path: Path
    line_no: int
    value: bytes
    repository: str = ""
    """The record's `repo.name` ("owner/name"), "" when it names none."""


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that is no Events API record, or (line_no 0) a file that cannot be opened."""

    path: Path
    line_no: int
    reason: str

    @property
    def whole_file(self) -> bool:
        """The file could not be opened (missing, not readable, a directory): none of it was read."""
        return self.line_no == 0


def iter_archive(
    paths: Iterable[Path], max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[ArchiveLine | BadLine]:
    """Every non-blank line of every file, in order, as a record or a bad line (numbered from 1).

    A truncated or corrupt gzip stream gives one BadLine for the rest of its file, then the next file
    is read. A line longer than `max_line_bytes` is a BadLine and is never held in memory whole.
    """
    for path in paths:
        yield from _read_file(path, max_line_bytes)


def kafka_key(line: ArchiveLine) -> bytes | None:
    """The `github.activity` key: the repository (None, so any partition, for a record without one)."""
    return line.repository.encode() if line.repository else None


def _read_file(path: Path, limit: int) -> Iterator[ArchiveLine | BadLine]:
    try:
        stream = _open(path)
    except OSError as exc:
        yield BadLine(path, 0, f"cannot read the file: {exc.strerror or exc}")
        return
    with stream:
        yield from _read_lines(path, stream, limit)


def _read_lines(path: Path, stream: io.BufferedIOBase, limit: int) -> Iterator[ArchiveLine | BadLine]:
    line_no = 0
    try:
        for line_no, raw in enumerate(_lines(stream, limit), 1):
            item = _classify(path, line_no, raw, limit)
            if item is not None:
                yield item
    except (EOFError, OSError, zlib.error) as exc:
        yield BadLine(path, line_no + 1, f"unreadable from this line on (truncated or corrupt gzip?): {exc}")


def _open(path: Path) -> io.BufferedIOBase:
    with path.open("rb") as probe:
        magic = probe.read(len(GZIP_MAGIC))
    return gzip.open(path, "rb") if magic == GZIP_MAGIC else path.open("rb")


def _lines(stream: io.BufferedIOBase, limit: int) -> Iterator[bytes | None]:
    """Lines with their newline; None for a line over `limit` bytes, whose rest is skipped unread."""
    most = limit + 2  # room for "\r\n"
    while raw := stream.readline(most):
        if len(raw) < most or raw.endswith(b"\n"):
            yield raw
        else:
            _skip_rest_of_line(stream)
            yield None


def _skip_rest_of_line(stream: io.BufferedIOBase) -> None:
    while (chunk := stream.readline(SKIP_CHUNK)) and not chunk.endswith(b"\n"):
        pass


def _classify(path: Path, line_no: int, raw: bytes | None, limit: int) -> ArchiveLine | BadLine | None:
    value = raw.strip() if raw is not None else None
    if value is None or len(value) > limit:
        return BadLine(path, line_no, f"line longer than {limit} bytes")
    if not value:
        return None
    try:
        event = parse_activity(value, None, None)
    except MalformedEvent as exc:
        return BadLine(path, line_no, exc.reason)
    return ArchiveLine(path, line_no, value, event.repository)
