"""`aexy-stream analyze TYPE [FILE|-]`: one analysis, its envelope as JSON on stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.compose import App
from gateway.errors import GatewayError
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("analyze", help="analyze a file or stdin and print the result envelope")
    cmd.add_argument("type", metavar="TYPE", help="one of: " + ", ".join(t.value for t in AnalysisType))
    cmd.add_argument("file", nargs="?", default="-", metavar="FILE|-", help="material to analyze (- = stdin)")
    cmd.add_argument("--context", action="append", default=[], metavar="KEY=VALUE", help="context entry")
    cmd.add_argument("--subject", default="", help="developer or repository the result is about")
    cmd.add_argument("--provider", help="use this provider only (claude, ollama, openai, rules)")
    cmd.add_argument("--no-cache", action="store_true", help="do not read the cache")
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    try:
        request = _request(args)
    except ValidationError as exc:
        return fail(f"invalid request: {exc.errors()[0]['msg']}", EXIT_USAGE)
    except (ValueError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    return asyncio.run(_analyze(app, request, args.provider, not args.no_cache))


def _request(args: argparse.Namespace) -> AnalysisRequest:
    if args.type not in AnalysisType.__members__.values():
        raise ValueError(f"unknown analysis type {args.type!r}; expected one of: {', '.join(AnalysisType)}")
    return AnalysisRequest(
        analysis_type=AnalysisType(args.type),
        content=_read(args.file),
        context={"path": args.file} | _context(args.context) if args.file != "-" else _context(args.context),
        subject=args.subject,
    )


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise ValueError(f"no such file: {name}")
    return path.read_text(encoding="utf-8", errors="replace")


def _context(pairs: list[str]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--context expects KEY=VALUE, got {pair!r}")
        context[key] = value
    return context


async def _analyze(app: App, request: AnalysisRequest, provider: str | None, use_cache: bool) -> int:
    try:
        gateway = app.gateway(provider)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    try:
        envelope = await gateway.analyze(request, use_cache=use_cache, provider=provider)
    except GatewayError as exc:
        return fail(f"{exc.error_type}: {exc}")
    finally:
        await gateway.aclose()
    print(envelope.model_dump_json(indent=2))
    return 0
