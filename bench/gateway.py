"""Gateway benchmark: calls per second and gateway overhead, side by side with LiteLLM's Router.

Both clients drive the same provider simulator (a separate process, 0 ms latency) over the same
wire protocol (OpenAI-compatible chat completions with a JSON-schema response format), with the
same prompts, at the same concurrency, in the same run. The cache is off for the gateway, so every
call is a real HTTP round trip.

Overhead per call is measured from outside the gateway: the envelope's latency minus the time
spent inside the provider's `analyze` (a thin timing wrapper around the real provider).

    python bench/gateway.py [--calls 4000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

# This file is named like the package it measures: keep its own folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
os.environ.setdefault("LITELLM_TELEMETRY", "False")

from prometheus_client import CollectorRegistry

from gateway.calls import result_schema
from gateway.config import GatewayConfig, ProviderConfig, RetryConfig
from gateway.gateway import Gateway
from gateway.metrics import GatewayMetrics
from gateway.prompts import prompt_for
from gateway.providers.base import ProviderCall, ProviderReply
from gateway.providers.openai import OpenAIProvider
from schemas.request import AnalysisRequest
from schemas.types import AnalysisType

TYPE = AnalysisType.SKILL_EXTRACTION
CODE = "import fastapi\n\napp = fastapi.FastAPI()\n\n@app.get('/')\ndef root():\n    return {'ok': True}\n"


class TimedProvider:
    """The real provider, with the time spent inside each `analyze` recorded per request id."""

    def __init__(self, inner: OpenAIProvider) -> None:
        self._inner = inner
        self.provider_s: dict[str, float] = {}
        self.name, self.model = inner.name, inner.model

    async def analyze(self, call: ProviderCall) -> ProviderReply:
        started = time.perf_counter()
        try:
            return await self._inner.analyze(call)
        finally:
            self.provider_s[call.request.request_id] = time.perf_counter() - started

    async def is_available(self) -> bool:
        return True

    async def aclose(self) -> None:
        await self._inner.aclose()


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "aexy_stream.cli.main", "simulate-provider", "--protocol", "openai"]
    process = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.readline()  # the "listening" line
    return process


async def drive(calls: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `calls` calls with `concurrency` workers; return calls per second."""
    counter = iter(range(calls))

    async def worker() -> None:
        for i in counter:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - started)


async def bench_gateway(base_url: str, calls: int, concurrency: int) -> tuple[float, list[float]]:
    provider = TimedProvider(OpenAIProvider(ProviderConfig("openai", "bench-model", base_url)))
    gateway = Gateway(
        GatewayConfig(chain=("openai",), retry=RetryConfig(max_retries=0)),
        {"openai": provider},
        metrics=GatewayMetrics(CollectorRegistry()),
    )
    overheads: list[float] = []

    async def one(i: int) -> None:
        request = AnalysisRequest(analysis_type=TYPE, content=f"{CODE}# {i}\n")
        envelope = await gateway.analyze(request, use_cache=False)
        overheads.append(envelope.latency_ms / 1000 - provider.provider_s.pop(request.request_id))

    await drive(min(200, calls), concurrency, one)  # warm-up: connections, caches, imports
    overheads.clear()
    rate = await drive(calls, concurrency, one)
    await gateway.aclose()
    return rate, overheads


async def bench_litellm(base_url: str, calls: int, concurrency: int) -> float:
    import litellm  # noqa: PLC0415 - bench-only dependency, imported only when measured

    litellm.suppress_debug_info = True
    router = litellm.Router(
        model_list=[
            {
                "model_name": "bench",
                "litellm_params": {"model": "openai/bench-model", "api_base": base_url, "api_key": "bench"},
            }
        ],
        num_retries=0,
    )
    prompt = prompt_for(TYPE)
    schema: dict[str, Any] = {"name": "SkillExtractionResult", "schema": result_schema(TYPE), "strict": True}

    async def one(i: int) -> None:
        rendered = prompt.render(AnalysisRequest(analysis_type=TYPE, content=f"{CODE}# {i}\n"))
        await router.acompletion(
            model="bench",
            messages=[
                {"role": "system", "content": rendered.system},
                {"role": "user", "content": rendered.user},
            ],
            response_format={"type": "json_schema", "json_schema": schema},
            max_tokens=prompt.max_tokens,
            temperature=0,
        )

    await drive(min(200, calls), concurrency, one)
    return await drive(calls, concurrency, one)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--port", type=int, default=18931)
    args = parser.parse_args()
    simulator = start_simulator(args.port)
    base_url = f"http://127.0.0.1:{args.port}/v1"
    try:
        ours, overheads = await bench_gateway(base_url, args.calls, args.concurrency)
        theirs = await bench_litellm(base_url, args.calls, args.concurrency)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    p50, p99 = percentile(overheads, 0.50) * 1e6, percentile(overheads, 0.99) * 1e6
    print(f"calls={args.calls} concurrency={args.concurrency} protocol=openai simulator_latency=0ms")
    print(f"aexy gateway     : {ours:8.0f} calls/s   overhead p50 {p50:7.0f} us   p99 {p99:7.0f} us")
    print(f"litellm Router   : {theirs:8.0f} calls/s")
    print(f"ratio (gateway / litellm calls per second): {ours / theirs:.2f}x")
    print(
        f"targets: overhead p99 < 2000 us -> {'met' if p99 < 2000 else 'NOT met'};"
        f" ratio >= 5x -> {'met' if ours / theirs >= 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
