"""Example stacks: a Security Lake subscriber and the visualization account that uses it.

``SecurityLakeSubscriber`` deploys in the Security Lake (delegated administrator)
account, ``config.account``; ``SecurityLakeVisualization`` in
``config.visualization_account``; both in ``config.region``. Deploy the
subscriber first: its RAM share is what the visualization stack accepts.

Context keys (``-c key=value``), with the defaults used when they are absent:

``security_lake:quicksight_owner_arn``
    QuickSight group or user that owns the data source, datasets and dashboard
    (default: group ``security-admins`` in the ``default`` namespace of the
    visualization account, in its QuickSight identity Region). It must exist.
``security_lake:quicksight_identity_region``
    The visualization account's QuickSight identity Region, where its QuickSight
    users and groups live and which their ARNs carry; used only to build the
    default owner ARN (default: the stacks' Region, ``region``).
``security_lake:quicksight_viewer_arns``
    Comma-separated QuickSight users or groups that may view the dashboard
    (default: none).
``security_lake:analyst_principal_arns``
    Comma-separated IAM role/user or QuickSight ARNs granted Lake Formation
    access for Athena (default: none; the QuickSight data source's own role is
    always granted). Each must already exist: Lake Formation refuses a grant to
    a principal that does not (``Invalid principal``).
``security_lake:resource_share_arn``
    The ``ResourceShareArn`` output of the subscriber stack, to accept only
    that share (default: the share of the subscriber's name from the lake
    account).
``security_lake:sources``
    The Security Lake sources both stacks subscribe to and build on, as
    ``NAME`` or ``NAME:VERSION`` items, comma-separated (or a JSON list in
    cdk.json); names from botocore's ``AwsLogSourceName`` (default:
    ``CLOUD_TRAIL_MGMT,VPC_FLOW,ROUTE53,SH_FINDINGS``, the four sources the
    post names, at version 2.0). List only sources the lake collects: the
    visualization stack links and grants each one's table.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from blueprints.config import ExampleConfig, known_regions
from blueprints.constructs.security_lake import (
    AWS_LOG_SOURCES,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    parse_sources,
)

EXAMPLE_STACKS = ("SecurityLakeSubscriber", "SecurityLakeVisualization")

CONTEXT_PREFIX = "security_lake:"
#: The native sources the post names (CloudTrail, Route 53, VPC Flow Logs, Security Hub findings): the usual lake.
DEFAULT_SOURCES = "CLOUD_TRAIL_MGMT,VPC_FLOW,ROUTE53,SH_FINDINGS"


def _context(scope: Construct, key: str, default: str) -> str:
    value = scope.node.try_get_context(CONTEXT_PREFIX + key)
    return default if value is None else str(value)


def _arn_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _sources(scope: Construct) -> tuple[SecurityLakeSource, ...]:
    value = scope.node.try_get_context(CONTEXT_PREFIX + "sources")
    try:
        return parse_sources(DEFAULT_SOURCES if value is None else value)
    except ValueError as error:
        raise ValueError(
            f"context key '{CONTEXT_PREFIX}sources' must list Security Lake AWS log sources as NAME or NAME:VERSION, "
            f"comma-separated, from {', '.join(AWS_LOG_SOURCES)}; got {value!r}: {error}"
        ) from None


def _quicksight_identity_region(scope: Construct, default: str) -> str:
    region = _context(scope, "quicksight_identity_region", default)
    if region not in known_regions():
        raise ValueError(
            f"context key '{CONTEXT_PREFIX}quicksight_identity_region' must be an AWS Region code such as "
            f"us-east-1 or eu-west-1 (the Region of the account's QuickSight users and groups); got {region!r}"
        )
    return region


class SecurityLakeSubscriberStack(cdk.Stack):
    """The Security Lake account: a Lake Formation subscriber for the visualization account."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        visualization_account: str,
        sources: tuple[SecurityLakeSource, ...],
        **kwargs: object,
    ) -> None:
        """Build the example subscriber.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            visualization_account: The account the lake is shared with.
                Required.
            sources: The log sources the lake collects.
                Required.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.subscriber = SecurityLakeSubscriber(
            self, "Subscriber", subscriber_account=visualization_account, sources=sources
        )


class SecurityLakeVisualizationStack(cdk.Stack):
    """The visualization account: share acceptance, resource links, grants, Athena and QuickSight."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        lake_account: str,
        sources: tuple[SecurityLakeSource, ...],
        analyst_principal_arns: list[str],
        quicksight_owner_arn: str,
        quicksight_viewer_arns: list[str],
        resource_share_arn: str | None,
        **kwargs: object,
    ) -> None:
        """Build the example visualization side.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            lake_account: The Security Lake account.
                Required.
            sources: The same sources as the subscriber.
                Required.
            analyst_principal_arns: IAM or QuickSight principals granted query access.
                Required.
            quicksight_owner_arn: The QuickSight group or user that owns the dashboards.
                Required.
            quicksight_viewer_arns: QuickSight users or groups that may view the dashboards.
                Required.
            resource_share_arn: The subscriber's share, or ``None`` to accept the share of the subscriber's name.
                Required.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.visualization = SecurityLakeVisualization(
            self,
            "Visualization",
            lake_account=lake_account,
            sources=sources,
            resource_share_arn=resource_share_arn,
            analyst_principal_arns=analyst_principal_arns,
            quicksight_owner_arn=quicksight_owner_arn,
            quicksight_viewer_arns=quicksight_viewer_arns,
        )


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    """Add both example stacks, each in its own account."""
    viz = config.visualization_account
    identity_region = _quicksight_identity_region(app, config.region)
    partition = RegionInfo.get(identity_region).partition or "aws"
    sources = _sources(app)
    subscriber = SecurityLakeSubscriberStack(
        app,
        "SecurityLakeSubscriber",
        visualization_account=viz,
        sources=sources,
        env=cdk.Environment(account=config.account, region=config.region),
        description="Security Lake subscriber with Lake Formation access for the visualization account",
    )
    visualization = SecurityLakeVisualizationStack(
        app,
        "SecurityLakeVisualization",
        lake_account=config.account,
        sources=sources,
        analyst_principal_arns=_arn_list(_context(app, "analyst_principal_arns", "")),
        quicksight_owner_arn=_context(
            app,
            "quicksight_owner_arn",
            f"arn:{partition}:quicksight:{identity_region}:{viz}:group/default/security-admins",
        ),
        quicksight_viewer_arns=_arn_list(_context(app, "quicksight_viewer_arns", "")),
        resource_share_arn=_context(app, "resource_share_arn", "") or None,
        env=cdk.Environment(account=viz, region=config.region),
        description="Security Lake visualization: RAM share acceptance, resource links, Athena and QuickSight",
    )
    return [subscriber, visualization]
