"""The wheel `pip install .` builds (as the Docker image does) carries the data files the code reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gateway", "schemas", "aexy_stream", "consumers", "producers")
EXAMPLES = ROOT / "aexy_stream" / "demo" / "examples"


def source_copy(target: Path) -> Path:
    """The files a build reads, copied, so that building leaves no `build/` or egg-info in the checkout."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, target / name)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    source = source_copy(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("wheel")
    offline = ("--no-deps", "--no-build-isolation")  # the venv's setuptools (the test extra), no index
    command = [sys.executable, "-m", "pip", "wheel", *offline, "-q", "-w", str(out), str(source)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("aexy_stream-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def relative(paths: list[Path]) -> set[str]:
    return {path.relative_to(ROOT).as_posix() for path in paths}


def test_the_wheel_carries_the_demo_examples_with_their_licence(wheel_files: set[str]) -> None:
    examples = relative([path for path in EXAMPLES.iterdir() if path.is_file()])
    assert {"aexy_stream/demo/examples/LICENSE", "aexy_stream/demo/examples/NOTICE.md"} <= examples
    assert len(examples) > 2
    assert examples - wheel_files == set()


def test_the_wheel_carries_every_json_schema(wheel_files: set[str]) -> None:
    schemas = relative(list((ROOT / "schemas" / "json").rglob("*.json")))
    assert schemas
    assert schemas - wheel_files == set()
