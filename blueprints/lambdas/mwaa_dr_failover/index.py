"""Control steps of an MWAA failover and failback, each idempotent so Step Functions may retry it.

Actions (``event["action"]``):

* ``disable_schedule``: set the health-check schedule to DISABLED (first step of a failover, so no
  second failover can start).
* ``rearm``: after failback, clear the unhealthy counter and the failover lock, then enable the
  schedule again.
* ``create_environment``: create the DR environment from the primary's configuration stored in
  the backup ``event["folder"]`` (the one the failover chose and restores), with the DR network,
  execution role and DAGs bucket; an environment that already exists is left alone, so a retry
  never creates a second one.
* ``environment_status``: the DR environment's status (``NOT_FOUND`` when absent).

Configuration: ``SCHEDULE_NAME``, ``SCHEDULE_GROUP``, ``STATE_TABLE``, ``DR_ENVIRONMENT_NAME``,
and for creation ``BACKUP_BUCKET``, ``BACKUP_PREFIX``, ``EXECUTION_ROLE_ARN``,
``SOURCE_BUCKET_ARN``, ``SUBNET_IDS``, ``SECURITY_GROUP_IDS`` (comma-separated).
"""

from __future__ import annotations

import json
import os
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger()
_clients: dict[str, Any] = {}

#: GetSchedule fields that UpdateSchedule takes back unchanged.
_SCHEDULE_FIELDS = (
    "ActionAfterCompletion",
    "Description",
    "EndDate",
    "FlexibleTimeWindow",
    "GroupName",
    "KmsKeyArn",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "Target",
)


def _client(service: str) -> Any:
    if service not in _clients:
        import boto3
        from botocore.config import Config

        # Within the function's 30 s timeout: 2 attempts x (3 s to connect + 10 s between bytes read) and
        # botocore's backoff of under 1 s is 27 s. A call that still fails fails the step, and the state
        # machine's Retry runs it again (every action is idempotent).
        config = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "total_max_attempts": 2})
        _clients[service] = boto3.client(service, config=config)
    return _clients[service]


def set_schedule_state(state: str) -> dict[str, Any]:
    scheduler = _client("scheduler")
    name, group = os.environ["SCHEDULE_NAME"], os.environ.get("SCHEDULE_GROUP", "default")
    current = scheduler.get_schedule(Name=name, GroupName=group)
    if current.get("State") == state:
        return {"schedule": name, "state": state, "changed": False}
    update = {k: current[k] for k in _SCHEDULE_FIELDS if current.get(k) is not None}
    scheduler.update_schedule(Name=name, State=state, **update)
    logger.info("schedule state changed", extra={"schedule": name, "state": state})
    return {"schedule": name, "state": state, "changed": True}


def rearm() -> dict[str, Any]:
    client = _client("dynamodb")
    table = os.environ["STATE_TABLE"]
    client.delete_item(TableName=table, Key={"pk": {"S": "failover-lock"}})
    client.put_item(TableName=table, Item={"pk": {"S": "health"}, "consecutive_unhealthy": {"N": "0"}})
    return set_schedule_state("ENABLED")


def environment_status() -> dict[str, Any]:
    name = os.environ["DR_ENVIRONMENT_NAME"]
    try:
        environment = _client("mwaa").get_environment(Name=name)["Environment"]
    except _client("mwaa").exceptions.ResourceNotFoundException:
        return {"name": name, "status": "NOT_FOUND"}
    last_update = environment.get("LastUpdate") or {}
    error = (last_update.get("Error") or {}).get("ErrorMessage")
    return {"name": name, "status": environment["Status"], "error": error}


def _stored_config(folder: Any) -> dict[str, Any]:
    """The primary's portable configuration from the backup the failover chose.

    The state machine picks the backup once (the metadata function's ``resolve``: ``latest``
    when its manifest checks out, else the newest older complete folder) and passes it to this
    step and to the restore, so the environment is created from the same backup it is restored from.
    """
    prefix = os.environ.get("BACKUP_PREFIX", "backups")
    if not isinstance(folder, str) or not folder.startswith(f"{prefix}/") or ".." in folder or folder.count("/") != 1:
        raise ValueError(
            f"folder must be the chosen backup folder under {prefix}/ such as '{prefix}/20261127T080000Z'; "
            f"got {folder!r}"
        )
    body = _client("s3").get_object(Bucket=os.environ["BACKUP_BUCKET"], Key=f"{folder}/environment.json")["Body"]
    config = json.loads(body.read())
    if not isinstance(config, dict) or "AirflowVersion" not in config:
        raise ValueError(f"{folder}/environment.json holds no environment configuration")
    return config


def create_environment(folder: Any) -> dict[str, Any]:
    status = environment_status()
    if status["status"] != "NOT_FOUND":
        logger.info("DR environment already exists; not creating another", extra={"environment": status})
        return {**status, "created": False}
    config = _stored_config(folder)
    request = {
        **config,
        "Name": os.environ["DR_ENVIRONMENT_NAME"],
        "ExecutionRoleArn": os.environ["EXECUTION_ROLE_ARN"],
        "SourceBucketArn": os.environ["SOURCE_BUCKET_ARN"],
        "NetworkConfiguration": {
            "SubnetIds": os.environ["SUBNET_IDS"].split(","),
            "SecurityGroupIds": os.environ["SECURITY_GROUP_IDS"].split(","),
        },
        "WebserverAccessMode": "PRIVATE_ONLY",
        "Tags": {"blueprints:mwaa-dr": "created-by-failover"},
    }
    request.setdefault("DagS3Path", "dags")
    mwaa = _client("mwaa")
    try:
        answer = mwaa.create_environment(**request)
    except mwaa.exceptions.ValidationException as err:
        if "already exists" not in str(err):
            raise
        return {**environment_status(), "created": False}
    logger.info("DR environment creation started", extra={"arn": answer.get("Arn"), "folder": folder})
    return {"name": request["Name"], "status": "CREATING", "created": True, "arn": answer.get("Arn"), "folder": folder}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    action = (event or {}).get("action") if isinstance(event, dict) else None
    if action == "disable_schedule":
        return set_schedule_state("DISABLED")
    if action == "rearm":
        return rearm()
    if action == "create_environment":
        return create_environment(event.get("folder"))
    if action == "environment_status":
        return environment_status()
    raise ValueError(
        "event must be an object with action one of create_environment, disable_schedule, "
        f"environment_status, rearm; got {event!r:.200}"
    )
