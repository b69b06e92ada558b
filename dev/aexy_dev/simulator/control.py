"""Test controls: `/stats`, `/_sim/last_request`, `/_sim/script`, `/_sim/rules`, `/_sim/reset`."""

from __future__ import annotations

import orjson
from aiohttp import web

from aexy_dev.simulator.dialect import json_response
from aexy_dev.simulator.engine import Engine
from aexy_dev.simulator.faults import Step, parse_steps


class Controls:
    """The control endpoints of one simulator; none of them is counted in the stats."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def install(self, app: web.Application) -> None:
        router = app.router
        router.add_get("/stats", self.stats)
        router.add_get("/_sim/last_request", self.last_request)
        router.add_get("/_sim/script", self.script)
        router.add_post("/_sim/script", self.add_script)
        router.add_delete("/_sim/script", self.clear_script)
        router.add_get("/_sim/rules", self.rules)
        router.add_post("/_sim/rules", self.add_rules)
        router.add_delete("/_sim/rules", self.clear_rules)
        router.add_post("/_sim/reset", self.reset)

    async def stats(self, request: web.Request) -> web.Response:
        return json_response({"protocol": self.engine.dialect.name, **self.engine.stats.snapshot()})

    async def last_request(self, request: web.Request) -> web.Response:
        last = self.engine.stats.last
        if last is None:
            return json_response({"error": "no completion request received yet"}, status=404)
        return json_response(last.as_json())

    async def script(self, request: web.Request) -> web.Response:
        return json_response({"steps": self.engine.plan.pending()})

    async def add_script(self, request: web.Request) -> web.Response:
        steps = await _steps(request, "steps")
        if isinstance(steps, web.Response):
            return steps
        self.engine.plan.add_script(steps)
        return json_response({"steps": self.engine.plan.pending()})

    async def clear_script(self, request: web.Request) -> web.Response:
        self.engine.plan.clear_script()
        return json_response({"steps": []})

    async def rules(self, request: web.Request) -> web.Response:
        return json_response({"rules": self.engine.plan.rules()})

    async def add_rules(self, request: web.Request) -> web.Response:
        rules = await _steps(request, "rules")
        if isinstance(rules, web.Response):
            return rules
        self.engine.plan.add_rules(rules)
        return json_response({"rules": self.engine.plan.rules()})

    async def clear_rules(self, request: web.Request) -> web.Response:
        self.engine.plan.clear_rules()
        return json_response({"rules": []})

    async def reset(self, request: web.Request) -> web.Response:
        self.engine.reset()
        return json_response({"reset": True})


async def _steps(request: web.Request, key: str) -> list[Step] | web.Response:
    """The steps of a control request, or a 400 response explaining what is wrong with it."""
    try:
        return parse_steps(orjson.loads(await request.read()), key)
    except (orjson.JSONDecodeError, ValueError) as exc:
        return json_response({"error": str(exc)}, status=400)
