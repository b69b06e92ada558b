"""Calls to one provider: the call built from a prompt, each attempt under the rate limiter and the
circuit breaker, retries with backoff, and for one analysis its validation and one repair call.

Each attempt waits for rate budget (requests and estimated tokens), calls the provider under its
transport's breaker, then settles the token reservation with the tokens the provider counts toward
its limit (`ProviderReply.limited_tokens`); retryable errors are retried with backoff honouring
Retry-After (`gateway/resilience/retry.py`, the one retry predicate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from functools import cache
from time import perf_counter
from typing import Any

from gateway.answer import Answer, Usage, fresh_answer
from gateway.breakers import Breakers
from gateway.config import RetryConfig
from gateway.errors import BadRequest, GatewayError, InvalidOutput, RateLimited
from gateway.limits.base import Limiter, estimate_tokens
from gateway.metrics import GatewayMetrics
from gateway.output import OutputMismatch, parse_result
from gateway.prompts import PromptTemplate, repair_message
from gateway.prompts.fused import FusedPrompt
from gateway.providers.base import ChatMessage, Provider, ProviderCall, ProviderReply
from gateway.redaction import Outbound
from gateway.resilience.retry import retrying
from gateway.trace import Trace
from schemas.request import AnalysisRequest
from schemas.results import ResultModel, result_model
from schemas.types import AnalysisType

Sleep = Callable[[float], Awaitable[None]]
NOT_HEALTH_FAILURES = (BadRequest, InvalidOutput)


@cache
def result_schema(analysis_type: AnalysisType) -> dict[str, Any]:
    return result_model(analysis_type).model_json_schema()


class Caller:
    def __init__(
        self,
        retry: RetryConfig,
        limiters: Mapping[str, Limiter],
        breakers: Breakers,
        metrics: GatewayMetrics,
        outbound: Outbound,
        sleep: Sleep,
    ) -> None:
        self._retry = retry
        self._limiters = limiters
        self._breakers = breakers
        self._metrics = metrics
        self._outbound = outbound
        """Every request a provider is sent passes here: secrets redacted (`gateway/redaction/`)."""
        self._sleep = sleep

    async def redacted(self, provider: Provider, request: AnalysisRequest) -> AnalysisRequest:
        """The request as `provider` may be sent it."""
        return await self._outbound.request_for(provider.name, request)

    async def answer(
        self, provider: Provider, prompt: PromptTemplate, request: AnalysisRequest, trace: Trace
    ) -> Answer:
        """One analysis answered by `provider`: the call, and a repair call if its reply is invalid."""
        model = result_model(request.analysis_type)
        request = await self.redacted(provider, request)
        call = provider_call(request, prompt, result_schema(request.analysis_type), model.__name__)
        reply = await self.attempts(provider, call, trace)
        tokens = Usage.of(reply)
        try:
            result = parse_result(model, reply.text)
        except OutputMismatch as exc:
            result, repaired = await self._repair(provider, call, reply, exc, trace)
            tokens += Usage.of(repaired)
        return fresh_answer(provider, reply, prompt, result, tokens)

    async def _repair(
        self,
        provider: Provider,
        call: ProviderCall,
        reply: ProviderReply,
        problem: OutputMismatch,
        trace: Trace,
    ) -> tuple[ResultModel, ProviderReply]:
        """One more call showing the model its invalid reply and what was wrong with it."""
        messages = repair_messages(call, reply, repair_message(str(problem)))
        repaired = await self.attempts(provider, replace(call, messages=messages), trace)
        try:
            return parse_result(result_model(call.request.analysis_type), repaired.text), repaired
        except OutputMismatch as exc:
            raise self.invalid(provider, str(exc)) from exc

    def invalid(self, provider: Provider, problem: str) -> InvalidOutput:
        """The error of a reply still invalid after its repair call, counted."""
        error = InvalidOutput(
            f"{provider.name}: invalid output after one repair: {problem}", provider=provider.name
        )
        self._metrics.errors.labels(provider.name, error.error_type).inc()
        return error

    async def attempts(self, provider: Provider, call: ProviderCall, trace: Trace) -> ProviderReply:
        reply: ProviderReply | None = None
        async for attempt in retrying(self._retry, sleep=self._sleeper(trace)):
            with attempt:
                if attempt.retry_state.attempt_number > 1:
                    self._metrics.retries.labels(provider.name).inc()
                reply = await self._attempt(provider, call, trace)
        assert reply is not None  # tenacity re-raises the last error when attempts run out
        return reply

    async def _attempt(self, provider: Provider, call: ProviderCall, trace: Trace) -> ProviderReply:
        limiter = self._limiters[provider.name]
        prompt_chars = len(call.system) + sum(len(m.content) for m in call.messages)
        permit = await limiter.acquire(estimate_tokens(prompt_chars, call.max_tokens), call.request.priority)
        trace.waited_s += permit.waited_s
        self._metrics.limiter_wait.labels(provider.name).observe(permit.waited_s)
        reply = await self._guarded(provider, call, trace)
        limiter.observe(reply.rate)
        if reply.usage_known:
            await limiter.settle(permit, reply.limited_tokens)
        return reply

    async def _guarded(self, provider: Provider, call: ProviderCall, trace: Trace) -> ProviderReply:
        """One provider call under its transport's circuit breaker; every ticket ends in success,
        failure or release."""
        priority = call.request.priority
        breaker = self._breakers.for_priority(provider.name, priority)
        ticket = breaker.begin()
        if ticket is None:
            raise self._breakers.circuit_open(provider.name, priority)
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

    def _sleeper(self, trace: Trace) -> Sleep:
        async def sleep(seconds: float) -> None:
            trace.waited_s += seconds
            await self._sleep(seconds)

        return sleep


def provider_call(
    request: AnalysisRequest,
    prompt: PromptTemplate | FusedPrompt,
    schema: dict[str, Any],
    schema_name: str,
    analysis_types: tuple[AnalysisType, ...] = (),
) -> ProviderCall:
    rendered = prompt.render(request)
    return ProviderCall(
        request=request,
        system=rendered.system,
        messages=(ChatMessage("user", rendered.user),),
        schema=schema,
        schema_name=schema_name,
        max_tokens=prompt.max_tokens,
        analysis_types=analysis_types,
    )


def repair_messages(call: ProviderCall, reply: ProviderReply, problems: str) -> tuple[ChatMessage, ...]:
    """The conversation of a repair call: the call's, its invalid reply, and what was wrong with it."""
    return (
        *call.messages,
        ChatMessage("assistant", reply.text or "(empty reply)"),
        ChatMessage("user", problems),
    )
