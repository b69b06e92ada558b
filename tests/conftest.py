"""Shared fixtures: real Redis (the machine's server, or a private one started here), and a provider
simulator per protocol speaking its real wire protocol."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from gateway.metrics import GatewayMetrics
from tests.corpora import LIBUV_BUNDLE

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    """A client of the real Redis server (database 15, flushed before and after each test)."""
    client = Redis.from_url(REDIS_TEST_URL, decode_responses=False)
    try:
        await client.ping()
    except OSError as exc:  # pragma: no cover - `make test` starts Redis (scripts/ensure-redis.sh)
        await client.aclose()
        pytest.fail(f"Redis is required at {REDIS_TEST_URL} ({exc}); `make test` starts one")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture
async def claude_sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as sim:
        yield sim


@pytest.fixture
async def ollama_sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="ollama")) as sim:
        yield sim


@pytest.fixture
async def openai_sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="openai")) as sim:
        yield sim


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics(CollectorRegistry())


@dataclass
class RedisServer:
    """A private redis-server process, so a test can stop and restart it."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # pragma: no cover
            pytest.fail("redis-server is not installed")
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([*args, "--dir", str(self.workdir)], stdout=subprocess.DEVNULL)
        _wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listening on {port}")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def libuv_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libuv's real history (`tests/corpora.LIBUV_BUNDLE`), cloned once per test session; read only."""
    path = tmp_path_factory.mktemp("libuv-session") / "libuv"
    subprocess.run(["git", "clone", "-q", str(LIBUV_BUNDLE), str(path)], check=True)
    return path
