"""Builds the aiohttp application of one simulated provider."""

from __future__ import annotations

from types import MappingProxyType

from aiohttp import web

from aexy_dev.simulator.anthropic import AnthropicDialect
from aexy_dev.simulator.batches import BatchEndpoints
from aexy_dev.simulator.config import ProtocolName, SimulatorConfig
from aexy_dev.simulator.control import Controls
from aexy_dev.simulator.dialect import Dialect
from aexy_dev.simulator.engine import Engine
from aexy_dev.simulator.ollama import OllamaDialect
from aexy_dev.simulator.openai import OpenAIDialect

ENGINE_KEY = web.AppKey("simulator_engine", Engine)
MAX_BODY_BYTES = 32 * 1024 * 1024
DIALECTS: MappingProxyType[ProtocolName, type[Dialect]] = MappingProxyType(
    {"anthropic": AnthropicDialect, "ollama": OllamaDialect, "openai": OpenAIDialect}
)


def build_app(config: SimulatorConfig) -> web.Application:
    """The simulator for `config.protocol`; its `Engine` is `app[ENGINE_KEY]`."""
    engine = Engine(config, DIALECTS[config.protocol]())
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[ENGINE_KEY] = engine
    app.router.add_post(engine.dialect.completion_path, engine.handle)
    for path, listing in engine.dialect.listings().items():
        app.router.add_get(path, engine.guarded(listing))
    if config.protocol == "anthropic":
        BatchEndpoints(engine).install(app)
    Controls(engine).install(app)
    return app
