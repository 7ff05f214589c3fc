"""checkov over every synthesized template: fail on a finding the resource does not skip with a reason.

Run with the checkov venv's Python (``make checkov``)::

    .venv-checkov/bin/python tools/checkov_gate.py cdk.out [more folders or template files]

Folders are read for ``*.template.json``; a file is taken as a template whatever its name (``make checkov``
adds the committed snapshots of the MWAA pair's backup_restore variant, which ``cdk.out`` does not hold and
which tests/stacks proves equal to what that variant synthesizes).

A resource skips a check in its ``Metadata.checkov.skip`` (``[{"id": "CKV_AWS_116", "comment": "..."}]``),
which the library writes next to the cdk-nag acknowledgment of the same finding
(``blueprints.constructs.common.acknowledge(..., checkov=[...])`` or ``skip_checkov``). Besides checkov's
own verdict, this checks every skip in the templates: the id is a check checkov has for that resource type (a
skip that matches nothing is a stale or mistyped one), and the comment is a reason, not a placeholder.
Prints one line per problem and a summary; exits 1 on any problem.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MIN_REASON = 20


def templates(folder: Path) -> list[Path]:
    found = sorted(folder.glob("*.template.json"))
    if not found:
        raise SystemExit(f"no *.template.json in {folder}: synthesize first (make synth)")
    return found


def run_checkov(folder: Path) -> list[dict[str, Any]]:
    """checkov's JSON report of the CloudFormation templates in ``folder``, one entry per check type."""
    done = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-d", str(folder), "--framework", "cloudformation", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise SystemExit(f"checkov did not run (exit {done.returncode}):\n{done.stderr[-4000:]}")
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


def registered_checks() -> dict[str, set[str]]:
    """Check ids by CloudFormation resource type, from the installed checkov's registry."""
    from checkov.cloudformation.checks.resource.registry import cfn_registry

    return {kind: {check.id for check in checks} for kind, checks in cfn_registry.checks.items()}


TABLE = Path(__file__).resolve().parents[1] / "blueprints" / "constructs" / "common" / "checks.py"


def table_problems(registry: dict[str, set[str]]) -> list[str]:
    """``CHECKOV_RESOURCE_TYPES`` (read from the source: this venv has no aws-cdk) against checkov's registry."""
    tree = ast.parse(TABLE.read_text())
    (node,) = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and n.target.id == "CHECKOV_RESOURCE_TYPES"
    ]
    # Each entry is "CKV_...": frozenset({"AWS::...", ...}): the call's one argument is a literal set.
    assert isinstance(node, ast.Dict)
    table = {
        ast.literal_eval(key): ast.literal_eval(value.args[0])
        for key, value in zip(node.keys, node.values, strict=True)
        if key is not None and isinstance(value, ast.Call)
    }
    problems = []
    for check, kinds in table.items():
        actual = {kind for kind, ids in registry.items() if check in ids}
        if set(kinds) != actual:
            problems.append(
                f"CHECKOV_RESOURCE_TYPES[{check!r}] is {sorted(kinds)}; checkov runs it on {sorted(actual)}"
            )
    return problems


def skip_problems(path: Path, registry: dict[str, set[str]]) -> list[str]:
    problems = []
    resources = json.loads(path.read_text()).get("Resources", {})
    for logical_id, resource in resources.items():
        skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            check, comment = skip.get("id"), str(skip.get("comment", ""))
            where = f"{path.name}: {logical_id} ({resource.get('Type')})"
            if check not in registry.get(resource.get("Type", ""), set()):
                problems.append(f"{where} skips {check}, which checkov does not run on this resource type")
            if len(comment.strip()) < MIN_REASON:
                problems.append(f"{where} skips {check} without a reason: {comment!r}")
    return problems


def collect(arguments: list[str]) -> list[Path]:
    """The templates named by ``arguments``: each folder's ``*.template.json``, and each file as it is."""
    paths: list[Path] = []
    for argument in arguments or ["cdk.out"]:
        path = Path(argument)
        if path.is_dir():
            paths += templates(path)
        elif path.is_file():
            paths.append(path)
        else:
            raise SystemExit(f"{argument}: no such folder or template")
    return paths


def main(argv: list[str]) -> int:
    paths = collect(argv)
    problems: list[str] = []
    registry = registered_checks()
    problems += table_problems(registry)
    for path in paths:
        problems += skip_problems(path, registry)
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory() as scanned:
        # One folder for checkov, every template under a name it reads as CloudFormation.
        for path in paths:
            name = path.name if path.name.endswith(".template.json") else f"{path.stem}.template.json"
            shutil.copyfile(path, Path(scanned) / name)
        parts = run_checkov(Path(scanned))
    for part in parts:
        summary = part.get("summary", {})
        passed += summary.get("passed", 0)
        skipped += summary.get("skipped", 0)
        for finding in part.get("results", {}).get("failed_checks", []):
            failed += 1
            name = Path(finding["file_path"]).name
            problems.append(f"{name}: {finding['resource']}: {finding['check_id']} {finding['check_name']}")
    for line in problems:
        print(line)
    print(
        f"checkov over {len(paths)} templates: {passed} passed, {skipped} skipped with a reason, "
        f"{failed} failed; {len(problems) - failed} problems with skips"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
