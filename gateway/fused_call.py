"""The provider call of `Gateway.analyze_many` for the analyses no cache holds: one fused call
(`gateway/prompts/fused.py`) whose invalid parts get one repair call together, each part validated
and failing on its own; a provider that refuses the fused call (`BadRequest`) gets each analysis
alone. The calls' tokens are shared out by `gateway/fused.py`.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from gateway.answer import Answer, Usage, fresh_answer
from gateway.calls import Caller, provider_call, repair_messages
from gateway.errors import BadRequest, GatewayError
from gateway.fused import billed
from gateway.metrics import GatewayMetrics
from gateway.output import OutputMismatch, parse_parts
from gateway.prompts import prompt_for
from gateway.prompts.fused import (
    FUSED_SCHEMA_NAME,
    fused_prompt,
    fused_repair_message,
    fused_schema,
    in_order,
)
from gateway.providers.base import Provider, ProviderCall, ProviderReply
from gateway.trace import Trace
from schemas.request import AnalysisRequest
from schemas.results import ResultModel
from schemas.types import AnalysisType

PartResults = dict[AnalysisType, ResultModel | GatewayError]


class FusedCaller:
    def __init__(self, caller: Caller, metrics: GatewayMetrics) -> None:
        self._caller = caller
        self._metrics = metrics

    async def answers(
        self, provider: Provider, requests: list[AnalysisRequest], trace: Trace
    ) -> list[Answer | GatewayError]:
        """One call for the analyses: alone as `analyze` makes it, else fused; a provider that
        refuses the fused call (its schema, its size) gets each analysis alone instead."""
        if len(requests) > 1:
            try:
                return await self._fused_call(provider, requests, trace)
            except BadRequest:
                self._metrics.fallbacks.labels(provider.name, "fused_refused").inc()
            except GatewayError as exc:
                return [exc] * len(requests)
        return list(await asyncio.gather(*(self._single(provider, r, trace) for r in requests)))

    async def _single(
        self, provider: Provider, request: AnalysisRequest, trace: Trace
    ) -> Answer | GatewayError:
        try:
            return await self._caller.answer(provider, prompt_for(request.analysis_type), request, trace)
        except GatewayError as exc:
            return exc

    async def _fused_call(
        self, provider: Provider, requests: list[AnalysisRequest], trace: Trace
    ) -> list[Answer | GatewayError]:
        """One provider call for several analyses; the parts that do not validate get one repair
        call together, and fail alone (`InvalidOutput`) if still invalid."""
        fused = fused_prompt(tuple(r.analysis_type for r in requests))
        request = await self._caller.redacted(provider, requests[0])
        call = provider_call(request, fused, fused_schema(fused.types), FUSED_SCHEMA_NAME, fused.types)
        reply = await self._caller.attempts(provider, call, trace)
        parsed = parse_parts(reply.text, fused.types)
        tokens = billed(reply, parsed)
        results = {kind: part.outcome for kind, part in parsed.items()}
        invalid = {kind: found for kind, found in results.items() if isinstance(found, OutputMismatch)}
        outcomes: PartResults = {
            kind: found for kind, found in results.items() if not isinstance(found, OutputMismatch)
        }
        self._metrics.fused_calls_saved.labels(provider.name).inc(len(fused.types) - 1)
        if invalid:
            repaired, repair_tokens = await self._repair_parts(provider, call, reply, invalid, trace)
            outcomes |= repaired
            tokens = {kind: tokens[kind] + repair_tokens.get(kind, Usage()) for kind in tokens}
        return [
            _part_answer(provider, reply, r.analysis_type, outcomes[r.analysis_type], tokens[r.analysis_type])
            for r in requests
        ]

    async def _repair_parts(
        self,
        provider: Provider,
        call: ProviderCall,
        reply: ProviderReply,
        problems: dict[AnalysisType, OutputMismatch],
        trace: Trace,
    ) -> tuple[PartResults, dict[AnalysisType, Usage]]:
        """The repair call of the invalid parts of a fused reply, together in one more call: a part
        still invalid fails alone (`InvalidOutput`); a repair call that fails fails those parts with
        its error. Their results, and the repair call's tokens shared between them."""
        kinds = in_order(problems)
        messages = repair_messages(
            call, reply, fused_repair_message({kind: str(problems[kind]) for kind in kinds})
        )
        max_tokens = sum(prompt_for(kind).max_tokens for kind in kinds)
        schema = fused_schema(kinds)
        repair = replace(call, messages=messages, schema=schema, analysis_types=kinds, max_tokens=max_tokens)
        try:
            repaired = await self._caller.attempts(provider, repair, trace)
        except GatewayError as exc:
            return dict.fromkeys(kinds, exc), {}
        self._metrics.fused_calls_saved.labels(provider.name).inc(len(kinds) - 1)
        parsed = parse_parts(repaired.text, kinds)
        results = {kind: self._valid_or_failed(provider, kind, part.outcome) for kind, part in parsed.items()}
        return results, billed(repaired, parsed)

    def _valid_or_failed(
        self, provider: Provider, kind: AnalysisType, outcome: ResultModel | OutputMismatch
    ) -> ResultModel | GatewayError:
        if not isinstance(outcome, OutputMismatch):
            return outcome
        return self._caller.invalid(provider, f"{kind.value}: {outcome}")


def _part_answer(
    provider: Provider,
    reply: ProviderReply,
    kind: AnalysisType,
    outcome: ResultModel | GatewayError,
    tokens: Usage,
) -> Answer | GatewayError:
    if isinstance(outcome, GatewayError):
        return outcome
    return fresh_answer(provider, reply, prompt_for(kind), outcome, tokens)
