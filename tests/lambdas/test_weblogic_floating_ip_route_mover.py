"""The WebLogic route mover: EC2 through moto (routes, instance attributes and tags, SNS),
Auto Scaling lifecycle calls through a Stubber (moto does not implement them), or answered over
HTTP where the SDK's retries matter (AutoScalingOverHttp)."""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.models import botocore_stubber
from moto.sns.models import sns_backends

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed

CIDR = "10.0.11.0/28"
GROUP = "weblogic-admin-group"
HOOK = "weblogic-admin-launch"
REGION = "us-east-1"
NO_ACTIVE_ACTION = "No active Lifecycle Action found with token 87654321-4321-4321-4321-210987654321"
ROUTE_TAG_KEY = "weblogic-floating-route"
ROUTE_TAG_VALUE = "moved"
ROUTE_CALLS = {"ReplaceRoute", "CreateRoute"}


@dataclass
class World:
    handler: ModuleType
    ec2: Any
    new_instance: str
    old_instance: str
    table_with_old_route: str
    table_without_route: str
    table_already_moved: str
    topic_arn: str
    event: dict[str, Any]

    def route_target(self, table: str) -> str | None:
        routes = self.ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
        return next((r.get("InstanceId") for r in routes if r.get("DestinationCidrBlock") == CIDR), None)

    def source_dest_check(self, instance: str) -> bool:
        attribute = self.ec2.describe_instance_attribute(InstanceId=instance, Attribute="sourceDestCheck")
        return bool(attribute["SourceDestCheck"]["Value"])

    def route_tag(self, instance: str) -> str | None:
        """The value of the route mover's tag on ``instance``, None when it is not tagged."""
        tags = self.ec2.describe_tags(
            Filters=[{"Name": "resource-id", "Values": [instance]}, {"Name": "key", "Values": [ROUTE_TAG_KEY]}]
        )["Tags"]
        return tags[0]["Value"] if tags else None

    def record_calls(self) -> list[str]:
        """The names of the API operations the handler calls from now on, in order (EC2 and Auto Scaling)."""
        calls: list[str] = []

        def record(model: Any, **_: Any) -> None:
            calls.append(model.name)

        for client in (
            self.handler._client("ec2"),
            self.handler._client("autoscaling"),
            self.handler._completion_client(),
        ):
            client.meta.events.register("before-parameter-build.*.*", record)
        return calls

    def notifications(self) -> list[tuple[str, dict[str, Any]]]:
        topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[self.topic_arn]
        return [(subject, json.loads(message)) for _, message, subject, _, _ in topic.sent_notifications]

    def lifecycle_params(self, result: str | None = None) -> dict[str, str]:
        params = {
            "AutoScalingGroupName": GROUP,
            "LifecycleHookName": HOOK,
            "LifecycleActionToken": self.event["detail"]["LifecycleActionToken"],
            "InstanceId": self.new_instance,
        }
        if result:
            params["LifecycleActionResult"] = result
        return params


#: An AMI in moto's bundled catalogue (describing images to find one costs seconds).
MOTO_AMI = "ami-12c6146b"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto backend for the module (starting one costs seconds); each test builds its own VPC in it."""
    with mock_aws():
        yield


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> World:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock=CIDR)
    old, new = (
        i["InstanceId"]
        for i in ec2.run_instances(ImageId=MOTO_AMI, MinCount=2, MaxCount=2, SubnetId=subnet)["Instances"]
    )
    tables = [ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"] for _ in range(3)]
    ec2.create_route(RouteTableId=tables[0], DestinationCidrBlock=CIDR, InstanceId=old)
    ec2.create_route(RouteTableId=tables[2], DestinationCidrBlock=CIDR, InstanceId=new)
    topic_name = "weblogic-failover-" + str(abs(hash(request.node.nodeid)))
    topic_arn = boto3.client("sns", region_name=REGION).create_topic(Name=topic_name)["TopicArn"]
    for key, value in {
        "DESTINATION_CIDR": CIDR,
        "ROUTE_TABLE_IDS": ",".join(tables),
        "AUTO_SCALING_GROUP_NAME": GROUP,
        "LIFECYCLE_HOOK_NAME": HOOK,
        "TOPIC_ARN": topic_arn,
        "ROUTE_TAG_KEY": ROUTE_TAG_KEY,
        "ROUTE_TAG_VALUE": ROUTE_TAG_VALUE,
        "POWERTOOLS_SERVICE_NAME": "weblogic-route-mover",
    }.items():
        monkeypatch.setenv(key, value)
    event = load_event("weblogic_floating_ip_launch")
    event["detail"]["EC2InstanceId"] = new
    return World(
        handler=load_handler("weblogic_floating_ip_route_mover"),
        ec2=ec2,
        new_instance=new,
        old_instance=old,
        table_with_old_route=tables[0],
        table_without_route=tables[1],
        table_already_moved=tables[2],
        topic_arn=topic_arn,
        event=event,
    )


def _autoscaling(world: World) -> Any:
    """The route mover's Auto Scaling client for heartbeats."""
    return world.handler._client("autoscaling")


@contextlib.contextmanager
def lifecycle(world: World) -> Iterator[tuple[Stubber, Stubber]]:
    """Stubbers on the route mover's two Auto Scaling clients: heartbeats, and completions (one attempt each)."""
    with stubbed(_autoscaling(world)) as heartbeats, stubbed(world.handler._completion_client()) as completions:
        yield heartbeats, completions


class _Body:
    """The raw body of a made-up HTTP response."""

    def __init__(self, content: str) -> None:
        self._content = content.encode()

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


#: Auto Scaling's answers over HTTP (its query protocol), by name.
AUTO_SCALING_XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


def ok(operation: str) -> tuple[int, str]:
    return 200, (
        f'<{operation}Response xmlns="{AUTO_SCALING_XMLNS}"><{operation}Result/>'
        f"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></{operation}Response>"
    )


def error(status: int, code: str, message: str) -> tuple[int, str]:
    kind = "Receiver" if status >= 500 else "Sender"
    return status, (
        f'<ErrorResponse xmlns="{AUTO_SCALING_XMLNS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )


NOT_PENDING = error(400, "ValidationError", NO_ACTIVE_ACTION)
SERVER_ERROR = error(500, "InternalFailure", "An internal error occurred")


class AutoScalingOverHttp:
    """Auto Scaling for the route mover at the HTTP level, where the SDK's retries happen (a Stubber answers
    before them, and moto does not implement lifecycle actions).

    Each HTTP attempt of an operation gets the next of its scripted replies: a ``(status, body)`` answer, or
    a callable that raises (a timeout). Every attempt is recorded, by operation name.
    """

    Reply = tuple[int, str] | Callable[[AWSPreparedRequest], None]

    def __init__(self, monkeypatch: pytest.MonkeyPatch, handler: ModuleType, **replies: list[Reply]) -> None:
        self.replies = {operation: list(script) for operation, script in replies.items()}
        self.attempts: list[str] = []
        session = boto3.Session(region_name=REGION)
        # This session's requests never reach moto (or AWS): every one of them is answered here.
        session.events.unregister("before-send", botocore_stubber)
        session.events.register("before-send", self._send)
        real = boto3.client

        class _Boto3:
            @staticmethod
            def client(name: str, config: Any = None) -> Any:
                return session.client(name, config=config) if name == "autoscaling" else real(name, config=config)

        monkeypatch.setattr(handler, "boto3", _Boto3)

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        (operation,) = parse_qs(request.body.decode() if isinstance(request.body, bytes) else request.body)["Action"]
        self.attempts.append(operation)
        script = self.replies.get(operation)
        assert script, f"unexpected {operation} (attempt {len(self.attempts)})"
        reply = script.pop(0)
        if callable(reply):
            reply(request)
            raise AssertionError("a callable reply raises what the caller gets instead of an answer")
        status, body = reply
        return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Body(body))

    def count(self, operation: str) -> int:
        return self.attempts.count(operation)


def timed_out(request: AWSPreparedRequest) -> None:
    raise ReadTimeoutError(endpoint_url=request.url)


def test_moves_every_route_to_the_new_instance_and_continues(world: World, lambda_context: LambdaContext) -> None:
    calls = world.record_calls()
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_response("complete_lifecycle_action", {}, world.lifecycle_params("CONTINUE"))
        result = world.handler.handler(world.event, lambda_context)

    assert result["status"] == "continued"
    assert result["routes"] == {
        world.table_with_old_route: "replaced",
        world.table_without_route: "created",
        world.table_already_moved: "replaced",
    }
    for table in (world.table_with_old_route, world.table_without_route, world.table_already_moved):
        assert world.route_target(table) == world.new_instance
    assert world.source_dest_check(world.new_instance) is False
    assert world.route_tag(world.new_instance) == ROUTE_TAG_VALUE  # what the boot script waits for
    assert world.route_tag(world.old_instance) is None
    assert world.notifications() == []
    # The tag comes after the last route moved and before CONTINUE, exactly once.
    assert calls[0] == "RecordLifecycleActionHeartbeat"
    assert calls[-2:] == ["CreateTags", "CompleteLifecycleAction"]
    assert calls.count("CreateTags") == 1
    last_route_call = max(i for i, name in enumerate(calls) if name in ROUTE_CALLS)
    assert last_route_call < calls.index("CreateTags")


def test_second_delivery_of_the_same_event_changes_nothing(world: World, lambda_context: LambdaContext) -> None:
    with lifecycle(world) as (heartbeats, _):
        heartbeats.add_client_error(
            "record_lifecycle_action_heartbeat", "ValidationError", NO_ACTIVE_ACTION, 400, world.lifecycle_params()
        )
        result = world.handler.handler(world.event, lambda_context)

    assert result == {"status": "not-pending", "instance": world.new_instance}
    assert world.route_target(world.table_with_old_route) == world.old_instance
    assert world.route_target(world.table_without_route) is None
    assert world.source_dest_check(world.new_instance) is True
    assert world.route_tag(world.new_instance) is None


def test_api_error_mid_way_abandons_the_launch_and_notifies(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing_table = "rtb-0123456789abcdef0"
    tables = f"{world.table_with_old_route},{missing_table},{world.table_without_route}"
    monkeypatch.setenv("ROUTE_TABLE_IDS", tables)
    calls = world.record_calls()
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_response("complete_lifecycle_action", {}, world.lifecycle_params("ABANDON"))
        result = world.handler.handler(world.event, lambda_context)

    assert result["status"] == "abandoned"
    assert "InvalidRouteTableID.NotFound" in result["reason"]
    assert world.route_target(world.table_with_old_route) == world.new_instance  # moved before the fault
    assert world.route_target(world.table_without_route) is None  # never reached
    # Not every route moved: the instance is never tagged, so its boot script never starts WebLogic.
    assert "CreateTags" not in calls
    assert world.route_tag(world.new_instance) is None
    ((subject, message),) = world.notifications()
    assert subject == f"WebLogic admin server launch {world.new_instance} abandoned"
    assert message["routes_already_moved"] == {world.table_with_old_route: "replaced"}
    assert message["lifecycle_action_completed"] is True


def test_unknown_instance_abandons_before_any_route_moves(world: World, lambda_context: LambdaContext) -> None:
    world.event["detail"]["EC2InstanceId"] = "i-0fedcba9876543210"
    world.new_instance = "i-0fedcba9876543210"
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_response("complete_lifecycle_action", {}, world.lifecycle_params("ABANDON"))
        result = world.handler.handler(world.event, lambda_context)

    assert result["status"] == "abandoned" and result["routes"] == {}
    assert world.route_target(world.table_with_old_route) == world.old_instance
    assert world.route_tag(world.old_instance) is None
    ((_, message),) = world.notifications()
    assert "InvalidInstanceID" in message["reason"]


def test_failed_tag_abandons_the_launch_after_the_routes_moved(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "not allowed"}}, "CreateTags")

    monkeypatch.setattr(world.handler._client("ec2"), "create_tags", refuse)
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_response("complete_lifecycle_action", {}, world.lifecycle_params("ABANDON"))
        result = world.handler.handler(world.event, lambda_context)

    # No CONTINUE without the tag: an instance in service that never starts WebLogic would hold the route.
    assert result["status"] == "abandoned"
    assert "UnauthorizedOperation" in result["reason"]
    assert set(result["routes"]) == {world.table_with_old_route, world.table_without_route, world.table_already_moved}
    assert world.route_tag(world.new_instance) is None
    ((subject, _),) = world.notifications()
    assert subject.endswith("abandoned")


def test_throttled_completion_fails_the_invocation_so_lambda_retries(
    world: World, lambda_context: LambdaContext
) -> None:
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_client_error("complete_lifecycle_action", "Throttling", "Rate exceeded", 400)
        with pytest.raises(ClientError, match="Throttling"):
            world.handler.handler(world.event, lambda_context)

    # The routes already point at the instance; the retry repeats the moves and the tag as no-ops.
    assert world.route_target(world.table_without_route) == world.new_instance
    assert world.route_tag(world.new_instance) == ROUTE_TAG_VALUE
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_response("complete_lifecycle_action", {}, world.lifecycle_params("CONTINUE"))
        retried = world.handler.handler(world.event, lambda_context)
    assert retried["status"] == "continued"
    assert set(retried["routes"].values()) == {"replaced"}
    assert world.route_tag(world.new_instance) == ROUTE_TAG_VALUE


def test_refused_abandon_is_raised_for_a_retry(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTE_TABLE_IDS", "rtb-0123456789abcdef0")
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_client_error("complete_lifecycle_action", "Throttling", "Rate exceeded", 400)
        with pytest.raises(ClientError, match="Throttling"):
            world.handler.handler(world.event, lambda_context)
    assert world.notifications() == []


def test_abandon_without_an_answer_is_still_notified_as_unconfirmed(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTE_TABLE_IDS", "rtb-0123456789abcdef0")
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_client_error("complete_lifecycle_action", "ServiceUnavailable", "try again", 503)
        result = world.handler.handler(world.event, lambda_context)

    # Taken effect or not, the instance is abandoned: ABANDON is also the hook's default result.
    assert result["status"] == "abandoned"
    ((subject, message),) = world.notifications()
    assert subject == f"WebLogic admin server launch {world.new_instance} abandoned"
    assert message["lifecycle_action_completed"] is None
    assert message["abandon"].startswith("unconfirmed (ABANDON got ServiceUnavailable (HTTP 503))")
    assert "default result, ABANDON" in message["abandon"]


def test_heartbeat_timeout_before_completion_is_notified(world: World, lambda_context: LambdaContext) -> None:
    with lifecycle(world) as (heartbeats, completions):
        heartbeats.add_response("record_lifecycle_action_heartbeat", {}, world.lifecycle_params())
        completions.add_client_error("complete_lifecycle_action", "ValidationError", NO_ACTIVE_ACTION, 400)
        result = world.handler.handler(world.event, lambda_context)

    assert result["status"] == "timed-out"
    ((subject, message),) = world.notifications()
    assert "timed out" in subject
    assert message["instance"] == world.new_instance


def test_continue_whose_answer_is_lost_is_sent_once_and_reported_unconfirmed_not_timed_out(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CONTINUE takes effect but its answer is lost (a 500): a retry would be told "No active Lifecycle Action",
    # which reads like a heartbeat timeout. Sent once, the handler asks with a heartbeat instead.
    autoscaling = AutoScalingOverHttp(
        monkeypatch,
        world.handler,
        RecordLifecycleActionHeartbeat=[ok("RecordLifecycleActionHeartbeat"), NOT_PENDING],
        CompleteLifecycleAction=[SERVER_ERROR, NOT_PENDING],
    )
    result = world.handler.handler(world.event, lambda_context)

    assert autoscaling.count("CompleteLifecycleAction") == 1
    assert autoscaling.count("RecordLifecycleActionHeartbeat") == 2  # before the moves, and to ask afterwards
    assert result["status"] == "unconfirmed"
    assert world.route_tag(world.new_instance) == ROUTE_TAG_VALUE
    ((subject, message),) = world.notifications()
    assert subject == f"WebLogic admin server launch {world.new_instance}: CONTINUE unconfirmed"
    assert "timed out" not in subject
    assert message["reason"].startswith("CompleteLifecycleAction CONTINUE got InternalFailure (HTTP 500)")
    assert message["meaning"].startswith("Most likely the CONTINUE took effect")


@pytest.mark.parametrize("fault", [SERVER_ERROR, timed_out], ids=["server-error", "read-timeout"])
def test_continue_without_an_answer_while_the_action_still_waits_is_retried_by_lambda(
    world: World, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch, fault: AutoScalingOverHttp.Reply
) -> None:
    heartbeat = ok("RecordLifecycleActionHeartbeat")
    autoscaling = AutoScalingOverHttp(
        monkeypatch,
        world.handler,
        RecordLifecycleActionHeartbeat=[heartbeat, heartbeat],
        CompleteLifecycleAction=[fault],
    )
    with pytest.raises(world.handler.CompletionUnconfirmed, match="still pending, so the run is retried"):
        world.handler.handler(world.event, lambda_context)

    assert autoscaling.count("CompleteLifecycleAction") == 1
    assert world.notifications() == []
    # The retried run repeats the moves and the tag as no-ops, then completes.
    autoscaling.replies.update(
        RecordLifecycleActionHeartbeat=[heartbeat], CompleteLifecycleAction=[ok("CompleteLifecycleAction")]
    )
    assert world.handler.handler(world.event, lambda_context)["status"] == "continued"
    assert world.notifications() == []


def test_heartbeat_access_denied_is_raised_before_any_change(world: World, lambda_context: LambdaContext) -> None:
    with lifecycle(world) as (heartbeats, _):
        heartbeats.add_client_error("record_lifecycle_action_heartbeat", "AccessDenied", "not authorized", 403)
        with pytest.raises(ClientError, match="AccessDenied"):
            world.handler.handler(world.event, lambda_context)
    assert world.route_target(world.table_with_old_route) == world.old_instance
    assert world.source_dest_check(world.new_instance) is True
    assert world.route_tag(world.new_instance) is None


def test_malformed_event_is_rejected_without_touching_aws(world: World, lambda_context: LambdaContext) -> None:
    event = load_event("weblogic_floating_ip_malformed")
    with lifecycle(world), pytest.raises(ValueError, match="LifecycleActionToken is missing"):
        world.handler.handler(event, lambda_context)
    assert world.route_target(world.table_with_old_route) == world.old_instance


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": "aws.ec2"}, "expected source aws.autoscaling"),
        ({"detail": "oops"}, "no detail object"),
        ({"detail.EC2InstanceId": "not-an-instance"}, "is not an instance ID"),
        ({"detail.LifecycleActionToken": "short"}, "36-character"),
        ({"detail.AutoScalingGroupName": "someone-elses-group"}, "this function serves group"),
        ({"detail.LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING"}, "not a launch"),
    ],
)
def test_events_that_are_not_this_groups_launch_are_rejected(
    world: World, lambda_context: LambdaContext, change: dict[str, Any], message: str
) -> None:
    event = copy.deepcopy(world.event)
    for key, value in change.items():
        if key.startswith("detail."):
            event["detail"][key.removeprefix("detail.")] = value
        else:
            event[key] = value
    with lifecycle(world), pytest.raises(ValueError, match=message):
        world.handler.handler(event, lambda_context)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"detail-type": "EC2 Instance-launch Lifecycle Action", "detail": {}}, "got '<no source>'"),
        ({"source": "aws.autoscaling", "detail": {}}, "got '<no detail-type>'"),
        ({"source": "aws.autoscaling", "detail-type": "EC2 Instance-launch Lifecycle Action"}, "no detail object"),
        (["not", "an", "event"], "not an EventBridge event object"),
    ],
)
def test_events_without_eventbridge_fields_are_rejected_by_name(
    world: World, lambda_context: LambdaContext, event: Any, message: str
) -> None:
    # An EventBridge event always has source, detail-type and detail (EventBridge User Guide, "Amazon EventBridge
    # events": the top-level fields of an event); one without them is refused, naming the missing field.
    with lifecycle(world), pytest.raises(ValueError, match=re.escape(message)):
        world.handler.handler(event, lambda_context)
    assert world.route_target(world.table_with_old_route) == world.old_instance


def test_route_reported_as_not_found_falls_back_to_create(world: World) -> None:
    ec2 = world.handler._client("ec2")
    route = {"RouteTableId": "rtb-0123456789abcdef0", "DestinationCidrBlock": CIDR, "InstanceId": world.new_instance}
    with Stubber(ec2) as stub:
        stub.add_client_error("replace_route", "InvalidRoute.NotFound", "no route", 400, route)
        stub.add_response("create_route", {"Return": True}, route)
        assert world.handler.move_route(route["RouteTableId"], CIDR, world.new_instance) == "created"
        stub.assert_no_pending_responses()


def test_route_created_concurrently_is_replaced_not_deleted(world: World) -> None:
    ec2 = world.handler._client("ec2")
    route = {"RouteTableId": "rtb-0123456789abcdef0", "DestinationCidrBlock": CIDR, "InstanceId": world.new_instance}
    with Stubber(ec2) as stub:
        stub.add_client_error(
            "replace_route", "InvalidParameterValue", f"There is no route defined for '{CIDR}'", 400, route
        )
        stub.add_client_error("create_route", "RouteAlreadyExists", "already exists", 400, route)
        stub.add_response("replace_route", {}, route)
        assert world.handler.move_route(route["RouteTableId"], CIDR, world.new_instance) == "replaced"
        stub.assert_no_pending_responses()


def test_other_replace_route_errors_are_not_mistaken_for_a_missing_route(world: World) -> None:
    ec2 = world.handler._client("ec2")
    route = {"RouteTableId": "rtb-0123456789abcdef0", "DestinationCidrBlock": CIDR, "InstanceId": world.new_instance}
    with Stubber(ec2) as stub:
        stub.add_client_error("replace_route", "InvalidParameterValue", "Invalid value for instance", 400, route)
        with pytest.raises(ClientError, match="Invalid value for instance"):
            world.handler.move_route(route["RouteTableId"], CIDR, world.new_instance)
