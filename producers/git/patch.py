"""One file's `diff --git` section(s) of `git log --patch`: line counts and the hunks up to a cap.

The patch is the unified diff from the first `@@` on, as git prints it (no trailing newline), like
GitHub's `files[].patch`. Over the cap it is dropped, `patch=None`, not truncated: a cut hunk is no
valid diff, and the processor already truncates per file for its prompts. Lines past the cap are
counted but never held. Additions and deletions are the hunks' `+`/`-` lines, which is what
`--numstat` counts (binary files: 0 and 0, `binary=True`, no patch).
"""

from __future__ import annotations

from producers.git.raw import RawEntry
from schemas.events import FileChange


class PatchReader:
    """Reads one file's `diff --git` section(s): counts +/- lines, keeps hunks up to a byte cap."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._kept: list[bytes] | None = []
        self._size = -1  # the joining newlines are one fewer than the lines
        self._in_hunks = False
        self.additions = 0
        self.deletions = 0
        self.binary = False

    def start_section(self) -> None:
        self._in_hunks = False

    def feed(self, line: bytes) -> None:
        if self._in_hunks or line.startswith(b"@@"):
            self._in_hunks = True
            self._count(line)
            self._keep(line)
        elif line.startswith(b"Binary files "):
            self.binary = True

    def patch(self) -> str | None:
        return b"\n".join(self._kept).decode(errors="replace") if self._kept else None

    def file_change(self, entry: RawEntry) -> FileChange:
        return FileChange(
            path=entry.path,
            previous_path=entry.previous_path,
            status=entry.status,
            additions=self.additions,
            deletions=self.deletions,
            patch=self.patch(),
            binary=self.binary,
        )

    def _count(self, line: bytes) -> None:
        if line.startswith(b"+"):
            self.additions += 1
        elif line.startswith(b"-"):
            self.deletions += 1

    def _keep(self, line: bytes) -> None:
        if self._kept is None:
            return
        self._size += len(line) + 1
        if self._size > self._max_bytes:
            self._kept = None  # over the cap: no patch at all, and nothing more held
        else:
            self._kept.append(line)
