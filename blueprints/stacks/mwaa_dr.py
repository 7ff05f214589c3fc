"""Example deployment of the MWAA DR pair: ``MwaaDrSecondary`` in the DR Region (deploy first),
``MwaaDrPrimary`` in the primary Region. ``-c mwaa_dr_strategy=backup_restore`` selects the other
strategy."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from blueprints.config import ExampleConfig
from blueprints.constructs.common import flow_logged_vpc
from blueprints.constructs.mwaa_dr import MwaaDrPrimary, MwaaDrSecondary, MwaaDrStrategy
from blueprints.stacks.base import ExampleStack

EXAMPLE_STACKS = ("MwaaDrPrimary", "MwaaDrSecondary")
ENVIRONMENT_NAME = "blueprints-airflow"
NAME_PREFIX = "blueprints-mwaa"


def example_vpc(scope: Construct, region: str) -> ec2.Vpc:
    """A small VPC with private subnets in two Availability Zones, one NAT gateway, and flow logs."""
    vpc, _ = flow_logged_vpc(
        scope,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
        # The Region's first two AZs, resolved by CloudFormation: no lookup at synthesis, no hard-coded names.
        availability_zones=[cdk.Fn.select(0, cdk.Fn.get_azs(region)), cdk.Fn.select(1, cdk.Fn.get_azs(region))],
        nat_gateways=1,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
            ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20),
        ],
    )
    return vpc


class MwaaDrPrimaryStack(ExampleStack):
    """The primary Region: the active environment, its buckets, backups and alarms."""

    def __init__(self, scope: Construct, id: str, *, dr_region: str, **kwargs: object) -> None:
        """Build the example primary side.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            dr_region: The DR Region's code.
                Required.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.dr = MwaaDrPrimary(
            self,
            "MwaaDr",
            environment_name=ENVIRONMENT_NAME,
            dr_region=dr_region,
            name_prefix=NAME_PREFIX,
            vpc=example_vpc(self, self.region),
        )


class MwaaDrSecondaryStack(ExampleStack):
    """The DR Region: replica buckets, health check, failover and failback."""

    def __init__(
        self, scope: Construct, id: str, *, strategy: MwaaDrStrategy | str, primary_region: str, **kwargs: object
    ) -> None:
        """Build the example DR side.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            strategy: ``MwaaDrStrategy`` or its value string (``active_passive``, ``backup_restore``).
                Required.
            primary_region: The primary Region's code.
                Required.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.dr = MwaaDrSecondary(
            self,
            "MwaaDr",
            strategy=strategy,
            primary_environment_name=ENVIRONMENT_NAME,
            primary_region=primary_region,
            name_prefix=NAME_PREFIX,
            vpc=example_vpc(self, self.region),
        )


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    strategy = MwaaDrStrategy(config.mwaa_dr_strategy)
    secondary = MwaaDrSecondaryStack(
        app,
        "MwaaDrSecondary",
        strategy=strategy,
        primary_region=config.region,
        env=cdk.Environment(account=config.account, region=config.dr_region),
        description=f"MWAA DR pair, DR Region side ({strategy.value}); deploy before MwaaDrPrimary",
    )
    primary = MwaaDrPrimaryStack(
        app,
        "MwaaDrPrimary",
        dr_region=config.dr_region,
        env=cdk.Environment(account=config.account, region=config.region),
        description="MWAA DR pair, primary Region side; deploy after MwaaDrSecondary",
    )
    return [primary, secondary]
