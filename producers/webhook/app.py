"""The HTTP face: `POST /webhooks/github`, `GET /healthz`, `GET /metrics` (aiohttp).

Every answer is a small JSON object `{"status": outcome, "detail": ...}`; no stack trace ever leaves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from producers.webhook.delivery import InvalidDeliveryError, read_delivery
from producers.webhook.metrics import UNVERIFIED, WebhookMetrics
from producers.webhook.receiver import Outcome, Receiver
from producers.webhook.signature import SIGNATURE_HEADER, SignatureCheck

WEBHOOK_PATH = "/webhooks/github"
UNAUTHORIZED = Outcome("unauthorized", 401, "missing or wrong X-Hub-Signature-256")


def too_large(limit: int) -> Outcome:
    return Outcome("too_large", 413, f"the body is over {limit} bytes")


class WebhookHandler:
    def __init__(
        self, receiver: Receiver, signature: SignatureCheck, metrics: WebhookMetrics, max_body_bytes: int
    ) -> None:
        self._receiver = receiver
        self._signature = signature
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes

    async def post(self, request: web.Request) -> web.Response:
        try:
            body = await self._body(request)
        except web.HTTPRequestEntityTooLarge:
            return self._answer(UNVERIFIED, too_large(self._max_body_bytes))
        if not self._signature.verify(body, request.headers.get(SIGNATURE_HEADER, "")):
            return self._answer(UNVERIFIED, UNAUTHORIZED)
        try:
            delivery = read_delivery(request.headers, body)
        except InvalidDeliveryError as exc:
            return self._answer(UNVERIFIED, Outcome("invalid", exc.status, str(exc)))
        return self._answer(delivery.event, await self._receiver.receive(delivery))

    async def _body(self, request: web.Request) -> bytes:
        """Refused from Content-Length before reading; a chunked body is cut at the limit by aiohttp."""
        length = request.content_length or 0
        if length > self._max_body_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=self._max_body_bytes, actual_size=length)
        return await request.read()

    def _answer(self, event: str, outcome: Outcome) -> web.Response:
        self._metrics.delivery(event, outcome.name)
        body = {"status": outcome.name, "detail": outcome.detail, "records": outcome.records}
        return web.json_response(body, status=outcome.status)


def build_app(
    handler: WebhookHandler,
    connected: Callable[[], Awaitable[bool]],
    metrics: WebhookMetrics,
    max_body_bytes: int,
) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        ok = await connected()
        return web.json_response({"status": "ok" if ok else "kafka unavailable"}, status=200 if ok else 503)

    async def metrics_page(_request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post(WEBHOOK_PATH, handler.post)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_page)
    return app
