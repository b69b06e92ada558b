"""The embedded Tansu broker, topic creation, and the `broker` / `topics create` subcommands."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import aexy_dev.broker.process as broker_module
from aexy_dev.broker.tansu import BrokerStartError, EmbeddedBroker
from consumers.config import Topics
from consumers.topics import admin_client, ensure_topics, wait_for_topics
from tests.conftest import free_port
from tests.plugins.kafka import consume_all, produce, unique_topics


@pytest.fixture(scope="module")
def broker() -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker() as running:
        yield running


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def accepts_connections(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def topic_partitions(bootstrap_servers: str) -> dict[str, int]:
    async with admin_client(bootstrap_servers) as admin:
        described: list[dict[str, Any]] = await admin.describe_topics(None)
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


# -- the broker process ---------------------------------------------------------------------------------


async def test_round_trip_keeps_key_and_headers(broker: EmbeddedBroker) -> None:
    topics = unique_topics()
    await ensure_topics(broker.bootstrap_servers, topics)
    headers = [("event-type", b"push"), ("trace", b"\x00\x01")]
    sent = await produce(
        broker.bootstrap_servers, topics.activity, [b"one", b"two", b"three"], b"repo-1", headers
    )

    records = await consume_all(broker.bootstrap_servers, topics.activity, 3, timeout_s=10)

    assert broker.bootstrap_servers == f"127.0.0.1:{broker.port}"
    assert [r.value for r in records] == [b"one", b"two", b"three"]  # one key: one partition, in order
    assert {r.partition for r in records} == {sent[0].partition}
    assert all(r.key == b"repo-1" and list(r.headers) == headers for r in records)


async def test_two_brokers_run_side_by_side(broker: EmbeddedBroker) -> None:
    topics = unique_topics()
    with EmbeddedBroker() as other:
        await ensure_topics(other.bootstrap_servers, topics)
        assert other.port != broker.port and other.pid != broker.pid
        assert topics.dlq in await topic_partitions(other.bootstrap_servers)
        assert topics.dlq not in await topic_partitions(broker.bootstrap_servers)


def test_stop_leaves_no_process_port_or_log() -> None:
    started = EmbeddedBroker().start()
    pid, port, log_path = started.pid, started.port, started.log_path
    assert log_path is not None and log_path.exists()
    assert process_exists(pid) and accepts_connections(port)

    started.stop()
    started.stop()  # idempotent

    assert not started.running and not process_exists(pid)
    assert not accepts_connections(port)
    assert not log_path.exists()


def test_a_taken_port_is_refused_at_once(broker: EmbeddedBroker) -> None:
    began = time.monotonic()
    with pytest.raises(BrokerStartError, match=f"port {broker.port} on 127.0.0.1 is already in use"):
        EmbeddedBroker(broker.port).start()
    assert time.monotonic() - began < 1


def test_a_broker_dying_at_start_reports_its_log(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """If another listener wins the race for the port, Tansu exits: the error shows why, nothing is left."""
    launched = record_launches(monkeypatch)
    monkeypatch.setattr(broker_module, "_port_is_free", lambda host, port: True)
    log = tmp_path / "tansu.log"

    with pytest.raises(BrokerStartError, match=r"(?s)exited with code \d+ before serving.*Address in use"):
        EmbeddedBroker(broker.port, startup_timeout_s=5, log_path=log).start()

    assert len(launched) == 1 and launched[0].poll() is not None
    assert "AddrInUse" in log.read_text()  # a given log is kept


def test_an_automatic_port_lost_to_a_race_is_replaced(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    launched = record_launches(monkeypatch)
    ports = iter([broker.port, free_port()])
    monkeypatch.setattr(broker_module, "_pick_free_port", lambda host: next(ports))
    monkeypatch.setattr(broker_module, "_port_is_free", lambda host, port: True)

    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as replacement:
        assert replacement.port != broker.port and replacement.running
    assert len(launched) == 2 and all(process.poll() is not None for process in launched)


def test_a_missing_binary_is_a_start_error() -> None:
    with pytest.raises(BrokerStartError, match=r"cannot run the Tansu broker \(/nonexistent/tansu\)"):
        EmbeddedBroker(binary="/nonexistent/tansu").start()


def record_launches(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen[bytes]]:
    launched: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def recording(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        launched.append(popen(*args, **kwargs))
        return launched[-1]

    monkeypatch.setattr(subprocess, "Popen", recording)
    return launched


async def test_async_context_manager_starts_and_stops() -> None:
    async with EmbeddedBroker() as running:
        pid = running.pid
        assert await topic_partitions(running.bootstrap_servers) == {}
    assert not process_exists(pid)


# -- topics ---------------------------------------------------------------------------------------------


async def test_ensure_topics_creates_the_six_topics_once(broker: EmbeddedBroker) -> None:
    topics = unique_topics(partitions=3)

    created = await ensure_topics(broker.bootstrap_servers, topics)
    again = await ensure_topics(broker.bootstrap_servers, topics)

    assert created == list(topics.all) and len(created) == 8
    assert again == []
    await wait_for_topics(broker.bootstrap_servers, topics.all, timeout_s=5)
    partitions = await topic_partitions(broker.bootstrap_servers)
    assert {name: partitions[name] for name in topics.all} == dict.fromkeys(topics.all, 3)


async def test_concurrent_ensure_topics_create_each_topic_once(broker: EmbeddedBroker) -> None:
    topics = unique_topics()

    first, second = await asyncio.gather(
        ensure_topics(broker.bootstrap_servers, topics), ensure_topics(broker.bootstrap_servers, topics)
    )

    assert sorted(first + second) == sorted(topics.all)


# -- the subcommands ------------------------------------------------------------------------------------


async def aexy_stream(*args: str) -> asyncio.subprocess.Process:
    """`aexy-stream ARGS...` as users run it."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def finish(process: asyncio.subprocess.Process, timeout_s: float = 20) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), timeout=timeout_s)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_broker_command_warns_it_is_in_memory_and_stops_on_a_signal(stop_signal: int) -> None:
    port = free_port()
    process = await aexy_stream("broker", "--port", str(port))
    try:
        assert process.stdout is not None
        first_line = (await asyncio.wait_for(process.stdout.readline(), timeout=15)).decode()
        assert f"listening on 127.0.0.1:{port}" in first_line
        assert "IN-MEMORY" in first_line and "lost when it stops" in first_line
        assert await topic_partitions(f"127.0.0.1:{port}") == {}  # it really serves Kafka
    finally:
        process.send_signal(stop_signal)
        code, _, err = await finish(process)

    assert code == 0, err
    assert err == ""
    assert not accepts_connections(port)  # the Tansu child went with it


def children_of(pid: int) -> list[int]:
    """The pids of the live processes whose parent is `pid` (from /proc/PID/stat)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            if int(parent) == pid and state != "Z":
                found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether `pid` exists and is no zombie (a killed orphan waits to be reaped by its new parent)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal and /proc are Linux's")
def test_a_killed_broker_command_takes_tansu_with_it() -> None:
    """SIGKILL runs no handler and no finalizer: the kernel stops Tansu (PR_SET_PDEATHSIG)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    command = [sys.executable, "-m", "aexy_stream.cli.main", "broker", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env) as process:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline().decode()
        (tansu,) = children_of(process.pid)
        assert accepts_connections(port)

        process.kill()
        process.wait()
        deadline = time.monotonic() + 5
        while (running(tansu) or accepts_connections(port)) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert not running(tansu)
    assert not accepts_connections(port)


async def test_broker_command_on_a_taken_port_exits_1_with_one_line(broker: EmbeddedBroker) -> None:
    code, out, err = await finish(await aexy_stream("broker", "--port", str(broker.port)))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"aexy-stream: port {broker.port} on 127.0.0.1 is already in use"]


async def test_topics_create_reports_created_then_existing(broker: EmbeddedBroker) -> None:
    command = ("topics", "create", "--bootstrap-servers", broker.bootstrap_servers)
    first = await finish(await aexy_stream(*command, "--partitions", "2"))
    second = await finish(await aexy_stream(*command))

    assert first[0] == 0, first[2]
    assert "github.activity: created (2 partitions)" in first[1].splitlines()
    assert len(first[1].splitlines()) == 8
    assert second[0] == 0, second[2]
    assert second[1].splitlines() == [f"{name}: already existed" for name in Topics().all]


async def test_topics_create_against_a_closed_port_exits_1_with_one_line() -> None:
    port = free_port()
    code, out, err = await finish(
        await aexy_stream("topics", "create", "--bootstrap-servers", f"127.0.0.1:{port}")
    )
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"aexy-stream: cannot reach a Kafka broker at 127.0.0.1:{port} within 10 s"]


async def test_topics_create_rejects_a_malformed_address() -> None:
    code, out, err = await finish(await aexy_stream("topics", "create", "--bootstrap-servers", "kafka:abc"))
    assert (code, out) == (2, "")
    assert "expected HOST:PORT[,HOST:PORT...], not 'kafka:abc'" in err and "Traceback" not in err
