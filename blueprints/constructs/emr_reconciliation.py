"""EMR reconciliation: requests queued in SQS become Spark steps on a long-running Graviton EMR cluster.

From the AWS Big Data blog post "How Amazon optimized its high-volume financial
reconciliation process with Amazon EMR for higher scalability and performance":
a client sends a transformation request to an SQS queue, a Lambda function
validates it and adds a ``spark-submit`` step to a dedicated EMR cluster (ten
steps at a time), and EMR's step state changes are published, with the request
id, to an SNS topic. The cluster is configured as the post configures it:
instance fleets of r6g instances, EMR managed scaling between 64 and 512
instance-fleet units, EMR 7.x with Spark, kept alive, termination-protected.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import CfnTag, Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import (
    LAMBDAS_DIR,
    PythonHandler,
    SecureBucket,
    SecureQueue,
    TopicRuleTarget,
    acknowledge,
    alarm_notification_topic,
    explain_zone_lookup,
    nag_text,
    present,
    service_grant,
)

JOBS_DIR = Path(__file__).resolve().parent.parent / "jobs"
#: The Spark job and the request contract it shares with the submitter.
JOB_SCRIPT = JOBS_DIR / "reconciliation" / "reconcile.py"
SUBMITTER = "emr_step_submitter"
#: The submitter's request metrics (Powertools ``service`` = ``SUBMITTER``), by the outcome they count.
REQUEST_METRICS = {
    "submitted": "RequestsSubmitted",
    "rejected": "RequestsRejected",
    "deferred": "RequestsDeferred",
    "failed": "RequestsFailed",
    "duplicate": "DuplicateRequests",
    "recovered": "InterruptedSubmissionsRecovered",
}
CONTRACT_MODULE = "reconciliation_request.py"

#: Newest EMR 7.x release when this was written; all 7.x releases run on Graviton.
RELEASE_LABEL = "emr-7.13.0"
#: The Spark of RELEASE_LABEL (Amazon EMR Release Guide, "Spark release history": emr-7.13.0 ships 3.5.6-amzn-2);
#: requirements-emr-runtime.txt pins pyspark to it for the job's tests.
RELEASE_SPARK_VERSION = "3.5.6"
#: The interpreter the steps run PySpark on, set on the cluster (spark-env PYSPARK_PYTHON, spark-defaults
#: spark.pyspark.python) rather than left to EMR's default. Python 3.9 is /usr/bin/python3 on Amazon Linux 2023 for
#: the life of the OS and is in every EMR 7.x release (Release Guide, "Application versions in Amazon EMR 7.x
#: releases": 3.9 in 7.0.0 to 7.13.0, 3.11 only from 7.1.0); tools/emr_runtime_gate.py keeps the job within it.
JOB_PYTHON = "/usr/bin/python3.9"
JOB_PYTHON_VERSION = "3.9"
#: EMR release majors known to ship JOB_PYTHON and Spark 3.5 (the job's tested runtime).
JOB_RELEASE_MAJORS = (7,)
#: The tag that AmazonEMRServicePolicy_v2 requires on every network resource the cluster uses.
EMR_MANAGED_TAG = "for-use-with-amazon-emr-managed-policies"
#: Capacity at launch, in instance-fleet units: the post's minimum, of which one r6g.2xlarge on the task fleet.
DEFAULT_LAUNCH_UNITS = 64
DEFAULT_TASK_UNITS = 8
#: Where the job writes each request's outcome in the control bucket (the submitter's results_uri).
RESULTS_PREFIX = "results/"

_RELEASE_RE = re.compile(r"^emr-(\d+)\.(\d+)\.(\d+)$")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_S3_ZIP_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>[^\x00-\x1f]+\.zip)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$")


@dataclass(frozen=True)
class FleetInstanceType:
    """One instance type of an instance fleet: its weight in fleet units and its EBS data volume."""

    instance_type: str
    weighted_capacity: int
    ebs_size_gib: int


#: The post's primary fleet: r6g.xlarge or r6g.2xlarge, 250 GiB EBS, one unit each.
PRIMARY_INSTANCE_TYPES = (FleetInstanceType("r6g.xlarge", 1, 250), FleetInstanceType("r6g.2xlarge", 1, 250))
#: The post's core and task fleets: r6g.2xlarge (8 units) and r6g.4xlarge (16 units), 100 GiB EBS.
WORKER_INSTANCE_TYPES = (FleetInstanceType("r6g.2xlarge", 8, 100), FleetInstanceType("r6g.4xlarge", 16, 100))


class EmrReconciliationCluster(Construct):
    """A reconciliation service: request queue, step-submitting Lambda, EMR cluster and results topic.

    Send a request (the JSON contract of ``reconciliation_request.py``) to ``queue``; its result, or the
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
        release_label: str = RELEASE_LABEL,
        primary_instance_types: Sequence[FleetInstanceType] = PRIMARY_INSTANCE_TYPES,
        core_instance_types: Sequence[FleetInstanceType] = WORKER_INSTANCE_TYPES,
        task_instance_types: Sequence[FleetInstanceType] = WORKER_INSTANCE_TYPES,
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
                Default: ``blueprints/jobs/reconciliation/reconcile.py``.
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
        # The launch capacity follows the task fleet: the post's minimum of 64 units as 56 core + 8 task (EMR
        # refuses a task fleet without capacity), or all 64 on core when task_instance_types=().
        if task_on_demand_units is None:
            task_on_demand_units = DEFAULT_TASK_UNITS if task_instance_types else 0
        if core_on_demand_units is None:
            core_on_demand_units = DEFAULT_LAUNCH_UNITS - (DEFAULT_TASK_UNITS if task_instance_types else 0)
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        explain_zone_lookup(self, vpc, created=False)
        job = job_script or JOB_SCRIPT
        certificates = _validate(
            in_transit_certificates=in_transit_certificates,
            cluster_name=cluster_name,
            release_label=release_label,
            fleets={"primary": primary_instance_types, "core": core_instance_types, "task": task_instance_types},
            core_units=(core_on_demand_units, core_spot_units),
            task_units=(task_on_demand_units, task_spot_units),
            spot_price_percent_of_on_demand=spot_price_percent_of_on_demand,
            limits=(
                minimum_capacity_units,
                maximum_capacity_units,
                maximum_on_demand_capacity_units,
                maximum_core_capacity_units,
            ),
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
        subnets = vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
        )
        if subnets.has_public or not subnets.subnet_ids:
            raise ValueError(
                "vpc_subnets must select one or more private subnets (the cluster has no public addresses); "
                f"got {len(subnets.subnet_ids)} subnet(s){' including public ones' if subnets.has_public else ''}"
            )
        stack = Stack.of(self)

        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            enable_key_rotation=True,
            description="Encrypts the reconciliation requests, data, logs, ledger, topic and EMR disks",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.control_bucket: s3.IBucket = SecureBucket(
            self,
            "Control",
            encryption_key=self.encryption_key,
            lifecycle_rules=[
                s3.LifecycleRule(prefix="logs/", expiration=Duration.days(log_retention_days)),
                s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30)),
            ],
        )
        self.data_buckets: list[s3.IBucket] = (
            list(data_buckets) if data_buckets else [SecureBucket(self, "Data", encryption_key=self.encryption_key)]
        )

        # --- network -----------------------------------------------------------------------------------------------
        self.primary_security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self, "PrimarySecurityGroup", vpc=vpc, description="EMR-managed: reconciliation cluster primary node"
        )
        self.worker_security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self, "WorkerSecurityGroup", vpc=vpc, description="EMR-managed: reconciliation cluster core and task nodes"
        )
        self.service_access_security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self,
            "ServiceAccessSecurityGroup",
            vpc=vpc,
            description="EMR service access to the reconciliation cluster in private subnets",
            allow_all_outbound=False,
        )
        # The rules EMR requires for a cluster in private subnets, declared so that they are reviewed here.
        self.service_access_security_group.add_ingress_rule(
            self.primary_security_group, ec2.Port.tcp(9443), "Primary node to the EMR service access point"
        )
        for group, name in ((self.primary_security_group, "primary"), (self.worker_security_group, "core and task")):
            self.service_access_security_group.add_egress_rule(
                group, ec2.Port.tcp(8443), f"EMR service to the {name} nodes"
            )
        for group in (self.primary_security_group, self.worker_security_group, self.service_access_security_group):
            Tags.of(group).add(EMR_MANAGED_TAG, "true")
        for subnet in subnets.subnets:
            Tags.of(subnet).add(EMR_MANAGED_TAG, "true")

        # --- roles -------------------------------------------------------------------------------------------------
        self.instance_role: iam.IRole = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="EMR reconciliation cluster nodes: the job, its request, the data buckets and the logs",
        )
        self.instance_profile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[self.instance_role.role_name])
        self.service_role: iam.IRole = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal(
                "elasticmapreduce.amazonaws.com",
                # AWS's documented trust policy for the EMR service role (Management Guide, "Service role for Amazon
                # EMR (EMR role)"): this account, and any EMR resource of this account in this Region. Narrowing the
                # source ARN to cluster/* (as before) is not documented to cover every call EMR makes with the role,
                # and a refused AssumeRole fails the cluster's launch, so the documented form is used as it is.
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:elasticmapreduce:{stack.region}:{stack.account}:*"
                    },
                },
            ),
            description="EMR service role of the reconciliation cluster",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEMRServicePolicy_v2")],
        )
        acknowledge(
            self.service_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2]",
            "AmazonEMRServicePolicy_v2 is AWS's scoped EMR service policy: EC2 actions only on resources tagged "
            "for-use-with-amazon-emr-managed-policies=true, which here are this cluster's subnets and security "
            "groups; AWS keeps it current as EMR needs change, which a hand-copied policy would not.",
        )
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassTheInstanceRole",
                actions=["iam:PassRole"],
                resources=[self.instance_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
            )
        )
        # EBS encryption with the key: EMR creates the encrypted volumes through grants for EC2.
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="EncryptVolumes",
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=[self.encryption_key.key_arn],
            )
        )
        self.service_role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="GrantVolumeEncryption",
                actions=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                resources=[self.encryption_key.key_arn],
                conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
            )
        )

        # --- job artifacts -----------------------------------------------------------------------------------------
        self.job_script = s3_assets.Asset(self, "JobScript", path=str(job))
        # The contract module, zipped alone, for --py-files (Spark puts the zip on the job's PYTHONPATH).
        self.job_modules = s3_assets.Asset(
            self, "JobModules", path=str(LAMBDAS_DIR / SUBMITTER), exclude=["*", f"!{CONTRACT_MODULE}", ".mypy_cache"]
        )
        self._grant_instance_role(certificates, stack.region, stack.partition)

        # --- cluster -----------------------------------------------------------------------------------------------
        self.security_configuration = emr.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            security_configuration={
                "EncryptionConfiguration": {
                    "EnableAtRestEncryption": True,
                    "EnableInTransitEncryption": True,
                    "AtRestEncryptionConfiguration": {
                        "S3EncryptionConfiguration": {
                            "EncryptionMode": "SSE-KMS",
                            "AwsKmsKey": self.encryption_key.key_arn,
                        },
                        "LocalDiskEncryptionConfiguration": {
                            "EncryptionKeyProviderType": "AwsKms",
                            "AwsKmsKey": self.encryption_key.key_arn,
                            "EnableEbsEncryption": True,
                        },
                    },
                    "InTransitEncryptionConfiguration": {
                        "TLSCertificateConfiguration": {
                            "CertificateProviderType": "PEM",
                            "S3Object": in_transit_certificates,
                        }
                    },
                }
            },
        )
        self.cluster = emr.CfnCluster(
            self,
            "Cluster",
            name=cluster_name,
            release_label=release_label,
            applications=[emr.CfnCluster.ApplicationProperty(name="Spark")],
            configurations=spark_python_configurations(),
            service_role=self.service_role.role_arn,
            job_flow_role=self.instance_profile.ref,
            security_configuration=self.security_configuration.ref,
            log_uri=self.control_bucket.s3_url_for_object("logs/"),
            log_encryption_kms_key_id=self.encryption_key.key_arn,
            step_concurrency_level=step_concurrency_level,
            visible_to_all_users=True,
            managed_scaling_policy=emr.CfnCluster.ManagedScalingPolicyProperty(
                compute_limits=emr.CfnCluster.ComputeLimitsProperty(
                    unit_type="InstanceFleetUnits",
                    minimum_capacity_units=minimum_capacity_units,
                    maximum_capacity_units=maximum_capacity_units,
                    maximum_on_demand_capacity_units=maximum_on_demand_capacity_units,
                    maximum_core_capacity_units=maximum_core_capacity_units,
                )
            ),
            instances=emr.CfnCluster.JobFlowInstancesConfigProperty(
                ec2_subnet_ids=subnets.subnet_ids,
                emr_managed_master_security_group=self.primary_security_group.security_group_id,
                emr_managed_slave_security_group=self.worker_security_group.security_group_id,
                service_access_security_group=self.service_access_security_group.security_group_id,
                keep_job_flow_alive_when_no_steps=True,
                termination_protected=termination_protected,
                unhealthy_node_replacement=True,
                master_instance_fleet=_fleet(
                    "primary",
                    primary_instance_types,
                    on_demand=1 if primary_on_demand else 0,
                    spot=0 if primary_on_demand else 1,
                    spot_percent=spot_price_percent_of_on_demand,
                ),
                core_instance_fleet=_fleet(
                    "core",
                    core_instance_types,
                    on_demand=core_on_demand_units,
                    spot=core_spot_units,
                    spot_percent=spot_price_percent_of_on_demand,
                ),
                task_instance_fleets=(
                    [
                        _fleet(
                            "task",
                            task_instance_types,
                            on_demand=task_on_demand_units,
                            spot=task_spot_units,
                            spot_percent=spot_price_percent_of_on_demand,
                        )
                    ]
                    if task_instance_types
                    else None
                ),
            ),
            tags=[CfnTag(key=EMR_MANAGED_TAG, value="true")],
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-EMR4",
            "The security configuration enables local disk encryption (EncryptionConfiguration."
            "AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration, AWS KMS, EBS included); cdk-nag 3.0.2 "
            "looks for those keys at the top level of the JSON, where EMR does not accept them.",
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-EMR5",
            "The security configuration enables in-transit encryption (EncryptionConfiguration."
            "InTransitEncryptionConfiguration with PEM certificates); cdk-nag 3.0.2 looks for those keys at the "
            "top level of the JSON, where EMR does not accept them.",
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-EMR6",
            "Nobody logs in to the nodes: there is no key pair and no SSH rule, and work reaches the cluster "
            "only as EMR steps through the IAM-authorized EMR API, so there is no interactive user to authenticate.",
        )
        # The instance profile's permissions must exist before the nodes boot and fetch their certificates.
        self.cluster.node.add_dependency(self.instance_role, self.service_role)
        # Nodes bootstrap at once: they must reach EMR and S3 through their subnets' default (NAT) routes, which
        # nothing else orders before the cluster. Empty for subnets of an imported VPC, whose routes already exist.
        self.cluster.node.add_dependency(subnets.internet_connectivity_established)
        self.cluster_arn = stack.format_arn(
            service="elasticmapreduce", resource="cluster", resource_name=self.cluster.ref
        )

        # --- requests, ledger, results -----------------------------------------------------------------------------
        queue = SecureQueue(
            self,
            "Requests",
            encryption_key=self.encryption_key,
            visibility_timeout=Duration.seconds(submitter_timeout.to_seconds() * 6),
            retention_period=request_retention,
            max_receive_count=max_receive_count,
        )
        self.queue: sqs.IQueue = queue
        self.dead_letter_queue: sqs.IQueue = present(queue.dead_letters, "the request queue's DLQ")
        self.ledger: dynamodb.ITable = dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(name="request_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.encryption_key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expires_at",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.results_topic: sns.ITopic = sns.Topic(
            self, "Results", master_key=self.encryption_key, enforce_ssl=True, display_name="Reconciliation results"
        )
        self._publish_step_events()

        # --- submitter ---------------------------------------------------------------------------------------------
        self.submitter = PythonHandler(
            self,
            "Submitter",
            name=SUBMITTER,
            description="adds one EMR Spark step per reconciliation request from the request queue",
            code=submitter_code,
            timeout=submitter_timeout,
            sync_caller="the SQS event source mapping",
            environment={
                "CLUSTER_ID": self.cluster.ref,
                "CONTROL_BUCKET": self.control_bucket.bucket_name,
                "DATA_BUCKETS": ",".join(b.bucket_name for b in self.data_buckets),
                "LEDGER_TABLE": self.ledger.table_name,
                "RESULTS_TOPIC_ARN": self.results_topic.topic_arn,
                "JOB_SCRIPT_URI": self.job_script.s3_object_url,
                "PY_FILES_URI": self.job_modules.s3_object_url,
                "LEASE_SECONDS": str(int(submitter_timeout.to_seconds()) + 60),
                "LEDGER_TTL_DAYS": str(ledger_retention_days),
            },
        )
        self.submitter.function.add_event_source(
            event_sources.SqsEventSource(
                self.queue, batch_size=10, report_batch_item_failures=True, max_concurrency=submitter_max_concurrency
            )
        )
        for child in self.submitter.function.node.children:
            if isinstance(child, lambda_.EventSourceMapping):
                acknowledge(
                    child,
                    "Serverless-LambdaEventSourceMappingDestination",
                    "Lambda supports on-failure destinations only for stream and Kafka sources; for this SQS "
                    "source a request that keeps failing moves to the queue's dead-letter queue (redrive policy).",
                )
        self._grant_submitter()
        self.notification_topic: sns.ITopic = alarm_notification_topic(self, self.encryption_key, notification_topic)
        self._alarm()

    # -------------------------------------------------------------------------------------------------------------

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
        if outcome not in REQUEST_METRICS:
            raise ValueError(f"outcome must be one of {', '.join(REQUEST_METRICS)}; got {outcome!r}")
        return handler_metric(REQUEST_METRICS[outcome], {"service": SUBMITTER}, statistic=statistic, period=period)

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

    def _grant_instance_role(self, certificates: tuple[str, str], region: str, partition: str) -> None:
        role = self.instance_role
        control = self.control_bucket
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadRequests", actions=["s3:GetObject"], resources=[control.arn_for_objects("requests/*")]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteLogs", actions=["s3:PutObject"], resources=[control.arn_for_objects("logs/*")]
            )
        )
        # The job's results objects, results/<request id>.json, written through EMRFS, which checks first whether the
        # object exists (a HEAD, which S3 answers with 403 instead of 404 unless the caller may list that prefix).
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteResults",
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[control.arn_for_objects(f"{RESULTS_PREFIX}*")],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListResults",
                actions=["s3:ListBucket"],
                resources=[control.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{RESULTS_PREFIX}*"]}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadJob",
                actions=["s3:GetObject"],
                resources=[
                    self.job_script.bucket.arn_for_objects(self.job_script.s3_object_key),
                    self.job_modules.bucket.arn_for_objects(self.job_modules.s3_object_key),
                    f"arn:{partition}:s3:::{certificates[0]}/{certificates[1]}",
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadEmrArtifacts",
                actions=["s3:GetObject"],
                resources=[f"arn:{partition}:s3:::{region}.elasticmapreduce/*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListData",
                actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                resources=[b.bucket_arn for b in self.data_buckets],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadWriteData",
                actions=[
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[b.arn_for_objects("*") for b in self.data_buckets],
            )
        )
        keys = [self.encryption_key.key_arn] + [
            b.encryption_key.key_arn
            for b in self.data_buckets
            if b.encryption_key is not None and b.encryption_key is not self.encryption_key
        ]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="UseKeys",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=keys,
            )
        )
        _acknowledge_resource(
            role,
            control.arn_for_objects("requests/*"),
            "Each step reads its own request object, named for the request id; the nodes read only the "
            "requests/ prefix of the control bucket.",
        )
        _acknowledge_resource(
            role,
            control.arn_for_objects("logs/*"),
            "EMR writes step, application and node logs under keys it chooses; the nodes write only the "
            "logs/ prefix of the control bucket.",
        )
        _acknowledge_resource(
            role,
            control.arn_for_objects(f"{RESULTS_PREFIX}*"),
            "Each step writes (and EMRFS first looks up) its own results object, results/<request id>.json; the "
            "nodes write nothing else in the control bucket outside logs/.",
        )
        _acknowledge_resource(
            role,
            f"arn:{partition}:s3:::{region}.elasticmapreduce/*",
            "Read-only access to the Region's EMR-owned bucket of EMR artifacts, which the nodes fetch "
            "while they bootstrap; it holds no customer data.",
        )
        for bucket in self.data_buckets:
            _acknowledge_resource(
                role,
                bucket.arn_for_objects("*"),
                "A data bucket holds the inputs and outputs that requests name by key; Spark reads, writes "
                "and replaces objects anywhere in it, and in no other bucket.",
            )

    def _alarm(self) -> None:
        """Alarms on what needs a person: dead-lettered requests, undelivered results, submitter errors."""
        alarms = [
            cloudwatch.Alarm(
                self,
                "DeadLetteredRequestsAlarm",
                alarm_description="Reconciliation requests failed repeatedly and were dead-lettered: inspect, redrive",
                metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "UndeliveredResultsAlarm",
                alarm_description="EMR step results could not be published to the results topic",
                metric=self.results_dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5)
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "SubmitterErrorsAlarm",
                alarm_description="The step submitter function failed (not a single request: the whole invocation)",
                metric=self.submitter.function.metric_errors(period=Duration.minutes(5)),
                threshold=1,
                evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.notification_topic))
        self.alarms: list[cloudwatch.IAlarm] = list(alarms)

    def _publish_step_events(self) -> None:
        """EMR step state changes of this cluster go to the results topic, with the step name as the request id."""
        # SNS encrypts with the publisher's identity; EventBridge's KMS request carries no source keys
        # (UNSOURCED_SERVICE_GRANTS). The topic's own policy admits only the step-events rule (TopicRuleTarget).
        self.encryption_key.add_to_resource_policy(
            service_grant(
                self,
                sid="EventBridgePublishesResults",
                service="events.amazonaws.com",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                source_account=False,
            )
        )
        self.results_dead_letter_queue: sqs.IQueue = SecureQueue.dead_letter(self, "UndeliveredResults")
        acknowledge(
            self.results_dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the step-events rule's SNS target (DeadLetterConfig of the "
            "EventBridge target), which cdk-nag does not trace.",
        )
        self.step_events_rule: events.IRule = events.Rule(
            self,
            "StepEvents",
            description="EMR step state changes of the reconciliation cluster, to the results topic",
            event_pattern=events.EventPattern(
                source=["aws.emr"],
                detail_type=["EMR Step Status Change"],
                detail={"clusterId": [self.cluster.ref]},
            ),
            targets=[
                TopicRuleTarget(
                    self.results_topic,
                    message=events.RuleTargetInput.from_object(
                        {
                            "request_id": events.EventField.from_path("$.detail.name"),
                            "state": events.EventField.from_path("$.detail.state"),
                            "message": events.EventField.from_path("$.detail.message"),
                            "step_id": events.EventField.from_path("$.detail.stepId"),
                            "cluster_id": events.EventField.from_path("$.detail.clusterId"),
                            "time": events.EventField.time,
                            # Where the job writes the outcome (the submitter's results_uri): the reason a step
                            # FAILED, which EMR's event does not carry.
                            "results": f"s3://{self.control_bucket.bucket_name}/results/"
                            f"{events.EventField.from_path('$.detail.name')}.json",
                        }
                    ),
                    dead_letter_queue=self.results_dead_letter_queue,
                    retry_attempts=10,
                    max_event_age=Duration.hours(24),
                )
            ],
        )

    def _grant_submitter(self) -> None:
        role = self.submitter.role
        control = self.control_bucket
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WriteRequestsAndRejections",
                actions=["s3:PutObject"],
                resources=[control.arn_for_objects("requests/*"), control.arn_for_objects("rejected/*")],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="Ledger",
                actions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                resources=[self.ledger.table_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AddSteps",
                actions=["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:ListSteps"],
                resources=[self.cluster_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="Notify", actions=["sns:Publish"], resources=[self.results_topic.topic_arn])
        )
        for prefix in ("requests/*", "rejected/*"):
            _acknowledge_resource(
                role,
                control.arn_for_objects(prefix),
                f"The submitter writes one object per request under {prefix[:-1]}, named for the request id "
                "or message id; it can write nothing else in the bucket.",
            )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="UseKey",
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                resources=[self.encryption_key.key_arn],
            )
        )


def _acknowledge_resource(role: iam.IRole, resource: str, reason: str) -> None:
    """Acknowledge the IAM5 finding for one wildcard resource of ``role``'s policy, named as cdk-nag names it."""
    acknowledge(role, f"AwsSolutions-IAM5[Resource::{nag_text(role, resource)}]", reason)


def _fleet(
    name: str, types: Sequence[FleetInstanceType], *, on_demand: int, spot: int, spot_percent: int
) -> emr.CfnCluster.InstanceFleetConfigProperty:
    return emr.CfnCluster.InstanceFleetConfigProperty(
        name=name,
        target_on_demand_capacity=on_demand if name != "primary" or on_demand else None,
        target_spot_capacity=spot if name != "primary" or spot else None,
        instance_type_configs=[
            emr.CfnCluster.InstanceTypeConfigProperty(
                instance_type=t.instance_type,
                weighted_capacity=t.weighted_capacity,
                bid_price_as_percentage_of_on_demand_price=spot_percent,
                ebs_configuration=emr.CfnCluster.EbsConfigurationProperty(
                    ebs_optimized=True,
                    ebs_block_device_configs=[
                        emr.CfnCluster.EbsBlockDeviceConfigProperty(
                            volume_specification=emr.CfnCluster.VolumeSpecificationProperty(
                                size_in_gb=t.ebs_size_gib, volume_type="gp3"
                            ),
                            volumes_per_instance=1,
                        )
                    ],
                ),
            )
            for t in types
        ],
        launch_specifications=emr.CfnCluster.InstanceFleetProvisioningSpecificationsProperty(
            # The primary fleet gets only the specification of its one purchasing option; core and task fleets
            # get both, because managed scaling adds Spot when the On-Demand limit is below the maximum.
            on_demand_specification=(
                emr.CfnCluster.OnDemandProvisioningSpecificationProperty(allocation_strategy="lowest-price")
                if name != "primary" or on_demand
                else None
            ),
            spot_specification=(
                emr.CfnCluster.SpotProvisioningSpecificationProperty(
                    allocation_strategy="price-capacity-optimized",
                    timeout_action="SWITCH_TO_ON_DEMAND",
                    timeout_duration_minutes=20,
                )
                if name != "primary" or spot
                else None
            ),
        ),
    )


def spark_python_configurations() -> list[emr.CfnCluster.ConfigurationProperty]:
    """The cluster configurations that make every step's driver and executors run JOB_PYTHON."""
    return [
        emr.CfnCluster.ConfigurationProperty(
            classification="spark-env",
            configurations=[
                emr.CfnCluster.ConfigurationProperty(
                    classification="export", configuration_properties={"PYSPARK_PYTHON": JOB_PYTHON}
                )
            ],
        ),
        emr.CfnCluster.ConfigurationProperty(
            classification="spark-defaults", configuration_properties={"spark.pyspark.python": JOB_PYTHON}
        ),
    ]


def deferral_seconds(receives: int) -> int:
    """How long the submitter keeps a request it cannot submit before it is dead-lettered: its visibility
    timeouts start at 30 seconds and double with each receive, up to 15 minutes."""
    return sum(min(30 * 2**i, 900) for i in range(receives))


def _validate(
    *,
    in_transit_certificates: str,
    cluster_name: str,
    release_label: str,
    fleets: dict[str, Sequence[FleetInstanceType]],
    core_units: tuple[int, int],
    task_units: tuple[int, int],
    spot_price_percent_of_on_demand: int,
    limits: tuple[int, int, int, int],
    step_concurrency_level: int,
    job_script: Path,
    submitter_timeout: Duration,
    max_receive_count: int,
    request_retention: Duration,
    ledger_retention_days: int,
    log_retention_days: int,
    data_buckets: Sequence[s3.IBucket] | None,
    submitter_max_concurrency: int,
) -> tuple[str, str]:
    """Check every argument before a resource exists; returns the certificates' bucket and key."""
    certificates = _S3_ZIP_RE.match(in_transit_certificates)
    if not certificates:
        raise ValueError(
            "in_transit_certificates must be the S3 URI of a zip of PEM files (privateKey.pem, certificateChain.pem, "
            "optionally trustedCertificates.pem), such as s3://my-bucket/emr/certs.zip; "
            f"got {in_transit_certificates!r}"
        )
    if not _NAME_RE.match(cluster_name):
        raise ValueError(
            "cluster_name must be 1-128 letters, digits, spaces, '_', '.' or '-', starting with a letter or digit; "
            f"got {cluster_name!r}"
        )
    release = _RELEASE_RE.match(release_label)
    if not release or int(release.group(1)) not in JOB_RELEASE_MAJORS:
        raise ValueError(
            f"release_label must be an EMR 7.x release such as {RELEASE_LABEL} (every 7.x release ships Python "
            f"{JOB_PYTHON_VERSION} at {JOB_PYTHON} and Spark 3.5, which the job is tested on); got {release_label!r}"
        )
    for fleet, types in fleets.items():
        if fleet != "task" and not types:
            raise ValueError(f"{fleet}_instance_types must list 1 to 30 instance types; got none")
        if len(types) > 30:
            raise ValueError(f"{fleet}_instance_types must list 1 to 30 instance types; got {len(types)}")
        names = [t.instance_type for t in types]
        if len(set(names)) != len(names):
            raise ValueError(f"{fleet}_instance_types must not repeat an instance type; got {names}")
        for t in types:
            if not _INSTANCE_TYPE_RE.match(t.instance_type):
                raise ValueError(
                    f"{fleet}_instance_types: instance_type must be an EC2 type such as r6g.2xlarge; "
                    f"got {t.instance_type!r}"
                )
            if fleet == "primary" and t.weighted_capacity != 1:
                raise ValueError(
                    f"primary_instance_types: weighted_capacity must be 1 (the primary fleet is one node); "
                    f"got {t.weighted_capacity} for {t.instance_type}"
                )
            if not 1 <= t.weighted_capacity <= 1000:
                raise ValueError(
                    f"{fleet}_instance_types: weighted_capacity must be 1 to 1000; got {t.weighted_capacity} "
                    f"for {t.instance_type}"
                )
            if not 1 <= t.ebs_size_gib <= 16384:
                raise ValueError(
                    f"{fleet}_instance_types: ebs_size_gib must be 1 to 16384 (gp3); got {t.ebs_size_gib} "
                    f"for {t.instance_type}"
                )
    for fleet, (on_demand, spot) in (("core", core_units), ("task", task_units)):
        if on_demand < 0 or spot < 0:
            raise ValueError(
                f"{fleet}_on_demand_units and {fleet}_spot_units must not be negative; got {on_demand}, {spot}"
            )
    if sum(core_units) < 1:
        raise ValueError(
            f"core_on_demand_units + core_spot_units must be at least 1; got {core_units[0]} + {core_units[1]}"
        )
    if fleets["task"] and sum(task_units) < 1:
        raise ValueError(
            "task_on_demand_units + task_spot_units must be at least 1 when there is a task fleet (EMR requires a "
            f"target capacity); got {task_units[0]} + {task_units[1]}, or pass task_instance_types=() for no task fleet"
        )
    if not fleets["task"] and sum(task_units) > 0:
        raise ValueError(
            f"task_on_demand_units and task_spot_units must be 0 without task_instance_types; got {task_units[0]}, "
            f"{task_units[1]}"
        )
    if not 1 <= spot_price_percent_of_on_demand <= 100:
        raise ValueError(
            "spot_price_percent_of_on_demand must be 1 to 100 (% of the On-Demand price); "
            f"got {spot_price_percent_of_on_demand}"
        )
    minimum, maximum, max_on_demand, max_core = limits
    if not 1 <= minimum <= maximum:
        raise ValueError(
            f"minimum_capacity_units must be at least 1 and at most maximum_capacity_units ({maximum}); got {minimum}"
        )
    for name, value in (("maximum_on_demand_capacity_units", max_on_demand), ("maximum_core_capacity_units", max_core)):
        if not 1 <= value <= maximum:
            raise ValueError(f"{name} must be 1 to maximum_capacity_units ({maximum}); got {value}")
    launch = sum(core_units) + sum(task_units)
    if not minimum <= launch <= maximum:
        raise ValueError(
            "the core and task units at launch must lie within the managed scaling limits "
            f"{minimum}..{maximum}; got {launch} ({sum(core_units)} core + {sum(task_units)} task)"
        )
    if not 1 <= step_concurrency_level <= 256:
        raise ValueError(f"step_concurrency_level must be 1 to 256; got {step_concurrency_level}")
    if not job_script.is_file():
        raise ValueError(f"job_script must be the path of the Spark job's .py file; no file at {job_script}")
    timeout = submitter_timeout.to_seconds()
    if not 10 <= timeout <= 900:
        raise ValueError(f"submitter_timeout must be 10 seconds to 15 minutes; got {timeout} seconds")
    if max_receive_count < 10:
        raise ValueError(
            "max_receive_count must be at least 10, so that a request deferred while EMR has 256 active steps is not "
            f"dead-lettered during a normal backlog; got {max_receive_count}"
        )
    retention = request_retention.to_seconds()
    deferrals = deferral_seconds(max_receive_count)
    if not deferrals <= retention <= 14 * 86400:
        raise ValueError(
            f"request_retention must be at most 14 days (the SQS maximum) and at least the {deferrals} seconds that "
            f"{max_receive_count} deferred receives take, so that a request is dead-lettered, never expired; "
            f"got {retention} seconds"
        )
    if ledger_retention_days < 1 or log_retention_days < 1:
        raise ValueError(
            f"ledger_retention_days and log_retention_days must be at least 1; got {ledger_retention_days}, "
            f"{log_retention_days}"
        )
    if not 2 <= submitter_max_concurrency <= 1000:
        raise ValueError(
            "submitter_max_concurrency must be 2 to 1000 (the SQS event source's limits); "
            f"got {submitter_max_concurrency}"
        )
    if data_buckets is not None and not data_buckets:
        raise ValueError("data_buckets must list at least one bucket, or be left out to create one")
    return certificates.group("bucket"), certificates.group("key")
