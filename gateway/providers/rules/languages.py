"""Which programming language the material is in.

Each file's language comes from the maintained registry `schemas.languages` (Pygments' lexers by
file name, under stable lower-case names; a script's `#!` line when the file name says nothing).
The dominant language is the one with the most changed lines (added + deleted in a diff, the
listed additions/deletions of context files, or the non-blank lines of a whole file); prose,
markup and data formats (`NON_CODE`: Markdown, JSON, YAML, ...) only win when no programming
language is present. A path-less snippet is recognised by counting lines that match a few
tell-tale patterns per language. Failing all that, the context key `language` is used, else
there is none (""): unrecognised text is never a language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.providers.rules.inputs import text
from gateway.providers.rules.sources import FileChange, Material
from schemas.languages import NOT_SKILLS, canonical_language, language_of

NON_CODE: frozenset[str] = NOT_SKILLS
"""Recognised languages that are no programming skill (prose, markup, data)."""

LANGUAGE_EXTENSION: Mapping[str, str] = {
    "python": "py",
    "javascript": "js",
    "typescript": "ts",
    "go": "go",
    "rust": "rs",
    "java": "java",
    "kotlin": "kt",
    "ruby": "rb",
    "php": "php",
    "csharp": "cs",
    "c": "c",
    "cpp": "cpp",
    "swift": "swift",
    "scala": "scala",
    "lua": "lua",
    "objective-c": "m",
    "perl": "pl",
    "r": "r",
    "zig": "zig",
    "solidity": "sol",
    "erlang": "erl",
    "vue": "vue",
}
"""Languages `lizard` can measure, with the extension that selects its reader."""

SNIFF_PATTERNS: Mapping[str, tuple[str, ...]] = {
    "python": (
        r"^\s*def \w+\(.*\)\s*(->.*)?:\s*$",
        r"^\s*(from [\w.]+ )?import \w",
        r"^\s*class \w+.*:\s*$",
        r"\bself\.",
        r"^\s*elif\b",
    ),
    "go": (r"^package \w+", r"^func ", r":= "),
    "typescript": (
        r":\s*(string|number|boolean)\b",
        r"^\s*(export )?interface \w+",
        r"^\s*(export )?type \w+ =",
    ),
    "javascript": (r"\bfunction\b", r"\b(const|let) \w+ = ", r"=>", r"\brequire\(", r"console\.log"),
    "rust": (r"\bfn \w+", r"\blet mut\b", r"^\s*impl\b", r"^\s*use \w+::"),
    "java": (r"\bpublic (static )?(final )?(class|void|interface)\b", r"System\.out", r"@Override"),
    "csharp": (r"^\s*using System", r"^\s*namespace \w+", r"\basync Task\b"),
    "ruby": (r"^\s*def \w+[?!]?\s*$", r"^\s*end\s*$", r"\bputs "),
    "php": (r"<\?php", r"\$\w+\s*="),
    "cpp": (r"#include\s*<", r"\bstd::"),
    "sql": (r"(?i)\bselect\b.+\bfrom\b", r"(?i)\bcreate table\b"),
    "shell": (r"^#!/(usr/)?bin/(env )?(ba|z)?sh", r"^\s*(echo|export) "),
}

_COMPILED_SNIFF: Mapping[str, tuple[re.Pattern[str], ...]] = {
    language: tuple(re.compile(p, re.MULTILINE) for p in patterns)
    for language, patterns in SNIFF_PATTERNS.items()
}


def sniff(code: str) -> str | None:
    """The language a path-less snippet most looks like (most matching patterns; table order on ties)."""
    hits = {lang: sum(len(p.findall(code)) for p in patterns) for lang, patterns in _COMPILED_SNIFF.items()}
    best = max(hits, key=lambda lang: hits[lang], default=None)
    return best if best is not None and hits[best] > 0 else None


def file_language(change: FileChange) -> str | None:
    """By the registry (the `#!` line when the material shows the file's first line), else sniffed."""
    if not change.path:
        return sniff(change.code)
    first = change.added[0] if change.added and change.file_line(1) == 1 else ""
    return language_of(change.path, first)


def language_lines(material: Material) -> dict[str, int]:
    """Changed lines per language, for the files whose language is known."""
    totals: dict[str, int] = {}
    for change in material.files:
        language = file_language(change)
        if language:
            totals[language] = totals.get(language, 0) + max(change.changed_lines, 1)
    return totals


def ranked_languages(material: Material) -> list[tuple[str, float]]:
    """(language, share of changed lines), programming languages first, then by share, then name."""
    totals = language_lines(material)
    grand = sum(totals.values()) or 1
    ordered = sorted(totals.items(), key=lambda kv: (kv[0] in NON_CODE, -kv[1], kv[0]))
    return [(language, lines / grand) for language, lines in ordered]


def dominant_language(material: Material, context: Mapping[str, Any]) -> str:
    ranked = ranked_languages(material)
    if ranked:
        return ranked[0][0]
    return canonical_language(text(context.get("language"))) or ""


def lizard_extension(change: FileChange) -> str | None:
    """The extension lizard needs for this file, or `None` when lizard cannot measure it."""
    language = file_language(change)
    return LANGUAGE_EXTENSION.get(language) if language else None
