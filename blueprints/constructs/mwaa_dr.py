"""Disaster recovery for Amazon MWAA across two Regions, after "Disaster recovery strategies for
Amazon MWAA" (AWS Big Data Blog).

:class:`MwaaDrPrimary` runs in the primary Region: the DAGs and backup buckets (replicated to the
DR Region), a scheduled metadata backup through MWAA ``InvokeRestApi`` and the alarms.
:class:`MwaaDrSecondary` runs in the DR Region: the replica buckets, the health check, the
failover and failback state machines, and, for the active-passive strategy, the passive
environment. The two stacks share nothing but names derived from the account, the Region and a
prefix, so neither needs a cross-Region reference; deploy the DR side first so the replication
targets exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    acknowledge,
    alarm_notification_topic,
    explain_zone_lookup,
    nag_text,
    narrowed,
    present,
    service_grant,
    state_machine_log_group,
)


class MwaaDrStrategy(Enum):
    """How the DR Region recovers."""

    #: A passive environment with paused DAGs waits in the DR Region; failover restores the
    #: latest backup into it and unpauses the DAGs that were active.
    ACTIVE_PASSIVE = "active_passive"
    #: No environment waits in the DR Region; failover creates one from the primary's stored
    #: configuration, waits until it is available, then restores the latest backup.
    BACKUP_RESTORE = "backup_restore"


#: Airflow versions CreateEnvironment accepts (botocore MWAA service model), all >= 2.4.3 so
#: InvokeRestApi works.
AIRFLOW_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6")
ENVIRONMENT_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
#: Airflow roles that InvokeRestApi may act as: the default FAB roles with read and write access to
#: variables, connections and pools (User and Viewer have none, so backups and restores get 403).
AIRFLOW_RBAC_ROLES = ("Admin", "Op")
#: MWAA statuses (botocore ``EnvironmentStatus``) in which a DR environment takes the restore:
#: UPDATE_FAILED means "restored to its previous state successfully and is ready to use".
READY_STATUSES = ("AVAILABLE", "UPDATE_FAILED")
#: Statuses that MWAA leaves on its own; the failover waits through them. Every other status
#: (CREATE_FAILED, UNAVAILABLE, DELETING, DELETED, PENDING, a vanished environment, or one added
#: later) fails the failover at once, with a notification.
TRANSITIONAL_STATUSES = ("CREATING", "UPDATING", "CREATING_SNAPSHOT", "ROLLING_BACK", "MAINTENANCE")
BACKUP_PREFIX = "backups"
FAILBACK_PREFIX = "failback"
HEARTBEAT_NAMESPACE = "AmazonMWAA"
METRIC_NAMESPACE = "Blueprints"
BACKUP_SERVICE = "mwaa-dr-backup"
#: How long one SNS publish of a state machine may take before it is retried.
NOTIFY_TIMEOUT = Duration.seconds(30)
#: Where a notification that failed after its retries is recorded in the execution's state.
NOTIFICATION_ERROR_PATH = "$.notification_error"
#: Longest a failover or failback execution may run; a timed-out execution raises an alarm.
EXECUTION_TIMEOUT = Duration.hours(3)
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$")
_ENV_NAME_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")
#: Longest Region code in use (e.g. ap-southeast-5), to size bucket names made from tokens.
_MAX_REGION_LEN = 14


#: Airflow configuration options that keep the DR environment passive, set on it by
#: :class:`MwaaDrSecondary`: DAGs parse paused, and an unpaused DAG without an explicit
#: ``catchup`` schedules only its latest interval instead of every interval since ``start_date``.
DR_CONFIGURATION_OPTIONS = {"core.dags_are_paused_at_creation": "True", "scheduler.catchup_by_default": "False"}
#: Airflow's secrets backend for AWS Secrets Manager (Amazon provider), which MWAA ships.
SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
#: AWS::MWAA::Environment properties whose change replaces the environment: the resource schema's
#: ``createOnlyProperties`` (cfn-lint's copy of the CloudFormation registry schema).
REPLACING_PROPERTIES = ("Name", "KmsKey", "NetworkConfiguration.SubnetIds", "EndpointManagement")
# botocore's MWAA model: ConfigKey (1-64 characters) and ConfigValue (1-65536 printable ASCII).
_CONFIG_KEY_RE = re.compile(r"^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$")
_CONFIG_VALUE_RE = re.compile(r"^[ -~]{1,65536}$")
# Secrets Manager names: letters, digits and /_+=.@- (a prefix neither starts nor ends with '/').
_SECRET_PREFIX_RE = re.compile(r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$")


@dataclass(frozen=True)
class AirflowS3Object:
    """One object of the DAGs bucket at one version: MWAA's ``<X>S3Path`` and
    ``<X>S3ObjectVersion`` (requirements.txt, plugins.zip, the startup script).

    S3 replication keeps an object's version id, so the same ``version`` names the same bytes in
    the DR Region's replica bucket: pass the same object to both constructs, once it has
    replicated.
    """

    path: str
    version: str


@dataclass(frozen=True)
class SecretsManagerBackend:
    """Airflow's Secrets Manager backend on both environments: connections are read from secrets
    named ``<connections_prefix>/<conn_id>``, variables from ``<variables_prefix>/<key>`` (and
    Airflow configuration from ``<config_prefix>/<key>``); ``None`` turns a lookup off. Each
    environment reads the secrets of its own Region, so create every secret with a replica in the
    DR Region (Secrets Manager ``ReplicaRegions``): a replica keeps the secret's name.
    """

    connections_prefix: str | None = "airflow/connections"
    variables_prefix: str | None = "airflow/variables"
    config_prefix: str | None = None

    def prefixes(self) -> list[str]:
        return [p for p in (self.connections_prefix, self.variables_prefix, self.config_prefix) if p is not None]

    def options(self) -> dict[str, str]:
        """The ``secrets.backend`` and ``secrets.backend_kwargs`` configuration options."""
        kwargs = {
            "connections_prefix": self.connections_prefix,
            "variables_prefix": self.variables_prefix,
            "config_prefix": self.config_prefix,
        }
        return {"secrets.backend": SECRETS_MANAGER_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs)}


def _check_s3_object(argument: str, value: AirflowS3Object | None) -> None:
    if value is None:
        return
    if not isinstance(value, AirflowS3Object):
        raise ValueError(f"{argument} must be an AirflowS3Object(path=..., version=...); got {value!r}")
    path, version = value.path, value.version
    if not Token.is_unresolved(path) and (
        not path or path.startswith(("/", "s3://")) or len(path) > 1024 or path.endswith("/")
    ):
        raise ValueError(
            f"{argument}.path must be an object key relative to the DAGs bucket, such as 'requirements.txt' "
            f"(no leading '/', no s3:// URL, at most 1024 characters); got {path!r}"
        )
    if not Token.is_unresolved(version) and (not version or len(version) > 1024 or version == "null"):
        raise ValueError(
            f"{argument}.version must be the object's S3 version id (1-1024 characters; not 'null', which an "
            "object written before versioning has, and replication never copies): both environments load "
            f"that exact version; got {version!r}"
        )


def _check_configuration(argument: str, options: Mapping[str, str] | None) -> dict[str, str]:
    options = dict(options or {})
    for key, value in options.items():
        if not isinstance(key, str) or len(key) > 64 or "." not in key or not _CONFIG_KEY_RE.match(key):
            raise ValueError(
                f"{argument} keys must be '<section>.<option>' in lowercase letters, digits, '.' and '_' (at most "
                f"64 characters, MWAA's ConfigKey), such as 'core.default_task_retries'; got {key!r}"
            )
        if not isinstance(value, str) or not (Token.is_unresolved(value) or _CONFIG_VALUE_RE.match(value)):
            raise ValueError(
                f"{argument}[{key!r}] must be a string of 1-65536 printable ASCII characters (MWAA's "
                f"ConfigValue); got {value!r}"
            )
    return options


def _check_secrets(
    secrets_backend: SecretsManagerBackend | None, secrets_key: kms.IKey | None, options: Mapping[str, str]
) -> None:
    if secrets_backend is None:
        if secrets_key is not None:
            raise ValueError("secrets_key is the key of the secrets_backend's secrets; pass a secrets_backend too")
        return
    if not isinstance(secrets_backend, SecretsManagerBackend):
        raise ValueError(f"secrets_backend must be a SecretsManagerBackend(...); got {secrets_backend!r}")
    clash = sorted(k for k in options if k.startswith("secrets."))
    if clash:
        raise ValueError(
            "secrets_backend sets secrets.backend and secrets.backend_kwargs; pass either secrets_backend or "
            f"those options in airflow_configuration_options, not both; got {', '.join(clash)}"
        )
    if not secrets_backend.prefixes():
        raise ValueError("secrets_backend needs at least one of connections_prefix, variables_prefix, config_prefix")
    for prefix in secrets_backend.prefixes():
        if not isinstance(prefix, str) or len(prefix) > 256 or not _SECRET_PREFIX_RE.match(prefix):
            raise ValueError(
                "secrets_backend prefixes must be Secrets Manager name prefixes: letters, digits and /_+=.@-, "
                f"not starting or ending with '/', such as 'airflow/connections'; got {prefix!r}"
            )


def _given(**arguments: Any) -> list[str]:
    """The names of the arguments that were set (for errors that list what a mode does not take)."""
    return [name for name, value in arguments.items() if value]


def _check_prefix(name_prefix: str) -> None:
    if not _PREFIX_RE.match(name_prefix):
        raise ValueError(
            "name_prefix must be 3-24 characters of lowercase letters, digits and hyphens, starting and "
            f"ending with a letter or digit (it names buckets and the replica key alias); got {name_prefix!r}"
        )


def _check_environment_name(argument: str, name: str) -> None:
    if Token.is_unresolved(name) or not _ENV_NAME_RE.match(name):
        raise ValueError(
            f"{argument} must be a literal MWAA environment name: a letter, then up to 79 letters, digits, "
            f"'-' or '_'; got {name!r}"
        )


def dr_bucket_names(name_prefix: str, account: str, region: str) -> dict[str, str]:
    """The deterministic names of the DR Region's DAGs and backup buckets."""
    _check_prefix(name_prefix)
    return {
        "dags": f"{name_prefix}-dags-{account}-{region}",
        "backup": f"{name_prefix}-backup-{account}-{region}",
    }


def replica_key_alias(name_prefix: str) -> str:
    """The alias of the DR Region's KMS key that replicas are encrypted with."""
    _check_prefix(name_prefix)
    return f"alias/{name_prefix}-dr-replica"


def _environment_arn(scope: Construct, name: str, region: str | None = None) -> str:
    return Stack.of(scope).format_arn(service="airflow", resource="environment", resource_name=name, region=region)


def _rbac_role_arn(scope: Construct, name: str, role: str, region: str | None = None) -> str:
    return Stack.of(scope).format_arn(service="airflow", resource="role", resource_name=f"{name}/{role}", region=region)


def _check_common(
    *,
    airflow_version: str,
    environment_class: str,
    max_workers: int,
    airflow_rbac_role: str,
    backup_retention: Duration,
) -> None:
    if airflow_version not in AIRFLOW_VERSIONS:
        raise ValueError(f"airflow_version must be one of {', '.join(AIRFLOW_VERSIONS)}; got {airflow_version!r}")
    if environment_class not in ENVIRONMENT_CLASSES:
        raise ValueError(
            f"environment_class must be one of {', '.join(ENVIRONMENT_CLASSES)}; got {environment_class!r}"
        )
    if not 1 <= max_workers <= 25:
        raise ValueError(f"max_workers must be between 1 and 25; got {max_workers}")
    if airflow_rbac_role not in AIRFLOW_RBAC_ROLES:
        raise ValueError(
            f"airflow_rbac_role must be one of {', '.join(AIRFLOW_RBAC_ROLES)}: the Airflow roles that may read "
            "and write variables, connections and pools (User and Viewer may not, so every backup and restore "
            f"would get 403); got {airflow_rbac_role!r}"
        )
    days = backup_retention.to_hours() / 24
    if days < 1 or not days.is_integer():
        raise ValueError(f"backup_retention must be at least 1 day, in whole days; got {days:g} days")


def _backup_lifecycle(retention: Duration) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="ExpireBackups",
            prefix=f"{BACKUP_PREFIX}/",
            expiration=retention,
            noncurrent_version_expiration=Duration.days(7),
        ),
        s3.LifecycleRule(
            id="ExpireFailbackBackups",
            prefix=f"{FAILBACK_PREFIX}/",
            expiration=retention,
            noncurrent_version_expiration=Duration.days(7),
        ),
        s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
    ]


class _AirflowEnvironment(Construct):
    """An MWAA environment in private network mode, with its execution role and security group.

    ``environment_key`` is the customer managed key the environment encrypts its data with
    (``KmsKey``); MWAA's guide requires the DAGs bucket's SSE-KMS key there ("If you specified an
    Amazon S3 key for server-side encryption on your Amazon S3 bucket, you must specify the same key
    for your Amazon MWAA environment", Create an environment). Without one the environment uses an
    AWS owned key, and the execution role gets MWAA's policy for that case.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        dags_bucket: s3.IBucket,
        dags_key: kms.IKey | None,
        environment_key: kms.IKey | None,
        airflow_version: str,
        environment_class: str,
        max_workers: int,
        airflow_configuration_options: Mapping[str, str],
        requirements: AirflowS3Object | None,
        plugins: AirflowS3Object | None,
        startup_script: AirflowS3Object | None,
        secrets_backend: SecretsManagerBackend | None,
        secrets_key: kms.IKey | None,
        retain: bool,
        create: bool,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"MWAA environment {name}: traffic between its own components only",
            allow_all_outbound=True,
        )
        self.security_group.add_ingress_rule(
            self.security_group, ec2.Port.all_traffic(), "MWAA components talk to each other"
        )
        self.role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"), iam.ServicePrincipal("airflow-env.amazonaws.com")
            ),
            description=f"Execution role of MWAA environment {name}",
        )
        log_groups = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=f"airflow-{name}-*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        statements = [
            iam.PolicyStatement(actions=["airflow:PublishMetrics"], resources=[_environment_arn(self, name)]),
            iam.PolicyStatement(
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                resources=[dags_bucket.bucket_arn, dags_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                resources=[log_groups],
            ),
            iam.PolicyStatement(
                actions=["logs:DescribeLogGroups", "s3:GetAccountPublicAccessBlock", "cloudwatch:PutMetricData"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                resources=[stack.format_arn(service="sqs", account="*", resource="airflow-celery-*")],
            ),
        ]
        if environment_key is not None:
            # MWAA's execution-role policy for a customer managed key: the key, through SQS and S3.
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
                    resources=[environment_key.key_arn],
                    conditions={
                        "StringLike": {
                            "kms:ViaService": [f"sqs.{stack.region}.amazonaws.com", f"s3.{stack.region}.amazonaws.com"]
                        }
                    },
                )
            )
            _allow_mwaa_logs(environment_key, name)
        else:
            # MWAA's policy for an AWS owned key: keys of other accounts, only through SQS.
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
                    not_resources=[stack.format_arn(service="kms", region="*", resource="key", resource_name="*")],
                    conditions={"StringLike": {"kms:ViaService": [f"sqs.{stack.region}.amazonaws.com"]}},
                )
            )
        if dags_key is not None and dags_key is not environment_key:
            statements.append(
                iam.PolicyStatement(
                    actions=["kms:Decrypt", "kms:DescribeKey"],
                    resources=[dags_key.key_arn],
                    conditions={"StringLike": {"kms:ViaService": [f"s3.{stack.region}.amazonaws.com"]}},
                )
            )
        #: The secrets the environment's secrets backend may read: exactly the backend's prefixes.
        self.secret_arns: list[str] = []
        if secrets_backend is not None:
            self.secret_arns = [
                stack.format_arn(
                    service="secretsmanager",
                    resource="secret",
                    resource_name=f"{prefix}/*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
                for prefix in secrets_backend.prefixes()
            ]
            # The backend reads one secret per lookup (GetSecretValue of <prefix>/<id>); nothing lists.
            statements.append(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=self.secret_arns)
            )
            if secrets_key is not None:
                statements.append(
                    iam.PolicyStatement(
                        actions=["kms:Decrypt"],
                        resources=[secrets_key.key_arn],
                        conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"}},
                    )
                )
        policy = iam.Policy(self, "ExecutionPolicy", statements=statements)
        policy.attach_to_role(self.role)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "MWAA's documented execution-role policy: read-only object access, limited to this environment's "
            "DAGs bucket.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "MWAA's documented execution-role policy: bucket metadata reads, limited to the DAGs bucket.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:List*]",
            "MWAA's documented execution-role policy: listing, limited to the DAGs bucket and its objects.",
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{_arn_ref(dags_bucket)}/*]",
            "The environment reads every DAG, plugin and requirements object in its own DAGs bucket.",
        )
        for resource in (
            f"Resource::{nag_text(self, log_groups)}",
            "Resource::*",
            f"Resource::{nag_text(self, stack.format_arn(service='sqs', account='*', resource='airflow-celery-*'))}",
            "Action::kms:GenerateDataKey*",
        ):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[{resource}]",
                "MWAA's documented execution-role policy: the service creates its log groups "
                f"(airflow-{name}-*) and Celery queues (airflow-celery-*) in a service account with names "
                "unknown in advance; DescribeLogGroups, GetAccountPublicAccessBlock and PutMetricData have no "
                "resource-level permissions; the KMS statement applies only via SQS (and S3) and, with a "
                "customer managed key, names that key.",
            )
        for arn in self.secret_arns:
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{nag_text(self, arn)}]",
                "Airflow's Secrets Manager backend reads the secret named <prefix>/<id> for each connection or "
                "variable it looks up; the statement allows GetSecretValue only, on the configured prefixes only "
                "(secret ARNs end in a random suffix, hence the wildcard).",
            )
        options = dict(airflow_configuration_options)
        if secrets_backend is not None:
            options.update(secrets_backend.options())
        self.configuration_options: dict[str, str] = options
        self.environment: mwaa.CfnEnvironment | None = None
        if create:
            self.environment = mwaa.CfnEnvironment(
                self,
                "Environment",
                name=name,
                airflow_version=airflow_version,
                environment_class=environment_class,
                max_workers=max_workers,
                min_workers=1,
                schedulers=1 if environment_class == "mw1.micro" else 2,
                execution_role_arn=self.role.role_arn,
                source_bucket_arn=dags_bucket.bucket_arn,
                dag_s3_path="dags",
                kms_key=environment_key.key_arn if environment_key is not None else None,
                webserver_access_mode="PRIVATE_ONLY",
                network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                    security_group_ids=[self.security_group.security_group_id],
                    subnet_ids=[s.subnet_id for s in subnets],
                ),
                logging_configuration=mwaa.CfnEnvironment.LoggingConfigurationProperty(
                    dag_processing_logs=_log("INFO"),
                    scheduler_logs=_log("INFO"),
                    task_logs=_log("INFO"),
                    webserver_logs=_log("WARNING"),
                    worker_logs=_log("INFO"),
                ),
                airflow_configuration_options=options or None,
                requirements_s3_path=requirements.path if requirements else None,
                requirements_s3_object_version=requirements.version if requirements else None,
                plugins_s3_path=plugins.path if plugins else None,
                plugins_s3_object_version=plugins.version if plugins else None,
                startup_script_s3_path=startup_script.path if startup_script else None,
                startup_script_s3_object_version=startup_script.version if startup_script else None,
            )
            self.environment.node.add_dependency(policy)
            if retain:
                # The environment holds the metadata database: never delete it with the stack, and
                # keep the old one if a change ever replaces it (see REPLACING_PROPERTIES).
                self.environment.apply_removal_policy(RemovalPolicy.RETAIN)


def _allow_mwaa_logs(key: kms.IKey, name: str) -> None:
    """The key-policy statement MWAA's guide asks for with a customer managed key: CloudWatch Logs
    may use the key for the environment's log groups (``airflow-<name>-*``), which MWAA encrypts
    with it. A key passed in (not created in this app) needs the same statement from its owner."""
    if not isinstance(key, kms.Key):
        return
    stack = Stack.of(key)
    key.add_to_resource_policy(
        service_grant(
            key,
            sid=f"MwaaLogs{re.sub('[^0-9A-Za-z]', '', name)}"[:128],
            service=f"logs.{stack.region}.amazonaws.com",
            source_account=False,
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"airflow-{name}-*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )


def _log(level: str) -> mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty:
    return mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(enabled=True, log_level=level)


#: KMS actions of CDK's read, write (bucket, key) and SNS publish grants, the same actions; each statement
#: also carries kms:ViaService (``_grant_key_via``).
_KEY_READ = ("kms:Decrypt", "kms:DescribeKey")
_KEY_WRITE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
_KEY_PUBLISH = ("kms:Decrypt", "kms:GenerateDataKey*")


def _grant_key_via(
    principal: iam.IGrantable,
    key: kms.IKey,
    actions: Sequence[str],
    services: Sequence[str],
    region: str | None = None,
) -> iam.PolicyStatement:
    """Let ``principal`` use ``key`` only when one of ``services`` calls KMS for it
    (``kms:ViaService``), in ``region`` (default: the key's stack's Region): S3 for SSE-KMS
    objects, DynamoDB for the encrypted table, SNS for an encrypted topic. None of the handlers
    calls KMS directly."""
    region = region or Stack.of(key).region
    statement = iam.PolicyStatement(
        actions=sorted(set(actions)),
        resources=[key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]}},
    )
    principal.grant_principal.add_to_principal_policy(statement)
    return statement


def _ack_key_use(role: iam.IRole, what: str, services: Sequence[str]) -> None:
    via = " and ".join(services)
    for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Action::{action}]",
            f"{what}: the statement names the construct's own customer managed key and applies only when {via} "
            "in this Region calls KMS for the role (kms:ViaService).",
        )


def _grant_read_objects(principal: iam.IGrantable, bucket: s3.IBucket, pattern: str = "*") -> None:
    """CDK's ``grant_read`` S3 actions, without its unconditioned KMS grant (see ``_grant_key_via``)."""
    principal.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
            resources=[bucket.bucket_arn, bucket.arn_for_objects(pattern)],
        )
    )


def _grant_put_objects(principal: iam.IGrantable, bucket: s3.IBucket, pattern: str) -> None:
    """CDK's ``grant_put`` S3 actions, without its unconditioned KMS grant (see ``_grant_key_via``)."""
    principal.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=[
                "s3:PutObject",
                "s3:PutObjectLegalHold",
                "s3:PutObjectRetention",
                "s3:PutObjectTagging",
                "s3:PutObjectVersionTagging",
                "s3:Abort*",
            ],
            resources=[bucket.arn_for_objects(pattern)],
        )
    )


def _arn_ref(bucket: s3.IBucket) -> str:
    """How cdk-nag names a bucket's ARN in a finding id: ``<LogicalId.Arn>``."""
    cfn = narrowed(bucket.node.default_child, s3.CfnBucket, "the bucket's resource")
    return f"<{Stack.of(bucket).get_logical_id(cfn)}.Arn>"


def _private_subnets(vpc: ec2.IVpc, subnets: Sequence[ec2.ISubnet] | None) -> list[ec2.ISubnet]:
    chosen = list(subnets) if subnets is not None else list(vpc.private_subnets)
    if len(chosen) < 2 or len({s.availability_zone for s in chosen[:2]}) < 2:
        raise ValueError(
            "MWAA needs two private subnets in different Availability Zones; pass subnets=[a, b] or a vpc "
            f"with private subnets in two Availability Zones; got {len(chosen)} subnet(s)"
        )
    return chosen[:2]


def _check_dags_bucket(scope: Construct, bucket: s3.IBucket) -> None:
    """A DAGs bucket passed in must be one this stack can give a replication configuration."""
    cfn = bucket.node.default_child if isinstance(bucket, s3.Bucket) else None
    if not isinstance(cfn, s3.CfnBucket) or Stack.of(bucket) is not Stack.of(scope):
        raise ValueError(
            "dags_bucket must be an s3.Bucket defined in the same stack (the construct adds its replication "
            "configuration); an imported bucket (Bucket.from_bucket_name/arn) cannot be changed from here: bring it "
            f"into the stack with 'cdk import' first; got {bucket}"
        )
    versioning = Stack.of(scope).resolve(cfn.versioning_configuration)
    if not isinstance(versioning, dict) or versioning.get("status", versioning.get("Status")) != "Enabled":
        raise ValueError(
            "dags_bucket must be versioned (versioned=True): S3 replication needs versioning, and MWAA's "
            "requirements, plugins and startup script are referenced by object version"
        )
    if cfn.replication_configuration is not None:
        raise ValueError(
            "dags_bucket already has a replication configuration; the construct sets one (to the DR Region's "
            "DAGs bucket) and would replace it"
        )
    encryption = json.dumps(Stack.of(scope).resolve(cfn.bucket_encryption) or {})
    if bucket.encryption_key is None and "aws:kms" in encryption:
        raise ValueError(
            "dags_bucket is SSE-KMS with a key the construct cannot see; create it with encryption_key=<kms.Key> "
            "so that replication and the environment may use that key"
        )


def _replicate(
    scope: Construct,
    *,
    role: iam.Role,
    bucket: s3.Bucket,
    destination_bucket: str,
    dr_region: str,
    name_prefix: str,
    replication_time_control: bool,
) -> None:
    """Cross-Region replication of every object version of ``bucket`` to ``destination_bucket``."""
    stack = Stack.of(scope)
    destination_arn = f"arn:{stack.partition}:s3:::{destination_bucket}"
    destination: dict[str, Any] = {
        "bucket": destination_arn,
        "encryption_configuration": s3.CfnBucket.EncryptionConfigurationProperty(
            replica_kms_key_id=stack.format_arn(
                service="kms", region=dr_region, resource="alias", resource_name=f"{name_prefix}-dr-replica"
            )
        ),
    }
    if replication_time_control:
        destination["replication_time"] = s3.CfnBucket.ReplicationTimeProperty(
            status="Enabled", time=s3.CfnBucket.ReplicationTimeValueProperty(minutes=15)
        )
        destination["metrics"] = s3.CfnBucket.MetricsProperty(
            status="Enabled", event_threshold=s3.CfnBucket.ReplicationTimeValueProperty(minutes=15)
        )
    cfn = narrowed(bucket.node.default_child, s3.CfnBucket, "the bucket's resource")
    cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
        role=role.role_arn,
        rules=[
            s3.CfnBucket.ReplicationRuleProperty(
                id="ToDrRegion",
                status="Enabled",
                priority=1,
                filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(status="Disabled"),
                source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                    sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(status="Enabled")
                ),
                destination=s3.CfnBucket.ReplicationDestinationProperty(**destination),
            )
        ],
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[bucket.bucket_arn])
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            resources=[bucket.arn_for_objects("*")],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(actions=["s3:ReplicateObject", "s3:ReplicateTags"], resources=[f"{destination_arn}/*"])
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::{_arn_ref(bucket)}/*]",
        "S3 replication reads every object version of the source bucket; the statement is limited to that bucket.",
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::{nag_text(scope, destination_arn)}/*]",
        "S3 replication writes every replicated object into the DR bucket, whose name is derived from the "
        "account, the DR Region and the prefix (no cross-Region reference is possible).",
    )


class MwaaDrPrimary(Construct):
    """The primary Region's side of an MWAA DR pair.

    Wraps an existing environment by name (with its own DAGs bucket, ``dags_bucket``), or creates
    one in private network mode with logging on, encrypted with its DAGs bucket's key and retained
    on deletion and replacement. Creates the DAGs bucket (unless given) and the backup bucket
    (KMS-encrypted, versioned, retained) and replicates both to the DR Region's buckets, whose
    names :func:`dr_bucket_names` derives; backs up the Airflow metadata at the RPO interval
    through ``InvokeRestApi``; and alarms on the scheduler heartbeat and on backups that stop.
    ``requirements``, ``plugins``, ``startup_script``, ``airflow_configuration_options`` and
    ``secrets_backend`` configure a created environment; pass the same to :class:`MwaaDrSecondary`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        environment_name: str,
        dr_region: str,
        name_prefix: str = "mwaa-dr",
        create_environment: bool = True,
        vpc: ec2.IVpc | None = None,
        subnets: Sequence[ec2.ISubnet] | None = None,
        airflow_version: str = "2.11.0",
        environment_class: str = "mw1.small",
        max_workers: int = 2,
        rpo: Duration = Duration.minutes(15),
        backup_retention: Duration = Duration.days(30),
        replication_time_control: bool = False,
        airflow_rbac_role: str = "Op",
        notification_topic: sns.ITopic | None = None,
        encryption_key: kms.IKey | None = None,
        dags_bucket: s3.IBucket | None = None,
        requirements: AirflowS3Object | None = None,
        plugins: AirflowS3Object | None = None,
        startup_script: AirflowS3Object | None = None,
        airflow_configuration_options: Mapping[str, str] | None = None,
        secrets_backend: SecretsManagerBackend | None = None,
        secrets_key: kms.IKey | None = None,
    ) -> None:
        """Build the primary side: the environment (or wrap one), the replicated buckets, backups and alarms.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            environment_name: The primary environment (created, or wrapped).
                Required.
            dr_region: Literal Region code of the DR side.
                Required.
            name_prefix: 3-24 lowercase characters; must match the DR side.
                Default: ``mwaa-dr``.
            create_environment: ``False`` wraps an existing environment by name (then pass no ``vpc``/``subnets``, and
                pass its ``dags_bucket``).
                Default: ``True``.
            dags_bucket: The DAGs bucket: an ``s3.Bucket`` of the same stack, versioned, without a replication
                configuration of its own (the construct adds the one to the DR Region). Required with
                ``create_environment=False``: it must be the bucket the wrapped environment reads, since that is what
                has to reach the DR Region. An imported bucket (``Bucket.from_bucket_name``) is refused, because this
                stack cannot change its replication; bring it in with ``cdk import`` first. An SSE-KMS bucket must carry
                its key (``encryption_key=``).
                Default: created.
            requirements: ``AirflowS3Object(path=..., version=...)``: a key in the DAGs bucket and its S3 version id
                (MWAA's ``RequirementsS3Path``/``RequirementsS3ObjectVersion``). Pass the same objects to
                ``MwaaDrSecondary`` (see **Code and configuration on both sides**).
                Default: none.
            plugins: ``AirflowS3Object`` of the plugins zip (MWAA's ``PluginsS3Path``/``PluginsS3ObjectVersion``); the
                same on both sides.
                Default: none.
            startup_script: ``AirflowS3Object`` of the startup script (MWAA's
                ``StartupScriptS3Path``/``StartupScriptS3ObjectVersion``); the same on both sides.
                Default: none.
            airflow_configuration_options: Airflow options (``{"core.default_task_retries": "3"}``), checked against
                MWAA's ``ConfigKey``/``ConfigValue``.
                Default: none.
            secrets_backend: ``SecretsManagerBackend(...)``: Airflow connections and variables from Secrets Manager; see
                **Secrets**.
                Default: none.
            secrets_key: The KMS key of the backend's secrets in this Region (none: the AWS managed
                ``aws/secretsmanager`` key); only with ``secrets_backend``.
                Default: none.
            vpc: Where a created environment runs; required with ``create_environment=True``, refused without.
                Default: none.
            subnets: Two private subnets in two AZs.
                Default: the VPC's first two private subnets.
            airflow_version: One of 2.7.2, 2.8.1, 2.9.2, 2.10.1, 2.10.3, 2.11.0, 3.0.6.
                Default: ``2.11.0``.
            environment_class: Size of a created environment: one of MWAA's environment classes.
                Default: ``mw1.small``.
            max_workers: Most workers of a created environment, 1-25.
                Default: ``2``.
            rpo: Backup interval (5-1440 whole minutes).
                Default: 15 minutes.
            backup_retention: Lifecycle expiry of ``backups/`` and ``failback/``.
                Default: 30 days.
            replication_time_control: S3 RTC (15-minute replication SLA, with replication metrics).
                Default: ``False``.
            airflow_rbac_role: Airflow role that ``InvokeRestApi`` acts as: ``Op`` (reads and writes variables,
                connections, pools and DAG states) or ``Admin``. ``User`` and ``Viewer`` are refused: Airflow's default
                roles give them no permission on variables or connections (Airflow "Access Control"), so every backup
                and restore would get 403.
                Default: ``Op``.
            notification_topic: The alarms' SNS topic. The one the construct creates is encrypted with
                ``encryption_key``, TLS-only, and lets this account's CloudWatch alarms publish; a topic passed in is
                used as it is, so its topic policy must allow ``cloudwatch.amazonaws.com`` to ``sns:Publish``, and its
                key, if any, must allow CloudWatch to use it for ``kms:Decrypt`` and ``kms:GenerateDataKey*``.
                Default: created.
            encryption_key: The KMS key of the created DAGs bucket, environment and topic (see **Keys**); a key passed
                in must let ``cloudwatch.amazonaws.com`` use it for ``kms:Decrypt`` and ``kms:GenerateDataKey*``.
                Default: created.

        Attributes:
            environment_name (str)
            dr_region (str)
            key (kms.IKey)
            dags_bucket (s3.IBucket)
            dags_key (kms.IKey | None)
            backup_bucket (s3.IBucket)
            replication_role (iam.IRole)
            airflow (_AirflowEnvironment | None)
            environment (mwaa.CfnEnvironment | None)
            backup_function (PythonHandler)
            backup_rule (events.Rule)
            notification_topic (sns.ITopic)
            heartbeat_alarm (cloudwatch.Alarm)
            backup_alarm (cloudwatch.Alarm)
        """
        super().__init__(scope, id)
        _check_environment_name("environment_name", environment_name)
        _check_prefix(name_prefix)
        for argument, s3_object in (
            ("requirements", requirements),
            ("plugins", plugins),
            ("startup_script", startup_script),
        ):
            _check_s3_object(argument, s3_object)
        options = _check_configuration("airflow_configuration_options", airflow_configuration_options)
        _check_secrets(secrets_backend, secrets_key, options)
        _check_common(
            airflow_version=airflow_version,
            environment_class=environment_class,
            max_workers=max_workers,
            airflow_rbac_role=airflow_rbac_role,
            backup_retention=backup_retention,
        )
        region = Stack.of(self).region
        if Token.is_unresolved(dr_region) or not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", dr_region):
            raise ValueError(f"dr_region must be a literal Region code such as us-west-2; got {dr_region!r}")
        if not Token.is_unresolved(region) and region == dr_region:
            raise ValueError(f"dr_region must differ from the stack's Region ({region}); got {dr_region!r}")
        if create_environment and vpc is None:
            raise ValueError("create_environment=True needs a vpc with two private subnets for the environment")
        if not create_environment and (vpc is not None or subnets is not None):
            raise ValueError(
                "vpc and subnets place an environment this construct creates; with create_environment=False "
                "the existing environment keeps its own network, so pass neither"
            )
        rpo_minutes = rpo.to_minutes()
        if not 5 <= rpo_minutes <= 1440 or rpo.to_seconds() % 60:
            raise ValueError(f"rpo must be whole minutes between 5 and 1440; got {rpo.to_seconds()} seconds")
        subnet_list = _private_subnets(vpc, subnets) if vpc is not None else []
        if vpc is not None:
            explain_zone_lookup(self, vpc, created=False)
        if not create_environment:
            given = _given(
                requirements=requirements,
                plugins=plugins,
                startup_script=startup_script,
                airflow_configuration_options=airflow_configuration_options,
                secrets_backend=secrets_backend,
            )
            if given:
                raise ValueError(
                    "with create_environment=False the wrapped environment keeps its own configuration; set "
                    f"{', '.join(given)} on it directly (and pass the same to MwaaDrSecondary), not here"
                )
            if dags_bucket is None:
                raise ValueError(
                    "create_environment=False needs dags_bucket: the existing environment's DAGs bucket (an "
                    "s3.Bucket of this stack, versioned), which is what must replicate to the DR Region; a new, "
                    "empty bucket would replicate nothing the environment reads"
                )
        if dags_bucket is not None:
            _check_dags_bucket(self, dags_bucket)

        self.environment_name = environment_name
        self.dr_region = dr_region
        self.key: kms.IKey = encryption_key or kms.Key(
            self, "Key", enable_key_rotation=True, description=f"MWAA DR data of {environment_name} (primary)"
        )
        self.dags_bucket: s3.IBucket = dags_bucket or SecureBucket(self, "DagsBucket", encryption_key=self.key)
        #: The DAGs bucket's SSE-KMS key (None for an SSE-S3 bucket passed in).
        self.dags_key: kms.IKey | None = self.key if dags_bucket is None else dags_bucket.encryption_key
        self.backup_bucket: s3.IBucket = SecureBucket(
            self, "BackupBucket", encryption_key=self.key, lifecycle_rules=_backup_lifecycle(backup_retention)
        )
        dr_names = dr_bucket_names(name_prefix, Stack.of(self).account, dr_region)
        replication_role = iam.Role(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description=f"Replicates the MWAA DR buckets of {environment_name} to {dr_region}",
        )
        self.replication_role: iam.IRole = replication_role
        for bucket, target in ((self.dags_bucket, dr_names["dags"]), (self.backup_bucket, dr_names["backup"])):
            _replicate(
                self,
                role=replication_role,
                bucket=narrowed(bucket, s3.Bucket, "a DR bucket"),
                destination_bucket=target,
                dr_region=dr_region,
                name_prefix=name_prefix,
                replication_time_control=replication_time_control,
            )
        stack = Stack.of(self)
        source_keys = [self.key.key_arn]
        if self.dags_key is not None and self.dags_key is not self.key:
            source_keys.append(self.dags_key.key_arn)
        self.replication_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=source_keys,
                conditions={"StringLike": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            )
        )
        replica_keys = stack.format_arn(service="kms", region=dr_region, resource="key", resource_name="*")
        self.replication_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[replica_keys],
                conditions={
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": replica_key_alias(name_prefix)},
                    "StringLike": {"kms:ViaService": f"s3.{dr_region}.amazonaws.com"},
                },
            )
        )
        acknowledge(
            self.replication_role,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, replica_keys)}]",
            "The replica key lives in the DR stack and cannot be referenced across Regions; the statement is "
            f"narrowed by condition to the key with alias {replica_key_alias(name_prefix)}, used via S3 in "
            f"{dr_region}.",
        )

        self.airflow: _AirflowEnvironment | None = None
        self.environment: mwaa.CfnEnvironment | None = None
        if create_environment:
            self.airflow = _AirflowEnvironment(
                self,
                "Airflow",
                name=environment_name,
                vpc=present(vpc, "vpc (create_environment=True)"),
                subnets=subnet_list,
                dags_bucket=self.dags_bucket,
                dags_key=self.dags_key,
                environment_key=self.dags_key,
                airflow_version=airflow_version,
                environment_class=environment_class,
                max_workers=max_workers,
                airflow_configuration_options=options,
                requirements=requirements,
                plugins=plugins,
                startup_script=startup_script,
                secrets_backend=secrets_backend,
                secrets_key=secrets_key,
                retain=True,
                create=True,
            )
            self.environment = self.airflow.environment

        self.backup_function = PythonHandler(
            self,
            "Backup",
            name="mwaa_dr_metadata",
            description=f"backs up the Airflow metadata of MWAA environment {environment_name}",
            service_name=BACKUP_SERVICE,
            timeout=Duration.minutes(5),
            environment={
                "BACKUP_BUCKET": self.backup_bucket.bucket_name,
                "KMS_KEY_ARN": self.key.key_arn,
                "ENVIRONMENTS": stack.to_json_string({"primary": {"name": environment_name, "region": stack.region}}),
            },
        )
        fn = self.backup_function.function
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:GetEnvironment"], resources=[_environment_arn(self, environment_name)]
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:InvokeRestApi"],
                resources=[_rbac_role_arn(self, environment_name, airflow_rbac_role)],
            )
        )
        _grant_put_objects(fn, self.backup_bucket, f"{BACKUP_PREFIX}/*")
        _grant_key_via(fn, self.key, _KEY_WRITE, ["s3"])
        acknowledge(
            self.backup_function.role,
            f"AwsSolutions-IAM5[Resource::{_arn_ref(self.backup_bucket)}/{BACKUP_PREFIX}/*]",
            "Each backup writes new timestamped objects under the backups/ prefix of its own bucket.",
        )
        _ack_key_use(self.backup_function.role, "Writes SSE-KMS backup objects", ["S3"])
        acknowledge(
            self.backup_function.role,
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "Aborting its own multipart uploads of backup objects, in the backups/ prefix only.",
        )
        self.backup_rule = events.Rule(
            self,
            "BackupSchedule",
            description=f"Backs up the Airflow metadata of {environment_name} every {rpo_minutes} minutes (RPO)",
            schedule=events.Schedule.rate(rpo),
            targets=[
                events_targets.LambdaFunction(
                    fn,
                    event=events.RuleTargetInput.from_object(
                        {"action": "backup", "source": "primary", "prefix": BACKUP_PREFIX}
                    ),
                    dead_letter_queue=self.backup_function.dead_letter_queue,
                    retry_attempts=2,
                    max_event_age=rpo,
                )
            ],
        )

        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.key, notification_topic)
        self.heartbeat_alarm = cloudwatch.Alarm(
            self,
            "SchedulerHeartbeatAlarm",
            alarm_description=f"The Airflow scheduler of {environment_name} stopped sending heartbeats",
            metric=heartbeat_metric(environment_name, Duration.minutes(5)),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.backup_alarm = cloudwatch.Alarm(
            self,
            "BackupsStoppedAlarm",
            alarm_description=f"No metadata backup of {environment_name} completed in two RPO intervals",
            metric=cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name="MwaaBackupsCompleted",
                dimensions_map={"service": BACKUP_SERVICE, "environment": environment_name},
                statistic="Sum",
                period=rpo,
            ),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=2,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (self.heartbeat_alarm, self.backup_alarm):
            alarm.add_alarm_action(cw_actions.SnsAction(self.notification_topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.notification_topic))

    def metric_backups_completed(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Metadata backups of this environment that completed (``MwaaBackupsCompleted``): the ``Blueprints``
        namespace, dimensions ``service`` = ``mwaa-dr-backup`` and ``environment``; 5-minute sums."""
        return handler_metric(
            "MwaaBackupsCompleted",
            {"service": BACKUP_SERVICE, "environment": self.environment_name},
            statistic="Sum",
            period=period,
        )

    def metric_backup_duration(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Seconds each backup took (``MwaaBackupSeconds``), same dimensions; 5-minute maximum."""
        return handler_metric(
            "MwaaBackupSeconds",
            {"service": BACKUP_SERVICE, "environment": self.environment_name},
            statistic="Maximum",
            period=period,
        )

    def metric_scheduler_heartbeat(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """MWAA's ``SchedulerHeartbeat`` of this environment (namespace ``AmazonMWAA``), 5-minute sums."""
        return heartbeat_metric(self.environment_name, period or Duration.minutes(5))


def heartbeat_metric(environment_name: str, period: Duration) -> cloudwatch.Metric:
    """MWAA's ``SchedulerHeartbeat`` for one environment, summed per ``period``."""
    return cloudwatch.Metric(
        namespace=HEARTBEAT_NAMESPACE,
        metric_name="SchedulerHeartbeat",
        dimensions_map={"Function": "Scheduler", "Environment": environment_name},
        statistic="Sum",
        period=period,
    )


class MwaaDrSecondary(Construct):
    """The DR Region's side of an MWAA DR pair.

    Creates the replica DAGs and backup buckets (deterministic names, replica KMS key alias), a
    health-check schedule (EventBridge Scheduler) that runs the failover state machine every
    ``check_interval``, and a failback state machine. ``strategy`` selects what a failover does:
    restore into the passive environment created here (active-passive), or create the
    environment from the primary's stored configuration first (backup and restore). The passive
    environment takes the primary's ``requirements``, ``plugins``, ``startup_script``,
    ``airflow_configuration_options`` and ``secrets_backend``, plus
    :data:`DR_CONFIGURATION_OPTIONS`, and is encrypted with the replica key.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        strategy: MwaaDrStrategy | str,
        primary_environment_name: str,
        primary_region: str,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet] | None = None,
        environment_name: str | None = None,
        name_prefix: str = "mwaa-dr",
        airflow_version: str = "2.11.0",
        environment_class: str = "mw1.small",
        max_workers: int = 2,
        check_interval: Duration = Duration.minutes(2),
        heartbeat_window: Duration = Duration.minutes(3),
        unhealthy_threshold: int = 3,
        rpo: Duration = Duration.minutes(15),
        backup_retention: Duration = Duration.days(30),
        airflow_rbac_role: str = "Op",
        notification_topic: sns.ITopic | None = None,
        requirements: AirflowS3Object | None = None,
        plugins: AirflowS3Object | None = None,
        startup_script: AirflowS3Object | None = None,
        airflow_configuration_options: Mapping[str, str] | None = None,
        secrets_backend: SecretsManagerBackend | None = None,
        secrets_key: kms.IKey | None = None,
    ) -> None:
        """Build the DR side: replica buckets, the health check, failover and failback, and the alarms.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            strategy: ``MwaaDrStrategy.ACTIVE_PASSIVE`` or ``BACKUP_RESTORE``, or its value string (``active_passive``,
                ``backup_restore``).
                Required.
            primary_environment_name: The primary environment's name: what is monitored and failed back to.
                Required.
            primary_region: The primary's literal Region code; must differ from the stack's.
                Required.
            vpc: Network of the DR environment.
                Required.
            subnets: Two private subnets in two AZs.
                Default: the VPC's first two private subnets.
            environment_name: Name of the DR environment.
                Default: primary's name.
            check_interval: How often the health check runs.
                Default: 2 minutes.
            heartbeat_window: GetMetricData window per evaluation.
                Default: 3 minutes.
            unhealthy_threshold: Consecutive unhealthy evaluations before a disaster (at least 2).
                Default: 3.
            rpo: Sizes the backup-age alarm (2 x RPO + 15 minutes).
                Default: 15 minutes.
            requirements: As on the primary, for the passive environment (active_passive only: backup_restore creates
                its environment from the primary's stored configuration, so it refuses it).
                Default: none.
            plugins: As on the primary (active_passive only).
                Default: none.
            startup_script: As on the primary (active_passive only).
                Default: none.
            airflow_configuration_options: As on the primary (active_passive only). The DR side adds
                ``core.dags_are_paused_at_creation=True`` and ``scheduler.catchup_by_default=False``, and refuses other
                values for those two.
                Default: none.
            secrets_backend: The same ``SecretsManagerBackend`` as the primary.
                Default: none.
            secrets_key: The key of the secrets' replicas in the DR Region; only with ``secrets_backend``.
                Default: none.
            name_prefix: 3-24 lowercase characters; must match the primary side.
                Default: ``mwaa-dr``.
            airflow_version: As on the primary.
                Default: ``2.11.0``.
            environment_class: As on the primary.
                Default: ``mw1.small``.
            max_workers: As on the primary.
                Default: ``2``.
            backup_retention: Lifecycle expiry of the replicated ``backups/`` and ``failback/``.
                Default: 30 days.
            airflow_rbac_role: As on the primary.
                Default: ``Op``.
            notification_topic: As on the primary: a topic passed in must let CloudWatch alarms publish; see
                **Notifications** for an encrypted one.
                Default: created.

        Attributes:
            strategy (MwaaDrStrategy)
            detection_minutes (int)
            environment_name (str)
            primary_environment_name (str)
            primary_region (str)
            key (kms.IKey)
            dags_bucket (s3.IBucket)
            backup_bucket (s3.IBucket)
            state_table (dynamodb.ITable)
            airflow (_AirflowEnvironment | None)
            environment (mwaa.CfnEnvironment | None)
            notification_topic (sns.ITopic)
            health_function (PythonHandler)
            metadata_function (PythonHandler)
            failover_function (PythonHandler)
            failover_state_machine (sfn.IStateMachine)
            failback_state_machine (sfn.IStateMachine)
            schedule (scheduler.Schedule)
            backup_age_alarm (cloudwatch.Alarm)
            execution_alarms (dict[str, cloudwatch.Alarm])
            failed_executions_alarm (cloudwatch.Alarm)
        """
        super().__init__(scope, id)
        for argument, s3_object in (
            ("requirements", requirements),
            ("plugins", plugins),
            ("startup_script", startup_script),
        ):
            _check_s3_object(argument, s3_object)
        options = _check_configuration("airflow_configuration_options", airflow_configuration_options)
        _check_secrets(secrets_backend, secrets_key, options)
        for option, wanted in DR_CONFIGURATION_OPTIONS.items():
            if option in options and options[option].lower() != wanted.lower():
                raise ValueError(
                    f"airflow_configuration_options[{option!r}] must stay {wanted!r} on the DR side (it keeps the "
                    "passive environment from scheduling, and from backfilling every interval since start_date "
                    f"when a DAG is unpaused); leave it out, the construct sets it; got {options[option]!r}"
                )
        options.update(DR_CONFIGURATION_OPTIONS)
        try:
            self.strategy = strategy if isinstance(strategy, MwaaDrStrategy) else MwaaDrStrategy(strategy)
        except ValueError as err:
            raise ValueError(
                f"strategy must be one of {', '.join(s.value for s in MwaaDrStrategy)}; got {strategy!r}"
            ) from err
        if self.strategy is MwaaDrStrategy.BACKUP_RESTORE:
            given = _given(
                requirements=requirements,
                plugins=plugins,
                startup_script=startup_script,
                airflow_configuration_options=airflow_configuration_options,
            )
            if given:
                raise ValueError(
                    "backup_restore creates the DR environment from the primary's configuration stored with each "
                    "backup (requirements, plugins and startup script at the same object versions, which "
                    f"replication keeps, and the configuration options); pass {', '.join(given)} to MwaaDrPrimary "
                    "only"
                )
        _check_environment_name("primary_environment_name", primary_environment_name)
        dr_name = environment_name or primary_environment_name
        _check_environment_name("environment_name", dr_name)
        _check_prefix(name_prefix)
        _check_common(
            airflow_version=airflow_version,
            environment_class=environment_class,
            max_workers=max_workers,
            airflow_rbac_role=airflow_rbac_role,
            backup_retention=backup_retention,
        )
        stack = Stack.of(self)
        if Token.is_unresolved(primary_region) or not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", primary_region):
            raise ValueError(f"primary_region must be a literal Region code such as us-east-1; got {primary_region!r}")
        if not Token.is_unresolved(stack.region) and stack.region == primary_region:
            raise ValueError(
                f"primary_region must differ from the stack's Region ({stack.region}); got {primary_region!r}"
            )
        for label, value, low, high in (
            ("check_interval", check_interval, 1, 60),
            ("heartbeat_window", heartbeat_window, 1, 60),
        ):
            if value.to_seconds() % 60 or not low <= value.to_minutes() <= high:
                raise ValueError(
                    f"{label} must be whole minutes between {low} and {high}; got {value.to_seconds()} seconds"
                )
        if unhealthy_threshold < 2:
            raise ValueError(
                "unhealthy_threshold must be at least 2 so that one missing datapoint never triggers a failover; "
                f"got {unhealthy_threshold}"
            )
        subnet_list = _private_subnets(vpc, subnets)
        explain_zone_lookup(self, vpc, created=False)
        #: Worst-case minutes from the last heartbeat to a declared disaster.
        self.detection_minutes = heartbeat_window.to_minutes() + check_interval.to_minutes() * unhealthy_threshold
        self.environment_name = dr_name
        self.primary_environment_name = primary_environment_name
        self.primary_region: str = primary_region

        names = dr_bucket_names(name_prefix, stack.account, stack.region)
        replica_key = kms.Key(
            self,
            "ReplicaKey",
            enable_key_rotation=True,
            alias=replica_key_alias(name_prefix),
            description=f"MWAA DR replicas and state of {primary_environment_name} (DR Region)",
        )
        self.key: kms.IKey = replica_key
        self.dags_bucket: s3.IBucket = SecureBucket(
            self, "DagsBucket", encryption_key=self.key, bucket_name=names["dags"]
        )
        self.backup_bucket: s3.IBucket = SecureBucket(
            self,
            "BackupBucket",
            encryption_key=self.key,
            bucket_name=names["backup"],
            lifecycle_rules=_backup_lifecycle(backup_retention),
        )
        self.state_table: dynamodb.ITable = dynamodb.Table(
            self,
            "HealthState",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.airflow = _AirflowEnvironment(
            self,
            "Airflow",
            name=dr_name,
            vpc=vpc,
            subnets=subnet_list,
            dags_bucket=self.dags_bucket,
            dags_key=self.key,
            # backup_restore: the failover creates the environment from the primary's stored
            # configuration, which carries no key (see docs/mwaa-dr.md, "Keys").
            environment_key=self.key if self.strategy is MwaaDrStrategy.ACTIVE_PASSIVE else None,
            airflow_version=airflow_version,
            environment_class=environment_class,
            max_workers=max_workers,
            airflow_configuration_options=options,
            requirements=requirements,
            plugins=plugins,
            startup_script=startup_script,
            secrets_backend=secrets_backend,
            secrets_key=secrets_key,
            retain=False,
            create=self.strategy is MwaaDrStrategy.ACTIVE_PASSIVE,
        )
        self.environment: mwaa.CfnEnvironment | None = self.airflow.environment
        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.key, notification_topic)
        schedule_name = f"{name_prefix}-health-check"
        environments = {
            "primary": {"name": primary_environment_name, "region": primary_region},
            "dr": {"name": dr_name, "region": stack.region},
        }

        # -- functions -----------------------------------------------------------------------------
        self.health_function = PythonHandler(
            self,
            "HealthCheck",
            name="mwaa_dr_health",
            description=f"evaluates the SchedulerHeartbeat of MWAA environment {primary_environment_name}",
            sync_caller="the failover state machine",
            environment={
                "PRIMARY_ENVIRONMENT_NAME": primary_environment_name,
                "PRIMARY_REGION": primary_region,
                "WINDOW_MINUTES": str(int(heartbeat_window.to_minutes())),
                "UNHEALTHY_THRESHOLD": str(unhealthy_threshold),
                "STATE_TABLE": self.state_table.table_name,
                "BACKUP_BUCKET": self.backup_bucket.bucket_name,
                "BACKUP_PREFIX": BACKUP_PREFIX,
                "METRIC_NAMESPACE": METRIC_NAMESPACE,
            },
        )
        health = self.health_function.function
        health.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
        # The primary's MWAA status: a primary that is updating or in maintenance holds the failover.
        health.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:GetEnvironment"],
                resources=[_environment_arn(self, primary_environment_name, primary_region)],
            )
        )
        health.add_to_role_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
            )
        )
        health.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                resources=[self.state_table.table_arn],
            )
        )
        # DynamoDB for the encrypted health-state table, S3 for the SSE-KMS ``latest`` pointer.
        _grant_key_via(health, self.key, _KEY_WRITE, ["dynamodb", "s3"])
        _ack_key_use(
            self.health_function.role,
            "Reads and writes the KMS-encrypted health-state table and reads the SSE-KMS backup pointer",
            ["DynamoDB", "S3"],
        )
        latest = f"{BACKUP_PREFIX}/latest.json"
        health.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[self.backup_bucket.arn_for_objects(latest)])
        )
        # Without ListBucket, S3 answers 403 instead of 404 for a pointer that has not replicated yet.
        # S3 checks ListBucket with the requested key as s3:prefix, so the grant lists nothing else.
        health.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[self.backup_bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": latest}},
            )
        )
        acknowledge(
            self.health_function.role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:GetMetricData and cloudwatch:PutMetricData support no resource-level permissions; "
            "PutMetricData is limited by condition to the Blueprints namespace.",
        )

        self.metadata_function = PythonHandler(
            self,
            "Metadata",
            name="mwaa_dr_metadata",
            description=f"restores Airflow metadata into {dr_name} and backs it up for failback",
            service_name="mwaa-dr-restore",
            sync_caller="the failover and failback state machines",
            timeout=Duration.minutes(5),
            environment={
                "BACKUP_BUCKET": self.backup_bucket.bucket_name,
                "KMS_KEY_ARN": self.key.key_arn,
                "ENVIRONMENTS": stack.to_json_string(environments),
            },
        )
        meta = self.metadata_function.function
        meta.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:GetEnvironment"],
                resources=[
                    _environment_arn(self, dr_name),
                    _environment_arn(self, primary_environment_name, primary_region),
                ],
            )
        )
        meta.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:InvokeRestApi"],
                resources=[
                    _rbac_role_arn(self, dr_name, airflow_rbac_role),
                    _rbac_role_arn(self, primary_environment_name, airflow_rbac_role, primary_region),
                ],
            )
        )
        _grant_read_objects(meta, self.backup_bucket)
        _grant_put_objects(meta, self.backup_bucket, f"{FAILBACK_PREFIX}/*")
        _grant_key_via(meta, self.key, (*_KEY_READ, *_KEY_WRITE), ["s3"])
        for finding, reason in (
            (f"Resource::{_arn_ref(self.backup_bucket)}/*", "Restores read any backup folder of this bucket."),
            (
                f"Resource::{_arn_ref(self.backup_bucket)}/{FAILBACK_PREFIX}/*",
                "Failback backups write new timestamped objects under the failback/ prefix only.",
            ),
            ("Action::s3:GetObject*", "Read-only object access for restores, limited to the backup bucket."),
            ("Action::s3:GetBucket*", "Bucket metadata reads for restores, limited to the backup bucket."),
            ("Action::s3:List*", "Listing backup folders to find the newest complete one, in this bucket only."),
            (
                "Action::kms:GenerateDataKey*",
                "SSE-KMS writes need data keys from the construct's own key, and only when S3 in this Region "
                "calls KMS for the role (kms:ViaService).",
            ),
            (
                "Action::kms:ReEncrypt*",
                "SSE-KMS object access with the construct's own key, only when S3 in this Region calls KMS for "
                "the role (kms:ViaService).",
            ),
            ("Action::s3:Abort*", "Aborting its own multipart uploads, in the failback/ prefix only."),
        ):
            acknowledge(self.metadata_function.role, f"AwsSolutions-IAM5[{finding}]", reason)

        self.failover_function = PythonHandler(
            self,
            "Failover",
            name="mwaa_dr_failover",
            description=f"disables the health check and brings up MWAA environment {dr_name}",
            sync_caller="the failover and failback state machines",
            environment={
                "SCHEDULE_NAME": schedule_name,
                "SCHEDULE_GROUP": "default",
                "STATE_TABLE": self.state_table.table_name,
                "DR_ENVIRONMENT_NAME": dr_name,
                "BACKUP_BUCKET": self.backup_bucket.bucket_name,
                "BACKUP_PREFIX": BACKUP_PREFIX,
                "EXECUTION_ROLE_ARN": self.airflow.role.role_arn,
                "SOURCE_BUCKET_ARN": self.dags_bucket.bucket_arn,
                "SUBNET_IDS": ",".join(s.subnet_id for s in subnet_list),
                "SECURITY_GROUP_IDS": self.airflow.security_group.security_group_id,
            },
        )
        failover = self.failover_function.function
        schedule_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"default/{schedule_name}"
        )
        failover.add_to_role_policy(
            iam.PolicyStatement(actions=["scheduler:GetSchedule", "scheduler:UpdateSchedule"], resources=[schedule_arn])
        )
        failover.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:DeleteItem", "dynamodb:PutItem"], resources=[self.state_table.table_arn]
            )
        )
        # DynamoDB for the health-state table; backup_restore also reads the SSE-KMS stored configuration.
        if self.strategy is MwaaDrStrategy.BACKUP_RESTORE:
            _grant_key_via(failover, self.key, (*_KEY_WRITE, *_KEY_READ), ["dynamodb", "s3"])
            _ack_key_use(
                self.failover_function.role,
                "Writes the KMS-encrypted health-state table and reads the SSE-KMS stored configuration",
                ["DynamoDB", "S3"],
            )
        else:
            _grant_key_via(failover, self.key, _KEY_WRITE, ["dynamodb"])
            _ack_key_use(self.failover_function.role, "Writes the KMS-encrypted health-state table", ["DynamoDB"])
        failover.add_to_role_policy(
            iam.PolicyStatement(actions=["airflow:GetEnvironment"], resources=[_environment_arn(self, dr_name)])
        )
        if self.strategy is MwaaDrStrategy.BACKUP_RESTORE:
            self._allow_create(failover, dr_name, vpc, subnet_list)
            _grant_read_objects(failover, self.backup_bucket, f"{BACKUP_PREFIX}/*")
            for finding, reason in (
                (
                    f"Resource::{_arn_ref(self.backup_bucket)}/{BACKUP_PREFIX}/*",
                    "Reads the newest backup's stored environment configuration under backups/.",
                ),
                ("Action::s3:GetObject*", "Read-only object access, limited to backups/ of the backup bucket."),
                ("Action::s3:GetBucket*", "Bucket metadata reads, limited to the backup bucket."),
                ("Action::s3:List*", "Listing within the backup bucket only."),
            ):
                acknowledge(self.failover_function.role, f"AwsSolutions-IAM5[{finding}]", reason)

        # -- state machines ------------------------------------------------------------------------
        self.failover_state_machine: sfn.IStateMachine = self._failover_machine()
        self.failback_state_machine: sfn.IStateMachine = self._failback_machine()
        # The health check frees a failover lock whose execution ended without completing the
        # failover (failed, timed out, aborted). A separate policy, not the role's default one: the
        # function must not depend on the state machine that invokes it.
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.failover_state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        lock_policy = iam.Policy(
            self,
            "HealthCheckLockPolicy",
            statements=[iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])],
        )
        lock_policy.attach_to_role(self.health_function.role)
        acknowledge(
            lock_policy,
            f"AwsSolutions-IAM5[Resource::{nag_text(self, executions)}]",
            "The health check reads the status of whichever failover execution holds the lock; execution names "
            "are generated at run time, so the statement names every execution of the construct's own failover "
            "state machine, read-only.",
        )

        scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description=f"Starts the MWAA DR health check of {primary_environment_name}",
        )
        self.schedule = scheduler.Schedule(
            self,
            "HealthCheckSchedule",
            schedule_name=schedule_name,
            description=(
                f"Health check of MWAA environment {primary_environment_name}; disabled by a failover, "
                "enabled again by the failback"
            ),
            schedule=scheduler.ScheduleExpression.rate(check_interval),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.failover_state_machine,
                role=scheduler_role,
                input=scheduler.ScheduleTargetInput.from_object({}),
                # A missed check is superseded by the next one; never replay stale checks.
                max_event_age=check_interval,
                retry_attempts=2,
            ),
            time_window=scheduler.TimeWindow.off(),
        )
        failover.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )

        # -- alarms ------------------------------------------------------------------------------
        backup_age_limit = rpo.to_seconds() * 2 + 15 * 60
        self.backup_age_alarm = cloudwatch.Alarm(
            self,
            "BackupAgeAlarm",
            alarm_description=(
                f"The newest backup of {primary_environment_name} in the DR Region is older than two RPO "
                "intervals plus the 15-minute replication allowance"
            ),
            metric=cloudwatch.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name="BackupAgeSeconds",
                dimensions_map={"Environment": primary_environment_name},
                statistic="Maximum",
                period=Duration.minutes(5),
            ),
            threshold=backup_age_limit,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        # A failed execution is also notified by the state machine itself (unless it failed where no
        # Catch reaches); a timed-out or aborted one never is, so these alarms are its only signal.
        #: Every execution alarm, keyed "<failover|failback>_<failed|timed_out|aborted>".
        self.execution_alarms: dict[str, cloudwatch.Alarm] = {}
        for machine_name, machine, what in (
            ("failover", self.failover_state_machine, "health-check or failover"),
            ("failback", self.failback_state_machine, "failback"),
        ):
            for outcome, metric, (suffix, happened) in (
                ("failed", machine.metric_failed, ("Failed", "failed")),
                (
                    "timed_out",
                    machine.metric_timed_out,
                    ("TimedOut", f"timed out (limit {EXECUTION_TIMEOUT.to_hours():g} hours)"),
                ),
                ("aborted", machine.metric_aborted, ("Aborted", "was stopped before it finished")),
            ):
                # the failover's failed alarm keeps its original id, and so its logical id
                self.execution_alarms[f"{machine_name}_{outcome}"] = cloudwatch.Alarm(
                    self,
                    f"{machine_name.title()}Executions{suffix}Alarm",
                    alarm_description=f"A {what} execution of {primary_environment_name}'s DR {happened}",
                    metric=metric(period=Duration.minutes(5), statistic="Sum"),
                    threshold=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    evaluation_periods=1,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
        self.failed_executions_alarm = self.execution_alarms["failover_failed"]
        for alarm in (self.backup_age_alarm, *self.execution_alarms.values()):
            alarm.add_alarm_action(cw_actions.SnsAction(self.notification_topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.notification_topic))

    def grant_start_failover(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a failover (or a drill of one): ``states:StartExecution`` on
        ``failover_state_machine`` only."""
        return self.failover_state_machine.grant_start_execution(grantee)

    def grant_start_failback(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a failback: ``states:StartExecution`` on ``failback_state_machine`` only."""
        return self.failback_state_machine.grant_start_execution(grantee)

    def metric_backup_age(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Age in seconds of the newest backup in the DR Region, as the health check publishes it
        (``BackupAgeSeconds``, the ``Blueprints`` namespace, dimension ``Environment`` = the primary's name);
        5-minute maximum."""
        return handler_metric(
            "BackupAgeSeconds", {"Environment": self.primary_environment_name}, statistic="Maximum", period=period
        )

    def metric_primary_heartbeat(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """The primary's ``SchedulerHeartbeat`` (namespace ``AmazonMWAA``) that the health check reads, in this
        primary Region (a cross-Region metric); 5-minute sums."""
        metric = heartbeat_metric(self.primary_environment_name, period or Duration.minutes(5))
        return metric.with_(region=self.primary_region)

    def _allow_create(self, fn: Any, name: str, vpc: ec2.IVpc, subnets: list[ec2.ISubnet]) -> None:
        """What CreateEnvironment needs from its caller in private network mode."""
        stack = Stack.of(self)
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:CreateEnvironment", "airflow:TagResource"], resources=[_environment_arn(self, name)]
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.airflow.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}},
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["s3:GetEncryptionConfiguration"], resources=[self.dags_bucket.bucket_arn])
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:CreateServiceLinkedRole"],
                resources=[
                    stack.format_arn(
                        service="iam",
                        region="",
                        resource="role",
                        resource_name="aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
                    )
                ],
                conditions={"StringLike": {"iam:AWSServiceName": "airflow.amazonaws.com"}},
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeRouteTables",
                ],
                resources=["*"],
            )
        )
        network = [
            stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id),
            *[stack.format_arn(service="ec2", resource="subnet", resource_name=s.subnet_id) for s in subnets],
            stack.format_arn(
                service="ec2", resource="security-group", resource_name=self.airflow.security_group.security_group_id
            ),
        ]
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ec2:CreateVpcEndpoint"],
                resources=[stack.format_arn(service="ec2", resource="vpc-endpoint", resource_name="*"), *network],
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ec2:CreateNetworkInterface"],
                resources=[stack.format_arn(service="ec2", resource="network-interface", resource_name="*"), *network],
            )
        )
        for finding in (
            "Resource::*",
            *(
                f"Resource::{nag_text(self, stack.format_arn(service='ec2', resource=kind, resource_name='*'))}"
                for kind in ("vpc-endpoint", "network-interface")
            ),
        ):
            acknowledge(
                self.failover_function.role,
                f"AwsSolutions-IAM5[{finding}]",
                "CreateEnvironment in private network mode creates the environment's VPC endpoints and network "
                "interfaces, whose ids do not exist beforehand, in this construct's VPC, subnets and security group; "
                "the EC2 Describe calls support no resource-level permissions.",
            )

    def _invoke(self, id: str, handler: PythonHandler, payload: dict[str, Any], result_path: str) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            id,
            lambda_function=handler.function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            result_path=result_path,
        )
        task.add_retry(
            errors=["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException"],
            interval=Duration.seconds(5),
            max_attempts=4,
            backoff_rate=2,
        )
        return task

    def _notify(self, id: str, event: str) -> tasks.SnsPublish:
        """An SNS notification, retried on throttling, 5xx, KMS faults and timeouts. The caller adds
        the Catch: a notification must never decide the outcome of a failover or failback."""
        task = tasks.SnsPublish(
            self,
            id,
            topic=self.notification_topic,
            # SNS subjects hold at most 100 characters
            subject=f"MWAA DR {event.replace('_', ' ')}: {self.primary_environment_name}"[:100],
            message=sfn.TaskInput.from_object(
                {
                    "event": event,
                    "primary_environment": self.primary_environment_name,
                    "dr_environment": self.environment_name,
                    "strategy": self.strategy.value,
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "state": sfn.JsonPath.object_at("$"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(NOTIFY_TIMEOUT),
        )
        task.add_retry(
            errors=["States.TaskFailed", "States.Timeout"],
            interval=Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
        )
        return task

    def _notified(self, event: str, then: sfn.State) -> sfn.Chain:
        """Notify ``event``, then go to ``then`` whether or not the notification went out; a
        notification that failed after its retries is kept in ``$.notification_error``, so it shows
        in the execution's output and in the next notification."""
        notify = self._notify(f"Notify{''.join(w.title() for w in event.split('_'))}", event)
        notify.add_catch(then, errors=["States.ALL"], result_path=NOTIFICATION_ERROR_PATH)
        return notify.next(then)

    def _restore_loop(
        self, prefix: str, target: str, after: sfn.IChainable, label: str, folder: str | None = None
    ) -> sfn.Chain:
        """``folder`` (a JSON path): restore that backup instead of resolving the newest one."""
        # An empty cursor starts a restore. Not None: CDK drops a None from a Result, and a missing
        # $.restore.cursor fails the execution with States.Runtime, which no Catch handles.
        init = sfn.Pass(self, f"{label}Init", result=sfn.Result.from_object({"cursor": {}}), result_path="$.restore")
        payload: dict[str, Any] = {
            "action": "restore",
            "target": target,
            "prefix": prefix,
            "cursor": sfn.JsonPath.object_at("$.restore.cursor"),
        }
        if folder is not None:
            payload["folder"] = sfn.JsonPath.string_at(folder)
        restore = self._invoke(f"{label}Restore", self.metadata_function, payload, "$.restore")
        wait = sfn.Wait(self, f"{label}WaitForDags", time=sfn.WaitTime.duration(Duration.minutes(1)))
        done = (
            sfn.Choice(self, f"{label}RestoreDone")
            .when(sfn.Condition.boolean_equals("$.restore.done", True), after)
            .when(sfn.Condition.boolean_equals("$.restore.wait", True), wait.next(restore))
            .otherwise(restore)
        )
        return init.next(restore).next(done)

    def _machine(self, id: str, definition: sfn.IChainable, timeout: Duration) -> sfn.StateMachine:
        log_group = state_machine_log_group(self, f"{id}Logs", retention=logs.RetentionDays.THREE_MONTHS)
        machine = sfn.StateMachine(
            self,
            id,
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        # SNS encrypts each message with the topic's key on the publisher's behalf, so a publisher to
        # an SSE topic needs kms:GenerateDataKey* and kms:Decrypt on it (SNS key management guide).
        # That holds for a caller's topic too, when it was passed with its key
        # (sns.Topic.from_topic_attributes(key_arn=...)); its key policy must delegate to IAM or
        # allow these roles.
        topic_key = self.notification_topic.master_key
        if topic_key is not None:
            _grant_key_via(machine, topic_key, _KEY_PUBLISH, ["sns"], region=self.notification_topic.env.region)
            acknowledge(
                machine.role,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "Publishing to the KMS-encrypted notification topic needs data keys from the topic's key; the "
                "statement names that key and applies only when SNS calls KMS for the role (kms:ViaService).",
            )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery and X-Ray tracing actions support no resource-level permissions.",
        )
        for fn in (self.health_function, self.metadata_function, self.failover_function):
            acknowledge(
                machine.role,
                f"AwsSolutions-IAM5[Resource::<{Stack.of(self).get_logical_id(fn.function.node.default_child)}.Arn>:*]",  # type: ignore[arg-type]
                "Invoking the construct's own function at any version or alias.",
            )
        return machine

    def _failover_machine(self) -> sfn.StateMachine:
        failed_end = sfn.Fail(
            self, "FailoverFailed", error="FailoverFailed", cause="See the notification and the execution history"
        )
        failed = self._notified("failover_failed", failed_end)
        succeeded = self._notified("failover_succeeded", sfn.Succeed(self, "FailoverSucceeded"))
        backup_restore = self.strategy is MwaaDrStrategy.BACKUP_RESTORE
        # backup_restore picks the backup once, so the environment is created from the backup it is
        # restored from (a later backup may arrive while the environment is created)
        restore = self._restore_loop(
            BACKUP_PREFIX, "dr", succeeded, "Failover", folder="$.backup.folder" if backup_restore else None
        )
        disable = self._invoke(
            "DisableHealthCheck", self.failover_function, {"action": "disable_schedule"}, "$.schedule"
        )
        catchables: list[tasks.LambdaInvoke] = [disable]
        if backup_restore:
            choose = self._invoke(
                "ChooseBackup", self.metadata_function, {"action": "resolve", "prefix": BACKUP_PREFIX}, "$.backup"
            )
            create = self._invoke(
                "CreateEnvironment",
                self.failover_function,
                {"action": "create_environment", "folder": sfn.JsonPath.string_at("$.backup.folder")},
                "$.environment",
            )
            wait = sfn.Wait(self, "WaitForEnvironment", time=sfn.WaitTime.duration(Duration.minutes(1)))
            status = self._invoke(
                "GetEnvironmentStatus", self.failover_function, {"action": "environment_status"}, "$.environment"
            )

            def any_status(statuses: Sequence[str]) -> sfn.Condition:
                return sfn.Condition.or_(*[sfn.Condition.string_equals("$.environment.status", s) for s in statuses])

            # Wait only through the statuses MWAA leaves by itself; anything else (CREATE_FAILED,
            # UNAVAILABLE, DELETING, DELETED, PENDING, NOT_FOUND, a status added later) fails now
            # instead of looping until the execution times out.
            ready = (
                sfn.Choice(self, "EnvironmentReady")
                .when(any_status(READY_STATUSES), restore)
                .when(any_status(TRANSITIONAL_STATUSES), wait)
                .otherwise(failed)
            )
            wait.next(status).next(ready)
            recover: sfn.IChainable = choose.next(create).next(wait)
            catchables += [choose, create, status]
        else:
            recover = restore
        catchables.append(self.node.find_child("FailoverRestore"))  # type: ignore[arg-type]
        for task in catchables:
            task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(10), max_attempts=2, backoff_rate=2)
            task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        # A failed "started" notification must never block the failover: it goes on to disable the
        # schedule, and the error travels on in $.notification_error.
        start = self._notified("failover_started", disable).next(recover)
        check = self._invoke(
            "CheckPrimaryHealth",
            self.health_function,
            {"execution": sfn.JsonPath.string_at("$$.Execution.Id"), "input": sfn.JsonPath.object_at("$")},
            "$.health",
        )
        decide = (
            sfn.Choice(self, "IsDisaster")
            .when(sfn.Condition.boolean_equals("$.health.disaster", True), start)
            .otherwise(sfn.Succeed(self, "NoFailover"))
        )
        return self._machine("FailoverStateMachine", check.next(decide), EXECUTION_TIMEOUT)

    def _failback_machine(self) -> sfn.StateMachine:
        """Back up DR, pause every DAG in DR, restore that backup into the primary, re-arm the
        health check. DR is paused before the restore unpauses anything in the primary, so the two
        never schedule the same DAGs at once (the backup, taken first, still holds which DAGs were
        active). A failure after the pause leaves both sides paused, which the notification says."""
        failed_end = sfn.Fail(
            self, "FailbackFailed", error="FailbackFailed", cause="See the notification and the execution history"
        )
        failed = self._notified("failback_failed", failed_end)
        rearm = self._invoke("RearmHealthCheck", self.failover_function, {"action": "rearm"}, "$.schedule")
        done = self._notified("failback_succeeded", sfn.Succeed(self, "FailbackSucceeded"))
        rearm.next(done)
        backup = self._invoke(
            "BackupDrEnvironment",
            self.metadata_function,
            {"action": "backup", "source": "dr", "prefix": FAILBACK_PREFIX},
            "$.backup",
        )
        restore = self._restore_loop(FAILBACK_PREFIX, "primary", rearm, "Failback")
        pause = self._pause_loop("dr", restore, failed, "FailbackPause")
        for child in (
            backup,
            self.node.find_child("FailbackPauseDags"),
            self.node.find_child("FailbackRestore"),
            rearm,
        ):
            task = narrowed(child, tasks.LambdaInvoke, "a failback task")
            task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(10), max_attempts=2, backoff_rate=2)
            task.add_catch(failed, errors=["States.ALL"], result_path="$.error")
        start = self._notified("failback_started", backup).next(pause)
        return self._machine("FailbackStateMachine", start, EXECUTION_TIMEOUT)

    def _pause_loop(self, target: str, after: sfn.IChainable, failed: sfn.IChainable, label: str) -> sfn.Chain:
        """Pause every DAG of ``target``, one bounded slice per invocation: the task is called
        again with the cursor it returned while it answers ``done: false``; an answer without
        ``done`` is a complete pause, and ``done: false`` without a cursor goes to ``failed``
        (it cannot go on, and must not pass for done)."""
        init = sfn.Pass(self, f"{label}Init", result=sfn.Result.from_object({"cursor": {}}), result_path="$.paused")
        pause = self._invoke(
            f"{label}Dags",
            self.metadata_function,
            {"action": "pause_all", "target": target, "cursor": sfn.JsonPath.object_at("$.paused.cursor")},
            "$.paused",
        )
        more = sfn.Condition.and_(
            sfn.Condition.is_present("$.paused.done"),
            sfn.Condition.boolean_equals("$.paused.done", False),
            sfn.Condition.is_present("$.paused.cursor"),
        )
        stuck = sfn.Condition.and_(
            sfn.Condition.is_present("$.paused.done"), sfn.Condition.boolean_equals("$.paused.done", False)
        )
        decide = sfn.Choice(self, f"{label}Done").when(more, pause).when(stuck, failed).otherwise(after)
        return init.next(pause).next(decide)
