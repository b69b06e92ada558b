"""`aexy-stream simulate-provider`: run a local provider simulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import sys

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, serve
from aexy_dev.simulator.config import PROTOCOLS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `simulate-provider` subcommand; its handler is `args.handler(args) -> int`."""
    parser = subparsers.add_parser(
        "simulate-provider",
        help="serve a simulated LLM provider (anthropic, ollama or openai wire protocol)",
        description="Serve a local simulator of an LLM provider API, with optional latency and faults.",
    )
    parser.add_argument("--protocol", required=True, choices=PROTOCOLS, help="wire protocol to speak")
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0 = any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before every answer")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests failing (0-1)")
    parser.add_argument("--rpm", type=int, default=0, help="requests per rolling minute (0 = unlimited)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random fault generator")
    parser.add_argument(
        "--require-api-key", action="store_true", help="ollama/openai: answer 401 without Authorization"
    )
    parser.set_defaults(handler=run)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        protocol=args.protocol,
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        rpm=args.rpm,
        seed=args.seed,
        require_api_key=args.require_api_key,
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; 0 on a clean stop, 2 on a bad option, 1 if it cannot listen."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"simulate-provider: {exc}", file=sys.stderr)
        return 2
    try:
        serve(config, on_ready=announce)
    except OSError as exc:
        print(f"simulate-provider: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def announce(handle: SimulatorHandle) -> None:
    print(f"{handle.config.protocol} simulator listening on {handle.base_url}", flush=True)
