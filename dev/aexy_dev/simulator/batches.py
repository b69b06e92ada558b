"""The Anthropic Message Batches API: create, retrieve, results (JSONL) and cancel.

`POST /v1/messages/batches` checks the envelope (a non-empty `requests` list of unique `custom_id`s
with `params` objects) and stores the requests. A batch stays `in_progress` for the simulator's
`batch_delay_ms`; the first look after that ends it. Ending answers every request like a direct
message through the engine: parsing, scripted steps, rules and random faults apply per request, so
a fault becomes an `errored` result carrying the error body a direct call would get. Like the real
API, `params` are validated at that point, not at creation. The batch-only fault kinds `expired`
and `canceled` give results of those types, and a batch whose cancel was asked ends with every
request `canceled`. Batched requests are not counted in the rpm window (batches have their own
limits upstream). `stats()["batches"]` counts what happened.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson
from aiohttp import web

from aexy_dev.simulator.call import JsonObject
from aexy_dev.simulator.dialect import json_response
from aexy_dev.simulator.engine import Engine
from aexy_dev.simulator.faults import BATCH_ONLY_KINDS
from aexy_dev.simulator.stats import LastRequest

BATCHES_PATH = "/v1/messages/batches"
MAX_REQUESTS = 100_000
MAX_KEPT = 10_000
"""Batches remembered; the oldest is forgotten beyond this (a long load test stays bounded)."""
EXPIRY = timedelta(hours=24)
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")


class InvalidBatch(Exception):
    """The create body is malformed: answered with a 400 for the whole batch."""


@dataclass(slots=True)
class SimBatch:
    id: str
    requests: list[tuple[str, object]]
    created_at: datetime
    due: float
    results: list[JsonObject] = field(default_factory=list)
    ended_at: datetime | None = None
    cancel_initiated_at: datetime | None = None

    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "in_progress" if self.cancel_initiated_at is None else "canceling"

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RESULT_TYPES, 0)
        for result in self.results:
            counts[result["result"]["type"]] += 1
        return {"processing": len(self.requests) - len(self.results), **counts}


Answer = Callable[[SimBatch, web.Request], web.Response]


class BatchEndpoints:
    """The batch routes of one Anthropic simulator, sharing its engine (faults, answers, stats)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.batches: dict[str, SimBatch] = {}
        self._ids = itertools.count(1)

    def install(self, app: web.Application) -> None:
        app.router.add_post(BATCHES_PATH, self.create)
        app.router.add_get(BATCHES_PATH + "/{batch_id}", self.retrieve)
        app.router.add_get(BATCHES_PATH + "/{batch_id}/results", self.results)
        app.router.add_post(BATCHES_PATH + "/{batch_id}/cancel", self.cancel)

    async def create(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.engine.stats.last = LastRequest(request.method, request.path, raw, request.headers)
        if not self._authorized(request):
            return self._refused()
        try:
            requests = batch_requests(raw)
        except InvalidBatch as exc:
            return self.engine.refusal("bad_request", str(exc), "requests")
        batch = self._store(requests)
        return json_response(self._json(batch, request))

    async def retrieve(self, request: web.Request) -> web.Response:
        return await self._with_batch(request, "retrieved", self._retrieved)

    async def results(self, request: web.Request) -> web.Response:
        return await self._with_batch(request, "results", self._results)

    async def cancel(self, request: web.Request) -> web.Response:
        return await self._with_batch(request, "cancels", self._cancel)

    async def _with_batch(self, request: web.Request, counter: str, answer: Answer) -> web.Response:
        if not self._authorized(request):
            return self._refused()
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            message = f"message batch {request.match_info['batch_id']!r} not found"
            return self.engine.refusal("not_found", message, "message_batch_id")
        self.engine.stats.batches[counter] += 1
        self._advance(batch)
        return answer(batch, request)

    def _retrieved(self, batch: SimBatch, request: web.Request) -> web.Response:
        return json_response(self._json(batch, request))

    def _results(self, batch: SimBatch, request: web.Request) -> web.Response:
        if batch.ended_at is None:
            message = f"message batch {batch.id} is {batch.status()}: results exist once it has ended"
            return self.engine.refusal("bad_request", message)
        body = b"".join(orjson.dumps(result) + b"\n" for result in batch.results)
        return web.Response(body=body, content_type="application/x-jsonl")

    def _cancel(self, batch: SimBatch, request: web.Request) -> web.Response:
        if batch.ended_at is None:
            batch.cancel_initiated_at = datetime.now(UTC)
        return self._retrieved(batch, request)

    def _store(self, requests: list[tuple[str, object]]) -> SimBatch:
        batch_id = f"msgbatch_{next(self._ids):024x}"
        due = self.engine.clock() + self.engine.config.batch_delay_s
        if len(self.batches) >= MAX_KEPT:
            del self.batches[next(iter(self.batches))]
        batch = self.batches[batch_id] = SimBatch(batch_id, requests, datetime.now(UTC), due)
        self.engine.stats.batches["created"] += 1
        self.engine.stats.batches["requests"] += len(requests)
        return batch

    def _advance(self, batch: SimBatch) -> None:
        """Ends the batch once its processing time has passed (at once when a cancel was asked)."""
        if batch.ended_at is not None:
            return
        if batch.cancel_initiated_at is None and self.engine.clock() < batch.due:
            return
        batch.results = [self._result(batch, custom_id, params) for custom_id, params in batch.requests]
        batch.ended_at = datetime.now(UTC)

    def _result(self, batch: SimBatch, custom_id: str, params: object) -> JsonObject:
        if batch.cancel_initiated_at is not None:
            return self._unprocessed(custom_id, "canceled")
        outcome = self.engine.decide_batched(params)
        if outcome.kind in BATCH_ONLY_KINDS:
            return self._unprocessed(custom_id, outcome.kind)
        response = self.engine.render(outcome, self.engine.clock())
        self.engine.stats.batches["answered"] += 1
        return {"custom_id": custom_id, "result": result_of(response)}

    def _unprocessed(self, custom_id: str, kind: str) -> JsonObject:
        self.engine.stats.batches[kind] += 1
        return {"custom_id": custom_id, "result": {"type": kind}}

    def _json(self, batch: SimBatch, request: web.Request) -> JsonObject:
        ended = batch.ended_at is not None
        results_url = f"{request.url.origin()}{BATCHES_PATH}/{batch.id}/results" if ended else None
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status(),
            "request_counts": batch.counts(),
            "created_at": rfc3339(batch.created_at),
            "expires_at": rfc3339(batch.created_at + EXPIRY),
            "ended_at": rfc3339(batch.ended_at),
            "cancel_initiated_at": rfc3339(batch.cancel_initiated_at),
            "archived_at": None,
            "results_url": results_url,
        }

    def _authorized(self, request: web.Request) -> bool:
        return self.engine.dialect.authorized(request.headers, self.engine.config.require_api_key)

    def _refused(self) -> web.Response:
        return self.engine.refusal("auth", self.engine.dialect.missing_key_message)


def batch_requests(raw: bytes) -> list[tuple[str, object]]:
    """(custom_id, params) of each request of a create body; InvalidBatch when malformed."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBatch(f"request body is not valid JSON: {exc}") from None
    items = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_REQUESTS:
        raise InvalidBatch(f"requests: expected a list of 1 to {MAX_REQUESTS} requests")
    requests = [_request(item) for item in items]
    if len({custom_id for custom_id, _ in requests}) < len(requests):
        raise InvalidBatch("requests: custom_id values must be unique within a batch")
    return requests


def _request(item: object) -> tuple[str, object]:
    if not isinstance(item, dict) or not isinstance(item.get("params"), dict):
        raise InvalidBatch("requests: each request needs a custom_id and a params object")
    custom_id = item.get("custom_id")
    if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
        raise InvalidBatch("custom_id: 1 to 64 letters, digits, '-' or '_'")
    return custom_id, item["params"]


def result_of(response: web.Response) -> JsonObject:
    """A direct message's reply as a batch result: the Message, or the error body it carried."""
    assert isinstance(response.body, bytes)  # json_response always sets bytes
    body = orjson.loads(response.body)
    if response.status == 200:
        return {"type": "succeeded", "message": body}
    return {"type": "errored", "error": body}


def rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
