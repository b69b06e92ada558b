"""The repository's "owner/name": from `remote.origin.url`, else "local/<directory name>"."""

from __future__ import annotations

import re
from pathlib import Path

from producers.git.command import GitError, run_git

REMOTE_URL = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]+@)?[^/]+/|[^@/\s]+@[^:/\s]+:)"
    r"(?P<owner>[^/\s]+)/(?P<name>[^/\s]+?)(?:\.git)?/?$"
)
"""https://host/owner/name(.git), ssh://user@host[:port]/owner/name(.git), user@host:owner/name(.git)."""


def repository_name(path: Path) -> str:
    """ "owner/name" of origin when its URL has that shape (GitHub https or ssh), else "local/<dir>"."""
    owner_name = name_from_url(
        run_git(path, "config", "--local", "--default", "", "--get", "remote.origin.url")
    )
    return owner_name or f"local/{_directory_name(path)}"


def name_from_url(url: str) -> str:
    """ "owner/name" of a remote URL, "" when the URL does not end in exactly owner/name."""
    found = REMOTE_URL.match(url.strip())
    return f"{found['owner']}/{found['name']}" if found else ""


def _directory_name(path: Path) -> str:
    """The work tree's directory name, or a bare repository's without `.git`; whitespace becomes '-'."""
    try:
        top = Path(run_git(path, "rev-parse", "--show-toplevel"))
    except GitError:
        top = Path(run_git(path, "rev-parse", "--absolute-git-dir"))
    name = top.name.removesuffix(".git") or "repository"
    return "-".join(name.split())
