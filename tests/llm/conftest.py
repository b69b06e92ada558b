"""Fixtures of the original design's API tests: a simulator per provider, and a clean environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.design import clean_environment


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting of the developer's shell leaks in; `.env` is not read (a fresh working directory)."""
    clean_environment(monkeypatch, tmp_path)
    return monkeypatch
