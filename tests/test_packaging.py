"""``pip install .`` ships a wheel that carries every handler and job file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIRS = ("blueprints/lambdas", "blueprints/jobs", "blueprints/contracts", "blueprints/schemas")
#: The kinds of data file the constructs read (pyproject.toml's package-data).
DATA_SUFFIXES = (".json", ".sql", ".sh", ".txt", ".yaml")


def _tracked_runtime_files() -> set[str]:
    files: set[str] = set()
    for folder in SHIPPED_DIRS:
        base = ROOT / folder
        if not base.exists():
            continue
        for path in base.rglob("*"):
            parts = path.relative_to(base).parts
            if path.is_file() and "__pycache__" not in parts and not any(p.startswith(".") for p in parts):
                files.add(path.relative_to(ROOT).as_posix())
    return files


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel build for the module's tests (a build takes seconds)."""
    out = tmp_path_factory.mktemp("wheel")
    # setuptools copies into build/lib and packs what is there, so a module moved in the tree would still ship
    # from an earlier build: start from none (build/ is a cache; `make clean` removes it too).
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("blueprints-*.whl")
    return built


def test_wheel_carries_every_handler_job_file_and_the_type_marker(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _tracked_runtime_files() | {"blueprints/py.typed", "blueprints/constructs/common/__init__.py"}
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}"
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
    # Nothing stale: a module moved or deleted in the tree is not carried from an old build directory.
    stale = sorted(n for n in names if n.startswith("blueprints/") and not (ROOT / n).exists())
    assert not stale, f"the wheel carries files the tree no longer has: {stale}"


def test_wheel_carries_the_data_files_the_constructs_read(wheel: Path) -> None:
    """The SQL, JSON and scripts a construct reads at synthesis time (package-data in pyproject.toml)."""
    base = ROOT / "blueprints/constructs"
    data = {
        path.relative_to(ROOT).as_posix()
        for path in base.rglob("*")
        if path.is_file() and path.suffix in DATA_SUFFIXES and "__pycache__" not in path.parts
    }
    assert {
        "blueprints/constructs/security_lake/dashboards.json",
        "blueprints/constructs/security_lake/sql/executive.sql",
    } <= data
    missing = sorted(data - set(zipfile.ZipFile(wheel).namelist()))
    assert not missing, f"the wheel lacks {missing}"


def test_wheel_declares_the_spdx_license_and_carries_its_text(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    headers = archive.read(metadata).decode()
    assert "License-Expression: Apache-2.0" in headers
    licenses = [n for n in archive.namelist() if n.endswith("licenses/LICENSE")]
    assert licenses, "the wheel does not carry LICENSE"
    assert b"Apache License" in archive.read(licenses[0])
