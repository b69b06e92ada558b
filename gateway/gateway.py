"""The gateway: one `analyze` call from an `AnalysisRequest` to a typed `AnalysisResult`.

Order of work for one request, per provider of the fallback chain (`LLM_PROVIDER`, then
`LLM_FALLBACK_PROVIDERS`):

1. skip the provider while its circuit breaker is open or `is_available()` is false (one breaker
   per provider and transport: see `RoutedProvider`);
2. look the canonical key up in the cache tiers (memory, then Redis);
3. on a miss, join an identical call already in flight, or start one (single flight); a live call
   never joins a backfill one, which may be waiting on the backfill rate share or in a Message
   Batch for hours (a backfill call may join a live one);
4. the request is redacted for that provider (`gateway/redaction/`: secrets replaced in its content
   and context), then each attempt waits for rate budget (requests and estimated tokens), calls the provider,
   then settles the token reservation with the usage reported; retryable errors are retried
   with backoff honouring Retry-After;
5. the reply is validated against the result model; an invalid one gets one repair call,
   then fails with `InvalidOutput`;
6. the answer is stored with the analysis type's TTL and wrapped in the envelope.

When every provider fails: `LLMUnavailableError` (retryable) if any failure was retryable,
otherwise the first non-retryable error (retrying it later cannot help).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from time import perf_counter
from typing import Any, Protocol, get_args, runtime_checkable

import orjson
from cachetools import LRUCache

from gateway.cache.keys import keyed, material
from gateway.cache.layered import LayeredCache
from gateway.config import GatewayConfig, RateLimitConfig
from gateway.errors import (
    BadRequest,
    CircuitOpen,
    GatewayError,
    InvalidOutput,
    LLMUnavailableError,
    RateLimited,
)
from gateway.flight import SingleFlight
from gateway.limits.base import Limiter, estimate_tokens
from gateway.limits.budget import BudgetLimiter
from gateway.limits.memory import MemoryWindowStore
from gateway.logs import analysis_line, analysis_logged
from gateway.metrics import GatewayMetrics, default_metrics
from gateway.output import OutputMismatch, parse_result
from gateway.pricing import cost_usd
from gateway.prompts import PromptTemplate, prompt_for, repair_message
from gateway.providers.base import ChatMessage, Provider, ProviderCall, ProviderReply
from gateway.redaction import Outbound, Redactor, shared_redactor
from gateway.resilience.availability import AvailabilityProbe
from gateway.resilience.breaker import CircuitBreaker, Transport
from gateway.resilience.retry import retrying
from schemas.envelope import SCHEMA_VERSION, AnalysisResult, SourceRef, utc_now
from schemas.request import AnalysisRequest
from schemas.results import ResultModel, result_model
from schemas.types import AnalysisType, Priority

Sleep = Callable[[float], Awaitable[None]]
NOT_HEALTH_FAILURES = (BadRequest, InvalidOutput)
DECODED_ANSWERS = 4096
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)


@runtime_checkable
class RoutedProvider(Protocol):
    """A provider that sends some calls another way: `PriorityRoutingProvider` sends backfill calls
    as Claude Message Batches. Each of its transports gets a circuit breaker of its own: a batched
    call lasts from the poll interval to a day, so it must never be the half-open probe live calls
    wait behind, and a failed or expired batch of 1,000 calls must not open the live circuit."""

    def transport(self, priority: Priority) -> Transport: ...


@cache
def envelope_type(analysis_type: AnalysisType) -> type[AnalysisResult[Any]]:
    envelope: type[AnalysisResult[Any]] = AnalysisResult[result_model(analysis_type)]  # type: ignore[misc,assignment]
    return envelope


@cache
def result_schema(analysis_type: AnalysisType) -> dict[str, Any]:
    return result_model(analysis_type).model_json_schema()


@dataclass(slots=True)
class _Trace:
    """Where one analysis spent its time, to tell gateway overhead from provider time."""

    provider_s: float = 0.0
    waited_s: float = 0.0
    joined: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    result: ResultModel
    provider: str
    model: str
    prompt_version: str
    input_tokens: int
    output_tokens: int
    cache_hit: bool = False
    priced_model: str = ""
    """The configured model name: bounded label values and the price-table key."""
    price_factor: float = 1.0
    """Share of the list price billed (the provider reply's; 0.5 for Claude Message Batches)."""

    def encode(self) -> bytes:
        fields = [self.result.model_dump(mode="json"), self.provider, self.model, self.prompt_version]
        return orjson.dumps([*fields, self.priced_model])

    @classmethod
    def decode(cls, analysis_type: AnalysisType, data: bytes) -> Answer:
        result, provider, model, version, priced = orjson.loads(data)
        if not all(isinstance(name, str) for name in (provider, model, version, priced)):
            raise TypeError("a cached answer's provider, model and versions must be strings")
        return cls(
            result_model(analysis_type).model_validate(result), provider, model, version, 0, 0, True, priced
        )


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
        self._cache = cache or LayeredCache(())
        self._limiters = {name: (limiters or {}).get(name) or _unlimited(name) for name in providers}
        self._metrics = metrics or default_metrics()
        self._probe = probe or AvailabilityProbe()
        self._sleep = sleep
        redactors = shared_redactor if redactor is None else (lambda: redactor)
        self._outbound = Outbound(redactors, self._metrics.redactions, config.redaction.unredacted)
        """Every request a provider is sent passes here: secrets redacted (`gateway/redaction/`)."""
        self._routed = {name: p for name, p in providers.items() if isinstance(p, RoutedProvider)}
        self._breakers = {
            (name, transport): CircuitBreaker(config.breaker)
            for name in providers
            for transport in (TRANSPORTS if name in self._routed else ("direct",))
        }
        self._flight: SingleFlight[Answer] = SingleFlight()
        self._decoded: LRUCache[tuple[AnalysisType, bytes], Answer] = LRUCache(DECODED_ANSWERS)
        """Hot cache entries decoded once: a memory-tier hit returns the same bytes object, whose
        hash Python keeps, so a repeated hit skips JSON parsing and result validation."""

    @property
    def chain(self) -> tuple[str, ...]:
        return self._config.chain

    def breaker(self, provider: str, transport: Transport = "direct") -> CircuitBreaker:
        return self._breakers[provider, transport]

    def cooling_down_for(self, priority: Priority = "live") -> float:
        """Seconds until some provider of the chain may be called for a request of this priority
        (0: one may be called now).

        Callers that can wait (the stream processor) wait this out instead of spending an attempt
        on a chain whose every circuit is open.
        """
        chain = self._config.chain
        return min((self._breaker_for(name, priority).retry_in() for name in chain), default=0.0)

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
        started, trace = perf_counter(), _Trace()
        try:
            answer = await self._through_chain(request, use_cache, self._chain(provider), trace)
        except GatewayError as exc:
            self._record_failure(request, exc, started)
            raise
        return self._envelope(request, answer, started, trace, source)

    def cached(self, request: AnalysisRequest, source: SourceRef | None = None) -> AnalysisResult[Any] | None:
        """The first provider's answer if the in-process memory tier holds it, found without
        awaiting (None otherwise: call `analyze`). The stream processor's fast path for hot
        entries: no task and no trip through the event loop per request."""
        started = perf_counter()
        provider = self._providers[self._config.chain[0]]
        prompt = prompt_for(request.analysis_type)
        key = self._key(provider, prompt, request)
        entry = self._cache.peek(key)
        return None if entry is None else self._stored(request, entry.value, started, source)

    async def find_cached(
        self, requests: Sequence[AnalysisRequest], source: SourceRef | None = None
    ) -> list[AnalysisResult[Any] | None]:
        """`cached` for several requests at once, in every cache tier: one lookup per tier for all
        of them (one Redis round trip for a record's analyses, where `analyze` makes one each).
        None for a request no tier answers: call `analyze` for it, which looks again and counts
        the miss (or the entry that no longer decodes)."""
        started = perf_counter()
        provider = self._providers[self._config.chain[0]]
        keys = [self._key(provider, prompt_for(request.analysis_type), request) for request in requests]
        found = await self._cache.hits(keys)
        return [
            None if hit is None else self._stored(request, hit[0].value, started, source)
            for request, hit in zip(requests, found, strict=True)
        ]

    def _stored(
        self, request: AnalysisRequest, value: bytes, started: float, source: SourceRef | None
    ) -> AnalysisResult[Any] | None:
        try:
            answer = self._decode(request.analysis_type, value)
        except (ValueError, TypeError):
            return None  # `analyze` finds it again, counts the error and calls the provider
        return self._envelope(request, answer, started, _Trace(), source)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            await provider.aclose()
        await self._cache.aclose()

    def _chain(self, provider: str | None) -> tuple[str, ...]:
        if provider is None:
            return self._config.chain
        if provider not in self._providers:
            raise BadRequest(f"unknown provider {provider!r}; configured: {', '.join(self._providers)}")
        return (provider,)

    async def _through_chain(
        self, request: AnalysisRequest, use_cache: bool, chain: tuple[str, ...], trace: _Trace
    ) -> Answer:
        errors: list[GatewayError] = []
        for name in chain:
            provider = self._providers[name]
            if not await self._usable(provider, request.priority, errors):
                continue
            try:
                return await self._answer_from(provider, request, use_cache, trace)
            except GatewayError as exc:
                errors.append(exc)
                self._metrics.fallbacks.labels(name, exc.error_type).inc()
        raise _exhausted(errors, chain)

    async def _usable(self, provider: Provider, priority: Priority, errors: list[GatewayError]) -> bool:
        if not await self._probe.available(provider):
            self._metrics.fallbacks.labels(provider.name, "unavailable").inc()
            return False
        if self._breaker_for(provider.name, priority).is_open():
            self._metrics.fallbacks.labels(provider.name, "breaker_open").inc()
            errors.append(self._circuit_open(provider.name, priority))
            return False
        return True

    def _transport(self, provider: str, priority: Priority) -> Transport:
        routed = self._routed.get(provider)
        return "direct" if routed is None else routed.transport(priority)

    def _breaker_for(self, provider: str, priority: Priority) -> CircuitBreaker:
        return self._breakers[provider, self._transport(provider, priority)]

    def _circuit_open(self, provider: str, priority: Priority) -> CircuitOpen:
        transport = self._transport(provider, priority)
        where = provider if transport == "direct" else f"{provider} ({transport})"
        return CircuitOpen(f"{where}: circuit open", provider=provider)

    async def _answer_from(
        self, provider: Provider, request: AnalysisRequest, use_cache: bool, trace: _Trace
    ) -> Answer:
        prompt = prompt_for(request.analysis_type)
        key = self._key(provider, prompt, request)
        lead, join_first = _flight_keys(key if use_cache else f"{key}:fresh", request.priority)
        answer, trace.joined = await self._flight.run(
            lead,
            lambda: self._lookup_or_call(provider, prompt, request, key, use_cache, trace),
            join_first=join_first,
        )
        if trace.joined:
            self._metrics.coalesced.inc()
            return replace(answer, input_tokens=0, output_tokens=0, cache_hit=True)
        return answer

    def _key(self, provider: Provider, prompt: PromptTemplate, request: AnalysisRequest) -> str:
        part = material(request.content, request.context)
        return keyed(request.analysis_type, prompt.version, provider.name, provider.model, part)

    async def _lookup_or_call(
        self,
        provider: Provider,
        prompt: PromptTemplate,
        request: AnalysisRequest,
        key: str,
        use_cache: bool,
        trace: _Trace,
    ) -> Answer:
        if use_cache and (cached := await self._cached(request.analysis_type, key)) is not None:
            return cached
        answer = await self._call(provider, prompt, request, trace)
        await self._cache.set(key, answer.encode(), self._config.cache.ttl_for(request.analysis_type))
        return answer

    async def _cached(self, analysis_type: AnalysisType, key: str) -> Answer | None:
        """The cached answer; an entry that no longer decodes (older schema, corruption) is a miss."""
        found = await self._cache.get(key)
        if found is None:
            return None
        try:
            return self._decode(analysis_type, found[0].value)
        except (ValueError, TypeError):
            self._metrics.record_cache_error(found[1])
            return None

    def _decode(self, analysis_type: AnalysisType, value: bytes) -> Answer:
        answer = self._decoded.get((analysis_type, value))
        if answer is None:
            answer = self._decoded[analysis_type, value] = Answer.decode(analysis_type, value)
        return answer

    async def _call(
        self, provider: Provider, prompt: PromptTemplate, request: AnalysisRequest, trace: _Trace
    ) -> Answer:
        model = result_model(request.analysis_type)
        request = await self._outbound.request_for(provider.name, request)
        rendered = prompt.render(request)
        call = ProviderCall(
            request=request,
            system=rendered.system,
            messages=(ChatMessage("user", rendered.user),),
            schema=result_schema(request.analysis_type),
            schema_name=model.__name__,
            max_tokens=prompt.max_tokens,
        )
        reply = await self._attempts(provider, call, trace)
        replies = [reply]
        try:
            result = parse_result(model, reply.text)
        except OutputMismatch as exc:
            result, repaired = await self._repair(provider, call, reply, exc, trace)
            replies.append(repaired)
        return Answer(
            result=result,
            provider=provider.name,
            model=reply.model,
            prompt_version=prompt.version,
            input_tokens=sum(r.input_tokens for r in replies),
            output_tokens=sum(r.output_tokens for r in replies),
            priced_model=provider.model,
            price_factor=reply.price_factor,
        )

    async def _repair(
        self,
        provider: Provider,
        call: ProviderCall,
        reply: ProviderReply,
        problem: OutputMismatch,
        trace: _Trace,
    ) -> tuple[ResultModel, ProviderReply]:
        """One more call showing the model its invalid reply and what was wrong with it."""
        messages = (
            *call.messages,
            ChatMessage("assistant", reply.text or "(empty reply)"),
            ChatMessage("user", repair_message(str(problem))),
        )
        repaired = await self._attempts(provider, replace(call, messages=messages), trace)
        try:
            return parse_result(result_model(call.request.analysis_type), repaired.text), repaired
        except OutputMismatch as exc:
            error = InvalidOutput(
                f"{provider.name}: invalid output after one repair: {exc}", provider=provider.name
            )
            self._metrics.errors.labels(provider.name, error.error_type).inc()
            raise error from exc

    async def _attempts(self, provider: Provider, call: ProviderCall, trace: _Trace) -> ProviderReply:
        reply: ProviderReply | None = None
        async for attempt in retrying(self._config.retry, sleep=self._sleeper(trace)):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self._metrics.retries.labels(provider.name).inc()
                reply = await self._attempt(provider, call, trace)
        assert reply is not None  # tenacity re-raises the last error when attempts run out
        return reply

    async def _attempt(self, provider: Provider, call: ProviderCall, trace: _Trace) -> ProviderReply:
        limiter = self._limiters[provider.name]
        prompt_chars = len(call.system) + sum(len(m.content) for m in call.messages)
        permit = await limiter.acquire(estimate_tokens(prompt_chars, call.max_tokens), call.request.priority)
        trace.waited_s += permit.waited_s
        self._metrics.limiter_wait.labels(provider.name).observe(permit.waited_s)
        reply = await self._guarded(provider, call, trace)
        limiter.observe(reply.rate)
        if reply.usage_known:
            await limiter.settle(permit, reply.input_tokens + reply.output_tokens)
        return reply

    async def _guarded(self, provider: Provider, call: ProviderCall, trace: _Trace) -> ProviderReply:
        """One provider call under its transport's circuit breaker; every ticket ends in success,
        failure or release."""
        priority = call.request.priority
        breaker = self._breaker_for(provider.name, priority)
        ticket = breaker.begin()
        if ticket is None:
            raise self._circuit_open(provider.name, priority)
        started, outcome = perf_counter(), "release"
        try:
            reply = await provider.analyze(call)
            outcome = "success"
            return reply
        except GatewayError as exc:
            self._metrics.errors.labels(provider.name, exc.error_type).inc()
            outcome = "release" if isinstance(exc, NOT_HEALTH_FAILURES) else "failure"
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                outcome = "release"  # the provider is up and said when to come back: no failure
            raise
        finally:
            trace.provider_s += perf_counter() - started
            getattr(breaker, outcome)(ticket)

    def _sleeper(self, trace: _Trace) -> Sleep:
        async def sleep(seconds: float) -> None:
            trace.waited_s += seconds
            await self._sleep(seconds)

        return sleep

    def _envelope(
        self,
        request: AnalysisRequest,
        answer: Answer,
        started: float,
        trace: _Trace,
        source: SourceRef | None,
    ) -> AnalysisResult[Any]:
        prices, tokens = self._config.prices, (answer.input_tokens, answer.output_tokens)
        cost = cost_usd(prices, answer.priced_model, *tokens, factor=answer.price_factor)
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

    def _record_success(
        self, request: AnalysisRequest, answer: Answer, latency_s: float, cost: float, trace: _Trace
    ) -> None:
        m, provider, kind = self._metrics, answer.provider, request.analysis_type.value
        counter, latency = m.analyses(provider, kind, "cache_hit" if answer.cache_hit else "ok")
        counter.inc()
        latency.observe(latency_s)
        if answer.input_tokens or answer.output_tokens:  # a cache hit spent nothing
            m.tokens.labels(provider, "input").inc(answer.input_tokens)
            m.tokens.labels(provider, "output").inc(answer.output_tokens)
            m.cost.labels(provider, answer.priced_model).inc(cost)
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

    def _record_failure(self, request: AnalysisRequest, exc: GatewayError, started: float) -> None:
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


def _flight_keys(key: str, priority: Priority) -> tuple[str, tuple[str, ...]]:
    """The single-flight key a call leads under, and the flights it joins first.

    A live call never joins a backfill one (waiting on the backfill rate share, or in a Message
    Batch for hours); a backfill call joins a live one, which ends soonest, or another backfill.
    """
    if priority == "live":
        return f"{key}:live", ()
    return f"{key}:backfill", (f"{key}:live",)


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
