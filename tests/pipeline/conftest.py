"""What the pipeline tests share: the provider simulator, speaking Anthropic's protocol, and a
started producer.

A module that needs either one otherwise (a slower or batching `sim`, a `producer` with small
batches) defines its own, which takes precedence."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer

from aexy_dev.simulator import SimulatorConfig, SimulatorHandle, running_simulator
from tests.pipeline.harness import acked_producer
from tests.plugins.kafka import KafkaBroker


@pytest.fixture
async def sim() -> AsyncIterator[SimulatorHandle]:
    async with running_simulator(SimulatorConfig(protocol="anthropic")) as handle:
        yield handle


@pytest.fixture
async def producer(kafka: KafkaBroker) -> AsyncIterator[AIOKafkaProducer]:
    started = acked_producer(kafka.bootstrap_servers)
    await started.start()
    yield started
    await started.stop()
