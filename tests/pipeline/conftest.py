"""What the pipeline tests share: the provider simulator, speaking Anthropic's protocol.

A module that needs it slower or batching defines its own `sim`, which takes precedence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.simulator import SimulatorConfig, SimulatorHandle, running_simulator


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as handle:
        yield handle
