"""The reader on a real broker: from the beginning, without a group, ready once caught up, merges
followed, live results after that; a missing topic is said, and retried."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.server import serving
from consumers import headers as h
from consumers.config import Topics
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s
from tests.plugins.kafka import KafkaBroker, produce

MERGE_HEADERS = [(h.RECORD_TYPE, b"identity_merged")]


async def eventually(check: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Polls the board, which the reader task changes (it has no event to wait on)."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_reads_from_the_beginning_folds_merges_is_ready_then_follows(
    kafka: KafkaBroker, topics: Topics
) -> None:
    servers = kafka.bootstrap_servers
    await produce(
        servers, topics.results, [s.value(T.ATTRITION_RISK, "mona@old.example", s.attrition(0.8))], key=b"x"
    )
    await produce(
        servers, topics.results, [s.value(T.ATTRITION_RISK, "mona", s.attrition(0.3), s.later(1))], key=b"y"
    )
    await produce(
        servers, topics.results, [s.merge("mona", "mona@old.example")], key=b"mona", headers=MERGE_HEADERS
    )
    await produce(
        servers, topics.results, [s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.6))], key=b"z"
    )
    board = Board(DashboardConfig(bootstrap_servers=servers, topic=topics.results, port=0))
    async with serving(board) as port, aiohttp.ClientSession() as http:
        await eventually(lambda: board.status.ready)
        assert (board.status.read, board.status.error) == (4, "")
        assert board.status.to_read >= 3  # Tansu may report a partition's end a batch short
        assert (await http.get(f"http://127.0.0.1:{port}/readyz")).status == 200
        state = await (await http.get(f"http://127.0.0.1:{port}/api/state")).json()
        assert [(p["subject"], p["attrition"]["trend"]) for p in state["people"]] == [("mona", [0.8, 0.3])]
        assert [t["repository"] for t in state["teams"]] == ["libuv/libuv"]
        await produce(servers, topics.results, [s.value(T.BURNOUT_RISK, "mona", s.burnout(0.5))], key=b"mona")
        await eventually(lambda: board.view.of("mona", T.BURNOUT_RISK) is not None)


async def test_a_missing_topic_is_said_on_the_page_and_retried(kafka: KafkaBroker) -> None:
    config = DashboardConfig(bootstrap_servers=kafka.bootstrap_servers, topic="no.such.topic.x1", port=0)
    board = Board(config)
    async with serving(board) as port, aiohttp.ClientSession() as http:
        await eventually(lambda: board.status.error != "")
        ready = await http.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status == 503
        assert (await ready.json())["error"].startswith("the broker has no topic no.such.topic.x1")
