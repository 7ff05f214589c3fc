"""The health check: SchedulerHeartbeat through GetMetricData, consecutive unhealthy evaluations
kept in DynamoDB, a single failover lock, and the backup-age metric (all on moto)."""

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

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed

PRIMARY = "us-east-1"
DR = "us-west-2"
TABLE = "health-state"
BUCKET = "blueprints-mwaa-backup-111111111111-us-west-2"
DIMENSIONS = [{"Name": "Function", "Value": "Scheduler"}, {"Name": "Environment", "Value": "prod"}]


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
        for key, value in {
            "AWS_REGION": DR,
            "PRIMARY_ENVIRONMENT_NAME": "prod",
            "PRIMARY_REGION": PRIMARY,
            "WINDOW_MINUTES": "3",
            "UNHEALTHY_THRESHOLD": "3",
            "STATE_TABLE": TABLE,
            "BACKUP_BUCKET": BUCKET,
            "BACKUP_PREFIX": "backups",
            "METRIC_NAMESPACE": "Blueprints",
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
    event["execution"] = execution
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
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    module = load_handler("mwaa_dr_health")
    assert _run(module, lambda_context)["backup_age_seconds"] is None
    aws["s3"].put_object(Bucket=BUCKET, Key="backups/latest.json", Body=json.dumps({"folder": "backups/x"}))
    _beat(aws["cw_primary"])
    age = _run(module, lambda_context)["backup_age_seconds"]
    assert age is not None and 0 <= age < 60
    stats = boto3.client("cloudwatch", region_name=DR).get_metric_statistics(
        Namespace="Blueprints",
        MetricName="BackupAgeSeconds",
        Dimensions=[{"Name": "Environment", "Value": "prod"}],
        StartTime=datetime.now(UTC) - timedelta(minutes=5),
        EndTime=datetime.now(UTC) + timedelta(minutes=1),
        Period=60,
        Statistics=["Maximum"],
    )
    assert stats["Datapoints"]


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


def test_a_failed_metric_publish_keeps_the_verdict(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    aws["s3"].put_object(Bucket=BUCKET, Key="backups/latest.json", Body=b"{}")
    cloudwatch = boto3.client("cloudwatch", region_name=DR)
    module._clients[("cloudwatch", DR)] = cloudwatch
    _beat(aws["cw_primary"])
    with stubbed(cloudwatch) as stub:
        stub.add_client_error("put_metric_data", "AccessDenied", "not authorized", http_status_code=403)
        result = _run(module, lambda_context)
    assert result["healthy"] is True and result["consecutive_unhealthy"] == 0
    assert result["backup_age_seconds"] is None and "AccessDenied" in result["backup_age_error"]


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
    drill = module.handler({"execution": "drill-1", "input": {"drill": True}}, lambda_context)
    assert drill["healthy"] is True and drill["disaster"] is True and drill["drill"] is True
    second = module.handler({"execution": "drill-2", "input": {"drill": True}}, lambda_context)
    assert second["disaster"] is False and second["failover_in_progress"] is True


def test_resume_takes_over_the_lock_of_a_failed_failover(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_health")
    assert module.handler({"execution": "first", "input": {"drill": True}}, lambda_context)["disaster"] is True
    assert module.handler({"execution": "retry", "input": {}}, lambda_context)["disaster"] is False
    resumed = module.handler({"execution": "retry", "input": {"resume": True}}, lambda_context)
    assert resumed["disaster"] is True and resumed["resume"] is True
    lock = boto3.resource("dynamodb", region_name=DR).Table(TABLE).get_item(Key={"pk": "failover-lock"})["Item"]
    assert lock["execution"] == "retry"
