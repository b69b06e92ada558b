"""`aexy-stream demo`: the whole pipeline as a user runs it (a subprocess with its own embedded broker),
plus what it publishes and how it picks its provider."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka.structs import ConsumerRecord
from rich.console import Console

from aexy_dev.demo.feed import SHORT_EXAMPLES, example_names, example_records, last_code_changes
from aexy_dev.demo.line import WIDTH, dead_letter_shown, result_shown
from aexy_dev.demo.provider import Candidates, choose_provider
from aexy_dev.demo.view import LiveTable
from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from consumers import headers as h
from consumers.headers import GITHUB_DELIVERY, GITHUB_EVENT
from schemas.identity import IDENTITY_MERGED
from schemas.results.hiring import JobDescriptionResult
from schemas.types import AnalysisType
from tests.conftest import free_port
from tests.dashboard import samples
from tests.plugins.kafka import KafkaBroker

PASS_THROUGH = ("PATH", "HOME", "LANG", "SYSTEMROOT")
AUTHOR = "mona@example.com"
CODE_ANALYSES = {"skill_extraction", "code_quality", "code_complexity"}
SUMMARY = re.compile(
    r"^summary: (done in|interrupted after) [\d.]+ s: (\d+) of (\d+) events read .*?, (\d+) results, "
    r"(\d+) dead letters, .*cache hit rate .*, tokens \d+ .*, cost \$\d+\.\d{4}, "
    r"(\d+) provider calls saved by fusing analyses$"
)
RESULT = re.compile(
    r"^result: \d\d:\d\d:\d\d (?P<kind>\w+) +(?P<subject>\S+) +(?P<score>\S+) +(?P<word>\S+) "
    r"+(?P<provider>\w+)/(?P<cache>hit|miss)$"
)


def make_repo(path: Path, commits: int) -> Path:
    """A repository with `commits` commits by Mona, each adding one small Python module."""
    path.mkdir()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Mona", "GIT_AUTHOR_EMAIL": AUTHOR,
        "GIT_COMMITTER_NAME": "Mona", "GIT_COMMITTER_EMAIL": AUTHOR,
    }  # fmt: skip
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    for i in range(1, commits + 1):
        code = f"import os\n\n\ndef step_{i}(x):\n    if x > {i}:\n        return x\n    return os.sep\n"
        (path / f"step_{i}.py").write_text(code)
        subprocess.run(["git", "-C", str(path), "add", "."], check=True, env=env)
        date = f"2026-01-{i:02d}T12:00:00+00:00"
        dated = {**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run(["git", "-C", str(path), "commit", "-qm", f"step {i}"], check=True, env=dated)
    return path


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


async def start_demo(cwd: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    """No API key, no REDIS_URL, no .env (cwd is a fresh directory): only what is given."""
    environment = {k: v for k, v in os.environ.items() if k in PASS_THROUGH} | env
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "demo", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environment, cwd=cwd,
    )  # fmt: skip


async def read_until(process: asyncio.subprocess.Process, prefix: str, lines: list[str]) -> str:
    """Read stdout lines into `lines` until one starts with `prefix`; return it."""
    assert process.stdout is not None
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert raw, f"output ended before a line starting with {prefix!r}:\n" + "\n".join(lines)
        lines.append(raw.decode().rstrip("\n"))
        if lines[-1].startswith(prefix):
            return lines[-1]


async def finish(process: asyncio.subprocess.Process, lines: list[str]) -> tuple[int, str]:
    assert process.stdout is not None and process.stderr is not None
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    lines += out.decode().splitlines()
    assert process.returncode is not None
    return process.returncode, err.decode()


def broker_of(lines: list[str]) -> tuple[int, int]:
    """The broker's pid and port, from the demo's `broker:` line."""
    match = re.search(r"^broker: Tansu on 127\.0\.0\.1:(\d+), pid (\d+), IN MEMORY", "\n".join(lines), re.M)
    assert match, lines
    return int(match[2]), int(match[1])


def gone(pid: int, port: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) != 0
    return False


def results(lines: list[str]) -> list[re.Match[str]]:
    return [m for line in lines if (m := RESULT.match(line))]


def summary(lines: list[str]) -> re.Match[str]:
    found = [m for line in lines if (m := SUMMARY.match(line))]
    assert len(found) == 1, lines
    return found[0]


# -- the command, end to end -------------------------------------------------------------------------


async def test_short_demo_shows_every_result_and_a_summary_and_leaves_nothing_running(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=3)
    process = await start_demo(tmp_path, "--short", "--repo", str(repo), OLLAMA_BASE_URL=closed_port_url())
    lines: list[str] = []
    code, err = await finish(process, lines)

    assert code == 0, err
    assert lines[1].startswith("provider: rules (keyless") and "no ANTHROPIC_API_KEY" in lines[1], lines[:3]
    assert lines[2].startswith("cache: in memory")
    assert "the newest 3 commits of local/repo on code.changes" in lines[3]
    assert f"and {len(SHORT_EXAMPLES)} GitHub webhook examples" in lines[3]
    shown = results(lines)
    done = summary(lines)
    assert done[1] == "done in"
    assert (int(done[2]), int(done[3])) == (3 + len(SHORT_EXAMPLES), 3 + len(SHORT_EXAMPLES))
    assert int(done[4]) == len(shown) and int(done[5]) == 0  # every result written was shown
    assert int(done[6]) == 3 * (len(CODE_ANALYSES) - 1)  # one call per commit for its three analyses
    assert all(len(line) <= WIDTH for line in lines if line.startswith(("result:", "dead letter:")))
    by_author = Counter(m["kind"] for m in shown if m["subject"] == AUTHOR)
    assert all(by_author[kind] == 3 for kind in CODE_ANALYSES), by_author  # one of each per commit
    # the issue comment, under the canonical subject (logins are case-insensitive: kept in lower case)
    assert {m["kind"] for m in shown if m["subject"] == "codertocat"} >= {"soft_skills"}
    repository = [m for m in shown if m["subject"] == "Codertocat/Hello-World"]
    tasks = [m["word"] for m in repository if m["kind"] == "task_signals"]  # the pull request's
    assert tasks and set(tasks) <= {"low", "medium", "high"}  # its risk level
    assert all(m["provider"] == "rules" for m in shown)
    assert all(re.fullmatch(r"\d+\.\d\d", m["score"]) for m in shown if m["kind"] == "code_quality")
    assert gone(*broker_of(lines))
    assert lines[-1] == f"broker stopped (pid {broker_of(lines)[0]} exited)"


@pytest.mark.slow  # a second whole demo (its own broker), on a provider that answers in 300 ms
async def test_the_demo_runs_on_a_broker_of_yours_twice_each_time_on_topics_of_its_own(
    kafka: KafkaBroker, tmp_path: Path
) -> None:
    """`--bootstrap-servers`: the session's broker (Apache Kafka where Java and Maven are) instead of
    an embedded Tansu; a second run counts only its own results, and the broker keeps running."""
    repo = make_repo(tmp_path / "repo", commits=2)
    runs = []
    for _ in range(2):
        process = await start_demo(tmp_path, "--short", "--repo", str(repo), "--bootstrap-servers",
                                   kafka.bootstrap_servers, OLLAMA_BASE_URL=closed_port_url())  # fmt: skip
        lines: list[str] = []
        code, err = await finish(process, lines)
        assert code == 0, err
        runs.append(lines)
    for lines in runs:
        assert any(line.startswith(f"broker: {kafka.bootstrap_servers} (yours;") for line in lines), lines[:6]
        done = summary(lines)
        assert (int(done[2]), int(done[3])) == (2 + len(SHORT_EXAMPLES), 2 + len(SHORT_EXAMPLES))
        assert int(done[4]) == len(results(lines)) and int(done[5]) == 0
        assert lines[-1] == f"the broker at {kafka.bootstrap_servers} keeps running, with the demo's topics"
    assert summary(runs[0])[4] == summary(runs[1])[4]  # the second saw none of the first's results


@pytest.mark.slow  # several seconds: run in CI and by `make test-all`
async def test_ctrl_c_with_calls_in_flight_exits_cleanly_and_stops_the_broker(tmp_path: Path) -> None:
    """Ollama (the simulator, 300 ms a call, one call at a time) is chosen because it answers; SIGINT
    after the first result: the demo stops early, says so, and leaves no broker behind."""
    repo = make_repo(tmp_path / "repo", commits=5)
    config = SimulatorConfig(protocol="ollama", latency_ms=300)
    async with running_simulator(config) as sim:
        process = await start_demo(
            tmp_path, "--short", "--repo", str(repo),
            OLLAMA_BASE_URL=sim.base_url, OLLAMA_MODEL="llama3.1:8b", MAX_IN_FLIGHT="1",
        )  # fmt: skip
        lines: list[str] = []
        await read_until(process, "result: ", lines)
        process.send_signal(2)  # SIGINT, as Ctrl-C
        code, err = await finish(process, lines)
        calls = sim.stats()["total"]

    assert code == 0, err
    assert lines[1].startswith(f"provider: ollama (model llama3.1:8b at {sim.base_url}")
    done = summary(lines)
    assert done[1] == "interrupted after"
    assert int(done[4]) < 5 * len(CODE_ANALYSES)  # stopped before the commits were all analyzed
    assert 1 <= calls < 5 * len(CODE_ANALYSES)
    assert all(m["provider"] == "ollama" for m in results(lines))
    assert gone(*broker_of(lines))
    assert "Traceback" not in err


STOPPED_BY_SIGHUP = """
import asyncio, os, signal
from aexy_stream.cli.support import stop_on_signals

async def main() -> None:
    stop = stop_on_signals()
    os.kill(os.getpid(), signal.SIGHUP)
    await asyncio.wait_for(stop.wait(), timeout=5)
    print("stopped")

asyncio.run(main())
"""


def test_a_closed_terminal_stops_the_demo_as_ctrl_c_does() -> None:
    """SIGHUP sets the stop event (in a process of its own: unhandled, SIGHUP would end it at once)."""
    command = [sys.executable, "-c", STOPPED_BY_SIGHUP]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (0, "stopped\n"), done.stderr


async def test_a_path_that_is_no_repository_is_one_line_and_exit_2(tmp_path: Path) -> None:
    process = await start_demo(tmp_path, "--repo", str(tmp_path), OLLAMA_BASE_URL=closed_port_url())
    lines: list[str] = []
    code, err = await finish(process, lines)

    assert code == 2
    assert err.startswith("aexy-stream: git ") and len(err.strip().splitlines()) == 1, err
    assert not any(line.startswith("broker:") for line in lines)  # nothing was started


@pytest.mark.slow  # several seconds: run in CI and by `make test-all`
async def test_outside_a_repository_by_default_it_says_so_and_runs_the_examples(tmp_path: Path) -> None:
    """`make demo` in an unpacked archive: no `--repo`, and the current directory is no repository."""
    process = await start_demo(
        tmp_path, "--short", OLLAMA_BASE_URL=closed_port_url(), GIT_CEILING_DIRECTORIES=str(tmp_path.parent)
    )
    lines: list[str] = []
    code, err = await finish(process, lines)

    assert code == 0, err
    examples = f"input: {len(SHORT_EXAMPLES)} GitHub webhook examples on github.activity only; no commits"
    assert lines[3].startswith(examples) and "not a git repository" in lines[3], lines[3]
    done = summary(lines)
    assert (done[1], int(done[2]), int(done[3])) == ("done in", len(SHORT_EXAMPLES), len(SHORT_EXAMPLES))
    assert results(lines) and all(m["subject"] != AUTHOR for m in results(lines))
    assert gone(*broker_of(lines))


# -- what it publishes ----------------------------------------------------------------------------


def test_the_newest_commits_come_oldest_first(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=6)

    events = last_code_changes(repo, 4, max_patch_bytes=65536)

    assert [e.message.strip() for e in events] == ["step 3", "step 4", "step 5", "step 6"]
    assert all(e.author.email == AUTHOR and e.repository == "local/repo" for e in events)
    assert [f.path for f in events[0].files] == ["step_3.py"]
    assert len(last_code_changes(repo, 50, max_patch_bytes=65536)) == 6


def test_webhook_examples_are_deliveries_with_event_header_and_repository_key() -> None:
    names = example_names(short=False)
    records = example_records(names, "github.activity")

    assert {"push", "pull_request.opened", "pull_request_review.submitted", "issue_comment.created",
            "issues.opened"} <= set(names)  # fmt: skip
    assert set(example_names(short=True)) == set(SHORT_EXAMPLES)
    for name, record in zip(names, records, strict=True):
        headers = dict(record.headers)
        assert headers[GITHUB_EVENT] == name.split(".")[0].encode()
        assert record.key == orjson.loads(record.value)["repository"]["full_name"].encode()
        assert record.topic == "github.activity"
    ids = [dict(r.headers)[GITHUB_DELIVERY] for r in records]
    assert len(set(ids)) == len(ids)
    assert ids == [dict(r.headers)[GITHUB_DELIVERY] for r in example_records(names, "github.activity")]


# -- which provider ------------------------------------------------------------------------------------


async def test_a_key_means_claude_with_rules_behind_it() -> None:
    async with httpx.AsyncClient() as http:
        choice = await choose_provider(Candidates(True, closed_port_url(), "llama3.2"), http)
    assert (choice.name, choice.fallbacks) == ("claude", ("rules",))
    assert choice.line() == "provider: claude (ANTHROPIC_API_KEY is set; falls back to rules)"


async def test_ollama_when_it_answers_with_the_model(ollama_sim: SimulatorHandle) -> None:
    async with httpx.AsyncClient() as http:
        found = await choose_provider(Candidates(False, ollama_sim.base_url, "llama3.1:8b"), http)
        not_pulled = await choose_provider(Candidates(False, ollama_sim.base_url, "llama3.2"), http)
        absent = await choose_provider(Candidates(False, closed_port_url(), "llama3.1:8b"), http)

    assert (found.name, found.fallbacks) == ("ollama", ("rules",))
    assert not_pulled.name == "rules"
    missing = f"Ollama at {ollama_sim.base_url} has no model llama3.2 (`ollama pull llama3.2`)"
    assert missing in not_pulled.reason
    assert absent.name == "rules" and "no Ollama answered at" in absent.reason


# -- the short lines -----------------------------------------------------------------------------------


def record(value: bytes, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None) -> Any:
    """A record as the demo's consumer hands it over."""
    return ConsumerRecord("t", 0, 7, 1_796_551_136_535, 0, key, value, None, 0, len(value), headers or [])


def test_a_result_line_is_short_and_says_when_what_whom_score_level_and_provider() -> None:
    subject = "a-developer-with-a-very-long-login-name-indeed@example.com"
    value = samples.value(AnalysisType.ATTRITION_RISK, subject, samples.attrition(0.8123))
    line = result_shown(record(value, subject.encode())).line()
    m = RESULT.match(line)
    assert m is not None, line
    assert len(line) <= WIDTH
    assert (m["kind"], m["score"], m["provider"], m["cache"]) == ("attrition_risk", "0.81", "rules", "miss")
    assert m["word"] == samples.attrition(0.8123).risk_level
    assert m["subject"].endswith("…") and subject.startswith(m["subject"][:-1])


def test_a_type_without_a_level_shows_a_one_word_field_and_one_without_a_score_a_dash() -> None:
    skills = result_shown(record(samples.value(AnalysisType.SKILL_EXTRACTION, "mona", samples.skills())))
    assert (skills.word, skills.score) == (samples.skills().language, f"{samples.skills().complexity:.2f}")
    job = JobDescriptionResult(
        title="Backend engineer", seniority="senior", summary="Builds the stream processor.",
        responsibilities=[], required_skills=["python"], nice_to_have=[],
    )  # fmt: skip
    described = result_shown(record(samples.value(AnalysisType.JOB_DESCRIPTION, "octo/app", job)))
    assert (described.word, described.score) == ("senior", "-")  # the title is two words


def test_a_dead_letter_a_merge_and_an_unreadable_record_are_short_lines_too() -> None:
    reason = "the provider said: " + "no " * 200
    headers = [(h.DLQ_REASON, reason.encode()), (h.ANALYSIS_TYPE, b"code_quality")]
    dead = dead_letter_shown(record(b"{}", b"octo/app", headers)).line()
    assert dead.startswith("dead letter: ") and " code_quality " in dead and " octo/app " in dead
    assert len(dead) == WIDTH and dead.endswith("…")
    merge_headers = [(h.RECORD_TYPE, IDENTITY_MERGED.encode())]
    merged = result_shown(record(samples.merge("mona", "mona@example.com"), b"mona", merge_headers))
    assert merged.line().startswith("merged: ") and merged.subject == "mona"
    unreadable = result_shown(record(b"not json", b"k")).line()
    assert unreadable.startswith("unreadable: ") and "not JSON" in unreadable and len(unreadable) <= WIDTH


def test_the_terminal_table_shows_the_same_short_fields_and_marks_dead_letters() -> None:
    console = Console(force_terminal=True, width=110, height=20, color_system=None, record=True)
    value = samples.value(AnalysisType.TEAM_HEALTH, "octo/app", samples.team_health(0.42, "at_risk"))
    headers = [(h.DLQ_REASON, b"refused"), (h.ANALYSIS_TYPE, b"code_quality")]
    with LiveTable(console) as table:  # drawn once more as it stops
        table.add(
            [result_shown(record(value, b"octo/app")), dead_letter_shown(record(b"{}", b"octo/app", headers))]
        )
    drawn = [line for line in console.export_text().splitlines() if "octo/app" in line]
    rows = drawn[-2:]  # the last drawing (a refresh meanwhile draws it more than once)
    assert len(rows) == 2
    assert all(len(line) <= 110 for line in rows)
    assert "team_health" in rows[0] and "0.42" in rows[0] and "at_risk" in rows[0] and "rules/miss" in rows[0]
    assert "dead letter: code_quality" in rows[1] and "refused" in rows[1]
