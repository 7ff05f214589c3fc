"""State machines the library's way: logged under /aws/vendedlogs/states/, traced, acknowledged, alarmed."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import (
    Duration,
    Names,
    RemovalPolicy,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.common.checks import acknowledge, acknowledge_wildcard, narrowed, skip_checkov

#: Where a state machine's execution logs go. Step Functions delivers them as vended logs, which CloudWatch Logs
#: admits through a resource policy that Step Functions adds to when logging is turned on; those policies are
#: limited to 5,120 characters (and 10 per Region), so in a busy account a new state machine's logging fails to
#: be set up. Log groups under ``/aws/vendedlogs/`` are admitted without growing the policy (Step Functions
#: Developer Guide, "Avoiding Amazon CloudWatch Logs resource policy size restrictions"; CloudWatch Logs User
#: Guide, "Enabling logging from AWS services"), and ``/aws/vendedlogs/states/`` is what the Step Functions
#: console names them.
STATE_MACHINE_LOG_PREFIX = "/aws/vendedlogs/states/"
_LOG_GROUP_NAME_MAX = 512


def state_machine_log_group(
    scope: Construct,
    id: str,
    *,
    retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
) -> logs.LogGroup:
    """A log group for one state machine's execution logs, named ``/aws/vendedlogs/states/<stack>-<path>-<hash>``.

    The name is fixed, so it carries the stack name and the construct path (``Names.unique_resource_name``)
    to be unique in the account and Region. Because a fixed name cannot be created twice, the group is
    deleted with the stack by default: a retained group would make the stack fail to create again.
    """
    log_group = logs.LogGroup(scope, id, retention=retention, removal_policy=removal_policy)
    name = STATE_MACHINE_LOG_PREFIX + Names.unique_resource_name(
        log_group,
        separator="-",
        allowed_special_characters="-_.",
        max_length=_LOG_GROUP_NAME_MAX - len(STATE_MACHINE_LOG_PREFIX),
    )
    cfn_log_group = narrowed(log_group.node.default_child, logs.CfnLogGroup, "the log group's resource")
    cfn_log_group.log_group_name = name
    skip_checkov(
        log_group,
        ["CKV_AWS_158"],
        "Execution logs carry state names, resource identifiers and outcomes of the library's own workflows; "
        "CloudWatch Logs encrypts every log group at rest, and the data does not warrant a customer managed key.",
    )
    return log_group


def logged_state_machine(
    scope: Construct,
    id: str,
    *,
    definition: sfn.IChainable,
    timeout: Duration,
    invoked_functions: Sequence[lambda_.IFunction] = (),
    retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    comment: str | None = None,
) -> tuple[sfn.StateMachine, logs.LogGroup]:
    """A state machine with X-Ray tracing and every execution logged, data included, to its own group
    (``<id>Logs``, under ``/aws/vendedlogs/states/``), with the acknowledgments every such machine needs: its
    role's log-delivery and X-Ray actions on ``*``, and each of ``invoked_functions`` at any version (``:*``),
    as the Lambda task integration grants. Returns the machine and its log group."""
    log_group = state_machine_log_group(scope, f"{id}Logs", retention=retention)
    machine = sfn.StateMachine(
        scope,
        id,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        comment=comment,
    )
    acknowledge(
        machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "Step Functions log delivery and X-Ray tracing actions support no resource-level permissions.",
    )
    for function in invoked_functions:
        acknowledge_wildcard(
            machine.role,
            f"{function.function_arn}:*",
            "Step Functions may invoke this one function's versions and aliases (ARN suffix ':*'), as the "
            "Lambda task integration grants; no other function.",
        )
    return machine, log_group


#: An execution's ends that need an alarm: (key, metric method, id suffix, what happened).
EXECUTION_OUTCOMES = (
    ("failed", "metric_failed", "Failed", "failed"),
    ("timed_out", "metric_timed_out", "TimedOut", "timed out"),
    ("aborted", "metric_aborted", "Aborted", "was stopped before it finished"),
)


def execution_alarms(
    scope: Construct, machine: sfn.StateMachine, *, id_prefix: str, subject: str, timeout: Duration | None = None
) -> dict[str, cloudwatch.Alarm]:
    """An alarm per failed, timed-out and aborted execution of ``machine`` (5-minute sums, at least one, no data
    is fine), ``<id_prefix>Executions<Failed|TimedOut|Aborted>Alarm``, described as "<subject> <what happened>".
    A timed-out or aborted execution runs no Catch, so these alarms are its only signal. Keyed by outcome."""
    alarms = {}
    for key, metric_name, suffix, happened in EXECUTION_OUTCOMES:
        if key == "timed_out" and timeout is not None:
            happened = f"timed out (limit {timeout.to_hours():g} hours)"
        metric: cloudwatch.Metric = getattr(machine, metric_name)(period=Duration.minutes(5), statistic="Sum")
        alarms[key] = cloudwatch.Alarm(
            scope,
            f"{id_prefix}Executions{suffix}Alarm",
            alarm_description=f"{subject} {happened}",
            metric=metric,
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
    return alarms
