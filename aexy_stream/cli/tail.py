"""`aexy-stream tail [TOPIC] [--from-beginning] [--max N]`: follow a topic and print its records.

A result envelope prints as one line (subject, analysis type, its key fields, provider, cache hit,
latency); any other record as its place, key, headers and the start of its value. No consumer
group and no commits: tailing never moves the processor's offsets. Without `--from-beginning` it
starts at the end of each partition. (The embedded Tansu broker reports the end of a partition
written in batches as the start of its last batch, so the last few records may show too.)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaError

from aexy_stream.cli.command import quiet_kafka, with_app
from aexy_stream.cli.digest import record_line, result_row
from aexy_stream.cli.errors import fail
from aexy_stream.cli.reader import assigned_consumer
from aexy_stream.cli.support import positive, stop_on_signals
from aexy_stream.compose import App

POLL_S = 0.5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "tail",
        help="follow a topic and print its records readably (analysis results by default)",
        description=(__doc__ or "").split("\n\n")[1],
    )
    cmd.add_argument("topic", nargs="?", help="default: TOPIC_ANALYSIS_RESULTS (analysis.results)")
    cmd.add_argument("--from-beginning", action="store_true", help="print what is already on the topic first")
    cmd.add_argument("--max", type=positive, metavar="N", help="exit after N records")
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    quiet_kafka()
    config = app.processor
    topic: str = args.topic or config.topics.results
    servers = config.bootstrap_servers
    try:
        asyncio.run(tail(servers, topic, args.from_beginning, args.max))
    except LookupError as exc:
        return fail(f"{exc} at {servers}")
    except BrokenPipeError:
        raise  # the reader of the output went away: `main` ends quietly
    except (KafkaConnectionError, TimeoutError, OSError):
        return fail(f"cannot reach a Kafka broker at {servers}")
    except KafkaError as exc:
        return fail(f"reading {topic} from {servers} failed: {type(exc).__name__}: {exc}")
    return 0


async def tail(servers: str, topic: str, from_beginning: bool, limit: int | None) -> None:
    """Print records until `limit` of them, or SIGINT/SIGTERM."""
    stop = stop_on_signals()
    where = "from the beginning" if from_beginning else "from the end"
    client = "aexy-stream-tail"
    async with assigned_consumer(
        servers, [topic], from_beginning=from_beginning, client_id=client
    ) as consumer:
        print(f"tail: following {topic} on {servers} {where} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        printed = 0
        while not stop.is_set() and (limit is None or printed < limit):
            room = None if limit is None else limit - printed
            batch = await consumer.getmany(timeout_ms=int(POLL_S * 1000), max_records=room)
            for record in (r for records in batch.values() for r in records):
                print(line(record), flush=True)
                printed += 1


def line(record: Any) -> str:
    row = result_row(record.value)
    return row.line() if row is not None else record_line(record)
