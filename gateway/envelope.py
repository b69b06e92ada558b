"""An answer wrapped in its envelope (`schemas.envelope.AnalysisResult`), priced, and each analysis's
outcome recorded: the metrics and the analysis log line, of a success or a failure."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from time import perf_counter
from typing import Any

from gateway.answer import Answer
from gateway.config import Price
from gateway.errors import GatewayError
from gateway.logs import analysis_line, analysis_logged
from gateway.metrics import GatewayMetrics
from gateway.pricing import cost_usd
from gateway.trace import Trace
from schemas.envelope import SCHEMA_VERSION, AnalysisResult, SourceRef, utc_now
from schemas.request import AnalysisRequest
from schemas.results import result_model
from schemas.types import AnalysisType


@cache
def envelope_type(analysis_type: AnalysisType) -> type[AnalysisResult[Any]]:
    envelope: type[AnalysisResult[Any]] = AnalysisResult[result_model(analysis_type)]  # type: ignore[misc,assignment]
    return envelope


class Envelopes:
    """Builds the envelopes of answers and records every analysis's outcome."""

    def __init__(self, prices: Mapping[str, Price], metrics: GatewayMetrics) -> None:
        self._prices = prices
        self._metrics = metrics

    def wrap(
        self,
        request: AnalysisRequest,
        answer: Answer,
        started: float,
        trace: Trace,
        source: SourceRef | None,
    ) -> AnalysisResult[Any]:
        tokens = (answer.input_tokens, answer.output_tokens)
        cost = cost_usd(
            self._prices,
            answer.priced_model,
            *tokens,
            factor=answer.price_factor,
            cache_read_tokens=answer.cache_read_tokens,
            cache_write_tokens=answer.cache_write_tokens,
        )
        latency_s = perf_counter() - started
        envelope = envelope_type(request.analysis_type).model_validate(
            {
                "schema_version": SCHEMA_VERSION,
                "request_id": request.request_id,
                "analysis_type": request.analysis_type,
                "subject": request.subject,
                "observed_as": request.observed_as,
                "result": answer.result,
                "provider": answer.provider,
                "model": answer.model,
                "prompt_version": answer.prompt_version,
                "cache_hit": answer.cache_hit,
                "latency_ms": latency_s * 1000,
                "input_tokens": answer.input_tokens,
                "output_tokens": answer.output_tokens,
                "cost_usd": cost,
                "created_at": utc_now(),
                "source": source,
            },
        )
        self._record_success(request, answer, latency_s, cost, trace)
        return envelope

    def record_failure(self, request: AnalysisRequest, exc: GatewayError, started: float) -> None:
        kind = request.analysis_type.value
        self._metrics.requests.labels(exc.provider or "none", kind, exc.error_type).inc()
        analysis_line(
            request_id=request.request_id,
            provider=exc.provider or "none",
            analysis_type=kind,
            latency_ms=round((perf_counter() - started) * 1000, 3),
            tokens_used=0,
            cache_hit=False,
            error=exc.error_type,
        )

    def _record_success(
        self, request: AnalysisRequest, answer: Answer, latency_s: float, cost: float, trace: Trace
    ) -> None:
        m, provider, kind = self._metrics, answer.provider, request.analysis_type.value
        counter, latency = m.analyses(provider, kind, "cache_hit" if answer.cache_hit else "ok")
        counter.inc()
        latency.observe(latency_s)
        if answer.input_tokens or answer.output_tokens:  # a cache hit spent nothing
            m.tokens.labels(provider, "input").inc(answer.input_tokens)
            m.tokens.labels(provider, "output").inc(answer.output_tokens)
            m.cost.labels(provider, answer.priced_model).inc(cost)
            _record_prompt_cache(m, provider, answer)
        if not trace.joined:
            m.overhead.observe(max(latency_s - trace.provider_s - trace.waited_s, 0.0))
        if analysis_logged():  # the line's fields cost more than the check: built only when logged
            analysis_line(
                request_id=request.request_id,
                provider=provider,
                analysis_type=kind,
                latency_ms=round(latency_s * 1000, 3),
                tokens_used=answer.input_tokens + answer.output_tokens,
                cache_hit=answer.cache_hit,
            )


def _record_prompt_cache(m: GatewayMetrics, provider: str, answer: Answer) -> None:
    """The provider's prompt-cache tokens of one answer, read and written."""
    if answer.cache_read_tokens:
        m.prompt_cache_tokens.labels(provider, answer.priced_model, "read").inc(answer.cache_read_tokens)
    if answer.cache_write_tokens:
        m.prompt_cache_tokens.labels(provider, answer.priced_model, "write").inc(answer.cache_write_tokens)
