"""`aexy-stream` as users run it: a subprocess, the real environment, one line on failure."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import orjson
import pytest

from aexy_dev.simulator import SimulatorHandle
from tests.conftest import free_port

CODE = "import flask\n\ndef index(x):\n    if x:\n        return 1\n    return 2\n"
PASS_THROUGH = ("PATH", "HOME", "LANG", "SYSTEMROOT")


async def cli(*args: str, stdin: str = "", cwd: Path | None = None, **env: str) -> tuple[int, str, str]:
    environment = {k: v for k, v in os.environ.items() if k in PASS_THROUGH} | env
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=environment, cwd=cwd,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_analyze_prints_the_envelope_with_the_rules_provider(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(CODE)
    code, out, err = await cli("analyze", "skill_extraction", str(source), "--context", "path=app.py",
                               cwd=tmp_path, LLM_PROVIDER="rules")  # fmt: skip
    assert code == 0, err
    envelope = orjson.loads(out)
    assert envelope["provider"] == "rules"
    assert envelope["analysis_type"] == "skill_extraction"
    assert envelope["result"]["language"] == "python"
    assert "flask" in [f.lower() for f in envelope["result"]["frameworks"]]


async def test_analyze_reads_stdin_and_talks_to_claude(claude_sim: SimulatorHandle, tmp_path: Path) -> None:
    code, out, err = await cli(
        "analyze", "code_quality", "-", "--no-cache", stdin=CODE, cwd=tmp_path,
        ANTHROPIC_BASE_URL=claude_sim.base_url, ANTHROPIC_API_KEY="sk-ant-cli-test",
    )  # fmt: skip
    assert code == 0, err
    envelope = orjson.loads(out)
    assert envelope["provider"] == "claude"
    assert envelope["model"] == "claude-sonnet-5-5"
    assert envelope["input_tokens"] > 0
    assert claude_sim.stats()["total"] == 1


async def test_provider_switch_on_the_command_line(claude_sim: SimulatorHandle, tmp_path: Path) -> None:
    args = ("analyze", "task_signals", "-", "--provider", "rules")
    env = {"ANTHROPIC_BASE_URL": claude_sim.base_url, "ANTHROPIC_API_KEY": "k"}
    code, out, _ = await cli(*args, stdin="Fix login bug", cwd=tmp_path, **env)
    assert code == 0
    assert orjson.loads(out)["provider"] == "rules"
    assert claude_sim.stats()["total"] == 0


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("analyze", "vibes", "-"), {}, "unknown analysis type 'vibes'"),
        (("analyze", "code_quality", "/no/such/file.py"), {}, "no such file"),
        (("analyze", "code_quality", "-", "--provider", "gpt-banana"), {}, "unknown provider 'gpt-banana'"),
        (("analyze", "code_quality", "-"), {"CLAUDE_RPM": "lots"}, "invalid setting CLAUDE_RPM"),
        (("analyze", "code_quality", "-", "--context", "novalue"), {}, "KEY=VALUE"),
        (("analyze", "code_quality", "-"), {"LLM_CACHE_TTLS": "{bad"}, "invalid setting LLM_CACHE_TTLS: not"),
        (("topics", "create"), {"LLM_CACHE_TTLS": "{bad"}, "invalid setting LLM_CACHE_TTLS: not valid JSON"),
        (("run",), {"RISK_ANALYSIS_INTERVAL": "soon"}, "invalid setting RISK_ANALYSIS_INTERVAL"),
        (("demo",), {"PSEUDONYMIZE_DEVELOPERS": "true"}, "needs PSEUDONYM_KEY"),
    ],
)
async def test_usage_errors_are_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    code, out, err = await cli(*args, stdin="x = 1", cwd=tmp_path, **env)
    assert code == 2
    assert out == ""
    assert expected in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


async def test_a_provider_failure_is_one_line_and_exit_1(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": closed + "/v1", "LLM_MAX_RETRIES": "0"}
    code, out, err = await cli("analyze", "code_quality", "-", stdin="x = 1", cwd=tmp_path, **env)
    assert code == 1
    assert out == ""
    assert "LLMUnavailableError" in err
    assert len(err.strip().splitlines()) == 1


async def test_the_api_key_never_reaches_the_output(claude_sim: SimulatorHandle, tmp_path: Path) -> None:
    claude_sim.add_rules({"kind": "auth"})
    secret = "sk-ant-must-not-leak-0123456789"
    code, out, err = await cli("analyze", "code_quality", "-", stdin="x = 1", cwd=tmp_path,
                               ANTHROPIC_BASE_URL=claude_sim.base_url, ANTHROPIC_API_KEY=secret)  # fmt: skip
    assert code == 1
    assert "AuthError" in err
    assert secret not in out + err


async def test_schemas_check_passes_on_the_checked_in_files(tmp_path: Path) -> None:
    code, out, _ = await cli("schemas", "check", cwd=tmp_path)
    assert code == 0
    assert "up to date" in out


async def test_simulate_provider_serves_until_terminated(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aexy_stream.cli.main", "simulate-provider", "--protocol", "ollama",
        "--port", str(port), stdout=asyncio.subprocess.PIPE, cwd=tmp_path,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    assert f"127.0.0.1:{port}" in line.decode()
    code, out, err = await cli("analyze", "soft_skills", "-", stdin="Thanks, nice fix!", cwd=tmp_path,
                               LLM_PROVIDER="ollama", OLLAMA_BASE_URL=f"http://127.0.0.1:{port}")  # fmt: skip
    process.terminate()
    assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    assert code == 0, err
    assert orjson.loads(out)["model"] == "llama3.2"


async def test_provider_flag_means_that_provider_only(tmp_path: Path) -> None:
    """No key for Claude: with --provider claude the fallback to rules must not answer instead."""
    env = {"LLM_FALLBACK_PROVIDERS": "rules", "LLM_MAX_RETRIES": "0"}
    code, out, err = await cli(
        "analyze", "code_quality", "-", "--provider", "claude", stdin="x = 1", cwd=tmp_path, **env
    )
    assert code == 1
    assert out == ""
    assert "LLMUnavailableError" in err
