"""The MWAA DR pair's grants: key use limited to the service that calls KMS (``kms:ViaService``), the S3
actions of CDK's bucket grants without their unconditioned key grants, and the primary's cross-Region
replication to the DR Region's buckets and replica key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import PUBLISH_KEY_ACTIONS, acknowledge, acknowledge_wildcard, narrowed
from blueprints.constructs.mwaa_dr.options import replica_key_alias

#: KMS actions of CDK's read, write (bucket, key) and SNS publish grants, the same actions; each statement
#: also carries kms:ViaService (``_grant_key_via``).
_KEY_READ = ("kms:Decrypt", "kms:DescribeKey")
_KEY_WRITE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")
_KEY_PUBLISH = PUBLISH_KEY_ACTIONS


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
    acknowledge_wildcard(
        role,
        f"{bucket.bucket_arn}/*",
        "S3 replication reads every object version of the source bucket; the statement is limited to that bucket.",
    )
    acknowledge_wildcard(
        role,
        f"{destination_arn}/*",
        "S3 replication writes every replicated object into the DR bucket, whose name is derived from the "
        "account, the DR Region and the prefix (no cross-Region reference is possible).",
    )


def _replicate_to_dr(
    scope: Construct,
    *,
    environment_name: str,
    targets: Sequence[tuple[s3.IBucket, str]],
    source_keys: Sequence[kms.IKey],
    dr_region: str,
    name_prefix: str,
    replication_time_control: bool,
) -> iam.Role:
    """The primary's replication role (``ReplicationRole`` in ``scope``), replicating each bucket of ``targets`` to
    the DR bucket named beside it: it decrypts with ``source_keys`` via S3 in this Region, and encrypts with the
    DR Region's replica key, which it can name only by its alias (no cross-Region reference is possible)."""
    role = iam.Role(
        scope,
        "ReplicationRole",
        assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
        description=f"Replicates the MWAA DR buckets of {environment_name} to {dr_region}",
    )
    for bucket, target in targets:
        _replicate(
            scope,
            role=role,
            bucket=narrowed(bucket, s3.Bucket, "a DR bucket"),
            destination_bucket=target,
            dr_region=dr_region,
            name_prefix=name_prefix,
            replication_time_control=replication_time_control,
        )
    stack = Stack.of(scope)
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key.key_arn for key in source_keys],
            conditions={"StringLike": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
        )
    )
    replica_keys = stack.format_arn(service="kms", region=dr_region, resource="key", resource_name="*")
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Encrypt", "kms:GenerateDataKey"],
            resources=[replica_keys],
            conditions={
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": replica_key_alias(name_prefix)},
                "StringLike": {"kms:ViaService": f"s3.{dr_region}.amazonaws.com"},
            },
        )
    )
    acknowledge_wildcard(
        role,
        replica_keys,
        "The replica key lives in the DR stack and cannot be referenced across Regions; the statement is "
        f"narrowed by condition to the key with alias {replica_key_alias(name_prefix)}, used via S3 in "
        f"{dr_region}.",
    )
    return role
