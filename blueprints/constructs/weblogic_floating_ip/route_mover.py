"""The route mover (``blueprints/lambdas/weblogic_floating_ip_route_mover``) and the EventBridge rules around the
group: launch lifecycle actions to the route mover, launches and terminations to the notification topic. Every
resource is created in the construct's own scope."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import NamedTuple

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.common import PythonHandler, TopicRuleTarget, allow_alarms_to_publish, present
from blueprints.constructs.weblogic_floating_ip.grants import grant_route_mover
from blueprints.constructs.weblogic_floating_ip.notifications import create_dead_letter_alarm
from blueprints.constructs.weblogic_floating_ip.options import LIFECYCLE_HOOK_NAME, ROUTE_TAG_KEY, ROUTE_TAG_VALUE

#: The handler's folder under ``blueprints/lambdas/``.
ROUTE_MOVER_HANDLER = "weblogic_floating_ip_route_mover"
#: Powertools' ``service`` dimension of the route mover's metrics, and the counts it publishes.
ROUTE_MOVER_SERVICE = "weblogic-route-mover"
ROUTE_MOVER_METRICS = (
    "RouteTablesUpdated",
    "LaunchesAbandoned",
    "CompletionsUnconfirmed",
    "MalformedEvents",
    "RedeliveredEvents",
)
LAUNCH_LIFECYCLE_DETAIL_TYPE = "EC2 Instance-launch Lifecycle Action"
SCALING_EVENT_DETAIL_TYPES = (
    "EC2 Instance Launch Successful",
    "EC2 Instance Launch Unsuccessful",
    "EC2 Instance Terminate Successful",
    "EC2 Instance Terminate Unsuccessful",
)


class LaunchHandling(NamedTuple):
    """What :func:`create_launch_handling` built."""

    route_mover: PythonHandler
    dead_letter_queue: sqs.IQueue
    launch_rule: events.IRule
    scaling_events_rule: events.IRule
    dead_letter_alarm: cloudwatch.IAlarm


def create_launch_handling(
    scope: Construct,
    *,
    network: ipaddress.IPv4Network,
    route_table_ids: Sequence[str],
    group_name: str,
    topic: sns.ITopic,
    code: lambda_.Code | None,
    heartbeat_timeout: Duration,
) -> LaunchHandling:
    """The route mover with its grants, the rules of the group's events, and the alarm on their DLQ: what must be
    in place before the group launches its first instance."""
    route_mover = create_route_mover(
        scope, network=network, route_table_ids=route_table_ids, group_name=group_name, topic=topic, code=code
    )
    dead_letter_queue = present(route_mover.dead_letter_queue, "the route mover's DLQ")
    grant_route_mover(
        route_mover.role, Stack.of(scope), route_table_ids=route_table_ids, group_name=group_name, topic=topic
    )
    launch_rule = create_launch_rule(
        scope,
        function=route_mover.function,
        dead_letter_queue=dead_letter_queue,
        group_name=group_name,
        heartbeat_timeout=heartbeat_timeout,
    )
    scaling_events_rule = create_scaling_events_rule(
        scope, topic=topic, dead_letter_queue=dead_letter_queue, group_name=group_name
    )
    dead_letter_alarm = create_dead_letter_alarm(scope, dead_letter_queue, topic)
    allow_alarms_to_publish(scope, topic)
    return LaunchHandling(route_mover, dead_letter_queue, launch_rule, scaling_events_rule, dead_letter_alarm)


def create_route_mover(
    scope: Construct,
    *,
    network: ipaddress.IPv4Network,
    route_table_ids: Sequence[str],
    group_name: str,
    topic: sns.ITopic,
    code: lambda_.Code | None,
) -> PythonHandler:
    """The function that points the /28 route of every table at a new instance, then tags the instance."""
    return PythonHandler(
        scope,
        "RouteMover",
        name=ROUTE_MOVER_HANDLER,
        description=f"moves the route for {network} to the WebLogic admin server the group launches",
        code=code,
        timeout=Duration.seconds(60),
        memory_size=256,
        environment={
            "DESTINATION_CIDR": str(network),
            "ROUTE_TABLE_IDS": ",".join(route_table_ids),
            "AUTO_SCALING_GROUP_NAME": group_name,
            "LIFECYCLE_HOOK_NAME": LIFECYCLE_HOOK_NAME,
            "TOPIC_ARN": topic.topic_arn,
            "ROUTE_TAG_KEY": ROUTE_TAG_KEY,
            "ROUTE_TAG_VALUE": ROUTE_TAG_VALUE,
        },
        service_name=ROUTE_MOVER_SERVICE,
    )


def create_launch_rule(
    scope: Construct,
    *,
    function: lambda_.IFunction,
    dead_letter_queue: sqs.IQueue,
    group_name: str,
    heartbeat_timeout: Duration,
) -> events.IRule:
    """The group's launch lifecycle actions to the route mover: four retries, then the DLQ."""
    return events.Rule(
        scope,
        "LaunchLifecycleRule",
        description="Launch lifecycle actions of the WebLogic admin server group",
        event_pattern=events.EventPattern(
            source=["aws.autoscaling"],
            detail_type=[LAUNCH_LIFECYCLE_DETAIL_TYPE],
            detail={"AutoScalingGroupName": [group_name], "LifecycleHookName": [LIFECYCLE_HOOK_NAME]},
        ),
        targets=[
            events_targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letter_queue,
                retry_attempts=4,
                # No point delivering after the hook has given up (EventBridge's floor is a minute).
                max_event_age=Duration.seconds(max(60, int(heartbeat_timeout.to_seconds()))),
            )
        ],
    )


def create_scaling_events_rule(
    scope: Construct, *, topic: sns.ITopic, dead_letter_queue: sqs.IQueue, group_name: str
) -> events.IRule:
    """Every launch and termination of the group to the notification topic."""
    return events.Rule(
        scope,
        "ScalingEventsRule",
        description="Launches and terminations of the WebLogic admin server group, to the notification topic",
        event_pattern=events.EventPattern(
            source=["aws.autoscaling"],
            detail_type=list(SCALING_EVENT_DETAIL_TYPES),
            detail={"AutoScalingGroupName": [group_name]},
        ),
        targets=[TopicRuleTarget(topic, dead_letter_queue=dead_letter_queue)],
    )
