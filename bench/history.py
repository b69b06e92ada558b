"""Replay of real history: libuv's git history, analyzed once, then replayed from the Redis cache.

One run, one embedded Tansu broker (started here, on a free port), fresh topics, one Redis
database of its own (flushed at the start: only that one):

1. backfill: `aexy-stream backfill git` publishes the newest N non-merge commits of a clone of
   `tests/data/git/libuv.bundle` to the backfill lane;
2. fill: a first `aexy-stream replay` analyzes them through the keyless `rules` provider, which
   stores every answer in Redis (and the activity state there counts the events and records the
   periodic analyses asked);
3. then, each round, for the default settings (activity state on) and for the activity state off
   (PREDICTIVE_ANALYSES_ENABLED=false):
   - replay: a fresh `aexy-stream replay` process, timed from its launch to its exit: every answer
     comes from Redis (checked: the provider calls are counted);
   - warm memory: the same replay in this process, composed as `aexy_stream/cli/replay.py` composes
     it, on one gateway whose memory tier a first pass filled: the same records, the same settings,
     every answer from memory.

events/s = records replayed / seconds; each figure is the median of the rounds, and the ratio is
replay / warm memory with the same settings. A replay's time is cut into start to first result,
first to last result and last result to end, from the broker's timestamps of its results; its CPU
time (the replay process's, or this process's during the warm pass) moves less than its wall time
on a machine shared with other work. Each line also counts the records whose identity resolution was
skipped (the resolver's warning, read off the replay's stderr or this process's log): each kept a
raw subject, so one person could show as two.

    .venv/bin/python bench/history.py [--commits N] [--rounds N] [--redis-url URL] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

# bench/gateway.py is named like the `gateway` package: keep this script's own folder off the import path
# (and the project's on it, for `tests.corpora`).
HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)] + [str(PROJECT)]

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from redis import Redis

from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_stream import gc_tuning
from aexy_stream.compose import App, LLMGateway
from aexy_stream.settings import Settings
from bench.pipeline_support.scripts import script
from consumers.config import Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.replay import ReplayBounds, plan_replay
from consumers.topics import ensure_topics
from gateway.metrics import GatewayMetrics
from tests.corpora import LIBUV_BUNDLE

pipeline = script("pipeline")  # broker helpers

REPO_NAME = "libuv/libuv"
SINCE = "1970-01-01"
DEFAULT_COMMITS = 1840
DEFAULT_ROUNDS = 3
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
RATIO_TARGET = 0.5
ACTIVITY_OFF = {"PREDICTIVE_ANALYSES_ENABLED": "false"}
SUMMARY = re.compile(
    r"replay done \(group (?P<group>\S+)\): (?P<read>\d+) records analyzed, (?P<passed>\d+) out of range,"
    r" (?P<results>\d+) results, (?P<calls>\d+) provider calls"
)
IDENTITY_SKIPPED = "identity resolution skipped"
"""The resolver's warning when the identity store did not answer: the record kept its raw subjects."""


# -- the repository ------------------------------------------------------------------------------------


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def clone(into: Path) -> Path:
    target = into / "libuv"
    git("clone", "-q", str(LIBUV_BUNDLE), str(target))
    return target


def since_for(checkout: Path, commits: int) -> str:
    """The committer date of the `commits`-th newest non-merge commit: `--since` for about that many."""
    dates = git("log", "--no-merges", "--format=%cI", cwd=checkout).splitlines()
    return dates[min(commits, len(dates)) - 1]


# -- the command line, in processes of its own -----------------------------------------------------------

PASSED_THROUGH = ("PATH", "HOME", "LANG", "PYTHONPATH")


def environment(bootstrap: str, names: Topics, redis_url: str) -> dict[str, str]:
    """The settings of every `aexy-stream` process here: the defaults, but for where things are."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPIC_GITHUB_ACTIVITY": names.activity,
        "TOPIC_CODE_CHANGES": names.code_changes,
        "TOPIC_ANALYSIS_REQUESTS": names.requests,
        "TOPIC_ANALYSIS_RESULTS": names.results,
        "TOPIC_ANALYSIS_RETRY": names.retry,
        "TOPIC_ANALYSIS_DLQ": names.dlq,
        "TOPIC_GITHUB_ACTIVITY_BACKFILL": names.backfill_activity,
        "TOPIC_CODE_CHANGES_BACKFILL": names.backfill_code_changes,
        "LLM_PROVIDER": "rules",
        "REDIS_URL": redis_url,
    }


@dataclass(frozen=True, slots=True)
class Run:
    """One `aexy-stream` process: its output, and when it was launched and ended (wall clock)."""

    stdout: str
    stderr: str
    launched: float
    ended: float
    cpu_s: float
    """The process's CPU time, user and system."""


async def cli(settings: Mapping[str, str], *args: str, profile: Path | None = None) -> Run:
    runner = ["-m", "cProfile", "-o", str(profile)] if profile else []
    command = [sys.executable, *runner, "-m", "aexy_stream.cli.main", *args]
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ} | dict(settings)
    launched, before = time.time(), _children_cpu_s()
    process = await asyncio.create_subprocess_exec(
        *command, env=env, cwd=PROJECT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    ended = time.time()
    if process.returncode != 0:
        raise RuntimeError(
            f"aexy-stream {' '.join(args)} exited {process.returncode}: {err.decode()[-2000:]}"
        )
    return Run(out.decode(), err.decode(), launched, ended, _children_cpu_s() - before)


def _children_cpu_s() -> float:
    """CPU time of this process's children that ended (one at a time here: the one just run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Replayed:
    """A replay's figures: records analyzed, results written, provider calls, and its timeline."""

    records: int
    results: int
    calls: int
    seconds: float
    to_first_s: float
    """From the start (the launch, for a process) to its first result on the broker."""
    steady_s: float
    """From the first result to the last."""
    tail_s: float
    """From the last result to the end (the process's exit)."""
    cpu_s: float
    """CPU time spent: the process's, or this process's during the pass."""
    identity_skips: int
    """Records whose identity resolution was skipped (the resolver's warning, counted)."""

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def line(self) -> str:
        return (
            f"{self.rate:5.0f} events/s: {self.records} records, {self.results} results,"
            f" {self.calls} provider calls in {self.seconds:5.2f} s, CPU {self.cpu_s:5.2f} s"
            f" (start to first result {self.to_first_s:.2f} s, first to last {self.steady_s:.2f} s,"
            f" last to end {self.tail_s:.2f} s); identity skipped {self.identity_skips}"
        )


async def result_times(bootstrap: str, topic: str, after: float) -> list[float]:
    """The broker timestamps (seconds) of the results on `topic` written after `after`."""
    # the reset matches the seek below: aiokafka may apply either (docs/kafka.md)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        stamps: list[float] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            stamps += [r.timestamp / 1000 for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    return sorted(t for t in stamps if t >= after)


async def timeline(
    bootstrap: str,
    topic: str,
    counts: tuple[int, int, int],
    span: tuple[float, float],
    cpu_s: float,
    identity_skips: int,
) -> Replayed:
    """A replay's figures from its counts (records, results, provider calls), its start and end, its
    results' times, its CPU time and its identity skips."""
    started, ended = span
    stamps = await result_times(bootstrap, topic, started)
    first, last = (stamps[0], stamps[-1]) if stamps else (ended, ended)
    spans = ended - started, first - started, last - first, ended - last
    return Replayed(*counts, *spans, cpu_s, identity_skips)


async def replay_process(bootstrap: str, settings: Mapping[str, str], topic: str) -> Replayed:
    """A fresh `aexy-stream replay --since 1970-01-01`, from its launch to its exit."""
    run = await cli(settings, "replay", "--since", SINCE)
    found = SUMMARY.search(run.stdout)
    if found is None:
        raise RuntimeError(f"no summary line in the replay's output: {run.stdout!r}")
    counts = int(found["read"]), int(found["results"]), int(found["calls"])
    skips = run.stderr.count(IDENTITY_SKIPPED)
    return await timeline(bootstrap, topic, counts, (run.launched, run.ended), run.cpu_s, skips)


# -- the same replay in this process, memory tier warm -------------------------------------------------


class Counting(logging.Handler):
    """Counts the records whose message starts with `prefix`."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.WARNING)
        self.prefix = prefix
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += record.getMessage().startswith(self.prefix)


async def in_process(app: App, gateway: LLMGateway, registry: CollectorRegistry) -> tuple[float, float]:
    """`aexy-stream replay --since 1970-01-01` composed as `aexy_stream/cli/replay.py` composes it,
    but on this process's gateway: (wall-clock start, end)."""
    started = time.time()
    config = app.processor
    names = (*config.topics.inputs, *config.topics.lanes)
    plan = await plan_replay(config.bootstrap_servers, names, 0)
    config = replace(config, group_id=f"bench-history-{uuid.uuid4().hex[:8]}")
    metrics = ProcessorMetrics(registry)
    identities = app.identities(gateway.redis, metrics.activity_errors.inc)
    activity = app.activity(gateway.redis, metrics.activity_errors.inc, identities)
    processor = Processor(
        config,
        gateway,
        metrics,
        priority="backfill",
        topics=names,
        bounds=ReplayBounds(plan),
        activity=activity,
        identities=identities,
    )
    await processor.run(asyncio.Event())
    return started, time.time()


def counted(registry: CollectorRegistry, name: str, **labels: str) -> int:
    return sum(
        int(sample.value)
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def provider_calls(registry: CollectorRegistry) -> int:
    total = counted(registry, "aexy_llm_requests_total")
    return total - counted(registry, "aexy_llm_requests_total", outcome="cache_hit")


def app_of(settings: Mapping[str, str]) -> App:
    return App(Settings(**{name.lower(): value for name, value in settings.items()}))  # type: ignore[arg-type]


async def warm_memory(bootstrap: str, settings: Mapping[str, str]) -> Replayed:
    """Two passes on one gateway: the first fills its memory tier from Redis, the second is measured."""
    app = app_of(settings)
    gateway_registry = CollectorRegistry()
    gateway = app.gateway(metrics=GatewayMetrics(gateway_registry))
    skips = Counting(IDENTITY_SKIPPED)  # in both passes
    resolver_log = logging.getLogger("consumers.identity.resolver")
    resolver_log.addHandler(skips)
    try:
        await in_process(app, gateway, CollectorRegistry())
        before = provider_calls(gateway_registry)
        registry = CollectorRegistry()
        cpu_before = time.process_time()
        span = await in_process(app, gateway, registry)
        cpu_s = time.process_time() - cpu_before
        calls = provider_calls(gateway_registry) - before
    finally:
        resolver_log.removeHandler(skips)
        await gateway.aclose()
    records = counted(registry, "aexy_stream_events_in_total")
    results = counted(registry, "aexy_stream_events_out_total", topic="results")
    counts = records, results, calls
    return await timeline(bootstrap, app.processor.topics.results, counts, span, cpu_s, skips.count)


# -- main ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Pair:
    """One setting's figures over the rounds: the fresh replays and the warm-memory passes."""

    name: str
    settings: dict[str, str]
    replays: list[Replayed]
    warm: list[Replayed]

    @property
    def ratio(self) -> float:
        return median_rate(self.replays) / median_rate(self.warm)


def median_rate(figures: Sequence[Replayed]) -> float:
    return statistics.median(figure.rate for figure in figures)


def flush(redis_url: str) -> None:
    """Empty the benchmark's own Redis database (and only it): every answer is computed anew."""
    db = urlparse(redis_url).path.lstrip("/")
    if not db.isdigit() or db == "0":
        raise SystemExit(f"give a Redis URL with a database of its own (not 0): {redis_url}")
    client = Redis.from_url(redis_url)
    try:
        client.flushdb()
    finally:
        client.close()


async def measure(bootstrap: str, pairs: list[Pair], rounds: int) -> None:
    for round_no in range(1, rounds + 1):
        print(f"\nround {round_no} of {rounds}")
        for pair in pairs:
            topic = pair.settings["TOPIC_ANALYSIS_RESULTS"]
            pair.replays.append(await replay_process(bootstrap, pair.settings, topic))
            print(f"  replay, fresh process, {pair.name:<18} {pair.replays[-1].line()}")
            pair.warm.append(await warm_memory(bootstrap, pair.settings))
            print(f"  warm memory, in process, {pair.name:<16} {pair.warm[-1].line()}")


async def run(commits: int, rounds: int, redis_url: str, profile: Path | None) -> list[Pair]:
    flush(redis_url)
    with tempfile.TemporaryDirectory(prefix="aexy-history-") as tmp:
        checkout = clone(Path(tmp))
        since = since_for(checkout, commits)
        async with EmbeddedBroker() as broker:
            bootstrap = broker.bootstrap_servers
            names = pipeline.fresh_topics()
            await ensure_topics(bootstrap, names)
            settings = environment(bootstrap, names, redis_url)
            print(
                f"broker {bootstrap} (Tansu, memory-only); Redis {redis_url}; {os.cpu_count()} CPUs;"
                f" libuv non-merge commits since {since}"
            )
            backfill = await cli(
                settings, "backfill", "git", str(checkout), "--since", since, "--repo-name", REPO_NAME
            )
            print(f"  {backfill.stdout.strip()}")
            fill = await replay_process(bootstrap, settings, names.results)
            print(f"  fill: a first replay, rules provider, Redis cold: {fill.line()}")
            pairs = [
                Pair("default settings", settings, [], []),
                Pair("activity off", settings | ACTIVITY_OFF, [], []),
            ]
            await measure(bootstrap, pairs, rounds)
            if profile is not None:
                await cli(settings, "replay", "--since", SINCE, profile=profile)
                print(f"\nprofile of a default replay: {profile} (python -m pstats {profile})")
            await pipeline.delete_topics(bootstrap, names.all)
    return pairs


def summary(pairs: Sequence[Pair]) -> None:
    print(f"\nsummary (medians of {len(pairs[0].replays)} rounds; CPU: seconds of CPU per 1,000 records)")
    print(f"  {'figure':<48} {'events/s':>9} {'CPU':>6}  ratio")
    for pair in pairs:
        verdict = "met" if pair.ratio >= RATIO_TARGET else "NOT met"
        warm, replays = pair.warm, pair.replays
        print(
            f"  {'warm memory, in process, ' + pair.name:<48} {median_rate(warm):9.0f} {cpu_per_k(warm):6.2f}"
        )
        name = "replay, fresh process, " + pair.name
        print(
            f"  {name:<48} {median_rate(replays):9.0f} {cpu_per_k(replays):6.2f}"
            f"  {pair.ratio:5.2f}  (>= {RATIO_TARGET}: {verdict})"
        )
    default, off = pairs
    print(
        f"  (the default replay against the warm memory with the activity state off:"
        f" {median_rate(default.replays) / median_rate(off.warm):.2f})"
    )
    for pair in pairs:
        skipped = sum(figure.identity_skips for figure in (*pair.replays, *pair.warm))
        print(f"  {pair.name}: {skipped} records with identity resolution skipped, all rounds and passes")
        if calls := sum(figure.calls for figure in pair.replays):
            print(f"  NOTE: the {pair.name} replays made {calls} provider calls: not every answer was cached")


def cpu_per_k(figures: Sequence[Replayed]) -> float:
    return statistics.median(1000 * figure.cpu_s / figure.records for figure in figures)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--commits", type=int, default=DEFAULT_COMMITS, help="newest non-merge commits to replay"
    )
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="measurements of each figure")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a database of its own: it is flushed")
    parser.add_argument("--profile", type=Path, help="also profile one default replay (cProfile output)")
    args = parser.parse_args()
    gc_tuning.tune()  # as `aexy-stream replay` does once started
    started = time.monotonic()
    pairs = asyncio.run(run(args.commits, args.rounds, args.redis_url, args.profile))
    summary(pairs)
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
