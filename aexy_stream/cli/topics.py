"""`aexy-stream topics create`: create the pipeline's topics on a Kafka broker (safe to run again);
with RESULTS_TOPIC_PER_TYPE=true, the per-type result topics too (`Topics.results_by_type`)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

from aiokafka.errors import KafkaConnectionError, KafkaError

from aexy_stream.cli.command import quiet_kafka, with_app
from aexy_stream.cli.errors import fail
from aexy_stream.compose import App
from consumers.config import Topics
from consumers.topics import DEFAULT_TIMEOUT_S, ensure_topics


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `topics` subcommand; its handler is `args.handler(args) -> int`."""
    cmd = subparsers.add_parser("topics", help="create the pipeline's Kafka topics")
    actions = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create every topic that does not exist yet")
    create.add_argument(
        "--bootstrap-servers",
        type=_bootstrap_servers,
        metavar="HOST:PORT[,HOST:PORT...]",
        help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)",
    )
    create.add_argument("--partitions", type=_positive, help="per new topic (default: TOPIC_PARTITIONS)")
    create.add_argument("--replication", type=_positive, help="per new topic (default: TOPIC_REPLICATION)")
    create.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds to wait for the broker"
    )
    create.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    """Print one line per topic (created / already existed); exit 1 with one line on failure."""
    quiet_kafka()
    config = app.processor
    topics = _sized(config.topics, args.partitions, args.replication)
    servers: str = args.bootstrap_servers or config.bootstrap_servers
    try:
        created = asyncio.run(ensure_topics(servers, topics, timeout_s=args.timeout))
    except (KafkaConnectionError, TimeoutError, OSError):
        return fail(f"cannot reach a Kafka broker at {servers} within {args.timeout:g} s")
    except KafkaError as exc:
        return fail(f"creating topics on {servers} failed: {_one_line(exc)}")
    for name in topics.all:
        state = f"created ({topics.partitions} partitions)" if name in created else "already existed"
        print(f"{name}: {state}")
    return 0


def _sized(topics: Topics, partitions: int | None, replication: int | None) -> Topics:
    return replace(
        topics, partitions=partitions or topics.partitions, replication=replication or topics.replication
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _bootstrap_servers(text: str) -> str:
    for server in text.split(","):
        host, _, port = server.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise argparse.ArgumentTypeError(f"expected HOST:PORT[,HOST:PORT...], not {text!r}")
    return text


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
