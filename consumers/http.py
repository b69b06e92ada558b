"""`GET /healthz` and `GET /metrics` on a small HTTP port, beside the processor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

SHUTDOWN_TIMEOUT_S = 1.0
"""A request in progress at stop gets this long (aiohttp's default, 60 s, would outlast the stop budget)."""


def build_app(healthy: Callable[[], bool], registry: CollectorRegistry) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        ok = healthy()
        return web.json_response({"status": "ok" if ok else "starting"}, status=200 if ok else 503)

    async def metrics(_request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serving(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve until the block exits; yields the bound port (port 0 picks a free one)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        yield int(runner.addresses[0][1])
    finally:
        await runner.cleanup()
