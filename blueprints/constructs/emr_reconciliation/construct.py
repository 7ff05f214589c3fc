"""``EmrReconciliationCluster``: the request queue, the submitter, the cluster, the results topic and the alarms."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import PythonHandler, alarm_notification_topic, explain_zone_lookup
from blueprints.constructs.emr_reconciliation import (
    alarms,
    artifacts,
    cluster,
    fleets,
    grants,
    network,
    results,
    storage,
    submitter,
)
from blueprints.constructs.emr_reconciliation.fleets import FleetInstanceType
from blueprints.constructs.emr_reconciliation.validation import validate


class EmrReconciliationCluster(Construct):
    """A reconciliation service: request queue, step-submitting Lambda, EMR cluster and results topic.

    Send a request (the JSON contract of ``emr_reconciliation_request``) to ``queue``; its result, or the
    reason it was rejected, arrives on ``results_topic`` with the request id. Inputs and outputs must be in
    ``data_buckets``, the only data the cluster can read or write.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        in_transit_certificates: str,
        vpc_subnets: ec2.SubnetSelection | None = None,
        encryption_key: kms.IKey | None = None,
        data_buckets: Sequence[s3.IBucket] | None = None,
        cluster_name: str = "reconciliation",
        release_label: str = cluster.RELEASE_LABEL,
        primary_instance_types: Sequence[FleetInstanceType] = fleets.PRIMARY_INSTANCE_TYPES,
        core_instance_types: Sequence[FleetInstanceType] = fleets.WORKER_INSTANCE_TYPES,
        task_instance_types: Sequence[FleetInstanceType] = fleets.WORKER_INSTANCE_TYPES,
        primary_on_demand: bool = True,
        core_on_demand_units: int | None = None,
        core_spot_units: int = 0,
        task_on_demand_units: int | None = None,
        task_spot_units: int = 0,
        spot_price_percent_of_on_demand: int = 100,
        minimum_capacity_units: int = 64,
        maximum_capacity_units: int = 512,
        maximum_on_demand_capacity_units: int = 512,
        maximum_core_capacity_units: int = 512,
        step_concurrency_level: int = 10,
        termination_protected: bool = True,
        job_script: Path | None = None,
        submitter_code: lambda_.Code | None = None,
        submitter_timeout: Duration = Duration.seconds(60),
        max_receive_count: int = 50,
        request_retention: Duration = Duration.days(14),
        ledger_retention_days: int = 400,
        log_retention_days: int = 90,
        submitter_max_concurrency: int = 2,
        notification_topic: sns.ITopic | None = None,
    ) -> None:
        """Build the request queue, the submitter, the cluster, the results topic and the alarms.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            vpc: The cluster runs in its private subnets.
                Required.
            in_transit_certificates: ``s3://bucket/key.zip`` of the PEM files (above).
                Required.
            vpc_subnets: Must select only private subnets; they are tagged
                ``for-use-with-amazon-emr-managed-policies=true``.
                Default: private subnets with egress.
            encryption_key: Encrypts queue, buckets, ledger, topic, EMR disks, S3 writes and logs; a key of your own
                must let ``events.amazonaws.com`` use ``kms:Decrypt`` and ``kms:GenerateDataKey`` (the construct adds
                that statement only to a key defined in the same app). That statement has no source condition:
                EventBridge's KMS request for an encrypted SNS target carries no ``aws:SourceArn`` or
                ``aws:SourceAccount`` (EventBridge User Guide, SNS permissions); the topic policy in front of the key is
                what admits only the step-events rule.
                Default: a new KMS key with rotation (retained).
            data_buckets: The only buckets requests may read and write.
                Default: one new KMS-encrypted bucket (retained).
            cluster_name: The EMR cluster's name.
                Default: ``reconciliation``.
            release_label: Any EMR 7.x or later; all run on Graviton.
                Default: ``emr-7.13.0``.
            primary_instance_types: ``FleetInstanceType(instance_type, weighted_capacity, ebs_size_gib)``.
                Default: r6g.xlarge, r6g.2xlarge; weight 1; 250 GiB gp3.
            core_instance_types: ``FleetInstanceType``s of the core fleet.
                Default: r6g.2xlarge (8 units), r6g.4xlarge (16 units); 100 GiB gp3.
            task_instance_types: ``FleetInstanceType``s of the task fleet; ``task_instance_types=()`` for no task fleet.
                Default: r6g.2xlarge (8 units), r6g.4xlarge (16 units); 100 GiB gp3.
            primary_on_demand: The primary node is On-Demand (losing it loses the cluster).
                Default: ``True``.
            core_on_demand_units: On-Demand capacity units of the core fleet at launch.
                Default: 56.
            core_spot_units: Spot capacity units of the core fleet at launch.
                Default: 0.
            task_on_demand_units: On-Demand capacity units of the task fleet at launch; EMR requires a task fleet to
                start with capacity.
                Default: 8.
            task_spot_units: Spot capacity units of the task fleet at launch.
                Default: 0.
            spot_price_percent_of_on_demand: Spot capped at the On-Demand price; Spot uses price-capacity-optimized and
                falls back to On-Demand after 20 min.
                Default: 100.
            minimum_capacity_units: EMR managed scaling's minimum, in instance-fleet units.
                Default: 64.
            maximum_capacity_units: EMR managed scaling's maximum, in instance-fleet units.
                Default: 512.
            maximum_on_demand_capacity_units: Managed scaling's On-Demand maximum; lower it to let managed scaling add
                Spot.
                Default: 512.
            maximum_core_capacity_units: Managed scaling's core-fleet maximum.
                Default: 512.
            step_concurrency_level: Steps the cluster runs at once (EMR's ``StepConcurrencyLevel``), 1 to 256.
                Default: 10.
            termination_protected: Turn it off in a deployment of its own before any change that replaces the cluster
                (see *Replacing the cluster*).
                Default: ``True``.
            job_script: Uploaded as a CDK asset.
                Default: ``blueprints/jobs/emr_reconciliation/reconcile.py``.
            submitter_code: A ``lambda_.Code`` of your own.
                Default: the packaged handler.
            submitter_timeout: Queue visibility timeout is six times this.
                Default: 1 minute.
            max_receive_count: At least 10.
                Default: 50.
            request_retention: How long a request may wait in the queue; at most 14 days and at least the time
                ``max_receive_count`` deferrals take (about 11.5 hours for 50), so a request is dead-lettered rather
                than expired.
                Default: 14 days.
            ledger_retention_days: Ledger entries expire (TTL) after this; a request id reused later runs again.
                Default: 400.
            log_retention_days: EMR logs under ``logs/`` in the control bucket.
                Default: 90.
            submitter_max_concurrency: Concurrent batches of the SQS event source (2 to 1000); keeps AddJobFlowSteps
                calls under EMR's API rate.
                Default: 2.
            notification_topic: The alarms' SNS topic (dead-lettered requests, undelivered results, submitter errors).
                The one the construct creates is encrypted with ``encryption_key``, TLS-only, and lets this account's
                CloudWatch alarms publish. A topic of yours: if it has a topic policy, that policy must allow
                ``cloudwatch.amazonaws.com`` to ``sns:Publish`` (a topic policy replaces SNS's default one), and if it
                is KMS-encrypted, its key policy must let CloudWatch use the key.
                Default: created.

        Attributes:
            encryption_key (kms.IKey)
            control_bucket (s3.IBucket)
            data_buckets (list[s3.IBucket])
            primary_security_group (ec2.ISecurityGroup)
            worker_security_group (ec2.ISecurityGroup)
            service_access_security_group (ec2.ISecurityGroup)
            instance_role (iam.IRole)
            instance_profile (iam.CfnInstanceProfile)
            service_role (iam.IRole)
            job_script (s3_assets.Asset)
            job_modules (s3_assets.Asset)
            security_configuration (emr.CfnSecurityConfiguration)
            cluster (emr.CfnCluster)
            cluster_arn (str)
            queue (sqs.IQueue)
            dead_letter_queue (sqs.IQueue)
            ledger (dynamodb.ITable)
            results_topic (sns.ITopic)
            results_dead_letter_queue (sqs.IQueue)
            step_events_rule (events.IRule)
            submitter (PythonHandler)
            notification_topic (sns.ITopic)
            alarms (list[cloudwatch.IAlarm])
        """
        super().__init__(scope, id)
        instance_fleets = fleets.InstanceFleets.with_defaults(
            primary=primary_instance_types,
            core=core_instance_types,
            task=task_instance_types,
            primary_on_demand=primary_on_demand,
            core_on_demand_units=core_on_demand_units,
            core_spot_units=core_spot_units,
            task_on_demand_units=task_on_demand_units,
            task_spot_units=task_spot_units,
            spot_price_percent_of_on_demand=spot_price_percent_of_on_demand,
        )
        limits = fleets.ScalingLimits(
            minimum_capacity_units,
            maximum_capacity_units,
            maximum_on_demand_capacity_units,
            maximum_core_capacity_units,
        )
        explain_zone_lookup(self, vpc, created=False)
        job = job_script or artifacts.JOB_SCRIPT
        certificates = validate(
            in_transit_certificates=in_transit_certificates,
            cluster_name=cluster_name,
            release_label=release_label,
            fleets=instance_fleets,
            limits=limits,
            step_concurrency_level=step_concurrency_level,
            job_script=job,
            submitter_timeout=submitter_timeout,
            max_receive_count=max_receive_count,
            request_retention=request_retention,
            ledger_retention_days=ledger_retention_days,
            log_retention_days=log_retention_days,
            data_buckets=data_buckets,
            submitter_max_concurrency=submitter_max_concurrency,
        )
        subnets = network.private_subnets(vpc, vpc_subnets)

        self.encryption_key: kms.IKey = encryption_key or storage.create_key(self)
        self.control_bucket: s3.IBucket = storage.create_control_bucket(self, self.encryption_key, log_retention_days)
        self.data_buckets: list[s3.IBucket] = storage.data_buckets_or_new(self, self.encryption_key, data_buckets)
        groups = network.create_security_groups(self, vpc, subnets)
        self.primary_security_group: ec2.ISecurityGroup = groups.primary
        self.worker_security_group: ec2.ISecurityGroup = groups.worker
        self.service_access_security_group: ec2.ISecurityGroup = groups.service_access
        roles = grants.create_cluster_roles(self, self.encryption_key)
        self.instance_role: iam.IRole = roles.instance_role
        self.instance_profile: iam.CfnInstanceProfile = roles.instance_profile
        self.service_role: iam.IRole = roles.service_role
        self._ship_job(job, certificates)
        self.security_configuration: emr.CfnSecurityConfiguration = cluster.create_security_configuration(
            self, self.encryption_key, in_transit_certificates
        )
        self.cluster: emr.CfnCluster = cluster.create_cluster(
            self,
            name=cluster_name,
            release_label=release_label,
            step_concurrency_level=step_concurrency_level,
            termination_protected=termination_protected,
            fleets=instance_fleets,
            limits=limits,
            subnets=subnets,
            security_groups=groups,
            roles=roles,
            security=self.security_configuration,
            control_bucket=self.control_bucket,
            key=self.encryption_key,
        )
        self.cluster_arn: str = Stack.of(self).format_arn(
            service="elasticmapreduce", resource="cluster", resource_name=self.cluster.ref
        )
        self._build_requests_and_results(submitter_timeout, request_retention, max_receive_count)
        self._build_submitter(submitter_code, submitter_timeout, submitter_max_concurrency, ledger_retention_days)
        self._build_alarms(notification_topic)

    def _ship_job(self, job: Path, certificates: tuple[str, str]) -> None:
        """The job script and the contract for ``--py-files``, and what the nodes may read and write to run it."""
        self.job_script: s3_assets.Asset
        self.job_modules: s3_assets.Asset
        self.job_script, self.job_modules = artifacts.create_job_artifacts(self, job)
        grants.grant_instance_role(
            self.instance_role,
            control=self.control_bucket,
            data_buckets=self.data_buckets,
            key=self.encryption_key,
            job=(self.job_script, self.job_modules),
            certificates=certificates,
        )

    def _build_requests_and_results(
        self, submitter_timeout: Duration, request_retention: Duration, max_receive_count: int
    ) -> None:
        """The request queue, the ledger, the results topic, and EMR's step events published on it."""
        self.queue: sqs.IQueue
        self.dead_letter_queue: sqs.IQueue
        self.queue, self.dead_letter_queue = submitter.create_request_queue(
            self,
            self.encryption_key,
            submitter_timeout=submitter_timeout,
            retention=request_retention,
            max_receive_count=max_receive_count,
        )
        self.ledger: dynamodb.ITable = submitter.create_ledger(self, self.encryption_key)
        self.results_topic: sns.ITopic = results.create_results_topic(self, self.encryption_key)
        self.results_dead_letter_queue: sqs.IQueue
        self.step_events_rule: events.IRule
        self.results_dead_letter_queue, self.step_events_rule = results.publish_step_events(
            self,
            topic=self.results_topic,
            key=self.encryption_key,
            cluster=self.cluster,
            control_bucket=self.control_bucket,
        )

    def _build_submitter(
        self, code: lambda_.Code | None, timeout: Duration, max_concurrency: int, ledger_retention_days: int
    ) -> None:
        """The submitter, fed by the request queue, with the permissions it needs and the settings it reads."""
        self.submitter: PythonHandler = submitter.create_submitter(
            self,
            queue=self.queue,
            code=code,
            timeout=timeout,
            max_concurrency=max_concurrency,
            environment={
                "CLUSTER_ID": self.cluster.ref,
                "CONTROL_BUCKET": self.control_bucket.bucket_name,
                "DATA_BUCKETS": ",".join(b.bucket_name for b in self.data_buckets),
                "LEDGER_TABLE": self.ledger.table_name,
                "RESULTS_TOPIC_ARN": self.results_topic.topic_arn,
                "JOB_SCRIPT_URI": self.job_script.s3_object_url,
                "PY_FILES_URI": self.job_modules.s3_object_url,
                "LEASE_SECONDS": str(int(timeout.to_seconds()) + 60),
                "LEDGER_TTL_DAYS": str(ledger_retention_days),
            },
        )
        grants.grant_submitter(
            self.submitter.role,
            control=self.control_bucket,
            ledger=self.ledger,
            cluster_arn=self.cluster_arn,
            results_topic=self.results_topic,
            key=self.encryption_key,
        )

    def _build_alarms(self, notification_topic: sns.ITopic | None) -> None:
        """The notification topic (``notification_topic``, or a new one) and the alarms that notify it."""
        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.encryption_key, notification_topic)
        self.alarms: list[cloudwatch.IAlarm] = alarms.create_alarms(
            self,
            dead_letter_queue=self.dead_letter_queue,
            results_dead_letter_queue=self.results_dead_letter_queue,
            submitter=self.submitter.function,
            topic=self.notification_topic,
        )

    def grant_send_requests(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` send reconciliation requests: ``sqs:SendMessage`` on ``queue``, and
        ``kms:GenerateDataKey`` and ``kms:Decrypt`` on ``encryption_key`` through SQS only (what an SSE-KMS
        producer needs, Amazon SQS Developer Guide, "Configuring AWS KMS permissions")."""
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["sqs:SendMessage"], resource_arns=[self.queue.queue_arn]
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resource_arns=[self.encryption_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{Stack.of(self).region}.amazonaws.com"}},
        )
        return grant

    def grant_subscribe_results(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` subscribe to ``results_topic`` (``sns:Subscribe`` on that topic only)."""
        return self.results_topic.grant_subscribe(grantee)

    def metric_requests(
        self, outcome: str, *, statistic: str = "Sum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Requests the submitter counted as ``outcome``, one of ``REQUEST_METRICS``' keys (``submitted``,
        ``rejected``, ``deferred``, ``failed``, ``duplicate``, ``recovered``): the ``Blueprints`` namespace,
        dimension ``service`` = ``emr_step_submitter``, metric ``RequestsSubmitted``, ``RequestsRejected``...;
        5-minute sums."""
        if outcome not in submitter.REQUEST_METRICS:
            raise ValueError(f"outcome must be one of {', '.join(submitter.REQUEST_METRICS)}; got {outcome!r}")
        return handler_metric(
            submitter.REQUEST_METRICS[outcome],
            {"service": submitter.SUBMITTER_SERVICE},
            statistic=statistic,
            period=period,
        )

    def metric_requests_rejected(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests rejected as invalid (``RequestsRejected``), 5-minute sums."""
        return self.metric_requests("rejected", period=period)

    def metric_requests_deferred(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Requests put back on the queue because the cluster was busy (``RequestsDeferred``), 5-minute sums."""
        return self.metric_requests("deferred", period=period)

    @property
    def connections(self) -> ec2.Connections:
        """The primary node's security group: allow a client to reach it with ``connections.allow_from``."""
        return ec2.Connections(security_groups=[self.primary_security_group])
