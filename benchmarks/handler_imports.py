"""Cold import time of every Lambda handler against a bare ``import boto3``.

Each measurement is a fresh interpreter (as in a Lambda cold start) that
imports the module and reports how long the import took. The runs are paired:
each handler import runs right after a bare ``import boto3``, and the ratio is
taken within the pair, so that a change in the machine's load between pairs
moves both sides alike; the median of the N paired ratios is compared with the
budget of 1.3x boto3's import. Handlers import only what they use.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "blueprints" / "lambdas"
#: Modules a construct packages beside a handler's index.py (blueprints.constructs.emr_reconciliation.artifacts).
CONTRACTS = ROOT / "blueprints" / "contracts"
BUDGET = 1.3

_PROBE = """
import sys, time
sys.path[:0] = [{folder!r}, {contracts!r}]
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
"""


def cold_import(module: str, folder: Path | None = None) -> float:
    code = _PROBE.format(folder=str(folder or ROOT), contracts=str(CONTRACTS), module=module)
    env = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=11, help="paired runs per handler")
    args = parser.parse_args()
    handlers = sorted(p.parent for p in LAMBDAS.glob("*/index.py"))
    if not handlers:
        print("no handlers yet")
        return 0
    times: dict[str, list[float]] = {"boto3": [], **{h.name: [] for h in handlers}}
    ratios: dict[str, list[float]] = {h.name: [] for h in handlers}
    for _ in range(args.runs):
        for handler in handlers:
            base_time = cold_import("boto3")
            handler_time = cold_import("index", handler)
            times["boto3"].append(base_time)
            times[handler.name].append(handler_time)
            ratios[handler.name].append(handler_time / base_time)
    base = statistics.median(times["boto3"])
    print(f"{'module':<28}{'median ms':>10}{'x boto3':>9}")
    print(f"{'import boto3':<28}{base * 1000:>10.1f}{1.0:>9.2f}")
    over = []
    for handler in handlers:
        median = statistics.median(times[handler.name])
        ratio = statistics.median(ratios[handler.name])
        flag = "" if ratio <= BUDGET else f"  over the {BUDGET}x budget"
        print(f"{handler.name:<28}{median * 1000:>10.1f}{ratio:>9.2f}{flag}")
        if ratio > BUDGET:
            over.append(handler.name)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
