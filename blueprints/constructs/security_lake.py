"""Query Amazon Security Lake from a separate visualization account.

Two halves of one architecture, each deployed in its own account:

* :class:`SecurityLakeSubscriber` (Security Lake delegated administrator
  account): a Lake Formation (query access) subscriber for the visualization
  account, with an external ID generated in Secrets Manager.
* :class:`SecurityLakeVisualization` (visualization account): accepts the AWS
  RAM share (:class:`SecurityLakeShareAcceptance`), links the shared tables
  into a Glue database, grants Lake Formation permissions, and serves the data
  through an Athena workgroup and QuickSight datasets and an executive
  dashboard.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, CfnOutput, CustomResource, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_securitylake as securitylake
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct, IDependable

from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    acknowledge,
    nag_text,
    present,
    state_machine_log_group,
)

#: The AWS log sources Security Lake collects natively: the ``AwsLogSourceName`` enum of botocore's securitylake
#: model (``AwsLogSourceResource.sourceName``).
AWS_LOG_SOURCES = (
    "CLOUD_TRAIL_MGMT",
    "VPC_FLOW",
    "ROUTE53",
    "SH_FINDINGS",
    "LAMBDA_EXECUTION",
    "S3_DATA",
    "EKS_AUDIT",
    "WAF",
)
#: Source version 2.0 is OCSF 1.1, the current version for every AWS log source.
CURRENT_SOURCE_VERSION = "2.0"
DEFAULT_SUBSCRIBER_NAME = "cross-account-visualization"
DEFAULT_DATABASE_NAME = "security_lake_visualization"
DEFAULT_WORKGROUP_NAME = "security-lake-visualization"
#: Athena refuses a per-query cutoff below 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000
IMPORT_MODES = ("DIRECT_QUERY", "SPICE")

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_SHARE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:(\d{12}):resource-share/[A-Za-z0-9-]+$")
_VERSION_RE = re.compile(r"^\d\.\d$")
_GLUE_NAME_RE = re.compile(r"^[a-z0-9_]{1,255}$")
_WORKGROUP_RE = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
#: UpdateSubscriber's ``subscriberName`` in botocore's securitylake model: ``^[\\\w\-_:/.@=+]*$``, at most 64
#: characters (CreateSubscriber only limits the length; CloudFormation updates a subscriber with UpdateSubscriber, so
#: a name it cannot take would fail on the first edit). ``\w`` as in Java: ASCII letters, digits and ``_``.
_SUBSCRIBER_NAME_RE = re.compile(r"^[\\\w\-:/.@=+]{1,64}$", re.ASCII)

_QUICKSIGHT_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)/[\w+=,.@/-]+$")
_LF_PRINCIPAL_RE = re.compile(
    r"^arn:aws[a-z-]*:(iam::\d{12}:(role|user)/[\w+=,.@/-]+"
    r"|quicksight:[a-z0-9-]+:\d{12}:(user|group)/[\w+=,.@/-]+)$"
)


@dataclass(frozen=True)
class SecurityLakeSource:
    """A Security Lake AWS log source at one source version, e.g. ``SecurityLakeSource("SH_FINDINGS", "2.0")``."""

    name: str
    version: str = CURRENT_SOURCE_VERSION

    def table_name(self, region: str) -> str:
        """The Glue table of this source, e.g. ``amazon_security_lake_table_us_east_1_sh_findings_2_0``."""
        version = self.version.replace(".", "_")
        return f"amazon_security_lake_table_{region.replace('-', '_')}_{self.name.lower()}_{version}"


def all_aws_sources(version: str = CURRENT_SOURCE_VERSION) -> tuple[SecurityLakeSource, ...]:
    """Every AWS log source at ``version``."""
    return tuple(SecurityLakeSource(name, version) for name in AWS_LOG_SOURCES)


def security_lake_database_name(region: str) -> str:
    """The Glue database Security Lake creates in ``region``, e.g. ``amazon_security_lake_glue_db_us_east_1``."""
    return f"amazon_security_lake_glue_db_{region.replace('-', '_')}"


def _check_sources(sources: Sequence[SecurityLakeSource]) -> tuple[SecurityLakeSource, ...]:
    if not sources:
        raise ValueError(f"sources must list at least one Security Lake source from {', '.join(AWS_LOG_SOURCES)}")
    for source in sources:
        if source.name not in AWS_LOG_SOURCES:
            raise ValueError(
                f"source name must be one of {', '.join(AWS_LOG_SOURCES)}; got {source.name!r} "
                "(custom sources are not shared through this subscriber)"
            )
        if not _VERSION_RE.match(source.version):
            raise ValueError(
                f"source version must be a concrete version such as '2.0' (not 'latest', which names no table); "
                f"got {source.version!r} for {source.name}"
            )
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"each source may be listed once, at one version; got {', '.join(duplicates)} more than once")
    return tuple(sources)


def parse_sources(spec: str | Sequence[str]) -> tuple[SecurityLakeSource, ...]:
    """Sources from ``NAME`` or ``NAME:VERSION`` items, comma-separated or listed: ``"SH_FINDINGS,VPC_FLOW:2.0"``.

    A name without a version gets the current version; the result is checked as the constructs check ``sources``.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    sources = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        name, _, version = item.partition(":")
        sources.append(SecurityLakeSource(name.strip(), version.strip() or CURRENT_SOURCE_VERSION))
    return _check_sources(sources)


def _sources_property(sources: Sequence[SecurityLakeSource]) -> str:
    """The subscribed sources as one stable string (sorted ``NAME:VERSION`` items), for a custom resource property."""
    return ",".join(sorted(f"{s.name}:{s.version}" for s in sources))


def _check_subscriber_name(subscriber_name: str) -> None:
    if not _SUBSCRIBER_NAME_RE.match(subscriber_name):
        raise ValueError(
            "subscriber_name must be 1-64 ASCII letters, digits or _ - : / . @ = + \\ (what Security Lake's "
            f"UpdateSubscriber accepts; no spaces or commas); got {subscriber_name!r}"
        )


def _check_account(name: str, value: str) -> None:
    if not Token.is_unresolved(value) and not _ACCOUNT_RE.match(value):
        raise ValueError(f"{name} must be a 12-digit AWS account id such as 222222222222; got {value!r}")


def _concrete_region(scope: Construct) -> str:
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        raise ValueError(
            "the stack must have an explicit region (env=cdk.Environment(account=..., region=...)): "
            "Security Lake names its databases and tables after the Region"
        )
    return region


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
        _check_account("subscriber_account", subscriber_account)
        checked_sources = _check_sources(sources if sources is not None else all_aws_sources())
        _check_subscriber_name(subscriber_name)
        stack = Stack.of(self)
        if not Token.is_unresolved(stack.account) and stack.account == subscriber_account:
            raise ValueError(
                f"subscriber_account must be another account than the Security Lake account {stack.account}; "
                "a subscriber in its own account needs no share"
            )
        self.sources = checked_sources
        self.subscriber_account = subscriber_account
        self.subscriber_name = subscriber_name

        if external_id_secret is None:
            generated = secretsmanager.Secret(
                self,
                "ExternalId",
                description=f"External ID of the Security Lake subscriber {subscriber_name}",
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=32, exclude_punctuation=True, include_space=False
                ),
            )
            acknowledge(
                generated,
                "AwsSolutions-SMG4",
                "The external ID is an identifier shared with the subscriber, not a credential: Security Lake "
                "stores it on the subscriber, so rotating the secret alone would only break the match.",
            )
            external_id_secret = generated
        self.external_id_secret: secretsmanager.ISecret = external_id_secret

        self.data_lake_arn = data_lake_arn or stack.format_arn(
            service="securitylake", resource="data-lake", resource_name="default"
        )
        self.subscriber = securitylake.CfnSubscriber(
            self,
            "Subscriber",
            access_types=["LAKEFORMATION"],
            data_lake_arn=self.data_lake_arn,
            subscriber_name=subscriber_name,
            subscriber_description=subscriber_description,
            subscriber_identity=securitylake.CfnSubscriber.SubscriberIdentityProperty(
                principal=subscriber_account,
                external_id=external_id_secret.secret_value.unsafe_unwrap(),
            ),
            sources=[
                securitylake.CfnSubscriber.SourceProperty(
                    aws_log_source=securitylake.CfnSubscriber.AwsLogSourceProperty(
                        source_name=s.name, source_version=s.version
                    )
                )
                for s in checked_sources
            ],
        )
        self.subscriber_arn: str = self.subscriber.attr_subscriber_arn
        self.resource_share_arn: str = self.subscriber.attr_resource_share_arn
        self.resource_share_name: str = self.subscriber.attr_resource_share_name

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
            value=external_id_secret.secret_arn,
            description="Secret holding the subscriber's external ID",
        )


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
        _check_account("sender_account", sender_account)
        if resource_share_arn and not Token.is_unresolved(resource_share_arn):
            match = _SHARE_ARN_RE.match(resource_share_arn)
            if not match:
                raise ValueError(
                    "resource_share_arn must be an AWS RAM resource share ARN such as "
                    f"arn:aws:ram:us-east-1:111111111111:resource-share/<id>; got {resource_share_arn!r}"
                )
            if match.group(1) != sender_account:
                raise ValueError(
                    f"resource_share_arn is owned by account {match.group(1)}, not by sender_account {sender_account}"
                )
        _check_subscriber_name(subscriber_name)
        checked_sources = _check_sources(sources if sources is not None else all_aws_sources())
        seconds = timeout.to_seconds()
        if not 60 <= seconds <= 3000:
            raise ValueError(
                "timeout must be between 1 minute and 50 minutes (CloudFormation waits at most an hour for a "
                f"custom resource, and the provider adds 10 minutes); got {seconds} seconds"
            )
        if not 10 <= query_interval.to_seconds() <= 300:
            raise ValueError(
                f"query_interval must be between 10 seconds and 5 minutes; got {query_interval.to_seconds()} seconds"
            )

        functions: dict[str, PythonHandler] = {}
        for phase, title in (("on_event", "OnEvent"), ("is_complete", "IsComplete")):
            functions[phase] = PythonHandler(
                self,
                title,
                name="security_lake_share_acceptor",
                description=f"accepts the Security Lake RAM share from account {sender_account} ({phase})",
                environment={"ACCEPTOR_PHASE": phase},
                timeout=Duration.minutes(1),
                sync_caller="the CloudFormation custom resource Provider framework",
            )
        checker = functions["is_complete"]
        checker.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="FindInvitationsAndShares",
                actions=["ram:GetResourceShareInvitations", "ram:GetResourceShares"],
                resources=["*"],
            )
        )
        invitation_arns = Stack.of(self).format_arn(
            service="ram", account="*", resource="resource-share-invitation", resource_name="*"
        )
        checker.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AcceptOnlyFromTheSecurityLakeAccount",
                actions=["ram:AcceptResourceShareInvitation"],
                resources=[invitation_arns],
                conditions={"StringEquals": {"ram:ShareOwnerAccountId": sender_account}},
            )
        )
        acknowledge(
            checker.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ram:GetResourceShareInvitations and ram:GetResourceShares are list operations that support "
            "no resource-level permissions; both only read.",
        )
        acknowledge(
            checker.role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, invitation_arns)}]",
            "Invitation ARNs are only known once the invitation arrives; the statement is limited by the "
            "ram:ShareOwnerAccountId condition to invitations from the Security Lake account.",
        )

        self.on_event_function: lambda_.IFunction = functions["on_event"].function
        self.is_complete_function: lambda_.IFunction = checker.function
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=functions["on_event"].function,
            is_complete_handler=checker.function,
            query_interval=query_interval,
            total_timeout=Duration.seconds(seconds + 600),
            log_group=logs.LogGroup(self, "ProviderLogs", retention=logs.RetentionDays.THREE_MONTHS),
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=state_machine_log_group(self, "WaiterLogs", retention=logs.RetentionDays.THREE_MONTHS),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
        self._acknowledge_provider()
        properties: dict[str, str] = {
            "SenderAccountId": sender_account,
            "SubscriberName": subscriber_name,
            "Sources": _sources_property(checked_sources),
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

    def _acknowledge_provider(self) -> None:
        """Findings on the Provider framework's own functions, roles and waiter, which CDK builds and owns."""
        stack = Stack.of(self)
        provider = self.provider
        invoked = [
            self.on_event_function,
            self.is_complete_function,
            *(provider.node.find_child(name) for name in ("framework-isComplete", "framework-onTimeout")),
        ]
        for function in invoked:
            logical_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                provider,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "The Provider framework invokes this one function by ARN and may call any of its versions "
                "(ARN:*); the wildcard covers versions of that function only.",
            )
        acknowledge(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The Provider framework's own functions are built by aws-cdk-lib with this policy. It allows "
            "logs:CreateLogGroup, CreateLogStream and PutLogEvents on every log group of the account (Resource *), "
            "wider than the framework's one ProviderLogs group; aws-cdk-lib offers no way to scope it, and the "
            "functions run only aws-cdk-lib's framework code.",
        )
        acknowledge(
            provider.node.find_child("waiter-state-machine"),
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:CreateLogDelivery and related actions) supports no resource-level "
            "permissions; the waiter state machine needs them to log its executions. aws-cdk-lib's statement also "
            "grants logs:CreateLogStream and PutLogEvents on *, which vended log delivery does not use; the role "
            "is assumable only by this state machine, which runs no code of its own.",
        )
        for rule, reason in (
            (
                "Serverless-LambdaDLQ",
                "The Provider framework's functions are invoked synchronously by CloudFormation's custom resource "
                "call and by the waiter state machine, which report failures back to CloudFormation.",
            ),
            (
                "Serverless-LambdaDefaultMemorySize",
                "The Provider framework's functions only relay calls and poll; aws-cdk-lib sizes them and offers "
                "no memory setting.",
            ),
            (
                "Serverless-LambdaTracing",
                "aws-cdk-lib offers no tracing setting for the Provider framework's functions; the handlers they "
                "call are traced with X-Ray.",
            ),
            (
                "AwsSolutions-SF2",
                "aws-cdk-lib offers no X-Ray setting for the Provider framework's waiter state machine; its "
                "executions are logged to CloudWatch Logs at level ALL.",
            ),
            (
                "Serverless-StepFunctionStateMachineXray",
                "aws-cdk-lib offers no X-Ray setting for the Provider framework's waiter state machine; its "
                "executions are logged to CloudWatch Logs at level ALL.",
            ),
        ):
            acknowledge(provider, rule, reason)


#: Views and queries from the post, per source version: Security Lake source
#: version 1.0 is OCSF 1.0.0-rc.2 (``finding``), 2.0 is OCSF 1.1 (``finding_info``).
FAILED_FINDINGS_VIEW = "security_hub_new_failed_findings_by_created_time"
_FAILED_FINDINGS_VIEW = FAILED_FINDINGS_VIEW
#: The view's columns; every one is an OCSF string (Trino ``varchar``, Glue ``string``).
FAILED_FINDINGS_VIEW_COLUMNS = ("finding_title", "account_uid", "compliance_status", "product_name")
#: The database Athena resolves unqualified names in; with Lake Formation, querying needs DESCRIBE on it.
ATHENA_DEFAULT_DATABASE = "default"
_FAILED_FINDINGS_COLUMNS = {
    "1.0": (
        "finding.title AS finding_title, cloud.account_uid AS account_uid, compliance.status AS compliance_status, "
        "metadata.product.name AS product_name",
        "finding.created_time",
    ),
    "2.0": (
        "finding_info.title AS finding_title, cloud.account.uid AS account_uid, "
        "compliance.status AS compliance_status, metadata.product.name AS product_name",
        "finding_info.created_time",
    ),
}

DATA_SOURCE_OWNER_ACTIONS = (
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
)
DATA_SET_OWNER_ACTIONS = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
)
DASHBOARD_VIEWER_ACTIONS = (
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
)
DASHBOARD_OWNER_ACTIONS = (
    *DASHBOARD_VIEWER_ACTIONS,
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
)


@dataclass(frozen=True)
class PersonaDataSet:
    """One persona's QuickSight dataset: a custom SQL query over the resource links."""

    key: str
    title: str
    sql: str
    columns: tuple[tuple[str, str], ...]


def failed_findings_view_sql(database: str, source: SecurityLakeSource, region: str) -> str:
    """The post's view of failed Security Hub findings (the SELECT of its ``CREATE VIEW``) at ``source``'s version."""
    columns, created = _FAILED_FINDINGS_COLUMNS[source.version]
    return (
        f"SELECT {columns} "  # noqa: S608 - identifiers are checked names, not user text
        f'FROM "{database}"."{source.table_name(region)}" WHERE compliance.status = \'FAILED\' '
        f"ORDER BY {created} LIMIT 100"
    )


def presto_view_text(sql: str, database: str, columns: Sequence[tuple[str, str]]) -> str:
    """A Glue table's ``ViewOriginalText`` for an Athena (Trino) view over ``sql`` in ``database``.

    Athena keeps its views as Glue tables of type ``VIRTUAL_VIEW`` whose original text is the view definition as
    JSON, base64-encoded between ``/* Presto View: `` and `` */`` (Trino's Hive connector, which Athena engine 3
    runs: ``ViewReaderUtil.encodeViewData`` and ``HiveMetadata.PRESTO_VIEW_EXPANDED_TEXT_MARKER`` in trinodb/trino).
    No ``owner`` is written, so the view runs with the rights of whoever queries it.
    """
    definition = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": name, "type": column_type} for name, column_type in columns],
    }
    encoded = base64.b64encode(json.dumps(definition, separators=(",", ":")).encode()).decode()
    return f"/* Presto View: {encoded} */"


def persona_data_sets(database: str, region: str, sources: Sequence[SecurityLakeSource]) -> tuple[PersonaDataSet, ...]:
    """The datasets of the post's three personas, in OCSF 1.1 (source version 2.0) terms.

    Each query bounds the time range it reads (``time_dt``), so that a dashboard
    refresh scans days, not the whole lake.
    """

    def link(source: SecurityLakeSource) -> str:
        return f'"{database}"."{source.table_name(region)}"'

    findings = link(next(s for s in sources if s.name == "SH_FINDINGS"))
    executive = PersonaDataSet(
        key="executive",
        title="Executive overview: findings by day, severity and account",
        sql=(
            "SELECT date_trunc('day', time_dt) AS finding_day, severity, accountid AS account_id, "  # noqa: S608 - identifiers are checked names, not user text
            "region AS finding_region, count(*) AS finding_count, "
            "count_if(compliance.status = 'FAILED') AS failed_check_count "
            f"FROM {findings} WHERE time_dt >= current_timestamp - INTERVAL '90' DAY "
            "GROUP BY 1, 2, 3, 4"
        ),
        columns=(
            ("finding_day", "DATETIME"),
            ("severity", "STRING"),
            ("account_id", "STRING"),
            ("finding_region", "STRING"),
            ("finding_count", "INTEGER"),
            ("failed_check_count", "INTEGER"),
        ),
    )
    custodian = PersonaDataSet(
        key="custodian",
        title="Security data custodian: events per source, day and account",
        sql=" UNION ALL ".join(
            f"SELECT '{s.name.lower()}' AS source_name, date_trunc('day', time_dt) AS event_day, "  # noqa: S608 - identifiers are checked names, not user text
            f"accountid AS account_id, region AS event_region, count(*) AS event_count FROM {link(s)} "
            "WHERE time_dt >= current_timestamp - INTERVAL '30' DAY GROUP BY 1, 2, 3, 4"
            for s in sources
        ),
        columns=(
            ("source_name", "STRING"),
            ("event_day", "DATETIME"),
            ("account_id", "STRING"),
            ("event_region", "STRING"),
            ("event_count", "INTEGER"),
        ),
    )
    operator = PersonaDataSet(
        key="operator",
        title="Security operator: medium and higher findings of the last 7 days",
        sql=(
            "SELECT time_dt AS finding_time, severity, status AS finding_status, finding_info.title AS finding_title, "  # noqa: S608 - identifiers are checked names, not user text
            "metadata.product.name AS product_name, accountid AS account_id, region AS finding_region, "
            f"compliance.status AS compliance_status FROM {findings} "
            "WHERE time_dt >= current_timestamp - INTERVAL '7' DAY AND severity_id >= 3"
        ),
        columns=(
            ("finding_time", "DATETIME"),
            ("severity", "STRING"),
            ("finding_status", "STRING"),
            ("finding_title", "STRING"),
            ("product_name", "STRING"),
            ("account_id", "STRING"),
            ("finding_region", "STRING"),
            ("compliance_status", "STRING"),
        ),
    )
    return executive, custodian, operator


def _column(data_set: str, name: str) -> dict[str, str]:
    return {"DataSetIdentifier": data_set, "ColumnName": name}


def _category(field_id: str, data_set: str, name: str) -> dict[str, object]:
    return {"CategoricalDimensionField": {"FieldId": field_id, "Column": _column(data_set, name)}}


def _total(field_id: str, data_set: str, name: str) -> dict[str, object]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(data_set, name),
            "AggregationFunction": {"SimpleNumericalAggregation": "SUM"},
        }
    }


def _title(text: str) -> dict[str, object]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def _line(visual_id: str, title: str, ds: str, day: str, value: str, color: str) -> dict[str, object]:
    """Daily totals of ``value`` over ``day``, one line per ``color``."""
    day_field = {"FieldId": f"{visual_id}-{day}", "Column": _column(ds, day), "DateGranularity": "DAY"}
    return {
        "LineChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [{"DateDimensionField": day_field}],
                        "Values": [_total(f"{visual_id}-{value}", ds, value)],
                        "Colors": [_category(f"{visual_id}-{color}", ds, color)],
                    }
                }
            },
        }
    }


def _bar(visual_id: str, title: str, ds: str, category: str, value: str, color: str | None = None) -> dict[str, object]:
    """Totals of ``value`` per ``category`` (horizontal bars), stacked by ``color``."""
    wells: dict[str, object] = {
        "Category": [_category(f"{visual_id}-{category}", ds, category)],
        "Values": [_total(f"{visual_id}-{value}", ds, value)],
    }
    if color:
        wells["Colors"] = [_category(f"{visual_id}-{color}", ds, color)]
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {"Orientation": "HORIZONTAL", "FieldWells": {"BarChartAggregatedFieldWells": wells}},
        }
    }


def _count_bar(visual_id: str, title: str, ds: str, category: str, counted: str) -> dict[str, object]:
    """The number of rows per ``category`` (horizontal bars)."""
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "Orientation": "HORIZONTAL",
                "FieldWells": {
                    "BarChartAggregatedFieldWells": {
                        "Category": [_category(f"{visual_id}-{category}", ds, category)],
                        "Values": [
                            {
                                "CategoricalMeasureField": {
                                    "FieldId": f"{visual_id}-{counted}",
                                    "Column": _column(ds, counted),
                                    "AggregationFunction": "COUNT",
                                }
                            }
                        ],
                    }
                },
            },
        }
    }


def _table(visual_id: str, title: str, ds: str, columns: Sequence[str]) -> dict[str, object]:
    """The rows themselves, one column per name."""
    values = [{"FieldId": f"{visual_id}-{c}", "Column": _column(ds, c)} for c in columns]
    return {
        "TableVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {"FieldWells": {"TableUnaggregatedFieldWells": {"Values": values}}},
        }
    }


#: Per persona: dashboard name and its visuals (the first spans the sheet, the others half of it).
PERSONA_DASHBOARDS: dict[str, tuple[str, tuple[dict[str, object], ...]]] = {
    "executive": (
        "Security Lake executive overview",
        (
            _line(
                "findings-by-severity-over-time",
                "Findings by severity over time",
                "executive",
                "finding_day",
                "finding_count",
                "severity",
            ),
            _bar("findings-by-account", "Findings by account", "executive", "account_id", "finding_count", "severity"),
            _bar(
                "failed-checks-by-account",
                "Failed compliance checks by account",
                "executive",
                "account_id",
                "failed_check_count",
            ),
        ),
    ),
    "custodian": (
        "Security Lake data sources",
        (
            _line(
                "events-by-source-over-time",
                "Events per source over time",
                "custodian",
                "event_day",
                "event_count",
                "source_name",
            ),
            _bar(
                "events-by-source",
                "Events by source and account",
                "custodian",
                "source_name",
                "event_count",
                "account_id",
            ),
            _bar("events-by-region", "Events by Region", "custodian", "event_region", "event_count", "source_name"),
        ),
    ),
    "operator": (
        "Security Lake operations",
        (
            _table(
                "recent-findings",
                "Medium and higher findings, last 7 days",
                "operator",
                (
                    "finding_time",
                    "severity",
                    "finding_title",
                    "product_name",
                    "account_id",
                    "finding_region",
                    "finding_status",
                    "compliance_status",
                ),
            ),
            _count_bar("findings-by-severity", "Findings by severity", "operator", "severity", "finding_title"),
            _count_bar("findings-by-product", "Findings by product", "operator", "product_name", "finding_title"),
        ),
    ),
}


def persona_dashboard_definition(persona: str, data_set_arn: str) -> dict[str, object]:
    """The dashboard ``Definition`` of one persona (``executive``, ``custodian`` or ``operator``)."""
    name, visuals = PERSONA_DASHBOARDS[persona]
    visual_ids = [str(next(iter(v.values()))["VisualId"]) for v in visuals]  # type: ignore[index]
    elements = [
        {"ElementId": visual_id, "ElementType": "VISUAL", "ColumnSpan": 36 if i == 0 else 18, "RowSpan": 12}
        for i, visual_id in enumerate(visual_ids)
    ]
    return {
        "DataSetIdentifierDeclarations": [{"Identifier": persona, "DataSetArn": data_set_arn}],
        "Sheets": [
            {
                "SheetId": f"{persona}-overview",
                "Name": name,
                "Visuals": list(visuals),
                "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}],
            }
        ],
    }


class SecurityLakeVisualization(Construct):
    """The visualization account's side: share acceptance, catalog, grants, Athena and QuickSight.

    Order of creation, enforced with explicit dependencies: the RAM share
    acceptance and any ``admin_dependencies`` (whatever makes the deploying role
    a Lake Formation administrator), then the Glue database, then one resource
    link per shared table, then the Lake Formation grants, then the QuickSight
    resources that query through them. The construct never writes the account's
    Lake Formation settings (``AWS::LakeFormation::DataLakeSettings`` would
    replace the whole administrator list).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        lake_account: str,
        sources: Sequence[SecurityLakeSource] | None = None,
        subscriber_name: str = DEFAULT_SUBSCRIBER_NAME,
        resource_share_arn: str | None = None,
        invitation_timeout: Duration = Duration.minutes(30),
        database_name: str = DEFAULT_DATABASE_NAME,
        create_default_database: bool = False,
        analyst_principal_arns: Sequence[str] = (),
        admin_dependencies: Sequence[IDependable] = (),
        workgroup_name: str = DEFAULT_WORKGROUP_NAME,
        results_key: kms.IKey | None = None,
        results_expiration: Duration = Duration.days(30),
        bytes_scanned_cutoff_per_query: int = 10 * 1024**3,
        enable_quicksight: bool = True,
        quicksight_owner_arn: str | None = None,
        quicksight_viewer_arns: Sequence[str] = (),
        quicksight_id_prefix: str = "security-lake",
        data_set_import_mode: str = "DIRECT_QUERY",
    ) -> None:
        """Build the catalog, the Athena workgroup and (by default) the QuickSight dashboards.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            lake_account: The Security Lake account; must differ from the stack's account.
                Required.
            sources: One resource link per source, named as Security Lake names the table:
                ``amazon_security_lake_table_<region>_<source>_<version>``; list the same sources as the subscriber, and
                only sources the lake collects (a grant on a table that does not exist fails).
                Default: every AWS log source at ``2.0``.
            subscriber_name: The subscriber's name in the lake account; only its share
                (``LakeFormation-V<n>-<id>-<subscriber_name>``) is accepted.
                Default: ``cross-account-visualization``.
            resource_share_arn: Must be owned by ``lake_account``; accepts exactly this share.
                Default: none: the share of ``subscriber_name`` from ``lake_account``.
            invitation_timeout: 1 to 50 minutes; the Provider's total timeout is this plus 10 minutes, within
                CloudFormation's one-hour limit for a custom resource.
                Default: 30 minutes.
            database_name: Lowercase letters, digits, underscores, not ``default``; ``CreateTableDefaultPermissions`` is
                empty, so only Lake Formation grants apply.
                Default: ``security_lake_visualization``.
            create_default_database: ``True`` creates Athena's ``default`` database (retained on delete) for the
                ``DESCRIBE`` grants on it; only where it does not exist yet.
                Default: ``False``.
            analyst_principal_arns: IAM role/user or QuickSight user/group ARNs granted DESCRIBE on the database, the
                links and ``default``, SELECT on the targets and the failed-findings view; each must already exist (Lake
                Formation refuses a grant to a missing principal).
                Default: none.
            admin_dependencies: Constructs the database, links and grants must wait for.
                Default: none.
            workgroup_name: Name of the Athena workgroup the construct creates.
                Default: ``security-lake-visualization``.
            results_key: Encrypts results (SSE-KMS) and the results bucket.
                Default: a new KMS key with rotation.
            results_expiration: Whole days; results and incomplete uploads (1 day) expire.
                Default: 30 days.
            bytes_scanned_cutoff_per_query: At least 10 MB (Athena's minimum).
                Default: 10737418240 (10 GiB).
            enable_quicksight: ``False`` builds the catalog and Athena only (then ``analyst_principal_arns`` is
                required).
                Default: ``True``.
            quicksight_owner_arn: QuickSight group or user that owns data source, datasets and dashboard; must exist;
                its ARN carries the account's QuickSight identity Region.
                Default: required with QuickSight.
            quicksight_viewer_arns: Up to 63 QuickSight users/groups that may view the dashboard.
                Default: none.
            quicksight_id_prefix: Prefix of the QuickSight resource ids (``<prefix>-athena``, ``<prefix>-executive``,
                …).
                Default: ``security-lake``.
            data_set_import_mode: Or ``SPICE``, which adds a daily 05:00 UTC full refresh per dataset.
                Default: ``DIRECT_QUERY``.

        Attributes:
            sources (tuple[SecurityLakeSource, ...])
            lake_account (str)
            database_name (str)
            lake_database_name (str)
            share_acceptance (SecurityLakeShareAcceptance)
            database (glue.CfnDatabase)
            default_database (glue.CfnDatabase | None)
            resource_links (dict[str, glue.CfnTable])
            failed_findings_view (glue.CfnTable | None)
            results_key (kms.IKey)
            results_bucket (s3.IBucket)
            workgroup (athena.CfnWorkGroup)
            workgroup_name (str)
            named_queries (list[athena.CfnNamedQuery])
            quicksight_role (iam.IRole | None)
            grants (list[lakeformation.CfnPrincipalPermissions])
            data_source (quicksight.CfnDataSource | None)
            data_sets (dict[str, quicksight.CfnDataSet])
            refresh_schedules (dict[str, quicksight.CfnRefreshSchedule])
            dashboards (dict[str, quicksight.CfnDashboard])
            dashboard (quicksight.CfnDashboard | None)
        """
        super().__init__(scope, id)
        region = _concrete_region(self)
        stack = Stack.of(self)
        _check_account("lake_account", lake_account)
        if not Token.is_unresolved(stack.account) and stack.account == lake_account:
            raise ValueError(
                f"lake_account must be the Security Lake account, not this visualization account {stack.account}"
            )
        checked_sources = _check_sources(sources if sources is not None else all_aws_sources())
        _check_subscriber_name(subscriber_name)
        if not _GLUE_NAME_RE.match(database_name):
            raise ValueError(
                f"database_name must be 1-255 lowercase letters, digits or underscores; got {database_name!r}"
            )
        if database_name == ATHENA_DEFAULT_DATABASE:
            raise ValueError(
                "database_name must not be 'default', Athena's own database: the resource links need a database "
                "of their own, such as security_lake_visualization"
            )
        if not _WORKGROUP_RE.match(workgroup_name):
            raise ValueError(f"workgroup_name must be 1-128 letters, digits, '.', '_' or '-'; got {workgroup_name!r}")
        for arn in analyst_principal_arns:
            if not Token.is_unresolved(arn) and not _LF_PRINCIPAL_RE.match(arn):
                raise ValueError(
                    "analyst_principal_arns must be IAM role or user ARNs or QuickSight user or group ARNs "
                    f"(Lake Formation principals); got {arn!r}"
                )
        repeated = sorted({arn for arn in analyst_principal_arns if list(analyst_principal_arns).count(arn) > 1})
        if repeated:
            raise ValueError(f"analyst_principal_arns must not repeat a principal; got {repeated[0]!r} more than once")
        if bytes_scanned_cutoff_per_query < MIN_BYTES_SCANNED_CUTOFF:
            raise ValueError(
                f"bytes_scanned_cutoff_per_query must be at least {MIN_BYTES_SCANNED_CUTOFF} bytes (Athena's minimum); "
                f"got {bytes_scanned_cutoff_per_query}"
            )
        expiration_seconds = results_expiration.to_seconds()
        if expiration_seconds < 86400 or expiration_seconds % 86400:
            raise ValueError(
                "results_expiration must be a whole number of days, at least 1 (S3 expires objects by day); "
                f"got {results_expiration.to_human_string()}"
            )
        if enable_quicksight:
            self._check_quicksight(
                quicksight_owner_arn,
                quicksight_viewer_arns,
                quicksight_id_prefix,
                data_set_import_mode,
                checked_sources,
            )
        elif quicksight_owner_arn or quicksight_viewer_arns:
            raise ValueError(
                "quicksight_owner_arn and quicksight_viewer_arns are only used with enable_quicksight=True; "
                "pass them with enable_quicksight=True or leave them out"
            )
        elif not analyst_principal_arns:
            raise ValueError(
                "nobody would be granted access: pass analyst_principal_arns, enable_quicksight=True, or both"
            )

        self.sources = checked_sources
        self.lake_account = lake_account
        self.database_name = database_name
        self.lake_database_name = security_lake_database_name(region)

        # 1. The share from the Security Lake account, accepted.
        self.share_acceptance = SecurityLakeShareAcceptance(
            self,
            "ShareAcceptance",
            sender_account=lake_account,
            subscriber_name=subscriber_name,
            sources=checked_sources,
            resource_share_arn=resource_share_arn,
            timeout=invitation_timeout,
        )

        # 2. The database that holds the resource links.
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database_name,
                description=f"Resource links to the Security Lake tables shared by account {lake_account}",
                create_table_default_permissions=[],
            ),
        )
        self.database.node.add_dependency(self.share_acceptance.resource, *admin_dependencies)

        # Athena's `default` database, which must exist for the DESCRIBE grants on it; kept on stack deletion,
        # since Athena and everybody else in the account use it too.
        self.default_database: glue.CfnDatabase | None = None
        if create_default_database:
            self.default_database = glue.CfnDatabase(
                self,
                "DefaultDatabase",
                catalog_id=Aws.ACCOUNT_ID,
                database_input=glue.CfnDatabase.DatabaseInputProperty(
                    name=ATHENA_DEFAULT_DATABASE, description="Athena's default database"
                ),
            )
            self.default_database.apply_removal_policy(RemovalPolicy.RETAIN)
            for dependency in admin_dependencies:
                self.default_database.node.add_dependency(dependency)

        # 3. One resource link per shared table, named as Security Lake names the table.
        self.resource_links: dict[str, glue.CfnTable] = {}
        for source in checked_sources:
            table = source.table_name(region)
            link = glue.CfnTable(
                self,
                f"Link{_pascal(source.name)}",
                catalog_id=Aws.ACCOUNT_ID,
                database_name=database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table,
                    target_table=glue.CfnTable.TableIdentifierProperty(
                        catalog_id=lake_account, database_name=self.lake_database_name, name=table
                    ),
                ),
            )
            link.node.add_dependency(self.database)
            self.resource_links[source.name] = link
        self.failed_findings_view = self._failed_findings_view(region)

        # 4. Athena: an encrypted results bucket with expiry and an enforcing workgroup.
        self.results_key: kms.IKey = results_key or kms.Key(
            self,
            "ResultsKey",
            description="Encrypts the Security Lake visualization's Athena query results",
            enable_key_rotation=True,
        )
        self.results_bucket: s3.IBucket = SecureBucket(
            self,
            "Results",
            encryption_key=self.results_key,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=results_expiration, abort_incomplete_multipart_upload_after=Duration.days(1)
                )
            ],
        )
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=workgroup_name,
            # Once QuickSight has queried it, the workgroup holds query executions, and Athena refuses to delete
            # a non-empty workgroup; the results themselves stay in the retained results bucket.
            recursive_delete_option=True,
            description="Queries over the Security Lake resource links; configuration enforced",
            state="ENABLED",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_per_query,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.results_bucket.bucket_name}/results/",
                    expected_bucket_owner=Aws.ACCOUNT_ID,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_KMS", kms_key=self.results_key.key_arn
                    ),
                ),
            ),
        )
        self.workgroup_name: str = self.workgroup.ref
        self.named_queries = self._named_queries(region)

        # 5. QuickSight's own role for the data source (the account-wide QuickSight role stays untouched).
        self.quicksight_role: iam.IRole | None = None
        if enable_quicksight:
            self.quicksight_role = self._quicksight_role(region)

        # 6. Lake Formation grants: DESCRIBE on the database and links, SELECT on the shared tables.
        self.grants: list[lakeformation.CfnPrincipalPermissions] = []
        for index, principal in enumerate(analyst_principal_arns):
            self._grant(_principal_key(principal, index), principal, region)
        if self.quicksight_role is not None:
            self._grant("QuickSight", self.quicksight_role.role_arn, region)

        self.data_source: quicksight.CfnDataSource | None = None
        self.data_sets: dict[str, quicksight.CfnDataSet] = {}
        self.refresh_schedules: dict[str, quicksight.CfnRefreshSchedule] = {}
        self.dashboards: dict[str, quicksight.CfnDashboard] = {}
        self.dashboard: quicksight.CfnDashboard | None = None
        if enable_quicksight and quicksight_owner_arn:
            self._quicksight(
                region, quicksight_owner_arn, quicksight_viewer_arns, quicksight_id_prefix, data_set_import_mode
            )

        CfnOutput(self, "DatabaseName", value=database_name, description="Glue database with the resource links")
        CfnOutput(self, "WorkGroupName", value=self.workgroup.ref, description="Athena workgroup for the queries")
        if self.dashboard is not None:
            CfnOutput(
                self,
                "DashboardIds",
                value=",".join(d.dashboard_id for d in self.dashboards.values()),
                description="QuickSight dashboards: executive, custodian, operator",
            )

    @staticmethod
    def _check_quicksight(
        owner: str | None,
        viewers: Sequence[str],
        prefix: str,
        import_mode: str,
        sources: Sequence[SecurityLakeSource],
    ) -> None:
        if not owner:
            raise ValueError(
                "quicksight_owner_arn is required with enable_quicksight=True: pass the ARN of the QuickSight group "
                "or user that owns the data source, datasets and dashboard, such as "
                "arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins (QuickSight needs an "
                "existing account subscription), or pass enable_quicksight=False"
            )
        for arn in (owner, *viewers):
            if not Token.is_unresolved(arn) and not _QUICKSIGHT_PRINCIPAL_RE.match(arn):
                raise ValueError(
                    "QuickSight principals must be QuickSight user or group ARNs such as "
                    f"arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins; got {arn!r}"
                )
        if len(viewers) > 63:
            raise ValueError(f"a dashboard takes at most 63 viewers besides its owner; got {len(viewers)}")
        if not re.match(r"^[a-z0-9-]{1,40}$", prefix):
            raise ValueError(f"quicksight_id_prefix must be 1-40 lowercase letters, digits or '-'; got {prefix!r}")
        if import_mode not in IMPORT_MODES:
            raise ValueError(f"data_set_import_mode must be one of {', '.join(IMPORT_MODES)}; got {import_mode!r}")
        if "SH_FINDINGS" not in {s.name for s in sources}:
            raise ValueError("the QuickSight datasets read Security Hub findings: sources must include SH_FINDINGS")
        old = sorted(f"{s.name} {s.version}" for s in sources if s.version != CURRENT_SOURCE_VERSION)
        if old:
            raise ValueError(
                f"the QuickSight datasets are written for source version {CURRENT_SOURCE_VERSION} (OCSF 1.1); "
                f"got {', '.join(old)}: use version {CURRENT_SOURCE_VERSION} or enable_quicksight=False"
            )

    def _findings_source(self) -> SecurityLakeSource | None:
        findings = next((s for s in self.sources if s.name == "SH_FINDINGS"), None)
        if findings is None or findings.version not in _FAILED_FINDINGS_COLUMNS:
            return None
        return findings

    def _failed_findings_view(self, region: str) -> glue.CfnTable | None:
        """The post's view, created as Athena creates views, so that it exists without anyone running its SQL."""
        findings = self._findings_source()
        if findings is None:
            return None
        sql = failed_findings_view_sql(self.database_name, findings, region)
        view = glue.CfnTable(
            self,
            "FailedFindingsView",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=_FAILED_FINDINGS_VIEW,
                description="The post's view: 100 failed Security Hub findings by creation time",
                table_type="VIRTUAL_VIEW",
                parameters={"presto_view": "true", "comment": "Presto View"},
                view_original_text=presto_view_text(
                    sql, self.database_name, [(c, "varchar") for c in FAILED_FINDINGS_VIEW_COLUMNS]
                ),
                view_expanded_text="/* Presto View */",
                partition_keys=[],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[glue.CfnTable.ColumnProperty(name=c, type="string") for c in FAILED_FINDINGS_VIEW_COLUMNS],
                    serde_info=glue.CfnTable.SerdeInfoProperty(),
                ),
            ),
        )
        view.node.add_dependency(self.resource_links["SH_FINDINGS"])
        return view

    def _named_queries(self, region: str) -> list[athena.CfnNamedQuery]:
        findings = self._findings_source()
        if findings is None:
            return []
        link = findings.table_name(region)
        queries = (
            (
                "FirstTenSecurityHubFindings",
                "First ten Security Hub findings",
                f'SELECT * FROM "AwsDataCatalog"."{self.database_name}"."{link}" LIMIT 10;',  # noqa: S608 - identifiers are checked names, not user text
            ),
            (
                "FirstTenFailedFindings",
                "First ten rows of the failed findings view",
                f'SELECT * FROM "{self.database_name}"."{_FAILED_FINDINGS_VIEW}" LIMIT 10;',  # noqa: S608 - identifiers are checked names, not user text
            ),
        )
        created_queries = []
        for construct_id, name, sql in queries:
            query = athena.CfnNamedQuery(
                self,
                construct_id,
                name=name,
                description=f"From the Security Lake visualization post, over {link}",
                database=self.database_name,
                work_group=self.workgroup.ref,
                query_string=sql,
            )
            query.node.add_dependency(self.failed_findings_view or self.resource_links["SH_FINDINGS"])
            created_queries.append(query)
        return created_queries

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (an IAM role or user) query the lake through this construct's workgroup, as
        ``analyst_principal_arns`` does: the IAM statements of the QuickSight role (Athena on the workgroup,
        Glue reads of the links and shared tables, the results prefix and key, ``lakeformation:GetDataAccess``)
        and Lake Formation ``DESCRIBE``/``SELECT`` grants on this construct's database, links and tables."""
        principal = grantee.grant_principal
        arn = next((getattr(principal, a) for a in ("role_arn", "user_arn", "arn") if hasattr(principal, a)), None)
        if not isinstance(arn, str):
            raise ValueError(
                f"grant_query needs an IAM role or user (Lake Formation grants name an ARN); got {principal}"
            )
        key = "Grantee" + _principal_key(arn, len(self.grants)).removeprefix("Analyst")
        self._grant(key, arn, _concrete_region(self))
        statements = self._query_statements()
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=statements[0].actions, resource_arns=statements[0].resources
        )
        for statement in statements[1:]:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=statement.actions, resource_arns=statement.resources
                )
            )
        if isinstance(principal, Construct):
            self._acknowledge_query(principal)
        return grant

    def _acknowledge_query(self, construct: Construct) -> None:
        bucket_id = Stack.of(self).get_logical_id(self.results_bucket.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            construct,
            "AwsSolutions-IAM5[Resource::*]",
            "lakeformation:GetDataAccess, athena:ListDataCatalogs and athena:ListWorkGroups support no "
            "resource-level permissions; the listings only read names, and Lake Formation itself decides which "
            "tables the role may read, from the grants this construct makes.",
        )
        acknowledge(
            construct,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/results/*]",
            "Athena writes each query's results under a new key below results/ in the construct's own bucket; "
            "the role is limited to that prefix.",
        )

    def _query_statements(self) -> list[iam.PolicyStatement]:
        """What a principal needs to query the lake through the workgroup (Lake Formation grants aside)."""
        stack = Stack.of(self)
        region = _concrete_region(self)

        def glue_arns(account: str, database: str, tables: Sequence[str]) -> list[str]:
            return [
                stack.format_arn(service="glue", account=account, resource="catalog"),
                stack.format_arn(service="glue", account=account, resource="database", resource_name=database),
                *(
                    stack.format_arn(service="glue", account=account, resource="table", resource_name=f"{database}/{t}")
                    for t in tables
                ),
            ]

        tables = [s.table_name(region) for s in self.sources]
        return [
            iam.PolicyStatement(
                sid="QueryThroughTheWorkGroup",
                actions=[
                    "athena:GetWorkGroup",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:GetQueryResultsStream",
                ],
                resources=[stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)],
            ),
            iam.PolicyStatement(
                sid="BrowseTheDataCatalog",
                actions=[
                    "athena:GetDataCatalog",
                    "athena:GetDatabase",
                    "athena:ListDatabases",
                    "athena:GetTableMetadata",
                    "athena:ListTableMetadata",
                ],
                resources=[stack.format_arn(service="athena", resource="datacatalog", resource_name="AwsDataCatalog")],
            ),
            iam.PolicyStatement(
                sid="ListCatalogsAndWorkGroups",
                actions=["athena:ListDataCatalogs", "athena:ListWorkGroups"],
                resources=["*"],
            ),
            # Athena's documented prerequisite for working with the Glue Data Catalog ("Configure AWS Glue access
            # to the catalog and database per AWS Region"): GetDatabase and CreateDatabase on the Region's catalog
            # and its `default` database. CreateDatabase can create no database but `default` (the database ARN
            # must match too), which Athena creates when it is missing.
            iam.PolicyStatement(
                sid="AthenaDefaultDatabase",
                actions=["glue:GetDatabase", "glue:CreateDatabase"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name="default"),
                ],
            ),
            iam.PolicyStatement(
                sid="ReadTheLinksAndSharedTables",
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                ],
                resources=[
                    *glue_arns(
                        Aws.ACCOUNT_ID,
                        self.database_name,
                        [*tables, *([_FAILED_FINDINGS_VIEW] if self.failed_findings_view is not None else [])],
                    ),
                    *glue_arns(self.lake_account, self.lake_database_name, tables),
                ],
            ),
            iam.PolicyStatement(
                sid="LakeFormationCredentialVending", actions=["lakeformation:GetDataAccess"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="FindResultsBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket"],
                resources=[self.results_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ReadWriteQueryResults",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[self.results_bucket.arn_for_objects("results/*")],
            ),
            iam.PolicyStatement(
                sid="EncryptQueryResults",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[self.results_key.key_arn],
            ),
        ]

    def _quicksight_role(self, region: str) -> iam.IRole:
        role = iam.Role(
            self,
            "QuickSightRole",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight's role for the Security Lake Athena data source",
        )

        for statement in self._query_statements():
            role.add_to_policy(statement)
        self._acknowledge_query(role)
        return role

    def _grant(self, key: str, principal: str, region: str) -> None:
        def grant(
            construct_id: str,
            resource: lakeformation.CfnPrincipalPermissions.ResourceProperty,
            permissions: list[str],
            after: Sequence[glue.CfnTable | glue.CfnDatabase],
        ) -> None:
            permission = lakeformation.CfnPrincipalPermissions(
                self,
                construct_id,
                principal=lakeformation.CfnPrincipalPermissions.DataLakePrincipalProperty(
                    data_lake_principal_identifier=principal
                ),
                resource=resource,
                permissions=permissions,
                permissions_with_grant_option=[],
            )
            for dependency in after:
                permission.node.add_dependency(dependency)
            self.grants.append(permission)

        grant(
            f"Grant{key}Database",
            lakeformation.CfnPrincipalPermissions.ResourceProperty(
                database=lakeformation.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID, name=self.database_name
                )
            ),
            ["DESCRIBE"],
            [self.database],
        )
        # Athena: "The DESCRIBE permission is required on the default database" (Considerations and limitations
        # for querying data registered with Lake Formation); without it every query of a principal fails in an
        # account where Lake Formation, not IAMAllowedPrincipals, governs the catalog.
        grant(
            f"Grant{key}DefaultDatabase",
            lakeformation.CfnPrincipalPermissions.ResourceProperty(
                database=lakeformation.CfnPrincipalPermissions.DatabaseResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID, name=ATHENA_DEFAULT_DATABASE
                )
            ),
            ["DESCRIBE"],
            [self.database, *([self.default_database] if self.default_database is not None else [])],
        )
        if self.failed_findings_view is not None:
            # A view is a table of this account: readers need SELECT on it, and on what it reads (granted below).
            grant(
                f"Grant{key}FailedFindingsView",
                lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    table=lakeformation.CfnPrincipalPermissions.TableResourceProperty(
                        catalog_id=Aws.ACCOUNT_ID, database_name=self.database_name, name=_FAILED_FINDINGS_VIEW
                    )
                ),
                ["SELECT", "DESCRIBE"],
                [self.failed_findings_view],
            )
        for source in self.sources:
            table = source.table_name(region)
            link = self.resource_links[source.name]
            grant(
                f"Grant{key}Link{_pascal(source.name)}",
                lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    table=lakeformation.CfnPrincipalPermissions.TableResourceProperty(
                        catalog_id=Aws.ACCOUNT_ID, database_name=self.database_name, name=table
                    )
                ),
                ["DESCRIBE"],
                [link],
            )
            grant(
                f"Grant{key}Target{_pascal(source.name)}",
                lakeformation.CfnPrincipalPermissions.ResourceProperty(
                    table=lakeformation.CfnPrincipalPermissions.TableResourceProperty(
                        catalog_id=self.lake_account, database_name=self.lake_database_name, name=table
                    )
                ),
                ["SELECT"],
                [link],
            )

    def _quicksight(self, region: str, owner: str, viewers: Sequence[str], prefix: str, import_mode: str) -> None:
        quicksight_role = present(self.quicksight_role, "quicksight_role")
        self.data_source = quicksight.CfnDataSource(
            self,
            "DataSource",
            aws_account_id=Aws.ACCOUNT_ID,
            data_source_id=f"{prefix}-athena",
            name="Security Lake (Athena)",
            type="ATHENA",
            data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
                athena_parameters=quicksight.CfnDataSource.AthenaParametersProperty(
                    work_group=self.workgroup.ref, role_arn=quicksight_role.role_arn
                )
            ),
            ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
            permissions=[
                quicksight.CfnDataSource.ResourcePermissionProperty(
                    principal=owner, actions=list(DATA_SOURCE_OWNER_ACTIONS)
                )
            ],
        )
        self.data_source.node.add_dependency(quicksight_role, *self.grants)
        for persona in persona_data_sets(self.database_name, region, self.sources):
            data_set = quicksight.CfnDataSet(
                self,
                f"DataSet{_pascal(persona.key)}",
                aws_account_id=Aws.ACCOUNT_ID,
                data_set_id=f"{prefix}-{persona.key}",
                name=persona.title,
                import_mode=import_mode,
                physical_table_map={
                    persona.key: quicksight.CfnDataSet.PhysicalTableProperty(
                        custom_sql=quicksight.CfnDataSet.CustomSqlProperty(
                            data_source_arn=self.data_source.attr_arn,
                            name=persona.key,
                            sql_query=persona.sql,
                            columns=[
                                quicksight.CfnDataSet.InputColumnProperty(name=name, type=column_type)
                                for name, column_type in persona.columns
                            ],
                        )
                    )
                },
                permissions=[
                    quicksight.CfnDataSet.ResourcePermissionProperty(
                        principal=owner, actions=list(DATA_SET_OWNER_ACTIONS)
                    )
                ],
            )
            self.data_sets[persona.key] = data_set
            if import_mode == "SPICE":
                schedule = quicksight.CfnRefreshSchedule(
                    self,
                    f"Refresh{_pascal(persona.key)}",
                    aws_account_id=Aws.ACCOUNT_ID,
                    data_set_id=data_set.data_set_id,
                    schedule=quicksight.CfnRefreshSchedule.RefreshScheduleMapProperty(
                        schedule_id="daily",
                        refresh_type="FULL_REFRESH",
                        schedule_frequency=quicksight.CfnRefreshSchedule.ScheduleFrequencyProperty(
                            interval="DAILY", time_of_the_day="05:00", time_zone="UTC"
                        ),
                    ),
                )
                schedule.node.add_dependency(data_set)
                self.refresh_schedules[persona.key] = schedule
        for key, (name, _) in PERSONA_DASHBOARDS.items():
            dashboard = quicksight.CfnDashboard(
                self,
                f"Dashboard{_pascal(key)}",
                aws_account_id=Aws.ACCOUNT_ID,
                dashboard_id=f"{prefix}-{key}-overview",
                name=name,
                permissions=[
                    quicksight.CfnDashboard.ResourcePermissionProperty(
                        principal=owner, actions=list(DASHBOARD_OWNER_ACTIONS)
                    ),
                    *(
                        quicksight.CfnDashboard.ResourcePermissionProperty(
                            principal=viewer, actions=list(DASHBOARD_VIEWER_ACTIONS)
                        )
                        for viewer in viewers
                    ),
                ],
            )
            dashboard.add_property_override(
                "Definition", persona_dashboard_definition(key, self.data_sets[key].attr_arn)
            )
            self.dashboards[key] = dashboard
        self.dashboard = self.dashboards["executive"]


def _principal_key(principal: str, index: int) -> str:
    """A construct-id part that names a grantee by its ARN, not its place in the list.

    Lake Formation grants are keyed by principal: if an id followed the list order, removing one analyst would
    rename the grants of those after it, and CloudFormation would create the renamed grants and then delete the
    old ones, revoking the very permissions it had just granted. An ARN only known at deploy time (a token) keeps
    its position instead.
    """
    if Token.is_unresolved(principal):
        return f"Analyst{index}"
    return "Analyst" + hashlib.sha256(principal.encode()).hexdigest()[:10]


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.lower().split("_"))
