"""One provider's answers to a request, or to several analyses of the same material: looked up in
the cache tiers; on a miss an identical call already in flight is joined, or one is led (single
flight) and its answer stored with the analysis type's TTL.

A live call never joins a backfill one, which may be waiting on the backfill rate share or in a
Message Batch for hours (a backfill call may join a live one).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.answer import Answer
from gateway.answer_cache import AnswerCache, answer_key
from gateway.calls import Caller
from gateway.errors import GatewayError
from gateway.flight import Flight, SingleFlight
from gateway.fused import shared_part
from gateway.fused_call import FusedCaller
from gateway.metrics import GatewayMetrics
from gateway.prompts import PromptTemplate, prompt_for
from gateway.providers.base import Provider
from gateway.trace import Trace
from schemas.request import AnalysisRequest
from schemas.types import Priority


@dataclass(frozen=True, slots=True)
class Part:
    """One analysis of `analyze_many`: its answer or the error it failed with, and whether it
    joined a call in flight."""

    outcome: Answer | GatewayError
    joined: bool = False


class Lookup:
    def __init__(
        self, answers: AnswerCache, caller: Caller, fused: FusedCaller, metrics: GatewayMetrics
    ) -> None:
        self._answers = answers
        self._caller = caller
        self._fused = fused
        self._metrics = metrics
        self._flight: SingleFlight[Answer] = SingleFlight()

    async def answer(
        self, provider: Provider, request: AnalysisRequest, use_cache: bool, trace: Trace
    ) -> Answer:
        prompt = prompt_for(request.analysis_type)
        key = self._answers.key(provider, prompt, request)
        lead, join_first = flight_keys(key, request.priority, use_cache)
        answer, trace.joined = await self._flight.run(
            lead,
            lambda: self._lookup_or_call(provider, prompt, request, key, use_cache, trace),
            join_first=join_first,
        )
        return self._served(answer, trace.joined)

    async def answers(
        self, provider: Provider, requests: list[AnalysisRequest], use_cache: bool, trace: Trace
    ) -> list[Part]:
        """`answer` for several analyses of the same material: the shared part of their keys made
        once; each joins a flight in flight for its key or is led in one piece of work."""
        part = shared_part(requests)  # made again: a context may have changed since the last look
        keys = [answer_key(provider, prompt_for(request.analysis_type), part) for request in requests]
        flights: list[Flight] = [
            flight_keys(key, request.priority, use_cache) for key, request in zip(keys, requests, strict=True)
        ]

        async def work(led: list[int]) -> list[Answer | GatewayError]:
            chosen = [requests[i] for i in led]
            return await self._lookup_or_call_many(provider, chosen, [keys[i] for i in led], use_cache, trace)

        return [
            self._flown(outcome, joined) for outcome, joined in await self._flight.run_many(flights, work)
        ]

    def _served(self, answer: Answer, joined: bool) -> Answer:
        """The answer as this caller gets it: one that joined a call in flight spent nothing."""
        if not joined:
            return answer
        self._metrics.coalesced.inc()
        return answer.as_hit()

    def _flown(self, outcome: Answer | Exception, joined: bool) -> Part:
        if isinstance(outcome, Answer):
            return Part(self._served(outcome, joined), joined)
        if isinstance(outcome, GatewayError):
            return Part(outcome, joined)
        raise outcome  # a defect, not a provider's failure: nothing to fall back from

    async def _lookup_or_call(
        self,
        provider: Provider,
        prompt: PromptTemplate,
        request: AnalysisRequest,
        key: str,
        use_cache: bool,
        trace: Trace,
    ) -> Answer:
        if use_cache and (cached := await self._answers.get(request.analysis_type, key)) is not None:
            return cached
        answer = await self._caller.answer(provider, prompt, request, trace)
        await self._answers.store(request.analysis_type, key, answer)
        return answer

    async def _lookup_or_call_many(
        self,
        provider: Provider,
        requests: list[AnalysisRequest],
        keys: list[str],
        use_cache: bool,
        trace: Trace,
    ) -> list[Answer | GatewayError]:
        """`_lookup_or_call` for several analyses: those no cache holds answered by one call."""
        found: list[Answer | GatewayError | None] = [
            await self._answers.get(request.analysis_type, key) if use_cache else None
            for request, key in zip(requests, keys, strict=True)
        ]
        missing = [i for i, answer in enumerate(found) if answer is None]
        called = await self._fused.answers(provider, [requests[i] for i in missing], trace)
        for i, outcome in zip(missing, called, strict=True):
            if isinstance(outcome, Answer):
                await self._answers.store(requests[i].analysis_type, keys[i], outcome)
            found[i] = outcome
        return [outcome for outcome in found if outcome is not None]

    @property
    def in_flight(self) -> int:
        """Flights led and not yet ended."""
        return len(self._flight)


def flight_keys(key: str, priority: Priority, use_cache: bool) -> Flight:
    """The single-flight key a call leads under, and the flights it joins first.

    A call that skips the cache joins only calls that skip it too. A live call never joins a
    backfill one (waiting on the backfill rate share, or in a Message Batch for hours); a backfill
    call joins a live one, which ends soonest, or another backfill.
    """
    if not use_cache:
        key = f"{key}:fresh"
    if priority == "live":
        return f"{key}:live", ()
    return f"{key}:backfill", (f"{key}:live",)
