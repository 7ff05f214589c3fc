"""Vertical scaling of EC2 instances: move tagged instances one size up or down
a ladder, on a schedule or when an alarm fires, by restarting them with the
new type or by replacing them with a resized copy behind their load balancer.

Each resize runs in Step Functions, one small Lambda function per concern and
one invocation per step, so no step is bounded by a Lambda time limit. A
DynamoDB item per instance holds a lock that expires and a cooldown. Every
resize is reported to EventBridge and CloudWatch; failures notify SNS.

The package, by concern: ``options`` (modes, triggers, the size ladder and the
timeouts, checked before anything is built), ``functions`` (the Lambda
functions and their environments), ``grants`` (their IAM and the state
machine's, with the cdk-nag acknowledgments), ``workflows`` (the states of a
run and of each mode's resize), ``triggers`` (schedules and alarm rules),
``names`` (tags, events and metrics shared with the handlers) and
``construct`` (:class:`VerticalScaling`, which builds them in that order).
"""

from blueprints.constructs.vertical_scaling.construct import VerticalScaling
from blueprints.constructs.vertical_scaling.names import (
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    MARK_TAG_KEY,
    METRIC_SERVICE,
    OUTCOMES,
)
from blueprints.constructs.vertical_scaling.options import (
    AlarmTrigger,
    Direction,
    ReplacedInstanceAction,
    ResizeMode,
    ScheduleTrigger,
    minimum_lock_seconds,
)

__all__ = [
    "EVENT_DETAIL_TYPE",
    "EVENT_SOURCE",
    "MARK_TAG_KEY",
    "METRIC_SERVICE",
    "OUTCOMES",
    "AlarmTrigger",
    "Direction",
    "ReplacedInstanceAction",
    "ResizeMode",
    "ScheduleTrigger",
    "VerticalScaling",
    "minimum_lock_seconds",
]
