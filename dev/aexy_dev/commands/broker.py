"""`aexy-stream broker [--engine tansu|kafka] [--port 9092]`: a local broker in the foreground.

`tansu` (the default) starts at once and keeps everything in memory; `kafka` runs Apache Kafka itself
(Java, jars fetched once with Maven), in a temporary log directory or a kept `--data-dir`.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from aexy_dev.broker.kafka import DEFAULT_VERSION, ApacheKafka
from aexy_dev.broker.process import BrokerProcess
from aexy_dev.broker.tansu import BrokerStartError, EmbeddedBroker
from aexy_stream.cli.errors import fail

DEFAULT_PORT = 9092
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM) + ((signal.SIGHUP,) if sys.platform != "win32" else ())
"""Ctrl-C, a service manager's stop, the terminal closing: each stops the broker (in a session of its own)."""
_WATCH_INTERVAL_S = 0.5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `broker` subcommand; its handler is `args.handler(args) -> int`."""
    cmd = subparsers.add_parser(
        "broker",
        help="run a local Kafka broker (Tansu in memory, or Apache Kafka) until Ctrl-C",
        description="Run a Kafka broker on 127.0.0.1 in the foreground. --engine tansu (default): Tansu, "
        "in memory, ready at once; topics, messages, groups and offsets are lost when it stops. "
        "--engine kafka: Apache Kafka itself (needs Java 17+; its jars are fetched once with Maven).",
    )
    cmd.add_argument(
        "--engine", choices=("tansu", "kafka"), default="tansu", help="which broker (default tansu)"
    )
    cmd.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port to listen on (0 = any free port)")
    cmd.add_argument("--log-file", type=Path, help="append the broker's log here (default: a temporary file)")
    cmd.add_argument(
        "--data-dir", type=Path, help="kafka only: keep topics and records in this folder across restarts"
    )
    cmd.add_argument(
        "--kafka-version", default=DEFAULT_VERSION, help=f"kafka only (default {DEFAULT_VERSION})"
    )
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM/SIGHUP (exit 0); exit 1 if it cannot start or dies on its own."""
    if args.data_dir is not None and args.engine != "kafka":
        return fail("--data-dir needs --engine kafka (Tansu keeps everything in memory)", 2)
    broker = _broker(args)
    stop = threading.Event()
    with _stopping_on_signals(stop):
        try:
            broker.start()
        except BrokerStartError as exc:
            return fail(str(exc))
        try:
            print(announcement(broker), flush=True)
            return _serve(broker, stop)
        finally:
            broker.stop()


def _broker(args: argparse.Namespace) -> BrokerProcess:
    if args.engine == "kafka":
        return ApacheKafka(
            args.port, version=args.kafka_version, data_dir=args.data_dir, log_path=args.log_file
        )
    return EmbeddedBroker(args.port, log_path=args.log_file)


def announcement(broker: BrokerProcess) -> str:
    if isinstance(broker, ApacheKafka):
        kept = (
            f"data kept in {broker.data_dir}"
            if broker.data_dir != broker.temporary_dir
            else "a temporary log directory, removed when it stops (--data-dir keeps it)"
        )
        return (
            f"Apache Kafka {broker.version} listening on {broker.bootstrap_servers}, pid {broker.pid}; "
            f"{kept} (Ctrl-C or SIGTERM to stop)"
        )
    return (
        f"Kafka-compatible broker (Tansu) listening on {broker.bootstrap_servers}; IN-MEMORY: all topics, "
        "messages, consumer groups and offsets are lost when it stops (Ctrl-C to stop)"
    )


def _serve(broker: BrokerProcess, stop: threading.Event) -> int:
    while not stop.wait(_WATCH_INTERVAL_S):
        if not broker.running:
            return fail(f"the broker exited unexpectedly; log tail:\n{broker.log_tail()}")
    return 0


@contextmanager
def _stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
    for sig in STOP_SIGNALS:
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {port}")
    return port
