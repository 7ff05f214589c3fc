"""The synthesized state machines, run against the real handlers and moto.

A small interpreter of the Amazon States Language subset the construct uses
(Task with Retry and Catch, Choice, Pass, Map, Fail) walks the definition from
the template; each Lambda task runs its handler with the environment variables
the template gives that function. So the wiring between the construct (state
names, paths, retriers, catchers, environment) and the handlers is tested as
deployed, not as the tests imagine it. Waits are not slept: a ``NotReady`` is
retried at once, up to the retrier's ``MaxAttempts``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any
from unittest import mock

import aws_cdk as cdk
import pytest

from blueprints.constructs.vertical_scaling import ResizeMode, VerticalScaling
from tests.conftest import cdk_context
from tests.handler_kit import LambdaContext, load_handler
from tests.lambdas.test_vertical_scaling_restart import REGION, Aws, aws, describe, launch

__all__ = ["aws"]
_FUNCTION = re.compile(r"(Targets|Lock|Plan|Restart|Replace|Report)Function[0-9A-F]{8}$")


@pytest.fixture(scope="module")
def machines() -> dict[str, dict[str, Any]]:
    """Both modes' state machine definitions and their functions' environments, from one synthesis."""
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Machines", env=cdk.Environment(account="123456789012", region=REGION))
    ladder = [["m5.large"], ["m5.xlarge", "m6i.xlarge"], ["m5.2xlarge"]]
    VerticalScaling(stack, "BackOffice", instance_sizes=ladder, target_tag_value="back-office")
    VerticalScaling(stack, "Web", instance_sizes=ladder, target_tag_value="web", mode=ResizeMode.REPLACE)
    resources = app.synth().get_stack_by_name("Machines").template["Resources"]
    found: dict[str, dict[str, Any]] = {}
    for scope in ("BackOffice", "Web"):
        machine = next(
            r for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine" and k.startswith(scope)
        )
        parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
        text = "".join(p if isinstance(p, str) else _token(p) for p in parts)
        environments = {
            _FUNCTION.search(k).group(1).lower(): r["Properties"]["Environment"]["Variables"]  # type: ignore[union-attr]
            for k, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function" and k.startswith(scope) and _FUNCTION.search(k)
        }
        found[scope] = {"definition": json.loads(text), "environments": environments}
    return found


def _token(part: dict[str, Any]) -> str:
    if "Fn::GetAtt" in part:
        match = _FUNCTION.search(part["Fn::GetAtt"][0])
        return f"function:{match.group(1).lower()}" if match else "unknown"
    return "topic" if "Ref" in part else "unknown"


class Interpreter:
    """Runs one execution of a definition, invoking the handlers in-process."""

    def __init__(self, machine: dict[str, Any], topic: str) -> None:
        self.definition = machine["definition"]
        self.handlers: dict[str, ModuleType] = {}
        self.environments = {
            name: {k: self._value(k, v, topic) for k, v in env.items()} for name, env in machine["environments"].items()
        }
        self.visited: list[str] = []
        #: Every report the report function returned, whole (the definition keeps a few fields of each).
        self.reports: list[dict[str, Any]] = []
        self.execution_id = "arn:aws:states:us-east-1:123456789012:execution:machine:run-1"

    @staticmethod
    def _value(key: str, value: Any, topic: str) -> str:
        if isinstance(value, str):
            return value
        return {"TABLE_NAME": "locks", "TOPIC_ARN": topic, "EVENT_BUS_NAME": "default"}[key]

    def run(self, execution_input: dict[str, Any]) -> dict[str, Any]:
        return self._states(self.definition, execution_input, None)

    def _states(self, machine: dict[str, Any], data: Any, item: Any) -> Any:
        name = machine["StartAt"]
        while True:
            state = machine["States"][name]
            self.visited.append(name)
            kind = state["Type"]
            if kind == "Task":
                data, name, caught = self._task(state, data, item)
                if caught:  # a catcher's Next wins over the state's End
                    continue
            elif kind == "Choice":
                name = next((c["Next"] for c in state["Choices"] if self._rule(c, data)), state.get("Default"))
                continue
            elif kind == "Pass":
                result = self._params(state["Parameters"], data, item) if "Parameters" in state else data
                data = self._put(data, state.get("ResultPath", "$"), state.get("Result", result))
                name = state.get("Next")
            elif kind == "Map":
                results = [
                    self._states(state["ItemProcessor"], self._params(state["ItemSelector"], data, value), value)
                    for value in self._get(data, state["ItemsPath"])
                ]
                data = self._put(data, state.get("ResultPath", "$"), results)
                name = state.get("Next")
            elif kind == "Fail":
                raise RuntimeError(f"execution failed in {name}: {state.get('Cause')}")
            else:
                raise AssertionError(f"state type {kind} is not interpreted")
            if state.get("End") or name is None:
                return data

    def _task(self, state: dict[str, Any], data: Any, item: Any) -> tuple[Any, str | None, bool]:
        attempts: dict[int, int] = {}
        while True:
            try:
                result = self._invoke(state, self._params(state.get("Parameters", {}), data, item))
                if state["Resource"] == "function:report":
                    self.reports.append(result)
                if "ResultSelector" in state:
                    result = self._params(state["ResultSelector"], result, item)
                return self._put(data, state.get("ResultPath", "$"), result), state.get("Next"), False
            except Exception as error:
                code = type(error).__name__
                retry = next(
                    (
                        i
                        for i, r in enumerate(state.get("Retry", []))
                        if code in r["ErrorEquals"] or "States.ALL" in r["ErrorEquals"]
                    ),
                    None,
                )
                if retry is not None and attempts.get(retry, 0) < state["Retry"][retry].get("MaxAttempts", 3):
                    attempts[retry] = attempts.get(retry, 0) + 1
                    continue
                catcher = next(
                    (c for c in state.get("Catch", []) if code in c["ErrorEquals"] or "States.ALL" in c["ErrorEquals"]),
                    None,
                )
                if catcher is None:
                    raise
                cause = json.dumps({"errorMessage": str(error), "errorType": code})
                caught = {"Error": code, "Cause": cause}
                return self._put(data, catcher.get("ResultPath", "$"), caught), catcher["Next"], True

    def _invoke(self, state: dict[str, Any], payload: Any) -> Any:
        resource = state["Resource"]
        if resource.startswith("function:"):
            name = resource.split(":", 1)[1]
            if name not in self.handlers:
                self.handlers[name] = load_handler(f"vertical_scaling_{name}")
            with mock.patch.dict(os.environ, self.environments[name]):
                return self.handlers[name].handler(payload, LambdaContext())
        if resource.endswith(":sns:publish"):
            return {"MessageId": "recorded"}
        raise AssertionError(f"resource {resource} is not interpreted")

    def _params(self, template: Any, data: Any, item: Any) -> Any:
        if isinstance(template, dict):
            out: dict[str, Any] = {}
            for key, value in template.items():
                if key.endswith(".$"):
                    out[key[:-2]] = self._path(value, data, item)
                else:
                    out[key] = self._params(value, data, item)
            return out
        return template

    def _path(self, path: str, data: Any, item: Any) -> Any:
        if path == "$$.Execution.Id":
            return self.execution_id
        if path == "$$.Map.Item.Value":
            return item
        if path.startswith("States.JsonToString("):
            return json.dumps(self._get(data, path[len("States.JsonToString(") : -1]))
        return self._get(data, path)

    @staticmethod
    def _get(data: Any, path: str) -> Any:
        for part in [p for p in path[1:].split(".") if p]:
            data = data[part]
        return data

    @staticmethod
    def _put(data: Any, path: str | None, value: Any) -> Any:
        if path is None:
            return data
        if path == "$":
            return value
        parts = [p for p in path[1:].split(".") if p]
        out = dict(data)
        out[parts[-1]] = value
        return out

    def _rule(self, rule: dict[str, Any], data: Any) -> bool:
        if "Not" in rule:
            return not self._rule(rule["Not"], data)
        value = self._get(data, rule["Variable"])
        if "StringEquals" in rule:
            return bool(value == rule["StringEquals"])
        if "BooleanEquals" in rule:
            return bool(value is rule["BooleanEquals"])
        raise AssertionError(f"choice rule {rule} is not interpreted")


@pytest.fixture
def topic(aws: Aws) -> Iterator[str]:
    yield aws.client("sns").list_topics()["Topics"][0]["TopicArn"]


def test_restart_definition_resizes_a_running_and_a_stopped_instance(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    running, stopped = launch(aws), launch(aws)
    aws.client("ec2").stop_instances(InstanceIds=[stopped])
    machine = Interpreter(machines["BackOffice"], topic)
    output = machine.run({"direction": "up", "trigger": "schedule"})
    outcomes = {r["instance_id"]: r["outcome"] for r in output["results"]}
    assert outcomes == {running: "resized", stopped: "resized"}
    assert (describe(aws, running)["InstanceType"], describe(aws, running)["State"]["Name"]) == ("m5.xlarge", "running")
    assert (describe(aws, stopped)["InstanceType"], describe(aws, stopped)["State"]["Name"]) == ("m5.xlarge", "stopped")
    assert {"Stop", "AwaitStopped", "Modify", "Start", "AwaitRunning", "ModifyStopped"} <= set(machine.visited)
    # The cooldown now holds both instances: a second run changes nothing.
    again = Interpreter(machines["BackOffice"], topic)
    again.execution_id += "-2"
    assert {r["outcome"] for r in again.run({"direction": "up"})["results"]} == {"skipped"}


def test_restart_definition_falls_back_then_reverts(aws: Aws, machines: dict[str, dict[str, Any]], topic: str) -> None:
    instance = launch(aws)
    aws.fail("ec2.StartInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    machine = Interpreter(machines["BackOffice"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    assert result["outcome"] == "reverted"
    (report,) = machine.reports
    assert [f["type"] for f in report["failures"]] == ["m5.xlarge", "m6i.xlarge"]
    assert (describe(aws, instance)["InstanceType"], describe(aws, instance)["State"]["Name"]) == (
        "m5.large",
        "running",
    )
    assert machine.visited.count("Modify") == 2 and "Revert" in machine.visited and "AwaitReverted" in machine.visited
    assert aws.calls["sns.Publish"] == 1


def test_restart_definition_dry_run_and_bad_direction(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    instance = launch(aws)
    (result,) = Interpreter(machines["BackOffice"], topic).run({"direction": "up", "dry_run": True})["results"]
    assert result["outcome"] == "dry-run" and describe(aws, instance)["InstanceType"] == "m5.large"
    with pytest.raises(RuntimeError, match="RunFailed"):
        Interpreter(machines["BackOffice"], topic).run({"direction": "sideways"})
    assert aws.calls["sns.Publish"] == 1  # the failed run was reported


def test_replace_definition_swaps_the_instance(aws: Aws, machines: dict[str, dict[str, Any]], topic: str) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    machine = Interpreter(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    assert result["outcome"] == "resized", result
    assert describe(aws, result["new_instance_id"])["InstanceType"] == "m5.xlarge"
    assert describe(aws, old)["State"]["Name"] == "stopped"
    assert machine.visited.index("AwaitHealthy") < machine.visited.index("DeregisterOld")
    assert "Cleanup" not in machine.visited


def test_replace_definition_cleans_up_when_launch_fails(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    aws.fail("ec2.RunInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    machine = Interpreter(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    (report,) = machine.reports
    assert result["outcome"] == "failed" and report["errors"]["error"]["error"] == "LaunchFailed"
    assert "Cleanup" in machine.visited and describe(aws, old)["State"]["Name"] == "running"


def test_replace_definition_next_run_skips_the_new_instance_and_leaves_the_old_alone(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    (result,) = Interpreter(machines["Web"], topic).run({"direction": "up"})["results"]
    assert result["outcome"] == "resized", result
    # The old instance is stopped but keeps the target tag; it is no target any more, and the new one is in
    # its cooldown: the next trigger changes nothing and notifies nobody.
    again = Interpreter(machines["Web"], topic)
    again.execution_id += "-2"
    results = again.run({"direction": "up"})["results"]
    assert [(r["instance_id"], r["outcome"]) for r in results] == [(result["new_instance_id"], "skipped")]
    assert describe(aws, old)["State"]["Name"] == "stopped"
    assert aws.calls["sns.Publish"] == 0


def _image_tags_only(aws: Aws) -> None:
    aws.session.events.register(
        "before-parameter-build.ec2.CreateImage",
        lambda params, **_: params.update(
            TagSpecifications=[t for t in params["TagSpecifications"] if t["ResourceType"] == "image"]
        ),
    )


def test_run_output_keeps_a_few_small_fields_per_instance(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    # A run's output is capped at 256 KiB: whole reports (errors up to 2,000 characters each) in $.results
    # would fail a run of a few hundred instances with States.DataLimitExceeded after every resize was done.
    instances = sorted(launch(aws) for _ in range(3))
    # One stop fails (the first try and the three retries) and is reverted: its report carries the error.
    aws.fail("ec2.StopInstances", *["UnauthorizedOperation"] * 4)
    machine = Interpreter(machines["BackOffice"], topic)
    results = machine.run({"direction": "up"})["results"]
    fields = {"instance_id", "new_instance_id", "outcome", "old_size", "new_size"}
    assert [set(r) for r in results] == [fields] * 3
    assert sorted(r["instance_id"] for r in results) == instances
    assert sorted((r["outcome"], r["old_size"], r["new_size"]) for r in results) == [
        ("resized", "m5.large", "m5.xlarge"),
        ("resized", "m5.large", "m5.xlarge"),
        ("reverted", "m5.large", "m5.large"),
    ]
    assert all(len(json.dumps(r)) < 200 for r in results)
    # The whole report still went out (EventBridge, SNS): it is what the report function returned.
    (reverted,) = [report for report in machine.reports if report["outcome"] == "reverted"]
    assert "UnauthorizedOperation" in reverted["errors"]["error"]["cause"]


def test_unreported_resize_leaves_its_instance_and_outcome_unreported(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    instance = launch(aws)
    aws.fail("eventbridge.PutEvents", *["AccessDenied"] * 4)  # the first try and the three retries
    machine = Interpreter(machines["BackOffice"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    assert result == {"instance_id": instance, "outcome": "unreported"}
    assert machine.visited[-2:] == ["ReportLost", "ReportUnreported"]
    assert describe(aws, instance)["InstanceType"] == "m5.xlarge"  # the resize itself went through


def test_replace_definition_reports_resized_when_only_the_image_is_left(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    aws.fail("ec2.DeregisterImage", *["UnauthorizedOperation"] * 4)  # the first try and the three retries
    machine = Interpreter(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    (report,) = machine.reports
    assert result["outcome"] == "resized" and describe(aws, old)["State"]["Name"] == "stopped"
    assert "UnauthorizedOperation" in report["errors"]["discard_error"]["cause"]
    assert aws.calls["sns.Publish"] == 1  # someone has to delete the image


def test_replace_definition_waits_for_a_snapshot_still_in_use(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    _image_tags_only(aws)
    launch(aws, tag="web")
    snapshots = {s["SnapshotId"] for s in aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    aws.fail("ec2.DeleteSnapshot", "InvalidSnapshot.InUse", "InvalidSnapshot.InUse")
    machine = Interpreter(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    assert result["outcome"] == "resized" and machine.reports[0]["errors"] == {}
    assert machine.visited.count("DiscardImage") == 1 and aws.calls["ec2.DeregisterImage"] == 3
    # The image's snapshot is gone again: only those from before the run remain.
    left = {s["SnapshotId"] for s in aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert left == snapshots
    assert aws.calls["sns.Publish"] == 0
