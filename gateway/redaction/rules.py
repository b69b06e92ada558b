"""Our own rules, for what detect-secrets' plugins do not know (`gateway/redaction/detectors.py`).

- `BLOCKS`: secrets that span lines (a PEM or PGP private key block, a PuTTY key file), replaced
  whole before the line detectors run: detect-secrets flags only the block's first line.
- `TOKENS`: credential formats with a fixed prefix that detect-secrets 1.5 has no plugin for, or
  knows only in one setting (an npm token outside `.npmrc`, a Stripe test key, a fine-grained
  GitHub token, a basic-auth URL whose password holds `!$&'()*+,;=`). Formats after the issuers'
  documentation and gitleaks' rules.
- `NAMED`: a value that looks random, assigned to a name that says it is secret (`token`,
  `credential`, ... which detect-secrets' keyword plugin leaves out), quoted or not: `.env` lines,
  URL query parameters, YAML.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.redaction.literals import Gate, gate_of


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    gate: Gate | None

    def values(self, line: str, path: str = "") -> Iterator[str]:
        """The secrets in `line` (of any file): the `secret` group when the pattern has one, else the
        whole match."""
        group = "secret" if "secret" in self.pattern.groupindex else 0
        for match in self.pattern.finditer(line):
            value = match.group(group)
            if value:
                yield value

    def replaced(self, text: str, marker: str) -> tuple[str, int]:
        """`text` with every match replaced by `marker`, and how many there were."""
        return self.pattern.subn(marker, text)


@dataclass(frozen=True, slots=True)
class BodyRule(Rule):
    """The body lines of a key block whose start is not in the text (a hunk that begins inside it),
    with the end line after them. `pattern` is the end line; the body lines before it are found as
    whole runs, never one line at a time: a regex of body lines then an end line backtracks over
    every run of base64 lines not followed by one (a certificate in the same diff), exponentially in
    its lines when they start with the `+` that is also a base64 character."""

    def replaced(self, text: str, marker: str) -> tuple[str, int]:
        pieces, at = [], 0
        for run in _BODY_RUN.finditer(text):
            end = self.pattern.match(text, run.end())
            if end is not None:
                pieces += [text[at : run.start()], marker]
                at = end.end()
        return "".join(pieces) + text[at:], len(pieces) // 2


def _rule(kind: str, pattern: str, flags: int = 0) -> Rule:
    compiled = re.compile(pattern, flags)
    return Rule(kind, compiled, gate_of(compiled))


_DASHES = r"-{4,5} ?"
_END_LINE = re.compile(rf"[+ -]?[ \t]*{_DASHES}END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{{4,5}}")
_BODY_RUN = re.compile(r"(?:^(?>[+ -]?[ \t]*[A-Za-z0-9+/=]{16,}[ \t]*\n))++", re.MULTILINE)
"""Whole runs of key body lines (each line matched once, the run never given back)."""
BLOCKS: tuple[Rule, ...] = (
    _rule(
        "private_key",
        rf"{_DASHES}BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{{4,5}}"
        rf"(?:.*?{_DASHES}END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)? ?-{{4,5}}|.*\Z)",
        re.DOTALL,
    ),
    BodyRule("private_key", _END_LINE, gate_of(_END_LINE)),
    _rule("private_key", r"PuTTY-User-Key-File-\d:.*?(?:Private-MAC: *[0-9a-fA-F]+|\Z)", re.DOTALL),
)
"""Whole blocks. A block cut short (a truncated patch) is replaced up to the end of the text; one
whose start is not in the text (a hunk that begins inside it) from its first body line on."""

_B = r"(?<![A-Za-z0-9_])"
_E = r"(?![A-Za-z0-9_])"
TOKENS: tuple[Rule, ...] = (
    _rule("anthropic", rf"{_B}sk-ant-(?:api|admin|oat|sid)\d\d-[A-Za-z0-9_-]{{20,}}"),
    _rule("openai", rf"{_B}sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{{20,}}|{_B}sk-[A-Za-z0-9]{{48}}{_E}"),
    _rule("huggingface", rf"{_B}hf_[A-Za-z0-9]{{34,}}{_E}"),
    _rule("npm", rf"{_B}npm_[A-Za-z0-9]{{36}}{_E}"),
    _rule("github_token", rf"{_B}github_pat_[A-Za-z0-9_]{{22,}}|{_B}gh[pousr]_[A-Za-z0-9_]{{30,}}"),
    _rule("google_api_key", rf"{_B}AIza[0-9A-Za-z_-]{{35}}"),
    _rule("stripe", rf"{_B}[rs]k_(?:live|test)_[0-9a-zA-Z]{{20,}}|{_B}whsec_[A-Za-z0-9+/=]{{32,}}"),
    _rule("slack", rf"{_B}xapp-\d-[A-Za-z0-9-]{{20,}}|{_B}xox[abeoprs]-[A-Za-z0-9-]{{10,}}"),
    _rule("discord", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{60,}"),
    _rule("shopify", rf"{_B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{{32}}{_E}"),
    _rule("digitalocean", rf"{_B}do[opr]_v1_[a-f0-9]{{64}}{_E}"),
    _rule("databricks", rf"{_B}dapi[a-f0-9]{{32}}(?:-\d)?{_E}"),
    _rule("doppler", rf"{_B}dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{{40,44}}{_E}"),
    _rule("postman", rf"{_B}PMAK-[a-f0-9]{{24}}-[a-f0-9]{{34}}{_E}"),
    _rule("linear", rf"{_B}lin_(?:api|oauth)_[A-Za-z0-9]{{40}}{_E}"),
    _rule("grafana", rf"{_B}glsa_[A-Za-z0-9]{{32}}_[A-Fa-f0-9]{{8}}{_E}|{_B}glc_[A-Za-z0-9+/]{{32,}}"),
    _rule("age", rf"{_B}AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{{58}}{_E}"),
    _rule("newrelic", rf"{_B}NR(?:AK|II|JS)-[A-Za-z0-9]{{27}}{_E}"),
    _rule("atlassian", rf"{_B}ATATT3[A-Za-z0-9_=-]{{180,}}"),
    _rule("vault", rf"{_B}hv[sb]\.[A-Za-z0-9_-]{{24,}}"),
    _rule("sentry", rf"{_B}sntr[ysu]_[A-Za-z0-9+/=_-]{{40,}}"),
    _rule("azure_sas", r"[?&]sig=(?P<secret>[A-Za-z0-9%+/]{30,}(?:=|%3[Dd]){0,2})"),
    _rule(
        "basic_auth",
        r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#\[\]@]+:(?![$%{<\[])(?P<secret>[^\s/?#\[\]@]+)@",
    ),
)
"""Formats detect-secrets lacks; `secret` groups keep the rest of the match (a URL keeps its user)."""

SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|pwd|credentials?|api[_-]?key|access[_-]?key"
    r"|auth[_-]?key|private[_-]?key|signing[_-]?key)[A-Za-z0-9_.-]*"
)
NAMED = _rule(
    "secret",
    rf"(?<![A-Za-z0-9_.-]){SECRET_NAME}['\"]?\s*(?::=|=>|==?|:)\s*"
    r"(?:(?P<quote>['\"`])(?P<quoted>[^'\"`\s]{8,})(?P=quote)|(?P<bare>[^\s'\"`&,;<>()\[\]{}]{8,}))",
    re.IGNORECASE,
)
"""A value assigned to a secret's name, quoted or not (judged by `looks_random` before it counts)."""


def named_values(line: str, path: str = "") -> Iterator[str]:
    """Values of `NAMED` in `line` that look random: not words, identifiers or numbers."""
    for match in NAMED.pattern.finditer(line):
        value = match.group("quoted") or match.group("bare")
        if looks_random(value, bare=match.group("bare") is not None):
            yield value


MIN_ENTROPY_BITS = 3.0
"""Shannon entropy per character below which a named value reads as a word, not a secret."""


def looks_random(value: str, *, bare: bool) -> bool:
    """Letters mixed with digits or symbols (not just `_-.`, which names have), with enough entropy;
    a bare value must not be a dotted name."""
    has_letter = any(c.isalpha() for c in value)
    mixed = any(c.isdigit() or not (c.isalpha() or c in "_-.") for c in value)
    if not (has_letter and mixed) or entropy(value) < MIN_ENTROPY_BITS:
        return False
    return not (bare and _DOTTED_NAME.fullmatch(value))


_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def entropy(value: str) -> float:
    """Shannon entropy of `value`'s characters, in bits per character."""
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values()) if size else 0.0
