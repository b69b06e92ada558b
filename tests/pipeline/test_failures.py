"""Bad input and failing providers: everything ends as a result or a dead letter, nothing stalls."""

from __future__ import annotations

import time

import orjson

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers import headers as h
from consumers.config import Topics
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce, records_in


def headers_of(record: object) -> dict[str, str]:
    return h.as_dict(getattr(record, "headers", None))


async def test_malformed_records_are_dead_lettered_with_a_reason_and_processing_goes_on(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    bad = {
        b"\x00\xff not json at all": topics.activity,
        b'["valid", "json", "wrong", "shape"]': topics.code_changes,
        orjson.dumps({"analysis_type": "code_quality"}): topics.requests,  # content missing
        orjson.dumps(
            {"type": "PushEvent", "payload": "x" * 5000}
        ): topics.activity,  # over the size limit below
    }
    for value, topic in bad.items():
        await produce(kafka.bootstrap_servers, topic, [value], key=b"k1")
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit_event()], key=b"octo/app")
    gateway = claude_gateway(sim)
    config = processor_config(kafka.bootstrap_servers, topics, max_event_bytes=4096)
    async with running(config, gateway):
        results = await consume_all(kafka.bootstrap_servers, topics.results, 3, timeout_s=30)
        dead = await consume_all(kafka.bootstrap_servers, topics.dlq, len(bad), timeout_s=30)
    await gateway.aclose()
    assert len(results) == 3
    assert {record.value for record in dead} == set(bad)  # original bytes untouched
    for record in dead:
        meta = headers_of(record)
        assert record.key == b"k1"
        assert meta[h.ERROR_TYPE] == "MalformedEvent"
        assert meta[h.ORIGINAL_TOPIC] == bad[record.value]
        assert {h.ORIGINAL_PARTITION, h.ORIGINAL_OFFSET, h.ATTEMPTS, h.FIRST_FAILURE_AT} <= set(meta)
        assert meta[h.DLQ_REASON] and "\n" not in meta[h.DLQ_REASON]
    reasons = " | ".join(headers_of(r)[h.DLQ_REASON] for r in dead)
    assert "MAX_EVENT_BYTES" in reasons


async def test_a_provider_failing_30_percent_of_calls_loses_nothing(
    kafka: KafkaBroker, topics: Topics
) -> None:
    async with running_simulator(SimulatorConfig(protocol="anthropic", error_rate=0.3, seed=7)) as sim:
        commits = [commit_event(sha=f"{i:040x}") for i in range(30)]
        await produce(kafka.bootstrap_servers, topics.code_changes, commits, key=b"octo/app")
        gateway = claude_gateway(sim, max_retries=0)  # every failure goes through the retry topic
        config = processor_config(
            kafka.bootstrap_servers, topics, retry_max_attempts=10, retry_backoff_base_s=0.05
        )
        async with running(config, gateway):
            results = await consume_all(kafka.bootstrap_servers, topics.results, 90, timeout_s=60)
        await gateway.aclose()
        faults = sum(count for status, count in sim.stats()["by_status"].items() if status != "200")
    request_ids = {orjson.loads(r.value)["request_id"] for r in results}
    assert len(request_ids) == 90
    assert faults > 10  # the faults really happened
    retried = await consume_all(kafka.bootstrap_servers, topics.retry, 1, timeout_s=5)
    assert retried, "failed calls went through the retry topic"
    assert await records_in(kafka.bootstrap_servers, topics.dlq) == []


async def test_an_always_failing_type_is_dead_lettered_after_max_attempts_and_the_rest_succeeds(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.add_rules(
        {"match": "CodeQualityResult", "kind": "server_error"},
        {"part": "code_quality", "kind": "server_error"},  # the commit's fused call
    )
    commits = [commit_event(sha=f"{i:040x}") for i in range(4)]
    await produce(kafka.bootstrap_servers, topics.code_changes, commits, key=b"octo/app")
    gateway = claude_gateway(sim, max_retries=0)
    started = time.monotonic()
    async with running(processor_config(kafka.bootstrap_servers, topics, retry_max_attempts=3), gateway):
        results = await consume_all(kafka.bootstrap_servers, topics.results, 8, timeout_s=30)
        dead = await consume_all(kafka.bootstrap_servers, topics.dlq, 4, timeout_s=30)
    elapsed = time.monotonic() - started
    await gateway.aclose()
    assert {orjson.loads(r.value)["analysis_type"] for r in results} == {
        "skill_extraction",
        "code_complexity",
    }
    assert len(dead) == 4
    for record in dead:
        meta = headers_of(record)
        assert meta[h.ATTEMPTS] == "3"
        assert meta[h.ERROR_TYPE] == "ProviderUnavailable"
        assert meta["x-analysis-type"] == "code_quality"
        assert meta[h.ORIGINAL_TOPIC] == topics.code_changes  # where the request came from
        assert meta[h.REPLAY_TOPIC] == topics.requests  # the failed request alone is re-driven
        assert AnalysisRequest.model_validate_json(record.value).analysis_type is AnalysisType.CODE_QUALITY
    assert elapsed < 20  # backoffs 0.2 s and 0.4 s: due retries were not held back
    retries = [h.as_dict(r.headers) for r in await records_in(kafka.bootstrap_servers, topics.retry)]
    groups = [meta for meta in retries if meta.get(h.RECORD_TYPE) == "retry_group"]
    assert len(groups) >= 8 and {meta[h.ATTEMPT] for meta in groups} == {"1", "2"}  # failed fused calls
    calls = sim.stats()["by_schema"]  # fused on the first run and its retry, each alone on the last
    assert (calls["FusedAnalysis"], calls["CodeQualityResult"]) == (8, 4)


async def test_a_due_retry_is_not_held_back_by_a_later_one(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    """A record due in an hour sits in front of one due now, on the same retry partition."""
    later = AnalysisRequest(analysis_type=AnalysisType.TASK_SIGNALS, content="later", request_id="later")
    now = AnalysisRequest(analysis_type=AnalysisType.TASK_SIGNALS, content="now", request_id="now")
    in_an_hour = str(int((time.time() + 3600) * 1000)).encode()
    retry_headers = [(h.ATTEMPT, b"1"), (h.ORIGINAL_TOPIC, topics.requests.encode())]
    await produce(kafka.bootstrap_servers, topics.retry, [later.model_dump_json().encode()], key=b"same",
                  headers=[*retry_headers, (h.DUE_AT, in_an_hour)])  # fmt: skip
    await produce(kafka.bootstrap_servers, topics.retry, [now.model_dump_json().encode()], key=b"same",
                  headers=[*retry_headers, (h.DUE_AT, b"0")])  # fmt: skip
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        results = await consume_all(kafka.bootstrap_servers, topics.results, 1, timeout_s=20)
    await gateway.aclose()
    assert [orjson.loads(r.value)["request_id"] for r in results] == ["now"]
