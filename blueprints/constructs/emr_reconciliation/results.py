"""Results and events: the topic a requester subscribes to, and EMR's step state changes published on it."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_emr as emr
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import (
    SecureQueue,
    TopicRuleTarget,
    acknowledge,
    allow_eventbridge_to_use_key,
    secure_topic,
)

#: Where the job writes each request's outcome in the control bucket (the submitter's results_uri).
RESULTS_PREFIX = "results/"


def create_results_topic(scope: Construct, key: kms.IKey) -> sns.ITopic:
    """The topic of every outcome: the submitter's rejections and EMR's step state changes."""
    return secure_topic(scope, "Results", key=key, display_name="Reconciliation results")


def publish_step_events(
    scope: Construct, *, topic: sns.ITopic, key: kms.IKey, cluster: emr.CfnCluster, control_bucket: s3.IBucket
) -> tuple[sqs.IQueue, events.IRule]:
    """EMR step state changes of ``cluster`` go to ``topic``, with the step name as the request id.

    Returns the dead-letter queue of the deliveries that failed, and the rule.
    """
    allow_eventbridge_to_use_key(scope, key, "EventBridgePublishesResults")
    dead_letter_queue = SecureQueue.dead_letter(scope, "UndeliveredResults")
    acknowledge(
        dead_letter_queue,
        "AwsSolutions-SQS3",
        "This queue is the dead-letter queue of the step-events rule's SNS target (DeadLetterConfig of the "
        "EventBridge target), which cdk-nag does not trace.",
    )
    rule = events.Rule(
        scope,
        "StepEvents",
        description="EMR step state changes of the reconciliation cluster, to the results topic",
        event_pattern=events.EventPattern(
            source=["aws.emr"],
            detail_type=["EMR Step Status Change"],
            detail={"clusterId": [cluster.ref]},
        ),
        targets=[
            TopicRuleTarget(
                topic,
                message=_step_notification(control_bucket),
                dead_letter_queue=dead_letter_queue,
                retry_attempts=10,
                max_event_age=Duration.hours(24),
            )
        ],
    )
    return dead_letter_queue, rule


def _step_notification(control_bucket: s3.IBucket) -> events.RuleTargetInput:
    return events.RuleTargetInput.from_object(
        {
            "request_id": events.EventField.from_path("$.detail.name"),
            "state": events.EventField.from_path("$.detail.state"),
            "message": events.EventField.from_path("$.detail.message"),
            "step_id": events.EventField.from_path("$.detail.stepId"),
            "cluster_id": events.EventField.from_path("$.detail.clusterId"),
            "time": events.EventField.time,
            # Where the job writes the outcome (the submitter's results_uri): the reason a step
            # FAILED, which EMR's event does not carry.
            "results": f"s3://{control_bucket.bucket_name}/{RESULTS_PREFIX}"
            f"{events.EventField.from_path('$.detail.name')}.json",
        }
    )
