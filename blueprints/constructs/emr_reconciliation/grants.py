"""Who may do what: the cluster's roles, the nodes' and the submitter's permissions, and why each wildcard is there.

Every statement is scoped to the construct's own resources: the nodes read their job, their requests and the
data buckets, and write logs and results; the submitter writes requests and rejections, keeps the ledger and adds
steps to its one cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.common import acknowledge, acknowledge_wildcard
from blueprints.constructs.emr_reconciliation.results import RESULTS_PREFIX


@dataclass(frozen=True)
class ClusterRoles:
    """The nodes' role and its instance profile, and the EMR service role."""

    instance_role: iam.IRole
    instance_profile: iam.CfnInstanceProfile
    service_role: iam.IRole


def create_cluster_roles(scope: Construct, key: kms.IKey) -> ClusterRoles:
    """The nodes' role and its instance profile, and the EMR service role, which may pass the nodes' role to EC2
    and encrypt the nodes' volumes with ``key``."""
    stack = Stack.of(scope)
    instance_role = iam.Role(
        scope,
        "InstanceRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description="EMR reconciliation cluster nodes: the job, its request, the data buckets and the logs",
    )
    instance_profile = iam.CfnInstanceProfile(scope, "InstanceProfile", roles=[instance_role.role_name])
    service_role = iam.Role(
        scope,
        "ServiceRole",
        assumed_by=iam.ServicePrincipal(
            "elasticmapreduce.amazonaws.com",
            # AWS's documented trust policy for the EMR service role (Management Guide, "Service role for Amazon
            # EMR (EMR role)"): this account, and any EMR resource of this account in this Region. A narrower source
            # ARN such as cluster/* is not documented to cover every call EMR makes with the role, and a refused
            # AssumeRole fails the cluster's launch, so the documented form is used as it is.
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
        service_role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2]",
        "AmazonEMRServicePolicy_v2 is AWS's scoped EMR service policy: EC2 actions only on resources tagged "
        "for-use-with-amazon-emr-managed-policies=true, which here are this cluster's subnets and security "
        "groups; AWS keeps it current as EMR needs change, which a hand-copied policy would not.",
    )
    _grant_service_role(service_role, instance_role, key)
    return ClusterRoles(instance_role, instance_profile, service_role)


def _grant_service_role(role: iam.IRole, instance_role: iam.IRole, key: kms.IKey) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="PassTheInstanceRole",
            actions=["iam:PassRole"],
            resources=[instance_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
        )
    )
    # EBS encryption with the key: EMR creates the encrypted volumes through grants for EC2.
    role.add_to_principal_policy(
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
            resources=[key.key_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="GrantVolumeEncryption",
            actions=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            resources=[key.key_arn],
            conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        )
    )


def grant_instance_role(
    role: iam.IRole,
    *,
    control: s3.IBucket,
    data_buckets: Sequence[s3.IBucket],
    key: kms.IKey,
    job: Sequence[s3_assets.Asset],
    certificates: tuple[str, str],
) -> None:
    """What a step needs on the nodes: its request, logs and results in the control bucket, the job's assets
    (``job``) and the in-transit certificates (bucket, key), EMR's artifacts, the data buckets, and the keys."""
    stack = Stack.of(role)
    partition, region = stack.partition, stack.region
    _grant_control_prefixes(role, control)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ReadJob",
            actions=["s3:GetObject"],
            resources=[
                *(asset.bucket.arn_for_objects(asset.s3_object_key) for asset in job),
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
    _grant_data(role, data_buckets, key)
    _acknowledge_instance_role(role, control, data_buckets, f"arn:{partition}:s3:::{region}.elasticmapreduce/*")


def _grant_control_prefixes(role: iam.IRole, control: s3.IBucket) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ReadRequests", actions=["s3:GetObject"], resources=[control.arn_for_objects("requests/*")]
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="WriteLogs", actions=["s3:PutObject"], resources=[control.arn_for_objects("logs/*")])
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


def _grant_data(role: iam.IRole, data_buckets: Sequence[s3.IBucket], key: kms.IKey) -> None:
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ListData",
            actions=["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
            resources=[b.bucket_arn for b in data_buckets],
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
            resources=[b.arn_for_objects("*") for b in data_buckets],
        )
    )
    keys = [key.key_arn] + [
        b.encryption_key.key_arn for b in data_buckets if b.encryption_key is not None and b.encryption_key is not key
    ]
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="UseKeys",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            resources=keys,
        )
    )


def _acknowledge_instance_role(
    role: iam.IRole, control: s3.IBucket, data_buckets: Sequence[s3.IBucket], emr_artifacts: str
) -> None:
    acknowledge_wildcard(
        role,
        control.arn_for_objects("requests/*"),
        "Each step reads its own request object, named for the request id; the nodes read only the "
        "requests/ prefix of the control bucket.",
    )
    acknowledge_wildcard(
        role,
        control.arn_for_objects("logs/*"),
        "EMR writes step, application and node logs under keys it chooses; the nodes write only the "
        "logs/ prefix of the control bucket.",
    )
    acknowledge_wildcard(
        role,
        control.arn_for_objects(f"{RESULTS_PREFIX}*"),
        "Each step writes (and EMRFS first looks up) its own results object, results/<request id>.json; the "
        "nodes write nothing else in the control bucket outside logs/.",
    )
    acknowledge_wildcard(
        role,
        emr_artifacts,
        "Read-only access to the Region's EMR-owned bucket of EMR artifacts, which the nodes fetch "
        "while they bootstrap; it holds no customer data.",
    )
    for bucket in data_buckets:
        acknowledge_wildcard(
            role,
            bucket.arn_for_objects("*"),
            "A data bucket holds the inputs and outputs that requests name by key; Spark reads, writes "
            "and replaces objects anywhere in it, and in no other bucket.",
        )


def grant_submitter(
    role: iam.IRole,
    *,
    control: s3.IBucket,
    ledger: dynamodb.ITable,
    cluster_arn: str,
    results_topic: sns.ITopic,
    key: kms.IKey,
) -> None:
    """What the submitter needs: write requests and rejections, keep the ledger, add and list steps on its
    cluster, publish rejections to the results topic, and use the key."""
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
            resources=[ledger.table_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="AddSteps",
            actions=["elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:ListSteps"],
            resources=[cluster_arn],
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(sid="Notify", actions=["sns:Publish"], resources=[results_topic.topic_arn])
    )
    for prefix in ("requests/*", "rejected/*"):
        acknowledge_wildcard(
            role,
            control.arn_for_objects(prefix),
            f"The submitter writes one object per request under {prefix[:-1]}, named for the request id "
            "or message id; it can write nothing else in the bucket.",
        )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="UseKey",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
        )
    )
