"""The LLM integration's Python API as the original design names it, from one import path:

    from aexy_stream.llm import LLMGateway, AnalysisType

    gateway = LLMGateway()
    result = await gateway.analyze(AnalysisType.SKILL_EXTRACTION, content=code, context={...})
    result.skills, result.provider, result.cache_hit

Each name is ours or a thin name over ours (its docstring says which); docs/gateway.md says where
our behaviour differs from the design's and why.
"""

from aexy_stream.llm.cache import AnalysisCache, AnalysisCacheConfig
from aexy_stream.llm.gateway import LLMGateway
from aexy_stream.llm.limits import LLMRateLimiter
from aexy_stream.llm.providers import BaseLLMProvider, ClaudeProvider, OllamaProvider
from aexy_stream.llm.retry import LLMRetryConfig, retry_with_backoff
from gateway.errors import GatewayError as LLMError
from gateway.errors import LLMUnavailableError
from schemas.envelope import AnalysisResult
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

__all__ = [
    "AnalysisCache",
    "AnalysisCacheConfig",
    "AnalysisRequest",
    "AnalysisResult",
    "AnalysisType",
    "BaseLLMProvider",
    "ClaudeProvider",
    "LLMError",
    "LLMGateway",
    "LLMRateLimiter",
    "LLMRetryConfig",
    "LLMUnavailableError",
    "OllamaProvider",
    "retry_with_backoff",
]
