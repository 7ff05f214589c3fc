"""Points the floating IP's /28 route at the WebLogic admin server the group is launching.

Invoked by EventBridge for the group's ``EC2 Instance-launch Lifecycle Action``.
For a launch whose lifecycle action is still pending it turns off the new
instance's source/destination check, moves the /28 route in every configured
route table to the instance (``ReplaceRoute``, or ``CreateRoute`` where the
route does not exist yet; never delete-then-create, which would leave a gap),
tags the instance ``ROUTE_TAG_KEY=ROUTE_TAG_VALUE`` (the instance's boot script
reads the tag from instance metadata and starts WebLogic only once it is there),
and completes the action with ``CONTINUE``. If any of that fails it completes
the action with ``ABANDON``, so the group replaces the instance, and notifies
the SNS topic; an abandoned instance is never tagged.

Safe to retry: the first call records a heartbeat on the action, which fails
once the action is no longer pending, so a second delivery of the same event
(or a late one for an instance already replaced) changes nothing. Repeating a
route move within one pending action is harmless, because ``ReplaceRoute`` to
the same instance is a no-op, and so is tagging it again with the same value.

``CompleteLifecycleAction`` is sent once, with the SDK's retries off: if a
completion took effect but its answer was lost, a retry would be told "No active
Lifecycle Action", which reads like a heartbeat timeout. A completion that gets no
answer (a server error, a timeout, a dropped connection) is reported as
unconfirmed instead, and for ``CONTINUE`` a heartbeat then asks whether the
action is still pending: if it is, the invocation fails and Lambda retries the
whole run.
"""

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger()
metrics = Metrics()

LAUNCH_DETAIL_TYPE = "EC2 Instance-launch Lifecycle Action"
LAUNCH_TRANSITION = "autoscaling:EC2_INSTANCE_LAUNCHING"
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_TOKEN = re.compile(r"^[A-Za-z0-9-]{36}$")
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10)
#: For CompleteLifecycleAction: one attempt (see the module docstring).
_ONE_ATTEMPT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=10)
#: The key of the Auto Scaling client that completes lifecycle actions.
COMPLETION_CLIENT = "autoscaling:complete"
_clients: dict[str, Any] = {}


class MalformedEventError(ValueError):
    """The event is not a launch lifecycle action of this construct's group."""


class CompletionUnconfirmed(Exception):
    """CompleteLifecycleAction got no answer: it may or may not have taken effect."""


@dataclass(frozen=True)
class Settings:
    destination_cidr: str
    route_table_ids: tuple[str, ...]
    group_name: str
    hook_name: str
    topic_arn: str
    route_tag_key: str
    route_tag_value: str

    @classmethod
    def from_environment(cls) -> "Settings":
        tables = tuple(t.strip() for t in os.environ["ROUTE_TABLE_IDS"].split(",") if t.strip())
        if not tables:
            raise RuntimeError("ROUTE_TABLE_IDS lists no route table; the construct sets at least one")
        return cls(
            destination_cidr=os.environ["DESTINATION_CIDR"],
            route_table_ids=tables,
            group_name=os.environ["AUTO_SCALING_GROUP_NAME"],
            hook_name=os.environ["LIFECYCLE_HOOK_NAME"],
            topic_arn=os.environ["TOPIC_ARN"],
            route_tag_key=os.environ["ROUTE_TAG_KEY"],
            route_tag_value=os.environ["ROUTE_TAG_VALUE"],
        )


@dataclass(frozen=True)
class LaunchAction:
    instance_id: str
    token: str
    group_name: str
    hook_name: str

    def lifecycle_params(self) -> dict[str, str]:
        return {
            "AutoScalingGroupName": self.group_name,
            "LifecycleHookName": self.hook_name,
            "LifecycleActionToken": self.token,
            "InstanceId": self.instance_id,
        }


def _client(name: str) -> Any:
    """One boto3 client per service and container, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CLIENT_CONFIG)
    return _clients[name]


def _completion_client() -> Any:
    """The Auto Scaling client for CompleteLifecycleAction: one attempt per call."""
    if COMPLETION_CLIENT not in _clients:
        _clients[COMPLETION_CLIENT] = boto3.client("autoscaling", config=_ONE_ATTEMPT_CONFIG)
    return _clients[COMPLETION_CLIENT]


def parse_action(event: dict[str, Any], settings: Settings) -> LaunchAction:
    """The launch action in the EventBridge ``event``, or :class:`MalformedEventError` saying what is wrong."""
    if not isinstance(event, dict):
        raise MalformedEventError(f"the event is a {type(event).__name__}, not an EventBridge event object")
    received = EventBridgeEvent(event)
    try:
        source, detail_type = received.source, received.detail_type
    except KeyError as missing:
        source = detail_type = f"<no {missing.args[0]}>"
    if source != "aws.autoscaling" or detail_type != LAUNCH_DETAIL_TYPE:
        raise MalformedEventError(
            f"expected source aws.autoscaling and detail-type {LAUNCH_DETAIL_TYPE!r}; got {source!r} / {detail_type!r}"
        )
    detail = received.get("detail")  # the data class's detail property raises KeyError when it is missing
    if not isinstance(detail, dict):
        raise MalformedEventError("the event has no detail object")
    fields = {}
    for key in ("EC2InstanceId", "LifecycleActionToken", "AutoScalingGroupName", "LifecycleHookName"):
        value = detail.get(key)
        if not isinstance(value, str) or not value:
            raise MalformedEventError(f"detail.{key} is missing or not a string")
        fields[key] = value
    if detail.get("LifecycleTransition", LAUNCH_TRANSITION) != LAUNCH_TRANSITION:
        raise MalformedEventError(f"detail.LifecycleTransition is {detail.get('LifecycleTransition')!r}, not a launch")
    if not _INSTANCE_ID.match(fields["EC2InstanceId"]):
        raise MalformedEventError(f"detail.EC2InstanceId {fields['EC2InstanceId']!r} is not an instance ID")
    if not _TOKEN.match(fields["LifecycleActionToken"]):
        raise MalformedEventError("detail.LifecycleActionToken is not a 36-character lifecycle action token")
    if fields["AutoScalingGroupName"] != settings.group_name or fields["LifecycleHookName"] != settings.hook_name:
        raise MalformedEventError(
            f"the event is for group {fields['AutoScalingGroupName']!r} hook {fields['LifecycleHookName']!r}; "
            f"this function serves group {settings.group_name!r} hook {settings.hook_name!r}"
        )
    return LaunchAction(
        instance_id=fields["EC2InstanceId"],
        token=fields["LifecycleActionToken"],
        group_name=fields["AutoScalingGroupName"],
        hook_name=fields["LifecycleHookName"],
    )


def _is_no_active_action(error: ClientError) -> bool:
    err = error.response.get("Error", {})
    return err.get("Code") == "ValidationError" and "No active Lifecycle Action" in err.get("Message", "")


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))


def _is_route_missing(error: ClientError) -> bool:
    # EC2 answers ReplaceRoute for a missing route with InvalidParameterValue
    # ("There is no route defined ... Use CreateRoute instead"); InvalidRoute.NotFound
    # is its code for the same condition elsewhere.
    code = _error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    return code == "InvalidRoute.NotFound" or (code == "InvalidParameterValue" and "no route defined" in message)


def action_is_pending(action: LaunchAction) -> bool:
    """Record a heartbeat: True while the action waits for us, False once it was completed or timed out."""
    try:
        _client("autoscaling").record_lifecycle_action_heartbeat(**action.lifecycle_params())
    except ClientError as error:
        if _is_no_active_action(error):
            return False
        raise
    return True


def move_route(route_table_id: str, destination_cidr: str, instance_id: str) -> str:
    """Point ``destination_cidr`` in one route table at the instance; say whether it was replaced or created."""
    ec2 = _client("ec2")
    route = {"RouteTableId": route_table_id, "DestinationCidrBlock": destination_cidr, "InstanceId": instance_id}
    try:
        ec2.replace_route(**route)
        return "replaced"
    except ClientError as error:
        if not _is_route_missing(error):
            raise
    try:
        ec2.create_route(**route)
        return "created"
    except ClientError as error:
        if _error_code(error) != "RouteAlreadyExists":
            raise
    # Another delivery created it between our two calls: point it here.
    ec2.replace_route(**route)
    return "replaced"


def mark_route_moved(settings: Settings, instance_id: str) -> None:
    """Tag the instance once every route points at it: its boot script starts WebLogic on this tag."""
    _client("ec2").create_tags(
        Resources=[instance_id], Tags=[{"Key": settings.route_tag_key, "Value": settings.route_tag_value}]
    )


def complete(action: LaunchAction, result: str) -> bool:
    """Complete the action, in one attempt; False if it was no longer pending when the call arrived.

    Raises :class:`CompletionUnconfirmed` when the call got no answer (HTTP 5xx, a timeout, a dropped
    connection), and the ``ClientError`` of a refusal (throttling, access denied), which certainly changed nothing.
    """
    try:
        _completion_client().complete_lifecycle_action(LifecycleActionResult=result, **action.lifecycle_params())
    except ClientError as error:
        if _is_no_active_action(error):
            logger.warning("lifecycle action no longer pending", extra={"result": result})
            return False
        if _http_status(error) >= 500:
            raise CompletionUnconfirmed(f"{result} got {_error_code(error)} (HTTP {_http_status(error)})") from error
        raise
    except BotoCoreError as error:
        raise CompletionUnconfirmed(f"{result} got no answer: {type(error).__name__}: {error}") from error
    return True


def notify(settings: Settings, subject: str, message: dict[str, Any]) -> None:
    _client("sns").publish(TopicArn=settings.topic_arn, Subject=subject[:100], Message=json.dumps(message, indent=2))


def abandon(settings: Settings, action: LaunchAction, reason: str, moved: dict[str, str]) -> dict[str, Any]:
    """Give the launch up so the group replaces the instance, and tell the operators.

    An ABANDON that gets no answer is still notified: whether it took effect or not, the instance is abandoned,
    because ABANDON is also the hook's default result when its heartbeat timeout ends.
    """
    completed: bool | None
    try:
        completed = complete(action, "ABANDON")
        outcome = "completed" if completed else "the lifecycle action was no longer pending"
    except CompletionUnconfirmed as error:
        logger.warning("ABANDON unconfirmed", extra={"error": str(error)})
        metrics.add_metric(name="CompletionsUnconfirmed", unit=MetricUnit.Count, value=1)
        completed = None
        outcome = (
            f"unconfirmed ({error}); if it did not take effect, the hook applies its default result, ABANDON, "
            "when its heartbeat timeout ends"
        )
    metrics.add_metric(name="LaunchesAbandoned", unit=MetricUnit.Count, value=1)
    notify(
        settings,
        f"WebLogic admin server launch {action.instance_id} abandoned",
        {
            "instance": action.instance_id,
            "group": action.group_name,
            "destination": settings.destination_cidr,
            "reason": reason,
            "routes_already_moved": moved,
            "lifecycle_action_completed": completed,
            "abandon": outcome,
            "next": "The group terminates this instance and launches another; its launch moves the route again.",
        },
    )
    return {"status": "abandoned", "instance": action.instance_id, "reason": reason, "routes": moved}


def continue_unconfirmed(
    settings: Settings, action: LaunchAction, error: CompletionUnconfirmed, moved: dict[str, str]
) -> dict[str, Any]:
    """CONTINUE got no answer: a heartbeat tells whether the action still waits, rather than a guess."""
    metrics.add_metric(name="CompletionsUnconfirmed", unit=MetricUnit.Count, value=1)
    if action_is_pending(action):
        # It did not take effect, and the heartbeat has just renewed the hook's timeout: fail, so that Lambda
        # retries the whole run (the moves and the tag repeat as no-ops, then CONTINUE again).
        raise CompletionUnconfirmed(f"{error}; the lifecycle action is still pending, so the run is retried")
    logger.warning("CONTINUE unconfirmed; the lifecycle action is no longer pending", extra={"error": str(error)})
    notify(
        settings,
        f"WebLogic admin server launch {action.instance_id}: CONTINUE unconfirmed",
        {
            "instance": action.instance_id,
            "group": action.group_name,
            "destination": settings.destination_cidr,
            "reason": f"CompleteLifecycleAction {error}, and then the lifecycle action was no longer pending",
            "routes_already_moved": moved,
            "instance_tagged": True,
            "meaning": "Most likely the CONTINUE took effect and only its answer was lost. If the hook's heartbeat "
            "timeout ended instead, the group applies its default result (ABANDON) and launches another instance, "
            "whose launch moves the route again.",
            "next": "The group's launch or terminate event for this instance, on this topic, tells which.",
        },
    )
    return {"status": "unconfirmed", "instance": action.instance_id, "routes": moved}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = Settings.from_environment()
    try:
        action = parse_action(event, settings)
    except MalformedEventError:
        # Nothing can be completed without a valid token: fail loudly so the event
        # ends in the dead-letter queue, whose alarm notifies the operators.
        logger.exception("rejected a malformed event", extra={"event": event})
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        raise
    logger.append_keys(instance_id=action.instance_id, group=action.group_name)

    if not action_is_pending(action):
        logger.info("launch action already handled or timed out; nothing to do")
        metrics.add_metric(name="RedeliveredEvents", unit=MetricUnit.Count, value=1)
        return {"status": "not-pending", "instance": action.instance_id}

    moved: dict[str, str] = {}
    try:
        _client("ec2").modify_instance_attribute(InstanceId=action.instance_id, SourceDestCheck={"Value": False})
        for route_table_id in settings.route_table_ids:
            moved[route_table_id] = move_route(route_table_id, settings.destination_cidr, action.instance_id)
        # Only after the last route moved, and before CONTINUE: a failed tag still abandons the launch.
        mark_route_moved(settings, action.instance_id)
    except (ClientError, BotoCoreError) as error:
        logger.exception("moving the route or tagging the instance failed; abandoning", extra={"moved": moved})
        return abandon(settings, action, f"{type(error).__name__}: {error}", moved)

    metrics.add_metric(name="RouteTablesUpdated", unit=MetricUnit.Count, value=len(moved))
    try:
        continued = complete(action, "CONTINUE")
    except CompletionUnconfirmed as error:
        return continue_unconfirmed(settings, action, error, moved)
    if continued:
        logger.info("route moved; launch continues", extra={"routes": moved})
        return {"status": "continued", "instance": action.instance_id, "routes": moved}
    # Our one CONTINUE found the action no longer pending: the heartbeat ran out between our heartbeat and
    # now (the group then abandons the instance by default and the next launch moves the route again), or
    # another delivery of this event completed it first.
    notify(
        settings,
        f"WebLogic admin server launch {action.instance_id} timed out",
        {
            "instance": action.instance_id,
            "group": action.group_name,
            "destination": settings.destination_cidr,
            "reason": "the lifecycle action was no longer pending when CONTINUE arrived, after the route had moved "
            "and the instance was tagged: its heartbeat timeout had ended, or another delivery of this event had "
            "completed it",
            "routes_already_moved": moved,
            "next": "If it timed out, the group applies the hook's default result (ABANDON) and launches another "
            "instance; the group's launch or terminate event for this instance, on this topic, tells which.",
        },
    )
    return {"status": "timed-out", "instance": action.instance_id, "routes": moved}
