"""`CLAUDE_BATCH_BACKFILL` through the whole processor: backfill-lane commits become Message Batches.

The gateway is wired by the composition root from settings (as in production) against the
Anthropic simulator. Each commit asks for three analyses; the simulator refuses every code-quality
request of a batch (a final 400, dead-lettered at once) and overloads one skill extraction (a
retryable 529, parked on the retry topic, then answered in a later batch).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from aexy_stream.compose import gateway_parts
from aexy_stream.settings import Settings
from consumers import headers as h
from consumers.config import Topics
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from tests.pipeline.harness import commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce

COMMITS = 2


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic", batch_delay_ms=100)) as handle:
        yield handle


def batching_gateway(sim: SimulatorHandle) -> Gateway:
    settings = Settings(
        _env_file=None,
        llm_provider="claude",
        llm_fallback_providers=(),
        anthropic_api_key="sk-ant-test-pipeline",
        anthropic_base_url=sim.base_url,
        claude_batch_backfill=True,
        claude_batch_max_wait_s=0.2,
        claude_batch_poll_s=0.05,
        llm_max_retries=0,  # every retryable failure goes through the retry topic
    )
    return Gateway(**gateway_parts(settings, None, metrics=GatewayMetrics(CollectorRegistry())))


def headers_of(record: Any) -> dict[str, str]:
    return h.as_dict(getattr(record, "headers", None))


async def test_backfill_commits_are_analyzed_in_batches_and_failures_follow_the_retry_rules(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.add_rules(  # the second rule refuses the commit's fused call: its analyses are then sent alone
        {"match": "CodeQualityResult", "kind": "bad_request"}, {"part": "code_quality", "kind": "bad_request"}
    )
    sim.script({"match": "SkillExtractionResult", "kind": "overloaded"})
    commits = [commit_event(repository="octo/old", sha=f"{n:040x}") for n in range(COMMITS)]
    await produce(kafka.bootstrap_servers, topics.backfill_code_changes, commits, key=b"octo/old")
    gateway = batching_gateway(sim)
    config = processor_config(kafka.bootstrap_servers, topics, retry_backoff_base_s=0.1)
    try:
        async with running(config, gateway):
            results = await consume_all(kafka.bootstrap_servers, topics.results, 2 * COMMITS, timeout_s=15)
            dead = await consume_all(kafka.bootstrap_servers, topics.dlq, COMMITS, timeout_s=5)
            parked = await consume_all(kafka.bootstrap_servers, topics.retry, 1, timeout_s=5)
    finally:
        await gateway.aclose()
    envelopes = [orjson.loads(record.value) for record in results]
    kinds = sorted(e["analysis_type"] for e in envelopes)
    assert kinds == sorted(["code_complexity", "skill_extraction"] * COMMITS)
    assert {e["source"]["topic"] for e in envelopes} == {topics.backfill_code_changes}
    assert all(e["provider"] == "claude" for e in envelopes)
    stats = sim.stats()
    assert stats["completions"] == 0  # no direct Messages call: every backfill request was batched
    assert stats["batches"]["created"] >= 2  # the overloaded request was answered in a later batch
    assert [headers_of(r)[h.ERROR_TYPE] for r in parked] == ["Overloaded"]
    for record in dead:
        meta = headers_of(record)
        assert (meta[h.ERROR_TYPE], meta[h.ATTEMPTS]) == ("BadRequest", "1")  # final: never retried
        assert meta["x-analysis-type"] == "code_quality"
        assert meta[h.ORIGINAL_TOPIC] == topics.backfill_code_changes
