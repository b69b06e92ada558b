"""The language registry (Pygments' lexers under stable names), the path conventions for tests and
docs, and the skill tallies that read them."""

from __future__ import annotations

import pytest

from consumers.activity import docs
from consumers.activity.config import ActivityConfig
from consumers.activity.features import developer_features
from schemas.languages import canonical_language, is_skill, language_of, skill_language
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
