"""Example stacks: a Security Lake subscriber and the visualization account that uses it.

``SecurityLakeSubscriber`` deploys in the Security Lake (delegated administrator)
account, ``config.account``; ``SecurityLakeVisualization`` in
``config.visualization_account``; both in ``config.region``. Deploy the
subscriber first: its RAM share is what the visualization stack accepts.

Context keys (``-c key=value``), with the defaults used when they are absent:

``security_lake:quicksight_owner_arn``
    QuickSight group or user that owns the data source, datasets and dashboard
    (default: group ``security-admins`` in the ``default`` namespace of the
    visualization account).
``security_lake:quicksight_viewer_arns``
    Comma-separated QuickSight users or groups that may view the dashboard
    (default: none).
``security_lake:analyst_principal_arns``
    Comma-separated IAM role/user or QuickSight ARNs granted Lake Formation
    access for Athena (default: role ``SecurityAnalyst`` in the visualization
    account).
``security_lake:resource_share_arn``
    The ``ResourceShareArn`` output of the subscriber stack, to accept only
    that share (default: any ``LakeFormation*`` share from the lake account).
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from blueprints.config import ExampleConfig
from blueprints.constructs.security_lake import SecurityLakeSubscriber, SecurityLakeVisualization

EXAMPLE_STACKS = ("SecurityLakeSubscriber", "SecurityLakeVisualization")

CONTEXT_PREFIX = "security_lake:"


def _context(scope: Construct, key: str, default: str) -> str:
    value = scope.node.try_get_context(CONTEXT_PREFIX + key)
    return default if value is None else str(value)


def _arn_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class SecurityLakeSubscriberStack(cdk.Stack):
    """The Security Lake account: a Lake Formation subscriber for the visualization account."""

    def __init__(self, scope: Construct, id: str, *, visualization_account: str, **kwargs: object) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.subscriber = SecurityLakeSubscriber(self, "Subscriber", subscriber_account=visualization_account)


class SecurityLakeVisualizationStack(cdk.Stack):
    """The visualization account: share acceptance, resource links, grants, Athena and QuickSight."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        lake_account: str,
        analyst_principal_arns: list[str],
        quicksight_owner_arn: str,
        quicksight_viewer_arns: list[str],
        resource_share_arn: str | None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.visualization = SecurityLakeVisualization(
            self,
            "Visualization",
            lake_account=lake_account,
            resource_share_arn=resource_share_arn,
            analyst_principal_arns=analyst_principal_arns,
            quicksight_owner_arn=quicksight_owner_arn,
            quicksight_viewer_arns=quicksight_viewer_arns,
        )


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    """Add both example stacks, each in its own account."""
    viz = config.visualization_account
    subscriber = SecurityLakeSubscriberStack(
        app,
        "SecurityLakeSubscriber",
        visualization_account=viz,
        env=cdk.Environment(account=config.account, region=config.region),
        description="Security Lake subscriber with Lake Formation access for the visualization account",
    )
    visualization = SecurityLakeVisualizationStack(
        app,
        "SecurityLakeVisualization",
        lake_account=config.account,
        analyst_principal_arns=_arn_list(
            _context(app, "analyst_principal_arns", f"arn:aws:iam::{viz}:role/SecurityAnalyst")
        ),
        quicksight_owner_arn=_context(
            app, "quicksight_owner_arn", f"arn:aws:quicksight:{config.region}:{viz}:group/default/security-admins"
        ),
        quicksight_viewer_arns=_arn_list(_context(app, "quicksight_viewer_arns", "")),
        resource_share_arn=_context(app, "resource_share_arn", "") or None,
        env=cdk.Environment(account=viz, region=config.region),
        description="Security Lake visualization: RAM share acceptance, resource links, Athena and QuickSight",
    )
    return [subscriber, visualization]
