"""`aexy-stream backfill git|events` as users run it: a real process, the test broker, the lane topics."""

from __future__ import annotations

import asyncio
import gzip
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from aexy_stream.cli.main import parser
from consumers.config import Topics
from schemas.events import parse_activity, parse_code_change
from tests.conftest import free_port
from tests.plugins.kafka import KafkaBroker, consume_all
from tests.producers.gitrepo import build_long_repo, build_sample_repo

PROJECT = Path(__file__).resolve().parents[2]
PASS_THROUGH = ("PATH", "HOME", "LANG")


def env_for(bootstrap_servers: str, topics: Topics, **extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASS_THROUGH if name in os.environ}
    return env | {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "TOPIC_CODE_CHANGES_BACKFILL": topics.backfill_code_changes,
        "TOPIC_GITHUB_ACTIVITY_BACKFILL": topics.backfill_activity,
        "PYTHONPATH": str(PROJECT),
        **extra,
    }


async def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "aexy_stream.cli.main", *args]
        return subprocess.run(
            command, env=env, cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False
        )

    return await asyncio.to_thread(run)


def git_count(path: Path, *args: str) -> int:
    done = subprocess.run(["git", "-C", str(path), "rev-list", "--count", "--no-merges", *args],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


async def code_changes(kafka: KafkaBroker, topic: str, expected: int) -> list[Any]:
    records = await consume_all(kafka.bootstrap_servers, topic, expected, timeout_s=20)
    assert len(records) == expected
    return records


@pytest.mark.slow
async def test_git_backfill_of_a_built_repository_twice_gives_the_same_ids(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    sample = build_sample_repo(tmp_path / "repo")
    env = env_for(kafka.bootstrap_servers, topics)
    args = ("backfill", "git", str(tmp_path / "repo"), "--repo-name", "octo/sample")
    first = await cli(env, *args)
    assert first.returncode == 0, first.stderr
    commits = len(sample["commits"])
    assert first.stdout.strip().startswith(f"backfill: published {commits} commits from octo/sample in ")
    second = await cli(env, *args)
    assert second.returncode == 0, second.stderr

    records = await code_changes(kafka, topics.backfill_code_changes, 2 * commits)
    by_partition: dict[int, list[Any]] = {}
    for record in records:
        by_partition.setdefault(record.partition, []).append(record)
    events = [parse_code_change(r.value) for r in records]
    assert {r.key for r in records} == {b"octo/sample"}  # keyed by repository: one partition, in order
    assert len(by_partition) == 1
    ordered = [parse_code_change(r.value) for r in next(iter(by_partition.values()))]
    shas = [e.sha for e in ordered]
    assert shas == [sample["labels"][label] for label in sample["commits"]] * 2  # oldest first, twice
    assert ordered[:commits] == ordered[commits:]  # the same events, the same ids
    assert all(not e.is_merge for e in events)
    assert all(dict(r.headers)["x-aexy-priority"] == b"backfill" for r in records)
    big = next(e for e in ordered if any(f.additions >= sample["big_lines"] for f in e.files))
    assert all(f.patch is None for f in big.files if f.additions >= sample["big_lines"])  # over the cap


@pytest.mark.slow
async def test_git_backfill_of_this_project_publishes_every_non_merge_commit_twice_with_the_same_ids(
    kafka: KafkaBroker, topics: Topics
) -> None:
    env = env_for(kafka.bootstrap_servers, topics)
    args = ("backfill", "git", str(PROJECT), "--repo-name", "aexy/stream")
    expected = git_count(PROJECT, "HEAD")
    for _ in range(2):
        done = await cli(env, *args)
        assert done.returncode == 0, done.stderr
        assert f"published {expected} commits" in done.stdout
    records = await code_changes(kafka, topics.backfill_code_changes, 2 * expected)
    ids = [parse_code_change(r.value).event_id for r in records]  # one key: one partition, in order
    assert len(set(ids)) == expected
    assert ids[:expected] == ids[expected:]


@pytest.mark.parametrize("command", [("backfill", "git", "."), ("replay", "--since", "2025-01-01")])
def test_a_date_alone_as_until_means_the_end_of_that_day(command: tuple[str, ...]) -> None:
    end_of_day = datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert parser().parse_args([*command, "--until", "2025-01-31"]).until == end_of_day
    exact = parser().parse_args([*command, "--until", "2025-01-31T00:00"]).until
    assert exact == datetime(2025, 1, 31, tzinfo=UTC)  # a time given is taken as it is
    since = parser().parse_args([*command, "--since", "2025-01-31"]).since
    assert since == datetime(2025, 1, 31, tzinfo=UTC)  # where that day begins


async def test_git_backfill_until_a_date_includes_that_whole_day(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    """One commit a minute from 2024-01-01 21:00 UTC: 180 of them that day, 60 the next (the commits
    are dated at +0200, where only 60 of them fall on that day)."""
    build_long_repo(tmp_path / "repo", 240, files=3, start=datetime(2024, 1, 1, 21, tzinfo=UTC))
    env = env_for(kafka.bootstrap_servers, topics)
    done = await cli(env, "backfill", "git", str(tmp_path / "repo"), "--until", "2024-01-01")
    assert done.returncode == 0, done.stderr
    assert "published 180 commits" in done.stdout, done.stdout


async def test_events_backfill_says_which_file_it_cannot_read_and_exits_1_after_the_others(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    missing, folder, good = tmp_path / "missing.json", tmp_path / "a-folder", tmp_path / "good.json"
    folder.mkdir()
    good.write_bytes(events_api_record(1) + b"\n" + events_api_record(2) + b"\n")
    files = (str(missing), str(folder), str(good))
    done = await cli(env_for(kafka.bootstrap_servers, topics), "backfill", "events", *files)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert [line for line in lines if line.startswith(str(missing))] == [
        f"{missing}: cannot read the file: No such file or directory"
    ]
    assert [line for line in lines if line.startswith(str(folder))] == [
        f"{folder}: cannot read the file: Is a directory"
    ]
    assert "published 2 events" in done.stdout and "2 unreadable files skipped" in done.stdout
    assert "Traceback" not in done.stderr
    assert len(await consume_all(kafka.bootstrap_servers, topics.backfill_activity, 2)) == 2


async def test_git_backfill_with_a_bad_path_says_so_and_writes_nothing(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    done = await cli(env_for(kafka.bootstrap_servers, topics), "backfill", "git", str(tmp_path))
    assert done.returncode == 2
    assert "not a git repository" in done.stderr and "Traceback" not in done.stderr


async def test_git_backfill_with_kafka_down_fails_in_one_line(topics: Topics, tmp_path: Path) -> None:
    build_long_repo(tmp_path / "repo", 3)
    env = env_for(f"127.0.0.1:{free_port()}", topics)  # nothing listens there
    done = await cli(env, "backfill", "git", str(tmp_path / "repo"))
    assert done.returncode == 1
    assert "did not take the records" in done.stderr and "Traceback" not in done.stderr


def events_api_record(n: int, repo: str = "octo/app") -> bytes:
    return orjson.dumps(
        {
            "id": str(1000 + n),
            "type": "IssuesEvent",
            "actor": {"id": n, "login": f"dev{n}"},
            "repo": {"id": 7, "name": repo},
            "payload": {"action": "opened", "issue": {"number": n, "title": f"Issue {n}", "body": "Broken"}},
            "created_at": "2026-11-20T10:00:00Z",
        }
    )


async def test_events_backfill_of_plain_and_gzipped_files_skips_malformed_lines(
    kafka: KafkaBroker, topics: Topics, tmp_path: Path
) -> None:
    plain = tmp_path / "2026-11-20-10.json"
    plain.write_bytes(
        b"\n".join([events_api_record(1), b"{not json", b"", events_api_record(2), b"[]"]) + b"\n"
    )
    zipped = tmp_path / "2026-11-20-11.json.gz"
    zipped.write_bytes(gzip.compress(events_api_record(3, "octo/lib") + b"\n" + b'{"type": "PushEvent"}\n'))

    done = await cli(env_for(kafka.bootstrap_servers, topics), "backfill", "events", str(plain), str(zipped))

    assert done.returncode == 0, done.stderr
    assert f"{plain}:2: skipped: not JSON" in done.stderr
    assert f"{plain}:5: skipped" in done.stderr
    assert f"{zipped}:2: skipped" in done.stderr
    assert "published 3 events" in done.stdout and "3 malformed lines skipped" in done.stdout
    records = await consume_all(kafka.bootstrap_servers, topics.backfill_activity, 3)
    parsed = {parse_activity(r.value, None, None).event_id: r.key for r in records}
    assert sorted(parsed.values()) == [b"octo/app", b"octo/app", b"octo/lib"]
