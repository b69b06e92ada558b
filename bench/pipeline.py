"""Pipeline benchmark: the stream processor on a local broker, against the gateway and a simulator.

One run, one local broker started here on a free port (Tansu in memory by default, or Apache Kafka
itself with `--broker kafka`), fresh topics per scenario:

1. cached path: N commits on `code.changes` (3 analyses each), the gateway's memory cache warmed
   first so every request is a cache hit; events/s from the processor's start until all 3N results
   are on `analysis.results` (counted by a separate reader process). Side by side, on the same
   records and broker: a raw aiokafka consume -> produce -> commit passthrough (1 record out per
   event; the processor writes 3 per event). The activity state is off, as with
   PREDICTIVE_ANALYSES_ENABLED=false.
1b. cached path, default settings: the same, with the activity state `aexy-stream run` builds by
   default (no REDIS_URL: in process memory, predictive analyses on, no pseudonyms). Each record
   then also counts in the state; the periodic requests it triggers are provider calls (counted).
2. latency-bound: a simulated Anthropic provider (own process, like a remote one) answering in
   500 ms, MAX_IN_FLIGHT=64, no rate limit, unique contents (every analysis needs the provider; a
   commit's three in one fused call); results/s in the steady state, as a share of the bound
   64 calls / 0.5 s x analyses per call.
3. memory: a backlog produced before the processor starts, then the processor (cached gateway) for a
   fixed time or until done, sampling this process's VmRSS every 0.5 s.

    .venv/bin/python bench/pipeline.py [--quick] [--sim-in-process] [--default-gc]
        [--scenario {cached,cached-default,latency,memory}]...   (repeatable; default: all four)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# bench/gateway.py is named like the `gateway` package: keep this script's own folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from aexy_dev.broker.kafka import ApacheKafka
from aexy_dev.broker.process import BrokerProcess
from aexy_dev.broker.tansu import EmbeddedBroker
from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_stream import gc_tuning
from consumers.activity.config import ActivityConfig
from consumers.activity.identity import Pseudonyms
from consumers.activity.store.memory import MemoryStateStore
from consumers.activity.tracker import Activity, ActivityTracker
from consumers.config import ProcessorConfig, RoutingConfig, Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.routing import route_code_change
from consumers.topics import admin_client, ensure_topics
from gateway.cache.layered import LayeredCache
from gateway.cache.memory import MemoryCache
from gateway.config import BreakerConfig, GatewayConfig, ProviderConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.claude import ClaudeProvider
from schemas.events import parse_code_change

READER = Path(__file__).resolve().parent / "pipeline_support" / "reader.py"
PARTITIONS = 4
ANALYSES_PER_EVENT = 3
MAX_IN_FLIGHT = 64
LATENCY_MS = 500.0
RSS_INTERVAL_S = 0.5
RATIO_TARGET = 0.5
SHARE_TARGET = 0.9
PEAK_TARGET_MB = 300.0


@dataclass(frozen=True, slots=True)
class Sizes:
    cached_events: int
    distinct: int
    """Distinct commits among the cached-path events (each repeated): the cache warm-up calls them once."""
    latency_events: int
    backlog: int
    memory_run_s: float


FULL = Sizes(cached_events=20_000, distinct=200, latency_events=700, backlog=200_000, memory_run_s=30.0)
QUICK = Sizes(cached_events=3_000, distinct=100, latency_events=250, backlog=50_000, memory_run_s=10.0)


# -- inputs --------------------------------------------------------------------------------------------


def commit_event(sha: str, repository: str = "octo/app") -> bytes:
    """A one-file commit like `tests/pipeline/harness.commit_event` (content unique per sha)."""
    patch = f"@@ -1,2 +1,4 @@\n-import os\n+import flask\n+\n+def handler_{sha[:8]}(x):\n+    return x\n"
    change = {
        "path": "src/module_0.py",
        "previous_path": None,
        "status": "modified",
        "additions": 3,
        "deletions": 1,
        "patch": patch,
        "binary": False,
    }
    event = {
        "repository": repository,
        "sha": sha,
        "author": {"name": "Mona", "email": "mona@example.com", "login": "mona"},
        "authored_at": "2026-11-20T22:15:00+02:00",
        "committed_at": "2026-11-20T22:15:00+02:00",
        "message": "Add handler",
        "parents": ["a" * 40],
        "files": [change],
    }
    return orjson.dumps(event)


def distinct_commits(count: int) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs: `count` different commits, keyed by sha (spread over the partitions)."""
    shas = [uuid.uuid4().hex + uuid.uuid4().hex[:8] for _ in range(count)]
    return [(sha.encode(), commit_event(sha)) for sha in shas]


def repeated(commits: Sequence[tuple[bytes, bytes]], total: int) -> Iterable[tuple[bytes, bytes]]:
    return (commits[i % len(commits)] for i in range(total))


# -- broker helpers ------------------------------------------------------------------------------------


def fresh_topics() -> Topics:
    return Topics(partitions=PARTITIONS).with_suffix(uuid.uuid4().hex[:8])


async def create_topic(bootstrap: str, name: str) -> None:
    async with admin_client(bootstrap) as admin:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)])


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Best effort: frees the broker's memory between scenarios."""
    with contextlib.suppress(KafkaError, TimeoutError):
        async with admin_client(bootstrap) as admin:
            await admin.delete_topics(list(names))


async def produce(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]]) -> tuple[int, float]:
    """Send fast (batched, not awaiting each record); return (count, seconds)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=False,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    started, count, pending = time.perf_counter(), 0, []
    try:
        for key, value in records:
            pending.append(await producer.send(topic, value, key=key))
            count += 1
            if len(pending) >= 10_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return count, time.perf_counter() - started


class Reader:
    """A separate process counting the records on a topic (see `pipeline_support/reader.py`)."""

    def __init__(self, process: asyncio.subprocess.Process, expected: int) -> None:
        self._process = process
        self.expected = expected

    @classmethod
    async def start(cls, bootstrap: str, topic: str, expected: int, timeout_s: float) -> Reader:
        args = [bootstrap, topic, str(PARTITIONS), str(expected), str(timeout_s)]
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(READER), *args, stdout=asyncio.subprocess.PIPE
        )
        reader = cls(process, expected)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        if line.strip() != b"ready":
            await reader.close()
            raise RuntimeError(f"the reader did not start: {line!r}")
        return reader

    async def marks(self) -> list[tuple[float, int]]:
        """(monotonic time, cumulative count) per batch, once the reader is done."""
        assert self._process.stdout is not None
        out = await self._process.stdout.read()
        await self._process.wait()
        report = json.loads(out.decode().strip().splitlines()[-1])
        if report["count"] < self.expected:
            raise RuntimeError(f"only {report['count']} of {self.expected} records arrived in time")
        return [(t, c) for t, c in report["marks"]]

    async def close(self) -> None:
        if self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()


async def wait_reader(reader: Reader, worker: asyncio.Task[None]) -> list[tuple[float, int]]:
    """The reader's marks; fail at once if the worker being measured dies first."""
    marks = asyncio.ensure_future(reader.marks())
    await asyncio.wait({marks, worker}, return_when=asyncio.FIRST_COMPLETED)
    if not marks.done():
        marks.cancel()
        await reader.close()
        worker.result()  # raises what killed it
        raise RuntimeError("the measured worker returned before its output was complete")
    return marks.result()


def time_to(marks: Sequence[tuple[float, int]], count: int) -> float:
    """When the reader had seen `count` records."""
    return next(t for t, c in marks if c >= count)


# -- processor and gateway -----------------------------------------------------------------------------


def processor_config(bootstrap: str, topics: Topics, **overrides: Any) -> ProcessorConfig:
    base = ProcessorConfig(
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        topics=topics,
        max_in_flight=MAX_IN_FLIGHT,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        retry_backoff_base_s=0.2,
        retry_max_attempts=3,
        shutdown_grace_s=5.0,
    )
    return replace(base, **overrides)


def default_activity() -> Activity:
    """The activity state of the default settings without REDIS_URL (`compose.build_activity`):
    in process memory, predictive analyses on, no pseudonyms."""
    config = ActivityConfig()
    return ActivityTracker(MemoryStateStore(config.state_ttl_s), config, Pseudonyms())


@asynccontextmanager
async def running(
    config: ProcessorConfig, gateway: Gateway, activity: Activity | None = None
) -> AsyncIterator[tuple[asyncio.Task[None], Any]]:
    """The processor as a task (and its metrics registry); stopped through its stop Event on exit.
    Without `activity`, no activity state (as PREDICTIVE_ANALYSES_ENABLED=false)."""
    metrics = ProcessorMetrics(CollectorRegistry())
    stop = asyncio.Event()
    task = asyncio.create_task(Processor(config, gateway, metrics, activity=activity).run(stop))
    try:
        yield task, metrics.registry
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


def claude_gateway(base_url: str, *, cached: bool, registry: CollectorRegistry | None = None) -> Gateway:
    """As `tests/pipeline/harness.claude_gateway`: built directly, so no rate limit."""
    provider = ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", base_url, "sk-test", 10.0))
    config = GatewayConfig(
        chain=("claude",),
        retry=RetryConfig(max_retries=1, backoff_initial_s=0.01, jitter_s=0),
        breaker=BreakerConfig(failure_threshold=5, cooldown_s=1.0),
    )
    cache = LayeredCache([MemoryCache(max_items=100_000)] if cached else [])
    metrics = GatewayMetrics(registry or CollectorRegistry())
    return Gateway(config, {"claude": provider}, cache=cache, metrics=metrics)


async def warm_cache(gateway: Gateway, commits: Sequence[tuple[bytes, bytes]]) -> int:
    """Every request the commits route to, through the gateway once (stored in its cache)."""
    routing = RoutingConfig()
    requests = [r for _, v in commits for r in route_code_change(parse_code_change(v), routing).requests]
    for start in range(0, len(requests), MAX_IN_FLIGHT):
        await asyncio.gather(*(gateway.analyze(r) for r in requests[start : start + MAX_IN_FLIGHT]))
    return len(requests)


def gateway_figures(registry: CollectorRegistry) -> tuple[dict[str, int], float]:
    """The gateway's analyses by outcome, and their mean latency in seconds (from its metrics)."""
    outcomes: dict[str, int] = {}
    latency_sum = latency_count = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == "aexy_llm_requests_total":
                outcome = sample.labels["outcome"]
                outcomes[outcome] = outcomes.get(outcome, 0) + int(sample.value)
            elif sample.name == "aexy_llm_latency_seconds_sum":
                latency_sum += sample.value
            elif sample.name == "aexy_llm_latency_seconds_count":
                latency_count += sample.value
    return outcomes, latency_sum / latency_count if latency_count else float("nan")


def results_out(registry: Any) -> int:
    return int(registry.get_sample_value("aexy_stream_events_out_total", {"topic": "results"}) or 0)


# -- scenario 1: cached path vs a raw passthrough ------------------------------------------------------


async def passthrough(bootstrap: str, source: str, target: str, stop: asyncio.Event) -> None:
    """Raw aiokafka: consume a batch, produce each value (acks=all), wait for the acks, commit."""
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"bench-pass-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5
    )  # the processor's producer settings
    await producer.start()
    try:
        await consumer.start()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            records = [record for part in batch.values() for record in part]
            if records:
                await asyncio.gather(*[await producer.send(target, r.value, key=r.key) for r in records])
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


@dataclass(frozen=True, slots=True)
class Throughput:
    events: int
    outputs: int
    total_s: float
    """From the worker's start (group join included) to the last output."""
    steady_s: float
    """From the first output to the last."""

    @property
    def rate(self) -> float:
        return self.events / self.total_s

    @property
    def steady_rate(self) -> float:
        return self.events / self.steady_s if self.steady_s > 0 else float("nan")


def throughput(events: int, outputs: int, started: float, marks: Sequence[tuple[float, int]]) -> Throughput:
    return Throughput(events, outputs, marks[-1][0] - started, marks[-1][0] - marks[0][0])


async def measure_passthrough(bootstrap: str, source: str, events: int) -> Throughput:
    target = f"passthrough.{uuid.uuid4().hex[:8]}"
    await create_topic(bootstrap, target)
    reader = await Reader.start(bootstrap, target, events, timeout_s=180)
    stop = asyncio.Event()
    started = time.monotonic()
    task = asyncio.create_task(passthrough(bootstrap, source, target, stop))
    try:
        marks = await wait_reader(reader, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await reader.close()
    await delete_topics(bootstrap, [target])
    return throughput(events, events, started, marks)


async def run_until(
    bootstrap: str, topics: Topics, gateway: Gateway, outputs: int, activity: Activity | None = None
) -> tuple[float, list[tuple[float, int]]]:
    """Run the processor until `outputs` results are on the results topic: start time and marks."""
    reader = await Reader.start(bootstrap, topics.results, outputs, timeout_s=180)
    try:
        started = time.monotonic()
        async with running(processor_config(bootstrap, topics), gateway, activity) as (task, _):
            marks = await wait_reader(reader, task)
    finally:
        await reader.close()
    return started, marks


async def measure_processor(
    bootstrap: str, topics: Topics, gateway: Gateway, events: int, activity: Activity | None = None
) -> Throughput:
    """Until the events' own results are out (with the activity state, the results of the periodic
    requests it triggers count among them: a few, next to 3 per event)."""
    outputs = ANALYSES_PER_EVENT * events
    started, marks = await run_until(bootstrap, topics, gateway, outputs, activity)
    return throughput(events, outputs, started, marks)


async def cached_path(
    bootstrap: str, sim: SimulatorHandle, gateway: Gateway, sizes: Sizes, activity: Activity | None = None
) -> dict[str, Any]:
    n = sizes.cached_events
    commits = distinct_commits(sizes.distinct)
    warmed = await warm_cache(gateway, commits)
    topics = fresh_topics()
    await ensure_topics(bootstrap, topics)
    produced, produce_s = await produce(bootstrap, topics.code_changes, repeated(commits, n))
    print(
        f"  {produced} events on code.changes ({sizes.distinct} distinct commits,"
        f" produced in {produce_s:.1f} s); cache warmed with {warmed} gateway calls"
    )
    raw = await measure_passthrough(bootstrap, topics.code_changes, n)
    calls_before, cpu_before = sim.stats()["total"], time.process_time()
    proc = await measure_processor(bootstrap, topics, gateway, n, activity)
    cpu_s = time.process_time() - cpu_before
    provider_calls = sim.stats()["total"] - calls_before
    await delete_topics(bootstrap, topics.all)
    ratio, steady_ratio = proc.rate / raw.rate, proc.steady_rate / raw.steady_rate
    records_ratio = (proc.outputs / proc.total_s) / (raw.outputs / raw.total_s)
    for name, t in (("raw passthrough", raw), ("processor      ", proc)):
        print(
            f"  {name}: {t.rate:8.0f} events/s ({t.outputs} records out, {t.total_s:5.2f} s from start)"
            f"   first->last output: {t.steady_rate:8.0f} events/s ({t.steady_s:5.2f} s)"
        )
    print(
        f"  NOTE: the passthrough writes 1 record per event, the processor {ANALYSES_PER_EVENT} results per"
        f" event (+ decode, routing, {ANALYSES_PER_EVENT} cached gateway calls); provider calls during the"
        f" measured pass: {provider_calls}"
    )
    print(
        f"  ratio processor/passthrough (events/s): {ratio:.2f} from start, {steady_ratio:.2f} first->last;"
        f" per record written (3 vs 1 per event): {records_ratio:.2f} from start"
    )
    print(
        f"  before the first output (group join, first fetch): passthrough {raw.total_s - raw.steady_s:.2f}"
        f" of {raw.total_s:.2f} s, processor {proc.total_s - proc.steady_s:.2f} of {proc.total_s:.2f} s"
    )
    cpu_us = cpu_s / n * 1e6
    print(
        f"  CPU time of this process while the processor ran: {cpu_s:.2f} s = {cpu_us:.0f} µs per event"
        " (less moved than events/s by other work on the machine)"
    )
    return {
        "proc": proc,
        "raw": raw,
        "ratio": ratio,
        "steady_ratio": steady_ratio,
        "records": records_ratio,
        "cpu_us": cpu_us,
    }


# -- scenario 2: latency-bound -------------------------------------------------------------------------


@asynccontextmanager
async def latency_simulator(in_process: bool) -> AsyncIterator[str]:
    """The 500 ms simulator's base URL.

    By default it runs in its own process, like a remote provider, so its request handling does not
    share this process's event loop (and CPU) with the processor being measured.
    """
    if in_process:
        async with running_simulator(SimulatorConfig(protocol="anthropic", latency_ms=LATENCY_MS)) as sim:
            yield sim.base_url
        return
    command = [sys.executable, "-m", "aexy_stream.cli.main", "simulate-provider", "--protocol", "anthropic"]
    command += ["--port", "0", "--latency-ms", str(LATENCY_MS)]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)  # "... listening on URL"
        yield line.decode().split()[-1]
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def latency_bound(bootstrap: str, events: int, in_process: bool) -> dict[str, Any]:
    outputs = ANALYSES_PER_EVENT * events
    calls_bound = MAX_IN_FLIGHT / (LATENCY_MS / 1000)
    topics = fresh_topics()
    await ensure_topics(bootstrap, topics)
    await produce(bootstrap, topics.code_changes, distinct_commits(events))
    print(
        f"  {events} events with unique contents -> {outputs} analyses; simulator latency "
        f"{LATENCY_MS:.0f} ms, MAX_IN_FLIGHT={MAX_IN_FLIGHT}, no rate limit: bound {calls_bound:.0f} calls/s"
    )
    async with latency_simulator(in_process) as base_url:
        registry = CollectorRegistry()
        gateway = claude_gateway(base_url, cached=False, registry=registry)
        try:
            started, marks = await run_until(bootstrap, topics, gateway, outputs)
            outcomes, mean_latency = gateway_figures(registry)
            saved = registry.get_sample_value("aexy_llm_fused_calls_saved_total", {"provider": "claude"}) or 0
        finally:
            await gateway.aclose()
    per_call = outputs / (outputs - saved)  # analyses a provider call answers: 3 when fused
    bound = calls_bound * per_call
    print(
        f"  {outputs - saved:.0f} provider calls ({per_call:.2f} analyses each): bound {bound:.0f} results/s"
    )
    await delete_topics(bootstrap, topics.all)
    # steady state: after the first two waves of calls, before the last, partial wave
    wave = round(MAX_IN_FLIGHT * per_call)  # results of one wave of calls
    first, last = 2 * wave, outputs - wave
    t_first, t_last = time_to(marks, first), time_to(marks, last)
    c_first = next(c for t, c in marks if t == t_first)
    c_last = next(c for t, c in marks if t == t_last)
    rate = (c_last - c_first) / (t_last - t_first)
    overall = outputs / (marks[-1][0] - started)
    print(
        f"  steady state (results {c_first}..{c_last}, {t_last - t_first:.1f} s): {rate:6.1f} results/s"
        f" = {rate / bound:.2f} of the bound; whole run incl. group join and tail: {overall:6.1f} results/s"
        f" ({marks[-1][0] - started:.1f} s)"
    )
    print(
        f"  gateway outcomes {outcomes}, mean analysis latency {mean_latency * 1000:.0f} ms"
        f" (in flight / mean latency x analyses per call = {per_call * MAX_IN_FLIGHT / mean_latency:.1f}/s);"
        f" simulator in"
        f" {'this process' if in_process else 'a separate process'}"
    )
    return {"rate": rate, "share": rate / bound, "bound": bound}


# -- scenario 3: memory under a backlog ----------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def memory_run(
    bootstrap: str, gateway: Gateway, sizes: Sizes, script_start_mb: float
) -> dict[str, Any]:
    commits = distinct_commits(sizes.distinct)
    await warm_cache(gateway, commits)
    topics = fresh_topics()
    await ensure_topics(bootstrap, topics)
    produced, produce_s = await produce(bootstrap, topics.code_changes, repeated(commits, sizes.backlog))
    gc.collect()
    baseline = rss_mb()
    print(
        f"  backlog of {produced} events produced in {produce_s:.1f} s ({produced / produce_s:.0f}/s) before"
        f" the processor starts; RSS at script start {script_start_mb:.0f} MB, after backlog + gc"
        f" {baseline:.0f} MB"
    )
    done_at = ANALYSES_PER_EVENT * sizes.backlog
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    async with running(processor_config(bootstrap, topics), gateway) as (task, registry):
        while True:
            now = time.monotonic()
            samples.append((now - started, rss_mb()))
            if task.done() or now - started >= sizes.memory_run_s or results_out(registry) >= done_at:
                break
            await asyncio.sleep(RSS_INTERVAL_S)
        results = results_out(registry)
    elapsed = samples[-1][0]
    await delete_topics(bootstrap, topics.all)
    if task.done() and task.exception() is not None:
        raise RuntimeError("the processor died") from task.exception()
    return report_memory(samples, elapsed, baseline, results)


def report_memory(
    samples: list[tuple[float, float]], elapsed: float, baseline: float, results: int
) -> dict[str, Any]:
    def at(fraction: float) -> float:
        return min(samples, key=lambda s: abs(s[0] - fraction * elapsed))[1]

    points = {f"{int(f * 100)}%": at(f) for f in (0.0, 0.25, 0.5, 0.75, 1.0)}
    peak = max(mb for _, mb in samples)
    growth = points["100%"] - points["25%"]
    flat = abs(growth) <= max(20.0, 0.1 * points["25%"])
    events = results // ANALYSES_PER_EVENT
    print(
        f"  processor ran {elapsed:.1f} s: {results} results ({events} events,"
        f" {events / elapsed:.0f} events/s); {len(samples)} RSS samples every {RSS_INTERVAL_S} s"
    )
    print("  RSS MB: " + "  ".join(f"{k} {v:.0f}" for k, v in points.items()) + f"  peak {peak:.0f}")
    print(
        f"  growth 25%->100%: {growth:+.1f} MB -> {'flat' if flat else 'NOT flat'}"
        f" (flat: within max(20 MB, 10%)); peak over the pre-start baseline: {peak - baseline:+.0f} MB"
    )
    return {"peak": peak, "flat": flat, "baseline": baseline, "points": points}


# -- main ----------------------------------------------------------------------------------------------

SCENARIOS = ("cached", "cached-default", "latency", "memory")


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def cached_rows(name: str, cached: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    proc, raw = cached["proc"], cached["raw"]
    ratio = cached["ratio"]
    return [
        (f"{name} events/s", f"{proc.rate:.0f}", "-", ""),
        ("  CPU µs per event", f"{cached['cpu_us']:.0f}", "(info)", ""),
        ("raw passthrough events/s", f"{raw.rate:.0f}", "-", ""),
        ("processor/passthrough", f"{ratio:.2f}", f">= {RATIO_TARGET}", verdict(ratio >= RATIO_TARGET)),
        ("  same, first->last output", f"{cached['steady_ratio']:.2f}", "(info)", ""),
        ("  same, per record written", f"{cached['records']:.2f}", "(info)", ""),
    ]


def summary(figures: dict[str, dict[str, Any]]) -> None:
    rows: list[tuple[str, str, str, str]] = []
    if (cached := figures.get("cached")) is not None:
        rows += cached_rows("cached processor", cached)
    if (default := figures.get("cached-default")) is not None:
        rows += cached_rows("cached, default settings", default)
    if (latency := figures.get("latency")) is not None:
        share = latency["share"]
        rows += [
            ("latency-bound results/s", f"{latency['rate']:.1f}", f"bound {latency['bound']:.0f}", ""),
            ("share of the bound", f"{share:.2f}", f">= {SHARE_TARGET}", verdict(share >= SHARE_TARGET)),
        ]
    if (memory := figures.get("memory")) is not None:
        peak = memory["peak"]
        rows += [
            ("memory peak RSS MB", f"{peak:.0f}", f"< {PEAK_TARGET_MB:.0f}", verdict(peak < PEAK_TARGET_MB)),
            ("memory flat 25%->100%", "yes" if memory["flat"] else "no", "(info)", ""),
        ]
    print("\nsummary")
    print(f"  {'figure':<34} {'value':>8}  {'target':<10} result")
    for name, value, target, result in rows:
        print(f"  {name:<34} {value:>8}  {target:<10} {result}")


def local_broker(engine: str) -> BrokerProcess:
    """The broker the benchmark runs on: Tansu (in memory, the demo's) or Apache Kafka itself."""
    return ApacheKafka() if engine == "kafka" else EmbeddedBroker()


async def run(
    sizes: Sizes, quick: bool, sim_in_process: bool, tune_gc: bool, scenarios: Sequence[str], engine: str
) -> None:
    script_start_mb = rss_mb()
    figures: dict[str, dict[str, Any]] = {}
    async with local_broker(engine) as broker:
        bootstrap = broker.bootstrap_servers
        print(
            f"broker {bootstrap} ({broker.name}); {'quick' if quick else 'full'} run; "
            f"{os.cpu_count()} CPUs; processor in this process, readers in separate processes"
        )
        async with running_simulator(SimulatorConfig(protocol="anthropic")) as sim:
            gateway = claude_gateway(sim.base_url, cached=True)
            if tune_gc:
                gc_tuning.tune()  # as `aexy-stream run` does once started
            try:
                if "cached" in scenarios:
                    print(f"\n1. cached path: {sizes.cached_events} events, activity state off")
                    figures["cached"] = await cached_path(bootstrap, sim, gateway, sizes)
                if "cached-default" in scenarios:
                    print(
                        f"\n1b. cached path, default settings: {sizes.cached_events} events,"
                        " activity state on"
                    )
                    figures["cached-default"] = await cached_path(
                        bootstrap, sim, gateway, sizes, default_activity()
                    )
                if "latency" in scenarios:
                    print(f"\n2. latency-bound: {sizes.latency_events} events")
                    figures["latency"] = await latency_bound(bootstrap, sizes.latency_events, sim_in_process)
                if "memory" in scenarios:
                    print(f"\n3. memory: backlog of {sizes.backlog} events, up to {sizes.memory_run_s:.0f} s")
                    figures["memory"] = await memory_run(bootstrap, gateway, sizes, script_start_mb)
            finally:
                await gateway.aclose()
    summary(figures)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes (well under a minute)")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="run only this scenario (repeatable; default: all, in the order above)",
    )
    parser.add_argument(
        "--sim-in-process",
        action="store_true",
        help="scenario 2: run the 500 ms simulator in this process (default: a separate process)",
    )
    parser.add_argument(
        "--default-gc", action="store_true", help="keep CPython's GC settings (aexy-stream run tunes them)"
    )
    parser.add_argument(
        "--broker",
        choices=("tansu", "kafka"),
        default="tansu",
        help="Tansu in memory, or Apache Kafka itself",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    started = time.monotonic()
    sizes, scenarios = QUICK if args.quick else FULL, args.scenario or SCENARIOS
    asyncio.run(run(sizes, args.quick, args.sim_in_process, not args.default_gc, scenarios, args.broker))
    print(f"\ntotal {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
