"""`GitRange`: which commits of which repository to read, and how much of each patch to keep."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPOSITORY_NAME = re.compile(r"^[^/\s]+/[^/\s]+$")
MAX_PATCH_BYTES = 256 * 1024
"""A file's patch kept up to this (BACKFILL_MAX_PATCH_BYTES's default): larger ones go out without it."""


@dataclass(frozen=True, slots=True)
class GitRange:
    """Non-merge commits reachable from `branch` (default HEAD) with a committer date in [since, until].

    Naive datetimes are read as UTC. `repo_name` ("owner/name") defaults to the one derived from
    `remote.origin.url`, see `repository_name`. A file whose patch is longer than `max_patch_bytes`
    (bytes as git prints them) gets `patch=None`; its line counts are kept.
    """

    path: Path
    since: datetime | None = None
    until: datetime | None = None
    branch: str | None = None
    repo_name: str | None = None
    max_patch_bytes: int = MAX_PATCH_BYTES

    def __post_init__(self) -> None:
        if self.repo_name is not None and not REPOSITORY_NAME.match(self.repo_name):
            raise ValueError(f"repository name {self.repo_name!r} is not of the form owner/name")
        if self.max_patch_bytes < 0:
            raise ValueError(f"max_patch_bytes must be >= 0, not {self.max_patch_bytes}")

    def date_options(self) -> list[str]:
        """`--since`/`--until` in git's exact `@<epoch> <offset>` form (whole seconds, bounds included)."""
        options = [f"--since=@{math.ceil(_epoch(self.since))} +0000"] if self.since else []
        return options + ([f"--until=@{math.floor(_epoch(self.until))} +0000"] if self.until else [])


def _epoch(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
