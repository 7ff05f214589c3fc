"""State machines' log groups."""

from __future__ import annotations

from aws_cdk import (
    Names,
    RemovalPolicy,
)
from aws_cdk import aws_logs as logs
from constructs import Construct

from blueprints.constructs.common.checks import narrowed, skip_checkov

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
