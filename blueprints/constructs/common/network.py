"""VPCs: the library's flow-logged VPC, and the error that names the construct when a zone lookup needs credentials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import (
    Annotations,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from blueprints.constructs.common.checks import skip_checkov

#: What ``Stack.availability_zones`` returns while CDK has no answer to its lookup (aws-cdk-lib's
#: ``ContextProvider`` dummy value for the ``availability-zones`` provider).
_DUMMY_ZONES = frozenset({"dummy1a", "dummy1b", "dummy1c"})
#: The key under which the ``cdk`` CLI hands an app a lookup it could not make (cloud-assembly-api's
#: ``PROVIDER_ERROR_KEY``): ``{"$providerError": "Need to perform AWS calls ...", "$dontSaveContext": true}``.
_PROVIDER_ERROR = "$providerError"


def explain_zone_lookup(construct: Construct, vpc: ec2.IVpc, *, created: bool) -> None:
    """Name the construct and the argument that avoids it when ``cdk synth`` could not look the zones up.

    In an environment-specific stack, ``ec2.Vpc`` asks CDK for the Region's Availability Zones (even when given
    zone names: it checks them). Without AWS credentials the CLI then stops with CDK's own error on the *stack*
    ("Need to perform AWS calls for account ..."), which says neither which construct asked nor how to avoid it.
    This adds an error on ``construct`` that does, on the synthesis where the CLI reports the failed lookup (the
    first one, with no answer yet, passes: with credentials the lookup then succeeds). ``created`` says the
    construct made ``vpc`` itself; otherwise ``vpc`` is the caller's and is blamed only if its zones are CDK's
    placeholders.
    """
    stack = Stack.of(vpc)
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return  # an environment-agnostic stack uses Fn::GetAZs: nothing is looked up
    key = f"availability-zones:account={stack.account}:region={stack.region}"
    answer = construct.node.try_get_context(key)
    if not (isinstance(answer, Mapping) and _PROVIDER_ERROR in answer):
        return
    name = f"{type(construct).__name__} {construct.node.path!r}"
    if created:
        # The stack answered with CDK's placeholders, so this construct's VPC made the lookup (a stack that
        # overrides availability_zones, such as blueprints.ExampleStack, answers without one).
        if not _DUMMY_ZONES.intersection(stack.availability_zones):
            return
        message = (
            f"{name} creates a VPC in the environment-specific stack {stack.node.path!r}, and CDK looks that "
            f"Region's Availability Zones up ({key}), which needs AWS credentials. To synthesize without them, "
            "pass vpc= (an ec2.IVpc you own), or build the construct in a blueprints.ExampleStack (its zones come "
            "from Fn::GetAZs; availability_zones= then names the zones to use), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    else:
        if not _DUMMY_ZONES.intersection(z for z in vpc.availability_zones if not Token.is_unresolved(z)):
            return
        message = (
            f"{name}: the VPC passed as vpc= was built in the environment-specific stack {stack.node.path!r}, "
            f"whose Availability Zones CDK looks up ({key}), which needs AWS credentials. To synthesize without "
            "them, build that VPC in a blueprints.ExampleStack (its zones come from Fn::GetAZs), or pass "
            "ec2.Vpc.from_vpc_attributes(..., availability_zones=[...]), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    Annotations.of(construct).add_error(message)


#: The stack-level singleton through which CDK empties a VPC's default security group
#: (``restrict_default_security_group``): a Node.js Lambda function CloudFormation invokes on deployment.
_RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


def flow_logged_vpc(
    scope: Construct,
    id: str,
    *,
    subnet_configuration: Sequence[ec2.SubnetConfiguration],
    nat_gateways: int,
    availability_zones: Sequence[str] | None = None,
    max_azs: int | None = None,
    ip_addresses: ec2.IIpAddresses | None = None,
    flow_log_id: str = "FlowLog",
    log_group_id: str = "FlowLogs",
    retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
) -> tuple[ec2.Vpc, logs.LogGroup]:
    """A VPC the library's way: every flow (``ALL``) logged to a log group with retention, and the default
    security group emptied of rules (``restrict_default_security_group``, AwsSolutions-VPC3's intent: nothing
    that forgets to name a group gets the default one's allow-all-within-the-group).

    ``flow_log_id`` and ``log_group_id`` name the flow log and its group in ``scope``; they are arguments so that
    a construct that already deployed them under other ids keeps its resources. Returns the VPC and the group.
    """
    log_group = logs.LogGroup(scope, log_group_id, retention=retention, removal_policy=removal_policy)
    vpc = ec2.Vpc(
        scope,
        id,
        ip_addresses=ip_addresses,
        availability_zones=list(availability_zones) if availability_zones else None,
        max_azs=max_azs,
        nat_gateways=nat_gateways,
        subnet_configuration=list(subnet_configuration),
        restrict_default_security_group=True,
    )
    vpc.add_flow_log(
        flow_log_id,
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group),
        traffic_type=ec2.FlowLogTrafficType.ALL,
    )
    skip_checkov(
        log_group,
        ["CKV_AWS_158"],
        "VPC flow logs hold connection metadata (addresses, ports, bytes, accept or reject), never payloads; "
        "CloudWatch Logs encrypts every log group at rest, and the data does not warrant a customer managed key.",
    )
    provider = Stack.of(vpc).node.try_find_child(_RESTRICT_DEFAULT_SG_PROVIDER)
    if provider is not None:
        skip_checkov(
            provider,
            ["CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"],
            "CDK's own provider that removes the default security group's rules: CloudFormation invokes it "
            "synchronously, once per change of the VPC, and it calls the EC2 API only; a reservation, a DLQ "
            "(it is never invoked asynchronously) or a VPC (it needs none to reach EC2) would add nothing.",
        )
    return vpc, log_group
