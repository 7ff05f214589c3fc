"""The vertical-scaling handlers' test account: moto with the lock table, topic and environment the construct
gives the functions, call counting and injected faults, and the helpers that walk a resize (shared by the
restart, replace, lock and state-machine tests)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from tests.handler_kit import LambdaContext, load_handler

REGION = "us-east-1"
TAG_KEY = "VerticalScaling"
LADDER = [["m5.large"], ["m5.xlarge", "m6i.xlarge"], ["m5.2xlarge"]]
TOPIC = "vertical-scaling-failures"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:VerticalScaling:run-1"


class Aws:
    """moto, plus a count of every API call the handlers make and injected faults."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.ami = ""
        self.faults: dict[str, list[str]] = {}
        self.session = boto3.DEFAULT_SESSION
        assert self.session is not None
        self.session.events.register("before-call", self._before_call)
        self.session.events.register("after-call.ec2.DescribeInstances", self._with_ena)

    @staticmethod
    def _with_ena(parsed: dict[str, Any], **_: Any) -> None:
        # moto models neither ENA nor the attributes of a registered image; these are what an instance
        # from a current Amazon Linux image reports.
        for reservation in parsed.get("Reservations", []):
            for instance in reservation["Instances"]:
                instance.setdefault("EnaSupport", True)
                instance.setdefault("Architecture", "x86_64")
                instance.setdefault("VirtualizationType", "hvm")

    def _before_call(self, event_name: str, **_: Any) -> Any:
        operation = event_name.split(".", 1)[1]
        self.calls[operation] += 1
        pending = self.faults.get(operation)
        if pending:
            code = pending.pop(0)
            return AWSResponse("https://example", 400, {}, None), {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return None

    def fail(self, operation: str, *codes: str) -> None:
        """Make the next calls of ``operation`` (e.g. ``ec2.StartInstances``) fail with ``codes``, in order."""
        self.faults.setdefault(operation, []).extend(codes)

    def reset(self) -> None:
        self.calls.clear()

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    # Loading moto's 1,300 default images costs seconds per test; one registered image is enough.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        boto3.setup_default_session(region_name=REGION)
        kit = Aws()
        kit.ami = kit.client("ec2").register_image(Name="al2023", RootDeviceName="/dev/xvda")["ImageId"]
        ddb = kit.client("dynamodb")
        ddb.create_table(
            TableName="locks",
            KeySchema=[{"AttributeName": "instance_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "instance_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        topic = kit.client("sns").create_topic(Name=TOPIC)["TopicArn"]
        for key, value in {
            "TARGET_TAG_KEY": TAG_KEY,
            "TARGET_TAG_VALUE": "back-office",
            "MODE": "restart",
            "DRY_RUN": "false",
            "LADDER": json.dumps(LADDER),
            "TABLE_NAME": "locks",
            "LOCK_SECONDS": "7200",
            "COOLDOWN_SECONDS": "1800",
            "EVENT_BUS_NAME": "default",
            "TOPIC_ARN": topic,
            "MARK_TAG_KEY": "blueprints:vertical-scaling",
            "OLD_INSTANCE_ACTION": "stop",
            "IMAGE_REBOOT": "false",
        }.items():
            monkeypatch.setenv(key, value)
        yield kit
        boto3.DEFAULT_SESSION = None


class _Handlers(dict[str, ModuleType]):
    """Each handler loaded fresh on first use in a test (targets, lock, plan, restart, replace, report)."""

    def __missing__(self, name: str) -> ModuleType:
        self[name] = load_handler(f"vertical_scaling_{name}")
        return self[name]


@pytest.fixture
def handlers(aws: Aws) -> dict[str, ModuleType]:
    return _Handlers()


def launch(aws: Aws, instance_type: str = "m5.large", tag: str = "back-office", **extra_tags: str) -> str:
    ec2 = aws.client("ec2")
    tags = [{"Key": TAG_KEY, "Value": tag}] + [{"Key": k, "Value": v} for k, v in extra_tags.items()]
    instance = ec2.run_instances(
        ImageId=aws.ami,
        MinCount=1,
        MaxCount=1,
        InstanceType=instance_type,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )["Instances"][0]
    return str(instance["InstanceId"])


def describe(aws: Aws, instance_id: str) -> dict[str, Any]:
    return aws.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]


def call(module: ModuleType, step: str | None, state: dict[str, Any], polls: int = 10) -> dict[str, Any]:
    """Invoke a step as the state machine does, retrying ``NotReady`` up to ``polls`` times."""
    event: dict[str, Any] = {"state": state} if step is None else {"step": step, "state": state}
    for attempt in range(polls):
        try:
            return module.handler(event, LambdaContext())  # type: ignore[no-any-return]
        except Exception as error:
            # Like the retrier: NotReady is retried; when the attempts run out it goes to the Catch.
            if type(error).__name__ != "NotReady" or attempt == polls - 1:
                raise
    raise AssertionError("unreachable")


def caught(state: dict[str, Any], error: Exception, key: str = "error") -> dict[str, Any]:
    """The state after a Step Functions Catch with ``ResultPath: $.<key>``."""
    cause = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__})
    return {**state, key: {"Error": type(error).__name__, "Cause": cause}}


def finish(h: dict[str, ModuleType], state: dict[str, Any]) -> dict[str, Any]:
    state = call(h["lock"], "release", state)
    return call(h["report"], None, state)


def restart_run(h: dict[str, ModuleType], instance_id: str, direction: str = "up", **extra: Any) -> dict[str, Any]:
    """One instance's path through the restart-mode state machine; returns the reported detail."""
    state: dict[str, Any] = {
        "instance_id": instance_id,
        "direction": direction,
        "dry_run": False,
        "trigger": "test",
        "execution": EXECUTION,
        **extra,
    }
    try:
        state = call(h["lock"], "acquire", state)
    except Exception as error:
        return call(h["report"], None, caught(state, error))
    try:
        state = call(h["plan"], None, state)
    except Exception as error:
        return finish(h, caught(state, error))
    if state["action"] != "resize":
        return finish(h, state)
    if state["dry_run"]:
        return finish(h, {**state, "outcome": "dry-run"})
    r = h["restart"]
    try:
        if not state["was_running"]:
            return finish(h, call(r, "modify", state))
        state = call(r, "stop", state)
        state = call(r, "await_stopped", state)
        while True:
            state = call(r, "modify", state)
            state = call(r, "start", state)
            if state["next"] == "modify":
                continue
            if state["next"] == "revert":
                break
            state = call(r, "await_running", state)
            if state["next"] != "modify":
                break
        if state["next"] == "done":
            return finish(h, state)
    except Exception as error:
        state = caught(state, error)
    try:
        state = call(r, "revert", state, polls=20)
        if state["was_running"]:
            state = call(r, "await_running", state)
    except Exception as error:
        state = caught(state, error, "revert_error")
    return finish(h, state)


def events_sent(aws: Aws) -> int:
    return aws.calls["eventbridge.PutEvents"]
