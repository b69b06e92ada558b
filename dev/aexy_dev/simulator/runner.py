"""Running a simulator: in-process for tests (`running_simulator`) or blocking for the CLI (`serve`)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aexy_dev.simulator.app import ENGINE_KEY, build_app
from aexy_dev.simulator.config import SimulatorConfig
from aexy_dev.simulator.engine import Engine
from aexy_dev.simulator.faults import parse_step

SHUTDOWN_TIMEOUT_S = 2.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class SimulatorHandle:
    """A listening simulator: where it is, plus in-process shortcuts to its control endpoints."""

    config: SimulatorConfig
    host: str
    port: int
    engine: Engine

    @property
    def base_url(self) -> str:
        """`http://host:port`, no trailing slash (OpenAI clients append `/v1` themselves)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stats(self) -> dict[str, Any]:
        return self.engine.stats.snapshot()

    def script(self, *steps: Mapping[str, Any]) -> None:
        """Same as `POST /_sim/script` with `{"steps": [...]}`."""
        self.engine.plan.add_script([parse_step(dict(step)) for step in steps])

    def add_rules(self, *rules: Mapping[str, Any]) -> None:
        """Same as `POST /_sim/rules` with `{"rules": [...]}`."""
        self.engine.plan.add_rules([parse_step(dict(rule)) for rule in rules])

    def reset(self) -> None:
        """Same as `POST /_sim/reset`: clears stats, script, rules and the rpm window."""
        self.engine.reset()


@asynccontextmanager
async def running_simulator(config: SimulatorConfig) -> AsyncIterator[SimulatorHandle]:
    """Serve `config` on its host and port (port 0 picks a free one) until the block exits."""
    app = build_app(config)
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, config.host, config.port).start()
        yield SimulatorHandle(config, config.host, _bound_port(runner), app[ENGINE_KEY])
    finally:
        await runner.cleanup()


def _bound_port(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


def serve(config: SimulatorConfig, on_ready: Callable[[SimulatorHandle], None] | None = None) -> None:
    """Serve `config` until SIGINT or SIGTERM; `on_ready` is called once it is listening."""
    asyncio.run(_serve(config, on_ready))


async def _serve(config: SimulatorConfig, on_ready: Callable[[SimulatorHandle], None] | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_simulator(config) as handle:
            if on_ready is not None:
                on_ready(handle)
            await stop.wait()
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
