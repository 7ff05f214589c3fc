"""The visualization account accepts the AWS RAM share of a Security Lake subscriber, during the deployment."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from blueprints.constructs.common import PythonHandler, acknowledge, nag_text, secure_provider
from blueprints.constructs.security_lake.sources import (
    DEFAULT_SUBSCRIBER_NAME,
    SecurityLakeSource,
    sources_property,
)
from blueprints.constructs.security_lake.validation import check_share_acceptance


class SecurityLakeShareAcceptance(Construct):
    """Accepts, in this account, the AWS RAM share a Security Lake subscriber sends from ``sender_account``.

    A custom resource on the Provider framework: ``onEvent`` fixes a deadline,
    ``isComplete`` polls AWS RAM, accepts the matching pending invitation
    and succeeds once the share is accepted or already active. It matches
    only shares from ``sender_account``, and among those only
    ``resource_share_arn`` when given, otherwise only the share of the
    subscriber ``subscriber_name`` (Security Lake names it
    ``LakeFormation-V<n>-<id>-<subscriber name>``). No invitation by the
    deadline fails the deployment with a message that says what to check.

    The subscribed ``sources`` are a property of the custom resource, so
    that a change of sources, the subscriber edit after which Security Lake
    sends a new share, makes CloudFormation run the acceptance again; so
    does a new ``resource_share_arn``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        sender_account: str,
        subscriber_name: str = DEFAULT_SUBSCRIBER_NAME,
        sources: Sequence[SecurityLakeSource] | None = None,
        resource_share_arn: str | None = None,
        timeout: Duration = Duration.minutes(30),
        query_interval: Duration = Duration.seconds(30),
    ) -> None:
        """Build the custom resource that accepts the share.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            sender_account: The Security Lake account whose share is accepted.
                Required.
            subscriber_name: The subscriber whose share alone is accepted (its name ends the share's name).
                Default: ``cross-account-visualization``.
            sources: The subscribed sources: a change re-runs the acceptance.
                Default: ``None``: every AWS log source.
            resource_share_arn: Accept exactly this share (owned by ``sender_account``).
                Default: ``None``: the share of ``subscriber_name``.
            timeout: How long to wait for the invitation, 1 to 50 minutes.
                Default: 30 minutes.
            query_interval: How often AWS RAM is polled.
                Default: 30 seconds.

        Attributes:
            on_event_function (lambda_.IFunction)
            is_complete_function (lambda_.IFunction)
            provider (cr.Provider)
            resource (CustomResource)
        """
        super().__init__(scope, id)
        checked_sources = check_share_acceptance(
            sender_account=sender_account,
            subscriber_name=subscriber_name,
            sources=sources,
            resource_share_arn=resource_share_arn,
            timeout=timeout,
            query_interval=query_interval,
        )
        seconds = timeout.to_seconds()
        on_event = self._handler("on_event", "OnEvent", sender_account)
        is_complete = self._handler("is_complete", "IsComplete", sender_account)
        self._allow_acceptance(is_complete.role, sender_account)
        self.on_event_function: lambda_.IFunction = on_event.function
        self.is_complete_function: lambda_.IFunction = is_complete.function
        self.provider: cr.Provider = secure_provider(
            self,
            on_event=on_event.function,
            is_complete=is_complete.function,
            query_interval=query_interval,
            total_timeout=Duration.seconds(seconds + 600),
            logged_data="account ids, share names, ARNs",
        )
        properties: dict[str, str] = {
            "SenderAccountId": sender_account,
            "SubscriberName": subscriber_name,
            "Sources": sources_property(checked_sources),
            "TimeoutSeconds": str(int(seconds)),
        }
        if resource_share_arn:
            properties["ResourceShareArn"] = resource_share_arn
        self.resource = CustomResource(
            self,
            "Acceptance",
            service_token=self.provider.service_token,
            resource_type="Custom::SecurityLakeShareAcceptance",
            properties=properties,
        )

    def _handler(self, phase: str, construct_id: str, sender_account: str) -> PythonHandler:
        """The share acceptor's function for one phase of the Provider framework (``on_event`` or ``is_complete``)."""
        return PythonHandler(
            self,
            construct_id,
            name="security_lake_share_acceptor",
            description=f"accepts the Security Lake RAM share from account {sender_account} ({phase})",
            environment={"ACCEPTOR_PHASE": phase},
            timeout=Duration.minutes(1),
            sync_caller="the CloudFormation custom resource Provider framework",
        )

    def _allow_acceptance(self, role: iam.IRole, sender_account: str) -> None:
        """Let the ``is_complete`` function find invitations and accept those from ``sender_account`` only."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindInvitationsAndShares",
                actions=["ram:GetResourceShareInvitations", "ram:GetResourceShares"],
                resources=["*"],
            )
        )
        invitation_arns = Stack.of(self).format_arn(
            service="ram", account="*", resource="resource-share-invitation", resource_name="*"
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AcceptOnlyFromTheSecurityLakeAccount",
                actions=["ram:AcceptResourceShareInvitation"],
                resources=[invitation_arns],
                conditions={"StringEquals": {"ram:ShareOwnerAccountId": sender_account}},
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ram:GetResourceShareInvitations and ram:GetResourceShares are list operations that support "
            "no resource-level permissions; both only read.",
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, invitation_arns)}]",
            "Invitation ARNs are only known once the invitation arrives; the statement is limited by the "
            "ram:ShareOwnerAccountId condition to invitations from the Security Lake account.",
        )
