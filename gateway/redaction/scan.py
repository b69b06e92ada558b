"""One text's secrets replaced by `[REDACTED:<kind>]`, kind by kind, line by line.

Block rules (a private key block spans lines) run on the whole text first. Then each `Detector`, in
order (formats with a fixed shape before the judgements of the generic ones), runs on the lines its
gates let through: a line that holds none of a detector's required literals cannot hold its secrets
(`gateway/redaction/literals.py`). One Aho-Corasick pass over the text (`ahocorasick_rs`) finds every
detector's literals at once, so most detectors never run on most lines.

The work of one text is bounded (`MAX_WORK`): the characters of the lines each detector runs on,
known from the gates before any detector runs. Past the bound, the lines from the one that would
exceed it on are not scanned and never sent: one `[REDACTED:unscanned]` line says how much was
withheld. The block rules read the whole text in linear time (`rules.BodyRule`).

A detector names the secret values in a line; each occurrence is widened to the whole token around
it (a plugin that matches a key's first 24 characters still takes all of it) and replaced by the
marker. A marker is never a secret again: redacting twice changes nothing more. A generic detector's
values (a secret-sounding name, entropy) are checked by detect-secrets' heuristic filters first
(`gateway/redaction/filters.py`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from ahocorasick_rs import AhoCorasick

from gateway.redaction.filters import dismissed
from gateway.redaction.literals import Gate
from gateway.redaction.rules import Rule

MARKER = "[REDACTED:{}]"
UNSCANNED = "unscanned"
WITHHELD = (
    MARKER.format(UNSCANNED)
    + " {chars} characters ({lines} lines) past the redaction scan's bound were not sent"
)
MAX_WORK = 1_500_000
"""Characters of the lines each detector of one text runs on (figures: docs/gateway.md, "Redaction")."""
MAX_ROUNDS = 4
"""A detector that names one secret per pattern and line runs again on the line it redacted."""
NAME_RUN = 256
_LONG_RUN = re.compile(rf"([A-Za-z0-9_.-]{{{NAME_RUN}}})[A-Za-z0-9_.-]+")
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
"""What a secret's span is widened over, on both sides."""
DIFF_HEADER = "diff --git "
_HEADER_LINE = "\n" + DIFF_HEADER
_NEXT_LINE = (1).__add__
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, slots=True)
class Detector:
    kind: str
    gates: tuple[Gate, ...] | None
    """None: the detector runs on every line."""
    find: Callable[[str, str], Iterable[str]]
    """The secret values in a line, given the path of the file the line belongs to ("" outside a diff)."""
    generic: bool = False
    min_width: int = 0
    """No shorter line can hold a secret of this detector's."""
    names: bool = False
    """Matches a secret's name: run on the line with its long runs of name characters cut short
    (`NAME_RUN`), as no name is that long, and some patterns take quadratic time on such a run."""


@dataclass(frozen=True, slots=True, eq=False)
class _Literal:
    exact: str | None
    """The case a match must have in the text; None when the gate is folded (any case)."""
    detectors: tuple[int, ...]


class Scanner:
    """Block rules and detectors, with one automaton of every detector's literals."""

    def __init__(
        self, blocks: Sequence[Rule], detectors: Sequence[Detector], max_work: int = MAX_WORK
    ) -> None:
        self.blocks = tuple(blocks)
        self.detectors = tuple(detectors)
        self.max_work = max_work
        literals = _literals(self.detectors)
        self._literals = tuple(literals.values())
        self._automaton = AhoCorasick(literals)
        self._ungated = [i for i, d in enumerate(self.detectors) if d.gates is None]
        self._folded = [i for i, d in enumerate(self.detectors) if d.gates and any(g.folded for g in d.gates)]

    def redact(self, text: str) -> tuple[str, Counter[str], int]:
        """`text` with its secrets replaced, how many of each kind, and how many characters of it were
        withheld unscanned (past `max_work`)."""
        found: Counter[str] = Counter()
        for rule in self.blocks:
            if _holds(text, rule.gate):
                text, count = rule.replaced(text, MARKER.format(rule.kind))
                found[rule.kind] += count
        lines = _Lines(text)
        candidates = self._candidates(lines)
        if not candidates:
            return text, found, 0
        cut = self._cut(lines, candidates)
        for index in sorted(candidates):  # the detectors' order
            detector = self.detectors[index]
            for number in sorted(candidates[index]):
                line = lines.lines[number]
                if number < cut and len(line) >= detector.min_width:
                    lines.lines[number] = _redact_line(detector, line, lines.path(number), found)
        if cut == len(lines.lines):
            return "\n".join(lines.lines), found, 0
        return _withheld(lines.lines, cut, found)

    def _cut(self, lines: _Lines, candidates: dict[int, set[int]]) -> int:
        """The first line past the work bound (the number of lines when the whole text is within it)."""
        work: Counter[int] = Counter()
        for index, numbers in candidates.items():
            width = self.detectors[index].min_width
            for number in numbers:
                if (size := len(lines.lines[number])) >= width:
                    work[number] += size
        done = 0
        for number in sorted(work):
            done += work[number]
            if done > self.max_work:
                return number
        return len(lines.lines)

    def _candidates(self, lines: _Lines) -> dict[int, set[int]]:
        """Detector index -> the lines it may find something on."""
        text = lines.text
        lowered = text.lower() if text.isascii() else text.translate(_ASCII_LOWER)  # offsets kept
        hits: dict[_Literal, set[int]] = {}
        for literal_index, start, end in self._automaton.find_matches_as_indexes(lowered, overlapping=True):
            for literal in self._literals[literal_index]:
                if literal.exact is None or text[start:end] == literal.exact:
                    hits.setdefault(literal, set()).add(lines.number_at(start))
        candidates: dict[int, set[int]] = {}
        for literal, numbers in hits.items():
            for detector in literal.detectors:
                candidates.setdefault(detector, set()).update(numbers)
        every = range(len(lines.lines))
        for detector in self._ungated:
            candidates[detector] = set(every)
        if not text.isascii():  # re.IGNORECASE matches letters beyond ASCII that lower() leaves apart
            wide = {number for number, line in enumerate(lines.lines) if not line.isascii()}
            for detector in self._folded:
                candidates.setdefault(detector, set()).update(wide)
        return candidates


def _withheld(lines: list[str], cut: int, found: Counter[str]) -> tuple[str, Counter[str], int]:
    """The lines before `cut`, then one line in place of the rest, which is never sent."""
    rest = lines[cut:]
    chars = sum(map(len, rest)) + len(rest) - 1
    found[UNSCANNED] += 1
    kept = [*lines[:cut], WITHHELD.format(chars=chars, lines=len(rest))]
    return "\n".join(kept), found, chars


def _literals(detectors: Sequence[Detector]) -> dict[str, tuple[_Literal, ...]]:
    """Each literal in lower case (what the automaton searches) -> who wants it, in which case."""
    wanted: dict[str, dict[str | None, list[int]]] = {}
    for index, detector in enumerate(detectors):
        for gate in detector.gates or ():
            for text in gate.literals:
                exact = None if gate.folded else text
                wanted.setdefault(text.lower(), {}).setdefault(exact, []).append(index)
    return {
        text: tuple(_Literal(exact, tuple(dict.fromkeys(ids))) for exact, ids in cases.items())
        for text, cases in wanted.items()
    }


def _holds(text: str, gate: Gate | None) -> bool:
    if gate is None or (gate.folded and not text.isascii()):
        return True
    haystack = text.lower() if gate.folded else text
    return any(literal in haystack for literal in gate.literals)


def _redact_line(detector: Detector, line: str, path: str, found: Counter[str]) -> str:
    if detector.names and _LONG_RUN.search(line):
        return _redact_long_runs(detector, line, path, found)
    marker = MARKER.format(detector.kind)
    for _ in range(MAX_ROUNDS):
        values = {v for v in detector.find(line, path) if not dismissed(v, line, generic=detector.generic)}
        if not values:
            break
        before = line
        for value in sorted(values, key=len, reverse=True):  # a value inside a longer one goes with it
            line, count = _replace(line, value, marker)
            found[detector.kind] += count
        if line == before:
            break
    return line


def _redact_long_runs(detector: Detector, line: str, path: str, found: Counter[str]) -> str:
    """A name detector on a line with runs of name characters longer than `NAME_RUN`: it runs once on
    the line with those runs cut to `NAME_RUN` characters; what it finds there is replaced in the line
    itself, a span that reaches a cut taking the rest of that run too."""
    cuts: list[tuple[int, int]] = []  # (where in the view a run was cut, how many characters went)
    pieces, at, removed = [], 0, 0
    for run in _LONG_RUN.finditer(line):
        kept = run.start() + NAME_RUN
        pieces.append(line[at:kept])
        cuts.append((kept - removed, run.end() - kept))
        removed += run.end() - kept
        at = run.end()
    view = "".join(pieces) + line[at:]
    spans = []
    for value in {v for v in detector.find(view, path) if not dismissed(v, view, generic=detector.generic)}:
        start = view.find(value)
        while start >= 0:
            end = start + len(value)
            begin = start + sum(n for cut, n in cuts if cut < start)
            spans.append(_widened(line, begin, end + sum(n for cut, n in cuts if cut <= end)))
            start = view.find(value, end)
    marker = MARKER.format(detector.kind)
    for begin, end in sorted(_merged(spans), reverse=True):
        line = line[:begin] + marker + line[end:]
        found[detector.kind] += 1
    return line


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((begin, end))
    return merged


def _replace(line: str, value: str, marker: str) -> tuple[str, int]:
    count, start = 0, line.find(value)
    while start >= 0:
        if line.rfind("[REDACTED:", 0, start) > line.rfind("]", 0, start):  # inside a marker
            start = line.find(value, start + 1)
            continue
        begin, end = _widened(line, start, start + len(value))
        line = line[:begin] + marker + line[end:]
        count += 1
        start = line.find(value, begin + len(marker))
    return line, count


def _widened(line: str, begin: int, end: int) -> tuple[int, int]:
    while begin > 0 and line[begin - 1] in TOKEN_CHARS:
        begin -= 1
    while end < len(line) and line[end] in TOKEN_CHARS:
        end += 1
    return begin, end


class _Lines:
    """A text cut into lines, with each line's offset and the file (in a diff) it belongs to."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self._starts: list[int] | None = None
        self._files: tuple[list[int], list[str]] | None = None

    def number_at(self, offset: int) -> int:
        """The number of the line holding `offset`."""
        if self._starts is None:
            self._starts = list(accumulate(map(_NEXT_LINE, map(len, self.lines)), initial=0))
        return bisect_right(self._starts, offset) - 1

    def path(self, number: int) -> str:
        """The path of the file whose diff holds line `number` ("" before any `diff --git` line)."""
        if self._files is None:
            self._files = self._diff_headers()
        at, paths = self._files
        found = bisect_right(at, number) - 1
        return paths[found] if found >= 0 else ""

    def _diff_headers(self) -> tuple[list[int], list[str]]:
        offsets = [0] if self.text.startswith(DIFF_HEADER) else []
        found = self.text.find(_HEADER_LINE)
        while found >= 0:
            offsets.append(found + 1)
            found = self.text.find(_HEADER_LINE, found + 1)
        at = [self.number_at(offset) for offset in offsets]
        return at, [self.lines[number].rpartition(" b/")[2] for number in at]
