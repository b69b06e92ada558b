"""`aexy-stream dashboard [--host HOST] [--port PORT]`: a live page of what the results say.

Reads TOPIC_ANALYSIS_RESULTS from the beginning without a consumer group (the processor's offsets
never move) and serves the page at http://DASHBOARD_HOST:DASHBOARD_PORT/ (127.0.0.1:8765 by
default). Any address but loopback needs DASHBOARD_TOKEN; DASHBOARD_HIDE_RISKS=true leaves the
attrition and burnout results out.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys

from aexy_stream.cli.command import quiet_kafka, with_app
from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.cli.support import stop_on_signals
from aexy_stream.compose import App
from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.server import serving


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "dashboard",
        help="serve a live page of the analysis results (teams, people, developers, feed)",
        description=(__doc__ or "").split("\n\n")[1],
    )
    cmd.add_argument("--host", help="default: DASHBOARD_HOST (127.0.0.1)")
    cmd.add_argument("--port", type=int, help="default: DASHBOARD_PORT (8765); 0 picks a free port")
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    quiet_kafka()
    config = app.dashboard
    chosen = {"host": args.host, "port": args.port}
    config = dataclasses.replace(config, **{k: v for k, v in chosen.items() if v is not None})
    try:
        config.check()
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        return fail(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}")
    return 0


async def serve(config: DashboardConfig) -> None:
    stop = stop_on_signals()
    async with serving(Board(config)) as port:
        host = f"[{config.host}]" if ":" in config.host else config.host
        print(f"dashboard: http://{host}:{port}/ (reading {config.topic} at {config.bootstrap_servers}; "
              "Ctrl-C to stop)", file=sys.stderr, flush=True)  # fmt: skip
        await stop.wait()
