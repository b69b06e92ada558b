"""Which language a file is written in, by its name: Pygments' lexer registry under stable names.

`language_of(path)` looks the file name up in Pygments' lexers and names the language by the
lexer's first alias (`c`, `python`, `cmake`), renamed in `RENAMES` where that alias is not the
language's plain name (`bash` -> `shell`, `make` -> `makefile`). `FILE_NAMES` and `EXTENSIONS`
come first: the build languages Pygments has no lexer for (yacc/bison, lex/flex, m4, autoconf,
automake) and the extensions it resolves to a rarer language (`.pl` Prolog, `.pm` Promela,
`.fs` Forth, `.sql` Transact-SQL), or that name no language at all (`.inc`). A template `x.in` is
the language of `x`; a file without a known name can still be told by its `#!` line. Anything else
has no language (None): unrecognised text is never a language, and never "unknown".

Pygments' own search tries every lexer's file name patterns on each name. A name that only patterns
of the form `*.<extension>` can claim (`Patterns.extension_alone`: no whole-name pattern, no wildcard
pattern, no longer suffix such as `*.d.ts` matches it) gets what Pygments gives for its extension,
looked up once per extension (`lexer_for_name`); any other name goes through Pygments' search.

`canonical_language(name)` maps a name from elsewhere (a model's answer, a stored tally, a
request's context) to the same vocabulary (`C++` -> `cpp`, `Bash` -> `shell`), or to None when
it names no language ("unknown", "none"). `is_skill(language)` says whether a language counts as
a programming skill: every language but the prose, markup and data formats of `NOT_SKILLS`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType

from pygments.lexer import Lexer
from pygments.lexers import LEXERS, find_lexer_class_by_name, find_lexer_class_for_filename
from pygments.plugin import find_plugin_lexers
from pygments.util import ClassNotFound

# fmt: off
FILE_NAMES: Mapping[str, str | None] = MappingProxyType({
    "configure.ac": "autoconf", "configure.in": "autoconf",
    "go.mod": "go-module", "go.work": "go-module",
    "jenkinsfile": "groovy",
})
"""Whole file names (lower case) Pygments does not know or gets wrong."""

EXTENSIONS: Mapping[str, str | None] = MappingProxyType({
    "y": "yacc", "yy": "yacc", "ypp": "yacc", "yxx": "yacc", "yacc": "yacc",
    "l": "lex", "lex": "lex", "lpp": "lex", "lxx": "lex", "flex": "lex",
    "m4": "m4", "ac": "autoconf", "am": "automake",
    "pl": "perl", "pm": "perl", "t": "perl",
    "r": "r", "sql": "sql", "fs": "fsharp", "fsi": "fsharp", "fsx": "fsharp",
    "s": "assembly", "asm": "assembly",
    "bats": "shell", "ipynb": "python", "mts": "typescript", "cts": "typescript", "sc": "scala",
    "gyp": "gyp", "gypi": "gyp",
    "inc": None, "def": None, "pro": None, "b": None,
})
"""Extensions (lower case) Pygments does not know, resolves to a rarer language, or that are too
ambiguous to name one (None)."""

RENAMES: Mapping[str, str] = MappingProxyType({
    "bash": "shell", "make": "makefile", "restructuredtext": "rst", "groff": "roff",
    "docker": "dockerfile", "tsx": "typescript", "jsx": "javascript", "tsql": "sql",
    "mysql": "sql", "postgresql": "sql", "gas": "assembly", "nasm": "assembly",
    "tasm": "assembly", "ca65": "assembly", "splus": "r", "perl6": "raku", "python2": "python",
})
"""Pygments' first alias -> the stable name, where the two differ."""

INTERPRETERS: Mapping[str, str] = MappingProxyType({
    "node": "javascript", "nodejs": "javascript", "dash": "shell", "sh": "shell",
})
"""`#!` interpreters that are not a Pygments alias of their language."""

ALIASES: Mapping[str, str] = MappingProxyType({
    "bison": "yacc", "flex": "lex", "c++": "cpp", "objective c": "objective-c", "golang": "go",
    "shell script": "shell", "sh": "shell", "assembler": "assembly", "restructured text": "rst",
})
"""Other names of languages, as people and models write them."""

NOT_SKILLS: frozenset[str] = frozenset({
    "text", "markdown", "rst", "roff", "json", "yaml", "toml", "xml", "ini", "properties",
    "csv", "diff", "asc", "pot", "gyp", "go-module", "pkgconfig",
})
"""Prose, markup and data: recognised, but no programming skill."""
# fmt: on

NO_LANGUAGE: frozenset[str] = frozenset({"", "unknown", "none", "n/a", "na", "other", "null", "unrecognized"})
"""What a model or an old record writes when there is no language."""

OWN_NAMES: frozenset[str] = frozenset(
    name
    for table in (FILE_NAMES, EXTENSIONS, RENAMES, INTERPRETERS, ALIASES)
    for name in table.values()
    if name is not None
)
"""The stable names this module gives besides Pygments' own aliases."""

_SHEBANG = re.compile(r"^#!\s*(?:\S*/)?(?:env\s+(?:-\S+\s+)*)?(?P<name>[\w.+-]+)")
_VERSION = re.compile(r"[\d.]+$")


def language_of(path: str, first_line: str = "") -> str | None:
    """The language of the file at `path` (its first line, when given, for a `#!` script)."""
    by_name = language_of_path(path)
    if by_name is not None or not first_line.startswith("#!"):
        return by_name
    match = _SHEBANG.match(first_line)
    return _interpreter_language(match["name"]) if match else None


@lru_cache(maxsize=8192)  # keyed by the path: the same paths recur in commit after commit
def language_of_path(path: str) -> str | None:
    """The language the file name at the end of `path` tells (`language_of` without a first line)."""
    return language_of_name(posixpath.basename(path.strip()))


@lru_cache(maxsize=8192)  # keyed by the file name: the same names recur in every commit
def language_of_name(name: str) -> str | None:
    lowered = name.lower()
    if lowered in FILE_NAMES:
        return FILE_NAMES[lowered]
    stem, dot, extension = lowered.rpartition(".")
    if dot and stem and extension in EXTENSIONS:
        return EXTENSIONS[extension]
    if dot and stem and extension == "in":
        return language_of_name(name[: -len(".in")])
    return _stable(lexer_for_name(name))


def canonical_language(name: str) -> str | None:
    """`name` in this module's vocabulary; None when it names no language."""
    key = " ".join(name.strip().lower().split())
    if key in NO_LANGUAGE:
        return None
    return _canonical(key)


def is_skill(language: str | None) -> bool:
    """Whether a language (a name `language_of` gives) counts as a programming skill."""
    return bool(language) and language not in NOT_SKILLS


def skill_language(name: str) -> str | None:
    """The canonical name of `name` when it is a programming language, else None."""
    language = canonical_language(name)
    return language if is_skill(language) else None


@lru_cache(maxsize=1024)
def _canonical(key: str) -> str:
    if key in ALIASES:
        return ALIASES[key]
    if key in OWN_NAMES:
        return key
    return _stable(_lexer_named(key)) or key


@lru_cache(maxsize=256)
def _interpreter_language(interpreter: str) -> str | None:
    name = _VERSION.sub("", interpreter.lower()) or interpreter.lower()
    return INTERPRETERS.get(name) or _stable(_lexer_named(name))


def _stable(lexer: type[Lexer] | None) -> str | None:
    if lexer is None:
        return None
    alias = lexer.aliases[0] if lexer.aliases else lexer.name.lower()
    return RENAMES.get(alias, alias)


def lexer_for_name(name: str) -> type[Lexer] | None:
    """The lexer Pygments' `find_lexer_class_for_filename` gives the file name `name` (None when no
    lexer claims it), by its extension when only `*.<extension>` patterns can claim it."""
    extension = patterns().extension_alone(name)
    if extension is not None:
        known, lexer = _lexer_for_extension(extension)
        if known:
            return lexer
    return find_lexer_class_for_filename(name)


@lru_cache(maxsize=4096)
def _lexer_for_extension(extension: str) -> tuple[bool, type[Lexer] | None]:
    """What Pygments gives every name that only `*.<extension>` patterns claim, asked once for a
    stand-in name (not known, False, when the stand-in itself is claimed otherwise)."""
    stand_in = f"x.{extension}"
    if patterns().extension_alone(stand_in) != extension:
        return False, None
    return True, find_lexer_class_for_filename(stand_in)


@dataclass(frozen=True, slots=True)
class Patterns:
    """Every file name pattern of Pygments' lexers (and of its plugins), sorted by kind."""

    extensions: frozenset[str]
    """`x` of each pattern `*.x` without wildcards in `x` (`c`, `d.ts`)."""
    names: frozenset[str]
    """Patterns without wildcards: whole file names (`Makefile`, `CMakeLists.txt`)."""
    others: re.Pattern[str]
    """The remaining patterns (`Makefile.*`, `*.[1-9]`, `Kconfig*`), as one regex."""

    @classmethod
    def of(cls, globs: Iterable[str]) -> Patterns:
        found = set(globs)
        names = {g for g in found if not _WILDCARDS.intersection(g)}
        extensions = {g[2:] for g in found if g.startswith("*.") and not _WILDCARDS.intersection(g[2:])}
        others = sorted(found - names - {f"*.{x}" for x in extensions})
        regex = "|".join(map(fnmatch.translate, others)) or "(?!)"  # (?!): no other pattern, nothing matches
        return cls(frozenset(extensions), frozenset(names), re.compile(regex))

    def extension_alone(self, name: str) -> str | None:
        """The extension of `name` when only `*.<extension>` patterns can claim it, else None."""
        stem, dot, extension = name.rpartition(".")
        if not dot or name in self.names or self.others.match(name):
            return None
        at = stem.find(".")
        while at >= 0:
            if name[at + 1 :] in self.extensions:  # a longer suffix with patterns of its own
                return None
            at = stem.find(".", at + 1)
        return extension


_WILDCARDS = frozenset("*?[")


@cache
def patterns() -> Patterns:
    """Pygments' patterns, read once from its registry (no lexer module is imported for them)."""
    registry = (glob for _module, _name, _aliases, globs, _types in LEXERS.values() for glob in globs)
    plugins = (glob for lexer in find_plugin_lexers() for glob in lexer.filenames)
    return Patterns.of([*registry, *plugins])


def _lexer_named(alias: str) -> type[Lexer] | None:
    try:
        return find_lexer_class_by_name(alias)
    except ClassNotFound:
        return None
