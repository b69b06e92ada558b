"""`aexy-stream run`: the stream processor, from settings, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from aexy_stream import gc_tuning
from aexy_stream.cli.command import with_settings
from aexy_stream.compose import LLMGateway, build_activity, processor_config
from aexy_stream.settings import Settings
from consumers.http import build_app, serving
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from gateway.metrics import default_metrics

log = logging.getLogger("aexy.stream")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("run", help="run the stream processor (consumers -> gateway -> results)")
    cmd.set_defaults(handler=run)


@with_settings
def run(_args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    gateway_metrics = default_metrics()
    gateway = LLMGateway(settings=settings, metrics=gateway_metrics)
    metrics = ProcessorMetrics(gateway_metrics.registry)
    activity = build_activity(settings, gateway.redis, metrics.activity_errors.inc)
    processor = Processor(processor_config(settings), gateway, metrics, activity=activity)
    app = build_app(lambda: processor.healthy, gateway_metrics.registry)
    try:
        async with serving(app, settings.http_host, settings.http_port) as port:
            print(
                f"aexy-stream processor: kafka {settings.kafka_bootstrap_servers}, http :{port}", flush=True
            )
            gc_tuning.tune()  # start-up is done: what is alive now lives as long as the process
            await processor.run(stop)
    finally:
        await gateway.aclose()
    print("aexy-stream processor stopped cleanly", flush=True)
