"""`aexy-stream dlq list|replay [--reason TEXT]`: inspect and re-drive dead letters."""

from __future__ import annotations

import argparse
import asyncio

from aiokafka.errors import KafkaError
from pydantic import ValidationError

from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.settings import Settings, setting_error_line
from consumers import dlq


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("dlq", help="list or replay dead-lettered records")
    cmd.add_argument("action", choices=("list", "replay"))
    cmd.add_argument("--reason", default="", help="only records whose error type or reason contains TEXT")
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        return fail(setting_error_line(exc), EXIT_USAGE)
    try:
        return asyncio.run(_run(args.action, args.reason, settings))
    except KafkaError as exc:
        return fail(f"Kafka at {settings.kafka_bootstrap_servers}: {type(exc).__name__}: {exc}")


async def _run(action: str, reason: str, settings: Settings) -> int:
    bootstrap, topic = settings.kafka_bootstrap_servers, settings.topic_analysis_dlq
    if action == "replay":
        print(f"replayed {await dlq.replay(bootstrap, topic, reason)} dead letter(s)")
        return 0
    shown = 0
    async for letter in dlq.dead_letters(bootstrap, topic):
        if letter.matches(reason):
            print(letter.line())
            shown += 1
    print(f"{shown} dead letter(s)")
    return 0
