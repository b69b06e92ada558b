"""`aexy-stream replay --since TIME`: re-run the analysis over history already in Kafka.

The normal processor, in a consumer group of its own, as `backfill` priority, from the offsets for
`--since` (or from the start, filtered by record timestamp, where the broker cannot look offsets up
by time) to the end of each partition as it was when the replay started. Results look exactly
like live ones (same request ids); content already in the cache costs no provider call.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from dataclasses import replace
from datetime import datetime

from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry

from aexy_stream import gc_tuning
from aexy_stream.cli.backfill import UNTIL_FORMS, moment, until_moment
from aexy_stream.cli.command import with_app
from aexy_stream.cli.errors import EXIT_USAGE, fail
from aexy_stream.compose import App
from consumers.metrics import ProcessorMetrics
from consumers.processor import Processor
from consumers.replay import ReplayBounds, ReplayPlan, plan_replay
from gateway.metrics import GatewayMetrics


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "replay", help="re-run the analysis over history in Kafka (backfill priority)"
    )
    cmd.add_argument("--since", type=moment, required=True, help="ISO date or datetime (UTC if naive)")
    cmd.add_argument("--until", type=until_moment, help=f"{UNTIL_FORMS}; default: now")
    cmd.add_argument(
        "--topics", nargs="+", metavar="TOPIC", help="default: every input topic, lanes included"
    )
    cmd.add_argument("--group", help="consumer group (default: <KAFKA_GROUP_ID>-replay-<epoch seconds>)")
    cmd.set_defaults(handler=run)


@with_app
def run(args: argparse.Namespace, app: App) -> int:
    if args.until is not None and args.until < args.since:
        return fail("--until is before --since", EXIT_USAGE)
    try:
        return asyncio.run(replay(app, args))
    except (KafkaError, LookupError, OSError) as exc:
        return fail(f"replay failed: {exc}")


async def replay(app: App, args: argparse.Namespace) -> int:
    config = app.processor
    known = (*config.topics.inputs, *config.topics.lanes)
    names = tuple(args.topics or known)
    if unknown := [name for name in names if name not in known]:
        return fail(
            f"not an input topic: {', '.join(unknown)} (the inputs are {', '.join(known)})", EXIT_USAGE
        )
    plan = await plan_replay(config.bootstrap_servers, names, _ms(args.since), _until_ms(args.until))
    print(_plan_line(plan, names), flush=True)
    group = args.group or f"{config.group_id}-replay-{int(time.time())}"
    config = replace(config, group_id=group)
    registry = CollectorRegistry()
    metrics = ProcessorMetrics(registry)
    gateway = app.gateway(metrics=GatewayMetrics(registry))
    identities = app.identities(gateway.redis, metrics.activity_errors.inc)
    activity = app.activity(gateway.redis, metrics.activity_errors.inc, identities)
    bounds = ReplayBounds(plan)
    processor = Processor(
        config,
        gateway,
        metrics,
        priority="backfill",
        topics=names,
        bounds=bounds,
        activity=activity,
        identities=identities,
    )
    gc_tuning.tune()
    try:
        await processor.run(_stop_on_signals())
    finally:
        await gateway.aclose()
    print(_summary(registry, group), flush=True)
    return 0


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _until_ms(until: datetime | None) -> int | None:
    return _ms(until) if until is not None else None


def _plan_line(plan: ReplayPlan, names: tuple[str, ...]) -> str:
    where = ", ".join(names)
    if plan.by_time:
        return f"replay: {plan.records} records of {where} from the offsets for --since"
    return (
        f"replay: this broker cannot look offsets up by time (checked); reading all {plan.records} records"
        f" of {where} from the start and keeping those with a timestamp in range"
    )


def _summary(registry: CollectorRegistry, group: str) -> str:
    def total(name: str, **labels: str) -> int:
        return sum(
            int(sample.value)
            for family in registry.collect()
            for sample in family.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    read = total("aexy_stream_events_in_total")
    passed = total("aexy_stream_events_skipped_total", reason="out_of_range")
    results = total("aexy_stream_events_out_total", topic="results")
    calls = total("aexy_llm_requests_total") - total("aexy_llm_requests_total", outcome="cache_hit")
    parked, dead = total("aexy_stream_retries_total"), total("aexy_stream_dead_letters_total")
    return (
        f"replay done (group {group}): {read} records analyzed, {passed} out of range,"
        f" {results} results, {calls} provider calls, {parked} parked for retry, {dead} dead-lettered"
    )
