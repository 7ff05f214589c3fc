"""The DR Region's side of the MWAA DR pair: the replica buckets and key, the health check, the failover and
failback state machines, the passive environment (active_passive), and the alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import PythonHandler, SecureBucket, alarm_notification_topic, secure_table
from blueprints.constructs.mwaa_dr.alarms import _dr_alarms
from blueprints.constructs.mwaa_dr.environment import _AirflowEnvironment, heartbeat_metric
from blueprints.constructs.mwaa_dr.health import _allow_lock_release, _health_check_schedule, _health_function
from blueprints.constructs.mwaa_dr.options import (
    HEALTH_SERVICE,
    AirflowS3Object,
    MwaaDrStrategy,
    SecretsManagerBackend,
    _AirflowSettings,
    _backup_lifecycle,
    dr_bucket_names,
    replica_key_alias,
)
from blueprints.constructs.mwaa_dr.recovery import _failover_function, _metadata_function
from blueprints.constructs.mwaa_dr.steps import _DrFunctions, _Notifications
from blueprints.constructs.mwaa_dr.validation import _check_secondary, _SecondaryArguments
from blueprints.constructs.mwaa_dr.workflows import _dr_state_machine, _FailbackWorkflow, _FailoverWorkflow


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
        settings = _AirflowSettings(
            airflow_version=airflow_version,
            environment_class=environment_class,
            max_workers=max_workers,
            requirements=requirements,
            plugins=plugins,
            startup_script=startup_script,
            secrets_backend=secrets_backend,
            secrets_key=secrets_key,
        )
        arguments = _check_secondary(
            self,
            strategy=strategy,
            primary_environment_name=primary_environment_name,
            primary_region=primary_region,
            environment_name=environment_name,
            name_prefix=name_prefix,
            vpc=vpc,
            subnets=subnets,
            check_interval=check_interval,
            heartbeat_window=heartbeat_window,
            unhealthy_threshold=unhealthy_threshold,
            backup_retention=backup_retention,
            airflow_rbac_role=airflow_rbac_role,
            settings=settings,
            airflow_configuration_options=airflow_configuration_options,
        )
        self.strategy = arguments.strategy
        #: Worst-case minutes from the last heartbeat to a declared disaster.
        self.detection_minutes = heartbeat_window.to_minutes() + check_interval.to_minutes() * unhealthy_threshold
        self.environment_name = arguments.environment_name
        self.primary_environment_name = primary_environment_name
        self.primary_region: str = primary_region

        self.key: kms.IKey = self._replica_key(name_prefix)
        self.dags_bucket, self.backup_bucket = self._replica_buckets(name_prefix, backup_retention)
        self.state_table: dynamodb.ITable = self._health_state_table()
        self.airflow: _AirflowEnvironment = self._dr_environment(arguments, settings, vpc)
        self.environment: mwaa.CfnEnvironment | None = self.airflow.environment
        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.key, notification_topic)

        schedule_name = f"{name_prefix}-health-check"
        functions = self._functions(
            arguments,
            vpc=vpc,
            schedule_name=schedule_name,
            heartbeat_window=heartbeat_window,
            unhealthy_threshold=unhealthy_threshold,
            airflow_rbac_role=airflow_rbac_role,
        )
        self.health_function: PythonHandler = functions.health
        self.metadata_function: PythonHandler = functions.metadata
        self.failover_function: PythonHandler = functions.failover
        failover_machine, failback_machine = self._state_machines(functions)
        self.failover_state_machine: sfn.IStateMachine = failover_machine
        self.failback_state_machine: sfn.IStateMachine = failback_machine
        _allow_lock_release(self, self.health_function, failover_machine)
        self.schedule: scheduler.Schedule = _health_check_schedule(
            self,
            schedule_name=schedule_name,
            primary_environment_name=primary_environment_name,
            check_interval=check_interval,
            failover_machine=self.failover_state_machine,
            failover=self.failover_function,
        )

        self.backup_age_alarm, execution_alarms = _dr_alarms(
            self,
            primary_environment_name=primary_environment_name,
            rpo=rpo,
            failover=failover_machine,
            failback=failback_machine,
            topic=self.notification_topic,
        )
        #: Every execution alarm, keyed "<failover|failback>_<failed|timed_out|aborted>".
        self.execution_alarms: dict[str, cloudwatch.Alarm] = execution_alarms
        self.failed_executions_alarm = self.execution_alarms["failover_failed"]

    def _replica_key(self, name_prefix: str) -> kms.Key:
        """The key of the replicas and the health state; the primary's replication finds it by its alias."""
        return kms.Key(
            self,
            "ReplicaKey",
            enable_key_rotation=True,
            alias=replica_key_alias(name_prefix),
            description=f"MWAA DR replicas and state of {self.primary_environment_name} (DR Region)",
        )

    def _replica_buckets(self, name_prefix: str, backup_retention: Duration) -> tuple[s3.IBucket, s3.IBucket]:
        """The DAGs and backup buckets that the primary's replication writes to, under the names it derives."""
        names = dr_bucket_names(name_prefix, Stack.of(self).account, Stack.of(self).region)
        dags_bucket = SecureBucket(self, "DagsBucket", encryption_key=self.key, bucket_name=names["dags"])
        backup_bucket = SecureBucket(
            self,
            "BackupBucket",
            encryption_key=self.key,
            bucket_name=names["backup"],
            lifecycle_rules=_backup_lifecycle(backup_retention),
        )
        return dags_bucket, backup_bucket

    def _health_state_table(self) -> dynamodb.Table:
        """The health check's counter of unhealthy evaluations and the failover lock."""
        # Deleted with the stack: the counter and the lock are rebuilt by the next health check.
        return secure_table(self, "HealthState", key=self.key, partition_key="pk", removal_policy=RemovalPolicy.DESTROY)

    def _dr_environment(
        self, arguments: _SecondaryArguments, settings: _AirflowSettings, vpc: ec2.IVpc
    ) -> _AirflowEnvironment:
        """The DR environment's role and security group, and for active_passive the passive environment."""
        active_passive = arguments.strategy is MwaaDrStrategy.ACTIVE_PASSIVE
        return _AirflowEnvironment(
            self,
            "Airflow",
            name=arguments.environment_name,
            vpc=vpc,
            subnets=arguments.subnets,
            dags_bucket=self.dags_bucket,
            dags_key=self.key,
            # backup_restore: the failover creates the environment from the primary's stored
            # configuration, which carries no key (see docs/mwaa-dr.md, "Keys").
            environment_key=self.key if active_passive else None,
            settings=settings,
            airflow_configuration_options=arguments.options,
            # Unlike the primary's, the passive environment is not retained: it holds nothing the
            # backups do not (docs/mwaa-dr.md, "Replacement and retention").
            retain=False,
            create=active_passive,
        )

    def _functions(
        self,
        arguments: _SecondaryArguments,
        *,
        vpc: ec2.IVpc,
        schedule_name: str,
        heartbeat_window: Duration,
        unhealthy_threshold: int,
        airflow_rbac_role: str,
    ) -> _DrFunctions:
        """The health check, the metadata restore and the failover steps, in this construct."""
        health = _health_function(
            self,
            primary_environment_name=self.primary_environment_name,
            primary_region=self.primary_region,
            heartbeat_window=heartbeat_window,
            unhealthy_threshold=unhealthy_threshold,
            state_table=self.state_table,
            backup_bucket=self.backup_bucket,
            key=self.key,
        )
        metadata = _metadata_function(
            self,
            dr_name=self.environment_name,
            primary_environment_name=self.primary_environment_name,
            primary_region=self.primary_region,
            airflow_rbac_role=airflow_rbac_role,
            backup_bucket=self.backup_bucket,
            key=self.key,
        )
        failover = _failover_function(
            self,
            strategy=self.strategy,
            schedule_name=schedule_name,
            dr_name=self.environment_name,
            state_table=self.state_table,
            backup_bucket=self.backup_bucket,
            dags_bucket=self.dags_bucket,
            key=self.key,
            airflow=self.airflow,
            vpc=vpc,
            subnets=arguments.subnets,
        )
        return _DrFunctions(health=health, metadata=metadata, failover=failover)

    def _state_machines(self, functions: _DrFunctions) -> tuple[sfn.StateMachine, sfn.StateMachine]:
        """The failover and failback state machines, each running its workflow."""
        notifications = _Notifications(
            topic=self.notification_topic,
            primary_environment_name=self.primary_environment_name,
            dr_environment_name=self.environment_name,
            strategy=self.strategy,
        )
        failover = _dr_state_machine(
            self,
            "FailoverStateMachine",
            _FailoverWorkflow(
                self, "FailoverWorkflow", strategy=self.strategy, functions=functions, notifications=notifications
            ),
            functions=functions,
            topic=self.notification_topic,
        )
        failback = _dr_state_machine(
            self,
            "FailbackStateMachine",
            _FailbackWorkflow(self, "FailbackWorkflow", functions=functions, notifications=notifications),
            functions=functions,
            topic=self.notification_topic,
        )
        return failover, failback

    def grant_start_failover(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a failover (or a drill of one): ``states:StartExecution`` on
        ``failover_state_machine`` only."""
        return self.failover_state_machine.grant_start_execution(grantee)

    def grant_start_failback(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a failback: ``states:StartExecution`` on ``failback_state_machine`` only."""
        return self.failback_state_machine.grant_start_execution(grantee)

    def metric_backup_age(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Age in seconds of the newest backup in the DR Region, as the health check publishes it
        (``BackupAgeSeconds``, the ``Blueprints`` namespace, dimensions ``service`` = ``mwaa-dr-health`` and
        ``Environment`` = the primary's name);
        5-minute maximum."""
        return handler_metric(
            "BackupAgeSeconds",
            {"service": HEALTH_SERVICE, "Environment": self.primary_environment_name},
            statistic="Maximum",
            period=period,
        )

    def metric_primary_heartbeat(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """The primary's ``SchedulerHeartbeat`` (namespace ``AmazonMWAA``) that the health check reads, in this
        primary Region (a cross-Region metric); 5-minute sums."""
        metric = heartbeat_metric(self.primary_environment_name, period or Duration.minutes(5))
        return metric.with_(region=self.primary_region)
