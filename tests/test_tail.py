"""`aexy-stream tail`: a subprocess following a real topic on the test broker."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from consumers.config import Topics
from tests.conftest import free_port
from tests.plugins.kafka import KafkaBroker, produce

pytestmark = pytest.mark.slow
CODE = "import flask\n\ndef index(x):\n    if x:\n        return 1\n    return 2\n"


async def cli(*args: str, stdin: str = "", cwd: Path, **env: str) -> tuple[int, str, str]:
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")} | env
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", *args, cwd=cwd, env=environment,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_tail_prints_results_as_rows_and_other_records_with_their_place(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    analyze = ("analyze", "skill_extraction", "-", "--subject", "mona", "--provider", "rules")
    code, envelope, err = await cli(*analyze, stdin=CODE, cwd=tmp_path)
    assert code == 0, err
    await produce(kafka.bootstrap_servers, topics.results, [envelope.encode()], key=b"mona")
    await produce(kafka.bootstrap_servers, topics.results, [b"not json"], key=b"k", headers=[("h", b"v")])

    code, out, err = await cli(
        "tail", topics.results, "--from-beginning", "--max", "2",
        cwd=tmp_path, KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap_servers,
    )  # fmt: skip

    assert code == 0, err
    assert f"following {topics.results}" in err and "from the beginning" in err
    other, row = sorted(out.splitlines(), key=lambda line: line.startswith("mona"))  # two partitions
    assert row.startswith("mona | skill_extraction | language python, frameworks ")
    assert "flask" in row.lower() and "| rules | cache miss |" in row
    assert other.startswith(f"{topics.results}[") and "key=k h=v value=not json" in other


async def test_tail_without_a_broker_is_one_line_and_exit_1(tmp_path: Path) -> None:
    servers = f"127.0.0.1:{free_port()}"
    code, out, err = await cli("tail", cwd=tmp_path, KAFKA_BOOTSTRAP_SERVERS=servers)
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [f"aexy-stream: cannot reach a Kafka broker at {servers}"]


async def test_tail_into_a_reader_that_stops_early_exits_quietly(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    """`aexy-stream tail | head -1`: the reader goes away; no traceback, the shell's SIGPIPE status."""
    await produce(kafka.bootstrap_servers, topics.results, [b"x" * 2000] * 400, key=b"k")
    environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "tail", topics.results, "--from-beginning",
        cwd=tmp_path, env=environment | {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers},
        stdout=write_end, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = await asyncio.wait_for(asyncio.to_thread(reader.readline), timeout=60)
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)

    assert first.startswith(f"{topics.results}[".encode())
    assert (process.returncode, err.decode().count("Traceback"), err.decode().count("BrokenPipe")) == (
        141,
        0,
        0,
    ), err.decode()
