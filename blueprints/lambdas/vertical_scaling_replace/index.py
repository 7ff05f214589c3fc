"""One step of a replace-mode resize per invocation, driven by Step Functions.

The new instance is launched from an image of the running one (its volumes'
data), in the same subnet with the same security groups, instance profile,
key pair, metadata and hostname options, shutdown behaviour, CPU credits (T
types), user data and tags, on the new type. It joins every target
group the old instance is in, and only once it is healthy in all of them is
the old one deregistered (the target groups drain its connections), tagged
``<mark>:replaced-by=<new id>`` (so later runs no longer take it for a target)
and then stopped or terminated. ``cleanup`` runs on any failure: before the old
instance is deregistered it removes the new instance, so the old one stays in
service untouched; after, it keeps the new one and tags the old one as
replaced. When a fault lost the new instance's id, instances this execution
launched are found by their ``<mark>:replaces`` tag and client token and removed.
The image and its snapshots are discarded either way: EC2 deletes the
snapshots with the image (``DeleteAssociatedSnapshots``), and any it did not
delete are deleted one by one from the ids recorded when the image became
available; a snapshot EC2 still calls in use just after the deregistration is
retried (``NotReady``), never given up on.
"""

from __future__ import annotations

import base64
import hashlib
import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import ClientError

logger = Logger()
#: Bounded waits per call, so that a hung call fails inside the function's 60 seconds rather than the function
#: timing out (which a step's catch records without what the call did); throttling is retried by Step Functions.
_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 3})
_clients: dict[str, Any] = {}

CAPACITY_CODES = frozenset(
    {
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "InstanceLimitExceeded",
        "VcpuLimitExceeded",
        "Unsupported",
        "InvalidParameterCombination",
    }
)
#: Phases after which the new instance carries the traffic and must be kept.
COMMITTED = ("deregistering_old", "retiring_old", "done")
#: DeregisterImage and DescribeImages on an image that is already deregistered (by an earlier attempt).
IMAGE_GONE = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})
#: DeleteSnapshotResults codes that leave nothing to do: deleted, or kept because another image uses it.
SNAPSHOT_SETTLED = frozenset({"success", "skipped"})


class NotReady(Exception):
    """The resource has not reached the state this step waits for; retry later."""


class LaunchFailed(Exception):
    """No candidate type could be launched."""


class ImageFailed(Exception):
    """The image of the instance could not be created."""


class Unhealthy(Exception):
    """The new instance failed its status checks."""


class BadRequest(Exception):
    """The event cannot be acted on."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _token(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:64]


def _mark() -> dict[str, str]:
    return {"Key": os.environ["MARK_TAG_KEY"], "Value": "replace"}


def _image_name(state: dict[str, Any]) -> str:
    """The name of this execution's image of the instance; its snapshots carry it as their ``Name`` tag."""
    return f"vertical-scaling-{state['instance_id']}-{_token(state['execution'])[:16]}"


def _snapshot_ids(image: dict[str, Any]) -> list[str]:
    return [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if "SnapshotId" in m.get("Ebs", {})]


def image(state: dict[str, Any]) -> dict[str, Any]:
    name = _image_name(state)
    tags = [_mark(), {"Key": "Name", "Value": name}]
    ec2 = _client("ec2")
    try:
        image_id = ec2.create_image(
            InstanceId=state["instance_id"],
            Name=name,
            Description=f"Data of {state['instance_id']} for its replacement by a resized instance",
            NoReboot=os.environ.get("IMAGE_REBOOT", "false") != "true",
            TagSpecifications=[{"ResourceType": "image", "Tags": tags}, {"ResourceType": "snapshot", "Tags": tags}],
        )["ImageId"]
    except ClientError as error:
        if _code(error) != "InvalidAMIName.Duplicate":
            raise ImageFailed(f"could not image {state['instance_id']}: {_code(error)}") from error
        # A retried invocation: the image of this execution already exists.
        image_id = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"][0][
            "ImageId"
        ]
    return {**state, "image_id": image_id, "phase": "imaging"}


def await_image(state: dict[str, Any]) -> dict[str, Any]:
    found = _client("ec2").describe_images(ImageIds=[state["image_id"]])["Images"]
    status = found[0]["State"] if found else "missing"
    if status == "available":
        # Recorded now, while the image lists them: after its deregistration DescribeImages may not.
        return {**state, "image_snapshot_ids": _snapshot_ids(found[0])}
    if status == "pending":
        raise NotReady(f"image {state['image_id']} is pending")
    raise ImageFailed(f"image {state['image_id']} is {status}")


def _replaced_by_key() -> str:
    return f"{os.environ['MARK_TAG_KEY']}:replaced-by"


def launch_tags(state: dict[str, Any]) -> list[dict[str, str]]:
    """The old instance's tags with the construct's own, each key once (EC2 refuses a key named twice).

    An instance that is itself a replacement already carries the mark and ``:replaces``; the values of this
    replacement win. ``:replaced-by`` is never copied: it would hide the new instance from later runs.
    """
    own = [_mark(), {"Key": f"{os.environ['MARK_TAG_KEY']}:replaces", "Value": state["instance_id"]}]
    skip = {t["Key"] for t in own} | {_replaced_by_key()}
    tags = {t["Key"]: t["Value"] for t in state["launch"]["tags"] if t["Key"] not in skip}
    return [{"Key": k, "Value": v} for k, v in tags.items()] + own


def user_data(instance_id: str) -> bytes | None:
    """The old instance's user data, as bytes: DescribeInstanceAttribute returns it base64-encoded, and botocore
    base64-encodes RunInstances' ``UserData`` itself. Read here, not in Plan: it may hold secrets, and the
    state machine logs every state."""
    value = (
        _client("ec2")
        .describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
        .get("UserData", {})
        .get("Value")
    )
    return base64.b64decode(value) if value else None


def launch_request(state: dict[str, Any]) -> dict[str, Any]:
    """The RunInstances request of the replacement, except its type and client token."""
    spec = state["launch"]
    tags = launch_tags(state)
    request: dict[str, Any] = {
        "ImageId": state["image_id"],
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": spec["subnet_id"],
        "SecurityGroupIds": spec["security_group_ids"],
        "MetadataOptions": spec["metadata_options"],
        "EbsOptimized": spec["ebs_optimized"],
        "Monitoring": {"Enabled": spec["monitoring"]},
        "TagSpecifications": [{"ResourceType": "instance", "Tags": tags}, {"ResourceType": "volume", "Tags": tags}],
    }
    if spec.get("instance_profile_arn"):
        request["IamInstanceProfile"] = {"Arn": spec["instance_profile_arn"]}
    if spec.get("key_name"):
        request["KeyName"] = spec["key_name"]
    if spec.get("private_dns_name_options"):
        request["PrivateDnsNameOptions"] = spec["private_dns_name_options"]
    if spec.get("shutdown_behavior"):
        request["InstanceInitiatedShutdownBehavior"] = spec["shutdown_behavior"]
    data = user_data(state["instance_id"])
    if data:
        request["UserData"] = data
    return request


def launch(state: dict[str, Any]) -> dict[str, Any]:
    request = launch_request(state)
    credits = state["launch"].get("cpu_credits")
    failures = list(state.get("failures", []))
    for index in range(state["candidate_index"], len(state["candidates"])):
        candidate = state["candidates"][index]
        extra: dict[str, Any] = {}
        if credits and candidate in state.get("burstable_candidates", []):
            extra["CreditSpecification"] = {"CpuCredits": credits}
        try:
            instance = _client("ec2").run_instances(
                **request,
                **extra,
                InstanceType=candidate,
                ClientToken=_token(state["execution"], state["instance_id"], candidate),
            )["Instances"][0]
        except ClientError as error:
            if _code(error) not in CAPACITY_CODES:
                raise LaunchFailed(f"could not launch {candidate}: {_code(error)}") from error
            logger.warning("launch failed; trying the next candidate", extra={"type": candidate, "error": _code(error)})
            failures.append({"type": candidate, "error": _code(error)})
            continue
        logger.info("replacement launched", extra={"new_instance_id": instance["InstanceId"], "type": candidate})
        return {
            **state,
            "new_instance_id": instance["InstanceId"],
            "current_type": candidate,
            "candidate_index": index,
            "failures": failures,
            "changed": True,
            "phase": "launched",
        }
    raise LaunchFailed(f"no candidate could be launched: {failures}")


def await_running(state: dict[str, Any]) -> dict[str, Any]:
    statuses = _client("ec2").describe_instance_status(InstanceIds=[state["new_instance_id"]], IncludeAllInstances=True)
    status = statuses["InstanceStatuses"][0]
    name = status["InstanceState"]["Name"]
    if name == "pending":
        raise NotReady(f"{state['new_instance_id']} is pending")
    if name != "running":
        raise LaunchFailed(f"{state['new_instance_id']} is {name} after launch")
    checks = (status["SystemStatus"]["Status"], status["InstanceStatus"]["Status"])
    if "impaired" in checks:
        raise Unhealthy(f"{state['new_instance_id']} is impaired")
    if checks != ("ok", "ok"):
        raise NotReady(f"{state['new_instance_id']} status checks are {checks}")
    return state


def register(state: dict[str, Any]) -> dict[str, Any]:
    for registration in state["registrations"]:
        _client("elbv2").register_targets(
            TargetGroupArn=registration["target_group_arn"],
            Targets=[{"Id": state["new_instance_id"], "Port": registration["port"]}],
        )
    return {**state, "phase": "registered"}


def _health(instance_id: str, registration: dict[str, Any]) -> dict[str, Any]:
    descriptions = _client("elbv2").describe_target_health(
        TargetGroupArn=registration["target_group_arn"], Targets=[{"Id": instance_id, "Port": registration["port"]}]
    )["TargetHealthDescriptions"]
    return descriptions[0]["TargetHealth"] if descriptions else {"State": "unused"}


def await_healthy(state: dict[str, Any]) -> dict[str, Any]:
    waiting = []
    for registration in state["registrations"]:
        if not registration.get("health_checked", True):
            continue  # an unused registration (no listener uses the group) reports no health
        health = _health(state["new_instance_id"], registration)
        if health["State"] != "healthy":
            waiting.append(f"{registration['target_group_arn']}: {health['State']} {health.get('Reason', '')}".strip())
    if waiting:
        raise NotReady(f"{state['new_instance_id']} is not healthy yet in " + "; ".join(waiting))
    return state


def deregister_old(state: dict[str, Any]) -> dict[str, Any]:
    for registration in state["registrations"]:
        _client("elbv2").deregister_targets(
            TargetGroupArn=registration["target_group_arn"],
            Targets=[{"Id": state["instance_id"], "Port": registration["port"]}],
        )
    return {**state, "phase": "deregistering_old"}


def await_drained(state: dict[str, Any]) -> dict[str, Any]:
    draining = [r for r in state["registrations"] if _health(state["instance_id"], r)["State"] == "draining"]
    if draining:
        raise NotReady(f"{state['instance_id']} is still draining in {len(draining)} target group(s)")
    return {**state, "phase": "retiring_old"}


def _mark_replaced(state: dict[str, Any]) -> None:
    """Tag the old instance with its replacement, so that later runs no longer take it for a target."""
    _client("ec2").create_tags(
        Resources=[state["instance_id"]], Tags=[{"Key": _replaced_by_key(), "Value": state["new_instance_id"]}]
    )


def retire_old(state: dict[str, Any]) -> dict[str, Any]:
    ec2 = _client("ec2")
    _mark_replaced(state)
    if os.environ["OLD_INSTANCE_ACTION"] == "terminate":
        ec2.terminate_instances(InstanceIds=[state["instance_id"]])
    else:
        ec2.stop_instances(InstanceIds=[state["instance_id"]])
    return {**state, "phase": "done", "outcome": "resized"}


def _image_snapshots(state: dict[str, Any]) -> list[str]:
    """The snapshots of an image that never became available (its ids were not recorded): from the image if
    DescribeImages still lists it, and by the ``Name`` tag ``image`` gave them, which outlives the image."""
    ec2 = _client("ec2")
    try:
        found = ec2.describe_images(ImageIds=[state["image_id"]])["Images"]
    except ClientError as error:
        if _code(error) not in IMAGE_GONE:
            raise
        found = []
    tagged = ec2.describe_snapshots(
        OwnerIds=["self"],
        Filters=[
            {"Name": "tag:Name", "Values": [_image_name(state)]},
            {"Name": f"tag:{os.environ['MARK_TAG_KEY']}", "Values": ["replace"]},
        ],
    )["Snapshots"]
    return list(dict.fromkeys([*(_snapshot_ids(found[0]) if found else []), *(s["SnapshotId"] for s in tagged)]))


def _discard_image(state: dict[str, Any]) -> None:
    """Deregister the image with its snapshots; re-entrant, so a retry finishes what an earlier attempt began.

    ``DeleteAssociatedSnapshots`` deletes the snapshots in the same call, so none is left behind when this
    step is interrupted. Snapshots it reports as not deleted (or all, if the response has no results) are
    deleted one by one; one that EC2 still calls in use just after the deregistration (it may, for a short
    while) makes the step ``NotReady``, and the retry, finding the image gone, deletes what is left.
    """
    image_id = state.get("image_id")
    if not image_id:
        return
    ec2 = _client("ec2")
    recorded = state.get("image_snapshot_ids")
    snapshots = list(recorded) if recorded is not None else _image_snapshots(state)
    results: dict[str, str] = {}
    try:
        response = ec2.deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
        results = {r["SnapshotId"]: r["ReturnCode"] for r in response.get("DeleteSnapshotResults", [])}
    except ClientError as error:
        if _code(error) not in IMAGE_GONE:
            raise
        logger.info("image already deregistered; deleting what is left of its snapshots", extra={"image": image_id})
    skipped = sorted(s for s, code in results.items() if code == "skipped")
    if skipped:
        logger.warning("snapshots kept: another image uses them", extra={"image": image_id, "snapshots": skipped})
    in_use = []
    for snapshot in dict.fromkeys([*snapshots, *results]):
        if results.get(snapshot) in SNAPSHOT_SETTLED:
            continue
        try:
            ec2.delete_snapshot(SnapshotId=snapshot)
        except ClientError as error:
            if _code(error) == "InvalidSnapshot.NotFound":
                continue  # deleted with the image, by an earlier attempt or just now
            if _code(error) != "InvalidSnapshot.InUse":
                raise
            in_use.append(snapshot)
    if in_use:
        raise NotReady(f"snapshots {', '.join(in_use)} of the deregistered image {image_id} are still in use")


def discard_image(state: dict[str, Any]) -> dict[str, Any]:
    _discard_image(state)
    return state


def _unrecorded_launches(state: dict[str, Any]) -> list[str]:
    """Instances this execution launched that the state does not record (a fault after RunInstances lost the
    id): pending or running, tagged ``<mark>:replaces=<old id>``, and carrying a client token ``launch`` gives
    one of this execution's candidates, so a replacement made by another execution is never touched."""
    tokens = {_token(state["execution"], state["instance_id"], c) for c in state.get("candidates", [])}
    if not tokens:
        return []
    pages = (
        _client("ec2")
        .get_paginator("describe_instances")
        .paginate(
            Filters=[
                {"Name": f"tag:{os.environ['MARK_TAG_KEY']}:replaces", "Values": [state["instance_id"]]},
                {"Name": "instance-state-name", "Values": ["pending", "running"]},
            ]
        )
    )
    return [
        instance["InstanceId"]
        for page in pages
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
        if instance.get("ClientToken") in tokens
    ]


def cleanup(state: dict[str, Any]) -> dict[str, Any]:
    """Undo a failed replacement; re-entrant, so a retry finishes what a fault interrupted."""
    new_id = state.get("new_instance_id")
    phase = state.get("phase", "planned")
    if not new_id and phase == "imaging":
        # The image step succeeded, so a launch may have run before the fault lost its result.
        lost = _unrecorded_launches(state)
        if lost:
            _client("ec2").terminate_instances(InstanceIds=lost)
            logger.warning("unrecorded replacement removed; the old instance stays in service", extra={"ids": lost})
    if new_id and phase not in COMMITTED:
        elbv2 = _client("elbv2")
        for registration in state.get("registrations", []):
            group, port = registration["target_group_arn"], registration["port"]
            if phase == "registered":
                # Deregistering the old instance may have begun when the fault hit: put it back first.
                elbv2.register_targets(TargetGroupArn=group, Targets=[{"Id": state["instance_id"], "Port": port}])
            try:
                # Registering may have stopped half-way, so the new instance may be in some groups only.
                elbv2.deregister_targets(TargetGroupArn=group, Targets=[{"Id": new_id, "Port": port}])
            except ClientError as error:
                if _code(error) != "InvalidTarget":
                    raise
        _client("ec2").terminate_instances(InstanceIds=[new_id])
        logger.warning("replacement removed; the old instance stays in service", extra={"new_instance_id": new_id})
    kept = bool(new_id) and phase in COMMITTED
    if kept:
        # The new instance serves and the old one is out of its groups: retired, even if it still runs. Tagged
        # before the image is discarded, so that a fault there cannot leave the old instance a target.
        _mark_replaced(state)
    _discard_image(state)
    return {**state, "outcome": "failed", "kept_new_instance": kept, "phase": f"cleaned_up_after_{phase}"}


STEPS = {
    "image": image,
    "await_image": await_image,
    "launch": launch,
    "await_running": await_running,
    "register": register,
    "await_healthy": await_healthy,
    "deregister_old": deregister_old,
    "await_drained": await_drained,
    "retire_old": retire_old,
    "discard_image": discard_image,
    "cleanup": cleanup,
}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step, state = event.get("step"), event.get("state")
    if step not in STEPS:
        raise BadRequest(f"step must be one of {', '.join(STEPS)}; got {step!r}")
    if not isinstance(state, dict) or state.get("action") != "resize" or "launch" not in state:
        raise BadRequest(f"state must be a planned replace-mode resize; got {state!r}")
    return STEPS[step](state)
