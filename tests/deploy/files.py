"""What the deployment tests share: paths, YAML loading, the CLI parser and the tools shipped as wheels."""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aexy_stream.cli.main import parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
TOOLS_PLATFORM = sys.platform == "linux" and platform.machine() == "x86_64"
"""Where the test extra installs hadolint, docker-compose and kubectl (pyproject.toml markers)."""


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def tool(name: str) -> str:
    """The executable `name` installed beside this interpreter by a test-extra wheel."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    if TOOLS_PLATFORM:
        pytest.fail(f"{name} is missing: `make test` installs it with the project's test extra")
    pytest.skip(f"{name} is installed as a wheel on linux x86_64 only")


def run(
    *command: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False)


def cli(args: list[str]) -> argparse.Namespace:
    """Parse `aexy-stream ARGS` with the real command-line parser (argparse exits on an unknown command)."""
    return parser().parse_args(args)


def handler_module(args: list[str]) -> str:
    return str(cli(args).handler.__module__)
