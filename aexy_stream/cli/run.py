"""`aexy-stream run`: the stream processor, from settings, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from aexy_stream import gc_tuning
from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import fail
from aexy_stream.compose import App
from consumers.client_logs import rate_limit_client_logs
from consumers.http import build_app, serving
from consumers.metrics import ProcessorMetrics
from consumers.processor import BrokerUnreachableError, Processor
from consumers.topics import MissingTopicsError
from gateway.metrics import default_metrics

log = logging.getLogger("aexy.stream")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("run", help="run the stream processor (consumers -> gateway -> results)")
    cmd.set_defaults(handler=run)


@with_app
def run(_args: argparse.Namespace, app: App) -> int:
    try:
        asyncio.run(serve(app))
    except (MissingTopicsError, BrokerUnreachableError) as exc:
        return fail(str(exc))
    return 0


async def serve(app: App) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    rate_limit_client_logs()  # a broker gone makes aiokafka log dozens of lines a second
    gateway_metrics = default_metrics()
    gateway = app.gateway(metrics=gateway_metrics)
    metrics = ProcessorMetrics(gateway_metrics.registry)
    identities = app.identities(gateway.redis, metrics.activity_errors.inc)
    activity = app.activity(gateway.redis, metrics.activity_errors.inc, identities)
    config = app.processor
    processor = Processor(config, gateway, metrics, activity=activity, identities=identities)
    web = build_app(lambda: processor.healthy, gateway_metrics.registry)
    try:
        async with serving(web, config.http_host, config.http_port) as port:
            print(f"aexy-stream processor: kafka {config.bootstrap_servers}, http :{port}", flush=True)
            gc_tuning.tune()  # start-up is done: what is alive now lives as long as the process
            await processor.run(stop)
    finally:
        await gateway.aclose()
    print("aexy-stream processor stopped cleanly", flush=True)
