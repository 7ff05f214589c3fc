"""The cluster's place in the VPC: private subnets, and the EMR-managed security groups with the rules EMR needs."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

#: The tag that AmazonEMRServicePolicy_v2 requires on every network resource the cluster uses.
EMR_MANAGED_TAG = "for-use-with-amazon-emr-managed-policies"


@dataclass(frozen=True)
class ClusterSecurityGroups:
    """The primary node's, the core and task nodes', and EMR's service access security group."""

    primary: ec2.ISecurityGroup
    worker: ec2.ISecurityGroup
    service_access: ec2.ISecurityGroup


def private_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection | None) -> ec2.SelectedSubnets:
    """The subnets ``selection`` picks in ``vpc`` (by default its private subnets with egress); refused unless they
    are one or more, all private."""
    selection = selection or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
    subnets = vpc.select_subnets(
        subnet_type=selection.subnet_type,
        subnet_group_name=selection.subnet_group_name,
        subnets=selection.subnets,
        availability_zones=selection.availability_zones,
        one_per_az=selection.one_per_az,
    )
    if subnets.has_public or not subnets.subnet_ids:
        raise ValueError(
            "vpc_subnets must select one or more private subnets (the cluster has no public addresses); "
            f"got {len(subnets.subnet_ids)} subnet(s){' including public ones' if subnets.has_public else ''}"
        )
    return subnets


def create_security_groups(scope: Construct, vpc: ec2.IVpc, subnets: ec2.SelectedSubnets) -> ClusterSecurityGroups:
    """The three EMR-managed security groups, and the managed-policy tag on them and on the cluster's subnets."""
    groups = ClusterSecurityGroups(
        primary=ec2.SecurityGroup(
            scope, "PrimarySecurityGroup", vpc=vpc, description="EMR-managed: reconciliation cluster primary node"
        ),
        worker=ec2.SecurityGroup(
            scope, "WorkerSecurityGroup", vpc=vpc, description="EMR-managed: reconciliation cluster core and task nodes"
        ),
        service_access=ec2.SecurityGroup(
            scope,
            "ServiceAccessSecurityGroup",
            vpc=vpc,
            description="EMR service access to the reconciliation cluster in private subnets",
            allow_all_outbound=False,
        ),
    )
    # The rules EMR requires for a cluster in private subnets, declared so that they are reviewed here.
    groups.service_access.add_ingress_rule(
        groups.primary, ec2.Port.tcp(9443), "Primary node to the EMR service access point"
    )
    for group, name in ((groups.primary, "primary"), (groups.worker, "core and task")):
        groups.service_access.add_egress_rule(group, ec2.Port.tcp(8443), f"EMR service to the {name} nodes")
    for group in (groups.primary, groups.worker, groups.service_access):
        Tags.of(group).add(EMR_MANAGED_TAG, "true")
    for subnet in subnets.subnets:
        Tags.of(subnet).add(EMR_MANAGED_TAG, "true")
    return groups
