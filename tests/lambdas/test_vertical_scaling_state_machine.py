"""The synthesized state machines, run against the real handlers and moto.

tests/asl_kit.py runs the definition from the template; each Lambda task runs
its handler with the environment variables the template gives that function.
So the wiring between the construct (state names, paths, retriers, catchers,
environment) and the handlers is tested as deployed, not as the tests imagine
it. Waits are not slept: a ``NotReady`` is retried at once, up to the
retrier's ``MaxAttempts``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import aws_cdk as cdk
import pytest

from blueprints.constructs.vertical_scaling import ResizeMode, VerticalScaling
from tests import asl_kit
from tests.conftest import cdk_context
from tests.lambdas.vertical_scaling_kit import REGION, Aws, describe, launch

_FUNCTION = re.compile(r"(Targets|Lock|Plan|Restart|Replace|Report)Function[0-9A-F]{8}$")


@pytest.fixture(scope="module")
def machines() -> dict[str, dict[str, Any]]:
    """Both modes' state machine definitions and their functions (by ARN token), from one synthesis."""
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Machines", env=cdk.Environment(account="123456789012", region=REGION))
    ladder = [["m5.large"], ["m5.xlarge", "m6i.xlarge"], ["m5.2xlarge"]]
    VerticalScaling(stack, "BackOffice", instance_sizes=ladder, target_tag_value="back-office")
    VerticalScaling(stack, "Web", instance_sizes=ladder, target_tag_value="web", mode=ResizeMode.REPLACE)
    resources = app.synth().get_stack_by_name("Machines").template["Resources"]
    definitions = asl_kit.state_machines(resources)
    found: dict[str, dict[str, Any]] = {}
    for scope in ("BackOffice", "Web"):
        definition = next(d for k, d in definitions.items() if k.startswith(scope))
        functions = {
            asl_kit.token(k, "Arn"): (_FUNCTION.search(k).group(1).lower(), r)  # type: ignore[union-attr]
            for k, r in resources.items()
            if r["Type"] == "AWS::Lambda::Function" and k.startswith(scope) and _FUNCTION.search(k)
        }
        found[scope] = {"definition": definition, "functions": functions}
    return found


class Runner:
    """Runs one execution of a definition with tests/asl_kit.py, invoking the handlers in-process."""

    def __init__(self, machine: dict[str, Any], topic: str) -> None:
        self.definition = machine["definition"]
        environment = {"TABLE_NAME": "locks", "TOPIC_ARN": topic, "EVENT_BUS_NAME": "default"}
        self.functions = {
            arn: asl_kit.LambdaFunction(
                f"vertical_scaling_{name}", asl_kit.function_environment(resource, lambda key, _: environment[key])
            )
            for arn, (name, resource) in machine["functions"].items()
        }
        self.visited: list[str] = []
        #: Every report the report function returned, whole (the definition keeps a few fields of each).
        self.reports: list[dict[str, Any]] = []
        self.execution_id = "arn:aws:states:us-east-1:123456789012:execution:machine:run-1"

    def run(self, execution_input: dict[str, Any]) -> dict[str, Any]:
        tasks: dict[str, asl_kit.Task] = {**self.functions, "arn:aws:states:::sns:publish": self._publish}
        execution = asl_kit.run(self.definition, tasks, execution_input, execution_id=self.execution_id)
        self.visited = execution.visited
        self.reports = [r for f in self.functions.values() if f.handler == "vertical_scaling_report" for r in f.results]
        result: dict[str, Any] = execution.result()
        return result

    @staticmethod
    def _publish(call: asl_kit.TaskCall) -> dict[str, Any]:
        return {"MessageId": "recorded"}


@pytest.fixture
def topic(aws: Aws) -> Iterator[str]:
    yield aws.client("sns").list_topics()["Topics"][0]["TopicArn"]


def test_restart_definition_resizes_a_running_and_a_stopped_instance(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    running, stopped = launch(aws), launch(aws)
    aws.client("ec2").stop_instances(InstanceIds=[stopped])
    machine = Runner(machines["BackOffice"], topic)
    output = machine.run({"direction": "up", "trigger": "schedule"})
    outcomes = {r["instance_id"]: r["outcome"] for r in output["results"]}
    assert outcomes == {running: "resized", stopped: "resized"}
    assert (describe(aws, running)["InstanceType"], describe(aws, running)["State"]["Name"]) == ("m5.xlarge", "running")
    assert (describe(aws, stopped)["InstanceType"], describe(aws, stopped)["State"]["Name"]) == ("m5.xlarge", "stopped")
    assert {"Stop", "AwaitStopped", "Modify", "Start", "AwaitRunning", "ModifyStopped"} <= set(machine.visited)
    # The cooldown now holds both instances: a second run changes nothing.
    again = Runner(machines["BackOffice"], topic)
    again.execution_id += "-2"
    assert {r["outcome"] for r in again.run({"direction": "up"})["results"]} == {"skipped"}


def test_restart_definition_falls_back_then_reverts(aws: Aws, machines: dict[str, dict[str, Any]], topic: str) -> None:
    instance = launch(aws)
    aws.fail("ec2.StartInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    machine = Runner(machines["BackOffice"], topic)
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
    (result,) = Runner(machines["BackOffice"], topic).run({"direction": "up", "dry_run": True})["results"]
    assert result["outcome"] == "dry-run" and describe(aws, instance)["InstanceType"] == "m5.large"
    with pytest.raises(RuntimeError, match="RunFailed"):
        Runner(machines["BackOffice"], topic).run({"direction": "sideways"})
    assert aws.calls["sns.Publish"] == 1  # the failed run was reported


def test_replace_definition_swaps_the_instance(aws: Aws, machines: dict[str, dict[str, Any]], topic: str) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    machine = Runner(machines["Web"], topic)
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
    machine = Runner(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    (report,) = machine.reports
    assert result["outcome"] == "failed" and report["errors"]["error"]["error"] == "LaunchFailed"
    assert "Cleanup" in machine.visited and describe(aws, old)["State"]["Name"] == "running"


def test_replace_definition_next_run_skips_the_new_instance_and_leaves_the_old_alone(
    aws: Aws, machines: dict[str, dict[str, Any]], topic: str
) -> None:
    _image_tags_only(aws)
    old = launch(aws, tag="web")
    (result,) = Runner(machines["Web"], topic).run({"direction": "up"})["results"]
    assert result["outcome"] == "resized", result
    # The old instance is stopped but keeps the target tag; it is no target any more, and the new one is in
    # its cooldown: the next trigger changes nothing and notifies nobody.
    again = Runner(machines["Web"], topic)
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
    machine = Runner(machines["BackOffice"], topic)
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
    machine = Runner(machines["BackOffice"], topic)
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
    machine = Runner(machines["Web"], topic)
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
    machine = Runner(machines["Web"], topic)
    (result,) = machine.run({"direction": "up"})["results"]
    assert result["outcome"] == "resized" and machine.reports[0]["errors"] == {}
    assert machine.visited.count("DiscardImage") == 1 and aws.calls["ec2.DeregisterImage"] == 3
    # The image's snapshot is gone again: only those from before the run remain.
    left = {s["SnapshotId"] for s in aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert left == snapshots
    assert aws.calls["sns.Publish"] == 0
