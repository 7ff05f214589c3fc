"""Buckets, queues and access logs with the library's defaults."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    ArnFormat,
    Duration,
    FeatureFlags,
    RemovalPolicy,
    Stack,
    Token,
    region_info,
)
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common.checks import acknowledge, skip_checkov
from blueprints.constructs.common.grants import service_grant

#: The encryptions a :class:`SecureBucket` takes: a customer managed KMS key, or S3-managed keys for buckets that
#: services which cannot use KMS write to (S3 server access logs, ALB access logs).
_BUCKET_ENCRYPTIONS = (s3.BucketEncryption.KMS, s3.BucketEncryption.S3_MANAGED)
#: Removal policies a bucket can have (CloudFormation has no snapshot of a bucket).
_BUCKET_REMOVAL_POLICIES = (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)


def _log_delivery_by_bucket_policy(scope: Construct) -> bool:
    """Whether S3 server access logs are granted by bucket policy (the recommended feature flag,
    set in this project's cdk.json) rather than by the legacy ACL, which needs ObjectWriter."""
    return FeatureFlags.of(scope).is_enabled("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy") is True


#: Why a bucket that only a log delivery service writes to (S3 server access logs, ALB access logs) is not versioned.
UNVERSIONED_LOGS = (
    "Only the log delivery service writes here, each object once under a key of its own, never overwritten; "
    "versioning would only keep a copy of each log past its lifecycle expiry."
)


class SecureBucket(s3.Bucket):
    """An S3 bucket with the library's defaults.

    TLS-only bucket policy, public access blocked, object ownership enforced,
    encryption at rest (KMS by default), versioning, server access logs to a
    sibling log bucket (or one passed in), and retention on stack deletion
    for data buckets.

    A bucket with ``removal_policy=RemovalPolicy.DESTROY`` is deleted with its stack, but CloudFormation deletes
    only an empty bucket (all versions included): use it for buckets that are empty when the stack goes (e.g.
    staging), and retain anything that services write to (access logs).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption: s3.BucketEncryption = s3.BucketEncryption.KMS,
        encryption_key: kms.IKey | None = None,
        versioned: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
        access_log_destination: bool = False,
        lifecycle_rules: Sequence[s3.LifecycleRule] | None = None,
        bucket_name: str | None = None,
        event_bridge_enabled: bool | None = None,
    ) -> None:
        """Create the bucket (and its access-log bucket unless given).

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            encryption: ``s3.BucketEncryption.KMS`` or ``s3.BucketEncryption.S3_MANAGED``.
                Default: ``s3.BucketEncryption.KMS``.
            encryption_key: The KMS key; only with ``s3.BucketEncryption.KMS``.
                Default: ``None``: a new key with rotation.
            versioned: Keep object versions.
                Default: ``True``.
            removal_policy: ``RETAIN`` (or ``RETAIN_ON_UPDATE_OR_DELETE``) keeps the bucket when the stack goes;
                ``DESTROY`` deletes it (only when empty). Its access-log bucket gets the same.
                Default: ``RemovalPolicy.RETAIN``.
            server_access_logs_bucket: Where server access logs go.
                Default: ``None``: a sibling log bucket.
            server_access_logs_prefix: Key prefix of the access logs.
                Default: ``None``.
            access_log_destination: This bucket receives access logs itself (needs ``S3_MANAGED``).
                Default: ``False``.
            lifecycle_rules: Lifecycle rules of the bucket.
                Default: ``None``.
            bucket_name: A physical name.
                Default: ``None``: generated.
            event_bridge_enabled: Send the bucket's events to EventBridge.
                Default: ``None``: off.

        Attributes:
            server_access_logs_bucket (s3.IBucket | None)
        """
        if encryption not in _BUCKET_ENCRYPTIONS:
            raise ValueError(
                f"encryption must be s3.BucketEncryption.KMS or s3.BucketEncryption.S3_MANAGED; got {encryption}"
            )
        if removal_policy not in _BUCKET_REMOVAL_POLICIES:
            raise ValueError(
                "removal_policy must be RemovalPolicy.RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY (a bucket has "
                f"no snapshot); got {removal_policy}"
            )
        if encryption_key is not None and encryption is not s3.BucketEncryption.KMS:
            raise ValueError(
                "encryption_key is only used with encryption=s3.BucketEncryption.KMS; "
                f"got encryption={encryption} and an encryption_key"
            )
        if access_log_destination and server_access_logs_bucket is not None:
            raise ValueError(
                "an access_log_destination bucket does not log to another bucket; "
                "pass either access_log_destination=True or server_access_logs_bucket, not both"
            )
        if access_log_destination and encryption is s3.BucketEncryption.KMS:
            raise ValueError(
                "S3 server access logs can only be delivered to a bucket with S3-managed "
                "encryption; use encryption=s3.BucketEncryption.S3_MANAGED for access_log_destination"
            )
        logs_bucket = server_access_logs_bucket
        if not access_log_destination and logs_bucket is None:
            logs_bucket = SecureBucket(
                scope,
                f"{id}AccessLogs",
                encryption=s3.BucketEncryption.S3_MANAGED,
                access_log_destination=True,
                removal_policy=removal_policy,
                versioned=False,
                lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            )
        super().__init__(
            scope,
            id,
            bucket_name=bucket_name,
            encryption=encryption,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption is s3.BucketEncryption.KMS,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=(
                s3.ObjectOwnership.OBJECT_WRITER
                if access_log_destination and not _log_delivery_by_bucket_policy(scope)
                else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            versioned=versioned,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix or (f"{id}/" if logs_bucket else None),
            lifecycle_rules=list(lifecycle_rules) if lifecycle_rules else None,
            removal_policy=removal_policy,
            auto_delete_objects=False,
            event_bridge_enabled=event_bridge_enabled,
        )
        self.server_access_logs_bucket = logs_bucket
        if access_log_destination:
            acknowledge(
                self,
                "AwsSolutions-S1",
                "This bucket is the server access log destination; logging it into itself "
                "would loop, and S3 records its own writes in CloudTrail data events if enabled.",
                checkov=["CKV_AWS_18"],
            )
            if not versioned:
                skip_checkov(self, ["CKV_AWS_21"], UNVERSIONED_LOGS)


class SecureQueue(sqs.Queue):
    """An SQS queue with the library's defaults: KMS or SQS-managed encryption,
    TLS-only policy, and a dead-letter queue (unless it is one)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        visibility_timeout: Duration = Duration.seconds(30),
        retention_period: Duration = Duration.days(4),
        dead_letter_queue: sqs.IQueue | None = None,
        max_receive_count: int = 5,
        is_dead_letter_queue: bool = False,
    ) -> None:
        """Create the queue and, unless it is one, its dead-letter queue.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            encryption_key: KMS key of the queue (and of its new dead-letter queue).
                Default: ``None``: SQS-managed encryption.
            visibility_timeout: The queue's visibility timeout.
                Default: 30 seconds.
            retention_period: How long a message is kept.
                Default: 4 days.
            dead_letter_queue: A dead-letter queue of yours; refused with ``is_dead_letter_queue``.
                Default: ``None``: a new one.
            max_receive_count: Receives before a message moves to the dead-letter queue, at least 1.
                Default: 5.
            is_dead_letter_queue: This queue is itself a dead-letter queue (it gets none).
                Default: ``False``.

        Attributes:
            dead_letters (sqs.IQueue | None)
        """
        if is_dead_letter_queue and dead_letter_queue is not None:
            raise ValueError("a queue that is a dead-letter queue takes no dead_letter_queue of its own")
        if max_receive_count < 1:
            raise ValueError(f"max_receive_count must be at least 1; got {max_receive_count}")
        self.dead_letters: sqs.IQueue | None = None
        if not is_dead_letter_queue:
            self.dead_letters = dead_letter_queue or SecureQueue(
                scope,
                f"{id}DeadLetters",
                encryption_key=encryption_key,
                is_dead_letter_queue=True,
                retention_period=Duration.days(14),
            )
        super().__init__(
            scope,
            id,
            encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=retention_period,
            dead_letter_queue=(
                sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=max_receive_count)
                if self.dead_letters
                else None
            ),
        )
        if encryption_key is None:
            skip_checkov(
                self,
                ["CKV_AWS_27"],
                "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled, set by CDK's SQS_MANAGED); "
                "checkov's CKV_AWS_27 counts only KmsMasterKeyId. Pass encryption_key for a customer managed key.",
            )
        if is_dead_letter_queue:
            acknowledge(
                self,
                "Serverless-SQSRedrivePolicy",
                "This queue is itself a dead-letter queue: its messages stay here for inspection "
                "and redrive; a further redrive target would only move the same failures again.",
            )

    @classmethod
    def dead_letter(cls, scope: Construct, id: str, *, encryption_key: kms.IKey | None = None) -> SecureQueue:
        """A dead-letter queue that keeps messages for the 14-day maximum."""
        return cls(
            scope, id, encryption_key=encryption_key, is_dead_letter_queue=True, retention_period=Duration.days(14)
        )


def log_alb_access_logs(load_balancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: str) -> None:
    """Turn on the load balancer's access logs into ``bucket`` under ``prefix``, with the grants AWS documents.

    This replaces ``ApplicationLoadBalancer.log_access_logs``, whose two grants to ``delivery.logs.amazonaws.com``
    carry no source condition. Elastic Load Balancing itself writes as its Regional account (Regions before
    August 2022) or as ``logdelivery.elasticloadbalancing.amazonaws.com`` (newer Regions), and the ALB user
    guide gives both grants with no source condition: an account principal is not a service principal, so it
    sends no aws:SourceAccount, and the service principal documents none (see
    :data:`UNSOURCED_SERVICE_GRANTS`). What limits them is the object path ``<prefix>/AWSLogs/<this account>/``.
    The ``delivery.logs.amazonaws.com`` grants (kept as CDK writes them, for log types delivered through
    CloudWatch's log-delivery service) are bound to this account's log deliveries with the aws:SourceAccount
    and aws:SourceArn the ELB user guide documents for that principal ('Enable access logs for your Network
    Load Balancer').
    """
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "AWSLogs" in prefix:
        raise ValueError(
            "prefix must be a non-empty S3 key prefix with no leading or trailing '/' that does not contain "
            f"'AWSLogs' (Elastic Load Balancing adds AWSLogs/<account>/ itself); got {prefix!r}"
        )
    stack = Stack.of(load_balancer)
    if Token.is_unresolved(stack.region):
        raise ValueError(
            "ALB access logs need the stack's Region at synthesis (the log-delivery principal differs by Region); "
            "give the stack an env with a region"
        )
    load_balancer.set_attribute("access_logs.s3.enabled", "true")
    load_balancer.set_attribute("access_logs.s3.bucket", bucket.bucket_name)
    load_balancer.set_attribute("access_logs.s3.prefix", prefix)
    log_objects = bucket.arn_for_objects(f"{prefix}/AWSLogs/{stack.account}/*")
    elb_account = region_info.RegionInfo.get(stack.region).elbv2_account
    if elb_account:
        elb_grant = iam.PolicyStatement(
            principals=[iam.AccountPrincipal(elb_account)], actions=["s3:PutObject"], resources=[log_objects]
        )
    else:
        elb_grant = service_grant(
            load_balancer,
            service="logdelivery.elasticloadbalancing.amazonaws.com",
            actions=["s3:PutObject"],
            resources=[log_objects],
            source_account=False,
        )
    bucket.add_to_resource_policy(elb_grant)
    log_delivery_sources = stack.format_arn(service="logs", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME)
    bucket.add_to_resource_policy(
        service_grant(
            load_balancer,
            service="delivery.logs.amazonaws.com",
            actions=["s3:PutObject"],
            resources=[log_objects],
            source_arn=log_delivery_sources,
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        )
    )
    bucket.add_to_resource_policy(
        service_grant(
            load_balancer,
            service="delivery.logs.amazonaws.com",
            actions=["s3:GetBucketAcl"],
            resources=[bucket.bucket_arn],
            source_arn=log_delivery_sources,
        )
    )
    # ELB checks its access to the bucket when the attribute is set: the policy must exist first.
    cfn_load_balancer = load_balancer.node.default_child
    cfn_policy = bucket.policy.node.default_child if bucket.policy else None
    if isinstance(cfn_load_balancer, elbv2.CfnLoadBalancer) and cfn_policy is not None:
        cfn_load_balancer.add_resource_dependency(cfn_policy)  # type: ignore[arg-type]
