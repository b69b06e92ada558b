"""`aexy-stream ingest webhook`: the GitHub webhook receiver, from settings, until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from dataclasses import replace

import httpx
from prometheus_client import CollectorRegistry

from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.compose import App
from producers.webhook.app import WEBHOOK_PATH
from producers.webhook.config import WebhookConfig
from producers.webhook.metrics import WebhookMetrics
from producers.webhook.service import dedupe_store, diff_source, webhook_server

NO_SECRET = (
    "GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks "
    "(pass --insecure-no-signature for local development only)"
)
INSECURE = "aexy-stream: WARNING: webhook signatures are NOT verified (--insecure-no-signature)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ingest = subparsers.add_parser("ingest", help="get GitHub activity into Kafka")
    actions = ingest.add_subparsers(dest="action", required=True, metavar="ACTION")
    webhook = actions.add_parser(
        "webhook",
        help="serve POST /webhooks/github, GET /healthz and GET /metrics",
        description="Receive GitHub webhooks: verify X-Hub-Signature-256, publish each delivery once to "
        "github.activity (and a push's commits to code.changes), answer 202 once Kafka acknowledged.",
    )
    webhook.add_argument("--host", help="interface to listen on (default: WEBHOOK_HOST)")
    webhook.add_argument(
        "--port", type=int, help="port to listen on, 0 = any free one (default: WEBHOOK_PORT)"
    )
    webhook.add_argument(
        "--insecure-no-signature",
        action="store_true",
        help="start without GITHUB_WEBHOOK_SECRET and accept unsigned deliveries (local development only; "
        "a configured secret is always checked)",
    )
    webhook.set_defaults(handler=run_webhook)


@with_app
def run_webhook(args: argparse.Namespace, app: App) -> int:
    try:
        config = app.webhook(insecure_no_signature=args.insecure_no_signature)
    except ValueError:  # no GITHUB_WEBHOOK_SECRET, and unsigned deliveries not asked for
        return fail(NO_SECRET, EXIT_USAGE)
    config = replace(
        config, host=args.host or config.host, port=config.port if args.port is None else args.port
    )
    try:
        asyncio.run(serve(config, app))
    except OSError as exc:
        return fail(f"cannot serve on {config.host}:{config.port}: {exc.strerror or exc}")
    return 0


async def serve(config: WebhookConfig, app: App) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    metrics = WebhookMetrics(CollectorRegistry())
    redis = app.redis()
    try:
        async with httpx.AsyncClient() as http:
            dedupe = dedupe_store(config, redis, metrics)
            async with webhook_server(
                config, dedupe, diff_source(config.github, http, metrics), metrics
            ) as port:
                _announce(config, port)
                await stop.wait()
    finally:
        if redis is not None:
            await redis.aclose()
    print("aexy-stream webhook receiver stopped cleanly", flush=True)


def _announce(config: WebhookConfig, port: int) -> None:
    if not config.secret:
        print(INSECURE, file=sys.stderr, flush=True)
    print(
        f"aexy-stream webhook receiver: POST http://{config.host}:{port}{WEBHOOK_PATH} -> kafka "
        f"{config.producer.bootstrap_servers} ({config.activity_topic}, {config.code_changes_topic})",
        flush=True,
    )
