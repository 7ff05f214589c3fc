"""The DR Region's health check: the function that decides a disaster from the primary's heartbeat, the
EventBridge Scheduler schedule that starts the failover state machine with it, and what the function may read
of that state machine's executions."""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.common import PythonHandler, acknowledge, nag_text
from blueprints.constructs.mwaa_dr.environment import _environment_arn
from blueprints.constructs.mwaa_dr.grants import _KEY_WRITE, _ack_key_use, _grant_key_via
from blueprints.constructs.mwaa_dr.options import BACKUP_PREFIX, HEALTH_SERVICE


def _health_function(
    scope: Construct,
    *,
    primary_environment_name: str,
    primary_region: str,
    heartbeat_window: Duration,
    unhealthy_threshold: int,
    state_table: dynamodb.ITable,
    backup_bucket: s3.IBucket,
    key: kms.IKey,
) -> PythonHandler:
    """The health check: the primary's heartbeat and MWAA status, the health state, the newest backup's age."""
    handler = PythonHandler(
        scope,
        "HealthCheck",
        name="mwaa_dr_health",
        description=f"evaluates the SchedulerHeartbeat of MWAA environment {primary_environment_name}",
        sync_caller="the failover state machine",
        service_name=HEALTH_SERVICE,
        environment={
            "PRIMARY_ENVIRONMENT_NAME": primary_environment_name,
            "PRIMARY_REGION": primary_region,
            "WINDOW_MINUTES": str(int(heartbeat_window.to_minutes())),
            "UNHEALTHY_THRESHOLD": str(unhealthy_threshold),
            "STATE_TABLE": state_table.table_name,
            "BACKUP_BUCKET": backup_bucket.bucket_name,
            "BACKUP_PREFIX": BACKUP_PREFIX,
        },
    )
    health = handler.function
    health.add_to_role_policy(iam.PolicyStatement(actions=["cloudwatch:GetMetricData"], resources=["*"]))
    # The primary's MWAA status: a primary that is updating or in maintenance holds the failover.
    health.add_to_role_policy(
        iam.PolicyStatement(
            actions=["airflow:GetEnvironment"],
            resources=[_environment_arn(scope, primary_environment_name, primary_region)],
        )
    )
    health.add_to_role_policy(
        iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            resources=[state_table.table_arn],
        )
    )
    # DynamoDB for the encrypted health-state table, S3 for the SSE-KMS ``latest`` pointer.
    _grant_key_via(health, key, _KEY_WRITE, ["dynamodb", "s3"])
    _ack_key_use(
        handler.role,
        "Reads and writes the KMS-encrypted health-state table and reads the SSE-KMS backup pointer",
        ["DynamoDB", "S3"],
    )
    latest = f"{BACKUP_PREFIX}/latest.json"
    health.add_to_role_policy(
        iam.PolicyStatement(actions=["s3:GetObject"], resources=[backup_bucket.arn_for_objects(latest)])
    )
    # Without ListBucket, S3 answers 403 instead of 404 for a pointer that has not replicated yet.
    # S3 checks ListBucket with the requested key as s3:prefix, so the grant lists nothing else.
    health.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[backup_bucket.bucket_arn],
            conditions={"StringEquals": {"s3:prefix": latest}},
        )
    )
    acknowledge(
        handler.role,
        "AwsSolutions-IAM5[Resource::*]",
        "cloudwatch:GetMetricData supports no resource-level permissions (the Service Authorization Reference "
        "lists no resource type for it); the function only reads the primary's SchedulerHeartbeat.",
    )
    return handler


def _allow_lock_release(scope: Construct, health: PythonHandler, failover_machine: sfn.StateMachine) -> None:
    """The health check frees a failover lock whose execution ended without completing the
    failover (failed, timed out, aborted). A separate policy, not the role's default one: the
    function must not depend on the state machine that invokes it."""
    executions = Stack.of(scope).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{failover_machine.state_machine_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    lock_policy = iam.Policy(
        scope,
        "HealthCheckLockPolicy",
        statements=[iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])],
    )
    lock_policy.attach_to_role(health.role)
    acknowledge(
        lock_policy,
        f"AwsSolutions-IAM5[Resource::{nag_text(scope, executions)}]",
        "The health check reads the status of whichever failover execution holds the lock; execution names "
        "are generated at run time, so the statement names every execution of the construct's own failover "
        "state machine, read-only.",
    )


def _health_check_schedule(
    scope: Construct,
    *,
    schedule_name: str,
    primary_environment_name: str,
    check_interval: Duration,
    failover_machine: sfn.IStateMachine,
    failover: PythonHandler,
) -> scheduler.Schedule:
    """Starts ``failover_machine`` every ``check_interval``; ``failover`` disables the schedule and enables it
    again, so it may pass the schedule's role to EventBridge Scheduler."""
    scheduler_role = iam.Role(
        scope,
        "SchedulerRole",
        assumed_by=iam.ServicePrincipal(
            "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(scope).account}}
        ),
        description=f"Starts the MWAA DR health check of {primary_environment_name}",
    )
    schedule = scheduler.Schedule(
        scope,
        "HealthCheckSchedule",
        schedule_name=schedule_name,
        description=(
            f"Health check of MWAA environment {primary_environment_name}; disabled by a failover, "
            "enabled again by the failback"
        ),
        schedule=scheduler.ScheduleExpression.rate(check_interval),
        target=scheduler_targets.StepFunctionsStartExecution(
            failover_machine,
            role=scheduler_role,
            input=scheduler.ScheduleTargetInput.from_object({}),
            # A missed check is superseded by the next one; never replay stale checks.
            max_event_age=check_interval,
            retry_attempts=2,
        ),
        time_window=scheduler.TimeWindow.off(),
    )
    failover.function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[scheduler_role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
        )
    )
    return schedule
