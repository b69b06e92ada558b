"""Replay of real history: libuv's git history, analyzed once, then replayed from the Redis cache.

One run, one embedded Tansu broker (started here, on a free port), fresh topics, one Redis
database of its own (flushed at the start: only that one):

1. backfill: `aexy-stream backfill git` publishes the newest N non-merge commits of a clone of
   `tests/data/git/libuv.bundle` to the backfill lane;
2. fill: a first `aexy-stream replay` analyzes them through the keyless `rules` provider, which
   stores every answer in Redis (and the activity state there records the periodic analyses asked);
3. replay: a fresh `aexy-stream replay` process with the default settings (activity state on),
   timed from its launch to its exit: every answer comes from Redis (checked: 0 provider calls);
4. the same with the activity state off (PREDICTIVE_ANALYSES_ENABLED=false);
5. warm memory: the same replay in this process (plan, processor, end detection), on the same
   records, with the gateway's memory tier warmed by a first pass and the activity state off,
   as in the cached-path scenario of `bench/pipeline.py`.

events/s = records replayed / seconds; the ratio is replay / warm memory. A replay's time is cut
into launch to first result, first to last result and last result to exit, from the broker's
timestamps of its results.

    .venv/bin/python bench/history.py [--commits N] [--redis-url URL] [--profile FILE.html]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

# bench/gateway.py is named like the `gateway` package: keep this script's own folder off the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != str(HERE)] + [str(HERE.parent)]

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from redis import Redis

from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_stream.compose import LLMGateway, processor_config, topics
from aexy_stream.settings import Settings
from consumers.activity.tracker import PREDICTIVE, NoActivity
from consumers.config import Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.replay import ReplayBounds, plan_replay
from consumers.topics import ensure_topics
from gateway.metrics import GatewayMetrics
from tests.corpora import LIBUV_BUNDLE


def _pipeline() -> ModuleType:
    """`bench/pipeline.py`, for its broker helpers (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", HERE / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pipeline = _pipeline()

PROJECT = HERE.parent  # on the import path too, for `tests.corpora`
REPO_NAME = "libuv/libuv"
SINCE = "1970-01-01"
DEFAULT_COMMITS = 1840
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
RATIO_TARGET = 0.5
SUMMARY = re.compile(
    r"replay done \(group (?P<group>\S+)\): (?P<read>\d+) records analyzed, (?P<passed>\d+) out of range,"
    r" (?P<results>\d+) results, (?P<calls>\d+) provider calls"
)


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


def environment(bootstrap: str, names: Topics, redis_url: str, **extra: str) -> dict[str, str]:
    """The settings of every `aexy-stream` process here: the defaults, but for where things are."""
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return base | {
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
        **extra,
    }


@dataclass(frozen=True, slots=True)
class Run:
    """One `aexy-stream` process: its output, and when it was launched and ended (wall clock)."""

    stdout: str
    launched: float
    ended: float

    @property
    def seconds(self) -> float:
        return self.ended - self.launched


async def cli(env: Mapping[str, str], *args: str, profile: Path | None = None) -> Run:
    runner = ["-m", "pyinstrument", "--renderer", "html", "-o", str(profile)] if profile else []
    command = [sys.executable, *runner, "-m", "aexy_stream.cli.main", *args]
    launched = time.time()
    process = await asyncio.create_subprocess_exec(
        *command, env=dict(env), cwd=PROJECT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    ended = time.time()
    if process.returncode != 0:
        raise RuntimeError(
            f"aexy-stream {' '.join(args)} exited {process.returncode}: {err.decode()[-2000:]}"
        )
    return Run(out.decode(), launched, ended)


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

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    def line(self) -> str:
        return (
            f"{self.rate:7.0f} events/s: {self.records} records, {self.results} results,"
            f" {self.calls} provider calls in {self.seconds:5.2f} s (start to first result"
            f" {self.to_first_s:.2f} s, first to last {self.steady_s:.2f} s, last to end {self.tail_s:.2f} s)"
        )


async def result_times(bootstrap: str, topic: str, after: float) -> list[float]:
    """The broker timestamps (seconds) of the results on `topic` written after `after`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
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


async def replayed(bootstrap: str, topic: str, run: Run) -> Replayed:
    found = SUMMARY.search(run.stdout)
    if found is None:
        raise RuntimeError(f"no summary line in the replay's output: {run.stdout!r}")
    stamps = await result_times(bootstrap, topic, run.launched)
    first, last = (stamps[0], stamps[-1]) if stamps else (run.ended, run.ended)
    return Replayed(
        int(found["read"]),
        int(found["results"]),
        int(found["calls"]),
        run.seconds,
        first - run.launched,
        last - first,
        run.ended - last,
    )


# -- the same replay in this process, memory tier warm -------------------------------------------------


async def in_process(
    settings: Settings, gateway: LLMGateway, registry: CollectorRegistry
) -> tuple[float, float]:
    """`aexy-stream replay --since 1970-01-01` as `aexy_stream/cli/replay.py` runs it, on this
    process's gateway, with the activity state off: (wall-clock start, end)."""
    started = time.time()
    names = (*topics(settings).inputs, *topics(settings).lanes)
    plan = await plan_replay(settings.kafka_bootstrap_servers, names, 0)
    config = replace(processor_config(settings), group_id=f"bench-history-{uuid.uuid4().hex[:8]}")
    processor = Processor(
        config,
        gateway,
        ProcessorMetrics(registry),
        priority="backfill",
        topics=names,
        bounds=ReplayBounds(plan),
        activity=NoActivity(drop=PREDICTIVE),
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


async def warm_memory(bootstrap: str, settings: Settings) -> Replayed:
    """Two passes on one gateway: the first fills its memory tier from Redis, the second is measured."""
    gateway_registry = CollectorRegistry()
    gateway = LLMGateway(settings=settings, metrics=GatewayMetrics(gateway_registry))
    try:
        await in_process(settings, gateway, CollectorRegistry())
        before = provider_calls(gateway_registry)
        registry = CollectorRegistry()
        started, ended = await in_process(settings, gateway, registry)
        calls = provider_calls(gateway_registry) - before
    finally:
        await gateway.aclose()
    stamps = await result_times(bootstrap, settings.topic_analysis_results, started)
    first, last = (stamps[0], stamps[-1]) if stamps else (ended, ended)
    return Replayed(
        counted(registry, "aexy_stream_events_in_total"),
        counted(registry, "aexy_stream_events_out_total", topic="results"),
        calls,
        ended - started,
        first - started,
        last - first,
        ended - last,
    )


# -- main ----------------------------------------------------------------------------------------------


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


async def run(commits: int, redis_url: str, profile: Path | None) -> None:
    flush(redis_url)
    with tempfile.TemporaryDirectory(prefix="aexy-history-") as tmp:
        checkout = clone(Path(tmp))
        since = since_for(checkout, commits)
        async with EmbeddedBroker() as broker:
            bootstrap = broker.bootstrap_servers
            names = pipeline.fresh_topics()
            await ensure_topics(bootstrap, names)
            env = environment(bootstrap, names, redis_url)
            print(
                f"broker {bootstrap} (Tansu, memory-only); Redis {redis_url}; {os.cpu_count()} CPUs;"
                f" libuv non-merge commits since {since}"
            )
            backfill = await cli(
                env, "backfill", "git", str(checkout), "--since", since, "--repo-name", REPO_NAME
            )
            print(f"  {backfill.stdout.strip()}")
            replay = ("replay", "--since", SINCE)
            fill = await replayed(bootstrap, names.results, await cli(env, *replay))
            print(f"  fill (rules provider, Redis cold):    {fill.line()}")
            default = await replayed(bootstrap, names.results, await cli(env, *replay))
            print(f"  replay, default settings:             {default.line()}")
            off_env = env | {"PREDICTIVE_ANALYSES_ENABLED": "false"}
            off = await replayed(bootstrap, names.results, await cli(off_env, *replay))
            print(f"  replay, activity state off:           {off.line()}")
            settings = Settings(**{k.lower(): v for k, v in env.items() if k not in ("PATH", "HOME", "LANG")})  # type: ignore[arg-type]
            warm = await warm_memory(bootstrap, settings)
            print(f"  in process, memory warm, activity off: {warm.line()}")
            if profile is not None:
                await cli(env, *replay, profile=profile)
                print(f"  profile of a default replay: {profile}")
            await pipeline.delete_topics(bootstrap, names.all)
    summary(default, off, warm)


def summary(default: Replayed, off: Replayed, warm: Replayed) -> None:
    print("\nsummary")
    print(f"  {'figure':<44} {'events/s':>9}  {'ratio':>5}")
    print(f"  {'warm memory, in process (activity off)':<44} {warm.rate:9.0f}")
    for name, figure in (("replay, fresh process, default settings", default), ("replay, activity off", off)):
        ratio = figure.rate / warm.rate
        verdict = "met" if ratio >= RATIO_TARGET else "NOT met"
        print(f"  {name:<44} {figure.rate:9.0f}  {ratio:5.2f}  (>= {RATIO_TARGET}: {verdict})")
    for name, figure in (("default", default), ("activity off", off)):
        if figure.calls:
            print(
                f"  NOTE: the {name} replay made {figure.calls} provider calls: not every answer was in Redis"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--commits", type=int, default=DEFAULT_COMMITS, help="newest non-merge commits to replay"
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a database of its own: it is flushed")
    parser.add_argument("--profile", type=Path, help="also profile one default replay (pyinstrument HTML)")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(run(args.commits, args.redis_url, args.profile))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
