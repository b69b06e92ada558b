"""The materialized view: latest per key, bounded history, replays, identity merges, hidden risks."""

from __future__ import annotations

import orjson

from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.dashboard.payloads import state
from aexy_stream.dashboard.records import Merge, Place, Result, Unreadable, decode
from aexy_stream.dashboard.tables import people_rows
from consumers import headers as h
from schemas.types import AnalysisType as T
from tests.dashboard import samples as s
from tests.dashboard.conftest import feed


def test_the_latest_result_per_key_wins_by_its_time_not_by_reading_order() -> None:
    board = Board(DashboardConfig())
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.8), s.later(10)))
    feed(board, s.value(T.ATTRITION_RISK, "mona", s.attrition(0.2), s.later(5)))  # older, read later
    latest = board.view.of("mona", T.ATTRITION_RISK)
    assert latest is not None and latest.result["risk_score"] == 0.8
    points = board.view.history[("mona", T.ATTRITION_RISK)]
    assert [p.value for p in points] == [0.2, 0.8]  # in time order


def test_history_is_bounded_and_a_replayed_result_changes_nothing() -> None:
    board = Board(DashboardConfig(history_points=5))
    values = [s.value(T.BURNOUT_RISK, "mona", s.burnout(i / 20), s.later(i)) for i in range(8)]
    feed(board, *values)
    feed(board, values[-1])  # read again (a replay): same request id
    points = board.view.history[("mona", T.BURNOUT_RISK)]
    assert [round(p.value or 0, 2) for p in points] == [0.15, 0.2, 0.25, 0.3, 0.35]
    assert board.view.counts["duplicates"] == 1
    assert len(board.view.feed) == 8


def test_an_identity_merge_makes_one_person_one_row() -> None:
    board = Board(DashboardConfig())
    feed(
        board,
        s.value(T.ATTRITION_RISK, "mona@old.example", s.attrition(0.9), s.later(1)),
        s.value(T.SKILL_EXTRACTION, "mona@old.example", s.skills(), s.later(2)),
        s.value(T.ATTRITION_RISK, "mona", s.attrition(0.3), s.later(3)),
        s.value(T.TASK_MATCHING, "libuv/libuv", s.task_matching(["mona@old.example"]), s.later(4)),
    )
    assert [row["subject"] for row in people_rows(board.view)] == ["mona", "mona@old.example"]
    feed(board, s.merge("mona", "mona@old.example"), headers=[(h.RECORD_TYPE, b"identity_merged")])
    [row] = people_rows(board.view)
    assert row["subject"] == "mona"
    assert row["attrition"]["score"] == 0.3  # the newer of the two
    assert row["attrition"]["trend"] == [0.9, 0.3]
    assert row["repositories"] == ["libuv/libuv"]
    assert "epoll" in board.view.skills["mona"]
    # a result still published under the old subject (another instance had not seen the merge)
    feed(board, s.value(T.ATTRITION_RISK, "mona@old.example", s.attrition(0.5), s.later(5)))
    [row] = people_rows(board.view)
    assert (row["subject"], row["attrition"]["score"]) == ("mona", 0.5)


def test_merges_chain_and_a_canonical_id_that_changes_takes_the_rows_along() -> None:
    board = Board(DashboardConfig())
    feed(board, s.value(T.BURNOUT_RISK, "c@x.example", s.burnout(0.1), s.later(1)))
    feed(board, s.merge("b@x.example", "c@x.example"))
    feed(board, s.value(T.BURNOUT_RISK, "b@x.example", s.burnout(0.4), s.later(2)))
    feed(board, s.merge("alice", "b@x.example"))  # the set gained a login: a lower canonical id
    assert board.view.canonical("c@x.example") == "alice"
    [row] = people_rows(board.view)
    assert (row["subject"], row["burnout"]["trend"]) == ("alice", [0.1, 0.4])


def test_hidden_risks_leave_no_trace_in_the_state() -> None:
    board = Board(DashboardConfig(hide_risks=True))
    feed(
        board,
        s.value(T.ATTRITION_RISK, "mona", s.attrition(0.9)),
        s.value(T.BURNOUT_RISK, "mona", s.burnout(0.9)),
        s.value(T.PERFORMANCE_TRAJECTORY, "mona", s.performance(0.6)),
    )
    snapshot = state(board)
    assert b"attrition" not in snapshot and b"burnout" not in snapshot
    assert b"warning_signs" not in snapshot
    assert orjson.loads(snapshot)["people"][0]["performance"]["score"] == 0.6
    assert board.view.counts["hidden"] == 2


def test_records_are_told_apart_and_bad_ones_counted_without_their_content() -> None:
    place = Place(2, 7)
    result = decode(s.value(T.TEAM_HEALTH, "libuv/libuv", s.team_health(0.5)), [], place)
    assert isinstance(result, Result) and result.place == place and result.headline == 0.5
    assert isinstance(decode(s.merge("a", "b"), [(h.RECORD_TYPE, b"identity_merged")], place), Merge)
    assert isinstance(decode(s.merge("a", "b"), [], place), Merge)  # by its record_type alone
    secret = b'{"analysis_type": "attrition_risk", "subject": "mona", "result": {"risk_score": 7}}'
    bad = [b"not json", b"[1]", secret, b'{"analysis_type": "horoscope"}', None]
    reasons = [decode(value, [], place) for value in bad]
    assert all(isinstance(r, Unreadable) for r in reasons)
    assert [r.reason for r in reasons if isinstance(r, Unreadable)] == [
        "not JSON",
        "not a JSON object",
        "invalid attrition_risk envelope",
        "unknown analysis type",
        "empty value",
    ]


def test_a_merge_read_again_late_only_adds_aliases() -> None:
    """Merges may be published more than once: (b <- c) arriving after (alice <- b) keeps c at alice."""
    board = Board(DashboardConfig())
    feed(board, s.value(T.BURNOUT_RISK, "c@x.example", s.burnout(0.1), s.later(1)))
    feed(board, s.merge("b@x.example", "c@x.example"))
    feed(board, s.merge("alice", "b@x.example"))
    feed(board, s.merge("b@x.example", "c@x.example"))  # the first merge, published again
    feed(board, s.value(T.BURNOUT_RISK, "b@x.example", s.burnout(0.4), s.later(2)))
    assert board.view.canonical("c@x.example") == board.view.canonical("b@x.example") == "alice"
    [row] = people_rows(board.view)
    assert (row["subject"], row["burnout"]["trend"]) == ("alice", [0.1, 0.4])
