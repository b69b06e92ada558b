"""What the tests of the original design's API (`aexy_stream.llm`) share: a clean environment,
provider simulators the design's environment variables point at, and the answers they give."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest

from aexy_dev.simulator import SimulatorHandle
from aexy_dev.simulator.answers import model_instance
from aexy_stream.settings import Settings
from schemas.results import ResultModel

API_KEY = "sk-ant-design-test-key"
M = TypeVar("M", bound=ResultModel)


def clean_environment(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> None:
    """No setting from the machine's environment, and no `.env` (the working directory is `workdir`)."""
    monkeypatch.chdir(workdir)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def point_claude_at(monkeypatch: pytest.MonkeyPatch, sim: SimulatorHandle) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", sim.base_url)


def point_ollama_at(monkeypatch: pytest.MonkeyPatch, sim: SimulatorHandle) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", sim.base_url)


def simulated(model: type[M]) -> M:
    """The result the simulators answer with `model`'s schema, whatever the material (their answer
    depends on the schema alone), read through the model."""
    return model.model_validate(model_instance(model))
