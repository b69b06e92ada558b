"""What every request of a commit is told about the whole commit, in `context["commit"]`.

A large commit is split into parts, each some of its files (`consumers/parts.py`); each part still
carries the commit's facts, so that verdicts about the commit (are tests in it, how large is it) are
made on the commit:

- `message`: the commit message, at most `MAX_MESSAGE_CHARS` (redacted by the gateway);
- `files_changed`, `additions`, `deletions`: the whole commit, skipped files included;
- `code_additions`: lines added to analysed source files that are not tests (`schemas.languages.
  is_skill`, `schemas.paths.is_test_path`);
- `tests_changed`, `docs_changed`: whether a file that is not vendored is a test / documentation
  (`schemas/paths.py`);
- `files`: each file (the first `MAX_LISTED_FILES`; `files_not_listed` counts the rest) with its
  `path`, `status`, `additions`, `deletions`, its `language` when it has one and the reason it is
  `skipped` when it is (`consumers.file_skips.FileSkip`).

A file's language is looked up only when a fact reads it: for the files analysed (`code_additions`)
and the files listed; a commit of thousands of files skipped asks for none of theirs.

Which part a request is goes beside it, in `context["part"]`: `{"index": i, "count": n}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consumers.file_skips import FileSkip, head_lines
from schemas.events import CodeChangeEvent, FileChange
from schemas.languages import is_skill, language_of, language_of_path
from schemas.paths import is_doc_path, is_test_path

MAX_MESSAGE_CHARS = 4000
MAX_LISTED_FILES = 100


def commit_facts(event: CodeChangeEvent, skips: Sequence[FileSkip | None]) -> dict[str, Any]:
    """The facts of `event` (its files' skip reasons in order)."""
    message = event.message[:MAX_MESSAGE_CHARS]
    files = [
        _file(change, skip, listed=index < MAX_LISTED_FILES)
        for index, (change, skip) in enumerate(zip(event.files, skips, strict=True))
    ]
    kept = [f for f, skip in zip(event.files, skips, strict=True) if skip is not FileSkip.VENDORED]
    facts = {
        "message": message,
        "files_changed": len(files),
        "additions": sum(f.additions for f in event.files),
        "deletions": sum(f.deletions for f in event.files),
        "code_additions": sum(f["additions"] for f in files if _is_code(f)),
        "tests_changed": any(is_test_path(f.path) for f in kept),
        "docs_changed": any(is_doc_path(f.path) for f in kept),
        "files": files[:MAX_LISTED_FILES],
    }
    if len(files) > MAX_LISTED_FILES:
        facts["files_not_listed"] = len(files) - MAX_LISTED_FILES
    return facts


def file_language(change: FileChange) -> str | None:
    """By the file's name, or by its `#!` line when the patch shows the file's first line (read only
    when the name tells no language)."""
    by_name = language_of_path(change.path)
    if by_name is not None:
        return by_name
    head = head_lines(change.patch, 1)
    return language_of(change.path, head[0] if head else "")


def part_facts(index: int, count: int) -> dict[str, int]:
    return {"index": index, "count": count}


def _file(change: FileChange, skip: FileSkip | None, listed: bool) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "path": change.path,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
    }
    language = file_language(change) if listed or skip is None else None
    if language:
        facts["language"] = language
    if skip is not None:
        facts["skipped"] = skip.value
    return facts


def _is_code(facts: dict[str, Any]) -> bool:
    return "skipped" not in facts and is_skill(facts.get("language")) and not is_test_path(facts["path"])
