"""Another benchmark script's helpers, for a script that reuses them.

The scripts are files, not a package (`bench/gateway.py` would shadow the `gateway` package if
`bench/` were on the import path), so one is loaded from its file, once, as `bench_<name>`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent.parent


def script(name: str) -> ModuleType:
    """`bench/<name>.py` as a module (the same module object on a second call)."""
    module_name = f"bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules[module_name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
