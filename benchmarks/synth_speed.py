"""Synthesis cost of the whole example app against a bare one-stack, one-queue app.

Both run as `python -c ...` on the same interpreter and the same Node.js (the
pinned one in node_modules), alternated, so machine noise hits both alike.
Each run is a fresh process, as `cdk synth` starts one. The budget is 3x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 3.0

BARE = """
import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
app = cdk.App(outdir={outdir!r})
stack = cdk.Stack(app, "Bare", env=cdk.Environment(account="111111111111", region="us-east-1"))
sqs.Queue(stack, "Queue")
app.synth()
"""

EXAMPLE = """
import json
import aws_cdk as cdk
from blueprints.example_app import build_example_app
context = json.load(open("cdk.json"))["context"]
app = cdk.App(context=context, outdir={outdir!r})
build_example_app(app)
app.synth()
"""


def run(code: str) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        env = dict(os.environ)
        env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
        for key in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
            env.pop(key, None)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code.format(outdir=outdir)], cwd=ROOT, env=env, check=True, capture_output=True
        )
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bare: list[float] = []
    example: list[float] = []
    for _ in range(args.runs):
        bare.append(run(BARE))
        example.append(run(EXAMPLE))
    b, e = statistics.median(bare), statistics.median(example)
    print(json.dumps({"bare_s": [round(x, 2) for x in bare], "example_s": [round(x, 2) for x in example]}))
    print(f"bare one-queue app {b:.2f} s, whole example app {e:.2f} s, ratio {e / b:.2f} (budget {BUDGET})")
    return 0 if e / b <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
