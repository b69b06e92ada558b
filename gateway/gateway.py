"""The gateway: one `analyze` call from an `AnalysisRequest` to a typed `AnalysisResult`.

Order of work for one request, per provider of the fallback chain (`LLM_PROVIDER`, then
`LLM_FALLBACK_PROVIDERS`):

1. skip the provider while its circuit breaker is open or `is_available()` is false (one breaker
   per provider and transport: `gateway/breakers.py`);
2. look the canonical key up in the cache tiers (memory, then Redis: `gateway/answer_cache.py`);
3. on a miss, join an identical call already in flight, or start one (single flight:
   `gateway/lookup.py`);
4. the request is redacted for that provider (`gateway/redaction/`: secrets replaced in its content
   and context), then each attempt waits for rate budget, calls the provider and settles the token
   reservation; retryable errors are retried with backoff (`gateway/calls.py`);
5. the reply is validated against the result model; an invalid one gets one repair call,
   then fails with `InvalidOutput`;
6. the answer is stored with the analysis type's TTL and wrapped in the envelope
   (`gateway/envelope.py`).

When every provider fails: `LLMUnavailableError` (retryable) if any failure was retryable,
otherwise the first non-retryable error (retrying it later cannot help).

`analyze_many` runs several analyses of the same material the same way, as one fused provider call
(`gateway/fused_call.py`) for the analyses no cache tier holds: each analysis is looked up, joins
or leads its own flight, is validated, repaired, cached (under the key `analyze` uses) and
enveloped on its own, and falls back along the chain on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from time import perf_counter
from typing import Any

from gateway.answer import Answer
from gateway.answer_cache import AnswerCache, answer_key
from gateway.breakers import Breakers
from gateway.cache.keys import shared_material
from gateway.cache.layered import LayeredCache
from gateway.calls import Caller, Sleep
from gateway.config import GatewayConfig, RateLimitConfig
from gateway.envelope import Envelopes
from gateway.errors import BadRequest, GatewayError, LLMUnavailableError
from gateway.fused import check_shared
from gateway.fused_call import FusedCaller
from gateway.limits.base import Limiter
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.lookup import Lookup, Part
from gateway.metrics import GatewayMetrics, default_metrics
from gateway.prompts import prompt_for
from gateway.providers.base import Provider
from gateway.redaction import Outbound, Redactor, shared_redactor
from gateway.resilience.availability import AvailabilityProbe
from gateway.resilience.breaker import CircuitBreaker, Transport
from gateway.trace import Trace
from schemas.envelope import AnalysisResult, SourceRef
from schemas.request import AnalysisRequest
from schemas.types import Priority


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        providers: Mapping[str, Provider],
        *,
        cache: LayeredCache | None = None,
        limiters: Mapping[str, Limiter] | None = None,
        metrics: GatewayMetrics | None = None,
        probe: AvailabilityProbe | None = None,
        sleep: Sleep = asyncio.sleep,
        redactor: Redactor | None = None,
    ) -> None:
        self._config = config
        self._providers = dict(providers)
        self._metrics = metrics or default_metrics()
        self._probe = probe or AvailabilityProbe()
        self._breakers = Breakers(config.breaker, providers)
        self._answers = AnswerCache(cache or LayeredCache(()), config.cache, self._metrics)
        self._envelopes = Envelopes(config.prices, self._metrics)
        limits = {name: (limiters or {}).get(name) or _unlimited(name) for name in providers}
        redactors = shared_redactor if redactor is None else (lambda: redactor)
        outbound = Outbound(redactors, self._metrics.redactions, config.redaction.unredacted)
        caller = Caller(config.retry, limits, self._breakers, self._metrics, outbound, sleep)
        fused = FusedCaller(caller, self._metrics)
        self._lookup = Lookup(self._answers, caller, fused, self._metrics)

    @property
    def chain(self) -> tuple[str, ...]:
        return self._config.chain

    @property
    def calls_in_flight(self) -> int:
        """Single-flight calls led and not yet ended."""
        return self._lookup.in_flight

    def breaker(self, provider: str, transport: Transport = "direct") -> CircuitBreaker:
        return self._breakers.get(provider, transport)

    def cooling_down_for(self, priority: Priority = "live") -> float:
        """Seconds until some provider of the chain may be called for a request of this priority
        (0: one may be called now).

        Callers that can wait (the stream processor) wait this out instead of spending an attempt
        on a chain whose every circuit is open.
        """
        chain = self._config.chain
        return min((self._breakers.for_priority(name, priority).retry_in() for name in chain), default=0.0)

    async def analyze(
        self,
        request: AnalysisRequest,
        *,
        use_cache: bool = True,
        provider: str | None = None,
        source: SourceRef | None = None,
    ) -> AnalysisResult[Any]:
        """The envelope of one analysis; `source` (the input record the request came from) is
        stamped on it as given."""
        started, trace = perf_counter(), Trace()
        try:
            answer = await self._through_chain(request, use_cache, self._chain(provider), trace)
        except GatewayError as exc:
            self._envelopes.record_failure(request, exc, started)
            raise
        return self._envelopes.wrap(request, answer, started, trace, source)

    async def analyze_many(
        self,
        requests: Sequence[AnalysisRequest],
        *,
        use_cache: bool = True,
        provider: str | None = None,
        source: SourceRef | None = None,
    ) -> list[AnalysisResult[Any] | GatewayError]:
        """`analyze` for several analyses of the same material (content, context and priority; each
        analysis type once, else `BadRequest`), with one provider call for those no cache holds:
        each request's envelope, or the error that request alone failed with, in request order."""
        started, trace = perf_counter(), Trace()
        try:
            check_shared(requests)
            chain = self._chain(provider)
        except GatewayError as exc:
            for request in requests:
                self._envelopes.record_failure(request, exc, started)
            raise
        parts = await self._many_through_chain(list(requests), use_cache, chain, trace)
        return [
            self._part_envelope(request, part, started, trace, source)
            for request, part in zip(requests, parts, strict=True)
        ]

    def _part_envelope(
        self,
        request: AnalysisRequest,
        part: Part,
        started: float,
        trace: Trace,
        source: SourceRef | None,
    ) -> AnalysisResult[Any] | GatewayError:
        if isinstance(part.outcome, GatewayError):
            self._envelopes.record_failure(request, part.outcome, started)
            return part.outcome
        part_trace = replace(trace, joined=part.joined)
        return self._envelopes.wrap(request, part.outcome, started, part_trace, source)

    def cached(self, request: AnalysisRequest, source: SourceRef | None = None) -> AnalysisResult[Any] | None:
        """The first provider's answer if the in-process memory tier holds it, found without
        awaiting (None otherwise: call `analyze`). The stream processor's fast path for hot
        entries: no task and no trip through the event loop per request."""
        started = perf_counter()
        provider = self._providers[self._config.chain[0]]
        value = self._answers.peek(self._answers.key(provider, prompt_for(request.analysis_type), request))
        return None if value is None else self._stored(request, value, started, source)

    def cached_many(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        """`cached` for each of several analyses of the same material (one part of a commit), the
        shared part of their keys made once; requests that do not share it are looked up each alone."""
        part = shared_material(requests) if len(requests) > 1 else None
        if part is None:
            return [self.cached(request, source) for request in requests]
        started = perf_counter()
        provider = self._providers[self._config.chain[0]]
        keys = [answer_key(provider, prompt_for(request.analysis_type), part) for request in requests]
        values = [self._answers.peek(key) for key in keys]
        return [
            None if value is None else self._stored(request, value, started, source)
            for request, value in zip(requests, values, strict=True)
        ]

    async def find_cached(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        """`cached` for several requests at once, in every cache tier: one lookup per tier for all
        of them (one Redis round trip for a record's analyses, where `analyze` makes one each).
        None for a request no tier answers: call `analyze` for it, which looks again and counts
        the miss (or the entry that no longer decodes)."""
        started = perf_counter()
        provider = self._providers[self._config.chain[0]]
        keys = [
            self._answers.key(provider, prompt_for(request.analysis_type), request) for request in requests
        ]
        found = await self._answers.hits(keys)
        return [
            None if value is None else self._stored(request, value, started, source)
            for request, value in zip(requests, found, strict=True)
        ]

    def _stored(
        self, request: AnalysisRequest, value: bytes, started: float, source: SourceRef | None
    ) -> AnalysisResult[Any] | None:
        try:
            answer = self._answers.decode(request.analysis_type, value)
        except (ValueError, TypeError):
            return None  # `analyze` finds it again, counts the error and calls the provider
        return self._envelopes.wrap(request, answer, started, Trace(), source)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        await self._answers.aclose()

    def _chain(self, provider: str | None) -> tuple[str, ...]:
        if provider is None:
            return self._config.chain
        if provider not in self._providers:
            raise BadRequest(f"unknown provider {provider!r}; configured: {', '.join(self._providers)}")
        return (provider,)

    async def _through_chain(
        self, request: AnalysisRequest, use_cache: bool, chain: tuple[str, ...], trace: Trace
    ) -> Answer:
        errors: list[GatewayError] = []
        for name in chain:
            provider = self._providers[name]
            if not await self._usable(provider, request.priority, errors):
                continue
            try:
                return await self._lookup.answer(provider, request, use_cache, trace)
            except GatewayError as exc:
                errors.append(exc)
                self._metrics.fallbacks.labels(name, exc.error_type).inc()
        raise _exhausted(errors, chain)

    async def _many_through_chain(
        self, requests: list[AnalysisRequest], use_cache: bool, chain: tuple[str, ...], trace: Trace
    ) -> list[Part]:
        """`_through_chain` for each request, the requests a provider has not answered going on to
        the next provider together."""
        done: dict[int, Part] = {}
        errors: list[list[GatewayError]] = [[] for _ in requests]
        pending = list(range(len(requests)))
        for name in chain:
            if not pending:
                break
            provider, skipped = self._providers[name], list[GatewayError]()
            if not await self._usable(provider, requests[0].priority, skipped):
                for i in pending:
                    errors[i] += skipped
                continue
            parts = await self._lookup.answers(provider, [requests[i] for i in pending], use_cache, trace)
            for i, part in zip(pending, parts, strict=True):
                if isinstance(part.outcome, GatewayError):
                    errors[i].append(part.outcome)
                    self._metrics.fallbacks.labels(name, part.outcome.error_type).inc()
                else:
                    done[i] = part
            pending = [i for i in pending if i not in done]
        return [done[i] if i in done else Part(_exhausted(errors[i], chain)) for i in range(len(requests))]

    async def _usable(self, provider: Provider, priority: Priority, errors: list[GatewayError]) -> bool:
        if not await self._probe.available(provider):
            self._metrics.fallbacks.labels(provider.name, "unavailable").inc()
            return False
        if self._breakers.for_priority(provider.name, priority).is_open():
            self._metrics.fallbacks.labels(provider.name, "breaker_open").inc()
            errors.append(self._breakers.circuit_open(provider.name, priority))
            return False
        return True


def _unlimited(name: str) -> Limiter:
    return BudgetLimiter(name, RateLimitConfig(), MemoryWindowStore())


def _exhausted(errors: list[GatewayError], chain: tuple[str, ...]) -> GatewayError:
    if not errors:
        return LLMUnavailableError(f"no provider available (chain: {', '.join(chain)})")
    retryable = [e for e in errors if e.retryable]
    if not retryable:
        return errors[0]
    hints = [e.retry_after for e in retryable if e.retry_after is not None]
    summary = "; ".join(str(e) for e in errors)
    return LLMUnavailableError(
        f"every provider failed: {summary}", causes=tuple(errors), retry_after=min(hints, default=None)
    )
