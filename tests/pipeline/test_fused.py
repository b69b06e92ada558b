"""A commit part's three code analyses as one fused provider call, through the real processor and broker."""

from __future__ import annotations

from collections import defaultdict

import orjson

from aexy_dev.simulator import SimulatorHandle
from consumers import headers as h
from consumers.config import RoutingConfig, Topics
from consumers.decode import retried_requests
from consumers.dlq import replay
from consumers.routing import route_code_change
from schemas.events import parse_code_change
from schemas.request import AnalysisRequest
from schemas.retry import RETRY_GROUP, RetryGroup
from schemas.types import AnalysisType
from tests.pipeline.harness import claude_gateway, commit_event, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce, records_in

CODE_ANALYSES = {"skill_extraction", "code_quality", "code_complexity"}


async def test_each_commit_part_takes_one_provider_call_for_its_three_results(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    commits = [commit_event(sha=f"{i:040x}") for i in range(3)]
    await produce(kafka.bootstrap_servers, topics.code_changes, commits, key=b"octo/app")
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        records = await consume_all(kafka.bootstrap_servers, topics.results, 9, timeout_s=30)
    await gateway.aclose()
    envelopes = [orjson.loads(record.value) for record in records]
    by_commit: defaultdict[int, list[str]] = defaultdict(list)
    for envelope in envelopes:
        by_commit[envelope["source"]["offset"]].append(envelope["analysis_type"])
    assert len(by_commit) == 3
    assert all(sorted(kinds) == sorted(CODE_ANALYSES) for kinds in by_commit.values())
    assert len({envelope["request_id"] for envelope in envelopes}) == 9
    assert sim.stats()["completions"] == 3  # one call per commit part
    assert sim.stats()["by_schema"] == {"FusedAnalysis": 3}
    assert await records_in(kafka.bootstrap_servers, topics.dlq) == []


async def test_with_fusing_off_each_analysis_takes_its_own_call(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit_event()], key=b"octo/app")
    gateway = claude_gateway(sim)
    config = processor_config(
        kafka.bootstrap_servers, topics, routing=RoutingConfig(fuse_code_analyses=False)
    )
    async with running(config, gateway):
        records = await consume_all(kafka.bootstrap_servers, topics.results, 3, timeout_s=30)
    await gateway.aclose()
    assert {orjson.loads(record.value)["analysis_type"] for record in records} == CODE_ANALYSES
    assert sim.stats()["completions"] == 3
    assert "FusedAnalysis" not in sim.stats()["by_schema"]


async def test_a_part_invalid_after_repair_is_dead_lettered_alone_and_the_others_publish(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.script({"kind": "invalid_output"}, {"kind": "invalid_output"})  # code_quality, twice
    await produce(kafka.bootstrap_servers, topics.code_changes, [commit_event()], key=b"octo/app")
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        records = await consume_all(kafka.bootstrap_servers, topics.results, 2, timeout_s=30)
        (dead,) = await consume_all(kafka.bootstrap_servers, topics.dlq, 1, timeout_s=30)
    await gateway.aclose()
    kinds = {orjson.loads(record.value)["analysis_type"] for record in records}
    assert kinds == CODE_ANALYSES - {"code_quality"}
    meta = h.as_dict(dead.headers)
    assert (meta["x-analysis-type"], meta[h.ERROR_TYPE]) == ("code_quality", "InvalidOutput")
    assert sim.stats()["completions"] == 2  # the fused call and the repair of its one invalid part


def code_requests(event: bytes) -> list[AnalysisRequest]:
    return list(route_code_change(parse_code_change(event), RoutingConfig()).requests)


async def test_a_fused_call_failed_as_a_whole_is_retried_as_one_call(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.script({"kind": "overloaded"})  # the first call only
    event = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [event], key=b"octo/app")
    gateway = claude_gateway(sim, max_retries=0)  # the failure goes to the retry topic at once
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        records = await consume_all(kafka.bootstrap_servers, topics.results, 3, timeout_s=30)
    await gateway.aclose()
    expected = {request.request_id for request in code_requests(event)}
    assert {orjson.loads(record.value)["request_id"] for record in records} == expected
    (retry,) = await records_in(kafka.bootstrap_servers, topics.retry)  # one record for the group
    meta = h.as_dict(retry.headers)
    assert (meta[h.RECORD_TYPE], meta[h.ATTEMPT], meta[h.ERROR_TYPE]) == (RETRY_GROUP, "1", "Overloaded")
    assert {request.request_id for request in retried_requests(retry.value, meta)} == expected
    stats = sim.stats()
    assert (stats["completions"], stats["by_schema"]) == (2, {"FusedAnalysis": 2})  # failed, then retried
    assert stats["by_status"] == {"200": 1, "529": 1}
    assert await records_in(kafka.bootstrap_servers, topics.dlq) == []


async def test_a_group_failing_finally_on_its_retry_dead_letters_each_request_replayable_alone(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    sim.script({"kind": "overloaded"}, {"kind": "auth"})  # then a final error on the group's retry
    event = commit_event()
    await produce(kafka.bootstrap_servers, topics.code_changes, [event], key=b"octo/app")
    gateway = claude_gateway(sim, max_retries=0)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        dead = await consume_all(kafka.bootstrap_servers, topics.dlq, 3, timeout_s=30)
    await gateway.aclose()
    by_type = {h.as_dict(record.headers)["x-analysis-type"]: record for record in dead}
    assert set(by_type) == CODE_ANALYSES
    for kind, record in by_type.items():
        meta = h.as_dict(record.headers)
        request = AnalysisRequest.model_validate_json(record.value)  # the request alone, not the group
        assert (request.analysis_type.value, meta["x-request-id"]) == (kind, request.request_id)
        assert (meta[h.ERROR_TYPE], meta[h.ATTEMPTS]) == ("AuthError", "2")
        assert (meta[h.ORIGINAL_TOPIC], meta[h.REPLAY_TOPIC]) == (topics.code_changes, topics.requests)
    assert sim.stats()["by_schema"] == {"FusedAnalysis": 2}
    assert await replay(kafka.bootstrap_servers, topics.dlq) == 3  # `aexy-stream dlq replay`
    replayed = await consume_all(kafka.bootstrap_servers, topics.requests, 3, timeout_s=10)
    assert {
        AnalysisRequest.model_validate_json(r.value).analysis_type.value for r in replayed
    } == CODE_ANALYSES


async def test_retry_records_of_both_forms_are_processed_a_group_as_one_fused_call(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle
) -> None:
    group = code_requests(commit_event())
    single = AnalysisRequest(
        analysis_type=AnalysisType.TASK_SIGNALS, content="Fix the flaky test", request_id="old"
    )
    due = [(h.ATTEMPT, b"1"), (h.DUE_AT, b"0"), (h.ORIGINAL_TOPIC, topics.code_changes.encode())]
    value = RetryGroup(requests=tuple(group)).model_dump_json().encode()
    await produce(kafka.bootstrap_servers, topics.retry, [value], key=b"octo/app",
                  headers=[*due, (h.RECORD_TYPE, RETRY_GROUP.encode())])  # fmt: skip
    await produce(kafka.bootstrap_servers, topics.retry, [single.model_dump_json().encode()], key=b"octo/app",
                  headers=due)  # fmt: skip  # a single request: the original form, still read
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        records = await consume_all(kafka.bootstrap_servers, topics.results, 4, timeout_s=30)
    await gateway.aclose()
    ids = {orjson.loads(record.value)["request_id"] for record in records}
    assert ids == {request.request_id for request in group} | {"old"}
    stats = sim.stats()
    assert stats["completions"] == 2
    assert stats["by_schema"]["FusedAnalysis"] == 1
    assert await records_in(kafka.bootstrap_servers, topics.dlq) == []
