"""The primary Region's side of the MWAA DR pair: the environment (created or wrapped), its buckets replicated
to the DR Region, the scheduled metadata backup, and the alarms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    acknowledge,
    acknowledge_wildcard,
    alarm_notification_topic,
    present,
)
from blueprints.constructs.mwaa_dr.alarms import _primary_alarms
from blueprints.constructs.mwaa_dr.environment import (
    _AirflowEnvironment,
    _environment_arn,
    _rbac_role_arn,
    heartbeat_metric,
)
from blueprints.constructs.mwaa_dr.grants import (
    _KEY_WRITE,
    _ack_key_use,
    _grant_key_via,
    _grant_put_objects,
    _replicate_to_dr,
)
from blueprints.constructs.mwaa_dr.options import (
    BACKUP_PREFIX,
    BACKUP_SERVICE,
    AirflowS3Object,
    SecretsManagerBackend,
    _AirflowSettings,
    _backup_lifecycle,
    dr_bucket_names,
)
from blueprints.constructs.mwaa_dr.validation import _check_primary


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
        options, subnet_list = _check_primary(
            self,
            environment_name=environment_name,
            dr_region=dr_region,
            name_prefix=name_prefix,
            create_environment=create_environment,
            vpc=vpc,
            subnets=subnets,
            rpo=rpo,
            backup_retention=backup_retention,
            airflow_rbac_role=airflow_rbac_role,
            dags_bucket=dags_bucket,
            settings=settings,
            airflow_configuration_options=airflow_configuration_options,
        )
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
        self.replication_role: iam.IRole = self._replication(name_prefix, replication_time_control)

        self.airflow: _AirflowEnvironment | None = None
        self.environment: mwaa.CfnEnvironment | None = None
        if create_environment:
            self.airflow = self._primary_environment(
                present(vpc, "vpc (create_environment=True)"), subnet_list, settings, options
            )
            self.environment = self.airflow.environment

        self.backup_function = self._backup_function(airflow_rbac_role)
        self.backup_rule = self._backup_schedule(rpo)
        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.key, notification_topic)
        self.heartbeat_alarm, self.backup_alarm = _primary_alarms(
            self, environment_name=environment_name, rpo=rpo, topic=self.notification_topic
        )

    def _replication(self, name_prefix: str, replication_time_control: bool) -> iam.Role:
        """Both buckets replicate to the DR Region's, under the names :func:`dr_bucket_names` derives."""
        dr_names = dr_bucket_names(name_prefix, Stack.of(self).account, self.dr_region)
        source_keys = [self.key]
        if self.dags_key is not None and self.dags_key is not self.key:
            source_keys.append(self.dags_key)
        return _replicate_to_dr(
            self,
            environment_name=self.environment_name,
            targets=((self.dags_bucket, dr_names["dags"]), (self.backup_bucket, dr_names["backup"])),
            source_keys=source_keys,
            dr_region=self.dr_region,
            name_prefix=name_prefix,
            replication_time_control=replication_time_control,
        )

    def _primary_environment(
        self,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        settings: _AirflowSettings,
        options: Mapping[str, str],
    ) -> _AirflowEnvironment:
        """The created environment, encrypted with its DAGs bucket's key, as MWAA's guide requires."""
        return _AirflowEnvironment(
            self,
            "Airflow",
            name=self.environment_name,
            vpc=vpc,
            subnets=subnets,
            dags_bucket=self.dags_bucket,
            dags_key=self.dags_key,
            environment_key=self.dags_key,
            settings=settings,
            airflow_configuration_options=options,
            # Retained, unlike the DR side's passive environment: its metadata database is the one the
            # backups copy (docs/mwaa-dr.md, "Replacement and retention").
            retain=True,
            create=True,
        )

    def _backup_function(self, airflow_rbac_role: str) -> PythonHandler:
        """The backup of the Airflow metadata through ``InvokeRestApi``, written under ``backups/``."""
        stack = Stack.of(self)
        handler = PythonHandler(
            self,
            "Backup",
            name="mwaa_dr_metadata",
            description=f"backs up the Airflow metadata of MWAA environment {self.environment_name}",
            service_name=BACKUP_SERVICE,
            timeout=Duration.minutes(5),
            environment={
                "BACKUP_BUCKET": self.backup_bucket.bucket_name,
                "KMS_KEY_ARN": self.key.key_arn,
                "ENVIRONMENTS": stack.to_json_string(
                    {"primary": {"name": self.environment_name, "region": stack.region}}
                ),
            },
        )
        fn = handler.function
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:GetEnvironment"], resources=[_environment_arn(self, self.environment_name)]
            )
        )
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["airflow:InvokeRestApi"],
                resources=[_rbac_role_arn(self, self.environment_name, airflow_rbac_role)],
            )
        )
        _grant_put_objects(fn, self.backup_bucket, f"{BACKUP_PREFIX}/*")
        _grant_key_via(fn, self.key, _KEY_WRITE, ["s3"])
        acknowledge_wildcard(
            handler.role,
            f"{self.backup_bucket.bucket_arn}/{BACKUP_PREFIX}/*",
            "Each backup writes new timestamped objects under the backups/ prefix of its own bucket.",
        )
        _ack_key_use(handler.role, "Writes SSE-KMS backup objects", ["S3"])
        acknowledge(
            handler.role,
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "Aborting its own multipart uploads of backup objects, in the backups/ prefix only.",
        )
        return handler

    def _backup_schedule(self, rpo: Duration) -> events.Rule:
        """Runs the backup every RPO interval; an invocation not delivered within two retries and one interval
        goes to the function's dead-letter queue."""
        return events.Rule(
            self,
            "BackupSchedule",
            description=(
                f"Backs up the Airflow metadata of {self.environment_name} every {rpo.to_minutes()} minutes (RPO)"
            ),
            schedule=events.Schedule.rate(rpo),
            targets=[
                events_targets.LambdaFunction(
                    self.backup_function.function,
                    event=events.RuleTargetInput.from_object(
                        {"action": "backup", "source": "primary", "prefix": BACKUP_PREFIX}
                    ),
                    dead_letter_queue=self.backup_function.dead_letter_queue,
                    retry_attempts=2,
                    max_event_age=rpo,
                )
            ],
        )

    def metric_backups_completed(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Metadata backups of this environment that completed (``MwaaBackupsCompleted``): the ``Blueprints``
        namespace, dimensions ``service`` = ``mwaa-dr-backup`` and ``Environment``; 5-minute sums."""
        return handler_metric(
            "MwaaBackupsCompleted",
            {"service": BACKUP_SERVICE, "Environment": self.environment_name},
            statistic="Sum",
            period=period,
        )

    def metric_backup_duration(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Seconds each backup took (``MwaaBackupSeconds``), same dimensions; 5-minute maximum."""
        return handler_metric(
            "MwaaBackupSeconds",
            {"service": BACKUP_SERVICE, "Environment": self.environment_name},
            statistic="Maximum",
            period=period,
        )

    def metric_scheduler_heartbeat(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """MWAA's ``SchedulerHeartbeat`` of this environment (namespace ``AmazonMWAA``), 5-minute sums."""
        return heartbeat_metric(self.environment_name, period or Duration.minutes(5))
