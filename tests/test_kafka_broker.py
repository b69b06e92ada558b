"""Apache Kafka itself, as `aexy_dev.broker.kafka` starts it and as `aexy-stream broker` runs it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from aexy_dev.broker.kafka import ApacheKafka, KafkaUnavailableError, _cluster_id, classpath, java
from consumers.topics import ensure_topics
from tests.conftest import free_port
from tests.plugins.kafka import KafkaBroker, consume_all, produce, topic_environment, unique_topics
from tests.test_broker import accepts_connections, aexy_stream, finish

needs_java_and_maven = pytest.mark.skipif(
    shutil.which("java") is None or shutil.which("mvn") is None, reason="needs Java and Maven"
)


def test_without_java_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(KafkaUnavailableError, match=r"needs Java 17 or newer.*apt-get install openjdk-17"):
        java()
    with pytest.raises(KafkaUnavailableError, match="needs Java"):
        ApacheKafka().start()


def test_without_maven_and_jars_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AEXY_KAFKA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        KafkaUnavailableError, match=r"fetched once from Maven Central.*apt-get install maven"
    ):
        classpath("4.1.1")


@pytest.mark.slow  # two Apache Kafka JVMs started one after the other
@needs_java_and_maven
async def test_a_broker_killed_outright_restarts_on_its_data_dir_with_its_records(tmp_path: Path) -> None:
    """kill -9 (nothing flushed cleanly), then a new broker on the same folder and port: records kept."""
    data = tmp_path / "kafka"
    topics = unique_topics(partitions=1)
    first = await asyncio.to_thread(ApacheKafka(data_dir=data).start)
    port = first.port
    try:
        await ensure_topics(first.bootstrap_servers, topics)
        await produce(first.bootstrap_servers, topics.activity, [b"one", b"two"])
    finally:
        await asyncio.to_thread(first.kill)
    assert not accepts_connections(port)

    async with ApacheKafka(port, data_dir=data) as second:
        records = await consume_all(second.bootstrap_servers, topics.activity, 2, timeout_s=30)
    assert [record.value for record in records] == [b"one", b"two"]
    assert (data / "logs" / "meta.properties").exists()


@pytest.mark.slow  # an Apache Kafka JVM of its own
@needs_java_and_maven
async def test_broker_command_runs_apache_kafka_says_where_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "kept"
    process = await aexy_stream("broker", "--engine", "kafka", "--port", str(port), "--data-dir", str(data))
    try:
        assert process.stdout is not None
        first_line = (await asyncio.wait_for(process.stdout.readline(), timeout=120)).decode()
        assert first_line, (await finish(process))[2]
        assert f"Apache Kafka 4.1.1 listening on 127.0.0.1:{port}" in first_line
        assert f"data kept in {data}" in first_line
        topics = unique_topics(partitions=1)
        await ensure_topics(f"127.0.0.1:{port}", topics)
        await produce(f"127.0.0.1:{port}", topics.activity, [b"kept"])
    finally:
        process.send_signal(signal.SIGTERM)
        code, _, err = await finish(process, timeout_s=60)

    assert code == 0, err
    assert not accepts_connections(port)
    assert (data / "logs" / "meta.properties").exists()


async def test_data_dir_needs_the_kafka_engine(tmp_path: Path) -> None:
    code, out, err = await finish(await aexy_stream("broker", "--data-dir", str(tmp_path)))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "aexy-stream: --data-dir needs --engine kafka (Tansu keeps everything in memory)"
    ]


@pytest.mark.slow  # the processor waits out the producer's 40 s metadata timeout before it names them
async def test_run_without_its_topics_says_which_are_missing_in_one_line(kafka: KafkaBroker) -> None:
    """Real Kafka creates no topic on demand: the processor names what to create instead of a traceback."""
    if kafka.backend == "tansu":
        pytest.skip("Tansu creates topics on demand")
    topics = unique_topics()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers, "LLM_PROVIDER": "rules", "HTTP_PORT": "0"}
    env |= topic_environment(topics)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "run",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    code, _, err = await finish(process, timeout_s=60)
    assert code == 1
    assert err.splitlines()[-1].startswith(f"aexy-stream: topics missing on {kafka.bootstrap_servers}: ")
    assert topics.code_changes in err and "aexy-stream topics create" in err


def test_cluster_ids_never_start_with_a_dash() -> None:
    """The storage tool reads `-t -abc…` as an option: one id in 64 would fail a broker's start."""
    ids = [_cluster_id() for _ in range(2000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {len(i) for i in ids} == {22} and len(set(ids)) == len(ids)
