"""Turning a request into the files it talks about: unified diffs, a single file, or a snippet.

A unified diff (`diff --git a/x b/x` and/or `--- a/x` / `+++ b/x` headers, `@@ -a,b +c,d @@` hunks)
gives one `FileChange` per file with its added lines and its deleted-line count. Without a diff,
the context keys `path` / `filename` / `file` name the file the content is, and `files` (a list of
paths or of `{path|filename, additions, deletions, changes}` objects) lists changed files whose
size counts as a weight even when their text is absent. A bare snippet becomes one path-less file.

A request that is a part of a commit (`consumers/commit_facts.py`) also says what the whole commit
holds (`context["commit"]`) and which part it is (`context["part"]`): `Material.commit`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.providers.rules.inputs import count, item_name, text
from schemas.paths import is_doc_path, is_test_path

MAX_CONTENT_CHARS = 400_000
"""Longer content is cut here so that one huge input cannot stall the worker."""

SINGLE_PATH_KEYS: tuple[str, ...] = ("path", "filename", "file")
FILE_WEIGHT_KEYS: tuple[str, ...] = ("additions", "deletions")

GIT_HEADER = re.compile(r"^diff --git a/(?P<old>\S+) b/(?P<new>\S+)")
HUNK_HEADER = re.compile(r"^@@ -\d+(?:,(?P<old>\d+))? \+(?P<start>\d+)(?:,(?P<new>\d+))? @@")


@dataclass(slots=True)
class FileChange:
    """One file of the material: its added (or whole) lines and how many lines it changed."""

    path: str
    added: list[str] = field(default_factory=list)
    line_numbers: list[int] = field(default_factory=list)
    deleted: int = 0
    weight_hint: int = 0

    @property
    def changed_lines(self) -> int:
        return max(len(self.added) + self.deleted, self.weight_hint)

    @property
    def code(self) -> str:
        return "\n".join(self.added)

    def file_line(self, index: int) -> int:
        """The line number in the file of the `index`-th (1-based) line of `code`."""
        if 1 <= index <= len(self.line_numbers):
            return self.line_numbers[index - 1]
        return index

    @property
    def is_test(self) -> bool:
        return is_test_path(self.path)

    @property
    def is_doc(self) -> bool:
        return is_doc_path(self.path)


@dataclass(frozen=True, slots=True)
class Commit:
    """The whole commit a request is part `part` of `parts` of."""

    tests_changed: bool
    code_additions: int
    part: int = 1
    parts: int = 1


@dataclass(frozen=True, slots=True)
class Material:
    """All files of one request; `is_diff` says whether the content was a unified diff; `commit`,
    the commit it is a part of, when the request says."""

    files: tuple[FileChange, ...]
    is_diff: bool
    commit: Commit | None = None

    @property
    def code_files(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.added)

    @property
    def code(self) -> str:
        return "\n".join(f.code for f in self.code_files)

    def named(self) -> Material:
        """Only the files with a path: prose is never sniffed for a language."""
        return Material(tuple(f for f in self.files if f.path), self.is_diff, self.commit)


def looks_like_diff(content: str) -> bool:
    return bool(re.search(r"^diff --git |^@@ -\d", content, re.MULTILINE)) and "\n+" in content


def strip_prefix(path: str) -> str:
    path = path.strip().split("\t")[0]
    return path[2:] if path[:2] in ("a/", "b/") else path


class _DiffParser:
    """A small state machine over the lines of a unified diff."""

    def __init__(self) -> None:
        self.files: list[FileChange] = []
        self.current: FileChange | None = None
        self.old_left = 0
        self.new_left = 0
        self.line_no = 0
        self.old_path = ""

    def feed(self, line: str) -> None:
        if line.startswith("diff --git "):
            self.old_left = self.new_left = 0
        if self.old_left > 0 or self.new_left > 0:
            self._hunk_line(line)
        else:
            self._header_line(line)

    def _start(self, path: str) -> None:
        self.current = FileChange(path=path)
        self.files.append(self.current)

    def _header_line(self, line: str) -> None:
        git = GIT_HEADER.match(line)
        hunk = HUNK_HEADER.match(line)
        if git:
            self._start(git.group("new"))
        elif line.startswith("--- "):
            self.old_path = strip_prefix(line[4:])
        elif line.startswith("+++ "):
            self._new_path(strip_prefix(line[4:]))
        elif hunk:
            self._open_hunk(hunk)

    def _new_path(self, path: str) -> None:
        path = self.old_path if path == "/dev/null" else path
        if self.current is None or self.current.added or self.current.deleted:
            self._start(path)
        elif self.current is not None:
            self.current.path = path

    def _open_hunk(self, hunk: re.Match[str]) -> None:
        if self.current is None:
            self._start(self.old_path)
        self.old_left = int(hunk.group("old") or 1)
        self.new_left = int(hunk.group("new") or 1)
        self.line_no = int(hunk.group("start"))

    def _hunk_line(self, line: str) -> None:
        assert self.current is not None
        marker, body = line[:1], line[1:]
        if marker == "+":
            self.current.added.append(body)
            self.current.line_numbers.append(self.line_no)
            self.line_no += 1
            self.new_left -= 1
        elif marker == "-":
            self.current.deleted += 1
            self.old_left -= 1
        elif marker != "\\":
            self.old_left -= 1
            self.new_left -= 1
            self.line_no += 1


def parse_diff(content: str) -> list[FileChange]:
    parser = _DiffParser()
    for line in content.splitlines():
        parser.feed(line)
    return [f for f in parser.files if f.path and f.path != "/dev/null"]


def _context_files(context: Mapping[str, Any]) -> Iterator[FileChange]:
    listed = context.get("files")
    for item in listed if isinstance(listed, list | tuple) else ():
        path = item_name(item)
        if path:
            yield FileChange(path=path, weight_hint=_weight(item))


def _weight(item: Any) -> int:
    if not isinstance(item, Mapping):
        return 1
    total = sum(count(item, key) or 0.0 for key in FILE_WEIGHT_KEYS) or count(item, "changes") or 1.0
    return int(total)


def single_path(context: Mapping[str, Any]) -> str:
    for key in SINGLE_PATH_KEYS:
        path = text(context.get(key))
        if path:
            return path
    return ""


def _whole_file(content: str, path: str) -> FileChange:
    lines = content.splitlines()
    return FileChange(path=path, added=lines, weight_hint=sum(1 for line in lines if line.strip()))


def collect(content: str, context: Mapping[str, Any]) -> Material:
    """The files of a request (see the module docstring for the accepted shapes)."""
    content = content[:MAX_CONTENT_CHARS]
    is_diff = looks_like_diff(content)
    files = parse_diff(content) if is_diff else []
    path = single_path(context)
    if not is_diff and (path or (content.strip() and not content.lstrip().startswith("{"))):
        files.append(_whole_file(content, path))
    known = {f.path for f in files}
    files.extend(f for f in _context_files(context) if f.path not in known)
    return Material(files=tuple(files), is_diff=is_diff, commit=commit_of(context))


def commit_of(context: Mapping[str, Any]) -> Commit | None:
    """`context["commit"]` and `context["part"]`, when the commit says whether tests changed."""
    commit, part = context.get("commit"), context.get("part")
    if not isinstance(commit, Mapping) or not isinstance(commit.get("tests_changed"), bool):
        return None
    place = part if isinstance(part, Mapping) else {}
    return Commit(
        tests_changed=commit["tests_changed"],
        code_additions=int(count(commit, "code_additions") or 0),
        part=int(count(place, "index") or 1),
        parts=int(count(place, "count") or 1),
    )
