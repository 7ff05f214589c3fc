"""The Security Lake account's side: a Lake Formation subscriber for the visualization account."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_securitylake as securitylake
from constructs import Construct

from blueprints.constructs.common import acknowledge, skip_checkov
from blueprints.constructs.security_lake.sources import DEFAULT_SUBSCRIBER_NAME, SecurityLakeSource
from blueprints.constructs.security_lake.validation import check_subscriber


class SecurityLakeSubscriber(Construct):
    """A Security Lake subscriber with Lake Formation (query) access for another account.

    Security Lake shares the sources' Glue tables with ``subscriber_account``
    through AWS RAM (a resource share named ``LakeFormation-V3-...``). The
    external ID comes from a Secrets Manager secret (generated, or passed in)
    and reaches CloudFormation as a dynamic reference, never as a literal.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        subscriber_account: str,
        sources: Sequence[SecurityLakeSource] | None = None,
        subscriber_name: str = DEFAULT_SUBSCRIBER_NAME,
        subscriber_description: str = "Query access for the security visualization account",
        external_id_secret: secretsmanager.ISecret | None = None,
        data_lake_arn: str | None = None,
    ) -> None:
        """Create the Lake Formation subscriber that shares the lake with ``subscriber_account``.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            subscriber_account: 12-digit id of the visualization account; must differ from the stack's account.
                Required.
            sources: ``SecurityLakeSource(name, version)``, or ``parse_sources("SH_FINDINGS,VPC_FLOW:2.0")``; names
                ``CLOUD_TRAIL_MGMT``, ``VPC_FLOW``, ``ROUTE53``, ``SH_FINDINGS``, ``LAMBDA_EXECUTION``, ``S3_DATA``,
                ``EKS_AUDIT``, ``WAF`` (botocore's ``AwsLogSourceName``); a concrete version (``latest`` names no
                table); each source once; only sources the lake collects.
                Default: every AWS log source at version ``2.0``.
            subscriber_name: 1-64 ASCII letters, digits or ``_ - : / . @ = + \\``, what Security Lake's
                ``UpdateSubscriber`` accepts (no spaces or commas, which CloudFormation could create but not update); it
                ends the share's name, by which the visualization side finds the share.
                Default: ``cross-account-visualization``.
            subscriber_description: The subscriber's description in Security Lake.
                Default: ``Query access for the security visualization account``.
            external_id_secret: Pass an ``ISecret`` to use your own; the value reaches CloudFormation as a
                ``{{resolve:secretsmanager:…}}`` reference, never a literal.
                Default: a generated 32-character alphanumeric secret.
            data_lake_arn: Pass ``CfnDataLake.attr_arn`` if the same app enables Security Lake.
                Default: ``arn:<partition>:securitylake:<region>:<account>:data-lake/default``.

        Attributes:
            sources (tuple[SecurityLakeSource, ...])
            subscriber_account (str)
            subscriber_name (str)
            external_id_secret (secretsmanager.ISecret)
            data_lake_arn (str)
            subscriber (CfnSubscriber)
            subscriber_arn (str)
            resource_share_arn (str)
            resource_share_name (str)
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.sources = check_subscriber(
            stack, subscriber_account=subscriber_account, sources=sources, subscriber_name=subscriber_name
        )
        self.subscriber_account = subscriber_account
        self.subscriber_name = subscriber_name
        if external_id_secret is None:
            external_id_secret = self._generated_external_id()
        self.external_id_secret: secretsmanager.ISecret = external_id_secret
        self.data_lake_arn = data_lake_arn or stack.format_arn(
            service="securitylake", resource="data-lake", resource_name="default"
        )
        self.subscriber = self._subscriber(subscriber_description)
        self.subscriber_arn: str = self.subscriber.attr_subscriber_arn
        self.resource_share_arn: str = self.subscriber.attr_resource_share_arn
        self.resource_share_name: str = self.subscriber.attr_resource_share_name
        self._outputs()

    def _generated_external_id(self) -> secretsmanager.ISecret:
        secret = secretsmanager.Secret(
            self,
            "ExternalId",
            description=f"External ID of the Security Lake subscriber {self.subscriber_name}",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_punctuation=True, include_space=False
            ),
        )
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The external ID is an identifier shared with the subscriber, not a credential: Security Lake "
            "stores it on the subscriber, so rotating the secret alone would only break the match.",
        )
        skip_checkov(
            secret,
            ["CKV_AWS_149"],
            "The external ID is a condition of the role Security Lake creates for the subscriber account, whose "
            "trust also names that account: not a credential, it grants nothing by itself. Secrets Manager "
            "encrypts it at rest with its AWS managed key; a customer managed key would add a key policy to keep.",
        )
        return secret

    def _subscriber(self, description: str) -> securitylake.CfnSubscriber:
        return securitylake.CfnSubscriber(
            self,
            "Subscriber",
            access_types=["LAKEFORMATION"],
            data_lake_arn=self.data_lake_arn,
            subscriber_name=self.subscriber_name,
            subscriber_description=description,
            subscriber_identity=securitylake.CfnSubscriber.SubscriberIdentityProperty(
                principal=self.subscriber_account,
                external_id=self.external_id_secret.secret_value.unsafe_unwrap(),
            ),
            sources=[
                securitylake.CfnSubscriber.SourceProperty(
                    aws_log_source=securitylake.CfnSubscriber.AwsLogSourceProperty(
                        source_name=s.name, source_version=s.version
                    )
                )
                for s in self.sources
            ],
        )

    def _outputs(self) -> None:
        CfnOutput(self, "SubscriberArn", value=self.subscriber_arn, description="The Security Lake subscriber")
        CfnOutput(
            self,
            "ResourceShareArn",
            value=self.resource_share_arn,
            description="The AWS RAM share the visualization account accepts (resource_share_arn there)",
        )
        CfnOutput(self, "ResourceShareName", value=self.resource_share_name, description="Name of the RAM share")
        CfnOutput(
            self,
            "ExternalIdSecretArn",
            value=self.external_id_secret.secret_arn,
            description="Secret holding the subscriber's external ID",
        )
