"""Example deployment of the EMR reconciliation service: its own VPC, and the cluster as the post configures it.

Context keys (``-c key=value``), each with a placeholder default so that the
example synthesizes with no AWS account and no lookups:

- ``emr_reconciliation:tls_certificates``: S3 URI of the zip of PEM files for EMR's
  in-transit encryption (default ``s3://emr-tls-<account>-<region>/reconciliation/certificates.zip``;
  upload it before deploying, see docs/emr-reconciliation.md)
- ``emr_reconciliation:availability_zones``: comma-separated AZ names for the VPC
  (default the Region's first two zones, resolved by CloudFormation with ``Fn::GetAZs``)
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.config import ExampleConfig
from blueprints.constructs.common import flow_logged_vpc
from blueprints.constructs.emr_reconciliation import EmrReconciliationCluster

EXAMPLE_STACKS = ("EmrReconciliation",)

CONTEXT_DEFAULTS = {
    "emr_reconciliation:tls_certificates": "",
    "emr_reconciliation:availability_zones": "",
}


def _context(scope: Construct, key: str) -> str:
    value = scope.node.try_get_context(key)
    return CONTEXT_DEFAULTS[key] if value is None else str(value)


class EmrReconciliationStack(cdk.Stack):
    """The reconciliation service in a VPC of its own (or ``vpc`` passed in).

    The VPC has private subnets in two Availability Zones with one NAT gateway
    (the nodes reach the EMR service and package repositories through it), an
    S3 gateway endpoint so that data traffic bypasses the NAT gateway, and flow
    logs.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        in_transit_certificates: str,
        vpc: ec2.IVpc | None = None,
        availability_zones: Sequence[str] | None = None,
        **kwargs: object,
    ) -> None:
        """Build the VPC (unless given) and the reconciliation service.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            in_transit_certificates: ``s3://bucket/key.zip`` of the PEM files for in-transit encryption.
                Required.
            vpc: A VPC of yours; otherwise one is created.
                Default: ``None``: a new VPC.
            availability_zones: The new VPC's zones; refused with ``vpc``.
                Default: ``None``: the Region's first two (``Fn::GetAZs``).
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        if vpc is not None and availability_zones is not None:
            raise ValueError("pass either vpc or availability_zones (for a new VPC), not both")
        if availability_zones is not None and len(availability_zones) < 2:
            raise ValueError(
                f"availability_zones must name at least two zones for the new VPC; got {list(availability_zones)}"
            )
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        # Two zones known without a lookup: the ones given, else the Region's first two, resolved at deploy time.
        self._zones = list(availability_zones or [cdk.Fn.select(i, cdk.Fn.get_azs()) for i in range(2)])
        self.s3_endpoint: ec2.GatewayVpcEndpoint | None = None
        self.vpc: ec2.IVpc = vpc or self._new_vpc(self._zones)
        self.service = EmrReconciliationCluster(
            self, "Reconciliation", vpc=self.vpc, in_transit_certificates=in_transit_certificates
        )
        if self.s3_endpoint is not None:
            # The nodes fetch EMR's artifacts and the job from S3 while they bootstrap: the endpoint's routes first.
            self.service.cluster.node.add_dependency(self.s3_endpoint)
        cdk.CfnOutput(self, "RequestQueueUrl", value=self.service.queue.queue_url)
        cdk.CfnOutput(self, "ResultsTopicArn", value=self.service.results_topic.topic_arn)
        cdk.CfnOutput(self, "ClusterId", value=self.service.cluster.ref)
        cdk.CfnOutput(self, "DataBucket", value=self.service.data_buckets[0].bucket_name)
        cdk.CfnOutput(self, "ControlBucket", value=self.service.control_bucket.bucket_name)

    @property
    def availability_zones(self) -> list[str]:
        """The VPC's zones, so that the stack never asks the account for its zones at synthesis."""
        return self._zones

    def _new_vpc(self, zones: list[str]) -> ec2.IVpc:
        vpc, _ = flow_logged_vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.60.0.0/16"),
            availability_zones=zones,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="cluster", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19),
            ],
            flow_log_id="FlowLogs",
            log_group_id="FlowLogGroup",
        )
        self.s3_endpoint = vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        return vpc


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    certificates = _context(app, "emr_reconciliation:tls_certificates") or (
        f"s3://emr-tls-{config.account}-{config.region}/reconciliation/certificates.zip"
    )
    zones = [z.strip() for z in _context(app, "emr_reconciliation:availability_zones").split(",") if z.strip()]
    stack = EmrReconciliationStack(
        app,
        "EmrReconciliation",
        env=cdk.Environment(account=config.account, region=config.region),
        description="EMR reconciliation: SQS requests become Spark steps on a Graviton EMR cluster",
        in_transit_certificates=certificates,
        availability_zones=zones or None,
    )
    return [stack]
