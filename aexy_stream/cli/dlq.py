"""`aexy-stream dlq list|replay [--reason TEXT]`: inspect and re-drive dead letters."""

from __future__ import annotations

import argparse
import asyncio

from aiokafka.errors import KafkaError

from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import fail
from aexy_stream.compose import App
from consumers import dlq
from consumers.size_policy import record_limit


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("dlq", help="list or replay dead-lettered records")
    cmd.add_argument("action", choices=("list", "replay"))
    cmd.add_argument("--reason", default="", help="only records whose error type or reason contains TEXT")
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    config = app.processor
    bootstrap, topic = config.bootstrap_servers, config.topics.dlq
    try:
        return asyncio.run(
            _run(args.action, args.reason, bootstrap, topic, record_limit(config.max_event_bytes))
        )
    except KafkaError as exc:
        return fail(f"Kafka at {bootstrap}: {type(exc).__name__}: {exc}")


def _passed_over(letter: dlq.DeadLetter) -> None:
    print(f"not replayed, only a prefix of its value was kept (replay it from its original): {letter.line()}")


async def _run(action: str, reason: str, bootstrap: str, topic: str, max_record_bytes: int) -> int:
    if action == "replay":
        replayed = await dlq.replay(bootstrap, topic, reason, _passed_over, max_record_bytes)
        print(f"replayed {replayed} dead letter(s)")
        return 0
    shown = 0
    async for letter in dlq.dead_letters(bootstrap, topic):
        if letter.matches(reason):
            print(letter.line())
            shown += 1
    print(f"{shown} dead letter(s)")
    return 0
