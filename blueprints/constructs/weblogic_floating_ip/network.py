"""The admin server's network: the VPC, the admin subnets, the /28 floating subnet, its route tables and the
security groups around the floating IP. Every resource is created in the construct's own scope."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aws_cdk import Token
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.constructs.common import flow_logged_vpc

#: Where the console load balancer is enabled (one public subnet per AZ).
CONSOLE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


def create_vpc(scope: Construct, availability_zones: Sequence[str] | None, vpc_cidr: str) -> ec2.IVpc:
    """A VPC of public and private subnets with a NAT gateway per AZ, its flow logs to CloudWatch Logs."""
    azs = list(availability_zones) if availability_zones else None
    vpc, _ = flow_logged_vpc(
        scope,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(vpc_cidr),
        availability_zones=azs,
        max_azs=None if azs else 2,
        # One NAT gateway per AZ: the admin server must boot (packages, SSM) in the AZ that survives.
        nat_gateways=len(azs) if azs else 2,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
        ],
    )
    return vpc


def select_admin_subnets(
    vpc: ec2.IVpc, admin_subnets: ec2.SubnetSelection | None
) -> tuple[ec2.SubnetSelection, ec2.SelectedSubnets]:
    """The group's subnet selection (default: private subnets with egress) and what it selects in ``vpc``,
    checked to span at least two AZs where the AZ names are known."""
    selection = admin_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    selected = vpc.select_subnets(
        subnet_type=selection.subnet_type,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
    )
    concrete_azs = {az for az in selected.availability_zones if not Token.is_unresolved(az)}
    if len(concrete_azs) == len(selected.availability_zones) and len(concrete_azs) < 2:
        raise ValueError(
            f"admin_subnets must span at least two Availability Zones so the admin server can move; "
            f"got {sorted(concrete_azs)}"
        )
    return selection, selected


def check_overlap(vpc: ec2.IVpc, network: ipaddress.IPv4Network) -> None:
    """Refuse a floating /28 that overlaps a subnet of ``vpc`` whose CIDR is known at synthesis."""
    subnets = [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]
    for subnet in subnets:
        cidr = getattr(subnet, "ipv4_cidr_block", None)
        if not cidr or Token.is_unresolved(cidr):
            continue
        if network.overlaps(ipaddress.IPv4Network(cidr)):
            raise ValueError(
                f"floating_subnet_cidr {network} overlaps the VPC's subnet {cidr}; "
                "choose a /28 that no other subnet uses"
            )


def create_floating_subnet(
    scope: Construct,
    vpc: ec2.IVpc,
    network: ipaddress.IPv4Network,
    selected: ec2.SelectedSubnets,
    *,
    with_console: bool,
) -> ec2.ISubnet:
    """The /28 that holds only the floating IP, in the AZ :func:`floating_subnet_az` picks."""
    # The console ALB's target is the floating IP, which Elastic Load Balancing places in the
    # floating subnet's AZ; a target in an AZ the load balancer is not enabled in gets no traffic.
    console_azs = (
        vpc.select_subnets(subnet_type=CONSOLE_SUBNETS.subnet_type).availability_zones if with_console else None
    )
    return ec2.Subnet(
        scope,
        "FloatingSubnet",
        vpc_id=vpc.vpc_id,
        availability_zone=floating_subnet_az(selected.availability_zones, console_azs),
        cidr_block=str(network),
        map_public_ip_on_launch=False,
    )


def floating_subnet_az(admin_azs: Sequence[str], console_azs: Sequence[str] | None) -> str:
    """The floating subnet's AZ: the first admin AZ, or, with the console, an AZ the ALB is enabled in.

    The subnet holds no instance, so any AZ works for the route; but Elastic Load Balancing
    places the floating IP target in this AZ, and a load balancer sends nothing to targets in
    an AZ it is not enabled in. An admin AZ the ALB also covers comes first, so a deployment
    that already works keeps its subnet where it is: moving it replaces the subnet, and as
    CloudFormation creates the new subnet before deleting the old one, the move needs a new
    ``floating_subnet_cidr`` (docs/weblogic-floating-ip.md, "Moving the floating subnet").
    """
    if console_azs is None:
        return admin_azs[0]
    shared = [az for az in admin_azs if az in console_azs]
    return shared[0] if shared else console_azs[0]


def default_route_tables(vpc: ec2.IVpc) -> list[str]:
    """Every public, private and isolated route table of ``vpc``, each once, in subnet order."""
    ids: list[str] = []
    for subnet in [*vpc.public_subnets, *vpc.private_subnets, *vpc.isolated_subnets]:
        route_table_id = subnet.route_table.route_table_id
        if route_table_id not in ids:
            ids.append(route_table_id)
    if not ids:
        raise ValueError("the VPC has no subnets with route tables; pass route_table_ids")
    return ids


def create_security_groups(
    scope: Construct,
    vpc: ec2.IVpc,
    *,
    admin_port: int,
    floating_ip: str,
    managed_server_security_group: ec2.ISecurityGroup | None,
) -> tuple[ec2.ISecurityGroup, ec2.ISecurityGroup]:
    """The admin server's security group and the managed servers' (created unless given), which may reach the
    admin port on the floating IP."""
    admin = ec2.SecurityGroup(
        scope,
        "AdminSecurityGroup",
        vpc=vpc,
        description="WebLogic admin server: admin port from managed servers and the console load balancer",
        allow_all_outbound=True,
    )
    managed = managed_server_security_group or ec2.SecurityGroup(
        scope,
        "ManagedServerSecurityGroup",
        vpc=vpc,
        description="WebLogic managed servers: may reach the admin server on the floating IP",
        allow_all_outbound=True,
    )
    admin.add_ingress_rule(
        managed, ec2.Port.tcp(admin_port), "Managed servers reach the admin server (T3/HTTP) on the floating IP"
    )
    if managed_server_security_group is not None and not managed_server_security_group.allow_all_outbound:
        managed_server_security_group.add_egress_rule(
            ec2.Peer.ipv4(f"{floating_ip}/32"), ec2.Port.tcp(admin_port), "Admin server on the floating IP"
        )
    return admin, managed
