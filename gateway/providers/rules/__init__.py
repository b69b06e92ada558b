"""The `rules` provider: deterministic, offline heuristics for all fifteen analysis types."""

from gateway.providers.rules.provider import (
    ANALYZERS,
    MODEL_NAME,
    PROVIDER_NAME,
    RulesProvider,
    analyze_request,
)

__all__ = ["ANALYZERS", "MODEL_NAME", "PROVIDER_NAME", "RulesProvider", "analyze_request"]
