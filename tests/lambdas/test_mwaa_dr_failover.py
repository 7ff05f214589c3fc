"""Failover control steps: the schedule on moto's EventBridge Scheduler, the state table on moto's
DynamoDB, and MWAA CreateEnvironment / GetEnvironment through the Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.handler_kit import LambdaContext, load_handler, stubbed

REGION = "us-west-2"
TABLE = "health-state"
BUCKET = "blueprints-mwaa-backup-111111111111-us-west-2"
SCHEDULE = "blueprints-mwaa-health-check"
#: what the state machine passes: the folder its ChooseBackup step resolved
CREATE = {"action": "create_environment", "folder": "backups/20261127T080000Z"}
STORED = {
    "AirflowVersion": "2.10.3",
    "EnvironmentClass": "mw1.small",
    "MaxWorkers": 2,
    "Schedulers": 2,
    "DagS3Path": "dags",
    "RequirementsS3Path": "requirements.txt",
    "RequirementsS3ObjectVersion": "v1",
    "AirflowConfigurationOptions": {"core.default_timezone": "utc"},
    "LoggingConfiguration": {"TaskLogs": {"Enabled": True, "LogLevel": "INFO"}},
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        scheduler = boto3.client("scheduler", region_name=REGION)
        scheduler.create_schedule(
            Name=SCHEDULE,
            ScheduleExpression="rate(2 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": "arn:aws:states:us-west-2:111111111111:stateMachine:F",
                "RoleArn": "arn:aws:iam::111111111111:role/s",
            },
            State="ENABLED",
        )
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=BUCKET, Key="backups/latest.json", Body=json.dumps({"folder": "backups/20261127T080000Z"}))
        s3.put_object(Bucket=BUCKET, Key="backups/20261127T080000Z/environment.json", Body=json.dumps(STORED))
        for key, value in {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "SCHEDULE_NAME": SCHEDULE,
            "SCHEDULE_GROUP": "default",
            "STATE_TABLE": TABLE,
            "DR_ENVIRONMENT_NAME": "standby",
            "BACKUP_BUCKET": BUCKET,
            "BACKUP_PREFIX": "backups",
            "EXECUTION_ROLE_ARN": "arn:aws:iam::111111111111:role/mwaa-exec",
            "SOURCE_BUCKET_ARN": "arn:aws:s3:::blueprints-mwaa-dags-111111111111-us-west-2",
            "SUBNET_IDS": "subnet-a,subnet-b",
            "SECURITY_GROUP_IDS": "sg-1",
        }.items():
            monkeypatch.setenv(key, value)
        yield {"scheduler": scheduler, "dynamodb": dynamodb, "s3": s3}


def _with_mwaa(module: ModuleType) -> Any:
    client = boto3.client("mwaa", region_name=REGION)
    module._clients["mwaa"] = client
    return client


def test_disable_schedule_keeps_its_definition_and_is_idempotent(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    module = load_handler("mwaa_dr_failover")
    assert module.handler({"action": "disable_schedule"}, lambda_context)["changed"] is True
    schedule = aws["scheduler"].get_schedule(Name=SCHEDULE)
    assert schedule["State"] == "DISABLED"
    assert schedule["ScheduleExpression"] == "rate(2 minutes)"
    assert schedule["Target"]["Arn"].endswith(":stateMachine:F")
    assert module.handler({"action": "disable_schedule"}, lambda_context)["changed"] is False


def test_rearm_clears_the_lock_and_enables_the_schedule(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_failover")
    module.handler({"action": "disable_schedule"}, lambda_context)
    aws["dynamodb"].put_item(TableName=TABLE, Item={"pk": {"S": "failover-lock"}, "execution": {"S": "x"}})
    aws["dynamodb"].put_item(TableName=TABLE, Item={"pk": {"S": "health"}, "consecutive_unhealthy": {"N": "7"}})
    assert module.handler({"action": "rearm"}, lambda_context)["state"] == "ENABLED"
    assert "Item" not in aws["dynamodb"].get_item(TableName=TABLE, Key={"pk": {"S": "failover-lock"}})
    health = aws["dynamodb"].get_item(TableName=TABLE, Key={"pk": {"S": "health"}})["Item"]
    assert health["consecutive_unhealthy"] == {"N": "0"}
    assert aws["scheduler"].get_schedule(Name=SCHEDULE)["State"] == "ENABLED"


def test_create_environment_from_stored_configuration(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        stub.add_response(
            "create_environment",
            {"Arn": "arn:aws:airflow:us-west-2:111111111111:environment/standby"},
            {
                **STORED,
                "Name": "standby",
                "ExecutionRoleArn": "arn:aws:iam::111111111111:role/mwaa-exec",
                "SourceBucketArn": "arn:aws:s3:::blueprints-mwaa-dags-111111111111-us-west-2",
                "NetworkConfiguration": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
                "WebserverAccessMode": "PRIVATE_ONLY",
                "Tags": {"blueprints:mwaa-dr": "created-by-failover"},
            },
        )
        result = module.handler(CREATE, lambda_context)
    assert result["created"] is True and result["status"] == "CREATING"


def test_create_environment_retry_never_creates_a_second_one(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_response(
            "get_environment",
            {"Environment": {"Name": "standby", "Status": "CREATING"}},
            {"Name": "standby"},
        )
        result = module.handler(CREATE, lambda_context)
    assert result == {"name": "standby", "status": "CREATING", "error": None, "created": False}


def test_create_environment_service_fault_is_raised(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        stub.add_client_error(
            "create_environment", service_error_code="ServiceUnavailableException", http_status_code=503
        )
        with pytest.raises(client.exceptions.ServiceUnavailableException):
            module.handler(CREATE, lambda_context)


def test_create_without_a_stored_configuration_fails_loudly(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    aws["s3"].put_object(Bucket=BUCKET, Key="backups/20261127T080000Z/environment.json", Body=b"[]")
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        with pytest.raises(ValueError, match="no environment configuration"):
            module.handler(CREATE, lambda_context)


def test_create_environment_uses_the_chosen_backup_not_latest_json(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """latest.json names a newer folder whose files have not replicated yet: the environment is
    created from the folder the failover chose (and restores), never from the pointer."""
    aws["s3"].put_object(
        Bucket=BUCKET, Key="backups/latest.json", Body=json.dumps({"folder": "backups/20261127T090000Z"})
    )
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        stub.add_response(
            "create_environment",
            {"Arn": "arn:aws:airflow:us-west-2:111111111111:environment/standby"},
            {
                **STORED,
                "Name": "standby",
                "ExecutionRoleArn": "arn:aws:iam::111111111111:role/mwaa-exec",
                "SourceBucketArn": "arn:aws:s3:::blueprints-mwaa-dags-111111111111-us-west-2",
                "NetworkConfiguration": {"SubnetIds": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]},
                "WebserverAccessMode": "PRIVATE_ONLY",
                "Tags": {"blueprints:mwaa-dr": "created-by-failover"},
            },
        )
        result = module.handler(CREATE, lambda_context)
    assert result["created"] is True and result["folder"] == "backups/20261127T080000Z"


@pytest.mark.parametrize(
    "folder", [None, "", "failback/20261127T080000Z", "backups/../failback/x", "backups/a/b", ["backups/x"]]
)
def test_create_environment_refuses_a_folder_outside_the_backups(
    aws: dict[str, Any], lambda_context: LambdaContext, folder: Any
) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        with pytest.raises(ValueError, match="folder must be the chosen backup folder under backups/"):
            module.handler({"action": "create_environment", "folder": folder}, lambda_context)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"Environment": {"Name": "standby", "Status": "AVAILABLE"}}, {"status": "AVAILABLE", "error": None}),
        (
            {
                "Environment": {
                    "Name": "standby",
                    "Status": "CREATE_FAILED",
                    "LastUpdate": {"Error": {"ErrorCode": "x", "ErrorMessage": "subnets have no route"}},
                }
            },
            {"status": "CREATE_FAILED", "error": "subnets have no route"},
        ),
    ],
)
def test_environment_status(
    aws: dict[str, Any], lambda_context: LambdaContext, answer: dict[str, Any], expected: dict[str, Any]
) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_response("get_environment", answer, {"Name": "standby"})
        assert module.handler({"action": "environment_status"}, lambda_context) == {"name": "standby", **expected}


def test_environment_status_not_found(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = load_handler("mwaa_dr_failover")
    client = _with_mwaa(module)
    with stubbed(client) as stub:
        stub.add_client_error("get_environment", service_error_code="ResourceNotFoundException", http_status_code=404)
        assert module.handler({"action": "environment_status"}, lambda_context)["status"] == "NOT_FOUND"


@pytest.mark.parametrize("event", [{}, {"action": "delete_everything"}, None])
def test_bad_events_are_rejected(aws: dict[str, Any], lambda_context: LambdaContext, event: Any) -> None:
    module = load_handler("mwaa_dr_failover")
    with pytest.raises(ValueError, match="action one of"):
        module.handler(event, lambda_context)
