"""One file's unified diff trimmed to its changes, then cut to a token budget.

A patch here is one file's hunks from its first `@@` on (GitHub's `files[].patch`, the git
producer's `patch`). Trimming keeps the changed lines of every hunk with `CONTEXT_LINES` unchanged
lines around them: a hunk is split where a longer run of unchanged lines separates two changes, and
each piece gets a header with its own line numbers, so the result is still a unified diff that any
reader (the `rules` provider, a model) follows, and its heading found the way git finds one (the
last line before it that starts like a function, by git's default rule), so that a trimmed patch is
what `git diff --unified=1` prints.

Cutting to a budget (tokens by `gateway.limits.base.estimate_tokens`): hunks are kept in order while
they fit; the first one that does not is cut at a line, with a header for the lines kept, and the
rest are left out. `Trimmed` says how many hunks and changed lines were left out.

A patch that is not a unified diff (text before the first hunk header, a line that is no hunk
line) is not trimmed, only cut at the budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.limits.base import estimate_tokens

CONTEXT_LINES = 1
"""Unchanged lines kept before and after each run of changed lines (git shows 3)."""

HUNK_HEADER = re.compile(
    r"^@@ -(?P<old>\d+)(?:,(?P<olds>\d+))? \+(?P<new>\d+)(?:,(?P<news>\d+))? @@(?P<section>.*)$"
)
CHANGED = ("+", "-")
CHANGES = re.compile(r"[-+]+")
OLD_SIDE = (" ", "-")
HUNK_LINE = (" ", "+", "-", "\\")
FUNCTION_LINE = re.compile(r"[A-Za-z_$]")
SECTION_BYTES = 80
"""git's bound on a hunk heading (`def_ff` in xdiff)."""
NO_NEWLINE = "\\"
"""`\\ No newline at end of file`: belongs to the line before it, counted on neither side."""


@dataclass(frozen=True, slots=True)
class Hunk:
    """A run of diff lines (each with its ` `, `+`, `-` or `\\` marker) and where it starts."""

    old_start: int
    """As its header says: the first old line it shows, or the line after which it inserts."""
    new_start: int
    section: str
    lines: tuple[str, ...]
    marks: str
    """Each line's marker, in order."""
    header: str = ""
    """The header as read, for a hunk kept whole; empty: written from the lines."""

    @property
    def old_count(self) -> int:
        return self.marks.count(" ") + self.marks.count("-")

    @property
    def new_count(self) -> int:
        return self.marks.count(" ") + self.marks.count("+")

    @property
    def changed(self) -> int:
        return self.marks.count("+") + self.marks.count("-")

    def text(self) -> str:
        if self.header:
            return "\n".join((self.header, *self.lines))
        old, new = _span(self.old_start, self.old_count), _span(self.new_start, self.new_count)
        return "\n".join((f"@@ -{old} +{new} @@{self.section}", *self.lines))


@dataclass(frozen=True, slots=True)
class Trimmed:
    """A patch trimmed and cut, and what was left out of it."""

    text: str
    context_lines_omitted: int = 0
    hunks_omitted: int = 0
    """Hunks left out, whole or in part, to fit the budget."""
    changed_lines_omitted: int = 0

    @property
    def cut(self) -> bool:
        """Whether changes were left out (context lines left out are not changes)."""
        return self.hunks_omitted > 0


def trim(patch: str, max_tokens: int, context: int = CONTEXT_LINES) -> Trimmed:
    """`patch` with `context` unchanged lines around its changes, cut to `max_tokens`."""
    hunks = parse(patch.removesuffix("\n"))
    if hunks is None:
        return _cut_text(patch, max_tokens)
    narrowed = [piece for hunk in hunks for piece in narrow(hunk, context)]
    dropped = sum(len(h.lines) for h in hunks) - sum(len(h.lines) for h in narrowed)
    kept, texts, cut = fit(narrowed, max_tokens)
    whole = len(kept) - cut
    changed = sum(h.changed for h in narrowed[whole:]) - (kept[-1].changed if cut else 0)
    return Trimmed("\n".join(texts), dropped, len(narrowed) - whole, changed)


def parse(patch: str) -> list[Hunk] | None:
    """The hunks of a one-file patch; None when it is not one (the empty patch has none)."""
    hunks: list[tuple[re.Match[str], list[str], list[str]]] = []
    lines: list[str] = []
    marks: list[str] = []
    for line in patch.split("\n") if patch else ():
        marker = line[:1]
        if marker in HUNK_LINE:
            if not hunks:
                return None
            lines.append(line)
            marks.append(marker)
        elif (header := HUNK_HEADER.match(line)) is not None:
            lines, marks = [], []
            hunks.append((header, lines, marks))
        else:
            return None
    return [
        Hunk(int(h["old"]), int(h["new"]), h["section"], tuple(lines), "".join(marks), h.group(0))
        for h, lines, marks in hunks
    ]


def narrow(hunk: Hunk, context: int) -> list[Hunk]:
    """The runs of `hunk`'s changed lines with `context` unchanged lines around each, each headed
    as git heads a hunk (a hunk of unchanged lines only is kept whole)."""
    runs = _runs(hunk.marks, context)
    if not runs or runs == [[0, len(hunk.marks) - 1]]:
        return [hunk]
    walk = _Walk(hunk)
    return [walk.piece(first, last) for first, last in runs]


def fit(hunks: list[Hunk], max_tokens: int) -> tuple[list[Hunk], list[str], bool]:
    """The hunks that fit `max_tokens` in order, their texts, and whether the last one is cut."""
    kept: list[Hunk] = []
    texts: list[str] = []
    chars = -1  # the joining newlines are one fewer than the hunks
    for hunk in hunks:
        text = hunk.text()
        if estimate_tokens(chars + 1 + len(text), 0) > max_tokens:
            head = _cut_hunk(hunk, max_tokens, chars + 1)
            if head is None:
                return kept, texts, False
            return [*kept, head], [*texts, head.text()], True
        kept.append(hunk)
        texts.append(text)
        chars += 1 + len(text)
    return kept, texts, False


def _cut_hunk(hunk: Hunk, max_tokens: int, used: int) -> Hunk | None:
    """The longest head of `hunk` with a changed line that fits after `used` characters."""
    whole = _Walk(hunk).piece(0, len(hunk.lines) - 1)
    room = (max_tokens + 1) * 4 - 1 - used - len(whole.text().split("\n", 1)[0]) - 2  # counts only shrink
    count, size = 0, 0
    for line in hunk.lines:
        size += 1 + len(line)
        if size > room:
            break
        count += 1
    if "+" not in hunk.marks[:count] and "-" not in hunk.marks[:count]:
        return None
    return _Walk(hunk).piece(0, count - 1)


def _cut_text(patch: str, max_tokens: int) -> Trimmed:
    room = (max_tokens + 1) * 4 - 1
    if len(patch) <= room:
        return Trimmed(patch)
    rest = patch[room:].split("\n")
    changed = sum(1 for line in rest[1:] if line[:1] in CHANGED)
    return Trimmed(patch[:room], hunks_omitted=1, changed_lines_omitted=changed)


def _runs(marks: str, context: int) -> list[list[int]]:
    """The [first, last] indices of each run of lines kept: the changes, `context` lines around
    each, and a "no newline" note with its line."""
    runs: list[list[int]] = []
    end = len(marks) - 1
    for changes in CHANGES.finditer(marks):
        first, last = max(0, changes.start() - context), min(end, changes.end() - 1 + context)
        if runs and first <= runs[-1][1] + 1:
            runs[-1][1] = last
        else:
            runs.append([first, last])
    for run in runs:
        while marks[run[0]] == NO_NEWLINE:  # its line is left out
            run[0] += 1
        while run[1] < end and marks[run[1] + 1] == NO_NEWLINE:
            run[1] += 1
    return runs


class _Walk:
    """Pieces of one hunk, in order: where each starts on either side, and the heading git would
    give it (the last old line before it that starts like a function, by git's default rule: a
    letter, `_` or `$` first; before any, the hunk's own)."""

    def __init__(self, hunk: Hunk) -> None:
        self.hunk = hunk
        self.old = hunk.old_start + (hunk.old_count == 0)  # `-5,0` inserts after line 5
        self.new = hunk.new_start + (hunk.new_count == 0)
        self.heading = hunk.section
        self.index = 0
        """The first line not walked past."""
        self.scanned = 0
        """The first line not looked at for a heading."""

    def piece(self, first: int, last: int) -> Hunk:
        """`hunk.lines[first : last + 1]`, after the pieces before it, as a hunk of its own."""
        before, marks = self.hunk.marks[self.index : first], self.hunk.marks[first : last + 1]
        self.old += before.count(" ") + before.count("-")
        self.new += before.count(" ") + before.count("+")
        self.heading = self._heading(first)
        olds, news = marks.count(" ") + marks.count("-"), marks.count(" ") + marks.count("+")
        lines = self.hunk.lines[first : last + 1]
        piece = Hunk(self.old - (not olds), self.new - (not news), self.heading, lines, marks)  # none: before
        self.old, self.new, self.index = self.old + olds, self.new + news, last + 1
        return piece

    def _heading(self, first: int) -> str:
        lines, marks = self.hunk.lines, self.hunk.marks
        start, self.scanned = self.scanned, first
        for index in range(first - 1, start - 1, -1):
            if marks[index] in OLD_SIDE and FUNCTION_LINE.match(lines[index], 1):
                return " " + lines[index][1:].encode()[:SECTION_BYTES].decode(errors="replace").rstrip()
        return self.heading


def _span(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"
