"""`LLMGateway` with the original design's calls beside the request form.

`analyze(analysis_type, content, context=None, use_cache=True)` builds the `AnalysisRequest` and
makes the request-form call: one implementation underneath. What comes back is the envelope, which
gives its result's fields directly (`result.skills` is `result.result.skills`, see
`schemas.envelope.AnalysisResult`) besides its provenance (provider, model, cache hit, tokens, cost).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

from aexy_stream import compose
from schemas.envelope import AnalysisResult, SourceRef
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType


class LLMGateway(compose.LLMGateway):
    """The gateway built from the environment (`aexy_stream.compose.LLMGateway`), called either
    way: `analyze(AnalysisType.SKILL_EXTRACTION, content=code, context={...})` as in the original
    design, or `analyze(AnalysisRequest(...))`. `LLMGateway(provider="ollama")` puts that provider
    first instead of LLM_PROVIDER (LLM_FALLBACK_PROVIDERS still follow it)."""

    @property
    def provider_name(self) -> str:
        """The first provider of the chain (LLM_PROVIDER, or the `provider` given)."""
        return self.chain[0]

    @overload
    async def analyze(
        self,
        request: AnalysisRequest,
        *,
        use_cache: bool = True,
        provider: str | None = None,
        source: SourceRef | None = None,
    ) -> AnalysisResult[Any]: ...

    @overload
    async def analyze(
        self,
        analysis_type: AnalysisType,
        /,
        content: str,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
    ) -> AnalysisResult[Any]: ...

    @overload
    async def analyze(
        self,
        *,
        analysis_type: AnalysisType,
        content: str,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
    ) -> AnalysisResult[Any]: ...

    async def analyze(
        self,
        request: AnalysisRequest | AnalysisType | None = None,
        content: str | None = None,
        context: Mapping[str, Any] | None = None,
        use_cache: bool = True,
        *,
        analysis_type: AnalysisType | None = None,
        provider: str | None = None,
        source: SourceRef | None = None,
    ) -> AnalysisResult[Any]:
        """The envelope of one analysis, along the chain (a failing or unavailable provider hands
        over to the next). `use_cache=False` skips the lookup and refreshes the entry."""
        if request is not None and analysis_type is not None:
            raise TypeError("analyze takes a request or an analysis type, not both")
        asked = request_of(request if request is not None else analysis_type, content, context)
        return await super().analyze(asked, use_cache=use_cache, provider=provider, source=source)

    async def analyze_with_fallback(
        self, analysis_type: AnalysisType, content: str, context: Mapping[str, Any] | None = None
    ) -> AnalysisResult[Any]:
        """The design's call that tries the primary provider, then the fallback: `analyze` along
        the chain (LLM_PROVIDER, then LLM_FALLBACK_PROVIDERS) without the cache lookup, as the
        design's asks a provider every time (its answer refreshes the cache entry).

        Raises `LLMUnavailableError` when no provider was available or some failure was retryable;
        when every provider failed for good (credentials, a rejected request, invalid output), the
        first such error, an `LLMError` too: retrying later cannot help."""
        return await self.analyze(analysis_type, content, context, use_cache=False)

    async def provider_available(self, name: str) -> bool:
        """`is_available()` of a provider of the chain, as the chain sees it (remembered a few
        seconds); False for a provider not in the chain."""
        provider = self._providers.get(name)
        return provider is not None and await self._probe.available(provider)

    def provider_model(self, name: str) -> str:
        """The configured model of a provider of the chain (KeyError for another)."""
        return self._providers[name].model


def request_of(
    asked: AnalysisRequest | AnalysisType | None, content: str | None, context: Mapping[str, Any] | None
) -> AnalysisRequest:
    """The request of either call form; TypeError for a mix of the two or a missing part."""
    if isinstance(asked, AnalysisRequest):
        if content is not None or context is not None:
            raise TypeError("analyze(request) takes no content or context: they are the request's")
        return asked
    if asked is None or content is None:
        raise TypeError("analyze needs a request, or an analysis type and content")
    return AnalysisRequest(analysis_type=asked, content=content, context=dict(context or {}))
