"""One commit's lines of the `git log` stream (header, message, files) read into a `CodeChangeEvent`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import takewhile

from producers.git.command import GitError
from producers.git.diff import CommitFiles
from schemas.events import CodeChangeEvent, FileChange, GitIdentity

COMMIT_MARK = b"\x00\x01"
MESSAGE_END = b"\x00\x02"
HEADER_FORMAT = "%x00%x01%H %P%n%aN%x00%aE%x00%ae%x00%aI%x00%cN%x00%cE%x00%ce%x00%cI%n%B%n%x00%x02"
"""Marker + sha and parents; author and committer (name and email after the repository's .mailmap,
the email as written in the commit, strict ISO date with the offset); the raw message; end marker.
Names and emails hold no newline and no NUL, messages no NUL."""


def read_commit(lines: Iterator[bytes], repository: str, max_patch_bytes: int) -> CodeChangeEvent:
    sha, *parents = next(lines).removeprefix(COMMIT_MARK).decode().split()
    people = next(lines).decode(errors="replace").split("\x00")
    message = b"\n".join(takewhile(lambda line: line != MESSAGE_END, lines))
    return CodeChangeEvent(
        repository=repository,
        sha=sha,
        parents=tuple(parents),
        author=_identity(*people[0:3]),
        authored_at=datetime.fromisoformat(people[3]),
        committer=_identity(*people[4:7]),
        committed_at=datetime.fromisoformat(people[7]),
        message=message.decode(errors="replace").rstrip("\n"),
        files=_files(lines, max_patch_bytes, sha),
    )


def _identity(name: str, email: str, written: str) -> GitIdentity:
    """The identity after .mailmap; the address written in the commit kept when the map changed it."""
    return GitIdentity(name=name, email=email, observed_email=written if written != email else None)


def _files(lines: Iterator[bytes], max_patch_bytes: int, sha: str) -> tuple[FileChange, ...]:
    files = CommitFiles(max_patch_bytes)
    for line in lines:
        files.feed(line)
    try:
        return files.files()
    except ValueError as exc:
        raise GitError(f"unexpected git log output at commit {sha}: {exc}") from None
