"""A dashboard server over a board the test fills itself (no reader), and a small SSE client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import orjson
from aiohttp import web

from aexy_stream.dashboard.board import Board
from aexy_stream.dashboard.records import Place, decode
from aexy_stream.dashboard.server import app_runner


@asynccontextmanager
async def served(board: Board) -> AsyncIterator[str]:
    """The dashboard's app on a free loopback port; yields its base URL."""
    runner = app_runner(board)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def feed(board: Board, *values: bytes, headers: list[tuple[str, bytes]] | None = None) -> None:
    """Records as the reader hands them over (offsets counted from what the board has read)."""
    for value in values:
        board.apply(decode(value, headers or [], Place(0, board.status.read)))


@dataclass
class Event:
    kind: str
    id: str
    data: str

    def json(self) -> dict:  # type: ignore[type-arg]
        parsed: dict = orjson.loads(self.data)  # type: ignore[type-arg]
        return parsed


@dataclass
class Stream:
    """Reads one Server-Sent Events response: events, and comment lines (the heartbeat)."""

    response: aiohttp.ClientResponse
    comments: list[str] = field(default_factory=list)

    async def next(self, timeout_s: float = 5.0) -> Event:
        fields: dict[str, list[str]] = {}
        async with asyncio.timeout(timeout_s):
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\r\n")
                if line.startswith(":"):
                    self.comments.append(line)
                elif line:
                    name, _, value = line.partition(":")
                    fields.setdefault(name, []).append(value.removeprefix(" "))
                elif fields.get("data"):
                    kind = fields.get("event", ["message"])[-1]
                    return Event(kind, fields.get("id", [""])[-1], "\n".join(fields["data"]))

    async def until(self, kind: str, timeout_s: float = 5.0) -> Event:
        while True:
            event = await self.next(timeout_s)
            if event.kind == kind:
                return event

    async def nothing_within(self, timeout_s: float) -> bool:
        try:
            await self.next(timeout_s)
        except TimeoutError:
            return True
        return False
