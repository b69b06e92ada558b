"""DASHBOARD_* settings reach the dashboard's config; each default is the config dataclass's own."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aexy_stream.compose import dashboard_config
from aexy_stream.dashboard.config import DashboardConfig
from aexy_stream.settings import Settings


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_default_settings_compose_the_config_defaults(defaults: Settings) -> None:
    assert dashboard_config(defaults) == DashboardConfig()


def test_the_variables_reach_the_config(monkeypatch: pytest.MonkeyPatch, defaults: Settings) -> None:
    for name, value in {
        "DASHBOARD_HOST": "0.0.0.0", "DASHBOARD_PORT": "9001", "DASHBOARD_TOKEN": "t0ken",
        "DASHBOARD_HIDE_RISKS": "true", "TOPIC_ANALYSIS_RESULTS": "results.x",
        "KAFKA_BOOTSTRAP_SERVERS": "k:1",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    config = dashboard_config(Settings(_env_file=None))  # type: ignore[call-arg]
    expected = replace(
        DashboardConfig(), host="0.0.0.0", port=9001, token="t0ken", hide_risks=True, topic="results.x"
    )
    assert config == replace(expected, bootstrap_servers="k:1")
