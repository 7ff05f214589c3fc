"""The unified API's network: the VPC (created or the caller's), the endpoint subnets, the security groups of the
path ALB :443 -> endpoint :443, and the ``execute-api`` interface endpoint. Every resource is created in the
construct's own scope."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from blueprints.constructs.common import flow_logged_vpc

#: The subnet groups of the VPC the construct creates: the load balancer's and the endpoint's.
ENTRY_SUBNET_GROUP = "Entry"
ENDPOINT_SUBNET_GROUP = "Endpoint"


def create_vpc(
    scope: Construct, availability_zones: Sequence[str] | None, log_retention: logs.RetentionDays
) -> tuple[ec2.IVpc, logs.ILogGroup]:
    """A VPC of public subnets (the ALB) and isolated subnets (the endpoint) in the named AZs, no NAT gateways,
    and its flow-log group."""
    # Retained with the stack (the flow logs are the network's audit trail), unlike the library's default.
    vpc, flow_logs = flow_logged_vpc(
        scope,
        "Vpc",
        availability_zones=list(availability_zones or []),
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name=ENTRY_SUBNET_GROUP, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(
                name=ENDPOINT_SUBNET_GROUP, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            ),
        ],
        retention=log_retention,
        removal_policy=RemovalPolicy.RETAIN,
    )
    # The AZ names are given on purpose (no lookup at synthesis, one endpoint ENI per named AZ);
    # cfn-lint's W3010 ("avoid hard-coded AZs") is silenced on these subnets only.
    for subnet in [*vpc.public_subnets, *vpc.isolated_subnets]:
        child = subnet.node.default_child
        if isinstance(child, ec2.CfnSubnet):
            child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
    return vpc, flow_logs


def subnet_selections(
    *,
    creates_vpc: bool,
    endpoint_subnets: ec2.SubnetSelection | None,
    load_balancer_subnets: ec2.SubnetSelection | None,
) -> tuple[ec2.SubnetSelection, ec2.SubnetSelection]:
    """The endpoint's and the load balancer's subnets: as given, else the created VPC's subnet groups, else the
    caller's VPC's private subnets with egress (one per AZ) and its public subnets."""
    if creates_vpc:
        endpoint_subnets = endpoint_subnets or ec2.SubnetSelection(subnet_group_name=ENDPOINT_SUBNET_GROUP)
        load_balancer_subnets = load_balancer_subnets or ec2.SubnetSelection(subnet_group_name=ENTRY_SUBNET_GROUP)
    return (
        endpoint_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, one_per_az=True),
        load_balancer_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
    )


def select_endpoint_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """One subnet per AZ of ``selection``, at least two (one endpoint network interface each)."""
    try:
        selected = vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            subnet_filters=selection.subnet_filters,
            availability_zones=selection.availability_zones,
            one_per_az=True,
        )
    except RuntimeError as error:  # jsii reports the VPC's own complaint, e.g. no such subnet group
        raise ValueError(
            f"endpoint_subnets selects no subnets of the VPC (the default is its private subnets with egress): "
            f"{str(error).splitlines()[0]}"
        ) from None
    endpoint_count = len(selected.subnet_ids)
    if endpoint_count < 2:
        raise ValueError(
            "endpoint_subnets must select subnets in at least two Availability Zones (one endpoint network "
            f"interface each); got {endpoint_count}"
        )
    return selected


def create_security_groups(scope: Construct, vpc: ec2.IVpc) -> tuple[ec2.ISecurityGroup, ec2.ISecurityGroup]:
    """The load balancer's and the endpoint's security groups: the internet (or CloudFront) -> ALB :443 ->
    endpoint :443, nothing else."""
    load_balancer = ec2.SecurityGroup(
        scope, "LoadBalancerSecurityGroup", vpc=vpc, allow_all_outbound=False, description="Unified API entry"
    )
    endpoint = ec2.SecurityGroup(
        scope,
        "EndpointSecurityGroup",
        vpc=vpc,
        allow_all_outbound=False,
        description="execute-api endpoint: HTTPS from the unified API load balancer only",
    )
    load_balancer.connections.allow_to(endpoint, ec2.Port.tcp(443), "HTTPS to the execute-api endpoint")
    return load_balancer, endpoint


def create_endpoint(
    scope: Construct,
    vpc: ec2.IVpc,
    selected: ec2.SelectedSubnets,
    security_group: ec2.ISecurityGroup,
    *,
    private_dns_enabled: bool,
) -> ec2.InterfaceVpcEndpoint:
    """The ``execute-api`` interface endpoint in ``selected``, reachable through ``security_group`` only."""
    return ec2.InterfaceVpcEndpoint(
        scope,
        "Endpoint",
        vpc=vpc,
        service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
        subnets=ec2.SubnetSelection(subnets=selected.subnets),
        security_groups=[security_group],
        open=False,
        private_dns_enabled=private_dns_enabled,
    )


def publish_endpoint_id(scope: Construct, endpoint: ec2.IInterfaceVpcEndpoint, name: str) -> ssm.IStringParameter:
    """The endpoint id as the SSM parameter ``name``, for domain stacks of other apps."""
    return ssm.StringParameter(
        scope,
        "EndpointIdParameter",
        parameter_name=name,
        string_value=endpoint.vpc_endpoint_id,
        description="VPC endpoint id that domain APIs behind the unified API must admit in their policy",
    )
