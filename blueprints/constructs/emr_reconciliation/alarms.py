"""The alarms on what needs a person: dead-lettered requests, undelivered results, submitter errors."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import notify

_PERIOD = Duration.minutes(5)


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
        _at_least_one(
            scope,
            "DeadLetteredRequestsAlarm",
            "Reconciliation requests failed repeatedly and were dead-lettered: inspect, redrive",
            dead_letter_queue.metric_approximate_number_of_messages_visible(period=_PERIOD),
        ),
        _at_least_one(
            scope,
            "UndeliveredResultsAlarm",
            "EMR step results could not be published to the results topic",
            results_dead_letter_queue.metric_approximate_number_of_messages_visible(period=_PERIOD),
        ),
        _at_least_one(
            scope,
            "SubmitterErrorsAlarm",
            "The step submitter function failed (not a single request: the whole invocation)",
            submitter.metric_errors(period=_PERIOD),
            evaluation_periods=3,
        ),
    ]
    notify(topic, *alarms, ok=False)
    return list(alarms)


def _at_least_one(
    scope: Construct, id: str, description: str, metric: cloudwatch.IMetric, *, evaluation_periods: int = 1
) -> cloudwatch.Alarm:
    """An alarm when ``metric`` is 1 or more in ``evaluation_periods`` periods in a row; no data is no alarm."""
    return cloudwatch.Alarm(
        scope,
        id,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=evaluation_periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
