"""Vertical scaling, restart mode: the targets, plan and restart handlers against moto EC2,
with the lock (moto DynamoDB) and the report (moto EventBridge and SNS) around them.

``restart_run`` walks the same path as the state machine, re-invoking a step
that raises ``NotReady`` the way the state machine's retrier does. Faults that
moto cannot produce (capacity errors, throttling) are injected at the botocore
``before-call`` hook of the session the handlers' clients come from, so every
other call still reaches moto and every call is counted.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.handler_kit import LambdaContext, load_event
from tests.lambdas.vertical_scaling_kit import (
    EXECUTION,
    Aws,
    call,
    describe,
    launch,
    restart_run,
)

# --- the restart path -------------------------------------------------------------------------


def test_running_instance_moves_one_size_up_with_the_fewest_calls(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    targets = handlers["targets"].handler(
        {"input": {"direction": "up", "trigger": "test"}, "execution": EXECUTION}, LambdaContext()
    )
    assert targets["instances"] == [instance_id]
    aws.reset()
    detail = restart_run(handlers, instance_id)
    counted = dict(aws.calls)
    assert detail["outcome"] == "resized"
    assert (detail["old_size"], detail["new_size"], detail["mode"]) == ("m5.large", "m5.xlarge", "restart")
    assert describe(aws, instance_id)["InstanceType"] == "m5.xlarge"
    assert describe(aws, instance_id)["State"]["Name"] == "running"
    # Every call the restart path makes for one running instance, after the targets are listed:
    assert counted == {
        "dynamodb.UpdateItem": 2,  # acquire and release the lock
        "ec2.DescribeInstances": 1,  # fresh read once the lock is held
        "ec2.DescribeInstanceTypes": 1,  # current and candidate types in one call
        "ec2.DescribeInstanceTypeOfferings": 1,  # candidates offered in the instance's AZ, one call
        "ec2.StopInstances": 1,
        "ec2.DescribeInstanceStatus": 2,  # one poll for stopped, one for running with status checks ok
        "ec2.ModifyInstanceAttribute": 1,
        "ec2.StartInstances": 1,
        "eventbridge.PutEvents": 1,
    }
    assert sum(counted.values()) == 11


def test_resize_starts_a_cooldown_and_a_second_trigger_is_skipped(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    assert restart_run(handlers, instance_id)["outcome"] == "resized"
    second = restart_run(handlers, instance_id, execution=EXECUTION + "-2")
    assert second["outcome"] == "skipped"
    assert second["errors"]["error"]["error"] == "InCooldown"
    assert describe(aws, instance_id)["InstanceType"] == "m5.xlarge"


def test_stopped_instance_is_resized_and_left_stopped(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.client("ec2").stop_instances(InstanceIds=[instance_id])
    aws.reset()
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "resized"
    instance = describe(aws, instance_id)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("m5.xlarge", "stopped")
    assert aws.calls["ec2.StartInstances"] == 0 and aws.calls["ec2.StopInstances"] == 0


def test_top_of_the_ladder_is_a_logged_no_op(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws, "m5.2xlarge")
    aws.reset()
    detail = restart_run(handlers, instance_id, "up")
    assert detail["outcome"] == "noop"
    assert "already the largest size" in detail["reason"]
    assert aws.calls["ec2.StopInstances"] == 0 and aws.calls["sns.Publish"] == 0


def test_bottom_of_the_ladder_is_a_no_op_going_down(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    detail = restart_run(handlers, launch(aws), "down")
    assert detail["outcome"] == "noop" and "smallest" in detail["reason"]


def test_moving_down_takes_one_step(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws, "m5.2xlarge")
    assert restart_run(handlers, instance_id, "down")["outcome"] == "resized"
    assert describe(aws, instance_id)["InstanceType"] == "m5.xlarge"


def test_dry_run_changes_nothing_and_reports_the_plan(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.reset()
    detail = restart_run(handlers, instance_id, dry_run=True)
    assert (detail["outcome"], detail["new_size"]) == ("dry-run", "m5.xlarge")
    assert describe(aws, instance_id)["InstanceType"] == "m5.large"
    assert aws.calls["ec2.StopInstances"] == 0
    # A dry run sets no cooldown: the real resize may follow at once.
    assert restart_run(handlers, instance_id)["outcome"] == "resized"


def test_capacity_error_falls_back_to_the_next_candidate(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.fail("ec2.StartInstances", "InsufficientInstanceCapacity")
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "resized"
    assert detail["new_size"] == "m6i.xlarge"
    assert detail["failures"] == [{"type": "m5.xlarge", "error": "InsufficientInstanceCapacity"}]
    instance = describe(aws, instance_id)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("m6i.xlarge", "running")
    assert aws.calls["sns.Publish"] == 0


def test_no_capacity_for_any_candidate_reverts_and_restarts_the_original(
    aws: Aws, handlers: dict[str, ModuleType]
) -> None:
    instance_id = launch(aws)
    aws.fail("ec2.StartInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "reverted"
    assert [f["type"] for f in detail["failures"]] == ["m5.xlarge", "m6i.xlarge"]
    instance = describe(aws, instance_id)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("m5.large", "running")
    assert aws.calls["sns.Publish"] == 1


def test_start_that_falls_back_to_stopped_tries_the_next_candidate(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id = launch(aws)
    restart = handlers["restart"]
    real = restart._status
    stopped_once = {"done": False}

    def status(iid: str) -> dict[str, Any]:
        current = real(iid)
        if (
            current["InstanceState"]["Name"] == "running"
            and not stopped_once["done"]
            and aws.calls["ec2.StartInstances"]
        ):
            stopped_once["done"] = True
            aws.client("ec2").stop_instances(InstanceIds=[iid])
            return real(iid)
        return current

    monkeypatch.setattr(restart, "_status", status)
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "resized" and detail["new_size"] == "m6i.xlarge"
    assert detail["failures"] == [{"type": "m5.xlarge", "error": "stopped after start"}]


def test_unexpected_start_error_reverts_without_fallback(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.fail("ec2.StartInstances", "IncorrectInstanceState")
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "reverted"
    assert detail["errors"]["error"]["error"] == "StartFailed"
    assert "IncorrectInstanceState" in detail["errors"]["error"]["cause"]
    assert describe(aws, instance_id)["State"]["Name"] == "running"
    assert describe(aws, instance_id)["InstanceType"] == "m5.large"


def test_modify_refused_reverts_to_running_original(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.fail("ec2.ModifyInstanceAttribute", "InvalidParameterCombination")
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "reverted"
    assert detail["errors"]["error"]["error"] == "ModifyFailed"
    instance = describe(aws, instance_id)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("m5.large", "running")


def test_original_that_cannot_start_again_is_reported_as_failed(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    aws.fail("ec2.StartInstances", *["InsufficientInstanceCapacity"] * 3)
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "failed"
    assert "did not start again as m5.large" in detail["errors"]["revert_error"]["cause"]
    assert aws.calls["sns.Publish"] == 1


def test_impaired_instance_after_resize_is_reverted(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id = launch(aws)
    restart = handlers["restart"]
    real = restart._status

    def status(iid: str) -> dict[str, Any]:
        current = real(iid)
        if describe(aws, iid)["InstanceType"] == "m5.xlarge" and current["InstanceState"]["Name"] == "running":
            return {**current, "InstanceStatus": {"Status": "impaired"}}
        return current

    monkeypatch.setattr(restart, "_status", status)
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "reverted"
    assert detail["errors"]["error"]["error"] == "StatusChecksFailed"
    instance = describe(aws, instance_id)
    assert (instance["InstanceType"], instance["State"]["Name"]) == ("m5.large", "running")


def test_status_checks_still_initializing_are_not_ready(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    restart = handlers["restart"]
    state = {"instance_id": launch(aws), "current_type": "m5.large"}
    restart._status = lambda _iid: {  # type: ignore[attr-defined]
        "InstanceState": {"Name": "running"},
        "SystemStatus": {"Status": "ok"},
        "InstanceStatus": {"Status": "initializing"},
    }
    with pytest.raises(restart.NotReady, match="initializing"):
        restart.await_running(state)


# --- planning and refusals --------------------------------------------------------------------


def test_instance_in_an_auto_scaling_group_is_refused(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws, **{"aws:autoscaling:groupName": "web-asg"})
    aws.reset()
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "refused"
    assert "Auto Scaling group web-asg" in detail["reason"]
    assert aws.calls["ec2.StopInstances"] == 0
    assert aws.calls["sns.Publish"] == 1


def test_incompatible_candidates_are_refused_before_anything_stops(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LADDER", json.dumps([["m5.large"], ["m6g.xlarge", "a1.xlarge"]]))
    instance_id = launch(aws)
    aws.reset()
    detail = restart_run(handlers, instance_id)
    assert detail["outcome"] == "refused"
    assert "m6g.xlarge does not support the instance's architecture x86_64" in detail["reason"]
    assert "a1.xlarge does not support" in detail["reason"]
    assert aws.calls["ec2.StopInstances"] == 0
    assert describe(aws, instance_id)["State"]["Name"] == "running"


def test_incompatibility_rules(handlers: dict[str, ModuleType]) -> None:
    plan = handlers["plan"]
    x86 = {"ProcessorInfo": {"SupportedArchitectures": ["x86_64"]}, "SupportedVirtualizationTypes": ["hvm"]}
    instance = {"Architecture": "x86_64", "VirtualizationType": "hvm", "EnaSupport": False}
    assert plan.incompatibility(instance, x86, None) == "type is unknown in this Region"
    assert plan.incompatibility(instance, x86, x86) is None
    assert "paravirtual" in plan.incompatibility({**instance, "VirtualizationType": "paravirtual"}, x86, x86)
    ena = {**x86, "NetworkInfo": {"EnaSupport": "required"}}
    assert "requires ENA" in plan.incompatibility(instance, x86, ena)
    nvme = {**x86, "EbsInfo": {"NvmeSupport": "required"}}
    assert "NVMe" in plan.incompatibility(instance, x86, nvme)
    assert plan.incompatibility(instance, nvme, nvme) is None


def test_type_not_offered_in_the_zone_is_not_a_candidate(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id = launch(aws)
    ec2 = handlers["plan"]._client("ec2")
    real = ec2.describe_instance_type_offerings

    def offerings(**kwargs: Any) -> dict[str, Any]:
        result = real(**kwargs)
        return {
            "InstanceTypeOfferings": [o for o in result["InstanceTypeOfferings"] if o["InstanceType"] != "m5.xlarge"]
        }

    monkeypatch.setattr(ec2, "describe_instance_type_offerings", offerings)
    detail = restart_run(handlers, instance_id)
    assert detail["new_size"] == "m6i.xlarge"
    state = call(handlers["plan"], None, {"instance_id": instance_id, "direction": "down", "execution": "x"})
    assert state["action"] == "resize"


def test_size_not_on_the_ladder_is_refused(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    detail = restart_run(handlers, launch(aws, "c5.large"))
    assert detail["outcome"] == "refused"
    assert "c5.large is not on the size ladder m5.large < m5.xlarge|m6i.xlarge < m5.2xlarge" in detail["reason"]


def test_instance_that_no_longer_exists_is_refused(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    detail = restart_run(handlers, "i-0123456789abcdef0")
    assert detail["outcome"] == "refused" and detail["reason"] == "the instance no longer exists"


def test_instance_that_lost_the_tag_is_refused(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    detail = restart_run(handlers, launch(aws, tag="someone-else"))
    assert detail["outcome"] == "refused" and "no longer carries the tag" in detail["reason"]


def test_plan_rejects_a_state_without_direction(handlers: dict[str, ModuleType]) -> None:
    with pytest.raises(handlers["plan"].BadRequest, match="direction of up or down"):
        handlers["plan"].handler({"state": {"instance_id": "i-1", "direction": "sideways"}}, LambdaContext())


def test_restart_rejects_unknown_steps_and_unplanned_state(handlers: dict[str, ModuleType]) -> None:
    restart = handlers["restart"]
    with pytest.raises(restart.BadRequest, match="step must be one of"):
        restart.handler({"step": "reboot", "state": {}}, LambdaContext())
    with pytest.raises(restart.BadRequest, match="planned resize"):
        restart.handler({"step": "stop", "state": {"instance_id": "i-1", "action": "noop"}}, LambdaContext())


def test_throttling_is_raised_for_the_state_machine_to_retry(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    instance_id = launch(aws)
    state = call(handlers["plan"], None, {"instance_id": instance_id, "direction": "up", "execution": EXECUTION})
    aws.fail("ec2.StopInstances", "RequestLimitExceeded")
    with pytest.raises(Exception, match="RequestLimitExceeded") as raised:
        call(handlers["restart"], "stop", state)
    assert type(raised.value).__name__ == "ClientError"  # the state machine retries ClientError
    assert describe(aws, instance_id)["State"]["Name"] == "running"


# --- targets ----------------------------------------------------------------------------------


def test_targets_lists_running_and_stopped_tagged_instances_only(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    running, stopped = launch(aws), launch(aws)
    launch(aws, tag="other")
    terminated = launch(aws)
    ec2 = aws.client("ec2")
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[terminated])
    result = handlers["targets"].handler(load_event("vertical_scaling_schedule_input"), LambdaContext())
    assert result["instances"] == sorted([running, stopped])
    assert (result["direction"], result["dry_run"]) == ("up", False)
    assert result["execution"].endswith("0b6f3c1e-5d2a-4c8e-9f41-2a7d9e3b1c55")


def test_targets_takes_dry_run_from_the_trigger(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    result = handlers["targets"].handler(load_event("vertical_scaling_alarm_input"), LambdaContext())
    assert (result["direction"], result["dry_run"], result["trigger"]) == ("down", True, "alarm BackOfficeCpuLow")


@pytest.mark.parametrize(
    ("request_input", "message"),
    [
        ({"direction": "sideways"}, "direction must be one of up, down; got 'sideways'"),
        ({"direction": "up", "dry_run": "yes"}, "dry_run must be true or false"),
        ("up", "execution input must be a JSON object"),
    ],
)
def test_targets_refuses_bad_input(handlers: dict[str, ModuleType], request_input: Any, message: str) -> None:
    targets = handlers["targets"]
    with pytest.raises(targets.BadRequest, match=message):
        targets.handler({"input": request_input, "execution": EXECUTION}, LambdaContext())
