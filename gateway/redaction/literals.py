"""Which literal strings every match of a regex contains: a cheap test before the regex runs.

`gate_of(pattern)` reads the pattern's parse tree (the `re` module's own parser) and returns a `Gate`:
strings of which every match contains at least one, or None when it finds no such set. A line that
holds none of them cannot match, nor can a line shorter than the shortest match (`min_width`): one
search for every literal over a text costs a small fraction of running the regexes over it (figures:
bench/README.md, "Redaction").

Sound by construction: only what a match must contain is taken (a literal run, a small set of
alternatives, the inside of a group repeated at least once), never what it may contain. Anything the
reader does not know gives None, and the regex then runs on every line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import Any

_parser: Any = getattr(re, "_parser", None)
_constants: Any = getattr(re, "_constants", None)

MAX_ALTERNATIVES = 64
"""A set of alternatives larger than this is no gate worth its searches."""


@dataclass(frozen=True, slots=True)
class Gate:
    """Every match contains one of `literals` (none of which holds another); compared in lower case
    when `folded` (a pattern that ignores case, or has a part that does)."""

    literals: frozenset[str]
    folded: bool


def gate_of(pattern: re.Pattern[str]) -> Gate | None:
    """The literals every match of `pattern` contains, or None if none are known."""
    if _parser is None or _constants is None:
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # the parser of another Python version: no gate, the regex runs everywhere
        return None
    found = _required(list(tree))
    if not found or "" in found:
        return None
    folded = bool(pattern.flags & re.IGNORECASE) or "(?i" in pattern.pattern
    literals = {s.lower() for s in found} if folded else found
    shortest = {s for s in literals if not any(other != s and other in s for other in literals)}
    return Gate(frozenset(shortest), folded)


def min_width(pattern: re.Pattern[str]) -> int:
    """The length of the shortest text `pattern` can match (0 when unknown): a shorter line is skipped."""
    if _parser is None:
        return 0
    try:
        return int(_parser.parse(pattern.pattern, pattern.flags).getwidth()[0])
    except Exception:  # the parser of another Python version
        return 0


def _required(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The best gate of a sequence: its longest literal runs, or a required element's own gate."""
    candidates: list[set[str]] = []
    run = {""}
    for op, av in items:
        finite = _finite(op, av)
        joined = None if finite is None else _joined(run, finite)
        if joined is not None:
            run = joined
            continue
        candidates.append(run)
        run = finite or {""}  # an element too wide to join starts a run of its own
        if finite is None and (inner := _element(op, av)) is not None:
            candidates.append(inner)
    candidates.append(run)
    return max(candidates, key=_strength, default=None)


def _joined(run: set[str], finite: set[str]) -> set[str] | None:
    if len(run) * len(finite) > MAX_ALTERNATIVES:
        return None
    return {a + b for a, b in product(run, finite)}


def _finite(op: Any, av: Any) -> set[str] | None:
    """The strings an element matches, when it matches a few fixed strings only."""
    c = _constants
    if op is c.LITERAL:
        return {chr(av)}
    if op is c.IN:
        return _chars(av)
    if op is c.SUBPATTERN:
        return _finite_sequence(list(av[-1]))
    if op is c.BRANCH:
        return _union(_finite_sequence(list(branch)) for branch in av[1])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] == 1:  # x? and x{1}
        once = _finite_sequence(list(av[2]))
        return None if once is None else once | ({""} if av[0] == 0 else set())
    return None


def _finite_sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    run: set[str] | None = {""}
    for op, av in items:
        finite = _finite(op, av)
        if finite is None or run is None:
            return None
        run = _joined(run, finite)
    return run


def _chars(members: list[tuple[Any, Any]]) -> set[str] | None:
    c = _constants
    chars: set[str] = set()
    for op, av in members:
        if op is c.LITERAL:
            chars.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] < 8:
            chars.update(chr(code) for code in range(av[0], av[1] + 1))
        else:
            return None
    return chars if len(chars) <= MAX_ALTERNATIVES else None


def _element(op: Any, av: Any) -> set[str] | None:
    """The gate of an element matched at least once: a group, an alternation, a repeat."""
    c = _constants
    if op is c.SUBPATTERN:
        return _required(list(av[-1]))
    if op is c.BRANCH:
        return _union(_required(list(branch)) for branch in av[1])
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)) and av[0] >= 1:
        return _required(list(av[2]))
    if op is getattr(c, "ATOMIC_GROUP", None):
        return _required(list(av))
    return None


def _union(sets: Iterable[set[str] | None]) -> set[str] | None:
    union: set[str] = set()
    for found in sets:
        if found is None:
            return None
        union |= found
    return union if len(union) <= MAX_ALTERNATIVES else None


def _strength(found: set[str]) -> tuple[int, int]:
    """A gate is as strong as its shortest string; among equals, fewer strings are better."""
    return min(len(s) for s in found), -len(found)
