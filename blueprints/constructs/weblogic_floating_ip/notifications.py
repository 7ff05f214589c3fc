"""The admin server's key, its encrypted notification topic, the publishers both admit, and the DLQ alarm."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import allow_alarms_to_use_key, allow_eventbridge_to_use_key, secure_topic


def create_key(scope: Construct) -> kms.IKey:
    """The customer managed key of the domain home and the topic: rotated, retained."""
    return kms.Key(
        scope,
        "Key",
        description="Encrypts the WebLogic admin server's domain home (EFS) and its notification topic",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def allow_publishers_to_use_key(scope: Construct, key: kms.IKey) -> None:
    """Let EventBridge (scaling events) and CloudWatch (the dead-letter alarm) encrypt messages to the topic."""
    allow_eventbridge_to_use_key(scope, key, "EventBridgePublishesToTopic")
    allow_alarms_to_use_key(scope, key, "CloudWatchAlarmsPublishToTopic")


def create_topic(scope: Construct, key: kms.IKey) -> sns.ITopic:
    """The failover notifications: encrypted with ``key``, TLS-only."""
    return secure_topic(scope, "Notifications", key=key, display_name="WebLogic admin server failover")


def create_dead_letter_alarm(scope: Construct, queue: sqs.IQueue, topic: sns.ITopic) -> cloudwatch.IAlarm:
    """An alarm to ``topic`` as soon as a launch event lands in the route mover's DLQ."""
    alarm = cloudwatch.Alarm(
        scope,
        "DeadLettersAlarm",
        alarm_description="A launch event of the WebLogic admin server group could not be handled; see the DLQ",
        metric=queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(1), statistic="Maximum"),
        threshold=1,
        evaluation_periods=1,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    return alarm
