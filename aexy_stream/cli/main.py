"""`aexy-stream`: one command, with subcommands. Each subcommand module has `register(subparsers)`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from aexy_stream.cli import (
    analyze,
    backfill,
    broker,
    demo,
    dlq,
    ingest,
    replay,
    run,
    schemas,
    simulate,
    tail,
    topics,
)
from gateway.logs import JsonFormatter


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="aexy-stream", description="LLM analysis of engineering activity")
    root.add_argument("-v", "--verbose", action="store_true", help="log one JSON line per analysis to stderr")
    subcommands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        analyze,
        run,
        topics,
        dlq,
        broker,
        simulate,
        schemas,
        ingest,
        backfill,
        replay,
        demo,
        tail,
    ):
        module.register(subcommands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
