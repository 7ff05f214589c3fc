"""The alarms on what needs a person: dead-lettered requests, undelivered results, submitter errors."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import notify


def create_alarms(
    scope: Construct,
    *,
    dead_letter_queue: sqs.IQueue,
    results_dead_letter_queue: sqs.IQueue,
    submitter: lambda_.IFunction,
    topic: sns.ITopic,
) -> list[cloudwatch.IAlarm]:
    """One alarm per failure a person must look at, each notifying ``topic``."""
    alarms = [
        cloudwatch.Alarm(
            scope,
            "DeadLetteredRequestsAlarm",
            alarm_description="Reconciliation requests failed repeatedly and were dead-lettered: inspect, redrive",
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
        cloudwatch.Alarm(
            scope,
            "UndeliveredResultsAlarm",
            alarm_description="EMR step results could not be published to the results topic",
            metric=results_dead_letter_queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
        cloudwatch.Alarm(
            scope,
            "SubmitterErrorsAlarm",
            alarm_description="The step submitter function failed (not a single request: the whole invocation)",
            metric=submitter.metric_errors(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        ),
    ]
    notify(topic, *alarms, ok=False)
    return list(alarms)
