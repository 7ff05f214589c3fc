"""What the route mover may do, scoped to this construct's route tables, group and instances, and the cdk-nag
findings those grants leave, each acknowledged with its reason."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from blueprints.constructs.common import acknowledge_wildcard, grant_publish
from blueprints.constructs.weblogic_floating_ip.options import ROUTE_TAG_KEY, ROUTE_TAG_VALUE


def grant_route_mover(
    role: iam.IRole, stack: Stack, *, route_table_ids: Sequence[str], group_name: str, topic: sns.ITopic
) -> None:
    """Replace or create the /28 route in ``route_table_ids``; on the group's instances only, turn off the
    source/destination check and set the route tag; complete the group's lifecycle action; publish to ``topic``."""
    route_tables = [
        stack.format_arn(service="ec2", resource="route-table", resource_name=rtb) for rtb in route_table_ids
    ]
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="MoveFloatingRoute",
            actions=["ec2:ReplaceRoute", "ec2:CreateRoute"],
            resources=route_tables,
        )
    )
    instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
    # ModifyInstanceAttribute changes one attribute per request (user data, instance type, security
    # groups, ...). ec2:Attribute/<name> is in the request context only for the attribute the request
    # sets (Service Authorization Reference for EC2), and StringEquals on a missing key does not
    # match: only SourceDestCheck=false passes, never another attribute.
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="DisableSourceDestCheckOnGroupInstances",
            actions=["ec2:ModifyInstanceAttribute"],
            resources=[instances],
            conditions={
                "StringEquals": {
                    "aws:ResourceTag/aws:autoscaling:groupName": group_name,
                    "ec2:Attribute/SourceDestCheck": "false",
                }
            },
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="MarkRouteMovedOnGroupInstances",
            actions=["ec2:CreateTags"],
            resources=[instances],
            conditions={
                "StringEquals": {
                    "aws:ResourceTag/aws:autoscaling:groupName": group_name,
                    f"aws:RequestTag/{ROUTE_TAG_KEY}": ROUTE_TAG_VALUE,
                },
                "ForAllValues:StringEquals": {"aws:TagKeys": [ROUTE_TAG_KEY]},
            },
        )
    )
    group_arn = stack.format_arn(
        service="autoscaling",
        resource="autoScalingGroup",
        resource_name=f"*:autoScalingGroupName/{group_name}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="CompleteLaunchLifecycleAction",
            actions=["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
            resources=[group_arn],
        )
    )
    grant_publish(topic, role)
    _acknowledge_route_mover_grants(role, stack, instances=instances, group_arn=group_arn)


def _acknowledge_route_mover_grants(role: iam.IRole, stack: Stack, *, instances: str, group_arn: str) -> None:
    acknowledge_wildcard(
        role,
        instances,
        "ModifyInstanceAttribute and CreateTags are limited by the aws:autoscaling:groupName tag condition "
        "to instances of this construct's group, whose IDs are only known at launch; ModifyInstanceAttribute "
        "further to SourceDestCheck=false (ec2:Attribute/SourceDestCheck), CreateTags to the one tag "
        f"{ROUTE_TAG_KEY}={ROUTE_TAG_VALUE} (aws:TagKeys, aws:RequestTag).",
    )
    acknowledge_wildcard(
        role,
        group_arn,
        "The group's ARN carries a UUID that CloudFormation does not expose; the ARN is pinned by the "
        "group's name, so only this construct's group is covered.",
    )
