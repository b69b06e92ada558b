"""`aexy-stream broker [--port 9092]`: an embedded, in-memory Kafka-compatible broker in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from aexy_dev.broker.tansu import BrokerStartError, EmbeddedBroker
from aexy_stream.cli.errors import fail

DEFAULT_PORT = 9092
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM) + ((signal.SIGHUP,) if sys.platform != "win32" else ())
"""Ctrl-C, a service manager's stop, the terminal closing: each stops Tansu (its own session gets none)."""
_WATCH_INTERVAL_S = 0.5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `broker` subcommand; its handler is `args.handler(args) -> int`."""
    cmd = subparsers.add_parser(
        "broker",
        help="run an embedded in-memory Kafka-compatible broker (Tansu) until Ctrl-C",
        description="Run Tansu, a Kafka-compatible broker, on 127.0.0.1 in the foreground. It keeps "
        "everything in memory: topics, messages, consumer groups and offsets are lost when it stops.",
    )
    cmd.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port to listen on (0 = any free port)")
    cmd.add_argument("--log-file", type=Path, help="append the broker's log here (default: a temporary file)")
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM/SIGHUP (exit 0); exit 1 if it cannot start or dies on its own."""
    broker = EmbeddedBroker(args.port, log_path=args.log_file)
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


def announcement(broker: EmbeddedBroker) -> str:
    return (
        f"Kafka-compatible broker (Tansu) listening on {broker.bootstrap_servers}; IN-MEMORY: all topics, "
        "messages, consumer groups and offsets are lost when it stops (Ctrl-C to stop)"
    )


def _serve(broker: EmbeddedBroker, stop: threading.Event) -> int:
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
