"""What the `demo` and `tail` commands share: a positive count argument, a stop event on signals."""

from __future__ import annotations

import argparse
import asyncio
import signal


def positive(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT (Ctrl-C), SIGTERM or SIGHUP; call it inside the running loop.

    SIGHUP (the terminal closed, an ssh session dropped) would otherwise end the process at once,
    without the summary and without stopping the broker, which runs in a session of its own.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    return stop
