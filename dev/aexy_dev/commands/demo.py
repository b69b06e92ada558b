"""`aexy-stream demo [--repo PATH] [--commits N] [--short]`: the whole pipeline in one command.

Starts the embedded broker (Tansu, in memory, on a free loopback port), creates the topics, runs
the stream processor in-process (cache in memory, or Redis with REDIS_URL; provider Claude with
ANTHROPIC_API_KEY, else Ollama if it answers at OLLAMA_BASE_URL, else `rules`), publishes the last
commits of a repository (by default the current directory; if that is none, no commits) to the live
`code.changes` topic and the bundled webhook examples to `github.activity`, and shows the results as
they arrive; the results dashboard (`aexy-stream dashboard`) runs beside it, on DASHBOARD_PORT if
that is free. It ends when every result and dead letter
the processor wrote has arrived (with --stay: on Ctrl-C after that, the dashboard still up), or on
Ctrl-C/SIGTERM, with a summary, and stops the broker. With --bootstrap-servers it runs on that broker
instead (topics of its own there, left in place).
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from rich.console import Console

from aexy_dev.broker.tansu import BrokerStartError, EmbeddedBroker
from aexy_dev.demo.feed import Commits, Feed, commit_records, example_names, example_records, read_commits
from aexy_dev.demo.provider import Candidates, ProviderChoice, choose_provider
from aexy_dev.demo.session import Outcome, Session
from aexy_dev.demo.view import view_for
from aexy_stream.cli.command import quiet_kafka, with_app
from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.cli.support import positive, stop_on_signals
from aexy_stream.compose import App
from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.server import serving
from consumers.config import ProcessorConfig, Topics
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.topics import ensure_topics
from gateway.metrics import GatewayMetrics
from producers.git import GitError
from producers.kafka import PublishError
from schemas.events import CodeChangeEvent

DEFAULT_COMMITS = 200
SHORT_COMMITS = 5
DEMO_SESSION_TIMEOUT_MS = 2000
DEMO_HEARTBEAT_MS = 300
DEMO_SHUTDOWN_GRACE_S = 3.0
DEMO_RETRY_BACKOFF_S = 2.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "demo",
        help="the whole pipeline on an embedded broker: commits and webhook examples in, results live",
        description=(__doc__ or "").split("\n\n")[1],
    )
    cmd.add_argument(
        "--repo",
        type=Path,
        help="git repository (default: the current directory; if it is none, the webhook examples only)",
    )
    cmd.add_argument(
        "--commits",
        type=positive,
        help=f"newest commits to analyze (default {DEFAULT_COMMITS}, or {SHORT_COMMITS} with --short)",
    )
    cmd.add_argument("--short", action="store_true", help="a handful of commits and webhook examples")
    cmd.add_argument(
        "--stay", action="store_true", help="after the run, keep the broker and the dashboard up until Ctrl-C"
    )
    cmd.add_argument(
        "--bootstrap-servers",
        metavar="HOST:PORT",
        help="run on this broker (say `aexy-stream broker --engine kafka`) instead of an embedded Tansu;"
        " the demo's topics there get a suffix of their own",
    )
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    quiet_kafka()
    count = args.commits or (SHORT_COMMITS if args.short else DEFAULT_COMMITS)
    servers: str | None = args.bootstrap_servers
    if servers:
        app = app.with_topic_suffix(f"demo-{uuid.uuid4().hex[:8]}")
    try:
        return asyncio.run(demo(app, args.repo, count, args.short, args.stay, servers))
    except GitError as exc:
        return fail(str(exc), EXIT_USAGE)
    except (BrokerStartError, KafkaError, PublishError, OSError, LookupError, RuntimeError) as exc:
        return fail(f"demo failed: {type(exc).__name__}: {exc}")


async def demo(
    app: App, repo: Path | None, count: int, short: bool, stay: bool = False, servers: str | None = None
) -> int:
    stop = stop_on_signals()
    console = Console(highlight=False)
    commits = await asyncio.to_thread(read_commits, repo, count, app.max_patch_bytes)
    choice = await _choose(app)
    config = app.processor
    feed = _feed(config, commits.events, short)
    for line in _intro(app.redis_url, config.topics, choice, commits, feed):
        say(console, line)
    async with _broker(servers, config.topics) as broker:
        say(console, broker.line)
        on_broker = app.with_provider(choice.name, choice.fallbacks)
        await ensure_topics(broker.servers, config.topics)
        async with _dashboard(app.dashboard, broker.servers) as url:
            say(console, f"dashboard: {url} (the results as a live page: teams, people, the feed)")
            outcome = await _run(on_broker, broker.servers, feed, console, stop)
            say(console, outcome.summary.line(len(feed.records), outcome.seconds, outcome.interrupted))
            if stay and not stop.is_set():
                say(console, f"the dashboard stays at {url} until Ctrl-C")
                await stop.wait()
    say(console, broker.end_line)
    return 0


@dataclass(slots=True)
class DemoBroker:
    """Where the demo's broker is, and what the demo says of it at its start and at its end."""

    servers: str
    line: str
    end_line: str


@asynccontextmanager
async def _broker(servers: str | None, topics: Topics) -> AsyncIterator[DemoBroker]:
    """The broker the demo runs on: the one at `servers`, left running, or an embedded Tansu."""
    if servers:
        yield DemoBroker(
            servers,
            f"broker: {servers} (yours; the demo's topics there end in {topics.results.rsplit('.', 1)[1]})",
            f"the broker at {servers} keeps running, with the demo's topics",
        )
        return
    async with EmbeddedBroker() as embedded:
        broker, pid = DemoBroker(embedded.bootstrap_servers, _broker_line(embedded), ""), embedded.pid
        yield broker
    broker.end_line = f"broker stopped (pid {pid} exited)"


async def _run(
    app: App, bootstrap_servers: str, feed: Feed, console: Console, stop: asyncio.Event
) -> Outcome:
    config = _demo_config(app.processor, bootstrap_servers)
    await ensure_topics(bootstrap_servers, config.topics)
    registry = CollectorRegistry()
    gateway = app.gateway(metrics=GatewayMetrics(registry))
    metrics = ProcessorMetrics(registry)
    identities = app.identities(gateway.redis, metrics.activity_errors.inc)
    activity = app.activity(gateway.redis, metrics.activity_errors.inc, identities)
    processor = Processor(config, gateway, metrics, activity=activity, identities=identities)
    producer = app.producer("aexy-stream-demo", linger_ms=5, bootstrap_servers=bootstrap_servers)
    session = Session(processor, registry, config.topics, producer)
    try:
        with view_for(console) as view:
            return await session.run(feed, view, stop)
    finally:
        await gateway.aclose()


async def _choose(app: App) -> ProviderChoice:
    claude, ollama = app.providers["claude"], app.providers["ollama"]
    candidates = Candidates(
        anthropic_key_set=bool(claude.api_key), ollama_base_url=ollama.base_url, ollama_model=ollama.model
    )
    async with httpx.AsyncClient() as http:
        return await choose_provider(candidates, http)


def _feed(config: ProcessorConfig, events: list[CodeChangeEvent], short: bool) -> Feed:
    commits = commit_records(events, config.topics.code_changes, config.max_event_bytes)
    examples = example_records(example_names(short), config.topics.activity)
    return Feed((*commits, *examples))


@asynccontextmanager
async def _dashboard(config: DashboardConfig, bootstrap_servers: str) -> AsyncIterator[str]:
    """The dashboard on the demo's broker, on loopback: on its port, or any free one if that is taken."""
    config = replace(config, bootstrap_servers=bootstrap_servers, host="127.0.0.1")
    async with AsyncExitStack() as stack:
        try:
            port = await stack.enter_async_context(serving(Board(config)))
        except OSError:  # the port is taken (another dashboard, another demo)
            port = await stack.enter_async_context(serving(Board(replace(config, port=0))))
        yield f"http://127.0.0.1:{port}/"


def say(console: Console, line: str) -> None:
    """One line as it is: no markup, no highlighting, no wrapping (pipes keep whole lines)."""
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _demo_config(config: ProcessorConfig, bootstrap_servers: str) -> ProcessorConfig:
    """The user's processor config on the demo's broker, in a group of its own, with short waits for a
    short run."""
    return replace(
        config,
        bootstrap_servers=bootstrap_servers,
        group_id=f"aexy-stream-demo-{uuid.uuid4().hex[:8]}",
        session_timeout_ms=DEMO_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=DEMO_HEARTBEAT_MS,
        shutdown_grace_s=min(config.shutdown_grace_s, DEMO_SHUTDOWN_GRACE_S),
        retry_backoff_base_s=min(config.retry_backoff_base_s, DEMO_RETRY_BACKOFF_S),
    )


def _intro(redis_url: str, topics: Topics, choice: ProviderChoice, commits: Commits, feed: Feed) -> list[str]:
    return [
        "aexy-stream demo: the whole pipeline on this machine (Ctrl-C to stop early)",
        choice.line(),
        _cache_line(redis_url),
        _input_line(topics, commits, feed),
    ]


def _input_line(topics: Topics, commits: Commits, feed: Feed) -> str:
    count = len(commits.events)
    topic = topics.activity
    webhooks = f"{feed.per_topic().get(topic, 0)} GitHub webhook examples on {topic}"
    if commits.unreadable:
        return (
            f"input: {webhooks} only; no commits, as git cannot read them in the current directory "
            f"({commits.unreadable}); --repo PATH names a repository"
        )
    return (
        f"input: the newest {count} commits of {commits.repository} on {topics.code_changes}"
        f" (live priority) and {webhooks}"
    )


def _cache_line(redis_url: str) -> str:
    if not redis_url:
        return "cache: in memory (set REDIS_URL to use Redis)"
    url = urlsplit(redis_url)
    return f"cache: Redis at {url.hostname}:{url.port or 6379}, memory tier in front"


def _broker_line(broker: EmbeddedBroker) -> str:
    return (
        f"broker: Tansu on {broker.bootstrap_servers}, pid {broker.pid}, IN MEMORY "
        "(topics and records are gone when the demo ends)"
    )
