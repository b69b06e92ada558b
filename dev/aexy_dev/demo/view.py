"""How results are shown as they arrive: a rich live table on a terminal, plain lines otherwise."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Protocol, Self

from rich.console import Console
from rich.live import Live
from rich.table import Table

from aexy_stream.cli.digest import Row

COLUMNS: dict[str, dict[str, Any]] = {
    "subject": {"max_width": 28},
    "analysis": {},
    "key fields": {"ratio": 1},
    "provider": {},
    "cache": {},
    "latency": {"justify": "right"},
}
"""Columns and their layout: the key fields take the width the others leave."""
CHROME_LINES = 8
"""Lines of the terminal the table's title, header, caption and borders take."""
MIN_ROWS = 5


class ResultView(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def add(self, rows: Iterable[Row]) -> None: ...


def view_for(console: Console) -> ResultView:
    return LiveTable(console) if console.is_terminal else PlainLines(console)


class PlainLines:
    """CI, pipes: one line per result, printed as it arrives."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            self._console.print(f"result: {row.line()}", markup=False, highlight=False, soft_wrap=True)


class LiveTable:
    """A terminal: the newest results that fit on the screen, redrawn as they arrive."""

    def __init__(self, console: Console) -> None:
        self._rows: deque[Row] = deque(maxlen=max(console.height - CHROME_LINES, MIN_ROWS))
        self._count = 0
        self._live = Live(self._table(), console=console, refresh_per_second=8)

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.stop()

    def add(self, rows: Iterable[Row]) -> None:
        before = self._count
        for row in rows:
            self._rows.append(row)
            self._count += 1
        if self._count != before:
            self._live.update(self._table())

    def _table(self) -> Table:
        table = Table(title=f"analysis.results: {self._count} so far", caption=self._caption(), expand=True)
        for name, layout in COLUMNS.items():
            table.add_column(name, overflow="ellipsis", no_wrap=True, **layout)
        for row in self._rows:
            style = "red" if row.kind == "dead letter" else None
            table.add_row(
                row.subject, row.kind, row.digest, row.provider, row.cache, row.latency, style=style
            )
        return table

    def _caption(self) -> str:
        hidden = self._count - len(self._rows)
        return f"the newest {len(self._rows)} shown" if hidden else ""
