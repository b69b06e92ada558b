"""`aexy-stream schemas export|check`: the checked-in JSON Schemas of every message."""

from __future__ import annotations

import argparse

from aexy_stream.cli.errors import fail
from schemas import export


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("schemas", help="write or check the JSON Schemas in schemas/json/")
    cmd.add_argument("action", choices=("export", "check"))
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "export":
        print(f"wrote {len(export.export())} schema files to {export.JSON_DIR}")
        return 0
    if stale := export.stale():
        return fail("stale JSON Schemas (run `aexy-stream schemas export`): " + ", ".join(stale))
    print("JSON Schemas are up to date")
    return 0
