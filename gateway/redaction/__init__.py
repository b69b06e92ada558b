"""Nothing secret leaves for a provider: secrets in a request are replaced by `[REDACTED:<kind>]`.

- `outbound.py`: the one step every provider-bound request passes (`gateway/calls.py`): content
  and every string of the context, per provider (`locality.py`: which may be exempted);
- `redactor.py`: one text redacted, each distinct text scanned once (a long one in a worker thread);
- `scan.py`: the scan itself: block rules, then each detector on the lines its literals let through;
- `detectors.py`: detect-secrets' plugins, then our own rules (`rules.py`) for what they lack;
- `filters.py`: detect-secrets' heuristics for the generic detectors; `literals.py`: the gates.

Files that are secrets by nature (`.env`, keys, keystores) are never sent at all: the router leaves
them out (`consumers/file_skips.py`, reason `secret_file`).
"""

from functools import cache

from gateway.redaction.outbound import Outbound
from gateway.redaction.redactor import Redacted, Redactor


@cache
def shared_redactor() -> Redactor:
    """The process's redactor (its detectors are built and its memo filled once, on first use)."""
    return Redactor()


__all__ = ["Outbound", "Redacted", "Redactor", "shared_redactor"]
