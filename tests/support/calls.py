"""Provider calls built the way the gateway builds them (`gateway.calls.provider_call`), for tests
that call a provider directly: one analysis (`single_call`) or several fused (`fused_call`)."""

from __future__ import annotations

from typing import Any

from gateway.calls import provider_call, result_schema
from gateway.prompts import prompt_for
from gateway.prompts.fused import FUSED_SCHEMA_NAME, fused_prompt, fused_schema
from gateway.providers.base import ProviderCall
from schemas.request import AnalysisRequest
from schemas.results import result_model
from schemas.types import AnalysisType

SNIPPET = "def add(a, b):\n    return a + b\n"


def single_call(
    kind: AnalysisType, content: str = SNIPPET, context: dict[str, Any] | None = None
) -> ProviderCall:
    """The call `Gateway.analyze` makes for one analysis."""
    request = AnalysisRequest(analysis_type=kind, content=content, context=context or {})
    return provider_call(request, prompt_for(kind), result_schema(kind), result_model(kind).__name__)


def fused_call(
    kinds: tuple[AnalysisType, ...], content: str = SNIPPET, context: dict[str, Any] | None = None
) -> ProviderCall:
    """The call `Gateway.analyze_many` makes for several analyses of one material (the request it
    renders is the first one's)."""
    prompt = fused_prompt(kinds)
    request = AnalysisRequest(analysis_type=kinds[0], content=content, context=context or {})
    return provider_call(request, prompt, fused_schema(prompt.types), FUSED_SCHEMA_NAME, prompt.types)
