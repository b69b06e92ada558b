"""How results are shown as they arrive: a rich live table on a terminal, short plain lines otherwise
(`aexy_dev/demo/line.py`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Protocol, Self

from rich.console import Console
from rich.live import Live
from rich.table import Table

from aexy_dev.demo.line import Shown

COLUMNS: dict[str, dict[str, Any]] = {
    "time": {},
    "analysis": {},
    "subject": {"ratio": 1, "max_width": 28},
    "score": {"justify": "right"},
    "level": {"max_width": 16},
    "provider / reason": {"max_width": 40},
}
"""Columns and their layout: the subject takes the width the others leave."""
CHROME_LINES = 8
"""Lines of the terminal the table's title, header, caption and borders take."""
MIN_ROWS = 5


class ResultView(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def add(self, rows: Iterable[Shown]) -> None: ...


def view_for(console: Console) -> ResultView:
    return LiveTable(console) if console.is_terminal else PlainLines(console)


class PlainLines:
    """CI, pipes: one short line per record, printed as it arrives."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def add(self, rows: Iterable[Shown]) -> None:
        for row in rows:
            self._console.print(row.line(), markup=False, highlight=False, soft_wrap=True)


class LiveTable:
    """A terminal: the newest results that fit on the screen, redrawn as they arrive."""

    def __init__(self, console: Console) -> None:
        self._rows: deque[Shown] = deque(maxlen=max(console.height - CHROME_LINES, MIN_ROWS))
        self._count = 0
        self._live = Live(self._table(), console=console, refresh_per_second=8)

    def __enter__(self) -> Self:
        self._live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._live.stop()

    def add(self, rows: Iterable[Shown]) -> None:
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
            style = "red" if row.label in ("dead letter", "unreadable") else None
            kind = row.kind if row.label == "result" else f"{row.label}: {row.kind}"
            table.add_row(row.at, kind, row.subject, row.score, row.word, row.source, style=style)
        return table

    def _caption(self) -> str:
        hidden = self._count - len(self._rows)
        return f"the newest {len(self._rows)} shown" if hidden else ""
