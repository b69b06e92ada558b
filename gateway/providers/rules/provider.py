"""The `rules` provider: deterministic heuristics in place of a language model.

No network, no API key, no randomness: the same request always gives the same JSON. Each analysis
type maps to one function of a role-named module (`ANALYZERS`); every text field of a result says
it comes from rules ("rules: ..."), so nobody mistakes it for a model's answer.

A fused call (`ProviderCall.analysis_types`) is answered with one result per analysis it names.

Odd input never crashes the provider: the readers treat malformed figures as missing, and should
an analyzer still fail, the result for the same type with empty content and context (neutral,
low-confidence defaults) is returned instead. Only when even that fails is `BadRequest` raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from types import MappingProxyType

import orjson

from gateway.errors import BadRequest
from gateway.providers.base import ProviderCall, ProviderReply
from gateway.providers.rules.code import analyze_skill_extraction
from gateway.providers.rules.complexity import analyze_code_complexity
from gateway.providers.rules.hiring import (
    analyze_interview_rubric,
    analyze_job_description,
    analyze_learning_path,
)
from gateway.providers.rules.people import analyze_developer_profile, analyze_growth_trajectory
from gateway.providers.rules.quality import analyze_code_quality
from gateway.providers.rules.risk import (
    analyze_attrition_risk,
    analyze_burnout_risk,
    analyze_performance_trajectory,
)
from gateway.providers.rules.soft_skills import analyze_soft_skills
from gateway.providers.rules.tasks import analyze_task_matching, analyze_task_signals
from gateway.providers.rules.team import analyze_team_health
from schemas.request import AnalysisRequest
from schemas.results import ResultModel
from schemas.types import AnalysisType

PROVIDER_NAME = "rules"
MODEL_NAME = "rules-v1"

Analyzer = Callable[[AnalysisRequest], ResultModel]

ANALYZERS: Mapping[AnalysisType, Analyzer] = MappingProxyType(
    {
        AnalysisType.CODE_QUALITY: analyze_code_quality,
        AnalysisType.CODE_COMPLEXITY: analyze_code_complexity,
        AnalysisType.SKILL_EXTRACTION: analyze_skill_extraction,
        AnalysisType.DEVELOPER_PROFILE: analyze_developer_profile,
        AnalysisType.SOFT_SKILLS: analyze_soft_skills,
        AnalysisType.GROWTH_TRAJECTORY: analyze_growth_trajectory,
        AnalysisType.TASK_SIGNALS: analyze_task_signals,
        AnalysisType.TASK_MATCHING: analyze_task_matching,
        AnalysisType.ATTRITION_RISK: analyze_attrition_risk,
        AnalysisType.BURNOUT_RISK: analyze_burnout_risk,
        AnalysisType.PERFORMANCE_TRAJECTORY: analyze_performance_trajectory,
        AnalysisType.TEAM_HEALTH: analyze_team_health,
        AnalysisType.LEARNING_PATH: analyze_learning_path,
        AnalysisType.JOB_DESCRIPTION: analyze_job_description,
        AnalysisType.INTERVIEW_RUBRIC: analyze_interview_rubric,
    }
)

log = logging.getLogger(__name__)


def analyze_request(request: AnalysisRequest) -> ResultModel:
    """The result for one request (see the module docstring for the fallback)."""
    analyzer = ANALYZERS.get(request.analysis_type)
    if analyzer is None:
        raise BadRequest(f"rules: no rule set for {request.analysis_type!r}", provider=PROVIDER_NAME)
    try:
        return analyzer(request)
    except Exception as exc:  # any input must give a valid result: degrade, don't crash
        log.warning(
            "rules: %s failed on request %s (%r); using defaults", analyzer.__name__, request.request_id, exc
        )
        return _defaults(analyzer, request)


def _defaults(analyzer: Analyzer, request: AnalysisRequest) -> ResultModel:
    empty = request.model_copy(update={"content": "", "context": {}})
    try:
        return analyzer(empty)
    except Exception as exc:
        raise BadRequest(
            f"rules: cannot analyse {request.analysis_type}: {exc}", provider=PROVIDER_NAME
        ) from exc


def answer_call(call: ProviderCall) -> str:
    """The reply's JSON: the result for the call's request, or for a fused call one property per
    analysis (`gateway/prompts/fused.py`), each the result for the request as that analysis."""
    if not call.analysis_types:
        return analyze_request(call.request).model_dump_json()
    results = {
        kind.value: analyze_request(call.request.model_copy(update={"analysis_type": kind})).model_dump(
            mode="json"
        )
        for kind in call.analysis_types
    }
    return orjson.dumps(results).decode()


class RulesProvider:
    """A `Provider` that answers every analysis type from deterministic rules."""

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    @property
    def model(self) -> str:
        return MODEL_NAME

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        text = await asyncio.to_thread(answer_call, call)
        return ProviderReply(text=text, input_tokens=0, output_tokens=0, model=MODEL_NAME)

    async def is_available(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None
