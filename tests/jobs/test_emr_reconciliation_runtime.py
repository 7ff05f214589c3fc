"""The EMR runtime itself: these tests run on the Python and Spark the default release gives the job, and the
syntax gate refuses what that Python cannot run."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyspark
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("emr_runtime_gate", ROOT / "tools" / "emr_runtime_gate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate = _gate()


def _pinned(package: str) -> str:
    text = (ROOT / "requirements-emr-runtime.txt").read_text()
    match = re.search(rf"^{package}==(\S+)$", text, re.MULTILINE)
    assert match, f"{package} is not pinned in requirements-emr-runtime.txt"
    return match.group(1)


def test_this_is_the_python_and_the_spark_emr_runs_the_job_on() -> None:
    assert f"{sys.version_info[0]}.{sys.version_info[1]}" == gate.TARGET
    assert pyspark.__version__ == _pinned("pyspark")


def _run_gate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "tools" / "emr_runtime_gate.py"), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_job_and_the_contract_pass_the_gate() -> None:
    result = _run_gate()
    assert result.returncode == 0, result.stderr
    assert f"within Python {gate.TARGET}" in result.stdout


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("def kind(x):\n    return isinstance(x, int | float)\n", "union types as `X | Y` require !2, 3.10"),
        ("def pairs(a, b):\n    return list(zip(a, b, strict=True))\n", "'zip(strict)' requires !2, 3.10"),
        ("def f(x):\n    match x:\n        case 1:\n            return 1\n", "cannot parse"),
        ("import itertools\n\nPAIRS = itertools.pairwise([1, 2])\n", "'itertools.pairwise' member requires !2, 3.10"),
    ],
    ids=["isinstance union", "zip strict", "match", "pairwise"],
)
def test_the_gate_fails_on_what_python_3_9_cannot_run(tmp_path: Path, code: str, reason: str) -> None:
    source = tmp_path / "newer.py"
    source.write_text("from __future__ import annotations\n\n" + code)
    result = _run_gate(source)
    assert result.returncode == 1
    assert reason in result.stderr


def test_the_gate_accepts_unions_in_annotations_which_are_never_evaluated(tmp_path: Path) -> None:
    source = tmp_path / "annotated.py"
    source.write_text("from __future__ import annotations\n\nLIMIT: int | None = None\n")
    assert _run_gate(source).returncode == 0
