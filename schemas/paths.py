"""What a file's path says about its role: a test, or documentation (by common conventions).

Tests: a `test/`, `tests/`, `testing/`, `testdata/`, `spec/`, `specs/`, `__tests__/` or `t/`
directory; `test_x.py`, `test-x.c`; `x_test.go`, `x-test.c`, `x.test.js`, `x_spec.rb`,
`x.spec.ts`; a `.test` or `.t` file (jq, Perl); `conftest.py`; `FooTest.java`, `FooTests.cs`.
Documentation: a `doc/`, `docs/`, `documentation/` or `man/` directory; Markdown, reStructuredText,
AsciiDoc, POD, Texinfo and man pages (`x.3`); README, CHANGELOG, NEWS, CONTRIBUTING, AUTHORS and
LICENSE files.
"""

from __future__ import annotations

import re
from functools import lru_cache

TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|testdata|specs?|__tests__|t)/"
    r"|(^|/)test[_-][^/]+$"
    r"|[^/][_.-](tests?|spec)\.[^/]+$"
    r"|\.(test|t)$"
    r"|(^|/)conftest\.py$",
    re.IGNORECASE,
)
CAMEL_CASE_TEST = re.compile(r"[a-z0-9]Tests?\.(java|kt|cs|swift|scala|groovy|php)$")
DOC_PATH = re.compile(
    r"(^|/)(docs?|documentation|man)/"
    r"|\.(md|markdown|rst|adoc|asciidoc|pod|rdoc|texi|texinfo|[1-9])$"
    r"|(^|/)(readme|changelog|changes|news|history|contributing|authors|license|copying)([._-][^/]*)?$",
    re.IGNORECASE,
)


@lru_cache(maxsize=8192)  # the same paths recur in commit after commit
def is_test_path(path: str) -> bool:
    return TEST_PATH.search(path) is not None or CAMEL_CASE_TEST.search(path) is not None


@lru_cache(maxsize=8192)
def is_doc_path(path: str) -> bool:
    return DOC_PATH.search(path) is not None
