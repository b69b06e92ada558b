"""Redaction on real history: its cost per commit and what it replaces in ordinary code (libuv).

1. clones `tests/data/git/libuv.bundle` into a temporary folder, reads its newest N non-merge commits
   (`producers.git`) and routes each to its analysis requests (`consumers.routing`);
2. after: every request of a commit through the gateway's outbound step (`Outbound.request_for`, as
   for Claude: content and every context string), one redactor for the whole run as in the gateway
   (a commit's analyses share their texts, so each is scanned once); the time per commit (CPU time of
   this process, and wall time), and every redaction, by kind and line: in libuv's history each is a
   false positive;
3. before (`--baseline FILE`: a module with `redact(text) -> (text, count)`, e.g. the routing-level
   redaction this replaced, `git show b183445:consumers/redaction.py > /tmp/old_redaction.py`): the
   same commits as that code redacted them, the message and each analysed file's whole patch.

    .venv/bin/python bench/redaction.py [--commits 500] [--baseline /tmp/old_redaction.py]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# bench/gateway.py is named like the `gateway` package: keep this script's own folder off the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)] + [str(HERE.parent)]

from prometheus_client import CollectorRegistry

from consumers.config import RoutingConfig
from consumers.file_skips import file_skips
from consumers.routing import route_code_change
from gateway.metrics import GatewayMetrics
from gateway.redaction import Outbound, Redactor
from gateway.redaction.outbound import strings_of
from producers.git import GitRange, iter_code_changes
from schemas.events import CodeChangeEvent
from schemas.request import AnalysisRequest
from tests.corpora import LIBUV_BUNDLE

MESSAGE_CHARS = 4000
Routed = list[tuple[CodeChangeEvent, tuple[AnalysisRequest, ...]]]
Redact = Callable[[str], tuple[str, int]]


def newest_commits(count: int) -> list[CodeChangeEvent]:
    with tempfile.TemporaryDirectory() as folder:
        checkout = Path(folder) / "libuv"
        subprocess.run(["git", "clone", "-q", str(LIBUV_BUNDLE), str(checkout)], check=True)
        events = list(iter_code_changes(GitRange(checkout, repo_name="libuv/libuv")))
    return events[-count:]


def after(routed: Routed) -> tuple[float, float, list[str], dict[str, float]]:
    """CPU and wall seconds for the whole sample, each line with a redaction (and its commit), and
    the redactions counted per kind (once per request sent, as `aexy_llm_redactions_total`)."""
    metrics = GatewayMetrics(CollectorRegistry())
    redactor = Redactor()
    redactor.redact("warm up: build the detectors")
    outbound = Outbound(lambda: redactor, metrics.redactions)
    found: list[str] = []
    cpu, wall = time.process_time(), time.perf_counter()
    sent = asyncio.run(sent_to_claude(outbound, routed))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    markers = 0
    for event, requests in sent:
        texts = {r.content for r in requests} | {s for r in requests for s in strings_of(r.context)}
        markers += sum(text.count("[REDACTED:") for text in texts)
        for line in sorted({ln for text in texts for ln in text.split("\n") if "[REDACTED:" in ln}):
            found.append(f"{event.sha[:10]}  {line.strip()[:140]}")
    return cpu, wall, found, {"distinct": markers, **counted(metrics)}


async def sent_to_claude(outbound: Outbound, routed: Routed) -> Routed:
    """Every request as the gateway sends it to Claude (a long text is scanned in a worker thread,
    whose CPU time `time.process_time` counts too)."""
    return [
        (event, tuple([await outbound.request_for("claude", r) for r in requests]))
        for event, requests in routed
    ]


def counted(metrics: GatewayMetrics) -> dict[str, float]:
    return {
        sample.labels["kind"]: sample.value
        for family in metrics.registry.collect()
        if family.name == "aexy_llm_redactions"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def before(events: list[CodeChangeEvent], redact: Redact) -> tuple[float, float, int]:
    config, total = RoutingConfig(), 0
    cpu, wall = time.process_time(), time.perf_counter()
    for event in events:
        total += redact(event.message[:MESSAGE_CHARS])[1]
        for change, skip in zip(event.files, file_skips(event.files, config), strict=True):
            if skip is None:
                total += redact(change.patch or "")[1]
    return time.process_time() - cpu, time.perf_counter() - wall, total


def baseline(path: Path) -> Redact:
    spec = importlib.util.spec_from_file_location("baseline_redaction", path)
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    redact: Redact = module.redact
    return redact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--baseline", type=Path, help="a module with redact(text) -> (text, count)")
    args = parser.parse_args()
    events = newest_commits(args.commits)
    routed = [(event, route_code_change(event, RoutingConfig()).requests) for event in events]
    routed = [(event, requests) for event, requests in routed if requests]
    requests = sum(len(r) for _, r in routed)
    print(f"{len(events)} commits, {len(routed)} with requests ({requests} requests)")
    cpu, wall, found, kinds = after(routed)
    commits = len({line.split()[0] for line in found})
    print(f"after:  {cpu / len(events) * 1e6:.0f} µs CPU, {wall / len(events) * 1e6:.0f} µs wall per commit")
    distinct = kinds.pop("distinct")
    print(f"        redactions: {distinct:.0f} in the commits' texts; {kinds} counted per request sent")
    print(f"        {len(found)} lines in {commits} commits:")
    for line in found:
        print(f"          {line}")
    if args.baseline:
        cpu, wall, count = before(events, baseline(args.baseline))
        per = f"{cpu / len(events) * 1e6:.0f} µs CPU, {wall / len(events) * 1e6:.0f} µs wall per commit"
        print(f"before: {per}, {count} redactions")


if __name__ == "__main__":
    main()
