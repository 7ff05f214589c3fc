"""The Lambda functions of vertical scaling, one per concern (``blueprints/lambdas/vertical_scaling_<name>/``),
and what each is told through its environment."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.common import PythonHandler
from blueprints.constructs.vertical_scaling.names import MARK_TAG_KEY, METRIC_SERVICE, SYNC_CALLER
from blueprints.constructs.vertical_scaling.options import ResizeMode, ResizeOptions


@dataclass(frozen=True)
class Functions:
    """The functions one construct runs: a run's targets, then per instance its lock, plan, steps and report."""

    targets: PythonHandler
    lock: PythonHandler
    plan: PythonHandler
    #: The mode's steps: ``vertical_scaling_restart`` or ``vertical_scaling_replace``.
    step: PythonHandler
    report: PythonHandler

    def as_list(self) -> list[lambda_.IFunction]:
        """The functions, in the order of the attribute ``VerticalScaling.handlers``."""
        return [h.function for h in (self.targets, self.lock, self.plan, self.step, self.report)]


def create_functions(
    scope: Construct,
    *,
    options: ResizeOptions,
    target_tag_key: str,
    target_tag_value: str,
    cooldown: Duration,
    dry_run: bool,
    image_reboot: bool,
    target_groups: Sequence[elbv2.ITargetGroup] | None,
    lock_table: dynamodb.ITable,
    event_bus: events.IEventBus,
    notification_topic: sns.ITopic,
    log_retention: logs.RetentionDays,
) -> Functions:
    """The five functions, in ``scope``; each also knows the run's tag, mode and dry-run default."""
    common = {
        "TARGET_TAG_KEY": target_tag_key,
        "TARGET_TAG_VALUE": target_tag_value,
        "MODE": options.mode.value,
        "DRY_RUN": "true" if dry_run else "false",
    }

    def function(name: str, description: str, extra: dict[str, str] | None = None) -> PythonHandler:
        return PythonHandler(
            scope,
            name.title().replace("_", "") + "Function",
            name=f"vertical_scaling_{name}",
            description=f"{description} ({scope.node.path})"[:256],
            environment={**common, **(extra or {})},
            timeout=Duration.minutes(1),
            log_retention=log_retention,
            sync_caller=SYNC_CALLER,
            service_name=METRIC_SERVICE,
        )

    action = options.replaced_instance_action.value
    targets = function(
        "targets", "Lists the tagged instances a vertical-scaling run resizes", {"MARK_TAG_KEY": MARK_TAG_KEY}
    )
    lock = function(
        "lock",
        "Takes and releases the per-instance resize lock and cooldown",
        {
            "TABLE_NAME": lock_table.table_name,
            "LOCK_SECONDS": str(int(options.lock_timeout.to_seconds())),
            "COOLDOWN_SECONDS": str(int(cooldown.to_seconds())),
        },
    )
    plan_environment = {"LADDER": json.dumps(options.rungs), "MARK_TAG_KEY": MARK_TAG_KEY}
    if options.mode is ResizeMode.REPLACE:
        plan_environment["OLD_INSTANCE_ACTION"] = action
    if target_groups:
        arns = [g.target_group_arn for g in target_groups]
        plan_environment["TARGET_GROUP_ARNS"] = Stack.of(scope).to_json_string(arns)
    plan = function("plan", "Plans one resize and checks the new type fits the instance", plan_environment)
    report = function(
        "report",
        "Reports each resize to EventBridge, CloudWatch and SNS",
        {"EVENT_BUS_NAME": event_bus.event_bus_name, "TOPIC_ARN": notification_topic.topic_arn},
    )
    if options.mode is ResizeMode.RESTART:
        step = function("restart", "Runs one step of a restart-mode resize")
    else:
        step = function(
            "replace",
            "Runs one step of a replace-mode resize",
            {
                "MARK_TAG_KEY": MARK_TAG_KEY,
                "OLD_INSTANCE_ACTION": action,
                "IMAGE_REBOOT": "true" if image_reboot else "false",
            },
        )
    return Functions(targets=targets, lock=lock, plan=plan, step=step, report=report)
