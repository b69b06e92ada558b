"""A commit's analysed files as parts, each one request's material, sized by estimated tokens.

Each file's patch is trimmed to its changes (`consumers/hunks.py`) and cut to what one part can
hold; the files are then packed in order into parts while a part's estimate stays within the budget,
`RoutingConfig.max_input_tokens` (`LLM_MAX_INPUT_TOKENS`). The estimate is the shared one
(`gateway.limits.base.estimate_tokens`) of the call: the prompt's instructions
(`instruction_tokens`, measured from the prompts), then the request's context,
the commit's facts (`consumers/commit_facts.py`, the same in every part), the event's fields and per
file its path and facts, and its content.

A commit that fits in one part is one part, `WHOLE`; otherwise each part is named by its first
file's path (a request id stays the same when the commit is read again).

What was trimmed is said in the request's context (`trimming_facts`): `diff_context_lines`, and
for files cut to fit, `truncated_paths` and per file the hunks and changed lines left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from consumers.config import RoutingConfig
from consumers.hunks import CONTEXT_LINES, Trimmed, trim
from gateway.limits.base import estimate_tokens
from gateway.prompts import prompt_for
from gateway.prompts.fused import fused_prompt
from schemas.events import FileChange
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

WHOLE = "all"
"""The request part of an unsplit event (a split commit uses each part's first file path instead)."""

EVENT_CONTEXT_CHARS = 600
"""A bound on the characters of a code change's own context fields (ids, sha, author, dates)."""
FILE_CONTEXT_CHARS = 400
"""A bound on the characters one file adds to its part's context, besides its path three times
(`paths`, `files`, `truncated_paths` or `omitted`)."""
MIN_FILE_TOKENS = 256
"""A file keeps at least this much of its patch, even when the commit's facts alone fill the budget."""


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's analysed diff text (`diff --git` header + trimmed patch) and what was left out."""

    change: FileChange
    text: str
    trimmed: Trimmed

    @property
    def truncated(self) -> bool:
        """Whether changes were left out to fit the budget."""
        return self.trimmed.cut


@dataclass(frozen=True, slots=True)
class Budget:
    """A call's tokens: `max_tokens` in all, `fixed` of them taken by what every part carries
    (instructions, the commit's facts, the event's fields)."""

    max_tokens: int
    fixed: int

    @classmethod
    def of(cls, config: RoutingConfig, commit: Mapping[str, Any]) -> Budget:
        """The budget of a part of the commit whose facts are `commit`."""
        fixed = estimate_tokens(_json_chars(commit) + EVENT_CONTEXT_CHARS, 0) + instruction_tokens(
            config.fuse_code_analyses
        )
        return cls(config.max_input_tokens, fixed)

    def per_file(self, path: str) -> int:
        return estimate_tokens(FILE_CONTEXT_CHARS + 3 * len(path), 0)

    def for_material(self, path: str) -> int:
        """The most one file's diff text may take: all that a part alone with it leaves."""
        return max(self.max_tokens - self.fixed - self.per_file(path), MIN_FILE_TOKENS)


def file_diff(change: FileChange, budget: Budget) -> FileDiff:
    header = f"diff --git a/{change.previous_path or change.path} b/{change.path}\n"
    room = budget.for_material(change.path) - estimate_tokens(len(header), 0) - 4  # 4: rounding
    trimmed = trim(change.patch or "", room)
    return FileDiff(change, header + trimmed.text, trimmed)


def split(diffs: Sequence[FileDiff], budget: Budget) -> list[tuple[list[FileDiff], str]]:
    """The files in order, packed into parts whose estimate stays within the budget."""
    parts: list[list[FileDiff]] = []
    used = 0
    for diff in diffs:
        tokens = _tokens(diff, budget)
        if parts and budget.fixed + used + tokens <= budget.max_tokens:
            parts[-1].append(diff)
            used += tokens
        else:
            parts.append([diff])
            used = tokens
    if len(parts) == 1:
        return [(parts[0], WHOLE)]
    return [(part, part[0].change.path) for part in parts]


def trimming_facts(diffs: Sequence[FileDiff]) -> dict[str, Any]:
    """What a part's context says about what was left out of its files' patches."""
    facts: dict[str, Any] = {"diff_context_lines": CONTEXT_LINES}
    cut = [d for d in diffs if d.truncated]
    if not cut:
        return {**facts, "truncated": False}
    omitted = [
        {
            "path": d.change.path,
            "hunks": d.trimmed.hunks_omitted,
            "changed_lines": d.trimmed.changed_lines_omitted,
        }
        for d in cut
    ]
    return {**facts, "truncated": True, "truncated_paths": [d.change.path for d in cut], "omitted": omitted}


def _tokens(diff: FileDiff, budget: Budget) -> int:
    """A file's share of a part: its text, the newline joining it to the one before, its context."""
    return estimate_tokens(len(diff.text) + 1, 0) + 1 + budget.per_file(diff.change.path)


def _json_chars(value: Mapping[str, Any]) -> int:
    """At least the characters of `value` as the gateway renders a context (indented JSON), nested
    one level: its UTF-8 bytes, never fewer than its characters."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2, default=str)
    return len(text) + 2 * text.count(b"\n")


CODE_CHANGE_ANALYSES: tuple[AnalysisType, ...] = (
    AnalysisType.SKILL_EXTRACTION,
    AnalysisType.CODE_QUALITY,
    AnalysisType.CODE_COMPLEXITY,
)
"""Every analyzable commit (or, when split, every analyzable part) asks for these."""


@cache
def instruction_tokens(fused: bool) -> int:
    """Estimated input tokens of a code analysis call besides its material and context: the system
    prompt and the user message's own text (of the fused prompt, or the largest of the three)."""
    if fused:
        renders = [
            fused_prompt(CODE_CHANGE_ANALYSES).render(
                AnalysisRequest(analysis_type=CODE_CHANGE_ANALYSES[0], content="")
            )
        ]
    else:
        renders = [
            prompt_for(kind).render(AnalysisRequest(analysis_type=kind, content=""))
            for kind in CODE_CHANGE_ANALYSES
        ]
    return max(estimate_tokens(len(r.system) + len(r.user), 0) for r in renders)
