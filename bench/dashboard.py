"""Dashboard burst: N results (10,000 by default) published at once while a browser shows the page.

One run on a local broker started here (Tansu in memory by default, or Apache Kafka with
`--broker kafka`), one fresh results topic (4 partitions):

1. SEED results over the same subjects are on the topic first; `aexy-stream dashboard` starts in
   its own process (so its RSS is its own, read from /proc) and catches up.
2. The page is opened in headless Chromium (Debian's, driven by Playwright) on the People view (the
   heaviest to render: every row again each frame something changed), and a slow SSE client connects
   (it reads one event, then sleeps SLOW_MS).
3. The burst: N results, DEVELOPERS developers x 5 analyses and REPOSITORIES team-health results,
   produced as fast as the producer goes. Measured: the time from the first record sent until the
   page holds the newest result of every key of the burst and has painted it ("time to show"); the
   page's long tasks meanwhile (main thread busy over 50 ms: a page that does not answer clicks);
   the server's RSS (sampled every 50 ms, and its high-water mark); the events sent, coalesced and
   dropped for a fresh snapshot (the server's `/api/stats`); what the slow client received and
   whether it ends with the newest result of every key.
4. The same burst again (the same keys, new results): the server's RSS after it, to show that memory
   follows the keys, not the number of results.

    .venv/bin/python bench/dashboard.py [--results 10000] [--broker {tansu,kafka}] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer

from aexy_dev.broker.kafka import ApacheKafka
from aexy_dev.broker.tansu import EmbeddedBroker
from consumers.config import Topics
from consumers.topics import ensure_topics
from schemas.envelope import envelope_json
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
KINDS = (T.ATTRITION_RISK, T.BURNOUT_RISK, T.PERFORMANCE_TRAJECTORY, T.SOFT_SKILLS, T.SKILL_EXTRACTION)
SLOW_MS = 2.0
LONG_TASKS = """
window.__long = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); })
  .observe({ type: "longtask", buffered: true });
"""
HOLDS_ALL = """(expected) => expected.every(([key, id]) => {
  const entry = S.entries.get(key);
  return entry && entry.request_id === id;
})"""
PAINTED = "new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@dataclass
class Burst:
    values: list[bytes]
    newest: dict[str, str]
    """key -> request_id of the newest result of that key in the burst."""


def burst(round_: int, results: int, developers: int, repositories: int) -> Burst:
    """`results` envelopes over developers x KINDS and repositories' team health, times increasing."""
    rng = random.Random(round_)
    keys = [(f"dev{d:04d}", kind) for d in range(developers) for kind in KINDS]
    keys += [(f"org{r:02d}/repo", T.TEAM_HEALTH) for r in range(repositories)]
    values: list[bytes] = []
    newest: dict[str, tuple[float, str]] = {}
    for n in range(results):
        subject, kind = keys[n % len(keys)]
        at = s.later(round_ * 10_000 + n / 10)
        envelope = s.envelope(kind, subject, result_of(kind, rng.random()), at, tag=f"{round_}")
        values.append(envelope_json(envelope))
        newest[f"{kind.value}|{subject}"] = (at.timestamp(), envelope.request_id)
    return Burst(values, {key: rid for key, (_, rid) in newest.items()})


def result_of(kind: T, score: float) -> Any:
    makers = {
        T.ATTRITION_RISK: lambda: s.attrition(score),
        T.BURNOUT_RISK: lambda: s.burnout(score),
        T.PERFORMANCE_TRAJECTORY: lambda: s.performance(score),
        T.SOFT_SKILLS: s.soft_skills,
        T.SKILL_EXTRACTION: s.skills,
        T.TEAM_HEALTH: lambda: s.team_health(score),
    }
    return makers[kind]()


async def produce_all(servers: str, topic: str, values: list[bytes]) -> float:
    """Send every value (keyed by its position, so all partitions fill); seconds until all acked."""
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5, acks=1, max_batch_size=262_144)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value, key=str(n).encode()) for n, value in enumerate(values)]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Sampler:
    pid: int
    peak: float = 0.0
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb(self.pid))
            await asyncio.sleep(0.05)

    def start(self) -> None:
        self.peak = rss_mb(self.pid)
        self.task = asyncio.create_task(self.run())

    async def stop(self) -> float:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        return self.peak


@dataclass
class SlowClient:
    """An SSE client that reads one event, then sleeps: it falls behind a burst on purpose."""

    url: str
    kinds: Counter[str] = field(default_factory=Counter)
    latest: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/api/events") as response:
            kind, data = "message", []
            async for line in _lines(response.content):
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    self.take(kind, orjson.loads("".join(data)))
                    kind, data = "message", []
                    await asyncio.sleep(SLOW_MS / 1000)

    def take(self, kind: str, payload: dict[str, Any]) -> None:
        self.kinds[kind] += 1
        if kind == "snapshot":
            self.latest = {entry["key"]: entry["request_id"] for entry in payload["entries"]}
        elif kind == "result":
            self.latest[payload["entry"]["key"]] = payload["entry"]["request_id"]

    def holds(self, newest: dict[str, str]) -> bool:
        return all(self.latest.get(key) == rid for key, rid in newest.items())


async def _lines(content: aiohttp.StreamReader) -> AsyncIterator[str]:
    """Lines of any length (a snapshot is one line of a few megabytes)."""
    pending = b""
    async for chunk in content.iter_any():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode().rstrip("\r")


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/api/stats") as response:
        found: dict[str, Any] = await response.json()
        return found


async def until(check: Any, timeout_s: float) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"not done in {timeout_s:.0f} s")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def start_dashboard(servers: str, topic: str, port: int) -> asyncio.subprocess.Process:
    environment = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "TOPIC_ANALYSIS_RESULTS": topic,
        "DASHBOARD_PORT": str(port),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "dashboard", env=environment,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    developers, repositories = args.developers, args.repositories
    broker = ApacheKafka() if args.broker == "kafka" else EmbeddedBroker()
    async with broker:
        servers = broker.bootstrap_servers
        topics = Topics(partitions=4).with_suffix(f"bench{random.randrange(1 << 30):x}")
        await ensure_topics(servers, topics)
        keys = developers * len(KINDS) + repositories
        print(f"broker {servers} ({broker.name}); {os.cpu_count()} CPUs; {keys} keys")
        seed = burst(0, args.seed, developers, repositories)
        await produce_all(servers, topics.results, seed.values)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = await start_dashboard(servers, topics.results, port)
        try:
            await until(lambda: _ready(url), 60)
            print(f"seed: {args.seed} results read; server RSS {rss_mb(server.pid):.0f} MB")
            await measure(args, servers, topics.results, url, server.pid)
        finally:
            server.terminate()
            await server.wait()


async def _ready(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def measure(args: argparse.Namespace, servers: str, topic: str, url: str, pid: int) -> None:
    browser_ok = not args.no_browser and shutil.which(CHROMIUM) is not None
    first = burst(1, args.results, args.developers, args.repositories)
    second = burst(2, args.results, args.developers, args.repositories)
    slow = SlowClient(url)
    slow.task = asyncio.create_task(slow.run())
    sampler = Sampler(pid)
    if browser_ok:
        from playwright.async_api import async_playwright  # noqa: PLC0415

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 1400, "height": 950})
            await page.add_init_script(LONG_TASKS)
            await page.goto(f"{url}/?view=people")
            await page.wait_for_function("() => S.entries.size > 0")
            await page.evaluate("() => { window.__long = []; }")
            sampler.start()
            sent_s, shown_s = await _burst_into_page(servers, topic, first, page)
            long_tasks = await page.evaluate("() => window.__long")
            await browser.close()
    else:
        sampler.start()
        sent_s = await produce_all(servers, topic, first.values)
        shown_s, long_tasks = float("nan"), []
    settled_s = await until(lambda: _read_all(url, args.seed + args.results), 120)
    slow_s = await until(lambda: _holds(slow, first.newest), 120)
    peak = await sampler.stop()
    after_first = rss_mb(pid)
    counted = await stats(url)
    await produce_all(servers, topic, second.values)
    await until(lambda: _read_all(url, args.seed + 2 * args.results), 120)
    after_second, high_water = rss_mb(pid), rss_mb(pid, "VmHWM")
    slow.task.cancel()
    report(args, sent_s, shown_s, settled_s, slow_s, long_tasks, peak, after_first, after_second, high_water,
           counted, slow)  # fmt: skip


async def _burst_into_page(servers: str, topic: str, round_: Burst, page: Any) -> tuple[float, float]:
    started = time.perf_counter()
    sent_s = await produce_all(servers, topic, round_.values)
    await page.wait_for_function(HOLDS_ALL, arg=list(round_.newest.items()), polling=50, timeout=120_000)
    await page.evaluate(PAINTED)
    return sent_s, time.perf_counter() - started


async def _read_all(url: str, records: int) -> bool:
    counted = await stats(url)
    return bool(counted["view"].get("records", 0) >= records)


async def _holds(slow: SlowClient, newest: dict[str, str]) -> bool:
    return slow.holds(newest)


def report(
    args: argparse.Namespace,
    sent_s: float,
    shown_s: float,
    settled_s: float,
    slow_s: float,
    long_tasks: list[float],
    peak: float,
    after_first: float,
    after_second: float,
    high_water: float,
    counted: dict[str, Any],
    slow: SlowClient,
) -> None:
    events = counted["events"]
    blocking = sum(max(0.0, d - 50) for d in long_tasks)
    print(f"\nburst of {args.results} results over {counted['keys']} keys")
    print(f"  produced (all acked)              {sent_s:6.2f} s")
    print(f"  page holds and painted all        {shown_s:6.2f} s after the first record was sent")
    print(f"  server read all, after the page   +{settled_s:5.2f} s")
    longest = max(long_tasks, default=0)
    print(
        f"  page long tasks                   {len(long_tasks)} (longest {longest:.0f} ms, "
        f"blocking {blocking:.0f} ms in all)"
    )
    print(f"  server RSS                        peak {peak:.0f} MB, after {after_first:.0f} MB")
    print(f"  after a second burst, same keys   {after_second:.0f} MB (high-water mark {high_water:.0f} MB)")
    print(
        f"  events published {events.get('published', 0)}, sent {events.get('sent', 0)}, "
        f"coalesced {events.get('coalesced', 0)}, dropped for a snapshot {events.get('dropped', 0)}, "
        f"snapshots {events.get('snapshots', 0)} ({events.get('overflows', 0)} overflows)"
    )
    print(
        f"  slow client ({SLOW_MS:.0f} ms an event): {dict(slow.kinds)}; newest of every key "
        f"{slow_s:.2f} s after the page"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=int, default=10_000, help="results in the burst (default 10000)")
    parser.add_argument("--seed", type=int, default=1_000, help="results on the topic before the start")
    parser.add_argument("--developers", type=int, default=400)
    parser.add_argument("--repositories", type=int, default=50)
    parser.add_argument("--broker", choices=("tansu", "kafka"), default="tansu")
    parser.add_argument("--no-browser", action="store_true", help="without the page (no Chromium needed)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
