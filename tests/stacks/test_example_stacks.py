"""Every example stack: synthesized once with both nag packs, and held to its snapshot.

A snapshot changes only in a commit that says why (``make snapshot-update``).
The snapshot files are plain templates, which ``make diff`` compares with
``cdk diff --template``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from blueprints.example_app import STACK_NAMES
from tests.snapshot_kit import TemplateSnapshot, render


@pytest.fixture
def template_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(TemplateSnapshot)


def test_example_stacks_use_the_fixed_names(example_templates: dict[str, Any]) -> None:
    """Renaming an example stack replaces every deployed copy of it: the names are written here, not derived."""
    fixed = {
        "EmrReconciliation",
        "MwaaDrPrimary",
        "MwaaDrSecondary",
        "SecurityLakeSubscriber",
        "SecurityLakeVisualization",
        "UnifiedApi",
        "VerticalScaling",
        "WebLogicAdminHa",
    }
    assert set(STACK_NAMES) == fixed
    assert sorted(example_templates) == sorted(fixed)


def test_synthesis_needs_no_aws_lookup(example_assembly: Path) -> None:
    """A missing context value (an AZ or VPC lookup) makes `cdk synth` call AWS, which fails offline."""
    manifest = json.loads((example_assembly / "manifest.json").read_text())
    assert manifest.get("missing", []) == []


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_template(stack_name: str, example_templates: dict[str, Any], template_snapshot: SnapshotAssertion) -> None:
    assert render(example_templates[stack_name]) == template_snapshot


#: The example app's other shapes, chosen by context: variant -> (stack module, context, the stacks it shapes).
VARIANTS: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "backup_restore": (
        "blueprints.stacks.mwaa_dr",
        {"mwaa_dr_strategy": "backup_restore"},
        ("MwaaDrPrimary", "MwaaDrSecondary"),
    ),
    "cloudfront": ("blueprints.stacks.unified_api", {"unified_api:cloudfront": "true"}, ("UnifiedApi",)),
}
VARIANT_STACKS = [(variant, stack) for variant, (_, _, stacks) in VARIANTS.items() for stack in stacks]


@pytest.fixture(scope="module")
def variant_templates() -> dict[tuple[str, str], Any]:
    from tests.stack_kit import synth_example

    out: dict[tuple[str, str], Any] = {}
    for variant, (module, context, stacks) in VARIANTS.items():
        templates = synth_example(module, **context)
        out.update({(variant, name): templates[name].to_json() for name in stacks})
    return out


@pytest.mark.parametrize(("variant", "stack_name"), VARIANT_STACKS)
def test_variant_template(
    variant: str, stack_name: str, variant_templates: dict[tuple[str, str], Any], template_snapshot: SnapshotAssertion
) -> None:
    """The other shapes of the example app: the MWAA DR pair's `-c mwaa_dr_strategy=backup_restore`, the unified
    API's `-c unified_api:cloudfront=true`. `make checkov` scans these snapshots beside cdk.out."""
    assert render(variant_templates[(variant, stack_name)]) == template_snapshot


def test_variant_templates_pass_cfn_lint(variant_templates: dict[tuple[str, str], Any], tmp_path: Path) -> None:
    """`make test` lints the default app's templates; this lints the variants'."""
    files = []
    for (variant, name), template in variant_templates.items():
        path = tmp_path / f"{name}-{variant}.template.json"
        path.write_text(json.dumps(template))
        files.append(str(path))
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", "W3005", "--", *files], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


_NEW_APP_PROBE = """
import json, sys
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_sqs as sqs
from blueprints.example_app import add_nag_packs, new_app
app = new_app(outdir=sys.argv[1])
stack = cdk.Stack(app, "Probe", env=cdk.Environment(account="111111111111", region="us-east-1"))
sqs.Queue(stack, "Queue")  # AwsSolutions-SQS3 and others: unacknowledged, they must fail synthesis
# A hard-coded AZ: the built-in validation, when it runs, reports it (W3010).
ec2.CfnSubnet(stack, "Subnet", vpc_id="vpc-0123456789abcdef0", cidr_block="10.0.0.0/24", availability_zone="us-east-1a")
add_nag_packs(app)
try:
    app.synth()
except Exception as error:
    print("synthesis failed:", str(error).splitlines()[0])
"""


def test_new_app_runs_the_nag_packs_but_not_the_builtin_validation(tmp_path: Path) -> None:
    """The example app's App: an unacknowledged nag finding still fails synthesis; CDK's own template
    validation (a warning-only subset of cfn-lint) does not run. Without the pytest environment's
    CDK_VALIDATION=false, so that the App property alone is what switches it off."""
    env = {key: value for key, value in os.environ.items() if key != "CDK_VALIDATION"}
    out = subprocess.run(
        [sys.executable, "-c", _NEW_APP_PROBE, str(tmp_path)], capture_output=True, text=True, env=env, check=True
    )
    assert "synthesis failed: ValidationFailed" in out.stdout, out.stdout + out.stderr
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert {r["pluginName"] for r in report["pluginReports"]} == {"AwsSolutions", "Serverless"}


def test_no_example_bucket_is_left_to_fail_the_stack_deletion(example_templates: dict[str, Any]) -> None:
    """CloudFormation deletes only empty buckets: every bucket the examples create is retained on deletion."""
    deleted = [
        f"{stack}/{logical_id}"
        for stack, template in example_templates.items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::S3::Bucket" and resource.get("DeletionPolicy") != "Retain"
    ]
    assert deleted == []


def _state_machine_log_groups(template: dict[str, Any]) -> list[tuple[str, Any]]:
    """(state machine logical id, name of each log group it logs to) for every state machine in ``template``."""
    resources = template["Resources"]
    found = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        destinations = resource["Properties"].get("LoggingConfiguration", {}).get("Destinations", [])
        assert destinations, f"{logical_id} sends its execution logs nowhere"
        for destination in destinations:
            arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
            group_id, attribute = arn["Fn::GetAtt"]
            assert attribute == "Arn" and resources[group_id]["Type"] == "AWS::Logs::LogGroup", arn
            found.append((logical_id, resources[group_id]["Properties"].get("LogGroupName")))
    return found


def test_every_state_machine_logs_under_vendedlogs_states(
    example_templates: dict[str, Any], variant_templates: dict[tuple[str, str], Any]
) -> None:
    """Step Functions' log deliveries to other names grow the account's 5,120-character CloudWatch Logs resource
    policy until a new state machine's logging fails; ``/aws/vendedlogs/`` groups do not (see
    ``blueprints.constructs.common.STATE_MACHINE_LOG_PREFIX``)."""
    templates = {**example_templates, **{f"{name} ({variant})": t for (variant, name), t in variant_templates.items()}}
    found = {
        f"{stack}/{machine}": name
        for stack, template in templates.items()
        for machine, name in _state_machine_log_groups(template)
    }
    # The vertical scaling pair, MWAA DR's failover and failback (both strategies), Security Lake's waiter.
    assert len(found) >= 7, found
    wrong = {m: n for m, n in found.items() if not (isinstance(n, str) and n.startswith("/aws/vendedlogs/states/"))}
    assert wrong == {}
