"""Handlers stay cheap to cold-start: importing one pulls in no heavy library.

The timing itself is a benchmark (``make bench``); this test checks the cause
a regression would have, which does not depend on the machine's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "blueprints" / "lambdas"
#: Modules a construct packages beside a handler's index.py (blueprints.constructs.emr_reconciliation.artifacts).
CONTRACTS = LAMBDAS.parent / "contracts"
HANDLERS = sorted(p.parent.name for p in LAMBDAS.glob("*/index.py"))
HEAVY = (
    "pandas",
    "numpy",
    "pydantic",
    "aws_xray_sdk",
    "jsonschema",
    "requests",
    "pyspark",
    "fastjsonschema",
    "aws_cdk",
    "jsii",
)

_PROBE = """
import json, sys
sys.path[:0] = [{folder!r}, {contracts!r}]
import index
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_pulls_in_no_heavy_library(name: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(folder=str(LAMBDAS / name), contracts=str(CONTRACTS))],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1", "PATH": "/usr/bin:/bin"},
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & set(HEAVY), f"{name} imports {sorted(loaded & set(HEAVY))} at cold start"
