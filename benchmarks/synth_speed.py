"""Synthesis cost of the whole example app against a bare one-stack, one-queue app.

Both run as `python -c ...` on the same interpreter and the same Node.js (the
pinned one in node_modules), alternated, so machine noise hits both alike.
Each run is a fresh process, as `cdk synth` starts one. The budget is 3x.

The example app is built as app.py builds it (``new_app``: CDK's built-in,
warning-only template validation off, cfn-lint runs in ``make test`` instead).
The bare app is measured twice: as ``cdk.App()`` builds it by default (the
reference of the budget), and with the example app's setting, for information:
without the validation, a bare app is little more than starting Python and the
jsii runtime (about 0.7 s), so that second ratio measures the example app's own
work (about 3,000 jsii calls for 530 resources) against process start-up.
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

BARE_SAME_SETTINGS = BARE.replace("cdk.App(outdir=", "cdk.App(builtin_cloud_formation_validation=False, outdir=")

EXAMPLE = """
import json
from blueprints.example_app import build_example_app, new_app
context = json.load(open("cdk.json"))["context"]
app = new_app(context=context, outdir={outdir!r})
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
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"bare_s": [], "bare_same_settings_s": [], "example_s": []}
    for _ in range(args.runs):
        times["bare_s"].append(run(BARE))
        times["bare_same_settings_s"].append(run(BARE_SAME_SETTINGS))
        times["example_s"].append(run(EXAMPLE))
    print(json.dumps({key: [round(x, 2) for x in values] for key, values in times.items()}))
    b, s, e = (statistics.median(times[key]) for key in ("bare_s", "bare_same_settings_s", "example_s"))
    print(f"bare one-queue app {b:.2f} s (with the example app's App settings {s:.2f} s), whole example app {e:.2f} s")
    print(f"ratio {e / b:.2f} against the default bare app (budget {BUDGET}); {e / s:.2f} against the same settings")
    return 0 if e / b <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
