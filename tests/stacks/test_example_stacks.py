"""Every example stack: synthesized once with both nag packs, and held to its snapshot.

A snapshot changes only in a commit that says why (``make snapshot-update``).
The snapshot files are plain templates, which ``make diff`` compares with
``cdk diff --template``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from blueprints.example_app import STACK_NAMES, landed_stack_names
from tests.snapshot_kit import TemplateSnapshot, render


@pytest.fixture
def template_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TemplateSnapshot)


def test_example_stacks_use_the_fixed_names(example_templates: dict[str, Any]) -> None:
    assert set(example_templates) <= set(STACK_NAMES)
    assert sorted(example_templates) == sorted(landed_stack_names())


def test_synthesis_needs_no_aws_lookup(example_assembly: Path) -> None:
    """A missing context value (an AZ or VPC lookup) makes `cdk synth` call AWS, which fails offline."""
    manifest = json.loads((example_assembly / "manifest.json").read_text())
    assert manifest.get("missing", []) == []


@pytest.mark.parametrize("stack_name", landed_stack_names())
def test_template(stack_name: str, example_templates: dict[str, Any], template_snapshot: SnapshotAssertion) -> None:
    assert render(example_templates[stack_name]) == template_snapshot


@pytest.fixture(scope="module")
def backup_restore_templates() -> dict[str, Any]:
    from tests.stack_kit import synth_example

    templates = synth_example("blueprints.stacks.mwaa_dr", mwaa_dr_strategy="backup_restore")
    return {name: template.to_json() for name, template in templates.items()}


@pytest.mark.parametrize("stack_name", ["MwaaDrPrimary", "MwaaDrSecondary"])
def test_backup_restore_template(
    stack_name: str, backup_restore_templates: dict[str, Any], template_snapshot: SnapshotAssertion
) -> None:
    """The MWAA DR pair's other strategy (`-c mwaa_dr_strategy=backup_restore`)."""
    assert render(backup_restore_templates[stack_name]) == template_snapshot


def test_backup_restore_templates_pass_cfn_lint(backup_restore_templates: dict[str, Any], tmp_path: Path) -> None:
    """`make test` lints the default app's templates; this lints the other MWAA DR strategy's."""
    files = []
    for name, template in backup_restore_templates.items():
        path = tmp_path / f"{name}.template.json"
        path.write_text(json.dumps(template))
        files.append(str(path))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
