"""The EMR step submitter against moto (SQS, S3, DynamoDB, SNS, EMR), with EMR faults injected by Stubber."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed

REGION = "us-east-1"
CONTROL = "reconciliation-control"
DATA = "finance-data"
RESULTS = "finance-results"
LEDGER = "reconciliation-ledger"
REQUEST = load_event("emr_reconciliation_request")
RECORD = load_event("emr_reconciliation_sqs_record")


@dataclass
class Aws:
    """The moto resources the handler works against, and its freshly loaded module."""

    handler: ModuleType
    cluster_id: str
    queue_url: str
    notifications_url: str

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=REGION)

    def steps(self) -> list[dict[str, Any]]:
        return self.client("emr").list_steps(ClusterId=self.cluster_id)["Steps"]

    def ledger(self, request_id: str) -> dict[str, Any] | None:
        item = self.client("dynamodb").get_item(TableName=LEDGER, Key={"request_id": {"S": request_id}}).get("Item")
        return item

    def notifications(self) -> list[dict[str, Any]]:
        messages = self.client("sqs").receive_message(QueueUrl=self.notifications_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    def keys(self, prefix: str) -> list[str]:
        listed = self.client("s3").list_objects_v2(Bucket=CONTROL, Prefix=prefix)
        return [o["Key"] for o in listed.get("Contents", [])]

    def event(self, *bodies: str) -> dict[str, Any]:
        """Send each body to the request queue and receive it back, as Lambda's poller would."""
        sqs = self.client("sqs")
        for body in bodies:
            sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)
        records = []
        received = sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=360
        )["Messages"]
        for message in received:
            record = copy.deepcopy(RECORD)
            record.update(
                messageId=message["MessageId"],
                receiptHandle=message["ReceiptHandle"],
                body=message["Body"],
                eventSourceARN=sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
                    "Attributes"
                ]["QueueArn"],
            )
            record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
            records.append(record)
        assert len(records) == len(bodies)
        return {"Records": records}

    def run(self, event: dict[str, Any]) -> list[str]:
        """Invoke the handler; returns the message ids it reported as failed."""
        response = self.handler.handler(event, LambdaContext())
        return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def request(**changes: Any) -> str:
    body = copy.deepcopy(REQUEST)
    body.update(changes)
    return json.dumps(body)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=CONTROL)
        s3.create_bucket(Bucket=DATA)
        s3.create_bucket(Bucket=RESULTS)
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName=LEDGER,
            KeySchema=[{"AttributeName": "request_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "request_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="requests")["QueueUrl"]
        notifications_url = sqs.create_queue(QueueName="notifications")["QueueUrl"]
        notifications_arn = sqs.get_queue_attributes(QueueUrl=notifications_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name="results")["TopicArn"]
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=notifications_arn,
            Attributes={"RawMessageDelivery": "true"},
        )
        cluster_id = boto3.client("emr", region_name=REGION).run_job_flow(
            Name="reconciliation",
            ReleaseLabel="emr-7.13.0",
            Instances={
                "MasterInstanceType": "r6g.xlarge",
                "SlaveInstanceType": "r6g.2xlarge",
                "InstanceCount": 3,
                "KeepJobFlowAliveWhenNoSteps": True,
            },
            JobFlowRole="instance-profile",
            ServiceRole="service-role",
        )["JobFlowId"]
        for key, value in {
            "CLUSTER_ID": cluster_id,
            "CONTROL_BUCKET": CONTROL,
            "DATA_BUCKETS": f"{DATA},{RESULTS}",
            "LEDGER_TABLE": LEDGER,
            "RESULTS_TOPIC_ARN": topic_arn,
            "JOB_SCRIPT_URI": "s3://assets/job.py",
            "PY_FILES_URI": "s3://assets/modules.zip",
            "LEASE_SECONDS": "120",
            "LEDGER_TTL_DAYS": "400",
            "POWERTOOLS_SERVICE_NAME": "emr_step_submitter",
        }.items():
            monkeypatch.setenv(key, value)
        yield Aws(load_handler("emr_reconciliation_submitter"), cluster_id, queue_url, notifications_url)


def record_visibility_changes(aws: Aws) -> list[dict[str, Any]]:
    """Give the handler an SQS client that records ChangeMessageVisibility calls before making them."""
    sqs = boto3.client("sqs", region_name=REGION)
    calls: list[dict[str, Any]] = []
    real = sqs.change_message_visibility

    def change_message_visibility(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(**kwargs)

    sqs.change_message_visibility = change_message_visibility
    aws.handler._clients["sqs"] = sqs
    return calls


def emr_error(code: str, message: str, status: int = 400) -> dict[str, Any]:
    return {"service_error_code": code, "service_message": message, "http_status_code": status}


def add_steps_client(aws: Aws) -> Any:
    """Give the handler the EMR client it adds steps with, for a Stubber."""
    emr = boto3.client("emr", region_name=REGION)
    aws.handler._clients[aws.handler.ADD_STEPS_CLIENT] = emr
    return emr


class _Body:
    """The raw body of a made-up HTTP response."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def server_error(request: AWSPreparedRequest) -> AWSResponse:
    """An HTTP 500 from a JSON-protocol service, as the caller would receive it."""
    body = json.dumps({"__type": "InternalServerError", "message": "We encountered an internal error."})
    return AWSResponse(request.url, 500, {"Content-Type": "application/x-amz-json-1.1"}, _Body(body.encode()))


def intercept(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, event: str, reply: Callable[[AWSPreparedRequest], Any]
) -> list[AWSPreparedRequest]:
    """Make every client the handler creates from now on show ``reply`` each HTTP attempt of ``event``
    (``before-send.<service>.<Operation>``); returns the attempts, as they are made.

    botocore calls the handlers of the most specific event first, so ``reply`` runs before moto's, which is
    registered for every ``before-send``: a response it returns replaces moto's answer while moto still
    carries the request out (the call takes effect, its answer is lost), and an exception it raises ends the
    attempt before moto sees it. Returning None lets moto answer.
    """
    attempts: list[AWSPreparedRequest] = []

    def on_send(request: AWSPreparedRequest, **_: Any) -> Any:
        attempts.append(request)
        return reply(request)

    session = boto3.Session(region_name=REGION)
    session.events.register(event, on_send)
    monkeypatch.setattr(aws.handler, "boto3", session)
    return attempts


def expire_lease(aws: Aws, request_id: str) -> None:
    """Move the claim's lease into the past, as if the attempt holding it had timed out."""
    aws.client("dynamodb").update_item(
        TableName=LEDGER,
        Key={"request_id": {"S": request_id}},
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )


# --- happy path ------------------------------------------------------------------------------------------------------


def test_valid_request_becomes_one_spark_step_and_is_recorded(aws: Aws) -> None:
    assert aws.run(aws.event(request())) == []

    (step,) = aws.steps()
    assert step["Name"] == "recon-2026-11-001"
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["Config"]["Jar"] == "command-runner.jar"
    assert step["Config"]["Args"] == [
        "spark-submit",
        "--deploy-mode",
        "cluster",
        "--py-files",
        "s3://assets/modules.zip",
        "s3://assets/job.py",
        "--request",
        f"s3://{CONTROL}/requests/recon-2026-11-001.json",
        "--results",
        f"s3://{CONTROL}/results/recon-2026-11-001.json",
    ]
    stored = json.loads(
        aws.client("s3").get_object(Bucket=CONTROL, Key="requests/recon-2026-11-001.json")["Body"].read()
    )
    assert stored["request_id"] == "recon-2026-11-001"
    assert stored["inputs"]["ledger"]["options"]["header"] is True  # the normalized request, defaults filled in
    assert aws.handler.validate_request(stored) == stored  # the job re-validates this file and gets the same request
    item = aws.ledger("recon-2026-11-001")
    assert item is not None
    assert item["status"]["S"] == "SUBMITTED"
    assert item["step_id"]["S"] == step["Id"]
    assert "lease_until" not in item
    assert int(item["expires_at"]["N"]) > time.time() + 399 * 86400
    assert aws.notifications() == []


def test_batch_of_distinct_requests_adds_one_step_each(aws: Aws) -> None:
    assert aws.run(aws.event(request(request_id="a-1"), request(request_id="a-2"), request(request_id="a-3"))) == []
    assert sorted(s["Name"] for s in aws.steps()) == ["a-1", "a-2", "a-3"]


# --- duplicates ------------------------------------------------------------------------------------------------------


def test_same_request_delivered_twice_adds_one_step(aws: Aws) -> None:
    assert aws.run(aws.event(request())) == []
    assert aws.run(aws.event(request())) == []
    assert len(aws.steps()) == 1


def test_same_request_twice_in_one_batch_adds_one_step(aws: Aws) -> None:
    assert aws.run(aws.event(request(), request())) == []
    assert len(aws.steps()) == 1


def test_request_id_reused_for_other_content_is_rejected_and_the_first_step_stands(aws: Aws) -> None:
    assert aws.run(aws.event(request())) == []
    (step,) = aws.steps()
    changed = request(operations=[{"op": "filter", "input": "ledger", "condition": "amount > 0"}])
    event = aws.event(changed)
    assert aws.run(event) == []
    assert [s["Id"] for s in aws.steps()] == [step["Id"]]
    (notification,) = aws.notifications()
    assert notification["state"] == "REJECTED"
    assert notification["request_id"] == "recon-2026-11-001"
    assert f"already taken by a request with other content (submitted as step {step['Id']})" in notification["message"]
    stored = json.loads(
        aws.client("s3").get_object(Bucket=CONTROL, Key="requests/recon-2026-11-001.json")["Body"].read()
    )
    assert stored["operations"][0]["op"] == "vlookup"  # the first request's file was not overwritten


def test_request_being_submitted_by_another_attempt_is_deferred_until_its_lease_ends(aws: Aws) -> None:
    now = int(time.time())
    aws.client("dynamodb").put_item(
        TableName=LEDGER,
        Item={
            "request_id": {"S": "recon-2026-11-001"},
            "status": {"S": "SUBMITTING"},
            "claim": {"S": "other"},
            "claimed_at": {"N": str(now)},
            "lease_until": {"N": str(now + 100)},
        },
    )
    calls = record_visibility_changes(aws)
    event = aws.event(request())
    assert aws.run(event) == [event["Records"][0]["messageId"]]
    assert aws.steps() == []
    # Hidden for the rest of the other attempt's lease (plus a margin), not the queue's six minutes.
    (call,) = calls
    assert call["ReceiptHandle"] == event["Records"][0]["receiptHandle"]
    assert 100 <= call["VisibilityTimeout"] <= 106


def _stale_claim(aws: Aws, claimed_at: int) -> None:
    aws.client("dynamodb").put_item(
        TableName=LEDGER,
        Item={
            "request_id": {"S": "recon-2026-11-001"},
            "status": {"S": "SUBMITTING"},
            "claim": {"S": "dead-attempt"},
            "claimed_at": {"N": str(claimed_at)},
            "lease_until": {"N": str(claimed_at + 120)},
        },
    )


def test_attempt_that_died_after_adding_its_step_is_recorded_without_a_second_step(aws: Aws) -> None:
    _stale_claim(aws, int(time.time()) - 600)
    step_id = aws.client("emr").add_job_flow_steps(
        JobFlowId=aws.cluster_id,
        Steps=[
            {
                "Name": "recon-2026-11-001",
                "ActionOnFailure": "CONTINUE",
                "HadoopJarStep": {"Jar": "command-runner.jar", "Args": ["spark-submit"]},
            }
        ],
    )["StepIds"][0]

    assert aws.run(aws.event(request())) == []

    assert [s["Id"] for s in aws.steps()] == [step_id]
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTED" and item["step_id"]["S"] == step_id


def test_attempt_that_died_before_adding_its_step_is_taken_over(aws: Aws) -> None:
    _stale_claim(aws, int(time.time()) - 600)
    assert aws.run(aws.event(request())) == []
    (step,) = aws.steps()
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["step_id"]["S"] == step["Id"] and item["claim"]["S"] != "dead-attempt"


def test_step_search_stops_at_steps_older_than_the_claim(aws: Aws) -> None:
    emr = aws.client("emr")
    emr.add_job_flow_steps(
        JobFlowId=aws.cluster_id,
        Steps=[{"Name": "older", "ActionOnFailure": "CONTINUE", "HadoopJarStep": {"Jar": "command-runner.jar"}}],
    )
    # A claim made an hour after every existing step: the search ends on the first page.
    assert aws.handler._find_step("recon-2026-11-001", since=int(time.time()) + 3600) is None


# --- invalid requests ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "request_id", "reason"),
    [
        ("not json", None, "request: not valid JSON"),
        (request(operations=[{"op": "join", "input": "ledger", "with": "bank", "on": ["k"], "how": "outer"}]),
         "recon-2026-11-001", "operations[0].how: got 'outer'; accepted: inner, left, right, full"),
        (request(request_id="bad id!"), None, "request_id"),
        (request(output={"uri": "s3://someone-elses-bucket/out/", "format": "csv"}), "recon-2026-11-001",
         "output.uri: bucket 'someone-elses-bucket' is not one the cluster may use"),
        # An output that Spark's overwrite would delete inputs with, or that would write over a whole bucket.
        (request(output={"uri": "s3://finance-data/ledger/", "format": "csv", "mode": "overwrite",
                         "per_request_prefix": False}), "recon-2026-11-001",
         "output.uri: 's3://finance-data/ledger/' contains inputs.ledger.uri"),
        (request(output={"uri": "s3://finance-data/ledger/2026-11/", "format": "csv"}), "recon-2026-11-001",
         "(with the per-request prefix) lies inside inputs.ledger.uri"),
        (request(output={"uri": "s3://finance-data/", "format": "csv"}), "recon-2026-11-001",
         "output.uri: 's3://finance-data/' is a bucket root"),
    ],
)  # fmt: skip
def test_invalid_request_is_recorded_and_notified_as_rejected_and_consumed(
    aws: Aws, body: str, request_id: str | None, reason: str
) -> None:
    event = aws.event(body)
    assert aws.run(event) == []  # consumed: never retried

    assert aws.steps() == []
    assert aws.ledger("recon-2026-11-001") is None
    message_id = event["Records"][0]["messageId"]
    key = f"rejected/{request_id or 'unidentified'}/{message_id}.json"
    assert aws.keys("rejected/") == [key]
    record = json.loads(aws.client("s3").get_object(Bucket=CONTROL, Key=key)["Body"].read())
    assert reason in record["reason"]
    assert record["body"] == body
    (notification,) = aws.notifications()
    assert notification["state"] == "REJECTED"
    assert notification["request_id"] == request_id
    assert reason in notification["message"]
    assert notification["record"] == f"s3://{CONTROL}/{key}"


def test_rejection_that_cannot_be_recorded_is_retried(aws: Aws) -> None:
    aws.client("s3").delete_bucket(Bucket=CONTROL)
    event = aws.event("not json")
    assert aws.run(event) == [event["Records"][0]["messageId"]]
    assert aws.notifications() == []


# --- EMR refusals and faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        emr_error(
            "ValidationException",
            "Maximum number of active steps(State = 'Running', 'Pending' or 'Cancel_Pending') for cluster exceeded.",
        ),
        emr_error("ThrottlingException", "Rate exceeded"),
        emr_error(
            "ValidationException", "A job flow that is shutting down, terminated, or finished may not be modified."
        ),
    ],
    ids=["256-active-steps", "throttled", "cluster-not-accepting-steps"],
)
def test_refused_step_returns_the_message_with_backoff_and_releases_the_claim(aws: Aws, error: dict[str, Any]) -> None:
    emr = add_steps_client(aws)
    calls = record_visibility_changes(aws)
    event = aws.event(request())
    with stubbed(emr) as stub:
        stub.add_client_error("add_job_flow_steps", **error)
        assert aws.run(event) == [event["Records"][0]["messageId"]]
    assert aws.ledger("recon-2026-11-001") is None  # released: the next delivery submits at once
    assert aws.steps() == []
    (call,) = calls
    assert call["VisibilityTimeout"] == 30  # first receive: the shortest backoff


def test_deferred_message_is_delivered_again_and_then_submitted(aws: Aws) -> None:
    emr = add_steps_client(aws)
    event = aws.event(request())
    with stubbed(emr) as stub:
        stub.add_client_error("add_job_flow_steps", **emr_error("ThrottlingException", "Rate exceeded"))
        assert aws.run(event) == [event["Records"][0]["messageId"]]
    del aws.handler._clients[aws.handler.ADD_STEPS_CLIENT]
    record = copy.deepcopy(event["Records"][0])
    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert aws.run({"Records": [record]}) == []
    assert len(aws.steps()) == 1


def test_backoff_doubles_with_each_receive_up_to_fifteen_minutes(aws: Aws) -> None:
    def backoff(receives: int) -> int:
        record = copy.deepcopy(RECORD)
        record["attributes"]["ApproximateReceiveCount"] = str(receives)
        return int(aws.handler._backoff(aws.handler.SQSRecord(record)))

    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize(
    "error",
    [emr_error("InternalServerError", "oops", 500), emr_error("RequestTimeoutException", "timed out", 400)],
    ids=["server-error", "request-timeout"],
)
def test_server_fault_keeps_the_claim_so_the_lease_decides(aws: Aws, error: dict[str, Any]) -> None:
    emr = add_steps_client(aws)
    event = aws.event(request())
    with stubbed(emr) as stub:
        stub.add_client_error("add_job_flow_steps", **error)
        assert aws.run(event) == [event["Records"][0]["messageId"]]
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTING"
    assert int(item["lease_until"]["N"]) >= time.time() + 100


def test_add_job_flow_steps_is_sent_once_so_a_lost_answer_cannot_add_a_second_step(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EMR adds the step, but the caller gets a 500: the SDK's retries would add it again (AddJobFlowSteps has no
    # idempotency token), so the handler sends it once, keeps the claim and leaves it to the lease.
    attempts = intercept(aws, monkeypatch, "before-send.emr.AddJobFlowSteps", server_error)
    calls = record_visibility_changes(aws)
    event = aws.event(request())
    assert aws.run(event) == [event["Records"][0]["messageId"]]

    assert len(attempts) == 1
    (step,) = aws.steps()
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTING" and "step_id" not in item
    assert calls == []  # back after the queue's visibility timeout, which outlasts the lease

    # The next delivery, once the lease has ended, finds the step and records it instead of adding another.
    expire_lease(aws, "recon-2026-11-001")
    record = copy.deepcopy(event["Records"][0])
    record["attributes"]["ApproximateReceiveCount"] = "2"
    assert aws.run({"Records": [record]}) == []
    assert len(attempts) == 1
    assert [s["Id"] for s in aws.steps()] == [step["Id"]]
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTED" and item["step_id"]["S"] == step["Id"]


def test_read_timeout_adding_the_step_keeps_the_claim_and_defers(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    emr = aws.client("emr")  # not intercepted: EMR itself

    def added_then_timed_out(request: AWSPreparedRequest) -> None:
        emr.add_job_flow_steps(**json.loads(request.body))
        raise ReadTimeoutError(endpoint_url=request.url)

    attempts = intercept(aws, monkeypatch, "before-send.emr.AddJobFlowSteps", added_then_timed_out)
    calls = record_visibility_changes(aws)
    event = aws.event(request())
    record = aws.handler.SQSRecord(event["Records"][0])
    with pytest.raises(aws.handler.RetryLater, match="no answer from EMR adding the step for recon-2026-11-001"):
        aws.handler.record_handler(record)
    aws.handler.metrics.clear_metrics()  # recorded outside an invocation: not for the next test's

    assert len(attempts) == 1
    assert len(aws.steps()) == 1
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTING"
    assert int(item["lease_until"]["N"]) >= time.time() + 100  # the claim is kept: the lease decides
    assert calls == []


def test_claim_whose_answer_was_lost_is_recognised_as_its_own(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    # The ledger write takes effect but its answer is lost; the SDK's retry then fails its condition.
    attempts = intercept(
        aws,
        monkeypatch,
        "before-send.dynamodb.PutItem",
        lambda request: server_error(request) if len(attempts) == 1 else None,
    )
    assert aws.run(aws.event(request())) == []
    assert len(attempts) == 2
    (step,) = aws.steps()
    item = aws.ledger("recon-2026-11-001")
    assert item is not None and item["status"]["S"] == "SUBMITTED" and item["step_id"]["S"] == step["Id"]


def test_failed_request_upload_releases_the_claim(aws: Aws) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    aws.handler._clients["s3"] = s3
    event = aws.event(request())
    with stubbed(s3) as stub:
        stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
        assert aws.run(event) == [event["Records"][0]["messageId"]]
    assert aws.ledger("recon-2026-11-001") is None
    assert aws.steps() == []


def test_ledger_fault_fails_the_record_without_adding_a_step(aws: Aws) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    aws.handler._clients["dynamodb"] = dynamodb
    event = aws.event(request())
    with stubbed(dynamodb) as stub:
        stub.add_client_error("put_item", service_error_code="ProvisionedThroughputExceededException")
        assert aws.run(event) == [event["Records"][0]["messageId"]]
    assert aws.steps() == []


def test_visibility_change_failure_still_returns_the_message(aws: Aws) -> None:
    emr = add_steps_client(aws)
    sqs = boto3.client("sqs", region_name=REGION)
    aws.handler._clients["sqs"] = sqs
    event = aws.event(request())
    with stubbed(emr) as emr_stub, stubbed(sqs) as sqs_stub:
        emr_stub.add_client_error("add_job_flow_steps", **emr_error("ThrottlingException", "Rate exceeded"))
        sqs_stub.add_client_error("change_message_visibility", service_error_code="ReceiptHandleIsInvalid")
        assert aws.run(event) == [event["Records"][0]["messageId"]]


def test_one_bad_record_does_not_fail_the_batch(aws: Aws) -> None:
    emr = add_steps_client(aws)
    event = aws.event(request(request_id="first"), "not json", request(request_id="third"))
    with stubbed(emr) as stub:
        stub.add_response("add_job_flow_steps", {"StepIds": ["s-FIRST"]})
        stub.add_client_error("add_job_flow_steps", **emr_error("ThrottlingException", "Rate exceeded"))
        failed = aws.run(event)
    assert failed == [event["Records"][2]["messageId"]]
    first = aws.ledger("first")
    assert first is not None and first["step_id"]["S"] == "s-FIRST"
    assert aws.keys("rejected/unidentified/") == [f"rejected/unidentified/{event['Records'][1]['messageId']}.json"]


def test_missing_configuration_fails_the_record_rather_than_dropping_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLUSTER_ID")
    event = aws.event(request())
    assert aws.run(event) == [event["Records"][0]["messageId"]]
