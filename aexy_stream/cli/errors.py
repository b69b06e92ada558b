"""Turning failures into one line on stderr and an exit code: no tracebacks for users."""

from __future__ import annotations

import sys

EXIT_FAILURE = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(f"aexy-stream: {message}", file=sys.stderr)
    return code
