"""The way in: the request queue, the ledger of request ids, and the Lambda function that turns requests into steps."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import LAMBDAS_DIR, PythonHandler, SecureQueue, acknowledge, present, secure_table
from blueprints.constructs.emr_reconciliation.artifacts import code_with_contract

#: The submitter's handler folder under ``blueprints/lambdas/``.
SUBMITTER = "emr_reconciliation_submitter"
#: The submitter's Powertools service name: the ``service`` dimension of its metrics and the ``service`` key of its
#: logs. It differs from the folder's name on purpose: deployed dashboards, alarms and log queries select on it.
SUBMITTER_SERVICE = "emr_step_submitter"
#: The submitter's request metrics (Powertools ``service`` = ``SUBMITTER_SERVICE``), by the outcome they count.
REQUEST_METRICS = {
    "submitted": "RequestsSubmitted",
    "rejected": "RequestsRejected",
    "deferred": "RequestsDeferred",
    "failed": "RequestsFailed",
    "duplicate": "DuplicateRequests",
    "recovered": "InterruptedSubmissionsRecovered",
}


def deferral_seconds(receives: int) -> int:
    """How long the submitter keeps a request it cannot submit before it is dead-lettered: its visibility
    timeouts start at 30 seconds and double with each receive, up to 15 minutes."""
    return sum(min(30 * 2**i, 900) for i in range(receives))


def create_request_queue(
    scope: Construct,
    key: kms.IKey,
    *,
    submitter_timeout: Duration,
    retention: Duration,
    max_receive_count: int,
) -> tuple[sqs.IQueue, sqs.IQueue]:
    """The request queue and its dead-letter queue; a message stays invisible for six submitter timeouts."""
    queue = SecureQueue(
        scope,
        "Requests",
        encryption_key=key,
        visibility_timeout=Duration.seconds(submitter_timeout.to_seconds() * 6),
        retention_period=retention,
        max_receive_count=max_receive_count,
    )
    return queue, present(queue.dead_letters, "the request queue's DLQ")


def create_ledger(scope: Construct, key: kms.IKey) -> dynamodb.ITable:
    """One item per request id, which the submitter claims before it adds a step; entries expire (``expires_at``).
    Retained with the stack: it is what stops a request id from running twice."""
    return secure_table(scope, "Ledger", key=key, partition_key="request_id", time_to_live_attribute="expires_at")


def create_submitter(
    scope: Construct,
    *,
    queue: sqs.IQueue,
    code: lambda_.Code | None,
    timeout: Duration,
    max_concurrency: int,
    environment: Mapping[str, str],
) -> PythonHandler:
    """The function that polls ``queue`` in batches of 10 and reports each failed request on its own.

    Its package is the handler folder with the request contract beside it, unless ``code`` is given.
    """
    submitter = PythonHandler(
        scope,
        "Submitter",
        name=SUBMITTER,
        service_name=SUBMITTER_SERVICE,
        description="adds one EMR Spark step per reconciliation request from the request queue",
        code=code or code_with_contract(LAMBDAS_DIR / SUBMITTER),
        timeout=timeout,
        sync_caller="the SQS event source mapping",
        environment=environment,
    )
    submitter.function.add_event_source(
        event_sources.SqsEventSource(
            queue, batch_size=10, report_batch_item_failures=True, max_concurrency=max_concurrency
        )
    )
    for child in submitter.function.node.children:
        if isinstance(child, lambda_.EventSourceMapping):
            acknowledge(
                child,
                "Serverless-LambdaEventSourceMappingDestination",
                "Lambda supports on-failure destinations only for stream and Kafka sources; for this SQS "
                "source a request that keeps failing moves to the queue's dead-letter queue (redrive policy).",
            )
    return submitter
