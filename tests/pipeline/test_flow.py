"""Events in, exactly the routed results out: on the real broker, through the real gateway."""

from __future__ import annotations

from collections import Counter

import orjson

from aexy_dev.simulator import SimulatorHandle
from consumers.config import RoutingConfig, Topics
from consumers.routing import route_activity, route_code_change
from schemas.events import parse_activity, parse_code_change
from tests.pipeline.harness import claude_gateway, commit_event, corpus_examples, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce, records_in


async def test_every_webhook_example_and_a_commit_yield_exactly_the_routed_results(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    examples = corpus_examples()
    assert len(examples) >= 250
    expected: Counter[tuple[str, str, int, int]] = Counter()
    for event, payload in examples:
        headers = [("x-github-event", event.encode())]
        (meta,) = await produce(kafka.bootstrap_servers, topics.activity, [payload], headers=headers)
        routed = route_activity(parse_activity(payload, event, None), RoutingConfig())
        for request in routed.requests:
            expected[(request.analysis_type.value, topics.activity, meta.partition, meta.offset)] += 1
    commit = commit_event()
    (meta,) = await produce(kafka.bootstrap_servers, topics.code_changes, [commit], key=b"octo/app")
    for request in route_code_change(parse_code_change(commit), RoutingConfig()).requests:
        expected[(request.analysis_type.value, topics.code_changes, meta.partition, meta.offset)] += 1
    assert sum(expected.values()) >= 20  # the corpus really routes something

    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        records = await consume_all(
            kafka.bootstrap_servers, topics.results, sum(expected.values()), timeout_s=60
        )
    await gateway.aclose()

    results = [orjson.loads(r.value) for r in records]
    got = Counter(
        (r["analysis_type"], r["source"]["topic"], r["source"]["partition"], r["source"]["offset"])
        for r in results
    )
    assert got == expected
    assert all(r["provider"] == "claude" and r["source"]["event_id"] for r in results)
    assert all(rec.key.decode() == res["subject"] for rec, res in zip(records, results, strict=True))
    assert await records_in(kafka.bootstrap_servers, topics.dlq) == []
