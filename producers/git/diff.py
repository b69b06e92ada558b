"""One commit's files from `git log --raw --patch` output: the `--raw` list, then each file's patch."""

from __future__ import annotations

from producers.git.patch import PatchReader
from producers.git.raw import RawEntry, raw_entry
from schemas.events import FileChange


class CommitFiles:
    """Collects a commit's `--raw` lines, then hands each `diff --git` section to its file's reader."""

    def __init__(self, max_patch_bytes: int) -> None:
        self._max_patch_bytes = max_patch_bytes
        self._entries: list[RawEntry] = []
        self._readers: list[PatchReader] = []
        self._owners: list[PatchReader] = []
        self._sections = 0

    def feed(self, line: bytes) -> None:
        if line.startswith(b"diff --git "):
            self._next_section()
        elif self._sections:
            self._owners[self._sections - 1].feed(line)
        elif line.startswith(b":"):
            self._entries.append(raw_entry(line))

    def files(self) -> tuple[FileChange, ...]:
        readers = self._readers or [PatchReader(self._max_patch_bytes) for _ in self._entries]
        if self._sections != len(self._owners):
            raise ValueError(f"git printed {self._sections} diff sections for {len(self._owners)}")
        return tuple(reader.file_change(entry) for entry, reader in zip(self._entries, readers, strict=True))

    def _next_section(self) -> None:
        if not self._sections:
            self._readers = [PatchReader(self._max_patch_bytes) for _ in self._entries]
            pairs = zip(self._entries, self._readers, strict=True)
            self._owners = [reader for entry, reader in pairs for _ in range(entry.sections)]
        if self._sections == len(self._owners):
            raise ValueError(f"git printed more diff sections than the {len(self._entries)} files it listed")
        self._owners[self._sections].start_section()
        self._sections += 1
