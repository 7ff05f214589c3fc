"""The EMR runtime gate: fails when the Spark job or its contract need a Python newer than EMR runs them on.

The job (``blueprints/jobs``) and the request contract it ships with ``--py-files`` (``blueprints/contracts``)
run on EMR's PySpark interpreter, Python 3.9 (``JOB_PYTHON`` in ``blueprints.constructs.emr_reconciliation``), so
they may use neither syntax nor standard-library features of later versions. vermin finds both, including
``X | Y`` unions at run time (``isinstance(x, int | float)``) and ``zip(..., strict=True)``; annotations are not
evaluated (PEP 563). vermin cannot see syntax that the Python running it cannot parse (it passes a ``match``
statement when run on 3.9), so every file is first parsed with ``ast.parse(feature_version=TARGET)``, which
refuses it.

    python tools/emr_runtime_gate.py [paths...]    # exit 0: within the target; 1: a violation, listed

Standard library only, and runs under any Python that has vermin (``make test`` runs it from .venv-emr).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The Python minor version the job runs on (EMR 7.x: /usr/bin/python3.9).
TARGET = "3.9"
PATHS = (
    ROOT / "blueprints" / "jobs",
    ROOT / "blueprints" / "contracts" / "emr_reconciliation_request.py",
)


def command(paths: list[str]) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys, vermin; sys.exit(vermin.main())",
        f"--target={TARGET}-",
        "--violations",
        "--no-tips",
        # Unstable in vermin 1.9 and heuristic, but the only check for a runtime `X | Y` in isinstance.
        "--feature",
        "union-types",
        "--no-parse-comments",
        *paths,
    ]


def _sources(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def unparsable(paths: list[str]) -> list[str]:
    """The files that Python ``TARGET`` cannot parse, each with the reason."""
    version = tuple(int(part) for part in TARGET.split("."))
    problems = []
    for source in _sources(paths):
        try:
            ast.parse(source.read_text(encoding="utf-8"), str(source), feature_version=version)
        except SyntaxError as error:
            problems.append(f"{source}:{error.lineno}: {error.msg}")
    return problems


def main(argv: list[str]) -> int:
    paths = argv or [str(path) for path in PATHS]
    problems = unparsable(paths)
    if problems:
        print(f"Python {TARGET}, which EMR runs the job on, cannot parse:", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        return 1
    result = subprocess.run(command(paths), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print(f"needs a Python newer than {TARGET}, which EMR runs the job on:", file=sys.stderr)
        print(result.stdout + result.stderr, file=sys.stderr)
        return 1
    print(f"EMR runtime gate: {len(paths)} path(s) within Python {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
