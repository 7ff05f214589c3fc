"""The health check: SchedulerHeartbeat through GetMetricData, consecutive unhealthy evaluations
kept in DynamoDB, a single failover lock (freed when its execution died), and the backup-age
metric (all on moto; the Step Functions statuses moto cannot reach through a Stubber)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from tests.handler_kit import LambdaContext, emf_records, load_event, load_handler, stubbed

PRIMARY = "us-east-1"
DR = "us-west-2"
TABLE = "health-state"
BUCKET = "blueprints-mwaa-backup-111111111111-us-west-2"
DIMENSIONS = [{"Name": "Function", "Value": "Scheduler"}, {"Name": "Environment", "Value": "prod"}]
#: The failover state machine whose executions hold the lock (moto's default account).
MACHINE_ARN = f"arn:aws:states:{DR}:123456789012:stateMachine:FailoverStateMachine"


def _execution(name: str) -> str:
    """The ARN of a RUNNING execution ``name`` of the failover state machine (started on first use)."""
    sfn = boto3.client("stepfunctions", region_name=DR)
    arn = f"{MACHINE_ARN.replace(':stateMachine:', ':execution:')}:{name}"
    try:
        sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        sfn.start_execution(stateMachineArn=MACHINE_ARN, name=name)
    return arn


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        boto3.client("dynamodb", region_name=DR).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3", region_name=DR)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": DR})
        boto3.client("stepfunctions", region_name=DR).create_state_machine(
            name="FailoverStateMachine",
            definition=json.dumps({"StartAt": "Check", "States": {"Check": {"Type": "Pass", "End": True}}}),
            roleArn="arn:aws:iam::123456789012:role/failover",
        )
        for key, value in {
            "AWS_REGION": DR,
            "PRIMARY_ENVIRONMENT_NAME": "prod",
            "PRIMARY_REGION": PRIMARY,
            "WINDOW_MINUTES": "3",
            "UNHEALTHY_THRESHOLD": "3",
            "STATE_TABLE": TABLE,
            "BACKUP_BUCKET": BUCKET,
            "BACKUP_PREFIX": "backups",
            "POWERTOOLS_METRICS_NAMESPACE": "Blueprints",
            "POWERTOOLS_SERVICE_NAME": "mwaa-dr-health",
        }.items():
            monkeypatch.setenv(key, value)
        yield {"s3": s3, "cw_primary": boto3.client("cloudwatch", region_name=PRIMARY)}


def _beat(cw: Any, minutes_ago: float = 1, value: float = 12) -> None:
    cw.put_metric_data(
        Namespace="AmazonMWAA",
        MetricData=[
            {
                "MetricName": "SchedulerHeartbeat",
                "Dimensions": DIMENSIONS,
                "Value": value,
                "Timestamp": datetime.now(UTC) - timedelta(minutes=minutes_ago),
            }
        ],
    )


def _run(module: ModuleType, context: LambdaContext, execution: str = "exec-1") -> dict[str, Any]:
    event = load_event("mwaa_dr_health")
    event["execution"] = _execution(execution)
    return module.handler(event, context)


def test_healthy_primary_resets_the_count(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    assert _run(module, lambda_context)["consecutive_unhealthy"] == 1  # no heartbeat yet
    _beat(aws["cw_primary"])
    result = _run(module, lambda_context)
    assert result["healthy"] is True and result["consecutive_unhealthy"] == 0 and result["disaster"] is False
    assert result["heartbeats"] == 12


def test_one_missing_window_never_fails_over(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    _beat(aws["cw_primary"], minutes_ago=10)  # outside the 3-minute window
    results = [_run(module, lambda_context) for _ in range(2)]
    assert [r["consecutive_unhealthy"] for r in results] == [1, 2]
    assert not any(r["disaster"] for r in results)


def test_threshold_declares_one_disaster_only(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    for _ in range(2):
        assert _run(module, lambda_context, "exec-early")["disaster"] is False
    third = _run(module, lambda_context, "exec-a")
    assert third["disaster"] is True and third["consecutive_unhealthy"] == 3
    # the same execution retried keeps its lock; an overlapping one does not get a second failover
    assert _run(module, lambda_context, "exec-a")["disaster"] is True
    other = _run(module, lambda_context, "exec-b")
    assert other["disaster"] is False and other["failover_in_progress"] is True


def test_unreachable_primary_cloudwatch_counts_as_unhealthy(
    aws: dict[str, Any], lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = load_handler("mwaa_dr_health")

    class Down:
        def get_metric_data(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com")

    module._clients[("cloudwatch", PRIMARY)] = Down()
    result = _run(module, lambda_context)
    assert result["healthy"] is False and result["heartbeats"] is None and result["consecutive_unhealthy"] == 1


def test_backup_age_is_published_from_the_replicated_pointer(
    aws: dict[str, Any], lambda_context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    """The age goes out as one EMF line (CloudWatch's embedded metric format): nothing is published while no
    pointer has replicated, and then the datapoint names the primary environment and the function's service."""
    module = load_handler("mwaa_dr_health")
    capsys.readouterr()
    assert _run(module, lambda_context)["backup_age_seconds"] is None
    assert '"_aws"' not in capsys.readouterr().out
    aws["s3"].put_object(Bucket=BUCKET, Key="backups/latest.json", Body=json.dumps({"folder": "backups/x"}))
    _beat(aws["cw_primary"])
    age = _run(module, lambda_context)["backup_age_seconds"]
    assert age is not None and 0 <= age < 60
    (emf,) = emf_records(capsys.readouterr().out)
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Blueprints"
    assert directive["Metrics"] == [{"Name": "BackupAgeSeconds", "Unit": "Seconds"}]
    (dimension_set,) = directive["Dimensions"]
    assert set(dimension_set) == {"service", "Environment"}
    assert (emf["service"], emf["Environment"], emf["BackupAgeSeconds"]) == ("mwaa-dr-health", "prod", [age])


def _stubbed_s3(module: ModuleType) -> Any:
    client = boto3.client("s3", region_name=DR)
    module._clients[("s3", DR)] = client
    return client


POINTER = {"Bucket": BUCKET, "Key": "backups/latest.json"}


def test_no_backup_yet_is_a_404_and_not_an_error(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """With s3:ListBucket on the pointer's key, S3 answers a missing pointer with 404."""
    module = load_handler("mwaa_dr_health")
    s3 = _stubbed_s3(module)
    _beat(aws["cw_primary"])
    with stubbed(s3) as stub:
        stub.add_client_error("head_object", "404", "Not Found", http_status_code=404, expected_params=POINTER)
        result = _run(module, lambda_context)
    assert result["healthy"] is True and result["disaster"] is False
    assert result["backup_age_seconds"] is None and result["backup_age_error"] is None


def test_a_forbidden_pointer_is_reported_and_never_costs_the_verdict(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """403 is a permission problem, not "no backup yet": reported, while the failover still happens."""
    module = load_handler("mwaa_dr_health")
    s3 = _stubbed_s3(module)
    with stubbed(s3) as stub:
        for _ in range(3):
            stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403, expected_params=POINTER)
        results = [_run(module, lambda_context, "exec-a") for _ in range(3)]
    assert [r["consecutive_unhealthy"] for r in results] == [1, 2, 3]
    assert results[-1]["disaster"] is True
    for result in results:
        assert result["backup_age_seconds"] is None
        assert "403" in result["backup_age_error"] and "Forbidden" in result["backup_age_error"]


def test_the_backup_age_needs_no_cloudwatch_call(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """The role has no cloudwatch:PutMetricData (the template's policy): the age goes out as EMF, so no call
    to the DR Region's CloudWatch is made; a Stubber with nothing queued refuses any call it would make."""
    module = load_handler("mwaa_dr_health")
    aws["s3"].put_object(Bucket=BUCKET, Key="backups/latest.json", Body=b"{}")
    cloudwatch = boto3.client("cloudwatch", region_name=DR)
    module._clients[("cloudwatch", DR)] = cloudwatch
    _beat(aws["cw_primary"])
    with stubbed(cloudwatch):
        result = _run(module, lambda_context)
    assert result["healthy"] is True and result["consecutive_unhealthy"] == 0
    assert result["backup_age_seconds"] is not None and result["backup_age_error"] is None


def test_event_without_execution_is_rejected(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    with pytest.raises(ValueError, match="execution"):
        module.handler({}, lambda_context)


def test_state_table_faults_fail_the_check(
    aws: dict[str, Any], lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATE_TABLE", "missing-table")
    module = load_handler("mwaa_dr_health")
    with pytest.raises(Exception, match="ResourceNotFoundException|not found"):
        _run(module, lambda_context)


def test_a_drill_declares_a_disaster_once(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    _beat(aws["cw_primary"])
    drill = module.handler({"execution": _execution("drill-1"), "input": {"drill": True}}, lambda_context)
    assert drill["healthy"] is True and drill["disaster"] is True and drill["drill"] is True
    second = module.handler({"execution": _execution("drill-2"), "input": {"drill": True}}, lambda_context)
    assert second["disaster"] is False and second["failover_in_progress"] is True


def test_resume_takes_over_the_lock_of_a_failed_failover(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    first, retry = _execution("first"), _execution("retry")
    assert module.handler({"execution": first, "input": {"drill": True}}, lambda_context)["disaster"] is True
    assert module.handler({"execution": retry, "input": {}}, lambda_context)["disaster"] is False
    resumed = module.handler({"execution": retry, "input": {"resume": True}}, lambda_context)
    assert resumed["disaster"] is True and resumed["resume"] is True
    assert _lock()["execution"] == retry


def _lock() -> dict[str, Any]:
    return boto3.resource("dynamodb", region_name=DR).Table(TABLE).get_item(Key={"pk": "failover-lock"})["Item"]


def _disaster(module: ModuleType, context: LambdaContext, execution: str) -> dict[str, Any]:
    """A drill: a disaster regardless of the heartbeat, which still has to win the lock."""
    return module.handler({"execution": _execution(execution), "input": {"drill": True}}, context)


def test_a_lock_held_by_an_aborted_execution_is_taken_over(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """An execution that took the lock and died before it disabled the schedule (here: stopped)
    must not block every later failover as "in progress"."""
    module = load_handler("mwaa_dr_health")
    for _ in range(3):
        dead = _run(module, lambda_context, "dead")
    assert dead["disaster"] is True
    boto3.client("stepfunctions", region_name=DR).stop_execution(executionArn=_execution("dead"))
    later = _run(module, lambda_context, "later")
    assert later["disaster"] is True and later["failover_in_progress"] is False
    assert later["replaced_lock_of"] == _execution("dead") and later["lock_holder_status"] == "ABORTED"
    assert _lock()["execution"] == _execution("later") and _lock()["replaced"] == _execution("dead")
    # the new holder is running: a third execution sees a failover in progress again
    third = _run(module, lambda_context, "third")
    assert third["disaster"] is False and third["failover_in_progress"] is True
    assert third["lock_holder"] == _execution("later") and third["lock_holder_status"] == "RUNNING"


def _stubbed_states(module: ModuleType) -> Any:
    client = boto3.client("stepfunctions", region_name=DR)
    module._clients[("stepfunctions", DR)] = client
    return client


def _describe(arn: str, status: str) -> dict[str, Any]:
    return {
        "executionArn": arn,
        "stateMachineArn": MACHINE_ARN,
        "status": status,
        "startDate": datetime.now(UTC),
    }


@pytest.mark.parametrize(
    ("status", "taken"),
    [
        ("FAILED", True),
        ("TIMED_OUT", True),
        ("ABORTED", True),
        ("RUNNING", False),
        ("PENDING_REDRIVE", False),
        # a completed failover keeps its lock until the failback clears it
        ("SUCCEEDED", False),
    ],
)
def test_the_lock_follows_its_holders_status(
    aws: dict[str, Any], lambda_context: LambdaContext, status: str, taken: bool
) -> None:
    module = load_handler("mwaa_dr_health")
    holder = _execution("holder")
    assert _disaster(module, lambda_context, "holder")["disaster"] is True
    states = _stubbed_states(module)
    with stubbed(states) as stub:
        stub.add_response("describe_execution", _describe(holder, status), {"executionArn": holder})
        result = _disaster(module, lambda_context, "next")
    assert result["disaster"] is taken and result["failover_in_progress"] is not taken
    assert result["lock_holder_status"] == status
    assert _lock()["execution"] == (_execution("next") if taken else holder)


@pytest.mark.parametrize(("age_minutes", "taken"), [(20, True), (1, False)])
def test_a_holder_step_functions_does_not_know_is_dead_once_its_lock_is_old(
    aws: dict[str, Any], lambda_context: LambdaContext, age_minutes: int, taken: bool
) -> None:
    """Closed executions are forgotten after 90 days; but DescribeExecution is eventually
    consistent, so a young lock whose holder is not found yet still stands."""
    module = load_handler("mwaa_dr_health")
    holder = _execution("holder")
    boto3.resource("dynamodb", region_name=DR).Table(TABLE).put_item(
        Item={
            "pk": "failover-lock",
            "execution": holder,
            "locked_at": (datetime.now(UTC) - timedelta(minutes=age_minutes)).isoformat(),
        }
    )
    states = _stubbed_states(module)
    with stubbed(states) as stub:
        stub.add_client_error("describe_execution", "ExecutionDoesNotExist", "gone", http_status_code=400)
        result = _disaster(module, lambda_context, "next")
    assert result["disaster"] is taken and result["lock_holder_status"] == "NOT_FOUND"
    assert _lock()["execution"] == (_execution("next") if taken else holder)


def test_a_holder_of_another_state_machine_is_dead_without_a_call(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """A lock left by a replaced state machine: DescribeExecution is not even allowed on it."""
    module = load_handler("mwaa_dr_health")
    table = boto3.resource("dynamodb", region_name=DR).Table(TABLE)
    stale = f"arn:aws:states:{DR}:123456789012:execution:OldFailoverStateMachine:x"
    table.put_item(Item={"pk": "failover-lock", "execution": stale, "locked_at": "2020-01-01T00:00:00+00:00"})
    states = _stubbed_states(module)
    with stubbed(states):  # no call queued: any call fails the test
        result = _disaster(module, lambda_context, "next")
    assert result["disaster"] is True and result["replaced_lock_of"] == stale
    assert result["lock_holder_status"] == "OTHER_STATE_MACHINE"


def test_an_unreadable_holder_fails_the_check_loudly(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    assert _disaster(module, lambda_context, "holder")["disaster"] is True
    states = _stubbed_states(module)
    with stubbed(states) as stub:
        stub.add_client_error("describe_execution", "AccessDeniedException", "not authorized", http_status_code=400)
        with pytest.raises(Exception, match="AccessDenied"):
            _disaster(module, lambda_context, "next")
    assert _lock()["execution"] == _execution("holder")


def test_only_one_evaluation_replaces_a_dead_holder(
    aws: dict[str, Any], lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two evaluations that both find the holder dead: the conditional write lets one win."""
    module = load_handler("mwaa_dr_health")
    assert _disaster(module, lambda_context, "holder")["disaster"] is True
    winner = _execution("winner")

    def dead_and_raced(holder: str, execution: str) -> str:
        # between this evaluation's status read and its write, another one replaced the holder
        boto3.resource("dynamodb", region_name=DR).Table(TABLE).put_item(
            Item={"pk": "failover-lock", "execution": winner, "locked_at": "now"}
        )
        return "FAILED"

    monkeypatch.setattr(module, "holder_status", dead_and_raced)
    loser = _disaster(module, lambda_context, "loser")
    assert loser["disaster"] is False and loser["failover_in_progress"] is True
    assert loser["lock_holder"] == winner and _lock()["execution"] == winner


# -- the primary's MWAA status holds the failover (finding 12) -----------------------------------

#: Every status of botocore's MWAA ``EnvironmentStatus``, with whether a missing heartbeat during it
#: holds the failover. From the MWAA API reference's status descriptions: the held ones are left by
#: MWAA on its own (CREATING, UPDATING, ROLLING_BACK, CREATING_SNAPSHOT, MAINTENANCE) or wait for
#: the owner to create VPC endpoints (PENDING); the others are end states in which a silent scheduler
#: is a fault (UNAVAILABLE: "not stable"; UPDATE_FAILED: back to its previous, running state).
HOLDS = {
    "CREATING": True,
    "UPDATING": True,
    "ROLLING_BACK": True,
    "CREATING_SNAPSHOT": True,
    "MAINTENANCE": True,
    "PENDING": True,
    "AVAILABLE": False,
    "UPDATE_FAILED": False,
    "UNAVAILABLE": False,
    "CREATE_FAILED": False,
    "DELETING": False,
    "DELETED": False,
}


def test_every_mwaa_status_is_classified() -> None:
    import botocore.session

    enum = botocore.session.get_session().get_service_model("mwaa").shape_for("EnvironmentStatus").enum
    assert set(enum) == set(HOLDS)
    module = load_handler("mwaa_dr_health")
    assert set(module.HOLD_STATUSES) == {s for s, held in HOLDS.items() if held}


def _stubbed_mwaa(module: ModuleType) -> Any:
    client = boto3.client("mwaa", region_name=PRIMARY)
    module._clients[("mwaa", PRIMARY)] = client
    return client


def _environment(status: str) -> dict[str, Any]:
    """A GetEnvironment answer (botocore's model checks its shape)."""
    return {
        "Environment": {
            "Name": "prod",
            "Status": status,
            "Arn": f"arn:aws:airflow:{PRIMARY}:123456789012:environment/prod",
            "AirflowVersion": "2.11.0",
        }
    }


@pytest.mark.parametrize("status", sorted(HOLDS))
def test_a_primary_in_a_transitional_status_holds_the_failover(
    aws: dict[str, Any], lambda_context: LambdaContext, status: str
) -> None:
    """Three evaluations without a heartbeat reach the threshold, unless the primary reports a
    status it is expected to be quiet in: then none counts and no disaster is declared."""
    module = load_handler("mwaa_dr_health")
    with stubbed(_stubbed_mwaa(module)) as stub:
        for _ in range(3):
            stub.add_response("get_environment", _environment(status), {"Name": "prod"})
        results = [_run(module, lambda_context) for _ in range(3)]
    assert [r["primary_status"] for r in results] == [status] * 3
    if HOLDS[status]:
        assert [r["held"] for r in results] == [True] * 3
        assert [r["consecutive_unhealthy"] for r in results] == [0, 0, 0]
        table = boto3.resource("dynamodb", region_name=DR).Table(TABLE)
        assert not any(r["disaster"] for r in results) and "Item" not in table.get_item(Key={"pk": "failover-lock"})
    else:
        assert [r["consecutive_unhealthy"] for r in results] == [1, 2, 3]
        assert results[-1]["disaster"] is True and not any(r["held"] for r in results)


def test_a_hold_restarts_the_count(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """A maintenance window after two unhealthy checks does not leave the next check one short of a
    failover: after the hold the full threshold is needed again."""
    module = load_handler("mwaa_dr_health")
    with stubbed(_stubbed_mwaa(module)) as stub:
        for status in ("AVAILABLE", "AVAILABLE", "MAINTENANCE", "AVAILABLE", "AVAILABLE"):
            stub.add_response("get_environment", _environment(status), {"Name": "prod"})
        counts = [_run(module, lambda_context)["consecutive_unhealthy"] for _ in range(5)]
    assert counts == [1, 2, 0, 1, 2]


@pytest.mark.parametrize("fault", ["unreachable", "not_found", "throttled"])
def test_an_unreadable_primary_status_holds_nothing(
    aws: dict[str, Any], lambda_context: LambdaContext, fault: str
) -> None:
    """In a Regional outage MWAA's API is down too: that must never hold a failover."""
    module = load_handler("mwaa_dr_health")
    if fault == "unreachable":

        class Down:
            def get_environment(self, **_: Any) -> None:
                raise EndpointConnectionError(endpoint_url="https://airflow.us-east-1.amazonaws.com")

        module._clients[("mwaa", PRIMARY)] = Down()
        results = [_run(module, lambda_context) for _ in range(3)]
    else:
        code = {"not_found": "ResourceNotFoundException", "throttled": "ThrottlingException"}[fault]
        with stubbed(_stubbed_mwaa(module)) as stub:
            for _ in range(3):
                stub.add_client_error("get_environment", service_error_code=code, http_status_code=404)
            results = [_run(module, lambda_context) for _ in range(3)]
    assert [r["held"] for r in results] == [False] * 3
    assert results[-1]["disaster"] is True
    assert results[-1]["primary_status"] == ("NOT_FOUND" if fault == "not_found" else None)


def test_an_unreachable_cloudwatch_skips_the_status_call(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """Both primary-Region calls timing out would not fit the function's 30 s: with CloudWatch
    unreachable, MWAA is not asked and nothing is held."""
    module = load_handler("mwaa_dr_health")

    class Down:
        def get_metric_data(self, **_: Any) -> None:
            raise EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com")

    module._clients[("cloudwatch", PRIMARY)] = Down()
    with stubbed(_stubbed_mwaa(module)):  # no response queued: a call would fail the test
        result = _run(module, lambda_context)
    assert result["primary_status"] is None and result["held"] is False and result["consecutive_unhealthy"] == 1


def _worst_seconds(client: Any) -> float:
    """The longest a call of ``client`` can take when every attempt times out (botocore's
    resolved config: ``total_max_attempts`` counts every attempt)."""
    config = client.meta.config
    return float(config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout))


def test_primary_region_calls_fit_the_functions_timeout(aws: dict[str, Any]) -> None:
    """CloudWatch and MWAA in the primary Region, both timing out, end well within the function's
    30 s (PythonHandler's default), leaving time for the state table and the backup pointer."""
    module = load_handler("mwaa_dr_health")
    cloudwatch, mwaa = (_worst_seconds(module._client(s, PRIMARY)) for s in ("cloudwatch", "mwaa"))
    assert cloudwatch == 22 and mwaa == 6
    # CloudWatch leaves at least 8 s; the status call starts only with MIN_STATUS_MS left, so it
    # always ends with 4 s to spare, and after a CloudWatch timeout it is not made at all.
    assert cloudwatch < 30 and module.MIN_STATUS_MS / 1000 - mwaa >= 4 and 30 - cloudwatch < module.MIN_STATUS_MS / 1000


def test_no_status_call_without_the_time_for_it(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    lambda_context.remaining_ms = module.MIN_STATUS_MS - 1
    with stubbed(_stubbed_mwaa(module)):  # no response queued: a call would fail the test
        result = _run(module, lambda_context)
    assert result["primary_status"] is None and result["held"] is False and result["consecutive_unhealthy"] == 1


def test_a_healthy_primary_is_not_asked_for_its_status(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    _beat(aws["cw_primary"])
    with stubbed(_stubbed_mwaa(module)):  # no response queued: a call would fail the test
        result = _run(module, lambda_context)
    assert result["healthy"] is True and result["primary_status"] is None and result["held"] is False


def test_a_drill_is_not_held(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    event = load_event("mwaa_dr_health")
    event["execution"] = _execution("drill")
    event["input"] = {"drill": True}
    with stubbed(_stubbed_mwaa(module)) as stub:
        stub.add_response("get_environment", _environment("MAINTENANCE"), {"Name": "prod"})
        result = module.handler(event, lambda_context)
    assert result["held"] is True and result["disaster"] is True
