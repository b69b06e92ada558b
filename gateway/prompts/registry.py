"""Every analysis type's current prompt, looked up by type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from gateway.prompts import code, hiring, people, risk, tasks, team
from gateway.prompts.base import PromptTemplate
from schemas.types import AnalysisType


def _index(templates: Iterable[PromptTemplate]) -> Mapping[AnalysisType, PromptTemplate]:
    """One template per analysis type, in enum order; fails at import on a gap or a duplicate."""
    listed = tuple(templates)
    by_type = {template.analysis_type: template for template in listed}
    missing = [kind.value for kind in AnalysisType if kind not in by_type]
    if missing or len(by_type) != len(listed):
        raise RuntimeError(f"prompt registry incomplete or duplicated (missing: {missing})")
    return MappingProxyType({kind: by_type[kind] for kind in AnalysisType})


PROMPTS: Mapping[AnalysisType, PromptTemplate] = _index(
    (
        *code.TEMPLATES,
        *people.TEMPLATES,
        *tasks.TEMPLATES,
        *risk.TEMPLATES,
        *team.TEMPLATES,
        *hiring.TEMPLATES,
    )
)


def prompt_for(analysis_type: AnalysisType) -> PromptTemplate:
    return PROMPTS[analysis_type]
