"""Turns reconciliation requests from SQS into Spark steps on the EMR cluster.

For each message: validate the request against the shared contract
(``emr_reconciliation_request``, which the construct packages next to this
module); reject an invalid one (a record under ``rejected/`` in the control
bucket and a REJECTED notification on the results topic, then the message is
consumed); otherwise claim the request id in the ledger table, write the request
to ``requests/<request_id>.json`` and add one ``spark-submit`` step named after
the request id, which writes its outcome to ``results/<request_id>.json``. The
contract refuses an output that overlaps an input or is a bucket root, so a
request is refused here, before any step, as the job would refuse it. At most
one step is added per request id:

* the claim is a conditional write, so a second delivery of a submitted request
  is recognised and dropped, a concurrent one is deferred, and another request
  reusing the id (a different digest) is rejected;
* a claim whose holder died before recording its step (its lease has expired)
  is resolved by looking for a step of that name created since the claim, and
  only if there is none is the step added again.

EMR's limit of 256 active steps, throttling and other refusals release the
claim and return the message to the queue with a growing visibility timeout
(the step was certainly not added); faults that leave it unknown whether the
step was added (a server error, a timeout, a dropped connection) keep the
claim, and the lease decides.

AddJobFlowSteps has no idempotency token, so each submission attempt sends it
once, with the SDK's retries off: those retries (on 5xx, timeouts and connection
errors) would add a second step whenever the first was added but its response was
lost, before the ledger could tell. Every other call is safe to repeat and keeps
the SDK's retries (a claim write repeated after a lost answer finds its own token).

Why a ledger of its own and not Powertools' Idempotency utility (which the
conventions name for idempotency): that utility saves an INPROGRESS record, runs
the function, and on any exception deletes the record so that the next delivery
runs it again. Here an exception after AddJobFlowSteps was sent (a timeout, a
dropped connection, a server error) does not mean the step was not added, so
deleting the record would let the next delivery add a second step. The utility
has no hook for the question this handler asks instead: has a step of this name
been created since the claim (ListSteps)? Nor can it return a message to the
queue with a delay of its own. So the claim and its lease are kept here, on the
same DynamoDB conditional-write primitive the utility uses.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from emr_reconciliation_request import REQUEST_ID, InvalidRequest, validate_request

logger = Logger()
metrics = Metrics()
# Report every failed record, even when all failed, so that each keeps the retry delay chosen for it.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

SUBMITTING = "SUBMITTING"
SUBMITTED = "SUBMITTED"
#: Visibility timeouts for a message sent back to the queue: doubling from the first, capped at the last.
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 900
#: Steps created this long before a claim still count when looking for a step a dead attempt added (clock skew).
CLOCK_SKEW_SECONDS = 300

#: Error codes that botocore's standard retry mode treats as transient (the request may have been processed).
UNKNOWN_OUTCOME_CODES = frozenset({"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"})
#: The key of the EMR client that adds steps: one attempt per call, never retried by the SDK.
ADD_STEPS_CLIENT = "emr:add-steps"

_RETRYING = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=15)
# One attempt, and a read timeout well inside the function's, so that a hung call is seen here (and its
# claim kept) rather than ending the whole batch.
_ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=20)

_clients: dict[str, Any] = {}


class RetryLater(Exception):
    """The request is fine but cannot be submitted now; the message returns to the queue after ``delay`` seconds."""

    def __init__(self, reason: str, delay: int | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


def _client(name: str) -> Any:
    """The client for ``name``, retrying per the SDK: for calls that are safe to repeat."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_RETRYING)
    return _clients[name]


def _add_steps_client() -> Any:
    """The EMR client for AddJobFlowSteps only: one attempt per call (the call is not idempotent)."""
    if ADD_STEPS_CLIENT not in _clients:
        _clients[ADD_STEPS_CLIENT] = boto3.client("emr", config=_ONE_ATTEMPT)
    return _clients[ADD_STEPS_CLIENT]


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"environment variable {name} is not set; the construct sets it")
    return value


def _step_name(request_id: str) -> str:
    return request_id


def results_uri(bucket: str, request_id: str) -> str:
    """Where the job writes the outcome of the request's step (the construct names the same place in the step
    notifications and grants the nodes exactly that prefix)."""
    return f"s3://{bucket}/results/{request_id}.json"


def _notify(request_id: str | None, state: str, message: str, **extra: Any) -> None:
    payload = {"request_id": request_id, "state": state, "message": message, **extra}
    _client("sns").publish(
        TopicArn=_env("RESULTS_TOPIC_ARN"),
        Message=json.dumps(payload),
        MessageAttributes={"state": {"DataType": "String", "StringValue": state}},
    )


def _request_id_of(body: str) -> str | None:
    """The request id of an invalid request, when it has a well-formed one, to address the rejection."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    candidate = document.get("request_id") if isinstance(document, dict) else None
    return candidate if isinstance(candidate, str) and REQUEST_ID.match(candidate) else None


def _reject(record: SQSRecord, reason: str) -> None:
    """Record why a request was refused, then tell the requester; the message is then consumed."""
    request_id = _request_id_of(record.body)
    key = f"rejected/{request_id or 'unidentified'}/{record.message_id}.json"
    bucket = _env("CONTROL_BUCKET")
    _client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(
            {
                "request_id": request_id,
                "message_id": record.message_id,
                "reason": reason,
                "rejected_at": int(time.time()),
                "body": record.body,
            }
        ).encode(),
        ContentType="application/json",
    )
    _notify(request_id, "REJECTED", reason, record=f"s3://{bucket}/{key}")
    logger.warning("request rejected", extra={"request_id": request_id, "reason": reason, "record": key})
    metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)


def _check_buckets(request: dict[str, Any]) -> None:
    """Refuse inputs or outputs outside the data buckets the cluster may use, before Spark finds out."""
    allowed = [b for b in os.environ.get("DATA_BUCKETS", "").split(",") if b]
    places = [(f"inputs.{name}.uri", spec["uri"]) for name, spec in request["inputs"].items()]
    places.append(("output.uri", request["output"]["uri"]))
    for path, uri in places:
        bucket = uri[len("s3://") :].split("/", 1)[0]
        if bucket not in allowed:
            raise InvalidRequest(
                path, f"bucket {bucket!r} is not one the cluster may use", "s3:// URIs in " + ", ".join(allowed)
            )


def _backoff(record: SQSRecord) -> int:
    receives = int(record.attributes.approximate_receive_count or "1")
    return int(min(BACKOFF_FIRST_SECONDS * 2 ** max(receives - 1, 0), BACKOFF_MAX_SECONDS))


def _ledger() -> Any:
    return _client("dynamodb")


def _claim(request_id: str, digest: str, message_id: str, now: int) -> str | None:
    """Claim the request id. Returns the claim token, or None if the request already has its step.

    Raises InvalidRequest when the id is already taken by a request with other content.
    """
    table = _env("LEDGER_TABLE")
    lease = int(_env("LEASE_SECONDS"))
    token = os.urandom(16).hex()
    item = {
        "request_id": {"S": request_id},
        "status": {"S": SUBMITTING},
        "claim": {"S": token},
        "claimed_at": {"N": str(now)},
        "lease_until": {"N": str(now + lease)},
        "message_id": {"S": message_id},
        "digest": {"S": digest},
        "expires_at": {"N": str(now + int(_env("LEDGER_TTL_DAYS")) * 86400)},
    }
    try:
        _ledger().put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(request_id)")
        return token
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    existing = _ledger().get_item(TableName=table, Key={"request_id": {"S": request_id}}, ConsistentRead=True)
    held = existing.get("Item")
    if held is None:
        raise RetryLater(f"claim on {request_id} was released while checking it", delay=BACKOFF_FIRST_SECONDS)
    if held.get("claim", {}).get("S") == token:
        # Our own write: the SDK retried a PutItem whose success response was lost.
        return token
    if held.get("digest", {}).get("S", digest) != digest:
        raise InvalidRequest(
            "request_id",
            f"{request_id!r} is already taken by a request with other content ({held['status']['S'].lower()}"
            + (f" as step {held['step_id']['S']})" if "step_id" in held else ")"),
            "a new request_id for a changed request",
        )
    if held["status"]["S"] == SUBMITTED:
        logger.info(
            "duplicate delivery of a submitted request dropped",
            extra={"request_id": request_id, "step_id": held.get("step_id", {}).get("S")},
        )
        metrics.add_metric(name="DuplicateRequests", unit=MetricUnit.Count, value=1)
        return None
    lease_until = int(held["lease_until"]["N"])
    if lease_until > now:
        raise RetryLater(f"request {request_id} is being submitted by another attempt", delay=lease_until - now + 5)
    # The holder died between claiming and recording its step: did it add the step?
    step_id = _find_step(request_id, since=int(held["claimed_at"]["N"]))
    if step_id is not None:
        _mark_submitted(request_id, step_id, held["claim"]["S"])
        logger.info("step of an interrupted attempt found and recorded", extra={"request_id": request_id})
        metrics.add_metric(name="InterruptedSubmissionsRecovered", unit=MetricUnit.Count, value=1)
        return None
    try:
        _ledger().update_item(
            TableName=table,
            Key={"request_id": {"S": request_id}},
            UpdateExpression=(
                "SET claim = :new, claimed_at = :now, lease_until = :lease, message_id = :msg, digest = :digest"
            ),
            ConditionExpression="claim = :old AND #status = :submitting",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":new": {"S": token},
                ":old": held["claim"],
                ":now": {"N": str(now)},
                ":lease": {"N": str(now + lease)},
                ":msg": {"S": message_id},
                ":digest": {"S": digest},
                ":submitting": {"S": SUBMITTING},
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise RetryLater(f"another attempt took over request {request_id}", delay=BACKOFF_FIRST_SECONDS) from None
    return token


def _find_step(request_id: str, since: int) -> str | None:
    """The id of a step named for the request created since ``since`` (epoch seconds), if any.

    ListSteps returns the newest steps first, so paging stops at the first page that reaches back before the claim.
    """
    cutoff = since - CLOCK_SKEW_SECONDS
    name = _step_name(request_id)
    for page in _client("emr").get_paginator("list_steps").paginate(ClusterId=_env("CLUSTER_ID")):
        oldest = None
        for step in page.get("Steps", []):
            if step.get("Name") == name:
                return str(step["Id"])
            created = step.get("Status", {}).get("Timeline", {}).get("CreationDateTime")
            if created is not None:
                stamp = created.timestamp()
                oldest = stamp if oldest is None else min(oldest, stamp)
        if oldest is not None and oldest < cutoff:
            break
    return None


def _mark_submitted(request_id: str, step_id: str, token: str) -> None:
    try:
        _ledger().update_item(
            TableName=_env("LEDGER_TABLE"),
            Key={"request_id": {"S": request_id}},
            UpdateExpression="SET #status = :submitted, step_id = :step, submitted_at = :now REMOVE lease_until",
            ConditionExpression="claim = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":submitted": {"S": SUBMITTED},
                ":step": {"S": step_id},
                ":now": {"N": str(int(time.time()))},
                ":token": {"S": token},
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # Only possible if this attempt outlived its lease; the step exists, so say so loudly.
        logger.error("step added but the claim had been taken over", extra={"request_id": request_id, "step": step_id})


def _release(request_id: str, token: str) -> None:
    """Give up the claim after EMR refused the step, so the next delivery can submit at once."""
    try:
        _ledger().delete_item(
            TableName=_env("LEDGER_TABLE"),
            Key={"request_id": {"S": request_id}},
            ConditionExpression="claim = :token AND #status = :submitting",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":token": {"S": token}, ":submitting": {"S": SUBMITTING}},
        )
    except ClientError as error:
        # The lease still lets a later delivery proceed, so a failed release only delays it.
        logger.warning("could not release the claim", extra={"request_id": request_id, "error": str(error)})


def _add_step(request: dict[str, Any], token: str, record: SQSRecord) -> None:
    request_id = request["request_id"]
    bucket = _env("CONTROL_BUCKET")
    key = f"requests/{request_id}.json"
    try:
        _client("s3").put_object(
            Bucket=bucket, Key=key, Body=json.dumps(request).encode(), ContentType="application/json"
        )
    except ClientError:
        _release(request_id, token)
        raise
    step = {
        "Name": _step_name(request_id),
        "ActionOnFailure": "CONTINUE",
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": [
                "spark-submit",
                "--deploy-mode",
                "cluster",
                "--py-files",
                _env("PY_FILES_URI"),
                _env("JOB_SCRIPT_URI"),
                "--request",
                f"s3://{bucket}/{key}",
                "--results",
                results_uri(bucket, request_id),
            ],
        },
    }
    try:
        response = _add_steps_client().add_job_flow_steps(JobFlowId=_env("CLUSTER_ID"), Steps=[step])
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
        code = error.response["Error"]["Code"]
        message = error.response["Error"].get("Message", "")
        if status < 500 and code not in UNKNOWN_OUTCOME_CODES:
            # A refusal (256 active steps, throttling, cluster not accepting steps): certainly not added.
            _release(request_id, token)
            reason = f"EMR refused the step for {request_id}: {code}: {message}"
            raise RetryLater(reason, delay=_backoff(record)) from None
        # A server fault: the step may or may not exist; keep the claim and let the lease decide.
        raise RetryLater(f"EMR failed adding the step for {request_id}: {code}: {message}") from None
    except BotoCoreError as error:
        # No response (a timeout, a dropped connection): the step may or may not exist; as for a server fault,
        # keep the claim, and once the lease ends the next delivery looks for the step before adding it.
        raise RetryLater(f"no answer from EMR adding the step for {request_id}: {error}") from None
    step_id = response["StepIds"][0]
    _mark_submitted(request_id, step_id, token)
    logger.info("step added", extra={"request_id": request_id, "step_id": step_id})
    metrics.add_metric(name="RequestsSubmitted", unit=MetricUnit.Count, value=1)


def _digest(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _submit(record: SQSRecord) -> None:
    try:
        request = validate_request(record.body)
        _check_buckets(request)
        token = _claim(request["request_id"], _digest(request), record.message_id, int(time.time()))
    except InvalidRequest as error:
        _reject(record, str(error))
        return
    if token is not None:
        _add_step(request, token, record)


def record_handler(record: SQSRecord) -> None:
    """Submit or reject one request; raising returns the message to the queue for another attempt."""
    try:
        _submit(record)
    except RetryLater as later:
        logger.warning("request returned to the queue", extra={"reason": str(later), "delay": later.delay})
        metrics.add_metric(name="RequestsDeferred", unit=MetricUnit.Count, value=1)
        if later.delay is not None:
            try:
                _client("sqs").change_message_visibility(
                    QueueUrl=record.queue_url, ReceiptHandle=record.receipt_handle, VisibilityTimeout=later.delay
                )
            except ClientError as error:
                logger.warning("could not set the retry delay", extra={"error": str(error)})
        raise
    except Exception:
        logger.exception("request failed; the queue delivers it again", extra={"message_id": record.message_id})
        metrics.add_metric(name="RequestsFailed", unit=MetricUnit.Count, value=1)
        raise


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
