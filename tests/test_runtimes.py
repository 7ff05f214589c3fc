"""The Lambda handlers are tested on the Python they run on, or the closest one this machine has, and gated to it.

Lambda runs the handlers on ``PYTHON_RUNTIME`` (3.14). This machine has CPython 3.9 to 3.13, so ``make`` builds
``.venv`` (which runs every test that imports handler code) on the newest Python not newer than the runtime's.
Syntax is held to what both the runtime and that Python parse (ruff, per handler module), and mypy checks the
handlers against the runtime's standard library (Makefile ``LAMBDA_PYTHON``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from blueprints.constructs.common import PYTHON_RUNTIME

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "blueprints" / "lambdas"
#: Modules under blueprints/lambdas that also run somewhere else, on an older Python with its own gate. None: a
#: module that a handler shares with a Spark job lives in blueprints/contracts, under the job's gate.
ALSO_RUN_ELSEWHERE: set[str] = set()
#: PEP 758 (unparenthesized ``except A, B``) is new in 3.14: ruff names the target it holds a file to.
PROBE_3_14 = "try:\n    pass\nexcept ValueError, TypeError:\n    raise\n"


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def _dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


RUNTIME = _version(PYTHON_RUNTIME.name.removeprefix("python"))
TESTED_ON = sys.version_info[:2]


def _installed_pythons() -> set[tuple[int, int]]:
    """CPython minor versions this machine has: pyenv's, and ``python3.N`` on PATH."""
    found = set()
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for folder in versions.glob("3.*"):
        if re.fullmatch(r"3\.\d+\.\d+", folder.name) and (folder / "bin" / "python").exists():
            found.add(_version(folder.name))
    found.update((3, minor) for minor in range(6, 30) if shutil.which(f"python3.{minor}"))
    return found


def _ruff_target(path: Path) -> tuple[int, int]:
    """The Python version ruff holds ``path`` to, as its syntax error for the 3.14-only probe names it."""
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--stdin-filename", str(path.relative_to(ROOT)), "-"],
        input=PROBE_3_14,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    match = re.search(r"parenthesized on Python (3\.\d+) \(syntax was added in Python 3\.14\)", result.stdout)
    assert match, f"ruff accepted 3.14-only syntax in {path.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"
    return _version(match.group(1))


def test_handler_tests_run_on_the_runtimes_python_or_the_closest_older_one() -> None:
    closest = max(v for v in _installed_pythons() | {TESTED_ON} if v <= RUNTIME)
    assert sys.version_info[:2] == closest, (
        f"Lambda runs the handlers on Python {_dotted(RUNTIME)}; this machine has {_dotted(closest)}, but the "
        f"tests run on {_dotted(TESTED_ON)}: rebuild .venv on it (make setup picks it)"
    )


def test_ruff_holds_each_handler_module_to_what_the_runtime_and_the_tests_both_parse() -> None:
    gate = min(RUNTIME, TESTED_ON)
    assert gate < (3, 14), "the tests run on 3.14 now: move the handlers' per-file-target-version to it"
    handler_modules = {
        path.relative_to(LAMBDAS).as_posix(): path
        for path in LAMBDAS.glob("*/**/*.py")
        if "__pycache__" not in path.parts
    }
    assert len(handler_modules) > len(ALSO_RUN_ELSEWHERE) + 10
    targets = {name: _ruff_target(path) for name, path in handler_modules.items()}
    assert {name: v for name, v in targets.items() if name not in ALSO_RUN_ELSEWHERE and v != gate} == {}
    # A module that also runs on an older Python keeps that Python's gate, never a newer one.
    assert {name: v for name, v in targets.items() if name in ALSO_RUN_ELSEWHERE and v > gate} == {}


def test_mypy_checks_the_handlers_against_the_runtimes_standard_library() -> None:
    makefile = (ROOT / "Makefile").read_text()
    declared = re.search(r"^LAMBDA_PYTHON := (\S+)$", makefile, re.MULTILINE)
    assert declared and _version(declared.group(1)) == RUNTIME, "Makefile LAMBDA_PYTHON must match PYTHON_RUNTIME"
    handler_loop = makefile[makefile.index("for dir in blueprints/lambdas/*/") :].split("done", 1)[0]
    assert "--python-version $(LAMBDA_PYTHON)" in handler_loop


def test_mypy_at_the_runtimes_version_finds_what_the_runtime_removed(tmp_path: Path) -> None:
    """``ast.Num`` exists on 3.13 (a handler using it passes its tests here) and is gone in 3.14."""
    handler = tmp_path / "index.py"
    handler.write_text("import ast\n\nNODE = ast.Num(1)\n")
    mypy = Path(sys.executable).with_name("mypy")

    def check(version: str) -> subprocess.CompletedProcess[str]:
        command = [str(mypy), "--no-incremental", "--config-file", os.devnull, "--python-version", version, "index.py"]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, check=False)

    assert check("3.13").returncode == 0
    removed = check(_dotted(RUNTIME))
    assert removed.returncode == 1 and 'Module has no attribute "Num"' in removed.stdout, removed.stdout
