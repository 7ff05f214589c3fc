"""The EMR cluster itself: release, the job's Python, encryption, and the long-running cluster resource."""

from __future__ import annotations

from aws_cdk import CfnTag
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import acknowledge
from blueprints.constructs.emr_reconciliation.fleets import InstanceFleets, ScalingLimits
from blueprints.constructs.emr_reconciliation.grants import ClusterRoles
from blueprints.constructs.emr_reconciliation.network import EMR_MANAGED_TAG, ClusterSecurityGroups

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


def create_security_configuration(
    scope: Construct, key: kms.IKey, in_transit_certificates: str
) -> emr.CfnSecurityConfiguration:
    """Encryption at rest (S3 writes and local disks, EBS included, with ``key``) and in transit (PEM certificates)."""
    return emr.CfnSecurityConfiguration(
        scope,
        "SecurityConfiguration",
        security_configuration={
            "EncryptionConfiguration": {
                "EnableAtRestEncryption": True,
                "EnableInTransitEncryption": True,
                "AtRestEncryptionConfiguration": {
                    "S3EncryptionConfiguration": {
                        "EncryptionMode": "SSE-KMS",
                        "AwsKmsKey": key.key_arn,
                    },
                    "LocalDiskEncryptionConfiguration": {
                        "EncryptionKeyProviderType": "AwsKms",
                        "AwsKmsKey": key.key_arn,
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


def create_cluster(
    scope: Construct,
    *,
    name: str,
    release_label: str,
    step_concurrency_level: int,
    termination_protected: bool,
    fleets: InstanceFleets,
    limits: ScalingLimits,
    subnets: ec2.SelectedSubnets,
    security_groups: ClusterSecurityGroups,
    roles: ClusterRoles,
    security: emr.CfnSecurityConfiguration,
    control_bucket: s3.IBucket,
    key: kms.IKey,
) -> emr.CfnCluster:
    """The cluster: Spark on ``JOB_PYTHON``, kept alive between steps, logging to ``logs/`` of the control bucket."""
    cluster = emr.CfnCluster(
        scope,
        "Cluster",
        name=name,
        release_label=release_label,
        applications=[emr.CfnCluster.ApplicationProperty(name="Spark")],
        configurations=spark_python_configurations(),
        service_role=roles.service_role.role_arn,
        job_flow_role=roles.instance_profile.ref,
        security_configuration=security.ref,
        log_uri=control_bucket.s3_url_for_object("logs/"),
        log_encryption_kms_key_id=key.key_arn,
        step_concurrency_level=step_concurrency_level,
        visible_to_all_users=True,
        managed_scaling_policy=limits.policy(),
        instances=emr.CfnCluster.JobFlowInstancesConfigProperty(
            ec2_subnet_ids=subnets.subnet_ids,
            emr_managed_master_security_group=security_groups.primary.security_group_id,
            emr_managed_slave_security_group=security_groups.worker.security_group_id,
            service_access_security_group=security_groups.service_access.security_group_id,
            keep_job_flow_alive_when_no_steps=True,
            termination_protected=termination_protected,
            unhealthy_node_replacement=True,
            master_instance_fleet=fleets.primary_fleet(),
            core_instance_fleet=fleets.core_fleet(),
            task_instance_fleets=fleets.task_fleets(),
        ),
        tags=[CfnTag(key=EMR_MANAGED_TAG, value="true")],
    )
    _acknowledge_cluster(cluster)
    # The instance profile's permissions must exist before the nodes boot and fetch their certificates.
    cluster.node.add_dependency(roles.instance_role, roles.service_role)
    # Nodes bootstrap at once: they must reach EMR and S3 through their subnets' default (NAT) routes, which
    # nothing else orders before the cluster. Empty for subnets of an imported VPC, whose routes already exist.
    cluster.node.add_dependency(subnets.internet_connectivity_established)
    return cluster


def _acknowledge_cluster(cluster: emr.CfnCluster) -> None:
    acknowledge(
        cluster,
        "AwsSolutions-EMR4",
        "The security configuration enables local disk encryption (EncryptionConfiguration."
        "AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration, AWS KMS, EBS included); cdk-nag 3.0.2 "
        "looks for those keys at the top level of the JSON, where EMR does not accept them.",
    )
    acknowledge(
        cluster,
        "AwsSolutions-EMR5",
        "The security configuration enables in-transit encryption (EncryptionConfiguration."
        "InTransitEncryptionConfiguration with PEM certificates); cdk-nag 3.0.2 looks for those keys at the "
        "top level of the JSON, where EMR does not accept them.",
    )
    acknowledge(
        cluster,
        "AwsSolutions-EMR6",
        "Nobody logs in to the nodes: there is no key pair and no SSH rule, and work reaches the cluster "
        "only as EMR steps through the IAM-authorized EMR API, so there is no interactive user to authenticate.",
    )
