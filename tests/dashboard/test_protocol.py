"""The HTTP protocol: the snapshot, the event stream (ids, resume with Last-Event-ID, a snapshot when
too far behind, coalescing, heartbeat), CSV export, and the logs."""

from __future__ import annotations

import csv
import io
import logging

import aiohttp
import pytest

from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s
from tests.dashboard.conftest import Stream, feed, served


async def test_the_snapshot_then_live_results_then_a_resume_from_the_last_event_id() -> None:
    board = Board(DashboardConfig())
    feed(board, s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.4)))
    async with served(board) as url, aiohttp.ClientSession() as http:
        snapshot = await (await http.get(f"{url}/api/state")).json()
        assert [row["repository"] for row in snapshot["teams"]] == ["libuv/libuv"]
        async with http.get(f"{url}/api/events", params={"after": snapshot["id"]}) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            stream = Stream(response)
            feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.7)))
            event = await stream.until("result")
            data = event.json()
            assert data["entry"]["subject"] == "mona" and data["people"][0]["attrition"]["score"] == 0.7
            assert data["entry"]["envelope"]["provider"] == "rules"  # the envelope as on the topic
            last = event.id
        feed(board, s.value(T.BURNOUT_RISK, "mona", s.burnout(0.2)))  # while disconnected
        feed(board, s.value(T.PERFORMANCE_TRAJECTORY, "lin", s.performance(0.5)))
        async with http.get(f"{url}/api/events", headers={"Last-Event-ID": last}) as response:
            stream = Stream(response)
            missed = [await stream.next(), await stream.next()]
            assert [(e.kind, e.json()["entry"]["type"]) for e in missed] == [
                ("result", "burnout_risk"),
                ("result", "performance_trajectory"),
            ]
            assert await stream.nothing_within(0.3)
    assert board.hub.stats["resumed"] == 2


async def test_a_client_further_behind_than_the_ring_gets_a_fresh_snapshot() -> None:
    board = Board(DashboardConfig(ring_events=3))
    first = board.hub.event_id(0)
    for n in range(6):
        feed(board, s.value(T.ATTRITION_RISK, f"dev{n}", s.attrition(0.1)))
    async with (
        served(board) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/events", headers={"Last-Event-ID": first}) as response,
    ):
        event = await Stream(response).next()
    assert event.kind == "snapshot"
    assert event.id == board.hub.event_id(6)
    assert len(event.json()["people"]) == 6


async def test_updates_to_one_key_waiting_for_a_client_are_sent_once_with_the_newest_state() -> None:
    board = Board(DashboardConfig())
    async with served(board) as url, aiohttp.ClientSession() as http:
        snapshot = await (await http.get(f"{url}/api/state")).json()
        async with http.get(f"{url}/api/events", params={"after": snapshot["id"]}) as response:
            stream = Stream(response)
            # published back to back, before the server's sender runs again: they wait in one queue
            for n in range(50):
                feed(board, s.value(T.BURNOUT_RISK, "mona", s.burnout(n / 100), s.later(n)))
            feed(board, s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.4)))
            events = [await stream.next(), await stream.next()]
            assert await stream.nothing_within(0.3)
    burnout, team = events
    assert burnout.json()["people"][0]["burnout"]["score"] == 0.49
    assert len(burnout.json()["history"]) == 50  # nothing of the trend is lost by coalescing
    assert burnout.id == board.hub.event_id(50) and team.id == board.hub.event_id(51)
    assert board.hub.stats["coalesced"] == 49


async def test_an_idle_stream_carries_a_heartbeat() -> None:
    board = Board(DashboardConfig(heartbeat_s=0.1))
    async with (
        served(board) as url,
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/events") as response,
    ):
        stream = Stream(response)
        assert (await stream.next()).kind == "snapshot"
        assert await stream.nothing_within(0.5)
    assert stream.comments and all(line == ": ping" for line in stream.comments)


async def test_csv_export_of_people_sorted_as_the_page_and_safe_in_a_spreadsheet() -> None:
    board = Board(DashboardConfig())
    feed(
        board,
        s.value(T.ATTRITION_RISK, "low", s.attrition(0.1)),
        s.value(T.ATTRITION_RISK, "=cmd|' /C calc'!A0", s.attrition(0.9)),
        s.value(T.ATTRITION_RISK, "mid", s.attrition(0.5)),
        s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.4)),
    )
    async with served(board) as url, aiohttp.ClientSession() as http:
        response = await http.get(f"{url}/api/export.csv", params={"table": "people", "sort": "-attrition"})
        assert response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(await response.text())))
        teams_csv = await (await http.get(f"{url}/api/export.csv?table=teams")).text()
        teams = list(csv.DictReader(io.StringIO(teams_csv)))
        feed_rows = await (await http.get(f"{url}/api/export.csv?table=feed&type=team_health")).text()
    assert [(r["subject"], r["attrition_level"], r["attrition_score"]) for r in rows] == [
        ("'=cmd|' /C calc'!A0", "critical", "0.9"),
        ("mid", "high", "0.5"),
        ("low", "low", "0.1"),
    ]
    assert rows[0]["attrition_top_factor"] == "commit rate fell"
    assert [(t["repository"], t["level"], t["bus_factor"]) for t in teams] == [("libuv/libuv", "watch", "2")]
    assert feed_rows.splitlines()[1].split(",")[1:3] == ["libuv/libuv", "team_health"]


async def test_the_logs_hold_no_result_content_and_no_query(caplog: pytest.LogCaptureFixture) -> None:
    board = Board(DashboardConfig())
    caplog.set_level(logging.DEBUG)
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.7)), b'{"secret": "not an envelope"}')
    async with served(board) as url, aiohttp.ClientSession() as http:
        await http.get(f"{url}/api/state")
        await http.get(f"{url}/api/export.csv", params={"table": "feed", "subject": "mona"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for content in ("mona", "commit rate fell", "one-to-one", "secret"):
        assert content not in logged
    assert "GET /api/export.csv 200" in logged  # the access log: method, path, status
    assert board.view.counts["unreadable"] == 1


async def test_an_identity_merge_sends_a_snapshot_with_one_row_per_person() -> None:
    board = Board(DashboardConfig())
    feed(board, s.value(T.ATTRITION_RISK, "mona@old.example", s.attrition(0.9)))
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.2), s.later(1)))
    async with served(board) as url, aiohttp.ClientSession() as http:
        snapshot = await (await http.get(f"{url}/api/state")).json()
        assert len(snapshot["people"]) == 2
        async with http.get(f"{url}/api/events", params={"after": snapshot["id"]}) as response:
            stream = Stream(response)
            feed(board, s.merge("mona", "mona@old.example"))
            event = await stream.next()
    assert event.kind == "snapshot"
    [person] = event.json()["people"]
    assert (person["subject"], person["attrition"]["trend"]) == ("mona", [0.9, 0.2])


async def test_hidden_risks_are_not_exported_either() -> None:
    board = Board(DashboardConfig(hide_risks=True))
    feed(
        board,
        s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)),
        s.value(T.PERFORMANCE_TRAJECTORY, "mona", s.performance(0.6)),
    )
    async with served(board) as url, aiohttp.ClientSession() as http:
        people = await (await http.get(f"{url}/api/export.csv?table=people")).text()
        everything = await (await http.get(f"{url}/api/export.csv?table=feed")).text()
    header, row = people.splitlines()
    assert "attrition" not in header and "burnout" not in header
    assert row.startswith("mona,no,stable,0.6,steady merges")
    assert "attrition" not in everything
