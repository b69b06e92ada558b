"""Several analyses of the same material in one provider call: the fused prompt and output schema.

Both are built from the per-type prompts and result models only (a paragraph every fused analysis's
instructions share, `SHARED_BLOCKS`, said once before the sections), in analysis-type order, so a given
set of analyses always gets the same system prompt (no per-request text in it: providers may cache it
as a prefix) and the same schema. The schema is one object with a property per analysis, named by its
value (`code_quality`), holding that analysis's result schema; every part's `$defs` are hoisted to
the root, a name two parts define differently made unique by the analysis's prefix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from gateway.prompts.base import PREAMBLE, PromptTemplate, RenderedPrompt, render_user, repair_message
from gateway.prompts.code import COMMIT_PARTS
from gateway.prompts.registry import prompt_for
from schemas.request import AnalysisRequest
from schemas.results import result_model
from schemas.types import AnalysisType

SHARED_BLOCKS = (COMMIT_PARTS,)
"""Paragraphs several analyses' instructions share: said once, before the sections, when every
analysis of a fused call has them."""
FUSED_SCHEMA_NAME = "fused_analysis"
FUSED_TITLE = "FusedAnalysis"
DEFS_REF = "#/$defs/"
ROLE_MARK = "\n\nYour role:\n"

FUSED_RULES = """\
8. Several analyses. This request asks for several analyses of the same material at once, each
   specified in its own section below. Reply with one JSON object holding exactly one property per
   analysis, named as its section is (for example "code_quality"), whose value is that analysis's
   JSON object. Do each analysis on its own terms: one's findings never lower another's standards."""


@dataclass(frozen=True, slots=True)
class FusedPrompt:
    """The prompt of one fused call: `types` in analysis-type order."""

    types: tuple[AnalysisType, ...]
    system: str
    task: str
    max_tokens: int

    def render(self, request: AnalysisRequest) -> RenderedPrompt:
        return RenderedPrompt(system=self.system, user=render_user(self.task, request))


def in_order(types: Iterable[AnalysisType]) -> tuple[AnalysisType, ...]:
    """`types` once each, in the enum's order: the one order of a fused prompt and schema."""
    wanted = set(types)
    return tuple(kind for kind in AnalysisType if kind in wanted)


@cache
def fused_prompt(types: tuple[AnalysisType, ...]) -> FusedPrompt:
    ordered = in_order(types)
    templates = [prompt_for(kind) for kind in ordered]
    shared = [block for block in SHARED_BLOCKS if all(block in template.task for template in templates)]
    sections = "\n\n".join(_section(template, shared) for template in templates)
    common = "".join(f"\n\nFor every analysis below:\n{block}" for block in shared)
    names = ", ".join(f'"{kind.value}"' for kind in ordered)
    task = (
        f"Do each of these analyses of the fenced material, as its section of the system prompt"
        f" specifies: {names}. Reply with one JSON object with exactly these properties."
    )
    return FusedPrompt(
        types=ordered,
        system=f"{PREAMBLE}\n{FUSED_RULES}{common}\n\n{sections}",
        task=task,
        max_tokens=sum(template.max_tokens for template in templates),
    )


def _section(template: PromptTemplate, shared: Iterable[str]) -> str:
    role = template.system.partition(ROLE_MARK)[2]
    if not role:
        raise ValueError(f"{template.version}: its system prompt has no role to fuse")
    kind, task = template.analysis_type.value, template.task
    for block in shared:
        task = task.replace(f"{block}\n", "").replace(block, "")
    return f'=== Analysis "{kind}" ===\nYour role:\n{role}\n\nInstructions:\n{task}'


@cache
def fused_schema(types: tuple[AnalysisType, ...]) -> dict[str, Any]:
    """The JSON schema of a fused reply (built once per set of types; callers must not change it)."""
    ordered = in_order(types)
    defs: dict[str, Any] = {}
    properties = {
        kind.value: _hoisted(kind, result_model(kind).model_json_schema(), defs) for kind in ordered
    }
    schema: dict[str, Any] = {
        "type": "object",
        "title": FUSED_TITLE,
        "properties": properties,
        "required": [kind.value for kind in ordered],
        "additionalProperties": False,
    }
    return {**schema, "$defs": defs} if defs else schema


def _hoisted(kind: AnalysisType, schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """`schema` without its `$defs`, which join `defs` (renamed where a name is taken by another
    definition), its `$ref`s rewritten to match."""
    own: dict[str, Any] = dict(schema.get("$defs", {}))
    names = {name: _root_name(kind, name, body, defs) for name, body in own.items()}
    for name, body in own.items():
        defs[names[name]] = _rewritten(body, names)
    return {key: _rewritten(value, names) for key, value in schema.items() if key != "$defs"}


def _root_name(kind: AnalysisType, name: str, body: Any, defs: Mapping[str, Any]) -> str:
    """The definition's name at the root: its own unless another definition holds it (the same
    definition, without references that could mean something else, is shared)."""
    if name not in defs or (defs[name] == body and not _refers(body)):
        return name
    candidate, n = f"{kind.value}__{name}", 2
    while candidate in defs:
        candidate, n = f"{kind.value}__{name}_{n}", n + 1
    return candidate


def _refers(value: Any) -> bool:
    if isinstance(value, dict):
        return "$ref" in value or any(_refers(item) for item in value.values())
    return isinstance(value, list) and any(_refers(item) for item in value)


def _rewritten(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        ref = value.get("$ref")
        out = {key: _rewritten(item, names) for key, item in value.items()}
        if isinstance(ref, str) and ref.startswith(DEFS_REF) and ref[len(DEFS_REF) :] in names:
            out["$ref"] = DEFS_REF + names[ref[len(DEFS_REF) :]]
        return out
    if isinstance(value, list):
        return [_rewritten(item, names) for item in value]
    return value


def fused_repair_message(problems: Mapping[AnalysisType, str]) -> str:
    """The follow-up user message when some parts of a fused reply did not validate: each part's
    errors, and which properties to send again (the schema of the repair call holds only those)."""
    listed = "\n".join(f"{kind.value}: {problem}" for kind, problem in problems.items())
    names = ", ".join(f'"{kind.value}"' for kind in in_order(problems))
    return (
        f"{repair_message(listed)}\n\nThe other analyses were accepted. Reply with one JSON object"
        f" holding only these properties, corrected: {names}."
    )
