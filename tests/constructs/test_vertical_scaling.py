"""VerticalScaling: the example stack (both modes, both triggers) and a stack of
non-default options, each synthesized once with both nag packs; then one test
per validation branch."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from blueprints.constructs.common import acknowledge
from blueprints.constructs.vertical_scaling import (
    AlarmTrigger,
    Direction,
    ReplacedInstanceAction,
    ResizeMode,
    ScheduleTrigger,
    VerticalScaling,
    minimum_lock_seconds,
)
from blueprints.example_app import add_nag_packs
from blueprints.stacks.vertical_scaling import LADDER as LADDER_OF_EXAMPLE
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

ENV = cdk.Environment(account="111111111111", region="eu-west-1")
LADDER = ["m7i.large", "m7i.xlarge"]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vertical_scaling")


@pytest.fixture(scope="module")
def template(outdir: Path) -> Template:
    return synth_example("blueprints.stacks.vertical_scaling", outdir=outdir)["VerticalScaling"]


@pytest.fixture(scope="module")
def options() -> Template:
    """Replace mode with every target group allowed, termination, a user topic; no stack env."""
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Options")
    topic = sns.Topic(stack, "Ops", enforce_ssl=True)
    acknowledge(topic, "AwsSolutions-SNS2", "test topic of an options stack; encryption is the user's choice here")
    VerticalScaling(
        stack,
        "Fleet",
        instance_sizes=[("c7g.large", "c6g.large"), "c7g.xlarge"],
        target_tag_key="Team",
        target_tag_value="batch",
        mode=ResizeMode.REPLACE,
        replaced_instance_action=ReplacedInstanceAction.TERMINATE,
        notification_topic=topic,
        dry_run=True,
        cooldown=cdk.Duration.hours(1),
        volume_encryption_keys=[kms.Key(stack, "Volumes", enable_key_rotation=True)],
    )
    add_nag_packs(app)
    app.synth()
    return Template.from_stack(stack)


def _statements(template: Template, policy_prefix: str) -> list[dict[str, Any]]:
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp(f"^{policy_prefix}")}}
    )
    assert policies, f"no policy starting with {policy_prefix}"
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _definition(template: Template, comment: str) -> dict[str, Any]:
    for machine in template.find_resources("AWS::StepFunctions::StateMachine").values():
        body = machine["Properties"]["DefinitionString"]
        text = "".join(p if isinstance(p, str) else "ARN" for p in body["Fn::Join"][1])
        definition: dict[str, Any] = json.loads(text)
        if comment in definition.get("Comment", ""):
            return definition
    raise AssertionError(f"no state machine with comment {comment!r}")


def _allows(statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether Allow statements grant ``action`` on ``resource`` with request ``context``.

    IAM's evaluation for the operators these policies use (IAM User Guide, "Condition operators"): a
    ``StringEquals``/``StringLike`` key absent from the request context does not match, so the condition fails;
    ``Resource`` and ``StringLike`` patterns match ``*`` and ``?``.
    """

    def matches(pattern: str, value: str) -> bool:
        return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))

    def holds(operator: str, block: dict[str, Any]) -> bool:
        for key, wanted in block.items():
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            if key not in context:
                return False
            if operator == "StringEquals" and context[key] not in values:
                return False
            if operator == "StringLike" and not any(matches(v, context[key]) for v in values):
                return False
        return True

    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if statement["Effect"] != "Allow" or action not in _actions(statement):
            continue
        if not any(isinstance(r, str) and matches(r, resource) for r in resources):
            continue
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals", "StringLike"}, conditions
        if all(holds(op, block) for op, block in conditions.items()):
            return True
    return False


_INSTANCE = "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0"
_TAGGED = {"aws:ResourceTag/VerticalScaling": "back-office"}


@pytest.mark.parametrize(
    ("action", "context", "allowed"),
    [
        ("ec2:StopInstances", _TAGGED, True),
        ("ec2:StartInstances", _TAGGED, True),
        ("ec2:StopInstances", {"aws:ResourceTag/VerticalScaling": "web"}, False),
        # The handler's own requests: a type on the ladder, each way.
        ("ec2:ModifyInstanceAttribute", {**_TAGGED, "ec2:Attribute/InstanceType": "m7i.xlarge"}, True),
        ("ec2:ModifyInstanceAttribute", {**_TAGGED, "ec2:Attribute/InstanceType": "m6i.large"}, True),
        # cloudsplaining's ModifyEC2InstanceUserDataThenRestart: a user-data request carries no type key.
        ("ec2:ModifyInstanceAttribute", {**_TAGGED, "ec2:Attribute": "userData"}, False),
        ("ec2:ModifyInstanceAttribute", _TAGGED, False),
        # A type off the ladder, or the right type on an instance without the target tag.
        ("ec2:ModifyInstanceAttribute", {**_TAGGED, "ec2:Attribute/InstanceType": "p5.48xlarge"}, False),
        ("ec2:ModifyInstanceAttribute", {"ec2:Attribute/InstanceType": "m7i.xlarge"}, False),
    ],
)
def test_restart_role_may_only_stop_start_and_change_the_type_of_tagged_instances(
    template: Template, action: str, context: dict[str, str], allowed: bool
) -> None:
    statements = _statements(template, "BackOfficeScalingRestartFunctionRole")
    assert _allows(statements, action, _INSTANCE, context) is allowed


def test_restart_role_may_stop_start_and_modify_only_tagged_instances(template: Template) -> None:
    statements = _statements(template, "BackOfficeScalingRestartFunctionRole")
    mutating = [s for s in statements if {"ec2:StopInstances", "ec2:StartInstances"} & set(_actions(s))]
    assert len(mutating) == 1
    assert set(_actions(mutating[0])) == {"ec2:StopInstances", "ec2:StartInstances"}
    assert mutating[0]["Condition"] == {"StringEquals": {"aws:ResourceTag/VerticalScaling": "back-office"}}
    assert mutating[0]["Resource"] == "arn:aws:ec2:us-east-1:111111111111:instance/*"
    modify = [s for s in statements if "ec2:ModifyInstanceAttribute" in _actions(s)]
    assert [_actions(s) for s in modify] == [["ec2:ModifyInstanceAttribute"]]
    assert modify[0]["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/VerticalScaling": "back-office",
            "ec2:Attribute/InstanceType": sorted(t for rung in LADDER_OF_EXAMPLE for t in rung),
        }
    }
    unconditioned = [s for s in statements if s["Resource"] == "*"]
    assert {a for s in unconditioned for a in _actions(s)} == {
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus",
    }


def test_no_policy_grants_a_wildcard_action(template: Template) -> None:
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in _actions(statement):
                assert action != "*" and not action.endswith(":*"), action


def test_replace_role_launches_only_tagged_instances_and_passes_only_the_web_role(template: Template) -> None:
    statements = _statements(template, "WebScalingReplaceFunctionRole")
    run = [s for s in statements if "ec2:RunInstances" in _actions(s) and "Condition" in s]
    launch = next(s for s in run if "aws:RequestTag/VerticalScaling" in s["Condition"]["StringEquals"])
    assert launch["Condition"]["StringEquals"] == {
        "aws:RequestTag/VerticalScaling": "web",
        "aws:RequestTag/blueprints:vertical-scaling": "replace",
    }
    retire = next(s for s in statements if "ec2:TerminateInstances" in _actions(s))
    assert retire["Condition"] == {"StringEquals": {"aws:ResourceTag/VerticalScaling": "web"}}
    pass_role = next(s for s in statements if _actions(s) == ["iam:PassRole"])
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    assert "WebInstanceRole" in json.dumps(pass_role["Resource"])
    targets = next(s for s in statements if "elasticloadbalancing:RegisterTargets" in _actions(s))
    assert list(targets["Resource"]) == ["Ref"] and targets["Resource"]["Ref"].startswith("WebTargets")
    cleanup = next(s for s in statements if "ec2:DeleteSnapshot" in _actions(s))
    assert cleanup["Condition"] == {"StringEquals": {"ec2:ResourceTag/blueprints:vertical-scaling": "replace"}}


def test_replace_role_may_tag_a_retired_instance_with_its_replacement_only(template: Template) -> None:
    statements = _statements(template, "WebScalingReplaceFunctionRole")
    tagging = [s for s in statements if "ec2:CreateTags" in _actions(s)]
    mark = next(s for s in tagging if "ec2:CreateAction" not in json.dumps(s.get("Condition", {})))
    assert _actions(mark) == ["ec2:CreateTags"]
    assert mark["Resource"] == "arn:aws:ec2:us-east-1:111111111111:instance/*"
    assert mark["Condition"] == {
        "StringEquals": {"aws:ResourceTag/VerticalScaling": "web"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["blueprints:vertical-scaling:replaced-by"]},
        "StringLike": {"aws:RequestTag/blueprints:vertical-scaling:replaced-by": "i-*"},
    }
    # Every other tagging is of resources being created by RunInstances or CreateImage.
    others = [s for s in tagging if s is not mark]
    assert [s["Condition"] for s in others] == [{"StringEquals": {"ec2:CreateAction": ["RunInstances", "CreateImage"]}}]


@pytest.mark.parametrize("description", ["^Lists the tagged instances", "^Plans one resize"])
def test_targets_and_plan_functions_know_the_constructs_tag_key(template: Template, description: str) -> None:
    """Targets skips retired instances by it; Plan counts it among a replacement's tags."""
    functions = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Description": Match.string_like_regexp(description)}}
    )
    assert len(functions) == 2
    for function in functions.values():
        assert function["Properties"]["Environment"]["Variables"]["MARK_TAG_KEY"] == "blueprints:vertical-scaling"


def test_schedules_use_cron_with_a_time_zone_and_say_which_way(template: Template) -> None:
    template.resource_count_is("AWS::Scheduler::Schedule", 3)
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 8 ? * MON-FRI *)",
            "ScheduleExpressionTimezone": "Europe/Paris",
            "Target": Match.object_like(
                {
                    "Input": Match.serialized_json(Match.object_like({"direction": "up"})),
                    "DeadLetterConfig": {"Arn": Match.any_value()},
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 3},
                }
            ),
        },
    )
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {"ScheduleExpression": "cron(0 22 * * ? *)", "ScheduleExpressionTimezone": "America/New_York"},
    )


def test_alarm_state_changes_start_the_state_machine_with_a_direction(template: Template) -> None:
    template.resource_count_is("AWS::Events::Rule", 2)
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [{"Fn::GetAtt": [Match.string_like_regexp("^BackOfficeCpuHigh"), "Arn"]}],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            "Targets": [
                Match.object_like(
                    {
                        "InputTransformer": {
                            "InputPathsMap": {"detail-alarmName": "$.detail.alarmName"},
                            "InputTemplate": '{"direction":"up","trigger":"alarm <detail-alarmName>"}',
                        },
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                    }
                )
            ],
        },
    )


def test_lock_table_expires_items_and_keeps_recovery(template: Template) -> None:
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 2)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "instance_id", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})],
        },
    )


def test_handlers_are_synchronous_steps_of_the_state_machine(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.14"}})
    assert len(functions) == 10  # five per mode
    assert all("DeadLetterConfig" not in f["Properties"] for f in functions.values())
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "LADDER": json.dumps(
                            [["m7i.large", "m6i.large"], ["m7i.xlarge", "m6i.xlarge"], ["m7i.2xlarge", "m6i.2xlarge"]]
                        ),
                        "MODE": "replace",
                        "TARGET_TAG_VALUE": "web",
                    }
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"LOCK_SECONDS": "7200", "COOLDOWN_SECONDS": "1800"})}},
    )


def test_state_machines_log_trace_and_time_out_per_run_not_per_instance(template: Template) -> None:
    template.resource_count_is("AWS::StepFunctions::StateMachine", 2)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
        },
    )
    restart = _definition(template, "back-office")
    # Each instance of a run takes its own lock of lock_timeout (2 h); the run may resize several batches.
    assert restart["TimeoutSeconds"] == 24 * 3600
    assert "AcquireLock" in restart["States"]["EachInstance"]["ItemProcessor"]["States"]
    states = restart["States"]["EachInstance"]["ItemProcessor"]["States"]
    assert restart["States"]["EachInstance"]["MaxConcurrency"] == 5
    for name in ("Stop", "AwaitStopped", "Modify", "Start", "AwaitRunning"):
        assert states[name]["Catch"][0]["Next"] == "Revert", name
    poll = next(r for r in states["AwaitStopped"]["Retry"] if r["ErrorEquals"] == ["NotReady"])
    assert (poll["IntervalSeconds"], poll["MaxAttempts"], poll["BackoffRate"]) == (15, 60, 1)
    assert {c["Next"] for c in states["Started"]["Choices"]} == {"Modify", "Revert"}
    assert states["ReleaseLock"]["Next"] == "Report"


def test_replace_flow_finds_every_registration_before_imaging_and_the_restart_flow_does_not(
    template: Template,
) -> None:
    states = _definition(template, "=web")["States"]["EachInstance"]["ItemProcessor"]["States"]
    assert states["Plan"]["Next"] == "Scanning"
    choice = states["Scanning"]
    assert choice["Choices"] == [{"Variable": "$.scanning", "BooleanEquals": True, "Next": "FindRegistrations"}]
    assert choice["Default"] == "ResizeNeeded"
    scan = states["FindRegistrations"]
    assert scan["Next"] == "Scanning" and scan["Parameters"]["step"] == "registrations"
    assert scan["Catch"][0]["Next"] == "ReleaseLock"
    restart = _definition(template, "back-office")["States"]["EachInstance"]["ItemProcessor"]["States"]
    assert restart["Plan"]["Next"] == "ResizeNeeded" and "FindRegistrations" not in restart
    plan = _statements(template, "WebScalingPlanFunctionRole")
    reads = {a for s in plan if s["Resource"] == "*" for a in _actions(s)}
    assert {
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeLoadBalancers",
    } <= reads


def test_replace_flow_deregisters_the_old_instance_only_after_the_new_is_healthy(template: Template) -> None:
    states = _definition(template, "=web")["States"]["EachInstance"]["ItemProcessor"]["States"]
    order = ["Image"]
    while order[-1] != "ReleaseLock":
        order.append(states[order[-1]]["Next"])
    assert order == [
        "Image",
        "AwaitImage",
        "Launch",
        "AwaitRunning",
        "Register",
        "AwaitHealthy",
        "DeregisterOld",
        "AwaitDrained",
        "RetireOld",
        "DiscardImage",
        "ReleaseLock",
    ]
    for name in order[:9]:
        assert states[name]["Catch"][0]["Next"] == "Cleanup", name
    health = next(r for r in states["AwaitHealthy"]["Retry"] if r["ErrorEquals"] == ["NotReady"])
    assert health["MaxAttempts"] == 40  # health_check_timeout of 10 minutes, polled every 15 s
    assert states["Report"]["Catch"][0]["Next"] == "ReportLost"


def test_each_instance_leaves_only_small_fields_in_the_run_output(template: Template) -> None:
    # A run's output is capped at 256 KiB: whole reports in $.results would fail a large run after the resizes.
    for comment in ("back-office", "=web"):
        each = _definition(template, comment)["States"]["EachInstance"]
        assert each["ResultPath"] == "$.results"
        states = each["ItemProcessor"]["States"]
        ends = sorted(name for name, state in states.items() if state.get("End"))
        assert ends == ["Report", "ReportUnreported"]
        fields = ("instance_id", "new_instance_id", "outcome", "old_size", "new_size")
        assert states["Report"]["ResultSelector"] == {f"{field}.$": f"$.{field}" for field in fields}
        assert "ResultPath" not in states["Report"]
        assert states["ReportLost"]["Next"] == "ReportUnreported"
        assert [c["Next"] for c in states["ReportLost"]["Catch"]] == ["ReportUnreported"]
        assert states["ReportUnreported"]["Parameters"] == {"instance_id.$": "$.instance_id", "outcome": "unreported"}


def test_image_discard_waits_for_snapshots_in_use_and_a_failure_leaves_the_resize_done(template: Template) -> None:
    states = _definition(template, "=web")["States"]["EachInstance"]["ItemProcessor"]["States"]
    for name in ("DiscardImage", "Cleanup"):
        poll = next(r for r in states[name]["Retry"] if r["ErrorEquals"] == ["NotReady"])
        assert (poll["IntervalSeconds"], poll["MaxAttempts"], poll["BackoffRate"]) == (15, 20, 1), name
    (catch,) = states["DiscardImage"]["Catch"]
    # Not $.cleanup_error, which reports the resize as failed: the new instance serves, only the image is left.
    assert (catch["ResultPath"], catch["Next"]) == ("$.discard_error", "ReleaseLock")
    statements = _statements(template, "WebScalingReplaceFunctionRole")
    reads = next(s for s in statements if "ec2:DescribeImages" in _actions(s))
    assert "ec2:DescribeSnapshots" in _actions(reads) and reads["Resource"] == "*"
    # DeregisterImage with DeleteAssociatedSnapshots deletes each snapshot as the caller: ec2:DeleteSnapshot.
    discard = next(s for s in statements if "ec2:DeregisterImage" in _actions(s))
    assert sorted(_actions(discard)) == ["ec2:DeleteSnapshot", "ec2:DeregisterImage"]
    assert "snapshot/*" in json.dumps(discard["Resource"])


def test_discard_polls_stay_within_the_wait_timeout() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "ShortWaits")
    VerticalScaling(
        stack,
        "Web",
        instance_sizes=LADDER,
        target_tag_value="web",
        mode=ResizeMode.REPLACE,
        wait_timeout=cdk.Duration.minutes(1),
        lock_timeout=cdk.Duration.minutes(25),
    )
    states = _definition(Template.from_stack(stack), "=web")["States"]["EachInstance"]["ItemProcessor"]["States"]
    poll = next(r for r in states["DiscardImage"]["Retry"] if r["ErrorEquals"] == ["NotReady"])
    assert poll["MaxAttempts"] == 4  # one wait_timeout: the lock_timeout bound of a replacement still holds


def test_failures_go_to_a_kms_encrypted_topic(template: Template) -> None:
    template.resource_count_is("AWS::SNS::Topic", 2)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_options_stack_uses_the_given_topic_terminates_and_scopes_targets_by_arn_pattern(options: Template) -> None:
    options.resource_count_is("AWS::SNS::Topic", 1)
    options.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"OLD_INSTANCE_ACTION": "terminate", "TARGET_TAG_KEY": "Team", "DRY_RUN": "true"}
                )
            }
        },
    )
    options.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"COOLDOWN_SECONDS": "3600"})}},
    )
    statements = _statements(options, "FleetReplaceFunctionRole")
    targets = next(s for s in statements if "elasticloadbalancing:RegisterTargets" in _actions(s))
    assert "targetgroup/*/*" in json.dumps(targets["Resource"])
    assert not [s for s in statements if "iam:PassRole" in _actions(s)]
    grant = next(s for s in statements if _actions(s) == ["kms:CreateGrant"])
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert "Volumes" in json.dumps(grant["Resource"])
    options.resource_count_is("AWS::KMS::Key", 1)  # the volumes' key only: the given topic needs none
    options.resource_count_is("AWS::Scheduler::Schedule", 0)
    options.resource_count_is("AWS::Events::Rule", 0)


def test_example_template_passes_cfn_lint(template: Template, outdir: Path) -> None:
    result = subprocess.run(
        [
            CFN_LINT,
            "--ignore-checks",
            "W3005",
            "--",
            str(outdir / "VerticalScaling.template.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- validation --------------------------------------------------------------------------------


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(context=cdk_context()), "V", env=ENV)


def _make(**overrides: Any) -> VerticalScaling:
    kwargs: dict[str, Any] = {"instance_sizes": LADDER, "target_tag_value": "web", **overrides}
    return VerticalScaling(_stack(), "Scaling", **kwargs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"instance_sizes": ["m5.large"]}, r"at least two sizes, smallest first .*got \['m5.large'\]"),
        ({"instance_sizes": ["m5.large", []]}, "each size in instance_sizes needs at least one instance type"),
        ({"instance_sizes": ["m5.large", "M5 XL"]}, r"must be EC2 instance types such as 'm7i.large' .*got 'M5 XL'"),
        # A typo of a size, and names no EC2 type has: refused at synthesis, not by EC2 mid-resize.
        ({"instance_sizes": ["m7i.larg", "m7i.xlarge"]}, r"size one of nano, micro, .*got 'm7i.larg'"),
        ({"instance_sizes": ["m7i.large", "m7i.xl"]}, r"must be EC2 instance types .*got 'm7i.xl'"),
        ({"instance_sizes": ["m7i.large", "m7i.0xlarge"]}, r"must be EC2 instance types .*got 'm7i.0xlarge'"),
        ({"instance_sizes": ["7i.large", "m7i.xlarge"]}, r"must be EC2 instance types .*got '7i.large'"),
        # Largest first would swap up and down; the order is checked within each family.
        (
            {"instance_sizes": ["m7i.2xlarge", "m7i.xlarge", "m7i.large"]},
            r"smallest size to the largest; size 2 \(m7i.xlarge\) is not larger than size 1 \(m7i.2xlarge\)",
        ),
        (
            {"instance_sizes": [("m7i.large", "m6i.large"), ("m7i.xlarge", "m6i.medium")]},
            r"size 2 \(m6i.medium\) is not larger than size 1 \(m6i.large\)",
        ),
        (
            {"instance_sizes": ["m7i.metal-24xl", "m7i.16xlarge"]},
            r"size 2 \(m7i.16xlarge\) is not larger than size 1 \(m7i.metal-24xl\)",
        ),
        ({"instance_sizes": ["t3.micro", ("t3.small", "t3.medium")]}, r"one family may appear once per size"),
        ({"instance_sizes": ["m5.large", ("m5.xlarge", "m5.large")]}, "m5.large appears twice"),
        ({"target_tag_key": "aws:cloudformation:stack-name"}, "not starting with 'aws:'"),
        ({"target_tag_value": ""}, "target_tag_value must be a tag value of 1-256 characters"),
        ({"replaced_instance_action": ReplacedInstanceAction.STOP}, "apply to mode=ResizeMode.REPLACE only"),
        ({"image_reboot": True}, "apply to mode=ResizeMode.REPLACE only"),
        ({"mode": ResizeMode.REPLACE, "target_groups": []}, "must list at least one target group"),
        ({"wait_timeout": cdk.Duration.seconds(5)}, "at least 15 seconds"),
        (
            {"lock_timeout": cdk.Duration.minutes(30)},
            r"lock_timeout must outlast the longest restart-mode resize \(\(4 \+ 1 type of the longest size\) x "
            r"wait_timeout .* = 5550 seconds\).*got lock_timeout=1800 seconds",
        ),
        (
            {
                "instance_sizes": ["m5.large", ("m5.xlarge", "m6i.xlarge", "m7i.xlarge", "c5.xlarge")],
                "lock_timeout": cdk.Duration.hours(2),
            },
            r"lock_timeout must outlast .*\(4 \+ 4 types of the longest size\) .* = 8250 seconds"
            r".*got lock_timeout=7200 seconds",
        ),
        ({"max_concurrency": 0}, "max_concurrency must be between 1 and 40"),
        (
            {"execution_timeout": cdk.Duration.hours(1)},
            r"execution_timeout .* between lock_timeout \(7200 seconds\) and one year .*got 3600 seconds",
        ),
        ({"execution_timeout": cdk.Duration.days(366)}, r"between lock_timeout .* and one year"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _make(**overrides)


@pytest.mark.parametrize(
    "ladder",
    [
        ["t3.nano", "t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge"],
        [("c7i-flex.large", "c7i.large"), "c7i.xlarge", ("c7i.48xlarge", "c6i.metal")],
        [("r7i.16xlarge", "x2iedn.8xlarge"), ("r7i.24xlarge", "u-6tb1.metal")],
        ["m7i.24xlarge", "m7i.metal"],  # plain metal varies by family: not ordered
    ],
)
def test_real_ladders_are_accepted(ladder: list[Any]) -> None:
    assert _make(instance_sizes=ladder).instance_sizes == [[t] if isinstance(t, str) else list(t) for t in ladder]


def test_trigger_without_a_direction_is_refused() -> None:
    stack = _stack()
    alarm = cloudwatch.Alarm(
        stack,
        "A",
        metric=cloudwatch.Metric(namespace="N", metric_name="M"),
        threshold=1,
        evaluation_periods=1,
    )
    with pytest.raises(ValueError, match="direction must be Direction.UP or Direction.DOWN"):
        VerticalScaling(
            stack,
            "S",
            instance_sizes=LADDER,
            target_tag_value="web",
            alarms=[AlarmTrigger("up", alarm)],  # type: ignore[arg-type]
        )


def test_topic_and_key_for_a_new_topic_are_refused_together() -> None:
    stack = _stack()
    topic = sns.Topic(stack, "T")
    with pytest.raises(ValueError, match="got both notification_topic and encryption_key"):
        VerticalScaling(
            stack,
            "S",
            instance_sizes=LADDER,
            target_tag_value="web",
            notification_topic=topic,
            encryption_key=kms.Key(stack, "K"),
        )


def test_restart_mode_refuses_target_groups_and_roles() -> None:
    stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["eu-west-1a"], nat_gateways=0)
    group = elbv2.ApplicationTargetGroup(stack, "G", vpc=vpc, port=80)
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    with pytest.raises(ValueError, match="apply to mode=ResizeMode.REPLACE only"):
        VerticalScaling(stack, "S", instance_sizes=LADDER, target_tag_value="web", target_groups=[group])
    with pytest.raises(ValueError, match="apply to mode=ResizeMode.REPLACE only"):
        VerticalScaling(stack, "T", instance_sizes=LADDER, target_tag_value="web", instance_roles=[role])


def _timeout(scaling: VerticalScaling) -> int:
    template = Template.from_stack(cdk.Stack.of(scaling))
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    text = "".join(p if isinstance(p, str) else "ARN" for p in machine["Properties"]["DefinitionString"]["Fn::Join"][1])
    return int(json.loads(text)["TimeoutSeconds"])


def test_execution_timeout_is_given_or_a_day_and_never_shorter_than_the_lock() -> None:
    assert _timeout(_make(execution_timeout=cdk.Duration.hours(6))) == 6 * 3600
    assert _timeout(_make(lock_timeout=cdk.Duration.hours(30))) == 30 * 3600


def test_attributes_expose_what_was_built() -> None:
    stack = _stack()
    scaling = VerticalScaling(
        stack,
        "S",
        instance_sizes=LADDER,
        target_tag_value="web",
        schedules=[
            ScheduleTrigger(
                Direction.DOWN, scheduler.ScheduleExpression.cron(hour="20", time_zone=cdk.TimeZone.ETC_UTC)
            )
        ],
    )
    assert scaling.instance_sizes == [["m7i.large"], ["m7i.xlarge"]]
    assert len(scaling.schedules) == 1 and scaling.alarm_rules == []
    assert len(scaling.handlers) == 5
    assert scaling.state_machine.state_machine_arn
    assert scaling.lock_table.table_name and scaling.notification_topic.topic_arn


def _wait_seconds(state: dict[str, Any], errors: tuple[str, ...]) -> int:
    """Seconds a state's retriers for ``errors`` wait in all, as Step Functions schedules them."""
    total = 0
    for retrier in state.get("Retry", []):
        if set(retrier["ErrorEquals"]) & set(errors):
            interval, rate = retrier["IntervalSeconds"], retrier.get("BackoffRate", 2)
            total += int(sum(interval * rate**n for n in range(retrier["MaxAttempts"])))
    return total


@pytest.mark.parametrize("rung", [1, 2, 4])
def test_the_restart_lock_minimum_is_the_sum_of_the_definitions_waits(rung: int) -> None:
    ladder = [["m5.large"], [f"{family}.xlarge" for family in ("m5", "m6i", "m7i", "c5")[:rung]]]
    wait = cdk.Duration.minutes(7)
    scaling = _make(instance_sizes=ladder, wait_timeout=wait, lock_timeout=cdk.Duration.hours(5))
    states = _definition(Template.from_stack(cdk.Stack.of(scaling)), "=web")["States"]["EachInstance"]
    states = states["ItemProcessor"]["States"]
    waits = {name: _wait_seconds(states[name], ("NotReady", "StartFailed")) for name in states}
    # AwaitRunning runs once per candidate type of the target size; every other wait once on the longest path.
    longest = waits["AwaitStopped"] + rung * waits["AwaitRunning"] + waits["Revert"] + waits["AwaitReverted"]
    assert waits["Revert"] == 2 * 28 * 15 + 450
    minimum, _ = minimum_lock_seconds(ResizeMode.RESTART, ladder, wait, cdk.Duration.minutes(10))
    assert minimum == longest + 600


def test_the_replace_lock_minimum_is_the_sum_of_the_definitions_waits() -> None:
    wait, health = cdk.Duration.minutes(7), cdk.Duration.minutes(4)
    scaling = _make(mode=ResizeMode.REPLACE, wait_timeout=wait, health_check_timeout=health)
    states = _definition(Template.from_stack(cdk.Stack.of(scaling)), "=web")["States"]["EachInstance"]
    states = states["ItemProcessor"]["States"]
    waits = {name: _wait_seconds(states[name], ("NotReady",)) for name in states}
    steps = ("AwaitImage", "AwaitRunning", "AwaitHealthy", "AwaitDrained")
    longest = sum(waits[name] for name in steps) + max(waits["DiscardImage"], waits["Cleanup"])
    minimum, _ = minimum_lock_seconds(ResizeMode.REPLACE, [["m5.large"], ["m5.xlarge"]], wait, health)
    assert minimum == longest + 600


def test_the_default_lock_timeout_outlasts_a_long_size() -> None:
    ladder = [["m5.large"], ["m5.xlarge", "m6i.xlarge", "m7i.xlarge", "c5.xlarge"]]
    scaling = _make(instance_sizes=ladder)
    env = Template.from_stack(cdk.Stack.of(scaling)).find_resources("AWS::Lambda::Function")
    seconds = {f["Properties"]["Environment"]["Variables"].get("LOCK_SECONDS") for f in env.values()} - {None}
    assert seconds == {"8250"}  # (4 + 4) x 900 + 450 + 600, above the 2-hour default


def test_find_targets_and_idempotent_launch_steps_retry_throttling_and_timeouts(template: Template) -> None:
    restart = _definition(template, "back-office")
    targets = {e for r in restart["States"]["FindTargets"]["Retry"] for e in r["ErrorEquals"]}
    assert {"ClientError", "Lambda.TooManyRequestsException", "States.Timeout"} <= targets
    assert {"Lambda.ServiceException", "Lambda.SdkClientException"} <= targets
    states = _definition(template, "=web")["States"]["EachInstance"]["ItemProcessor"]["States"]
    for name in ("Image", "Launch"):
        errors = {e for r in states[name]["Retry"] for e in r["ErrorEquals"]}
        assert {"Sandbox.Timedout", "Lambda.Unknown", "Lambda.TooManyRequestsException"} <= errors, name
    assert not {"Sandbox.Timedout"} & {e for r in states["RetireOld"]["Retry"] for e in r["ErrorEquals"]}


@pytest.mark.parametrize("policy", ["WebScalingPlanFunctionRole", "WebScalingReplaceFunctionRole"])
def test_instance_attributes_such_as_user_data_are_read_from_tagged_instances_only(
    template: Template, policy: str
) -> None:
    statements = _statements(template, policy)
    reads = [s for s in statements if "ec2:DescribeInstanceAttribute" in _actions(s)]
    assert len(reads) == 1  # CDK may merge it with the other actions on tagged instances
    assert reads[0]["Resource"] == "arn:aws:ec2:us-east-1:111111111111:instance/*"
    assert reads[0]["Condition"] == {"StringEquals": {"aws:ResourceTag/VerticalScaling": "web"}}
    instance = "arn:aws:ec2:us-east-1:111111111111:instance/i-0123456789abcdef0"
    assert not _allows(statements, "ec2:DescribeInstanceAttribute", instance, {"aws:ResourceTag/VerticalScaling": "x"})


def test_example_instances_use_the_image_cached_in_cdk_context_json(template: Template) -> None:
    """An SSM image parameter is resolved again on every deploy: a newly published image would replace both
    instances at their template size (undoing any resize), and CloudFormation could not delete the old ones,
    which have termination protection. The image is looked up once and cached in cdk.context.json."""
    cached = json.loads((Path(__file__).resolve().parents[2] / "cdk.context.json").read_text())
    key = next(k for k in cached if "parameterName=/aws/service/ami-amazon-linux-latest/al2023" in k)
    instances = template.find_resources("AWS::EC2::Instance")
    assert len(instances) == 2
    assert {i["Properties"]["ImageId"] for i in instances.values()} == {cached[key]}
    parameters = template.to_json().get("Parameters", {})
    assert not [name for name in parameters if "amilinuxlatest" in name.lower()]


def test_every_run_that_fails_times_out_or_is_aborted_alarms_to_the_constructs_topic(template: Template) -> None:
    # A timed-out or aborted run reaches no Catch, so ReportRunFailure never runs: the alarm is its only signal.
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    topics = template.find_resources("AWS::SNS::Topic")
    alarms = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/States"
    ]
    assert len(alarms) == 3 * len(machines) == 6
    for construct in ("BackOfficeScaling", "WebScaling"):
        (machine,) = (k for k in machines if k.startswith(f"{construct}StateMachine"))
        (topic,) = (k for k in topics if k.startswith(f"{construct}Notifications"))
        own = [a for a in alarms if a["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": machine}}]]
        assert sorted(a["MetricName"] for a in own) == ["ExecutionsAborted", "ExecutionsFailed", "ExecutionsTimedOut"]
        for alarm in own:
            assert alarm["AlarmActions"] == alarm["OKActions"] == [{"Ref": topic}]
            assert alarm["Threshold"] == 1 and alarm["TreatMissingData"] == "notBreaching"
        # The topic's policy (TLS-only, so SNS's default is replaced) lets this account's alarms publish.
        (policy,) = (
            p["Properties"]["PolicyDocument"]["Statement"]
            for p in template.find_resources("AWS::SNS::TopicPolicy").values()
            if p["Properties"]["Topics"] == [{"Ref": topic}]
        )
        (publish,) = [s for s in policy if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        assert publish["Action"] == "sns:Publish" and "ArnLike" in publish["Condition"]
