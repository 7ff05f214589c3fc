"""Issue #16: when ``cdk synth`` needs a lookup it cannot make, the error names the construct and the argument
that avoids it.

How the failure reaches an app (checked below with the real ``cdk`` CLI, and in aws-cdk-lib's
``core/lib/context-provider.ts``): the first synthesis reports the ``availability-zones`` lookup as missing
context; the CLI tries it, and without credentials runs the app again with the context value
``{"$providerError": "Need to perform AWS calls for account ..., but no credentials have been configured",
"$dontSaveContext": true}``; CDK then puts that message on the *stack* as an error, and the CLI stops. That
message names neither the construct that asked nor how to avoid it; the construct's own error does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53

import blueprints
from tests.conftest import ROOT, cdk_context

ACCOUNT, REGION = "111111111111", "eu-west-1"
KEY = f"availability-zones:account={ACCOUNT}:region={REGION}"
#: What the CLI hands the app after a failed lookup (aws-cdk CLI, context-providers/index.ts).
FAILED = {
    "$providerError": f"Need to perform AWS calls for account {ACCOUNT}, but no credentials have been configured",
    "$dontSaveContext": True,
}
CERTS = "s3://emr-tls-111111111111-eu-west-1/reconciliation/certificates.zip"


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1, flow_logs={"All": ec2.FlowLogOptions()})


def _weblogic(stack: cdk.Stack) -> Any:
    return blueprints.FloatingIpAdminServer(stack, "Admin")


def _weblogic_named_zones(stack: cdk.Stack) -> Any:
    return blueprints.FloatingIpAdminServer(stack, "Admin", availability_zones=[f"{REGION}a", f"{REGION}b"])


def _unified_api(stack: cdk.Stack) -> Any:
    zone = route53.HostedZone.from_hosted_zone_attributes(stack, "Zone", hosted_zone_id="Z0EXAMPLE", zone_name="ex.com")
    return blueprints.UnifiedApi(
        stack, "Api", domain_name="api.ex.com", hosted_zone=zone, availability_zones=[f"{REGION}a", f"{REGION}b"]
    )


def _emr(stack: cdk.Stack) -> Any:
    return blueprints.EmrReconciliationCluster(stack, "Recon", vpc=_vpc(stack), in_transit_certificates=CERTS)


def _mwaa_primary(stack: cdk.Stack) -> Any:
    return blueprints.MwaaDrPrimary(stack, "Primary", environment_name="orders", dr_region="us-west-2", vpc=_vpc(stack))


def _mwaa_secondary(stack: cdk.Stack) -> Any:
    return blueprints.MwaaDrSecondary(
        stack,
        "Dr",
        strategy="backup_restore",
        primary_environment_name="orders",
        primary_region="us-east-1",
        vpc=_vpc(stack),
    )


#: Each construct that creates a VPC (the fix: vpc=) or takes one (the fix: build that VPC offline-friendly).
BUILDERS: dict[str, tuple[Callable[[cdk.Stack], Any], str]] = {
    "FloatingIpAdminServer": (_weblogic, "creates a VPC"),
    "FloatingIpAdminServer with zone names": (_weblogic_named_zones, "creates a VPC"),
    "UnifiedApi": (_unified_api, "creates a VPC"),
    "EmrReconciliationCluster": (_emr, "the VPC passed as vpc="),
    "MwaaDrPrimary": (_mwaa_primary, "the VPC passed as vpc="),
    "MwaaDrSecondary": (_mwaa_secondary, "the VPC passed as vpc="),
}


def _errors(build: Callable[[cdk.Stack], Any], *, lookup: Any, stack_class: type[cdk.Stack] = cdk.Stack) -> list[str]:
    """The error annotations synthesis stops on, as (path, message) lines of its report."""
    context = cdk_context() if lookup is None else cdk_context(**{KEY: lookup})
    app = cdk.App(context=context)
    stack = stack_class(app, "Mine", env=cdk.Environment(account=ACCOUNT, region=REGION))
    build(stack)
    try:
        app.synth()
    except RuntimeError as error:  # aws-cdk-lib's ValidationFailed report: one ERROR paragraph per annotation
        report = str(error)
        return re.findall(r"ERROR (.*?) \(Annotation\)\n\s+(\S+) ", report, flags=re.S)
    return []


@pytest.mark.parametrize("kind", BUILDERS)
def test_a_failed_lookup_is_explained_by_the_construct_that_made_it(kind: str) -> None:
    build, says = BUILDERS[kind]
    errors = _errors(build, lookup=FAILED)
    ours = [message for message, path in errors if path != "Mine"]
    assert len(ours) == 1, errors
    message = ours[0]
    construct = kind.split()[0]
    assert message.startswith(f"{construct} 'Mine/"), message
    assert says in message and KEY in message and "blueprints.ExampleStack" in message
    if says == "creates a VPC":
        assert "pass vpc=" in message
    # CDK's own error stays on the stack: the construct's adds the how, it does not hide the what.
    assert [message for message, path in errors if path == "Mine"] == [FAILED["$providerError"]]


@pytest.mark.parametrize("kind", BUILDERS)
def test_no_error_before_the_lookup_is_tried_or_when_nothing_is_looked_up(kind: str) -> None:
    build, _says = BUILDERS[kind]
    # First synthesis: the lookup is only reported missing (with credentials the CLI then makes it).
    assert _errors(build, lookup=None) == []
    # A stack that answers for its zones (Fn::GetAZs) makes no lookup: a stale failed value is not blamed.
    assert _errors(build, lookup=FAILED, stack_class=blueprints.ExampleStack) == []
    # A successful lookup.
    assert _errors(build, lookup=[f"{REGION}a", f"{REGION}b", f"{REGION}c"]) == []


def test_the_cdk_cli_without_credentials_prints_the_constructs_error(tmp_path: Path) -> None:
    """The real thing: `cdk synth` with no credentials on an app of the README's shape but a plain cdk.Stack."""
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            f"""
            import aws_cdk as cdk
            import blueprints

            app = cdk.App()
            stack = cdk.Stack(app, "Mine", env=cdk.Environment(account="{ACCOUNT}", region="{REGION}"))
            blueprints.FloatingIpAdminServer(stack, "Admin")
            app.synth()
            """
        )
    )
    context = {k: v for k, v in json.loads((ROOT / "cdk.json").read_text())["context"].items() if k != KEY}
    (tmp_path / "cdk.json").write_text(json.dumps({"app": f"{sys.executable} app.py", "context": context}))
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in {"HOME", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"}
    }
    environment.update(
        HOME=str(tmp_path),  # no ~/.aws
        AWS_EC2_METADATA_DISABLED="true",  # no instance credentials either
        PYTHONPATH=str(ROOT),
        CDK_VALIDATION="false",
    )
    result = subprocess.run(
        ["cdk", "synth", "--no-notices", "--ci", "--quiet", "--version-reporting", "false"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "but no credentials have been configured" in output, output
    assert "FloatingIpAdminServer 'Mine/Admin' creates a VPC" in output, output
    assert "pass vpc=" in output, output
