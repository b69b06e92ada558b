"""Fixtures of the original design's API tests: a simulator per provider, and a clean environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from tests.support.design import clean_environment


@pytest.fixture
async def claude_sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as sim:
        yield sim


@pytest.fixture
async def ollama_sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="ollama")) as sim:
        yield sim


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting of the developer's shell leaks in; `.env` is not read (a fresh working directory)."""
    clean_environment(monkeypatch, tmp_path)
    return monkeypatch
