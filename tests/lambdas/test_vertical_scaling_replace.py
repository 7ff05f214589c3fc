"""Vertical scaling, replace mode: plan and replace handlers against moto EC2 and ELBv2
(image, run, register, target health, deregister, stop), with injected faults."""

from __future__ import annotations

import base64
import json
from types import ModuleType
from typing import Any

import pytest

from tests.handler_kit import LambdaContext, stubbed
from tests.lambdas.vertical_scaling_kit import (
    EXECUTION,
    TAG_KEY,
    Aws,
    call,
    caught,
    describe,
    finish,
)

STEPS = (
    "image",
    "await_image",
    "launch",
    "await_running",
    "register",
    "await_healthy",
    "deregister_old",
    "await_drained",
    "retire_old",
)


@pytest.fixture
def web(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A web instance with a profile, a key pair and custom tags, in two target groups on different ports."""
    monkeypatch.setenv("MODE", "replace")
    monkeypatch.setenv("TARGET_TAG_VALUE", "web")
    ec2, elbv2, iam = aws.client("ec2"), aws.client("elbv2"), aws.client("iam")
    # moto's CreateImage does not accept snapshot tag specifications; AWS does. Keep the image ones.
    aws.session.events.register("before-parameter-build.ec2.CreateImage", _image_tags_only)
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.create_key_pair(KeyName="ops")
    profile = iam.create_instance_profile(InstanceProfileName="web")["InstanceProfile"]["Arn"]
    old = ec2.run_instances(
        ImageId=aws.ami,
        MinCount=1,
        MaxCount=1,
        InstanceType="m5.large",
        SubnetId=subnet,
        SecurityGroupIds=[group],
        KeyName="ops",
        IamInstanceProfile={"Arn": profile},
        MetadataOptions={"HttpTokens": "required"},
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": TAG_KEY, "Value": "web"}, {"Key": "App", "Value": "shop"}]}
        ],
    )["Instances"][0]["InstanceId"]
    groups = []
    for name, port in (("web-http", 80), ("web-admin", 8080)):
        arn = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="instance")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        elbv2.register_targets(TargetGroupArn=arn, Targets=[{"Id": old, "Port": port}])
        groups.append((arn, port))
    other = elbv2.create_target_group(Name="unrelated", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")
    assert other
    aws.reset()
    return {"old": old, "groups": groups, "subnet": subnet, "sg": group, "profile": profile}


def _image_tags_only(params: dict[str, Any], **_: Any) -> None:
    params["TagSpecifications"] = [t for t in params.get("TagSpecifications", []) if t["ResourceType"] == "image"]


def health(aws: Aws, group: str, instance_id: str, port: int) -> str:
    descriptions = aws.client("elbv2").describe_target_health(
        TargetGroupArn=group, Targets=[{"Id": instance_id, "Port": port}]
    )["TargetHealthDescriptions"]
    return str(descriptions[0]["TargetHealth"]["State"])


def planned(h: dict[str, ModuleType], state: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Plan, then find the registrations as the state machine does: invoked again while ``scanning``."""
    state = call(h["plan"], None, state)
    while state["scanning"]:
        state = h["plan"].handler({"step": "registrations", "state": state}, context or LambdaContext())
    return state


def planned_through(h: dict[str, ModuleType], instance_id: str, steps: int) -> dict[str, Any]:
    """Plan an upsize of ``instance_id`` and run the first ``steps`` replace steps; returns the state."""
    state = planned(h, {"instance_id": instance_id, "direction": "up", "execution": EXECUTION})
    for step in STEPS[:steps]:
        state = call(h["replace"], step, state, polls=3)
    return state


def replace_run(h: dict[str, ModuleType], instance_id: str) -> dict[str, Any]:
    """One instance's path through the replace-mode state machine; returns the reported detail."""
    state: dict[str, Any] = {
        "instance_id": instance_id,
        "direction": "up",
        "dry_run": False,
        "trigger": "test",
        "execution": EXECUTION,
    }
    state = call(h["lock"], "acquire", state)
    state = planned(h, state)
    if state["action"] != "resize":
        return finish(h, state)
    try:
        for step in STEPS:
            state = call(h["replace"], step, state, polls=3)
    except Exception as error:
        state = call(h["replace"], "cleanup", caught(state, error))
        return finish(h, state)
    state = call(h["replace"], "discard_image", state)
    return finish(h, state)


def test_plan_records_launch_settings_and_every_target_group(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    assert state["launch"]["subnet_id"] == web["subnet"]
    assert state["launch"]["security_group_ids"] == [web["sg"]]
    assert state["launch"]["key_name"] == "ops"
    assert state["launch"]["instance_profile_arn"] == web["profile"]
    assert {"Key": "App", "Value": "shop"} in state["launch"]["tags"]
    assert sorted((r["target_group_arn"], r["port"]) for r in state["registrations"]) == sorted(web["groups"])


def test_replacement_joins_every_group_before_the_old_instance_leaves(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    order: list[str] = []
    aws.session.events.register(
        "before-call.elastic-load-balancing-v2.*", lambda event_name, **_: order.append(event_name.split(".")[-1])
    )
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "resized"
    assert (detail["old_size"], detail["new_size"], detail["mode"]) == ("m5.large", "m5.xlarge", "replace")
    new = detail["new_instance_id"]
    new_instance = describe(aws, new)
    assert new_instance["InstanceType"] == "m5.xlarge"
    assert new_instance["SubnetId"] == web["subnet"]
    assert [g["GroupId"] for g in new_instance["SecurityGroups"]] == [web["sg"]]
    assert new_instance["KeyName"] == "ops"
    assert new_instance["IamInstanceProfile"]["Arn"] == web["profile"]
    tags = {t["Key"]: t["Value"] for t in new_instance["Tags"]}
    assert tags[TAG_KEY] == "web" and tags["App"] == "shop"
    assert tags["blueprints:vertical-scaling:replaces"] == web["old"]
    for group, port in web["groups"]:
        assert health(aws, group, new, port) == "healthy"
        assert health(aws, group, web["old"], port) == "unused"
    assert describe(aws, web["old"])["State"]["Name"] == "stopped"
    # Registration of the new instance and its health come before any deregistration.
    assert order.index("DeregisterTargets") > max(i for i, op in enumerate(order) if op == "RegisterTargets")
    assert order.index("DeregisterTargets") > order.index("DescribeTargetHealth")
    # The image and its snapshots are gone again.
    assert [i["Name"] for i in aws.client("ec2").describe_images(Owners=["self"])["Images"]] == ["al2023"]


def test_old_instance_can_be_terminated(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLD_INSTANCE_ACTION", "terminate")
    assert replace_run(handlers, web["old"])["outcome"] == "resized"
    assert describe(aws, web["old"])["State"]["Name"] == "terminated"


def test_failed_health_check_keeps_the_old_instance_in_service_and_removes_the_new(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    def unhealthy(parsed: dict[str, Any], **_: Any) -> None:
        for description in parsed.get("TargetHealthDescriptions", []):
            if description["Target"]["Id"] != web["old"]:
                description["TargetHealth"] = {"State": "unhealthy", "Reason": "Target.FailedHealthChecks"}

    aws.session.events.register("after-call.elastic-load-balancing-v2.DescribeTargetHealth", unhealthy)
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "failed"
    assert "Target.FailedHealthChecks" in detail["errors"]["error"]["cause"]
    assert aws.calls["elastic-load-balancing-v2.DeregisterTargets"] == 2  # the new instance, from both groups
    new = detail["new_instance_id"]
    assert describe(aws, new)["State"]["Name"] == "terminated"
    old = describe(aws, web["old"])
    assert (old["State"]["Name"], old["InstanceType"]) == ("running", "m5.large")
    aws.session.events.unregister("after-call.elastic-load-balancing-v2.DescribeTargetHealth", unhealthy)
    for group, port in web["groups"]:
        assert health(aws, group, web["old"], port) == "healthy"
        assert health(aws, group, new, port) == "unused"
    assert aws.calls["sns.Publish"] == 1
    assert [i["Name"] for i in aws.client("ec2").describe_images(Owners=["self"])["Images"]] == ["al2023"]


def test_capacity_error_at_launch_falls_back_to_the_next_candidate(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    aws.fail("ec2.RunInstances", "InsufficientInstanceCapacity")
    detail = replace_run(handlers, web["old"])
    assert (detail["outcome"], detail["new_size"]) == ("resized", "m6i.xlarge")
    assert detail["failures"] == [{"type": "m5.xlarge", "error": "InsufficientInstanceCapacity"}]


def test_no_capacity_for_any_candidate_leaves_the_old_instance_alone(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    aws.fail("ec2.RunInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "failed" and detail["errors"]["error"]["error"] == "LaunchFailed"
    assert describe(aws, web["old"])["State"]["Name"] == "running"
    assert aws.calls["ec2.TerminateInstances"] == 0
    assert [i["Name"] for i in aws.client("ec2").describe_images(Owners=["self"])["Images"]] == ["al2023"]


def test_fault_while_deregistering_the_old_instance_puts_it_back(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 6)
    # The first group lets the old instance go, the second fails: the fault hits half-way.
    real = handlers["replace"]._client("elbv2").deregister_targets
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise (
                handlers["replace"]
                ._client("elbv2")
                .exceptions.TargetGroupNotFoundException(
                    {"Error": {"Code": "TargetGroupNotFound", "Message": "gone"}}, "DeregisterTargets"
                )
            )
        return real(**kwargs)

    handlers["replace"]._client("elbv2").deregister_targets = flaky
    with pytest.raises(Exception, match="TargetGroupNotFound") as raised:
        call(handlers["replace"], "deregister_old", state)
    handlers["replace"]._client("elbv2").deregister_targets = real
    cleaned = call(handlers["replace"], "cleanup", caught(state, raised.value))
    assert cleaned["outcome"] == "failed" and cleaned["kept_new_instance"] is False
    for group, port in web["groups"]:
        assert health(aws, group, web["old"], port) == "healthy"
    assert describe(aws, state["new_instance_id"])["State"]["Name"] == "terminated"


def test_fault_while_registering_removes_the_new_instance_from_the_groups_it_joined(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 4)
    elbv2 = handlers["replace"]._client("elbv2")
    real = elbv2.register_targets
    done = {"n": 0}

    def half(**kwargs: Any) -> Any:
        done["n"] += 1
        if done["n"] == 2:
            raise elbv2.exceptions.TooManyRegistrationsForTargetIdException(
                {"Error": {"Code": "TooManyRegistrationsForTargetId", "Message": "limit"}}, "RegisterTargets"
            )
        return real(**kwargs)

    elbv2.register_targets = half
    with pytest.raises(Exception, match="TooManyRegistrationsForTargetId") as raised:
        call(handlers["replace"], "register", state)
    elbv2.register_targets = real
    cleaned = call(handlers["replace"], "cleanup", caught(state, raised.value))
    assert cleaned["outcome"] == "failed"
    first_group, first_port = web["groups"][0]
    assert health(aws, first_group, state["new_instance_id"], first_port) == "unused"
    assert describe(aws, state["new_instance_id"])["State"]["Name"] == "terminated"
    for group, port in web["groups"]:
        assert health(aws, group, web["old"], port) == "healthy"


def test_fault_after_the_old_instance_left_keeps_the_new_one(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 8)
    aws.fail("ec2.StopInstances", "UnauthorizedOperation")
    with pytest.raises(Exception, match="UnauthorizedOperation") as raised:
        call(handlers["replace"], "retire_old", state)
    cleaned = call(handlers["replace"], "cleanup", caught(state, raised.value))
    assert cleaned["kept_new_instance"] is True
    assert describe(aws, state["new_instance_id"])["State"]["Name"] == "running"
    for group, port in web["groups"]:
        assert health(aws, group, state["new_instance_id"], port) == "healthy"


def test_stopped_instance_is_refused_in_replace_mode(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    aws.client("ec2").stop_instances(InstanceIds=[web["old"]])
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "refused" and "running instances only" in detail["reason"]


def test_image_step_is_idempotent_and_tags_image_and_snapshots(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    module = handlers["replace"]
    state = {"instance_id": web["old"], "execution": EXECUTION}
    client = module._client("ec2")
    with stubbed(client) as stub:
        stub.add_client_error("create_image", "InvalidAMIName.Duplicate", "exists")
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-0123456789abcdef0"}]})
        result = module.image(state)
    assert result["image_id"] == "ami-0123456789abcdef0"
    with stubbed(client) as stub:
        stub.add_response(
            "create_image",
            {"ImageId": "ami-0fedcba9876543210"},
            {
                "InstanceId": web["old"],
                "Name": stub_name(module, web),
                "Description": f"Data of {web['old']} for its replacement by a resized instance",
                "NoReboot": True,
                "TagSpecifications": [
                    {"ResourceType": r, "Tags": [module._mark(), {"Key": "Name", "Value": stub_name(module, web)}]}
                    for r in ("image", "snapshot")
                ],
            },
        )
        assert module.image(state)["image_id"] == "ami-0fedcba9876543210"


def stub_name(module: ModuleType, web: dict[str, Any]) -> str:
    return f"vertical-scaling-{web['old']}-{module._token(EXECUTION)[:16]}"


def test_image_that_fails_is_reported(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    module = handlers["replace"]
    with stubbed(module._client("ec2")) as stub:
        stub.add_response("describe_images", {"Images": [{"ImageId": "ami-1", "State": "failed"}]})
        with pytest.raises(module.ImageFailed, match="is failed"):
            module.await_image({"image_id": "ami-1"})


def test_replace_rejects_unplanned_state(handlers: dict[str, ModuleType]) -> None:
    module = handlers["replace"]
    with pytest.raises(module.BadRequest, match="planned replace-mode resize"):
        module.handler({"step": "launch", "state": {"action": "resize"}}, LambdaContext())


MARK = "blueprints:vertical-scaling"


def targets(h: dict[str, ModuleType]) -> list[str]:
    listed = h["targets"].handler({"input": {"direction": "up"}, "execution": EXECUTION}, LambdaContext())
    return list(listed["instances"])


def test_second_replacement_sends_each_tag_key_once_with_the_constructs_values(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # EC2 refuses a TagSpecification that names a key twice (InvalidParameterValue); moto does not, so the
    # requests are recorded as sent and checked here.
    launched: list[list[dict[str, Any]]] = []
    aws.session.events.register(
        "before-parameter-build.ec2.RunInstances",
        lambda params, **_: launched.append([dict(s, Tags=list(s["Tags"])) for s in params["TagSpecifications"]]),
    )
    monkeypatch.setenv("COOLDOWN_SECONDS", "-10")  # the second trigger comes after the new instance's cooldown
    first = replace_run(handlers, web["old"])
    assert first["outcome"] == "resized"
    second = replace_run(handlers, first["new_instance_id"])
    assert (second["outcome"], second["old_size"], second["new_size"]) == ("resized", "m5.xlarge", "m5.2xlarge")
    assert len(launched) == 2
    for specification in launched[1]:
        keys = [t["Key"] for t in specification["Tags"]]
        assert len(keys) == len(set(keys)), f"duplicate tag keys in {specification['ResourceType']}: {keys}"
        tags = {t["Key"]: t["Value"] for t in specification["Tags"]}
        assert tags == {
            TAG_KEY: "web",
            "App": "shop",
            MARK: "replace",
            f"{MARK}:replaces": first["new_instance_id"],
        }


def test_retired_instance_is_tagged_and_no_longer_a_target(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    assert targets(handlers) == [web["old"]]
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "resized"
    old = describe(aws, web["old"])
    assert old["State"]["Name"] == "stopped"
    assert {t["Key"]: t["Value"] for t in old["Tags"]}[f"{MARK}:replaced-by"] == detail["new_instance_id"]
    # Still tagged for the target, stopped, but retired: only its replacement is listed.
    assert targets(handlers) == [detail["new_instance_id"]]


def test_replaced_by_tag_is_set_before_the_old_instance_stops(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 8)
    order: list[str] = []
    handlers["replace"]._client("ec2").meta.events.register(  # the client exists already: hook it directly
        "before-call.ec2.*", lambda event_name, **_: order.append(event_name.split(".")[-1])
    )
    retired = call(handlers["replace"], "retire_old", state)
    assert retired["outcome"] == "resized"
    assert order == ["CreateTags", "StopInstances"]
    again = call(handlers["replace"], "retire_old", state)  # a retried step changes nothing more
    assert again["outcome"] == "resized"
    tags = {t["Key"]: t["Value"] for t in describe(aws, web["old"])["Tags"]}
    assert tags[f"{MARK}:replaced-by"] == state["new_instance_id"]


def test_fault_while_draining_keeps_the_new_instance_and_retires_the_old_from_the_targets(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 7)
    aws.fail("elastic-load-balancing-v2.DescribeTargetHealth", "AccessDenied")
    with pytest.raises(Exception, match="AccessDenied") as raised:
        call(handlers["replace"], "await_drained", state)
    cleaned = call(handlers["replace"], "cleanup", caught(state, raised.value))
    assert cleaned["kept_new_instance"] is True
    old = describe(aws, web["old"])
    assert old["State"]["Name"] == "running"  # out of its groups, never stopped: the report says so
    assert {t["Key"]: t["Value"] for t in old["Tags"]}[f"{MARK}:replaced-by"] == state["new_instance_id"]
    assert targets(handlers) == [state["new_instance_id"]]


def test_failed_replacement_does_not_retire_the_old_instance(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    aws.fail("ec2.RunInstances", "InsufficientInstanceCapacity", "InsufficientInstanceCapacity")
    assert replace_run(handlers, web["old"])["outcome"] == "failed"
    assert f"{MARK}:replaced-by" not in {t["Key"] for t in describe(aws, web["old"])["Tags"]}
    assert targets(handlers) == [web["old"]]


def test_new_instance_is_in_cooldown_after_a_replacement(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "resized"
    later = {"instance_id": detail["new_instance_id"], "direction": "up", "execution": f"{EXECUTION}-2"}
    with pytest.raises(handlers["lock"].InCooldown, match="cooldown lasts until"):
        call(handlers["lock"], "acquire", later)
    assert aws.calls["ec2.CreateImage"] == 1  # nothing of the second trigger reached EC2


# Discarding the image ------------------------------------------------------------------------------
# moto ignores DeleteAssociatedSnapshots (it keeps the snapshots and returns no DeleteSnapshotResults), so on
# moto every snapshot goes through the one-by-one path; the Stubber test checks the request AWS receives.


def image_snapshots(aws: Aws, image_id: str) -> list[str]:
    images = aws.client("ec2").describe_images(ImageIds=[image_id])["Images"]
    return [m["Ebs"]["SnapshotId"] for m in images[0]["BlockDeviceMappings"] if "Ebs" in m]


def snapshot_exists(aws: Aws, snapshot_id: str) -> bool:
    snapshots = aws.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return snapshot_id in {s["SnapshotId"] for s in snapshots}


def resized(h: dict[str, ModuleType], web: dict[str, Any]) -> dict[str, Any]:
    """The state of a replacement that is done but for discarding the image."""
    state = planned(h, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    for step in STEPS:
        state = call(h["replace"], step, state, polls=3)
    return state


def test_image_is_deregistered_with_its_snapshots_in_one_call(handlers: dict[str, ModuleType]) -> None:
    module = handlers["replace"]
    state = {"image_id": "ami-0123456789abcdef0", "image_snapshot_ids": ["snap-0123456789abcdef0"]}
    with stubbed(module._client("ec2")) as stub:  # any other call (DescribeImages, DeleteSnapshot) fails the test
        stub.add_response(
            "deregister_image",
            {
                "Return": True,
                "DeleteSnapshotResults": [{"SnapshotId": "snap-0123456789abcdef0", "ReturnCode": "success"}],
            },
            {"ImageId": "ami-0123456789abcdef0", "DeleteAssociatedSnapshots": True},
        )
        assert module.discard_image(state) == state


def test_snapshots_ec2_did_not_delete_are_deleted_one_by_one(handlers: dict[str, ModuleType]) -> None:
    module = handlers["replace"]
    state = {"image_id": "ami-0123456789abcdef0", "image_snapshot_ids": ["snap-0000000000000000a"]}
    with stubbed(module._client("ec2")) as stub:
        stub.add_response(
            "deregister_image",
            {
                "Return": True,
                "DeleteSnapshotResults": [
                    {"SnapshotId": "snap-0000000000000000a", "ReturnCode": "internal-error"},
                    {"SnapshotId": "snap-0000000000000000b", "ReturnCode": "skipped"},  # another image uses it
                ],
            },
            {"ImageId": "ami-0123456789abcdef0", "DeleteAssociatedSnapshots": True},
        )
        stub.add_response("delete_snapshot", {}, {"SnapshotId": "snap-0000000000000000a"})
        module.discard_image(state)


def test_await_image_records_the_snapshots_while_the_image_lists_them(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    state = call(handlers["replace"], "image", state)
    state = call(handlers["replace"], "await_image", state, polls=3)
    assert state["image_snapshot_ids"] == image_snapshots(aws, state["image_id"])
    assert state["image_snapshot_ids"]


def test_snapshot_still_in_use_after_deregistration_is_retried_not_left_behind(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = resized(handlers, web)
    (snapshot,) = state["image_snapshot_ids"]
    # EC2 may call the snapshot in use for a short while after the image is deregistered (boto/boto#3019).
    aws.fail("ec2.DeleteSnapshot", "InvalidSnapshot.InUse")
    module = handlers["replace"]
    with pytest.raises(module.NotReady, match=snapshot):
        module.handler({"step": "discard_image", "state": state}, LambdaContext())
    assert snapshot_exists(aws, snapshot)
    # The state machine retries with the same input; the image is gone by now (DescribeImages lists nothing).
    assert aws.client("ec2").describe_images(ImageIds=[state["image_id"]])["Images"] == []
    assert call(module, "discard_image", state) == state
    assert not snapshot_exists(aws, snapshot)
    assert aws.calls["ec2.DeregisterImage"] == 2  # the retry found it deregistered (InvalidAMIID.Unavailable)


def test_image_already_gone_is_discarded_without_error(handlers: dict[str, ModuleType], aws: Aws) -> None:
    module = handlers["replace"]
    gone = {
        "instance_id": "i-0123456789abcdef0",
        "execution": EXECUTION,
        "image_id": "ami-0123456789abcdef0",
        "image_snapshot_ids": ["snap-0123456789abcdef0"],
    }
    module.discard_image(gone)  # InvalidAMIID.NotFound, then InvalidSnapshot.NotFound: both already done
    unrecorded = {k: v for k, v in gone.items() if k != "image_snapshot_ids"}
    module.discard_image(unrecorded)  # DescribeImages answers InvalidAMIID.NotFound: nothing to find
    assert aws.calls["ec2.DescribeImages"] == 1


def test_snapshots_of_an_image_that_never_became_available_are_found_by_their_tag(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    state = call(handlers["replace"], "image", state)  # AwaitImage never succeeded: no snapshot ids recorded
    (snapshot,) = image_snapshots(aws, state["image_id"])
    # What the image step's snapshot TagSpecification does on AWS (moto refuses it in CreateImage).
    aws.client("ec2").create_tags(
        Resources=[snapshot],
        Tags=[{"Key": MARK, "Value": "replace"}, {"Key": "Name", "Value": stub_name(handlers["replace"], web)}],
    )
    failed = caught(state, handlers["replace"].ImageFailed("image is pending"))
    aws.fail("ec2.DeleteSnapshot", "InvalidSnapshot.InUse")
    with pytest.raises(handlers["replace"].NotReady):
        handlers["replace"].handler({"step": "cleanup", "state": failed}, LambdaContext())
    assert aws.client("ec2").describe_images(ImageIds=[state["image_id"]])["Images"] == []
    cleaned = call(handlers["replace"], "cleanup", failed)  # the retry: the image is gone, its tag is not
    assert cleaned["outcome"] == "failed"
    assert not snapshot_exists(aws, snapshot)


def test_cleanup_retires_the_old_instance_before_discarding_the_image(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned_through(handlers, web["old"], 7)
    # The fault hits while the old instance drains: RetireOld, which tags it first, never runs.
    aws.fail("elastic-load-balancing-v2.DescribeTargetHealth", "AccessDenied")
    with pytest.raises(Exception, match="AccessDenied") as raised:
        call(handlers["replace"], "await_drained", state)
    aws.fail("ec2.DeregisterImage", "UnauthorizedOperation")
    with pytest.raises(Exception, match="UnauthorizedOperation"):
        call(handlers["replace"], "cleanup", caught(state, raised.value))
    # The image could not be discarded, but the old instance, out of its groups, is already retired.
    tags = {t["Key"]: t["Value"] for t in describe(aws, web["old"])["Tags"]}
    assert tags[f"{MARK}:replaced-by"] == state["new_instance_id"]
    assert targets(handlers) == [state["new_instance_id"]]


def test_image_left_after_a_resize_is_reported_resized_and_notified(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = resized(handlers, web)
    aws.fail("ec2.DeregisterImage", "UnauthorizedOperation")
    with pytest.raises(Exception, match="UnauthorizedOperation") as raised:
        call(handlers["replace"], "discard_image", state)
    detail = finish(handlers, caught(state, raised.value, key="discard_error"))
    assert detail["outcome"] == "resized" and detail["new_size"] == "m5.xlarge"
    assert "UnauthorizedOperation" in detail["errors"]["discard_error"]["cause"]
    assert aws.calls["sns.Publish"] == 1


def _add_tags(aws: Aws, instance_id: str, count: int) -> None:
    tags = [{"Key": f"Extra{i:02d}", "Value": "x"} for i in range(count)]
    aws.client("ec2").create_tags(Resources=[instance_id], Tags=tags)
    aws.reset()


def test_instance_whose_replacement_would_exceed_50_tags_is_refused_before_imaging(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    _add_tags(aws, web["old"], 47)  # 49 tags of its own; with the construct's 2, the replacement would carry 51
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "refused"
    assert "51 tags (49 copied from the instance and 2 the construct adds" in detail["reason"]
    assert "limit of 50" in detail["reason"]
    assert aws.calls["ec2.CreateImage"] == 0 and aws.calls["ec2.RunInstances"] == 0


def test_constructs_keys_already_on_the_instance_are_counted_once(handlers: dict[str, ModuleType]) -> None:
    tags = {f"K{i}": "x" for i in range(48)} | {MARK: "replace", f"{MARK}:replaces": "i-1", "aws:x": "y"}
    assert handlers["plan"].replacement_tag_count(tags) == (50, 2)


def test_instance_whose_replacement_carries_exactly_50_tags_is_resized(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    launched: list[int] = []
    aws.session.events.register(
        "before-parameter-build.ec2.RunInstances",
        lambda params, **_: launched.extend(len(s["Tags"]) for s in params["TagSpecifications"]),
    )
    _add_tags(aws, web["old"], 46)  # 48 of its own, 50 with the construct's
    assert replace_run(handlers, web["old"])["outcome"] == "resized"
    assert launched == [50, 50]


def test_cleanup_terminates_a_launch_whose_id_was_lost_and_only_this_executions(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    module = handlers["replace"]
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    for step in ("image", "await_image"):
        state = call(module, step, state)
    before_launch = dict(state)
    launched = call(module, "launch", state)["new_instance_id"]
    # Another execution's replacement of the same instance: same tag, another client token.
    other = module.launch({**before_launch, "execution": "another-execution"})["new_instance_id"]
    tokens = {launched: module._token(EXECUTION, web["old"], before_launch["candidates"][0]), other: "other"}

    def client_tokens(parsed: dict[str, Any], **_: Any) -> None:
        # moto does not return ClientToken; EC2 does.
        for reservation in parsed.get("Reservations", []):
            for instance in reservation["Instances"]:
                if instance["InstanceId"] in tokens:
                    instance["ClientToken"] = tokens[instance["InstanceId"]]

    aws.session.events.register("after-call.ec2.DescribeInstances", client_tokens)
    result = call(module, "cleanup", caught(before_launch, module.LaunchFailed("lost")))
    assert result["outcome"] == "failed" and not result["kept_new_instance"]
    assert describe(aws, launched)["State"]["Name"] == "terminated"
    assert describe(aws, other)["State"]["Name"] == "running"
    assert describe(aws, web["old"])["State"]["Name"] == "running"


def test_cleanup_before_any_image_looks_for_no_launch(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    aws.reset()
    call(handlers["replace"], "cleanup", caught(state, RuntimeError("image failed")))
    assert aws.calls["ec2.DescribeInstances"] == 0 and aws.calls["ec2.TerminateInstances"] == 0


# --- every registration is found, and one a replacement would not carry over refuses the resize -----------


def _vpc(aws: Aws) -> str:
    return str(aws.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"])


def _refused_before_imaging(aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any], *needles: str) -> None:
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "refused", detail
    for needle in needles:
        assert needle in detail["reason"]
    assert aws.calls["ec2.CreateImage"] == 0 and aws.calls["ec2.RunInstances"] == 0
    old = describe(aws, web["old"])
    assert (old["State"]["Name"], old["InstanceType"]) == ("running", "m5.large")
    for group, port in web["groups"]:
        assert health(aws, group, web["old"], port) == "healthy"


def test_group_outside_target_groups_refuses_the_resize_before_any_image(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: target_groups lists one of the instance's two groups. Before, Plan looked in the listed
    group only, the run reported resized, and the other group's only target was the stopped old instance."""
    (listed, _), (other, _) = web["groups"]
    monkeypatch.setenv("TARGET_GROUP_ARNS", json.dumps([listed]))
    _refused_before_imaging(aws, handlers, web, other, "not in target_groups")
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    assert [r["target_group_arn"] for r in state["registrations"]] == [listed]
    assert len(state["unmigratable"]) == 1 and other in state["unmigratable"][0]


def test_ip_target_group_holding_the_instances_address_refuses_the_resize(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    elbv2 = aws.client("elbv2")
    address = describe(aws, web["old"])["PrivateIpAddress"]
    group = elbv2.create_target_group(Name="by-ip", Protocol="HTTP", Port=80, VpcId=_vpc(aws), TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": address, "Port": 80}])
    aws.reset()
    _refused_before_imaging(aws, handlers, web, f"IP target {address}", group)


def test_ip_target_of_another_address_does_not_refuse(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    elbv2 = aws.client("elbv2")
    group = elbv2.create_target_group(Name="by-ip", Protocol="HTTP", Port=80, VpcId=_vpc(aws), TargetType="ip")[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": "10.99.0.7", "Port": 80}])
    assert replace_run(handlers, web["old"])["outcome"] == "resized"


def test_classic_load_balancer_refuses_the_resize(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    elb = aws.client("elb")
    elb.create_load_balancer(
        LoadBalancerName="legacy",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        Subnets=[web["subnet"]],
    )
    elb.register_instances_with_load_balancer(LoadBalancerName="legacy", Instances=[{"InstanceId": web["old"]}])
    aws.reset()
    _refused_before_imaging(aws, handlers, web, "Classic Load Balancer legacy")


def test_unused_registration_is_carried_over_without_waiting_for_its_health(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    """A group no listener uses reports its targets ``unused`` (ELB API Reference, TargetHealth.State): the old
    instance is still registered there, so the new one joins it, but there is no health to wait for."""
    (_, _), (idle, port) = web["groups"]

    # The health calls run concurrently: each call's own request context carries its group to the response.
    def unused(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context.get("group") == idle:
            for description in parsed.get("TargetHealthDescriptions", []):
                description["TargetHealth"] = {"State": "unused", "Reason": "Target.NotInUse"}

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["group"] = params["TargetGroupArn"]

    aws.session.events.register("before-parameter-build.elastic-load-balancing-v2.DescribeTargetHealth", remember)
    aws.session.events.register("after-call.elastic-load-balancing-v2.DescribeTargetHealth", unused)
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    idle_registration = next(r for r in state["registrations"] if r["target_group_arn"] == idle)
    assert idle_registration == {"target_group_arn": idle, "port": port, "health_checked": False}
    detail = replace_run(handlers, web["old"])
    assert detail["outcome"] == "resized"
    aws.session.events.unregister("after-call.elastic-load-balancing-v2.DescribeTargetHealth", unused)
    assert health(aws, idle, detail["new_instance_id"], port) == "healthy"


class _Clock(LambdaContext):
    """A Lambda context whose remaining time falls by ``cost_ms`` per DescribeTargetHealth call, as if the
    calls ran one after another (the pessimistic case for the handler's concurrent calls)."""

    def __init__(self, aws: Aws, cost_ms: int, budget_ms: int = 60_000) -> None:
        super().__init__()
        self.budget_ms, self.cost_ms, self.spent_ms, self.lowest_ms = budget_ms, cost_ms, 0, budget_ms
        aws.session.events.register("before-call.elastic-load-balancing-v2.DescribeTargetHealth", self._tick)

    def _tick(self, **_: Any) -> None:
        self.spent_ms += self.cost_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.budget_ms - self.spent_ms
        self.lowest_ms = min(self.lowest_ms, remaining)
        return remaining


def test_several_hundred_target_groups_are_searched_across_invocations_inside_the_function_time(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    elbv2 = aws.client("elbv2")
    vpc = _vpc(aws)
    for index in range(300):
        elbv2.create_target_group(Name=f"fleet-{index}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")
    last = elbv2.create_target_group(Name="fleet-last", Protocol="HTTP", Port=9090, VpcId=vpc, TargetType="instance")
    last_arn = last["TargetGroups"][0]["TargetGroupArn"]
    elbv2.register_targets(TargetGroupArn=last_arn, Targets=[{"Id": web["old"], "Port": 9090}])
    groups = len(elbv2.describe_target_groups()["TargetGroups"])
    aws.reset()
    plan = handlers["plan"]
    state = call(plan, None, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    invocations, slowest = 0, 0
    while state["scanning"]:
        # A fresh 60-second function per invocation; each health call costs 1 s of it.
        clock = _Clock(aws, cost_ms=1_000)
        state = plan.handler({"step": "registrations", "state": state}, clock)
        aws.session.events.unregister("before-call.elastic-load-balancing-v2.DescribeTargetHealth", clock._tick)
        invocations += 1
        slowest = max(slowest, clock.spent_ms)
        # No round of calls starts with less than the reserve left, so the last one ends inside the function.
        assert clock.spent_ms <= 60_000 - plan.SCAN_RESERVE_MS + plan.SCAN_WORKERS * 1_000
    assert invocations > 1
    # Every group in the instance's VPC is asked once, none twice across the invocations.
    assert aws.calls["elastic-load-balancing-v2.DescribeTargetHealth"] == groups == state["scan"]["checked"]
    assert sorted((r["target_group_arn"], r["port"]) for r in state["registrations"]) == sorted(
        [*web["groups"], (last_arn, 9090)]
    )
    assert state["action"] == "resize"


# --- the replacement keeps what the instance was launched with ------------------------------------------


def _like_web(aws: Aws, web: dict[str, Any], instance_type: str = "m5.large", **params: Any) -> str:
    """Another target instance in the web instance's subnet, launched with ``params`` (in no target group)."""
    instance = aws.client("ec2").run_instances(
        ImageId=aws.ami,
        MinCount=1,
        MaxCount=1,
        InstanceType=instance_type,
        SubnetId=web["subnet"],
        SecurityGroupIds=[web["sg"]],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": TAG_KEY, "Value": "web"}]}],
        **params,
    )["Instances"][0]
    aws.reset()
    return str(instance["InstanceId"])


def _run_instances_requests(aws: Aws) -> list[dict[str, Any]]:
    """Every RunInstances request the handlers make, as the handler passed it (before serialization)."""
    requests: list[dict[str, Any]] = []
    aws.session.events.register(
        "provide-client-params.ec2.RunInstances", lambda params, **_: requests.append(dict(params))
    )
    return requests


def test_replacement_keeps_metadata_options_user_data_shutdown_behaviour_and_hostname_options(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    script = "#!/bin/bash\necho configured > /etc/app.conf\n"
    old = _like_web(
        aws,
        web,
        MetadataOptions={
            "HttpTokens": "required",
            "HttpPutResponseHopLimit": 2,  # containers reach IMDS through a bridge: one hop more
            "HttpEndpoint": "enabled",
            "InstanceMetadataTags": "enabled",
        },
        UserData=script,
        InstanceInitiatedShutdownBehavior="terminate",
    )
    dns = {"HostnameType": "resource-name", "EnableResourceNameDnsARecord": True}

    def hostname_options(parsed: dict[str, Any], **_: Any) -> None:
        # DescribeInstances reports PrivateDnsNameOptions (EC2 API Reference, Instance); moto leaves it out.
        for reservation in parsed.get("Reservations", []):
            for instance in reservation["Instances"]:
                if instance["InstanceId"] == old:
                    instance["PrivateDnsNameOptions"] = {**dns, "EnableResourceNameDnsAAAARecord": False}

    aws.session.events.register("after-call.ec2.DescribeInstances", hostname_options)
    requests = _run_instances_requests(aws)
    detail = replace_run(handlers, old)
    assert detail["outcome"] == "resized"
    new = describe(aws, detail["new_instance_id"])
    options = {k: v for k, v in new["MetadataOptions"].items() if k != "State"}
    assert options == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
        "HttpEndpoint": "enabled",
        "HttpProtocolIpv6": "disabled",
        "InstanceMetadataTags": "enabled",
    }
    ec2 = aws.client("ec2")
    data = ec2.describe_instance_attribute(InstanceId=new["InstanceId"], Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(data).decode() == script
    behaviour = ec2.describe_instance_attribute(
        InstanceId=new["InstanceId"], Attribute="instanceInitiatedShutdownBehavior"
    )["InstanceInitiatedShutdownBehavior"]["Value"]
    assert behaviour == "terminate"
    assert requests[0]["PrivateDnsNameOptions"] == {**dns, "EnableResourceNameDnsAAAARecord": False}
    # User data may hold secrets: it never enters the state, which the state machine logs.
    assert "configured" not in json.dumps(detail) and "userData" not in json.dumps(detail)


def test_burstable_instance_keeps_its_credit_option_on_burstable_candidates_only(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LADDER", json.dumps([["t3.large"], ["t3.xlarge", "m5.xlarge"]]))
    old = _like_web(aws, web, "t3.large", CreditSpecification={"CpuCredits": "unlimited"})

    def unlimited(parsed: dict[str, Any], **_: Any) -> None:
        # moto reports every instance "standard"; EC2 reports the instance's own option (EC2 API Reference,
        # DescribeInstanceCreditSpecifications).
        for specification in parsed.get("InstanceCreditSpecifications", []):
            specification["CpuCredits"] = "unlimited"

    aws.session.events.register("after-call.ec2.DescribeInstanceCreditSpecifications", unlimited)
    requests = _run_instances_requests(aws)
    aws.fail("ec2.RunInstances", "InsufficientInstanceCapacity")
    detail = replace_run(handlers, old)
    assert detail["outcome"] == "resized" and detail["new_size"] == "m5.xlarge"
    assert [(r["InstanceType"], r.get("CreditSpecification")) for r in requests] == [
        ("t3.xlarge", {"CpuCredits": "unlimited"}),
        # RunInstances accepts CreditSpecification for T types only.
        ("m5.xlarge", None),
    ]


def test_stop_protected_instance_is_refused_before_imaging(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    """Stop protection also blocks termination (EC2 User Guide, "Enable stop protection"): the old instance
    could not be retired, and a copied protection would keep cleanup from removing a failed replacement."""
    old = _like_web(aws, web, DisableApiStop=True)
    detail = replace_run(handlers, old)
    assert detail["outcome"] == "refused" and "stop protection" in detail["reason"]
    assert aws.calls["ec2.CreateImage"] == 0


@pytest.mark.parametrize(("action", "outcome"), [("terminate", "refused"), ("stop", "resized")])
def test_termination_protection_refuses_only_a_terminating_replacement(
    aws: Aws,
    handlers: dict[str, ModuleType],
    web: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    outcome: str,
) -> None:
    monkeypatch.setenv("OLD_INSTANCE_ACTION", action)
    old = _like_web(aws, web)
    # moto ignores RunInstances' DisableApiTermination; ModifyInstanceAttribute sets it.
    aws.client("ec2").modify_instance_attribute(InstanceId=old, DisableApiTermination={"Value": True})
    detail = replace_run(handlers, old)
    assert detail["outcome"] == outcome
    assert aws.calls["ec2.CreateImage"] == (0 if outcome == "refused" else 1)


def test_group_deleted_during_the_search_is_skipped_not_a_failed_plan(
    aws: Aws, handlers: dict[str, ModuleType], web: dict[str, Any]
) -> None:
    """DescribeTargetHealth answers TargetGroupNotFound for a group deleted after DescribeTargetGroups listed it
    (ELB API Reference, DescribeTargetHealth errors); retried, it would fail the same way and lose the run."""
    elbv2 = aws.client("elbv2")
    gone = elbv2.create_target_group(Name="gone", Protocol="HTTP", Port=80, VpcId=_vpc(aws), TargetType="instance")[
        "TargetGroups"
    ][0]["TargetGroupArn"]

    def delete_after_listing(**_: Any) -> None:
        elbv2.delete_target_group(TargetGroupArn=gone)

    aws.session.events.register("after-call.elastic-load-balancing-v2.DescribeTargetGroups", delete_after_listing)
    state = planned(handlers, {"instance_id": web["old"], "direction": "up", "execution": EXECUTION})
    assert state["action"] == "resize" and state["scan"]["checked"] == 4
    assert sorted((r["target_group_arn"], r["port"]) for r in state["registrations"]) == sorted(web["groups"])
