"""``pip install .`` ships a wheel that carries every handler and job file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DIRS = ("blueprints/lambdas", "blueprints/jobs", "blueprints/schemas")


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


def test_wheel_carries_every_handler_job_file_and_the_type_marker(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("blueprints-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = _tracked_runtime_files() | {"blueprints/py.typed", "blueprints/constructs/common.py"}
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}"
    assert not [n for n in names if "__pycache__" in n or n.startswith("tests/")]
