"""The IAM of vertical scaling: what each function and the state machine may do, and the cdk-nag findings that
least privilege still leaves, each acknowledged with its reason.

Reads are granted on ``*`` (EC2 and ELB describe calls support no resource-level permissions); every change is
conditioned on the target tag, or on the construct's own mark for the images and snapshots it creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn

from blueprints.constructs.common import PUBLISH_KEY_ACTIONS, acknowledge, acknowledge_wildcard, grant_publish
from blueprints.constructs.vertical_scaling.names import MARK_TAG_KEY
from blueprints.constructs.vertical_scaling.options import ResizeMode

if TYPE_CHECKING:
    from blueprints.constructs.vertical_scaling.construct import VerticalScaling


def ec2_arn(stack: Stack, resource: str, account: bool = True) -> str:
    return stack.format_arn(service="ec2", resource=resource, resource_name="*", account=None if account else "")


def target_group_arn(stack: Stack) -> str:
    return stack.format_arn(service="elasticloadbalancing", resource="targetgroup", resource_name="*/*")


def grant_functions(
    scaling: VerticalScaling,
    *,
    target_groups: Sequence[elbv2.ITargetGroup] | None,
    instance_roles: Sequence[iam.IRole],
    volume_encryption_keys: Sequence[kms.IKey],
) -> None:
    """Give each of ``scaling``'s functions what its steps call, and acknowledge what remains on ``*``."""
    stack = Stack.of(scaling)
    instance_arn = ec2_arn(stack, "instance")
    tagged = {"StringEquals": {f"aws:ResourceTag/{scaling.target_tag_key}": scaling.target_tag_value}}
    _grant_reads(scaling, instance_arn, tagged)
    scaling.lock_table.grant(scaling.lock_handler.role, "dynamodb:UpdateItem")
    scaling.event_bus.grant_put_events_to(scaling.report_handler.role)
    grant_publish(scaling.notification_topic, scaling.report_handler.role)
    step_role = scaling.step_handler.role
    step_role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"]
            + (
                ["ec2:DescribeImages", "ec2:DescribeSnapshots", "elasticloadbalancing:DescribeTargetHealth"]
                if scaling.mode is ResizeMode.REPLACE
                else []
            ),
            resources=["*"],
        )
    )
    if scaling.mode is ResizeMode.RESTART:
        _grant_restart(step_role, instance_arn, tagged, scaling.instance_sizes)
    else:
        _grant_replace(scaling, step_role, instance_arn, tagged, target_groups, instance_roles)
    if volume_encryption_keys:
        _grant_volume_keys(step_role, volume_encryption_keys, stack.region)
    _acknowledge_functions(scaling, stack, bool(target_groups))


def _grant_reads(scaling: VerticalScaling, instance_arn: str, tagged: dict[str, dict[str, str]]) -> None:
    describe = ["ec2:DescribeInstances"]
    scaling.targets_handler.role.add_to_principal_policy(iam.PolicyStatement(actions=describe, resources=["*"]))
    plan_actions = [*describe, "ec2:DescribeInstanceTypes", "ec2:DescribeInstanceTypeOfferings"]
    if scaling.mode is ResizeMode.REPLACE:
        # DescribeLoadBalancers: the Classic Load Balancers the instance is in (the same action as ELBv2's).
        plan_actions += [
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeLoadBalancers",
            "ec2:DescribeInstanceCreditSpecifications",
        ]
    scaling.plan_handler.role.add_to_principal_policy(iam.PolicyStatement(actions=plan_actions, resources=["*"]))
    if scaling.mode is ResizeMode.REPLACE:
        # Stop and termination protection, shutdown behaviour (Plan) and user data (the launch step), of
        # target instances only: user data may hold secrets.
        for role in (scaling.plan_handler.role, scaling.step_handler.role):
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ec2:DescribeInstanceAttribute"], resources=[instance_arn], conditions=tagged
                )
            )


def _grant_restart(
    role: iam.IRole, instance_arn: str, tagged: dict[str, dict[str, str]], rungs: list[list[str]]
) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:StopInstances", "ec2:StartInstances"], resources=[instance_arn], conditions=tagged
        )
    )
    # The instance type only, and only to a type on the ladder: ModifyInstanceAttribute also sets user
    # data, which with a restart would run as root on the instance. ec2:Attribute/InstanceType is the
    # requested type (Service Authorization Reference, EC2: ec2:Attribute/${AttributeName}); a request
    # setting any other attribute lacks the key, and StringEquals then fails.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ec2:ModifyInstanceAttribute"],
            resources=[instance_arn],
            conditions={
                "StringEquals": {
                    **tagged["StringEquals"],
                    "ec2:Attribute/InstanceType": sorted({t for rung in rungs for t in rung}),
                }
            },
        )
    )


def _grant_replace(
    scaling: VerticalScaling,
    role: iam.IRole,
    instance_arn: str,
    tagged: dict[str, dict[str, str]],
    target_groups: Sequence[elbv2.ITargetGroup] | None,
    instance_roles: Sequence[iam.IRole],
) -> None:
    stack = Stack.of(scaling)

    def arn(resource: str, account: bool = True) -> str:
        return ec2_arn(stack, resource, account)

    image_arn, snapshot_arn, volume_arn = arn("image", account=False), arn("snapshot", account=False), arn("volume")
    marked = {"StringEquals": {f"ec2:ResourceTag/{MARK_TAG_KEY}": "replace"}}
    marks = {"StringEquals": {f"aws:RequestTag/{MARK_TAG_KEY}": "replace"}}
    statements = [
        # The old instance (imaged, stopped or terminated) and a failed new one carry the target tag.
        iam.PolicyStatement(
            actions=["ec2:CreateImage", "ec2:StopInstances", "ec2:TerminateInstances"],
            resources=[instance_arn],
            conditions=tagged,
        ),
        iam.PolicyStatement(actions=["ec2:CreateImage"], resources=[image_arn, snapshot_arn], conditions=marks),
        iam.PolicyStatement(
            actions=["ec2:RunInstances"],
            resources=[instance_arn, volume_arn],
            conditions={
                "StringEquals": {
                    f"aws:RequestTag/{scaling.target_tag_key}": scaling.target_tag_value,
                    f"aws:RequestTag/{MARK_TAG_KEY}": "replace",
                }
            },
        ),
        iam.PolicyStatement(actions=["ec2:RunInstances"], resources=[image_arn], conditions=marked),
        iam.PolicyStatement(
            actions=["ec2:RunInstances"],
            resources=[arn("subnet"), arn("security-group"), arn("network-interface"), arn("key-pair")],
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateTags"],
            resources=[instance_arn, volume_arn, image_arn, snapshot_arn],
            conditions={"StringEquals": {"ec2:CreateAction": ["RunInstances", "CreateImage"]}},
        ),
        # The retired old instance is tagged with its replacement, which takes it out of later runs' targets;
        # this one key only, and only on instances that carry the target tag.
        iam.PolicyStatement(
            actions=["ec2:CreateTags"],
            resources=[instance_arn],
            conditions={
                **tagged,
                "ForAllValues:StringEquals": {"aws:TagKeys": [f"{MARK_TAG_KEY}:replaced-by"]},
                "StringLike": {f"aws:RequestTag/{MARK_TAG_KEY}:replaced-by": "i-*"},
            },
        ),
        iam.PolicyStatement(
            actions=["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
            resources=[image_arn, snapshot_arn],
            conditions=marked,
        ),
        iam.PolicyStatement(
            actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
            resources=([g.target_group_arn for g in target_groups] if target_groups else [target_group_arn(stack)]),
        ),
    ]
    if instance_roles:
        statements.append(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[r.role_arn for r in instance_roles],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )
    for statement in statements:
        role.add_to_principal_policy(statement)


def _grant_volume_keys(role: iam.IRole, keys: Sequence[kms.IKey], region: str) -> None:
    """Starting or launching with customer managed EBS keys: grants for AWS resources, and use through EC2."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:CreateGrant"],
            resources=[k.key_arn for k in keys],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            resources=[k.key_arn for k in keys],
            conditions={"StringEquals": {"kms:ViaService": f"ec2.{region}.amazonaws.com"}},
        )
    )


def _acknowledge_functions(scaling: VerticalScaling, stack: Stack, target_groups: bool) -> None:
    describe = (
        "EC2 Describe* and Elastic Load Balancing Describe* calls support no resource-level permissions, "
        "so they are granted on '*'; they read metadata only."
    )
    for handler in (scaling.targets_handler, scaling.plan_handler, scaling.step_handler):
        acknowledge(handler.role, "AwsSolutions-IAM5[Resource::*]", describe)
    if scaling.mode is ResizeMode.RESTART:
        acknowledge_wildcard(
            scaling.step_handler.role,
            ec2_arn(stack, "instance"),
            "Stop, start and modify are allowed only on instances that carry the target tag "
            "(aws:ResourceTag condition), which is how the construct selects its instances, and modify only "
            "sets the instance type to one on the ladder (ec2:Attribute/InstanceType); their ids are "
            "not known at deploy time.",
        )
    else:
        _acknowledge_replace(scaling, stack, target_groups)


def _acknowledge_replace(scaling: VerticalScaling, stack: Stack, target_groups: bool) -> None:
    acknowledge_wildcard(
        scaling.plan_handler.role,
        ec2_arn(stack, "instance"),
        "DescribeInstanceAttribute (stop and termination protection, shutdown behaviour) is allowed only on "
        "instances that carry the target tag (aws:ResourceTag condition); their ids are not known at deploy time.",
    )
    reasons = {
        "instance": "Reading the old instance's user data for the launch, imaging, stopping, terminating and "
        "tagging the old instance as replaced (that one tag key "
        "only) are conditioned on the target tag, and launching on the new instance carrying it; instance "
        "ids are not known at deploy time.",
        "volume": "RunInstances creates the new instance's volumes, whose ids do not exist before the launch; "
        "the launch must tag them with the target and construct tags.",
        "subnet": "The new instance goes into the old one's subnet, known only when the resize runs.",
        "security-group": "The new instance gets the old one's security groups, known only when the resize runs.",
        "network-interface": "RunInstances creates the new instance's network interface; its id does not "
        "exist before the launch.",
        "key-pair": "The new instance gets the old one's key pair, known only when the resize runs.",
    }
    step_role = scaling.step_handler.role
    for resource, reason in reasons.items():
        acknowledge_wildcard(step_role, ec2_arn(stack, resource), reason)
    for resource in ("image", "snapshot"):
        acknowledge_wildcard(
            step_role,
            ec2_arn(stack, resource, account=False),
            "Images and snapshots are created per resize; using, tagging and deleting them is conditioned on "
            f"the {MARK_TAG_KEY} tag the construct sets when creating them.",
        )
    if not target_groups:
        acknowledge_wildcard(
            step_role,
            target_group_arn(stack),
            "The new instance joins whichever target groups the old one is in, found when the resize runs; "
            "pass target_groups to limit this to known groups.",
        )


def grant_state_machine(machine: sfn.StateMachine, topic_key: kms.IKey | None) -> None:
    """Let the state machine publish with ``topic_key``, the key of the topic the construct made (None: the
    user's topic, whose key the user grants)."""
    if topic_key is not None:
        topic_key.grant(machine.role, *PUBLISH_KEY_ACTIONS)
