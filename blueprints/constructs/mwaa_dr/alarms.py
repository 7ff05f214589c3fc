"""The alarms of the MWAA DR pair, each sending its ALARM and OK to the construct's notification topic: on the
primary, the scheduler heartbeat and backups that stop; in the DR Region, the age of the newest backup and every
failover or failback execution that fails, times out or is stopped."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.api import METRIC_NAMESPACE
from blueprints.constructs.common import execution_alarms, narrowed, notify
from blueprints.constructs.mwaa_dr.environment import heartbeat_metric
from blueprints.constructs.mwaa_dr.options import BACKUP_SERVICE, HEALTH_SERVICE
from blueprints.constructs.mwaa_dr.workflows import EXECUTION_TIMEOUT


def _primary_alarms(
    scope: Construct, *, environment_name: str, rpo: Duration, topic: sns.ITopic
) -> tuple[cloudwatch.Alarm, cloudwatch.Alarm]:
    """The scheduler-heartbeat alarm and the backups-stopped alarm of the primary environment."""
    heartbeat_alarm = cloudwatch.Alarm(
        scope,
        "SchedulerHeartbeatAlarm",
        alarm_description=f"The Airflow scheduler of {environment_name} stopped sending heartbeats",
        metric=heartbeat_metric(environment_name, Duration.minutes(5)),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    backup_alarm = cloudwatch.Alarm(
        scope,
        "BackupsStoppedAlarm",
        alarm_description=f"No metadata backup of {environment_name} completed in two RPO intervals",
        metric=cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="MwaaBackupsCompleted",
            dimensions_map={"service": BACKUP_SERVICE, "Environment": environment_name},
            statistic="Sum",
            period=rpo,
        ),
        threshold=1,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluation_periods=2,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    notify(topic, heartbeat_alarm, backup_alarm)
    return heartbeat_alarm, backup_alarm


def _dr_alarms(
    scope: Construct,
    *,
    primary_environment_name: str,
    rpo: Duration,
    failover: sfn.IStateMachine,
    failback: sfn.IStateMachine,
    topic: sns.ITopic,
) -> tuple[cloudwatch.Alarm, dict[str, cloudwatch.Alarm]]:
    """The DR Region's backup-age alarm and execution alarms (see :func:`_execution_alarms`)."""
    backup_age_alarm = _backup_age_alarm(scope, primary_environment_name=primary_environment_name, rpo=rpo)
    execution_alarms = _execution_alarms(
        scope, primary_environment_name=primary_environment_name, failover=failover, failback=failback
    )
    notify(topic, backup_age_alarm, *execution_alarms.values())
    return backup_age_alarm, execution_alarms


def _backup_age_alarm(scope: Construct, *, primary_environment_name: str, rpo: Duration) -> cloudwatch.Alarm:
    """The newest backup in the DR Region is older than two RPO intervals plus the replication allowance."""
    backup_age_limit = rpo.to_seconds() * 2 + 15 * 60
    return cloudwatch.Alarm(
        scope,
        "BackupAgeAlarm",
        alarm_description=(
            f"The newest backup of {primary_environment_name} in the DR Region is older than two RPO "
            "intervals plus the 15-minute replication allowance"
        ),
        metric=cloudwatch.Metric(
            namespace=METRIC_NAMESPACE,
            metric_name="BackupAgeSeconds",
            dimensions_map={"service": HEALTH_SERVICE, "Environment": primary_environment_name},
            statistic="Maximum",
            period=Duration.minutes(5),
        ),
        threshold=backup_age_limit,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )


def _execution_alarms(
    scope: Construct,
    *,
    primary_environment_name: str,
    failover: sfn.IStateMachine,
    failback: sfn.IStateMachine,
) -> dict[str, cloudwatch.Alarm]:
    """An alarm per state machine and bad outcome, keyed "<failover|failback>_<failed|timed_out|aborted>"."""
    # A failed execution is also notified by the state machine itself (unless it failed where no
    # Catch reaches); a timed-out or aborted one never is, so these alarms are its only signal.
    alarms: dict[str, cloudwatch.Alarm] = {}
    for machine_name, machine, what in (
        ("failover", failover, "health-check or failover"),
        ("failback", failback, "failback"),
    ):
        # FailoverExecutionsFailedAlarm ... FailbackExecutionsAbortedAlarm: each id decides a logical id
        by_outcome = execution_alarms(
            scope,
            narrowed(machine, sfn.StateMachine, "a DR state machine"),
            id_prefix=machine_name.title(),
            subject=f"A {what} execution of {primary_environment_name}'s DR",
            timeout=EXECUTION_TIMEOUT,
        )
        alarms.update({f"{machine_name}_{outcome}": alarm for outcome, alarm in by_outcome.items()})
    return alarms
