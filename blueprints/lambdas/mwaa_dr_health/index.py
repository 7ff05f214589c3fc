"""Decide whether the primary MWAA environment is healthy, and whether to fail over.

Each evaluation reads the primary's ``SchedulerHeartbeat`` (namespace ``AmazonMWAA``, dimensions
``Function=Scheduler`` and ``Environment``) with ``GetMetricData`` over a window. An evaluation is
unhealthy when the window holds no heartbeat, or when the primary Region's CloudWatch cannot be
reached (in a Regional outage that is the evidence). The count of consecutive unhealthy
evaluations is kept in a DynamoDB item; a disaster is declared only at ``UNHEALTHY_THRESHOLD`` in
a row, and only by the one evaluation that wins a conditional write of the failover lock, so two
overlapping executions can never both fail over.

An evaluation without a heartbeat also reads the primary's MWAA status (``GetEnvironment`` in the
primary Region). While MWAA reports a status it leaves on its own (``HOLD_STATUSES``: creating,
updating, rolling back, taking a snapshot, in maintenance, or waiting for its VPC endpoints) the
scheduler is expected to be quiet: the evaluation is *held*, counts as not unhealthy (the count
restarts at 0) and never declares a disaster. A status that cannot be read (the primary Region
unreachable, the environment gone) holds nothing, and MWAA is not asked at all when CloudWatch
could not be reached.

The lock names the execution that holds it and stays until the failback clears it. A lock whose
execution has ended without completing the failover (``DescribeExecution`` answers ``FAILED``,
``TIMED_OUT`` or ``ABORTED``; or the execution belongs to another state machine; or Step
Functions no longer knows it and the lock is older than ``NOT_FOUND_GRACE``) protects nothing:
an evaluation that finds one takes it over with a conditional write on the dead holder, so a
failover that died (even before it disabled the schedule) never blocks the next one. A holder
that is ``RUNNING``, ``PENDING_REDRIVE`` or ``SUCCEEDED`` (a completed failover) keeps the lock.

An execution started with the input ``{"drill": true}`` declares a disaster regardless of the
heartbeat (a failover drill); it still has to win the lock. ``{"resume": true}`` takes the lock
over from a failover that failed part-way, once its cause is fixed, and runs the failover again
(every step is idempotent).

The function also publishes ``BackupAgeSeconds`` (embedded metric format, dimensions ``service`` and
``Environment``): the age of the newest backup that has reached the DR Region (the ``latest`` pointer in the
replicated backup bucket). A fault there is logged
and returned as ``backup_age_error``; it never changes the health verdict.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
#: Embedded metric format: the datapoint is a log line CloudWatch turns into a metric, so publishing it needs
#: no CloudWatch call (and no cloudwatch:PutMetricData) and cannot fail or slow the health verdict.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Blueprints"))

NAMESPACE = "AmazonMWAA"
HEALTH_KEY = "health"
LOCK_KEY = "failover-lock"
#: Execution statuses whose holder keeps the lock: still at work, or the failover is done.
HOLDING_STATUSES = ("RUNNING", "PENDING_REDRIVE", "SUCCEEDED")
#: DescribeExecution is eventually consistent: a holder it does not know yet is only dead once its
#: lock is older than this (Step Functions forgets closed executions after 90 days, or 30).
NOT_FOUND_GRACE = timedelta(minutes=15)
#: MWAA statuses (botocore ``EnvironmentStatus``) during which a missing heartbeat is expected and
#: no failover starts: the primary is being created, updated, rolled back, snapshotted or
#: maintained, or waits for its VPC endpoints, and leaves the status by itself or by its owner.
HOLD_STATUSES = ("CREATING", "UPDATING", "ROLLING_BACK", "CREATING_SNAPSHOT", "MAINTENANCE", "PENDING")
#: The primary's status is asked for only with this much of the function's time left.
MIN_STATUS_MS = 10_000
_clients: dict[tuple[str, str], Any] = {}


def _client(service: str, region: str | None = None) -> Any:
    key = (service, region or os.environ["AWS_REGION"])
    if key not in _clients:
        import boto3
        from botocore.config import Config

        # Short timeouts: an unreachable primary Region must count as an unhealthy evaluation
        # well within the function's 30 s timeout, not hang until it. In the primary Region,
        # CloudWatch takes at most 2 attempts x (3 + 8) s and MWAA, asked only once CloudWatch
        # has answered and only with time left (MIN_STATUS_MS), one attempt of (2 + 4) s.
        # (botocore's "max_attempts" counts retries; "total_max_attempts" counts every attempt.)
        if key[1] == os.environ["AWS_REGION"]:
            config = Config(connect_timeout=3, read_timeout=8, retries={"mode": "standard", "max_attempts": 2})
        elif service == "mwaa":
            config = Config(connect_timeout=2, read_timeout=4, retries={"mode": "standard", "total_max_attempts": 1})
        else:
            config = Config(connect_timeout=3, read_timeout=8, retries={"mode": "standard", "total_max_attempts": 2})
        _clients[key] = boto3.client(service, region_name=key[1], config=config)
    return _clients[key]


def heartbeats(environment: str, region: str, window_minutes: int, now: datetime) -> float | None:
    """Sum of SchedulerHeartbeat datapoints in the window; None when CloudWatch cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    query = {
        "Id": "heartbeat",
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": "SchedulerHeartbeat",
                "Dimensions": [
                    {"Name": "Function", "Value": "Scheduler"},
                    {"Name": "Environment", "Value": environment},
                ],
            },
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }
    try:
        answer = _client("cloudwatch", region).get_metric_data(
            MetricDataQueries=[query],
            StartTime=now - timedelta(minutes=window_minutes),
            EndTime=now,
        )
    except (ClientError, BotoCoreError) as err:
        logger.warning("primary CloudWatch unreachable; counting as unhealthy", extra={"error": str(err)})
        return None
    values = [v for r in answer.get("MetricDataResults", []) for v in r.get("Values", [])]
    return float(sum(values))


def primary_status(environment: str, region: str) -> str | None:
    """The primary's MWAA status; ``NOT_FOUND`` when it does not exist, None when MWAA cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = _client("mwaa", region).get_environment(Name=environment)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return "NOT_FOUND"
        logger.warning("primary MWAA status unreadable; holding nothing", extra={"error": str(err)})
        return None
    except BotoCoreError as err:
        logger.warning("primary MWAA unreachable; holding nothing", extra={"error": str(err)})
        return None
    return str(answer["Environment"].get("Status") or "") or None


def _table() -> Any:
    import boto3

    key = ("dynamodb-table", os.environ["AWS_REGION"])
    if key not in _clients:
        _clients[key] = boto3.resource("dynamodb", region_name=key[1]).Table(os.environ["STATE_TABLE"])
    return _clients[key]


def _count_unhealthy(healthy: bool, now: datetime) -> int:
    """Increment (or reset) the consecutive-unhealthy counter atomically; returns the new count."""
    table = _table()
    if healthy:
        table.put_item(Item={"pk": HEALTH_KEY, "consecutive_unhealthy": 0, "updated_at": now.isoformat()})
        return 0
    answer = table.update_item(
        Key={"pk": HEALTH_KEY},
        UpdateExpression="ADD consecutive_unhealthy :one SET updated_at = :now",
        ExpressionAttributeValues={":one": 1, ":now": now.isoformat()},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["consecutive_unhealthy"])


def _take_lock(execution: str, now: datetime, *, take_over: bool = False, replacing: str | None = None) -> bool:
    """Write the lock for ``execution``: when it is free, from ``replacing`` only if that execution
    still holds it, or unconditionally with ``take_over`` (a resume)."""
    from botocore.exceptions import ClientError

    item = {"pk": LOCK_KEY, "execution": execution, "locked_at": now.isoformat()}
    if take_over:
        _table().put_item(Item=item)
        return True
    condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
    if replacing is not None:
        item["replaced"] = replacing
        condition = {
            "ConditionExpression": "#execution = :holder",
            "ExpressionAttributeNames": {"#execution": "execution"},
            "ExpressionAttributeValues": {":holder": replacing},
        }
    try:
        _table().put_item(Item=item, **condition)
        return True
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise


def _lock_item() -> dict[str, Any] | None:
    item = _table().get_item(Key={"pk": LOCK_KEY}, ConsistentRead=True).get("Item")
    return dict(item) if item else None


def _lock_holder() -> str | None:
    item = _lock_item()
    return str(item["execution"]) if item else None


def _locked_since(item: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(item.get("locked_at")))
    except ValueError:
        return None


def _state_machine(execution_arn: str) -> str:
    """``arn:...:execution:<machine>:<name>`` without the execution name."""
    return execution_arn.rsplit(":", 1)[0]


def holder_status(holder: str, execution: str) -> str:
    """The Step Functions status of the lock's ``holder``, as seen from ``execution`` (the caller).

    ``OTHER_STATE_MACHINE`` when the holder is not an execution of the caller's state machine (for
    example of a replaced one) and ``NOT_FOUND`` when Step Functions no longer knows it; any other
    fault is raised, so the check fails loudly rather than guess.
    """
    from botocore.exceptions import ClientError

    if ":execution:" not in holder or _state_machine(holder) != _state_machine(execution):
        return "OTHER_STATE_MACHINE"
    try:
        return str(_client("stepfunctions").describe_execution(executionArn=holder)["status"])
    except ClientError as err:
        if err.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return "NOT_FOUND"
        raise


def claim_lock(execution: str, now: datetime) -> dict[str, Any]:
    """Take the failover lock for ``execution``, or report who holds it and why that stands.

    Returns ``{"locked": bool, "holder": str | None, "holder_status": str | None, "replaced": str | None}``.
    """
    if _take_lock(execution, now):
        return {"locked": True, "holder": execution, "holder_status": None, "replaced": None}
    item = _lock_item()
    holder = str(item["execution"]) if item else None
    if holder == execution:  # this execution's own retry
        return {"locked": True, "holder": execution, "holder_status": None, "replaced": None}
    if item is None or holder is None:  # cleared between the two calls (a failback): try once more
        locked = _take_lock(execution, now)
        return {"locked": locked, "holder": execution if locked else None, "holder_status": None, "replaced": None}
    status = holder_status(holder, execution)
    since = _locked_since(item)
    young = since is not None and now - since < NOT_FOUND_GRACE
    if status in HOLDING_STATUSES or (status == "NOT_FOUND" and young):
        return {"locked": False, "holder": holder, "holder_status": status, "replaced": None}
    logger.warning(
        "failover lock held by an execution that ended without completing the failover; taking it over",
        extra={"holder": holder, "holder_status": status},
    )
    if _take_lock(execution, now, replacing=holder):
        return {"locked": True, "holder": execution, "holder_status": status, "replaced": holder}
    # another evaluation replaced the dead holder first
    return {"locked": False, "holder": _lock_holder(), "holder_status": None, "replaced": None}


def publish_backup_age(now: datetime) -> float | None:
    """Publish the age of the replicated ``latest`` backup pointer (missing: no datapoint).

    A missing pointer is 404 because the role may list exactly that key (``s3:ListBucket`` with
    ``s3:prefix``); a 403 is therefore a real permission problem and raised like any other fault.
    """
    from botocore.exceptions import ClientError

    bucket, prefix = os.environ["BACKUP_BUCKET"], os.environ.get("BACKUP_PREFIX", "backups")
    try:
        head = _client("s3").head_object(Bucket=bucket, Key=f"{prefix}/latest.json")
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            logger.warning("no backup has reached the DR Region yet", extra={"bucket": bucket})
            return None
        raise
    age = max(0.0, (now - head["LastModified"]).total_seconds())
    metrics.add_dimension(name="Environment", value=os.environ["PRIMARY_ENVIRONMENT_NAME"])
    metrics.add_metric(name="BackupAgeSeconds", unit=MetricUnit.Seconds, value=age)
    metrics.flush_metrics()
    return age


def _time_left(context: Any) -> int:
    left = int(context.get_remaining_time_in_millis())
    if left < MIN_STATUS_MS:
        logger.warning("too little time left to read the primary's MWAA status; holding nothing", extra={"ms": left})
    return left


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    execution = str((event or {}).get("execution") or "")
    if not execution:
        raise ValueError("event must carry 'execution' (the Step Functions execution id) to own a failover lock")
    now = datetime.now(UTC)
    threshold = int(os.environ["UNHEALTHY_THRESHOLD"])
    total = heartbeats(
        os.environ["PRIMARY_ENVIRONMENT_NAME"],
        os.environ["PRIMARY_REGION"],
        int(os.environ["WINDOW_MINUTES"]),
        now,
    )
    healthy = total is not None and total > 0
    # Asked only when CloudWatch answered without a heartbeat: an unreachable primary Region holds
    # nothing, and a second unreachable call would only spend the function's time.
    status = (
        primary_status(os.environ["PRIMARY_ENVIRONMENT_NAME"], os.environ["PRIMARY_REGION"])
        if total is not None and not healthy and _time_left(context) >= MIN_STATUS_MS
        else None
    )
    held = status in HOLD_STATUSES
    if held:
        logger.info(
            "no heartbeat while the primary reports a transitional status; failover held", extra={"status": status}
        )
    count = _count_unhealthy(healthy or held, now)
    # The backup age is a side metric: a fault here must never cost the health verdict (or a
    # failover). A missing datapoint breaches the backup-age alarm, so the fault is still seen.
    backup_age_error = None
    try:
        backup_age = publish_backup_age(now)
    except Exception as err:
        backup_age, backup_age_error = None, f"{type(err).__name__}: {err}"[:300]
        logger.warning("backup age not published", extra={"error": backup_age_error})
    request = (event or {}).get("input") or {}
    drill, resume = bool(request.get("drill")), bool(request.get("resume"))
    disaster = False
    in_progress = False
    lock: dict[str, Any] = {}
    if drill or resume:
        logger.warning("failover requested by hand", extra={"drill": drill, "resume": resume})
    if resume:
        disaster = _take_lock(execution, now, take_over=True)
    elif count >= threshold or drill:
        lock = claim_lock(execution, now)
        disaster = bool(lock["locked"])
        in_progress = not disaster
    result = {
        "healthy": healthy,
        "heartbeats": total,
        "primary_status": status,
        "held": held,
        "consecutive_unhealthy": count,
        "threshold": threshold,
        "disaster": disaster,
        "failover_in_progress": in_progress,
        "backup_age_seconds": backup_age,
        "backup_age_error": backup_age_error,
        "drill": drill,
        "resume": resume,
        "lock_holder": None if disaster else lock.get("holder"),
        "lock_holder_status": lock.get("holder_status"),
        "replaced_lock_of": lock.get("replaced"),
    }
    logger.info("health evaluated", extra=result)
    return result
