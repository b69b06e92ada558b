"""The dashboard's HTTP server (aiohttp):

- `GET /`: the page (`static/index.html`, `static/app.js`, `static/style.css`; no build step, no CDN);
- `GET /api/state`: the snapshot, with the id of the last event it holds;
- `GET /api/events`: Server-Sent Events from that id (`?after=<id>`, or the `Last-Event-ID` header
  a browser sends when it reconnects): `result`, `status` and `snapshot` events, and a heartbeat;
- `GET /api/export.csv?table=people|teams|feed`: the table the page shows, sorted and filtered as
  its URL says;
- `GET /api/stats`: counts (records read, events sent, coalesced, dropped for a snapshot, clients);
- `GET /healthz` (alive) and `GET /readyz` (caught up with the topic: 200, else 503);
- `GET/POST /login`, `POST /logout` when DASHBOARD_TOKEN is set (`access.py`).

The access log names method, path and status only: never a query (a filter may name a person).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp_sse import EventSourceResponse, sse_response

from aexy_stream.dashboard import payloads, tables
from aexy_stream.dashboard.access import Access, routes
from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.events import ClientQueue
from aexy_stream.dashboard.reader import ResultsReader

STATIC = Path(__file__).parent / "static"
RECONNECT_MS = 1000
BOARD = web.AppKey("board", Board)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
log = logging.getLogger(__name__)


def build_app(board: Board) -> web.Application:
    access = Access(board.config.token)
    app = web.Application(middlewares=[access.middleware])
    app[BOARD] = board
    app.on_response_prepare.append(_headers)
    app.on_shutdown.append(_close_streams)
    app.add_routes(
        [
            web.get("/", index),
            web.get("/api/state", state),
            web.get("/api/events", events),
            web.get("/api/export.csv", export),
            web.get("/api/stats", stats),
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            *routes(access),
            web.static("/static", STATIC),
        ]
    )
    return app


async def index(_request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html")


async def state(request: web.Request) -> web.Response:
    return web.Response(body=payloads.state(request.app[BOARD]), content_type="application/json")


async def events(request: web.Request) -> web.StreamResponse:
    board = request.app[BOARD]
    last = request.headers.get("Last-Event-ID") or request.query.get("after")
    client = board.hub.subscribe(last)
    try:
        async with sse_response(request, ping_interval=board.config.heartbeat_s) as stream:
            with suppress(ConnectionResetError, TimeoutError):  # the client left, or stopped reading
                await _stream(board, client, stream)
    finally:
        board.hub.unsubscribe(client)
    return stream


async def _stream(board: Board, client: ClientQueue, stream: EventSourceResponse) -> None:
    hub = board.hub
    while stream.is_connected() and not client.closed:
        try:
            async with asyncio.timeout(board.config.heartbeat_s):
                batch = await client.take()
        except TimeoutError:
            continue  # the heartbeat keeps the stream open; this notices a client that left
        if batch is None:
            body, seq = payloads.state(board), hub.seq
            await stream.send(body.decode(), id=hub.event_id(seq), event="snapshot", retry=RECONNECT_MS)
            hub.stats["snapshots"] += 1
            continue
        for event in batch:
            data = payloads.event_data(board, event)
            if data is not None:
                await stream.send(data.decode(), id=hub.event_id(event.seq), event=event.kind)
                hub.stats["sent"] += 1


async def export(request: web.Request) -> web.Response:
    board = request.app[BOARD]
    view, query = board.view, request.query
    table = query.get("table", "people")
    if table == "people":
        rows = tables.sorted_rows(tables.people_rows(view), tables.PEOPLE_SORTS, query.get("sort", ""))
        text = tables.people_csv(rows, view.limits.hide_risks)
    elif table == "teams":
        text = tables.teams_csv(
            tables.sorted_rows(tables.team_rows(view), tables.TEAM_SORTS, query.get("sort", ""))
        )
    elif table == "feed":
        text = tables.feed_csv(view, tables.feed(view, tables.Filters.of(query)))
    else:
        raise web.HTTPBadRequest(text="table must be people, teams or feed")
    day = datetime.now(UTC).strftime("%Y%m%d")
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="aexy-{table}-{day}.csv"'},
    )


async def stats(request: web.Request) -> web.Response:
    """Counts only: records read, results, merges, unreadable, duplicates; events sent, coalesced,
    dropped for a snapshot; clients connected."""
    board = request.app[BOARD]
    return web.json_response(
        {
            "view": dict(board.view.counts),
            "events": {**board.hub.stats, "published": board.hub.seq, "clients": board.hub.clients},
            "keys": len(board.view.latest),
        }
    )


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    status = request.app[BOARD].status
    return web.json_response(status.as_json(), status=200 if status.ready else 503)


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/api/") or request.path == "/":
        response.headers["Cache-Control"] = "no-store"


async def _close_streams(app: web.Application) -> None:
    app[BOARD].hub.close()


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Method, path and status: a query string may name a person, so none is logged."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.1f ms", request.method, request.path, response.status, time * 1000)


def _reader_ended(board: Board, task: asyncio.Task[None]) -> None:
    """The reader returns only when cancelled: anything else is a failure the page must show."""
    if task.cancelled() or task.exception() is None:
        return
    name = type(task.exception()).__name__
    log.error("dashboard: the reader stopped (%s); the page no longer follows the topic", name)
    board.status.error = f"the reader stopped ({name}); restart the dashboard"
    board.status_changed()


def app_runner(board: Board) -> web.AppRunner:
    return web.AppRunner(build_app(board), access_log_class=PathOnlyAccessLogger, handle_signals=False)


@asynccontextmanager
async def serving(board: Board) -> AsyncIterator[int]:
    """The reader and the server, until the block exits; yields the bound port (0 picks one)."""
    config = board.config
    config.check()
    reader = asyncio.create_task(ResultsReader(board).run(), name="dashboard-reader")
    reader.add_done_callback(lambda task: _reader_ended(board, task))
    runner = app_runner(board)
    await runner.setup()
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        yield int(runner.addresses[0][1])
    finally:
        reader.cancel()
        with suppress(asyncio.CancelledError):
            await reader
        await runner.cleanup()
