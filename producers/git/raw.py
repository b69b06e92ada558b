"""`--raw` lines of `git log`: each file's status and path(s), paths unquoted as git quotes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from schemas.events.code_change import FileStatus

STATUSES: MappingProxyType[str, FileStatus] = MappingProxyType(
    {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "changed"}
)
"""`--raw` status letters as GitHub names them; a type change (file <-> symlink) is "changed"."""

ESCAPES: MappingProxyType[bytes, bytes] = MappingProxyType(
    {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f", b"r": b"\r"}
)
QUOTED_CHAR = re.compile(rb"\\([0-7]{3}|.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One `--raw` line: `:100644 100644 <blob> <blob> R086<TAB>old<TAB>new`."""

    status: FileStatus
    path: str
    previous_path: str | None
    sections: int = 1
    """`diff --git` sections git prints for it: a type change is printed as a deletion and a creation."""


def raw_entry(line: bytes) -> RawEntry:
    meta, _, paths = line.partition(b"\t")
    letter = meta.rsplit(b" ", 1)[-1][:1].decode()
    status = STATUSES.get(letter, "changed")
    names = [unquote(name) for name in paths.split(b"\t")]
    previous = names[0] if status in ("renamed", "copied") and len(names) > 1 else None
    return RawEntry(status, names[-1], previous, 2 if letter == "T" else 1)


def unquote(name: bytes) -> str:
    """A path as git prints it: C-quoted ("a\\tb", octal bytes) when it has special characters."""
    if not (len(name) >= 2 and name.startswith(b'"') and name.endswith(b'"')):
        return name.decode(errors="replace")
    raw = QUOTED_CHAR.sub(_unescape, name[1:-1])
    return raw.decode(errors="replace")


def _unescape(found: re.Match[bytes]) -> bytes:
    code = found[1]
    return bytes([int(code, 8)]) if len(code) == 3 else ESCAPES.get(code, code)
