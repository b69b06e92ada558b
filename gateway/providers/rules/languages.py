"""Which programming language the material is in.

Each file's language comes from its extension (or a few well-known file names). The dominant
language is the one with the most changed lines (added + deleted in a diff, the listed
additions/deletions of context files, or the non-blank lines of a whole file); data and markup
formats (Markdown, JSON, YAML, ...) only win when no programming language is present. A path-less
snippet is recognised by counting lines that match a few tell-tale patterns per language. Failing
all that, the context key `language` is used, then `"unknown"`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from gateway.providers.rules.inputs import text
from gateway.providers.rules.sources import FileChange, Material

UNKNOWN = "unknown"

EXTENSION_LANGUAGES: Mapping[str, str] = {
    "py": "Python",
    "pyi": "Python",
    "pyx": "Python",
    "ipynb": "Python",
    "js": "JavaScript",
    "jsx": "JavaScript",
    "mjs": "JavaScript",
    "cjs": "JavaScript",
    "ts": "TypeScript",
    "tsx": "TypeScript",
    "mts": "TypeScript",
    "cts": "TypeScript",
    "go": "Go",
    "rs": "Rust",
    "java": "Java",
    "kt": "Kotlin",
    "kts": "Kotlin",
    "rb": "Ruby",
    "rake": "Ruby",
    "php": "PHP",
    "cs": "C#",
    "fs": "F#",
    "c": "C",
    "h": "C",
    "cc": "C++",
    "cpp": "C++",
    "cxx": "C++",
    "hpp": "C++",
    "hh": "C++",
    "hxx": "C++",
    "m": "Objective-C",
    "mm": "Objective-C",
    "swift": "Swift",
    "scala": "Scala",
    "sc": "Scala",
    "sh": "Shell",
    "bash": "Shell",
    "zsh": "Shell",
    "ps1": "PowerShell",
    "sql": "SQL",
    "lua": "Lua",
    "pl": "Perl",
    "pm": "Perl",
    "r": "R",
    "dart": "Dart",
    "ex": "Elixir",
    "exs": "Elixir",
    "erl": "Erlang",
    "hs": "Haskell",
    "clj": "Clojure",
    "jl": "Julia",
    "zig": "Zig",
    "sol": "Solidity",
    "vue": "Vue",
    "svelte": "Svelte",
    "html": "HTML",
    "htm": "HTML",
    "css": "CSS",
    "scss": "CSS",
    "sass": "CSS",
    "less": "CSS",
    "tf": "HCL",
    "hcl": "HCL",
    "proto": "Protocol Buffers",
    "md": "Markdown",
    "rst": "reStructuredText",
    "txt": "Text",
    "json": "JSON",
    "yaml": "YAML",
    "yml": "YAML",
    "toml": "TOML",
    "xml": "XML",
    "ini": "INI",
    "cfg": "INI",
    "csv": "CSV",
    "lock": "Text",
}

FILENAME_LANGUAGES: Mapping[str, str] = {
    "dockerfile": "Dockerfile",
    "makefile": "Makefile",
    "gemfile": "Ruby",
    "rakefile": "Ruby",
    "jenkinsfile": "Groovy",
    "cmakelists.txt": "CMake",
    "go.mod": "Go",
    "cargo.toml": "TOML",
}

NON_CODE: frozenset[str] = frozenset(
    {"Markdown", "reStructuredText", "Text", "JSON", "YAML", "TOML", "XML", "INI", "CSV"}
)

LANGUAGE_EXTENSION: Mapping[str, str] = {
    "Python": "py",
    "JavaScript": "js",
    "TypeScript": "ts",
    "Go": "go",
    "Rust": "rs",
    "Java": "java",
    "Kotlin": "kt",
    "Ruby": "rb",
    "PHP": "php",
    "C#": "cs",
    "C": "c",
    "C++": "cpp",
    "Swift": "swift",
    "Scala": "scala",
    "Lua": "lua",
    "Objective-C": "m",
    "Perl": "pl",
    "R": "r",
    "Zig": "zig",
    "Solidity": "sol",
    "Erlang": "erl",
    "Vue": "vue",
}
"""Languages `lizard` can measure, with the extension that selects its reader."""

SNIFF_PATTERNS: Mapping[str, tuple[str, ...]] = {
    "Python": (
        r"^\s*def \w+\(.*\)\s*(->.*)?:\s*$",
        r"^\s*(from [\w.]+ )?import \w",
        r"^\s*class \w+.*:\s*$",
        r"\bself\.",
        r"^\s*elif\b",
    ),
    "Go": (r"^package \w+", r"^func ", r":= "),
    "TypeScript": (
        r":\s*(string|number|boolean)\b",
        r"^\s*(export )?interface \w+",
        r"^\s*(export )?type \w+ =",
    ),
    "JavaScript": (r"\bfunction\b", r"\b(const|let) \w+ = ", r"=>", r"\brequire\(", r"console\.log"),
    "Rust": (r"\bfn \w+", r"\blet mut\b", r"^\s*impl\b", r"^\s*use \w+::"),
    "Java": (r"\bpublic (static )?(final )?(class|void|interface)\b", r"System\.out", r"@Override"),
    "C#": (r"^\s*using System", r"^\s*namespace \w+", r"\basync Task\b"),
    "Ruby": (r"^\s*def \w+[?!]?\s*$", r"^\s*end\s*$", r"\bputs "),
    "PHP": (r"<\?php", r"\$\w+\s*="),
    "C++": (r"#include\s*<", r"\bstd::"),
    "SQL": (r"(?i)\bselect\b.+\bfrom\b", r"(?i)\bcreate table\b"),
    "Shell": (r"^#!/(usr/)?bin/(env )?(ba|z)?sh", r"^\s*(echo|export) "),
}

_COMPILED_SNIFF: Mapping[str, tuple[re.Pattern[str], ...]] = {
    language: tuple(re.compile(p, re.MULTILINE) for p in patterns)
    for language, patterns in SNIFF_PATTERNS.items()
}


@lru_cache(maxsize=8192)  # the stream processor asks for every changed path; the same paths recur
def language_of(path: str) -> str | None:
    """The language of a path, by file name first, then by extension."""
    name = posixpath.basename(path.strip()).lower()
    if name in FILENAME_LANGUAGES:
        return FILENAME_LANGUAGES[name]
    return EXTENSION_LANGUAGES.get(posixpath.splitext(name)[1].lstrip("."))


def sniff(code: str) -> str | None:
    """The language a path-less snippet most looks like (most matching patterns; table order on ties)."""
    hits = {lang: sum(len(p.findall(code)) for p in patterns) for lang, patterns in _COMPILED_SNIFF.items()}
    best = max(hits, key=lambda lang: hits[lang], default=None)
    return best if best is not None and hits[best] > 0 else None


def file_language(change: FileChange) -> str | None:
    return language_of(change.path) if change.path else sniff(change.code)


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
    return text(context.get("language")) or UNKNOWN


def lizard_extension(change: FileChange) -> str | None:
    """The extension lizard needs for this file, or `None` when lizard cannot measure it."""
    language = file_language(change)
    return LANGUAGE_EXTENSION.get(language) if language else None
