"""`aexy-stream`: one command, with subcommands. Each subcommand module has `register(subparsers)`.

The product's own subcommands are listed here. Others plug in through the entry point group
`aexy_stream.commands` (each entry a `register` function): the development tools in `dev/` add
`demo`, `broker` and `simulate-provider` that way, so a runtime install has none of them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from aexy_stream.cli import (
    analyze,
    backfill,
    dashboard,
    dlq,
    ingest,
    replay,
    run,
    schemas,
    tail,
    topics,
)
from gateway.logs import JsonFormatter

PLUGIN_GROUP = "aexy_stream.commands"
DEV_ONLY = ("demo", "broker", "simulate-provider")
"""Subcommands of the development tools; named here only to say how to get them where they are missing."""

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="aexy-stream", description="LLM analysis of engineering activity")
    root.add_argument("-v", "--verbose", action="store_true", help="log one JSON line per analysis to stderr")
    subcommands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (analyze, run, topics, dlq, schemas, ingest, backfill, replay, tail, dashboard):
        module.register(subcommands)
    for plugin in sorted(entry_points(group=PLUGIN_GROUP), key=lambda entry: entry.name):
        register: Register = plugin.load()
        register(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if missing := _missing_dev_command(arguments):
        print(missing, file=sys.stderr)
        return 2
    args = parser().parse_args(arguments)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    try:
        code: int = args.handler(args)
    except BrokenPipeError:
        return _reader_gone()
    return code


BROKEN_PIPE = 141
"""The exit status of a command killed by SIGPIPE (128 + 13), as a shell pipeline expects."""


def _reader_gone() -> int:
    """The reader of standard output went away (`aexy-stream tail | head`): stop quietly. Standard
    output is pointed at /dev/null so that the interpreter's final flush raises nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE


def _missing_dev_command(arguments: list[str]) -> str:
    """One line for a development subcommand asked for where the development tools are not installed."""
    command = next((argument for argument in arguments if not argument.startswith("-")), "")
    if command not in DEV_ONLY or command in entry_points(group=PLUGIN_GROUP).names:
        return ""
    return (
        f"aexy-stream: '{command}' comes with the development tools, which are not installed here "
        "(in a checkout: make demo, or pip install -e ./dev)"
    )


if __name__ == "__main__":
    sys.exit(main())
