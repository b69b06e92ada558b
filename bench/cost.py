"""What analysing real history costs at a provider: calls, tokens and dollars, fused against unfused.

One run, one embedded Tansu broker (started here), fresh topics, and the Anthropic simulator in this
process, which counts what it is sent (requests, input, output and prompt-cache tokens, by its
tokenizer: characters / 4):

1. backfill: `aexy-stream backfill git` publishes the newest N non-merge commits of a clone of
   `tests/data/git/libuv.bundle` to the backfill lane (as `bench/history.py` does, with its code);
2. then, for each mode (`FUSED_CODE_ANALYSES` false, then true): a replay in this process, composed
   as `aexy-stream replay` composes it (`bench/history.py`), through Claude on the simulator: no
   cache, no rate limit, the activity state off, so every code analysis is a provider call.

Per mode it prints provider calls (per analysed part: the split the processor made, by the same
routing), input tokens per analysed commit, and dollars per 1,000 commits at the list prices of
`gateway/pricing.py` for Claude Sonnet and Haiku, live and through Message Batches (half the list
price). Each mode must give every part its three results, and no dead letter.

    .venv/bin/python bench/cost.py [--commits N] [--modes unfused,fused]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)] + [str(PROJECT)]

from prometheus_client import CollectorRegistry

from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_stream import gc_tuning
from bench.pipeline_support.scripts import script
from consumers.config import RoutingConfig
from consumers.routing import CODE_CHANGE_ANALYSES, route_code_change
from consumers.topics import ensure_topics
from gateway.metrics import GatewayMetrics
from gateway.pricing import DEFAULT_PRICES, cost_usd
from producers.git import GitRange, iter_code_changes

history = script("history")  # libuv loading and in-process replay

DEFAULT_COMMITS = 500
MODES: Mapping[str, Mapping[str, str]] = {
    "unfused": {"FUSED_CODE_ANALYSES": "false"},
    "fused": {"FUSED_CODE_ANALYSES": "true"},
}
MODELS = ("claude-sonnet-5-5", "claude-haiku-4-5")
BATCH_FACTOR = 0.5
"""Message Batches: half the list price."""
CLAUDE = {
    "LLM_PROVIDER": "claude",
    "ANTHROPIC_API_KEY": "sk-ant-simulator",
    "CLAUDE_RPM": "0",
    "CLAUDE_TPM": "0",
    "LLM_CACHE_ENABLED": "false",
    "REDIS_URL": "",
    "PREDICTIVE_ANALYSES_ENABLED": "false",
}
"""Every code analysis a provider call: no cache, no rate limit, no periodic analyses."""


@dataclass(frozen=True, slots=True)
class Routing:
    """What the processor's routing makes of the commits (the same code, run here to count)."""

    commits: int
    analysed: int
    """Commits that asked for code analyses."""
    parts: int


@dataclass(frozen=True, slots=True)
class Mode:
    """One mode's figures, as the simulator and the processor counted them."""

    name: str
    routing: Routing
    calls: int
    tokens_in: int
    tokens_out: int
    cache_read: int
    cache_write: int
    analyses: Mapping[str, int]
    """Code analyses answered, per type."""
    results: int
    dead_letters: int
    seconds: float

    def line(self) -> str:
        analyses = ", ".join(f"{count} {kind}" for kind, count in self.analyses.items())
        return (
            f"{self.calls} provider calls, {self.tokens_in} tokens in ({self.cache_read} read from the"
            f" prompt cache, {self.cache_write} written to it), {self.tokens_out} out; {analyses};"
            f" {self.results} results, {self.dead_letters} dead letters in {self.seconds:.1f} s"
        )

    def dollars(self, model: str, factor: float) -> float:
        return cost_usd(
            DEFAULT_PRICES,
            model,
            self.tokens_in,
            self.tokens_out,
            factor,
            cache_read_tokens=self.cache_read,
            cache_write_tokens=self.cache_write,
        )


def routed(checkout: Path, since: str, config: RoutingConfig) -> Routing:
    git_range = GitRange(checkout, since=datetime.fromisoformat(since), repo_name=history.REPO_NAME)
    commits = analysed = parts = 0
    for event in iter_code_changes(git_range):
        requests = route_code_change(event, config).requests
        commits += 1
        analysed += bool(requests)
        parts += len({r.context["part"]["index"] for r in requests})
    return Routing(commits, analysed, parts)


async def replay(name: str, settings: Mapping[str, str], sim: SimulatorHandle, routing: Routing) -> Mode:
    """The whole backfill lane replayed through Claude on the simulator, counted there."""
    app = history.app_of(settings)
    registry = CollectorRegistry()
    gateway = app.gateway(metrics=GatewayMetrics(registry))
    sim.reset()
    try:
        started, ended = await history.in_process(app, gateway, registry)
    finally:
        await gateway.aclose()
    stats: dict[str, Any] = sim.stats()
    return Mode(
        name,
        routing,
        calls=int(stats["completions"]),
        tokens_in=int(stats["tokens_in"]),
        tokens_out=int(stats["tokens_out"]),
        cache_read=int(stats.get("tokens_cache_read", 0)),
        cache_write=int(stats.get("tokens_cache_write", 0)),
        analyses={
            kind.value: history.counted(
                registry, "aexy_llm_requests_total", analysis_type=kind.value, outcome="ok"
            )
            for kind in CODE_CHANGE_ANALYSES
        },
        results=history.counted(registry, "aexy_stream_events_out_total", topic="results"),
        dead_letters=history.counted(registry, "aexy_stream_dead_letters_total"),
        seconds=ended - started,
    )


async def run(commits: int, modes: Sequence[str]) -> list[Mode]:
    with tempfile.TemporaryDirectory(prefix="aexy-cost-") as tmp:
        checkout = history.clone(Path(tmp))
        since = history.since_for(checkout, commits)
        async with EmbeddedBroker() as broker, running_simulator(SimulatorConfig("anthropic")) as sim:
            bootstrap = broker.bootstrap_servers
            names = history.pipeline.fresh_topics()
            await ensure_topics(bootstrap, names)
            settings = history.environment(bootstrap, names, "") | CLAUDE
            settings["ANTHROPIC_BASE_URL"] = sim.base_url
            print(
                f"broker {bootstrap} (Tansu); simulator {sim.base_url}; {os.cpu_count()} CPUs;"
                f" libuv non-merge commits since {since}"
            )
            backfill = await history.cli(
                settings, "backfill", "git", str(checkout), "--since", since, "--repo-name", history.REPO_NAME
            )
            print(f"  {backfill.stdout.strip()}")
            figures = []
            for name in modes:
                mode = settings | MODES[name]
                routing = routed(checkout, since, history.app_of(mode).processor.routing)
                figures.append(await replay(name, mode, sim, routing))
                print(f"  {name}: {figures[-1].line()}")
            await history.pipeline.delete_topics(bootstrap, names.all)
    return figures


def report(modes: Sequence[Mode]) -> None:
    first = modes[0].routing
    print(f"\n{first.commits} commits, {first.analysed} analysed (the same in every mode)")
    header = (
        f"  {'mode':<8} {'parts':>6} {'calls':>6} {'per part':>8} {'in/commit':>10} {'out/commit':>10}"
        f" {'cached in':>9}"
    )
    prices = [f"{model.removeprefix('claude-')} {how}" for model in MODELS for how in ("live", "batch")]
    print(header + "".join(f" {p:>16}" for p in prices) + "   (USD per 1,000 commits)")
    for mode in modes:
        routing = mode.routing
        dollars = [mode.dollars(m, f) * 1000 / routing.commits for m in MODELS for f in (1.0, BATCH_FACTOR)]
        print(
            f"  {mode.name:<8} {routing.parts:>6} {mode.calls:>6} {mode.calls / routing.parts:>8.2f}"
            f" {mode.tokens_in / routing.analysed:>10.0f} {mode.tokens_out / routing.analysed:>10.0f}"
            f" {mode.cache_read / max(mode.tokens_in, 1):>9.0%}" + "".join(f" {d:>16.2f}" for d in dollars)
        )
        if set(mode.analyses.values()) != {routing.parts} or mode.dead_letters:
            print(
                f"  NOTE: {mode.name}: not every part got its three results: {dict(mode.analyses)} for"
                f" {routing.parts} parts, {mode.dead_letters} dead letters"
            )
    if {"unfused", "fused"} <= {m.name for m in modes}:
        unfused, fused = (next(m for m in modes if m.name == n) for n in ("unfused", "fused"))
        print(
            f"  fused: {unfused.calls - fused.calls} calls saved (calls {fused.calls / unfused.calls:.0%} of"
            f" unfused), input tokens {fused.tokens_in / unfused.tokens_in:.0%} of unfused"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=DEFAULT_COMMITS, help="newest non-merge commits")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: unfused, fused")
    args = parser.parse_args()
    modes = [mode for mode in args.modes.split(",") if mode]
    unknown = set(modes) - set(MODES)
    if unknown:
        raise SystemExit(f"unknown modes: {', '.join(sorted(unknown))} (known: {', '.join(MODES)})")
    gc_tuning.tune()
    started = time.monotonic()
    report(asyncio.run(run(args.commits, modes)))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
