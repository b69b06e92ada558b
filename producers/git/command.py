"""Running the `git` CLI: short answers as text, long ones streamed line by line."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import IO

GIT = "git"
READ_BUFFER = 1 << 16
CONFIG = ("-c", "core.quotePath=true", "-c", "diff.suppressBlankEmpty=false", "-c", "log.showSignature=false")
"""Settings of a user's config that would change the output the parsers read."""

REPOSITORY_ENV = frozenset(
    {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_NAMESPACE"}
)
"""Variables that would point git at another repository than the `-C` path (set inside git hooks)."""


class GitError(Exception):
    """git is missing, the path is no repository, a ref is unknown, or git failed: one clear line."""


def run_git(path: Path, *args: str) -> str:
    """git's stdout (decoded, stripped); GitError when git fails."""
    try:
        done = subprocess.run(_argv(path, args), capture_output=True, env=_env(), check=False)
    except FileNotFoundError:
        raise _missing() from None
    if done.returncode:
        raise _failure(path, args, done.stderr)
    return done.stdout.decode(errors="replace").strip()


def stream_git(path: Path, args: Sequence[str]) -> Generator[bytes, None, None]:
    """git's stdout line by line (without the newline); git is killed when the caller stops early."""
    with tempfile.TemporaryFile() as errors:
        with _spawn(path, args, errors) as process:
            try:
                yield from _lines(process.stdout)
            except BaseException:  # the caller stopped early (GeneratorExit) or reading failed
                process.kill()
                raise
        if process.returncode:
            errors.seek(0)
            raise _failure(path, args, errors.read())


def _spawn(path: Path, args: Sequence[str], errors: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            _argv(path, args), stdout=subprocess.PIPE, stderr=errors, env=_env(), bufsize=READ_BUFFER
        )
    except FileNotFoundError:
        raise _missing() from None


def _lines(stream: IO[bytes] | None) -> Iterator[bytes]:
    for line in stream or ():
        yield line.removesuffix(b"\n")


def _argv(path: Path, args: Sequence[str]) -> list[str]:
    return [GIT, "-C", str(path), *CONFIG, *args]


def _env() -> dict[str, str]:
    kept = {key: value for key, value in os.environ.items() if key not in REPOSITORY_ENV}
    return {**kept, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}


def _missing() -> GitError:
    return GitError(f"git is not installed (no {GIT!r} on PATH)")


def _failure(path: Path, args: Sequence[str], stderr: bytes) -> GitError:
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    reason = next((line for line in lines if line.startswith("fatal:")), lines[-1] if lines else "")
    return GitError(f"git {args[0]} failed in {path}: {reason.removeprefix('fatal: ') or 'no message'}")
