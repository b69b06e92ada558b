"""Removing secrets from material before it leaves for an analysis provider.

Each rule of `RULES` is a regex compiled once; a match becomes `[REDACTED:<kind>]`. A rule with a
`secret` group replaces only that group (a URL keeps its user, an assignment keeps its name).
Rules run in order, specific ones first, so a key inside `api_key = "..."` is counted once, under
its own kind; placeholders (`${VAR}`, `<token>`, `%s`, `{name}`) are never redacted.

Each rule also names `hints`: literal strings at least one of which every match contains. A rule
runs only on a text that holds a hint (case-folded for case-insensitive rules), since scanning 17 KB
of patch takes a regex about 240 µs and a substring test about 1 µs: most code holds no secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial

_NOT_REDACTED = r"(?!\[REDACTED:)"
_NOT_PLACEHOLDER = r"(?![$%{<])"
_SECRET_NAME = r"[\w.-]*?(?:password|passwd|secret|api_?key|token)(?:_access)?(?:_?key)?"


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    hints: tuple[str, ...]
    """Every match contains one of these (case-folded when the pattern ignores case)."""
    ignore_case: bool

    def may_match(self, text: str, folded: str | None) -> bool:
        """`folded` is None for a text that is not ASCII: there `re.IGNORECASE` matches letters
        that case folding leaves apart (dotless i, dotted capital I), so such rules always run."""
        if not self.ignore_case:
            haystack = text
        elif folded is None:
            return True
        else:
            haystack = folded
        for hint in self.hints:  # noqa: SIM110 - a plain loop: any() over a generator costs more here
            if hint in haystack:
                return True
        return False


def _rule(kind: str, pattern: str, hints: tuple[str, ...], flags: int = 0) -> Rule:
    """`ignore_case` is read off the flags once: testing a `re.RegexFlag` per call is slow."""
    return Rule(kind, re.compile(pattern, flags), hints, bool(flags & re.IGNORECASE))


RULES: tuple[Rule, ...] = (
    _rule(
        "private_key",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
        ("PRIVATE KEY",),
        re.DOTALL,
    ),
    _rule("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("AKIA", "ASIA")),
    _rule(
        "github_token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    _rule("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", ("sk-ant-",)),
    _rule("openai_key", r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{32,}\b", ("sk-",)),
    _rule("slack_token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}", ("xox",)),
    _rule("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])", ("AIza",)),
    _rule("jwt", r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", ("eyJ",)),
    _rule(
        "url_password",
        rf"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:{_NOT_REDACTED}{_NOT_PLACEHOLDER}(?P<secret>[^\s@/]+)@",
        ("://",),
        re.IGNORECASE,
    ),
    _rule(
        "secret",
        rf"\b{_SECRET_NAME}['\"]?\s*[:=]\s*(?P<quote>['\"])"
        rf"{_NOT_REDACTED}{_NOT_PLACEHOLDER}(?P<secret>[^'\"\s]{{6,}})(?P=quote)",
        ("password", "passwd", "secret", "apikey", "api_key", "token"),
        re.IGNORECASE,
    ),
)
"""Secret kinds, most specific first."""


def _marker(kind: str) -> str:
    return f"[REDACTED:{kind}]"


def _replace(rule: Rule, match: re.Match[str]) -> str:
    if "secret" not in rule.pattern.groupindex:
        return _marker(rule.kind)
    whole, start, end = match.group(0), *match.span("secret")
    offset = match.start()
    return whole[: start - offset] + _marker(rule.kind) + whole[end - offset :]


def redact(text: str) -> tuple[str, int]:
    """`text` with every secret replaced by `[REDACTED:<kind>]`, and how many were replaced."""
    total, folded = 0, text.casefold() if text.isascii() else None
    for rule in RULES:
        if rule.may_match(text, folded):
            text, found = rule.pattern.subn(partial(_replace, rule), text)
            total += found
    return text, total
