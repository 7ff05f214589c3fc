"""The MWAA environment of either side: its execution role (MWAA's documented policy, narrowed to this
environment), its security group and logging, and the ARNs and the metric that name an environment."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import acknowledge, acknowledge_wildcard, nag_text, service_grant
from blueprints.constructs.mwaa_dr.options import SecretsManagerBackend, _AirflowSettings

HEARTBEAT_NAMESPACE = "AmazonMWAA"


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
        settings: _AirflowSettings,
        airflow_configuration_options: Mapping[str, str],
        retain: bool,
        create: bool,
    ) -> None:
        super().__init__(scope, id)
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
        #: The secrets the environment's secrets backend may read: exactly the backend's prefixes.
        self.secret_arns: list[str] = _secret_arns(self, settings.secrets_backend)
        statements = [
            *_execution_statements(self, name, dags_bucket, dags_key, environment_key),
            *_secrets_statements(self, settings.secrets_backend, self.secret_arns, settings.secrets_key),
        ]
        policy = iam.Policy(self, "ExecutionPolicy", statements=statements)
        policy.attach_to_role(self.role)
        _acknowledge_execution_policy(policy, name, dags_bucket, self.secret_arns)
        options = dict(airflow_configuration_options)
        if settings.secrets_backend is not None:
            options.update(settings.secrets_backend.options())
        self.configuration_options: dict[str, str] = options
        self.environment: mwaa.CfnEnvironment | None = None
        if create:
            self.environment = self._create_environment(
                name=name,
                subnets=subnets,
                dags_bucket=dags_bucket,
                environment_key=environment_key,
                settings=settings,
                options=options,
            )
            self.environment.node.add_dependency(policy)
            if retain:
                # The environment holds the metadata database: never delete it with the stack, and
                # keep the old one if a change ever replaces it (see REPLACING_PROPERTIES).
                self.environment.apply_removal_policy(RemovalPolicy.RETAIN)

    def _create_environment(
        self,
        *,
        name: str,
        subnets: Sequence[ec2.ISubnet],
        dags_bucket: s3.IBucket,
        environment_key: kms.IKey | None,
        settings: _AirflowSettings,
        options: Mapping[str, str],
    ) -> mwaa.CfnEnvironment:
        """The environment in private network mode, logging on, with this construct's role and security group."""
        requirements, plugins, startup_script = settings.requirements, settings.plugins, settings.startup_script
        return mwaa.CfnEnvironment(
            self,
            "Environment",
            name=name,
            airflow_version=settings.airflow_version,
            environment_class=settings.environment_class,
            max_workers=settings.max_workers,
            min_workers=1,
            schedulers=1 if settings.environment_class == "mw1.micro" else 2,
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


def _log_groups_arn(scope: Construct, name: str) -> str:
    """The ARN pattern of the log groups MWAA creates for environment ``name``."""
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"airflow-{name}-*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _celery_queues_arn(scope: Construct) -> str:
    """The ARN pattern of the Celery queues MWAA creates in its service account."""
    return Stack.of(scope).format_arn(service="sqs", account="*", resource="airflow-celery-*")


def _execution_statements(
    scope: Construct,
    name: str,
    dags_bucket: s3.IBucket,
    dags_key: kms.IKey | None,
    environment_key: kms.IKey | None,
) -> list[iam.PolicyStatement]:
    """MWAA's documented execution-role policy for environment ``name``, limited to its DAGs bucket."""
    stack = Stack.of(scope)
    statements = [
        iam.PolicyStatement(actions=["airflow:PublishMetrics"], resources=[_environment_arn(scope, name)]),
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
            resources=[_log_groups_arn(scope, name)],
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
            resources=[_celery_queues_arn(scope)],
        ),
        _environment_key_statement(scope, name, environment_key),
    ]
    if dags_key is not None and dags_key is not environment_key:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=[dags_key.key_arn],
                conditions={"StringLike": {"kms:ViaService": [f"s3.{stack.region}.amazonaws.com"]}},
            )
        )
    return statements


def _environment_key_statement(scope: Construct, name: str, environment_key: kms.IKey | None) -> iam.PolicyStatement:
    """The execution role's KMS statement: MWAA's policy for a customer managed key, or for an AWS owned key."""
    region = Stack.of(scope).region
    if environment_key is not None:
        # MWAA's execution-role policy for a customer managed key: the key, through SQS and S3.
        _allow_mwaa_logs(environment_key, name)
        return iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
            resources=[environment_key.key_arn],
            conditions={
                "StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]}
            },
        )
    # MWAA's policy for an AWS owned key: keys of other accounts, only through SQS.
    return iam.PolicyStatement(
        actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
        not_resources=[Stack.of(scope).format_arn(service="kms", region="*", resource="key", resource_name="*")],
        conditions={"StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com"]}},
    )


def _secret_arns(scope: Construct, secrets_backend: SecretsManagerBackend | None) -> list[str]:
    """The secrets ``secrets_backend`` reads: every secret under each of its prefixes."""
    if secrets_backend is None:
        return []
    return [
        Stack.of(scope).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{prefix}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for prefix in secrets_backend.prefixes()
    ]


def _secrets_statements(
    scope: Construct,
    secrets_backend: SecretsManagerBackend | None,
    secret_arns: list[str],
    secrets_key: kms.IKey | None,
) -> list[iam.PolicyStatement]:
    if secrets_backend is None:
        return []
    # The backend reads one secret per lookup (GetSecretValue of <prefix>/<id>); nothing lists.
    statements = [iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secret_arns)]
    if secrets_key is not None:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[secrets_key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(scope).region}.amazonaws.com"}
                },
            )
        )
    return statements


def _acknowledge_execution_policy(
    policy: iam.Policy, name: str, dags_bucket: s3.IBucket, secret_arns: Sequence[str]
) -> None:
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "MWAA's documented execution-role policy: read-only object access, limited to this environment's DAGs bucket.",
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
    acknowledge_wildcard(
        policy,
        f"{dags_bucket.bucket_arn}/*",
        "The environment reads every DAG, plugin and requirements object in its own DAGs bucket.",
    )
    for resource in (
        f"Resource::{nag_text(policy, _log_groups_arn(policy, name))}",
        "Resource::*",
        f"Resource::{nag_text(policy, _celery_queues_arn(policy))}",
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
    for arn in secret_arns:
        acknowledge_wildcard(
            policy,
            arn,
            "Airflow's Secrets Manager backend reads the secret named <prefix>/<id> for each connection or "
            "variable it looks up; the statement allows GetSecretValue only, on the configured prefixes only "
            "(secret ARNs end in a random suffix, hence the wildcard).",
        )


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
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": _log_groups_arn(key, name)}},
        )
    )


def _log(level: str) -> mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty:
    return mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(enabled=True, log_level=level)


def _environment_arn(scope: Construct, name: str, region: str | None = None) -> str:
    return Stack.of(scope).format_arn(service="airflow", resource="environment", resource_name=name, region=region)


def _rbac_role_arn(scope: Construct, name: str, role: str, region: str | None = None) -> str:
    return Stack.of(scope).format_arn(service="airflow", resource="role", resource_name=f"{name}/{role}", region=region)


def heartbeat_metric(environment_name: str, period: Duration) -> cloudwatch.Metric:
    """MWAA's ``SchedulerHeartbeat`` for one environment, summed per ``period``."""
    return cloudwatch.Metric(
        namespace=HEARTBEAT_NAMESPACE,
        metric_name="SchedulerHeartbeat",
        dimensions_map={"Function": "Scheduler", "Environment": environment_name},
        statistic="Sum",
        period=period,
    )
