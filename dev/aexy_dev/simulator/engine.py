"""The request pipeline shared by every protocol: auth, parsing, rpm, faults, latency, answer, stats.

Order per completion request: credentials (401) -> body (400) -> rolling rpm window (429) ->
script step, then persistent rule, then seeded random fault -> delay -> reply. Every reply counts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import orjson
from aiohttp import web

from aexy_dev.simulator.answers import AnswerBook
from aexy_dev.simulator.call import BadRequest, Call, estimate_tokens, require_object
from aexy_dev.simulator.config import SimulatorConfig
from aexy_dev.simulator.dialect import Dialect, ErrorSpec, Listing, ReplyMeta, Usage
from aexy_dev.simulator.faults import ANSWER_KINDS, FaultPlan, Step, no_headers
from aexy_dev.simulator.prompt_cache import PromptCache
from aexy_dev.simulator.stats import LastRequest, SimStats
from aexy_dev.simulator.window import RateWindow, whole_seconds

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RATE_LIMITED = frozenset({"rate_limit"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request gets: a kind to render, the label it is counted under, and how long to wait."""

    kind: str
    label: str
    call: Call | None = None
    title: str | None = None
    message: str | None = None
    param: str | None = None
    retry_after: str | None = None
    headers: Mapping[str, str] = field(default_factory=no_headers)
    delay_s: float = 0.0
    part: str | None = None
    """For `invalid_part`: the part of a fused answer to break (None: the first)."""


class Engine:
    """Holds one simulator's state and serves its completion endpoint."""

    def __init__(
        self, config: SimulatorConfig, dialect: Dialect, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self.dialect = dialect
        self.stats = SimStats()
        self.plan = FaultPlan(config.error_rate, config.seed)
        self.window = RateWindow(config.rpm)
        self.answers = AnswerBook()
        self.prompt_cache = PromptCache()
        self._ids = itertools.count(1)

    async def handle(self, request: web.Request) -> web.Response:
        started = self.clock()
        raw = await request.read()
        self.stats.last = LastRequest(request.method, request.path, raw, request.headers)
        self.stats.completions += 1
        outcome = self.decide(request.headers, raw, started)
        if outcome.delay_s > 0:
            await asyncio.sleep(outcome.delay_s)
        return self.render(outcome, started)

    def decide(self, headers: Mapping[str, str], raw: bytes, now: float) -> Outcome:
        latency = self.config.latency_s
        if not self.dialect.authorized(headers, self.config.require_api_key):
            return Outcome("auth", "auth", message=self.dialect.missing_key_message, delay_s=latency)
        parsed = self._parsed(lambda: _load(raw))
        if isinstance(parsed, Outcome):
            return parsed
        call, title = parsed
        wait = self.window.admit(now)
        if wait is not None:
            return self._rpm_outcome(call, title, wait)
        return self._step_outcome(self.plan.next_step(call, title), call, title)

    def decide_batched(self, params: object) -> Outcome:
        """One request of a Message Batch: parsed and faulted like a message, outside the rpm window."""
        parsed = self._parsed(lambda: params)
        if isinstance(parsed, Outcome):
            return parsed
        call, title = parsed
        return self._step_outcome(self.plan.next_step(call, title, batched=True), call, title)

    def _parsed(self, body: Callable[[], object]) -> tuple[Call, str] | Outcome:
        """The call and its answer's title, or the bad_request outcome of a malformed body."""
        latency = self.config.latency_s
        try:
            call = self.dialect.parse(require_object(body()))
            return call, self.answers.valid(call).title
        except BadRequest as exc:
            return Outcome(
                "bad_request", "bad_request", message=exc.message, param=exc.param, delay_s=latency
            )
        except (TypeError, ValueError) as exc:
            return Outcome(
                "bad_request", "bad_request", message=f"unsupported schema: {exc}", delay_s=latency
            )

    def render(self, outcome: Outcome, started: float) -> web.Response:
        now = self.clock()
        meta = self._meta(now, now - started, outcome)
        if outcome.kind in ANSWER_KINDS and outcome.call is not None:
            return self._answer(outcome, outcome.call, meta, now)
        return self._error(outcome, meta)

    def guarded(self, listing: Listing) -> Handler:
        """A GET route that needs the same credentials as the completion endpoint."""

        async def handler(request: web.Request) -> web.Response:
            if self.dialect.authorized(request.headers, self.config.require_api_key):
                return listing()
            return self.refusal("auth", self.dialect.missing_key_message)

        return handler

    def refusal(self, kind: str, message: str | None = None, param: str | None = None) -> web.Response:
        """An error reply outside the completion pipeline (not counted in the stats)."""
        outcome = Outcome(kind, kind, message=message, param=param)
        spec = ErrorSpec(kind, "", message, param)
        return self.dialect.error(spec, self._meta(self.clock(), 0.0, outcome))

    def reset(self) -> None:
        self.stats.clear()
        self.plan.clear_script()
        self.plan.clear_rules()
        self.window.clear()
        self.prompt_cache.clear()

    def _meta(self, now: float, elapsed: float, outcome: Outcome) -> ReplyMeta:
        rate = self.window.snapshot(now)
        rate = rate.exhausted() if outcome.kind in RATE_LIMITED else rate
        return ReplyMeta(f"req_{next(self._ids):024x}", rate, elapsed, outcome.headers)

    def _rpm_outcome(self, call: Call, title: str, wait: float) -> Outcome:
        message = f"This request would exceed your rate limit of {self.config.rpm} requests per minute."
        retry = whole_seconds(wait)
        delay = self.config.latency_s
        return Outcome("rate_limit", "rpm_limit", call, title, message, retry_after=retry, delay_s=delay)

    def _step_outcome(self, step: Step | None, call: Call, title: str) -> Outcome:
        if step is None:
            return Outcome("ok", "ok", call, title, delay_s=self.config.latency_s)
        delay = step.delay_ms / 1000 if step.delay_ms is not None else self.config.latency_s
        retry = _retry_after(step)
        return Outcome(
            step.kind,
            step.kind,
            call,
            title,
            retry_after=retry,
            headers=step.headers,
            delay_s=delay,
            part=step.part,
        )

    def _answer(self, outcome: Outcome, call: Call, meta: ReplyMeta, now: float) -> web.Response:
        answer = self.answers.for_kind(outcome.kind, call, outcome.part)
        if call.max_tokens is not None and answer.tokens > call.max_tokens:
            answer = answer.truncated(call.max_tokens)
        cached = self.prompt_cache.use(call.cache, call.prompt, now)
        usage = Usage(
            estimate_tokens(call.prompt), answer.tokens, cached.read, cached.written, cached.written_1h
        )
        self.window.spend(now, usage.input_tokens + usage.output_tokens)
        self.stats.add_tokens(usage.input_tokens, usage.output_tokens)
        self.stats.add_cache_tokens(usage.cache_read_tokens, usage.cache_write_tokens)
        response = self.dialect.reply(call, answer, usage, meta)
        label = "max_tokens" if answer.finish == "length" else outcome.label
        self.stats.record(response.status, label, outcome.title)
        return response

    def _error(self, outcome: Outcome, meta: ReplyMeta) -> web.Response:
        model = outcome.call.model if outcome.call is not None else ""
        spec = ErrorSpec(outcome.kind, model, outcome.message, outcome.param, outcome.retry_after)
        response = self.dialect.error(spec, meta)
        self.stats.record(response.status, outcome.label, outcome.title)
        return response


def _load(raw: bytes) -> object:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


def _retry_after(step: Step) -> str | None:
    """Scripted `retry_after` wins; a rate limit defaults to 1 s; a spend limit never has one."""
    if step.kind == "spend_limit":
        return None
    if step.retry_after is not None:
        return f"{step.retry_after:g}"
    return "1" if step.kind == "rate_limit" else None
