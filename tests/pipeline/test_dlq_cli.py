"""`aexy-stream dlq list|replay` against the real broker."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from aexy_dev.simulator import SimulatorHandle
from consumers.config import Topics
from tests.pipeline.harness import claude_gateway, processor_config, running
from tests.plugins.kafka import KafkaBroker, consume_all, produce


async def cli(kafka: KafkaBroker, topics: Topics, cwd: Path, *args: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "TOPIC_ANALYSIS_DLQ": topics.dlq,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "dlq", *args,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


@pytest.mark.slow  # a processor run, then three `aexy-stream` processes one after the other
async def test_list_and_replay_dead_letters(
    kafka: KafkaBroker, topics: Topics, sim: SimulatorHandle, tmp_path: Path
) -> None:
    await produce(
        kafka.bootstrap_servers,
        topics.activity,
        [b"{not json"],
        key=b"k",
        headers=[("x-github-event", b"push")],
    )
    gateway = claude_gateway(sim)
    async with running(processor_config(kafka.bootstrap_servers, topics), gateway):
        await consume_all(kafka.bootstrap_servers, topics.dlq, 1, timeout_s=20)
    await gateway.aclose()

    code, out = await cli(kafka, topics, tmp_path, "list")
    assert code == 0
    assert "MalformedEvent" in out and topics.activity in out and "1 dead letter(s)" in out

    code, out = await cli(kafka, topics, tmp_path, "replay", "--reason", "nothing-matches-this")
    assert (code, out.strip().splitlines()[-1]) == (0, "replayed 0 dead letter(s)")
    code, out = await cli(kafka, topics, tmp_path, "replay", "--reason", "malformed")  # still there
    assert (code, out.strip().splitlines()[-1]) == (0, "replayed 1 dead letter(s)")

    activity = await consume_all(kafka.bootstrap_servers, topics.activity, 2, timeout_s=10)
    assert [r.value for r in activity] == [b"{not json", b"{not json"]
    replayed = dict(activity[1].headers)
    assert replayed["x-github-event"] == b"push"  # the producer's own headers travel with it
    assert not any(name.startswith("x-dlq") for name in replayed)
