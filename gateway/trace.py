"""Where one analysis spent its time, to tell gateway overhead from provider time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Trace:
    """Seconds in provider calls and waiting (rate budget, backoff), and whether the analysis joined
    a call in flight (its time then is that call's)."""

    provider_s: float = 0.0
    waited_s: float = 0.0
    joined: bool = False
