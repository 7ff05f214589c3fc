"""The service's key and buckets: the control bucket (requests, rejections, results, EMR logs) and the data."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import SecureBucket


def create_key(scope: Construct) -> kms.IKey:
    """A key with rotation for everything the service stores, retained when the stack is deleted."""
    return kms.Key(
        scope,
        "Key",
        enable_key_rotation=True,
        description="Encrypts the reconciliation requests, data, logs, ledger, topic and EMR disks",
        removal_policy=RemovalPolicy.RETAIN,
    )


def create_control_bucket(scope: Construct, key: kms.IKey, log_retention_days: int) -> s3.IBucket:
    """The bucket of requests, rejections, results and EMR logs (``logs/``, kept ``log_retention_days``)."""
    return SecureBucket(
        scope,
        "Control",
        encryption_key=key,
        lifecycle_rules=[
            s3.LifecycleRule(prefix="logs/", expiration=Duration.days(log_retention_days)),
            s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30)),
        ],
    )


def data_buckets_or_new(scope: Construct, key: kms.IKey, given: Sequence[s3.IBucket] | None) -> list[s3.IBucket]:
    """The buckets requests may read and write: ``given``, else one new bucket encrypted with ``key``."""
    return list(given) if given else [SecureBucket(scope, "Data", encryption_key=key)]
