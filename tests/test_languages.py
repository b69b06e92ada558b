"""The language registry (Pygments' lexers under stable names), the path conventions for tests and
docs, and the skill tallies that read them."""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

import pytest
from pygments.lexers import LEXERS, find_lexer_class_for_filename

from consumers.activity import docs
from consumers.activity.config import ActivityConfig
from consumers.activity.features import developer_features
from schemas.languages import (
    canonical_language,
    is_skill,
    language_of,
    lexer_for_name,
    patterns,
    skill_language,
)
from schemas.paths import is_doc_path, is_test_path


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/parser.y", "yacc"),
        ("src/grammar.yy", "yacc"),
        ("src/lexer.l", "lex"),
        ("configure.ac", "autoconf"),
        ("c-ares/configure.in", "autoconf"),
        ("Makefile.am", "automake"),
        ("test/Makefile.am", "automake"),
        ("m4/libuv-check-flags.m4", "m4"),
        ("CMakeLists.txt", "cmake"),
        ("cmake/toolchain.cmake", "cmake"),
        ("Makefile", "makefile"),
        ("config.mk", "makefile"),
        ("autogen.sh", "shell"),
        ("tests/run.bats", "shell"),
        ("include/uv.h", "c"),
        ("src/unix/core.c", "c"),
        ("include/uv/config.h.in", "c"),
        ("lib/Foo.pm", "perl"),
        ("script.pl", "perl"),
        ("db/schema.sql", "sql"),
        ("src/App.fs", "fsharp"),
        ("src/start.S", "assembly"),
        ("a/b.rs", "rust"),
        ("x.tsx", "typescript"),
        ("Dockerfile", "dockerfile"),
        ("k.kt", "kotlin"),
        ("app/views.py", "python"),
        ("go.mod", "go-module"),
        ("README.md", "markdown"),
        ("docs/src/fs.rst", "rst"),
        ("LICENSE", None),
        ("n.xyz", None),
        ("src/defs.inc", None),
    ],
)
def test_language_of_a_path(path: str, language: str | None) -> None:
    assert language_of(path) == language


@pytest.mark.parametrize(
    ("first_line", "language"),
    [
        ("#!/usr/bin/env python3", "python"),
        ("#!/bin/sh", "shell"),
        ("#!/bin/bash -e", "shell"),
        ("#!/usr/bin/env -S node --no-warnings", "javascript"),
        ("#!/usr/bin/perl -w", "perl"),
        ("# not a shebang", None),
        ("", None),
    ],
)
def test_a_script_without_a_known_name_is_told_by_its_shebang(first_line: str, language: str | None) -> None:
    assert language_of("build/gyp_uv", first_line) == language


def test_a_known_name_wins_over_the_shebang() -> None:
    assert language_of("tools/check.py", "#!/bin/sh") == "python"


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("C++", "cpp"),
        ("Python", "python"),
        ("Bash", "shell"),
        ("Shell", "shell"),
        ("Bison", "yacc"),
        ("Flex", "lex"),
        ("TypeScript", "typescript"),
        ("Objective-C", "objective-c"),
        ("c#", "csharp"),
        ("Markdown", "markdown"),
        ("unknown", None),
        ("Unknown", None),
        ("  ", None),
        ("none", None),
    ],
)
def test_names_from_elsewhere_map_to_the_same_vocabulary(name: str, canonical: str | None) -> None:
    assert canonical_language(name) == canonical


def test_prose_markup_and_data_are_no_skill() -> None:
    assert [lang for lang in ("markdown", "json", "yaml", "text", "rst", "roff") if is_skill(lang)] == []
    assert all(is_skill(lang) for lang in ("c", "python", "shell", "yacc", "lex", "m4", "autoconf", "cmake"))
    assert not is_skill(None) and not is_skill("")
    assert skill_language("Markdown") is None and skill_language("C++") == "cpp"


@pytest.mark.parametrize(
    "path",
    [
        "tests/jq.test",
        "test/test-fs.c",
        "src/fs_test.go",
        "web/app.test.js",
        "web/app.spec.ts",
        "spec/models/user_spec.rb",
        "tests/test_api.py",
        "conftest.py",
        "src/test/java/FooTest.java",
        "t/basic.t",
        "pkg/__tests__/x.js",
    ],
)
def test_test_paths(path: str) -> None:
    assert is_test_path(path)


@pytest.mark.parametrize(
    "path", ["src/latest.c", "src/contest.py", "src/testing_utils_impl.c", "docs/index.md"]
)
def test_paths_that_are_not_tests(path: str) -> None:
    assert not is_test_path(path)


def test_doc_paths() -> None:
    docs_ = ["docs/src/fs.rst", "README.md", "ChangeLog", "doc/uv.3", "CONTRIBUTING.md", "man/uv.1"]
    code = ["src/unix/core.c", "CMakeLists.txt", "docs_builder.py"]
    assert [p for p in docs_ if not is_doc_path(p)] == []
    assert [p for p in code if is_doc_path(p)] == []


def test_the_skill_tally_counts_programming_languages_only_and_by_one_name() -> None:
    doc: docs.Doc = {}
    docs.record_skills(doc, ["C++", "unknown", "Markdown"], ["React"])
    docs.record_skills(doc, ["cpp", "", "JSON", "Yacc"], [])
    assert doc["languages"] == {"cpp": 2, "yacc": 1}
    assert doc["frameworks"] == {"react": 1}


def test_features_drop_what_an_older_document_counted_as_a_language() -> None:
    doc: docs.Doc = {"languages": {"unknown": 9, "markdown": 4, "c": 3, "c++": 1, "cpp": 1}}
    assert developer_features(doc, ActivityConfig())["languages"] == {"c": 3, "cpp": 2}


# fmt: off
COMMON_EXTENSIONS = (
    "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "C", "H", "c++", "m", "mm", "py", "pyi", "pyx", "js", "mjs",
    "cjs", "jsx", "ts", "tsx", "d.ts", "go", "rs", "java", "kt", "kts", "scala", "groovy", "gradle", "rb",
    "php", "pl", "pm", "lua", "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd", "r", "R", "jl", "swift",
    "dart", "ex", "exs", "erl", "hrl", "hs", "ml", "mli", "clj", "cs", "fs", "vb", "sql", "md", "markdown",
    "rst", "txt", "adoc", "tex", "json", "jsonc", "yaml", "yml", "toml", "ini", "cfg", "conf", "xml", "html",
    "htm", "css", "scss", "sass", "less", "vue", "svelte", "proto", "graphql", "tf", "hcl", "cmake", "mk",
    "mak", "am", "ac", "in", "m4", "y", "l", "asm", "s", "S", "dockerfile", "nix", "zig", "v", "sv", "vhd",
    "el", "vim", "diff", "patch", "lock", "csv", "svg", "j2", "jinja2",
)
# fmt: on
"""The extensions of most files, lower and upper case (`*.C` is C++ to Pygments, `*.c` C)."""


def pygments_names() -> set[str]:
    """A name for each file name pattern of Pygments' lexers, whole or as a suffix."""
    names = set()
    for _module, _name, _aliases, globs, _types in LEXERS.values():
        for glob in globs:
            name = glob.replace("*", "x").replace("?", "q").replace("[", "").replace("]", "")
            names |= {name, f"a.b.{name}"}
    return names


def assert_fast_path_is_pygments(names: set[str]) -> None:
    assert [n for n in sorted(names) if lexer_for_name(n) is not find_lexer_class_for_filename(n)] == []


def test_the_extension_path_gives_what_pygments_gives_for_libuvs_files(libuv_repo: Path) -> None:
    listed = subprocess.run(
        ["git", "-C", str(libuv_repo), "log", "--all", "--format=", "--name-only"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {posixpath.basename(path) for path in listed.split()}
    assert len(names) > 500
    assert_fast_path_is_pygments(names)
    by_extension = [n for n in names if patterns().extension_alone(n) is not None]
    assert len(by_extension) > 0.8 * len(names)  # the path this compares is the one most names take


def test_the_extension_path_gives_what_pygments_gives_for_common_extensions() -> None:
    stems = ("file", "a.b", "Makefile", "Kconfig")
    names = {f"{stem}.{x}" for x in COMMON_EXTENSIONS for stem in stems}
    names |= {name.upper() for name in names} | pygments_names()
    assert_fast_path_is_pygments(names)
    by_extension = [x for x in COMMON_EXTENSIONS if patterns().extension_alone(f"file.{x}") is not None]
    assert len(by_extension) > 0.9 * len(COMMON_EXTENSIONS)
