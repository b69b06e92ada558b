"""What `make test` does before the suite: scripts/ensure-redis.sh gives the Redis tests a server."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
ENSURE_REDIS = ROOT / "scripts" / "ensure-redis.sh"


def ensure_redis(port: int, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": path} if path is not None else None
    return subprocess.run(
        [shutil.which("bash") or "bash", str(ENSURE_REDIS), str(port)],
        capture_output=True, text=True, env=env, timeout=30, check=False,
    )  # fmt: skip


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def started_port() -> Iterator[int]:
    """A free port; whatever server the script starts on it is stopped, and its directory removed."""
    port = free_port()
    yield port
    if listening(port):
        with Redis(port=port) as client:
            pid = int(client.info("server")["process_id"])
        signal_and_wait(pid, port)
    shutil.rmtree(f"/tmp/aexy-test-redis-{port}", ignore_errors=True)


def signal_and_wait(pid: int, port: int) -> None:
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_starts_a_loopback_server_without_persistence_when_none_answers(started_port: int) -> None:
    first = ensure_redis(started_port)
    again = ensure_redis(started_port)

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"starting redis-server on 127.0.0.1:{started_port}")
    with Redis(port=started_port, decode_responses=True) as client:
        assert client.ping()
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("dir") == {"dir": f"/tmp/aexy-test-redis-{started_port}"}
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")  # it answers: left alone


def test_without_redis_server_one_line_says_the_redis_tests_will_fail(tmp_path: Path) -> None:
    done = ensure_redis(free_port(), path=str(tmp_path))  # an empty PATH: no redis-server

    assert (done.returncode, done.stdout) == (0, "")
    (line,) = done.stderr.splitlines()
    assert "redis-server is not installed: the Redis tests will fail" in line
    assert "apt-get install redis-server" in line


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_plan(*args: str) -> list[str]:
    """The commands `make -n ARGS` would run."""
    command = ["make", "-n", *args]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    ).stdout.splitlines()


def pytest_arguments(planned: list[str]) -> list[str]:
    (line,) = [line for line in planned if " -m pytest" in line]
    return shlex.split(line.split(" -m pytest", 1)[1])


@needs_make
def test_make_test_ensures_redis_before_the_suite() -> None:
    planned = make_plan("test")

    assert "scripts/ensure-redis.sh" in planned
    pytest_line = next(i for i, line in enumerate(planned) if " -m pytest" in line)
    assert planned.index("scripts/ensure-redis.sh") < pytest_line


@needs_make
def test_make_test_leaves_the_slow_tests_to_ci_and_make_test_all() -> None:
    assert pytest_arguments(make_plan("test", "CI=")) == ["-m", "not slow"]
    assert pytest_arguments(make_plan("test", "CI=false")) == ["-m", "not slow"]
    assert pytest_arguments(make_plan("test", "CI=true")) == []
    assert pytest_arguments(make_plan("test", "CI=1")) == []
    assert pytest_arguments(make_plan("test-all", "CI=")) == []
