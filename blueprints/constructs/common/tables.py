"""DynamoDB tables with the library's defaults."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct


def secure_table(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    partition_key: str,
    time_to_live_attribute: str | None = None,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> dynamodb.Table:
    """An on-demand table keyed by the string ``partition_key``, encrypted with the customer managed ``key``
    (whose grants then say who reads it, beside IAM), with point-in-time recovery and an optional TTL attribute.

    Retained with its stack by default: pass ``RemovalPolicy.DESTROY`` for state that is rebuilt on its own
    (a health record, a lock), whose retained copy would only stop the stack from being created again.
    """
    return dynamodb.Table(
        scope,
        id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=key,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=time_to_live_attribute,
        removal_policy=removal_policy,
    )
