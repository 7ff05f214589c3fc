"""What starts a run: an EventBridge Scheduler schedule per :class:`ScheduleTrigger` and an EventBridge rule per
:class:`AlarmTrigger`, each retrying delivery and keeping what it could not deliver in a dead-letter queue."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.vertical_scaling.options import AlarmTrigger, ScheduleTrigger

_RETRY_ATTEMPTS = 3
_MAX_EVENT_AGE = Duration.hours(1)


def add_schedules(
    scope: Construct,
    triggers: Sequence[ScheduleTrigger],
    *,
    state_machine: sfn.IStateMachine,
    dead_letters: sqs.IQueue,
    targets: str,
) -> list[scheduler.ISchedule]:
    """One schedule per trigger, in ``scope``, starting ``state_machine``; ``targets`` names the instances
    (``key=value``) in the default description."""
    schedules: list[scheduler.ISchedule] = []
    for index, trigger in enumerate(triggers):
        schedules.append(
            scheduler.Schedule(
                scope,
                f"Schedule{index}{trigger.direction.value.title()}",
                schedule=trigger.schedule,
                description=trigger.description or f"Moves {targets} instances {trigger.direction.value} one size",
                target=scheduler_targets.StepFunctionsStartExecution(
                    state_machine,
                    input=scheduler.ScheduleTargetInput.from_object(
                        {
                            "direction": trigger.direction.value,
                            "trigger": f"schedule {trigger.schedule.expression_string}",
                        }
                    ),
                    dead_letter_queue=dead_letters,
                    retry_attempts=_RETRY_ATTEMPTS,
                    max_event_age=_MAX_EVENT_AGE,
                ),
            )
        )
    return schedules


def add_alarm_rules(
    scope: Construct,
    triggers: Sequence[AlarmTrigger],
    *,
    state_machine: sfn.IStateMachine,
    dead_letters: sqs.IQueue,
    targets: str,
) -> list[events.IRule]:
    """One rule per trigger, in ``scope``, starting ``state_machine`` when the alarm enters ``ALARM``."""
    rules: list[events.IRule] = []
    for index, trigger in enumerate(triggers):
        rules.append(
            events.Rule(
                scope,
                f"Alarm{index}{trigger.direction.value.title()}",
                description=f"Moves {targets} instances {trigger.direction.value} one size when the alarm fires",
                event_pattern=events.EventPattern(
                    source=["aws.cloudwatch"],
                    detail_type=["CloudWatch Alarm State Change"],
                    resources=[trigger.alarm.alarm_arn],
                    detail={"state": {"value": ["ALARM"]}},
                ),
                targets=[
                    events_targets.SfnStateMachine(
                        state_machine,
                        input=events.RuleTargetInput.from_object(
                            {
                                "direction": trigger.direction.value,
                                "trigger": f"alarm {events.EventField.from_path('$.detail.alarmName')}",
                            }
                        ),
                        dead_letter_queue=dead_letters,
                        retry_attempts=_RETRY_ATTEMPTS,
                        max_event_age=_MAX_EVENT_AGE,
                    )
                ],
            )
        )
    return rules
