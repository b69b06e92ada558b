"""Faults and shutdown benchmark (issue 14): a flaky provider must not stop the line, a stop must
not hang.

1. faults: the processor (in this process) on a local broker, a simulated Anthropic provider in its
   own process answering in 200 ms with 30% random faults (429 with Retry-After 1 s, 529, 500),
   MAX_IN_FLIGHT=64, N commits of unique content (3 analyses each, in one fused call), the gateway's default
   retries and the processor's retry topic (base 1 s): seconds until every request ended (a result
   or a dead letter), once with the default circuit breaker and once with the breaker off
   (`failure_threshold` out of reach); the ratio, and the requests the open circuit refused.
2. shutdown: `aexy-stream run` as users run it (a process), on Apache Kafka started here, the
   provider answering in 3 s:
   a. SIGTERM with 64 calls in flight, broker up: seconds to exit, exit code, the calls out at the
      signal and those the provider answered after it (the simulator counts a call when it answers
      it; none may start after the signal, so at most those out);
   b. SIGTERM after the broker was killed with results pending: seconds to exit, exit code, lines
      the process wrote (aiokafka's errors rate-limited).

    .venv/bin/python bench/faults.py [--quick] [--scenario {faults,shutdown}]... [--broker {kafka,tansu}]

Nothing here is a test: timings go to bench/README.md ("Faults and shutdown").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

# bench/gateway.py is named like the `gateway` package: keep this script's own folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import CollectorRegistry

from aexy_dev.broker.kafka import ApacheKafka
from aexy_dev.broker.process import BrokerProcess
from aexy_dev.broker.tansu import EmbeddedBroker
from consumers.config import ProcessorConfig, RoutingConfig, Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.routing import route_code_change
from consumers.topics import ensure_topics
from gateway.cache.layered import LayeredCache
from gateway.config import BreakerConfig, GatewayConfig, ProviderConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.providers.claude import ClaudeProvider
from schemas.events import parse_code_change

IN_FLIGHT = 64
SHUTDOWN_COMMITS = 100
"""More commits than calls in flight: each commit's three analyses are one fused call."""
FAULT_RATE = 0.3
LATENCY_MS = 200
SLOW_MS = 3000


def commit_event(n: int) -> bytes:
    sha = f"{n:08x}" + uuid.uuid4().hex
    patch = f"@@ -1,2 +1,4 @@\n-import os\n+import flask\n+\n+def handler_{sha[:12]}(x):\n+    return x\n"
    change = {"path": "src/app.py", "previous_path": None, "status": "modified", "additions": 3,
              "deletions": 1, "patch": patch, "binary": False}  # fmt: skip
    event = {"repository": f"octo/repo{n % 16}", "sha": sha,
             "author": {"name": "Mona", "email": "mona@example.com", "login": "mona"},
             "authored_at": "2026-11-20T22:15:00+02:00", "committed_at": "2026-11-20T22:15:00+02:00",
             "message": "Add handler", "parents": ["a" * 40], "files": [change]}  # fmt: skip
    return orjson.dumps(event)


async def publish(bootstrap: str, topic: str, values: list[bytes]) -> set[str]:
    """The commits on `topic`; the request ids they route to."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=value[:24]) for value in values]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    routing = RoutingConfig()
    return {r.request_id for v in values for r in route_code_change(parse_code_change(v), routing).requests}


async def ended(bootstrap: str, topics: Topics, expected: set[str], timeout_s: float) -> float:
    """Seconds until every expected request id is on the results or dead-letter topic."""
    started = time.monotonic()
    consumer = AIOKafkaConsumer(
        topics.results, topics.dlq, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    seen: set[str] = set()
    try:
        while not expected <= seen:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{len(expected - seen)} of {len(expected)} requests not ended")
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    seen.add(orjson.loads(record.value).get("request_id", ""))
    finally:
        await consumer.stop()
    return time.monotonic() - started


@asynccontextmanager
async def simulator(latency_ms: int, error_rate: float) -> AsyncIterator[str]:
    """A simulated Anthropic provider in its own process (like a remote one); its base URL."""
    command = [sys.executable, "-m", "aexy_stream.cli.main", "simulate-provider", "--protocol", "anthropic"]
    command += [
        "--port",
        "0",
        "--latency-ms",
        str(latency_ms),
        "--error-rate",
        str(error_rate),
        "--seed",
        "7",
    ]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        yield line.decode().split()[-1]
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def sim_total(base_url: str) -> int:
    async with httpx.AsyncClient() as client:
        total: int = (await client.get(f"{base_url}/stats")).json()["total"]
        return total


def gateway(base_url: str, breaker: BreakerConfig, registry: CollectorRegistry) -> Gateway:
    provider = ClaudeProvider(ProviderConfig("claude", "claude-sonnet-5-5", base_url, "sk-test", 10.0))
    config = GatewayConfig(chain=("claude",), retry=RetryConfig(), breaker=breaker)
    return Gateway(config, {"claude": provider}, cache=LayeredCache(()), metrics=GatewayMetrics(registry))


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in registry.collect()
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def faults_run(bootstrap: str, base_url: str, commits: int, breaker: BreakerConfig) -> dict[str, Any]:
    topics = Topics(partitions=4).with_suffix(uuid.uuid4().hex[:8])
    await ensure_topics(bootstrap, topics)
    expected = await publish(bootstrap, topics.code_changes, [commit_event(n) for n in range(commits)])
    registry = CollectorRegistry()
    metrics = ProcessorMetrics(registry)
    config = ProcessorConfig(
        bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:8]}", topics=topics,
        max_in_flight=IN_FLIGHT, retry_backoff_base_s=1.0, shutdown_grace_s=1.0,
    )  # fmt: skip
    calls_before = await sim_total(base_url)
    analyze = gateway(base_url, breaker, registry)
    stop = asyncio.Event()
    task = asyncio.create_task(Processor(config, analyze, metrics).run(stop))
    try:
        seconds = await ended(bootstrap, topics, expected, timeout_s=900)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
        await analyze.aclose()
    return {
        "seconds": seconds,
        "requests": len(expected),
        "calls": await sim_total(base_url) - calls_before,
        "refused_open": sample(registry, "aexy_llm_fallbacks_total", reason="breaker_open"),
        "parked_circuit_open": sample(registry, "aexy_stream_retries_total", error_type="CircuitOpen"),
        "retry_records": sample(registry, "aexy_stream_retries_total"),
        "dead_letters": sample(registry, "aexy_stream_dead_letters_total"),
    }


async def faults(engine: str, commits: int) -> None:
    print(f"\n1. faults: {commits} commits ({3 * commits} requests), {FAULT_RATE:.0%} faults, "
          f"{LATENCY_MS} ms, {IN_FLIGHT} in flight")  # fmt: skip
    modes = {"breaker on (default)": BreakerConfig(), "breaker off": BreakerConfig(failure_threshold=10**9)}
    figures: dict[str, dict[str, Any]] = {}
    async with broker_of(engine) as broker, simulator(LATENCY_MS, FAULT_RATE) as base_url:
        for name, breaker in modes.items():
            figures[name] = await faults_run(broker.bootstrap_servers, base_url, commits, breaker)
            f = figures[name]
            print(
                f"  {name:<22} {f['seconds']:7.1f} s  calls {f['calls']:>5}  refused (open) "
                f"{f['refused_open']:>5.0f}  parked CircuitOpen {f['parked_circuit_open']:>4.0f}  "
                f"retry records {f['retry_records']:>4.0f}  dead letters {f['dead_letters']:>3.0f}"
            )
    ratio = figures["breaker on (default)"]["seconds"] / figures["breaker off"]["seconds"]
    print(f"  ratio on/off: {ratio:.2f} (target <= 1.5)")


def broker_of(engine: str) -> BrokerProcess:
    return ApacheKafka() if engine == "kafka" else EmbeddedBroker()


def cli_environment(bootstrap: str, topics: Topics, base_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return env | {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_GROUP_ID": f"bench-{uuid.uuid4().hex[:6]}",
        "KAFKA_SESSION_TIMEOUT_MS": "2000", "KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "TOPIC_GITHUB_ACTIVITY": topics.activity, "TOPIC_CODE_CHANGES": topics.code_changes,
        "TOPIC_ANALYSIS_REQUESTS": topics.requests, "TOPIC_ANALYSIS_RESULTS": topics.results,
        "TOPIC_ANALYSIS_RETRY": topics.retry, "TOPIC_ANALYSIS_DLQ": topics.dlq,
        "TOPIC_GITHUB_ACTIVITY_BACKFILL": topics.backfill_activity,
        "TOPIC_CODE_CHANGES_BACKFILL": topics.backfill_code_changes,
        "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_API_KEY": "sk-test", "CLAUDE_RPM": "0", "CLAUDE_TPM": "0",
        "PREDICTIVE_ANALYSES_ENABLED": "false", "SHUTDOWN_GRACE_S": "2", "HTTP_PORT": str(port),
    }  # fmt: skip


async def in_flight(port: int) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return next(
        (float(x.split()[1]) for x in text.splitlines() if x.startswith("aexy_stream_in_flight_calls ")), 0
    )


async def stop_once(kill_broker: bool, workdir: Path) -> dict[str, Any]:
    broker = await asyncio.to_thread(ApacheKafka(data_dir=workdir / uuid.uuid4().hex).start)
    try:
        topics = Topics(partitions=4).with_suffix(uuid.uuid4().hex[:8])
        await ensure_topics(broker.bootstrap_servers, topics)
        commits = [commit_event(n) for n in range(SHUTDOWN_COMMITS)]
        await publish(broker.bootstrap_servers, topics.code_changes, commits)
        async with simulator(SLOW_MS, 0.0) as base_url:
            port = 20000 + os.getpid() % 20000
            env = cli_environment(broker.bootstrap_servers, topics, base_url, port)
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "aexy_stream.cli.main", "run", env=env, cwd=workdir,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
            assert process.stdout is not None
            await asyncio.wait_for(process.stdout.readline(), timeout=60)
            while await in_flight(port) < IN_FLIGHT:  # noqa: ASYNC110 - another process's gauge
                await asyncio.sleep(0.05)
            if kill_broker:
                await asyncio.to_thread(broker.kill)
                await asyncio.sleep(SLOW_MS / 1000)  # the calls answer: their results have nowhere to go
            calls_at_signal = await sim_total(base_url)
            out_at_signal = await in_flight(port)
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output = await process.stdout.read()
            code = await process.wait()
            seconds = time.monotonic() - signalled
            calls_after = await sim_total(base_url) - calls_at_signal
    finally:
        await asyncio.to_thread(broker.stop)
    return {"seconds": seconds, "code": code, "calls_after": calls_after, "out": out_at_signal,
            "lines": len(output.splitlines()),
            "last": output.decode(errors="replace").strip().splitlines()[-1:]}  # fmt: skip


async def shutdown() -> None:
    print(
        f"\n2. shutdown: `aexy-stream run` on Apache Kafka, SHUTDOWN_GRACE_S=2, "
        f"{IN_FLIGHT} calls of {SLOW_MS} ms"
    )
    with tempfile.TemporaryDirectory(prefix="aexy-bench-") as folder:
        for label, kill in (("a. broker up", False), ("b. broker killed", True)):
            f = await stop_once(kill, Path(folder))
            print(f"  {label:<17} exit {f['code']} after {f['seconds']:5.1f} s; {f['out']:.0f} calls out at "
                  f"SIGTERM, {f['calls_after']} answered after it; {f['lines']} lines written; "
                  f"last: {f['last']}")  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    print(f"{os.cpu_count()} CPUs; {'quick' if args.quick else 'full'} run")
    if "faults" in args.scenario:
        await faults(args.broker, 100 if args.quick else 300)
    if "shutdown" in args.scenario:
        await shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer commits")
    parser.add_argument("--scenario", action="append", choices=("faults", "shutdown"))
    parser.add_argument("--broker", choices=("kafka", "tansu"), default="kafka")
    args = parser.parse_args()
    args.scenario = args.scenario or ["faults", "shutdown"]
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
