"""The alarms' notification topic."""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.common.grants import alarm_arn_pattern, service_grant


def _notification_key(scope: Construct, key: kms.IKey) -> None:
    """Let CloudWatch alarms publish to a topic encrypted with ``key``."""
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(
            service_grant(
                scope,
                sid="AllowCloudWatchAlarmsToPublish",
                service="cloudwatch.amazonaws.com",
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )


def alarm_notification_topic(scope: Construct, key: kms.IKey, topic: sns.ITopic | None) -> sns.ITopic:
    """The notification topic: ``topic`` as given (its owner must let CloudWatch alarms publish),
    or a new one encrypted with ``key`` that this account's alarms may publish to."""
    if topic is not None:
        return topic
    _notification_key(scope, key)
    created = sns.Topic(scope, "Notifications", master_key=key, enforce_ssl=True)
    # enforce_ssl writes a topic policy, which replaces SNS's default one (the one that lets the
    # account's alarms publish); without this statement CloudWatch's publish is denied.
    created.add_to_resource_policy(
        service_grant(
            scope,
            sid="CloudWatchAlarmsPublish",
            service="cloudwatch.amazonaws.com",
            actions=["sns:Publish"],
            resources=[created.topic_arn],
            source_arn=alarm_arn_pattern(scope),
        )
    )
    return created
