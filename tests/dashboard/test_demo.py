"""`aexy-stream demo --stay`: the dashboard runs beside the pipeline, its URL printed, and stays up
after the run until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.test_demo import AUTHOR, broker_of, closed_port_url, gone, make_repo, read_until, start_demo

pytestmark = pytest.mark.slow


async def test_the_demo_serves_the_dashboard_and_stays_until_ctrl_c(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=2)
    port = free_port()
    process = await start_demo(
        tmp_path, "--short", "--stay", "--repo", str(repo),
        OLLAMA_BASE_URL=closed_port_url(), DASHBOARD_PORT=str(port),
    )  # fmt: skip
    lines: list[str] = []
    try:
        announced = await read_until(process, "dashboard: ", lines)
        assert announced.startswith(f"dashboard: http://127.0.0.1:{port}/ ")
        await read_until(process, "summary: done in", lines)
        staying = await read_until(process, "the dashboard stays at", lines)
        url = re.search(r"http://\S+/", staying)
        assert url is not None
        async with httpx.AsyncClient(base_url=url[0]) as http:
            assert (await http.get("/readyz")).status_code == 200
            state = (await http.get("/api/state")).json()
            page = await http.get("/")
        assert page.status_code == 200 and "app.js" in page.text
        types = {entry["type"] for entry in state["entries"] if entry["subject"] == AUTHOR}
        assert {"code_quality", "code_complexity", "skill_extraction"} <= types
        assert process.returncode is None  # still up after the run
    finally:
        with contextlib.suppress(ProcessLookupError):  # it ended by itself: its output says why
            process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines += out.decode().splitlines()
    assert process.returncode == 0, err.decode()
    assert gone(*broker_of(lines))
