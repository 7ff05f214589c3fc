"""Decides what one resize does, before anything is stopped.

Reads the instance fresh (after the lock is held), refuses what must not be
resized (Auto Scaling members, instance-store roots, instances that lost the
target tag, sizes not on the ladder), moves one rung up or down the ladder
(a no-op at either end), and keeps only candidate types that fit the
instance: same architecture and virtualization, ENA and NVMe where the new
type requires them, and offered in the instance's Availability Zone. In
replace mode it also refuses an instance whose tags, with the construct's own,
would exceed EC2's 50 tags per resource, and records every target group the
instance is registered in.
"""

from __future__ import annotations

import json
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
ASG_TAG = "aws:autoscaling:groupName"
#: EC2 allows at most this many tags on a resource; RunInstances refuses more.
TAG_LIMIT = 50


class BadRequest(Exception):
    """The event cannot be acted on."""


def _client(name: str) -> Any:
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def ladder() -> list[list[str]]:
    return [list(rung) for rung in json.loads(os.environ["LADDER"])]


def refuse(state: dict[str, Any], reason: str) -> dict[str, Any]:
    logger.warning("resize refused", extra={"instance_id": state["instance_id"], "reason": reason})
    return {**state, "action": "refused", "outcome": "refused", "reason": reason}


def replacement_tag_count(tags: dict[str, str]) -> tuple[int, int]:
    """How many tags the replacement would be launched with, and how many of them the construct adds.

    Counts exactly what the replace handler's ``launch_tags`` sends: the instance's own non-``aws:`` tags
    (without the construct's keys, which it sets anew, and without ``:replaced-by``), plus the mark and
    ``:replaces``.
    """
    mark = os.environ["MARK_TAG_KEY"]
    own = {mark, f"{mark}:replaces"}
    kept = [k for k in tags if not k.startswith("aws:") and k not in own and k != f"{mark}:replaced-by"]
    return len(kept) + len(own), len(own)


def incompatibility(instance: dict[str, Any], current: dict[str, Any], target: dict[str, Any] | None) -> str | None:
    """Why ``target`` cannot run this instance, or None when it can."""
    if target is None:
        return "type is unknown in this Region"
    arch = instance.get("Architecture")
    if arch not in target.get("ProcessorInfo", {}).get("SupportedArchitectures", []):
        return f"does not support the instance's architecture {arch}"
    virtualization = instance.get("VirtualizationType")
    if virtualization not in target.get("SupportedVirtualizationTypes", []):
        return f"does not support {virtualization} virtualization"
    if target.get("NetworkInfo", {}).get("EnaSupport") == "required" and not instance.get("EnaSupport"):
        return "requires ENA, which is not enabled on the instance"
    if (
        target.get("EbsInfo", {}).get("NvmeSupport") == "required"
        and current.get("EbsInfo", {}).get("NvmeSupport") != "required"
    ):
        return "exposes EBS volumes as NVMe, which the current type does not; the OS may lack the NVMe driver"
    return None


def target_registrations(instance_id: str, vpc_id: str) -> list[dict[str, Any]]:
    elbv2 = _client("elbv2")
    registrations: list[dict[str, Any]] = []
    known = json.loads(os.environ.get("TARGET_GROUP_ARNS") or "[]")
    pages = elbv2.get_paginator("describe_target_groups").paginate(**({"TargetGroupArns": known} if known else {}))
    for page in pages:
        for group in page["TargetGroups"]:
            if group.get("TargetType") != "instance" or group.get("VpcId") != vpc_id:
                continue
            health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
            for description in health["TargetHealthDescriptions"]:
                target = description["Target"]
                if target["Id"] == instance_id and description["TargetHealth"]["State"] not in ("unused", "draining"):
                    registrations.append(
                        {"target_group_arn": group["TargetGroupArn"], "port": target.get("Port", group.get("Port"))}
                    )
    return registrations


def plan(state: dict[str, Any]) -> dict[str, Any]:
    ec2 = _client("ec2")
    try:
        reservations = ec2.describe_instances(InstanceIds=[state["instance_id"]])["Reservations"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidInstanceID.NotFound":
            raise
        reservations = []
    if not reservations:
        return refuse(state, "the instance no longer exists")
    instance = reservations[0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
    key, value = os.environ["TARGET_TAG_KEY"], os.environ["TARGET_TAG_VALUE"]
    current_type, status = instance["InstanceType"], instance["State"]["Name"]
    state = {**state, "original_type": current_type, "current_type": current_type, "was_running": status == "running"}
    if tags.get(key) != value:
        return refuse(state, f"the instance no longer carries the tag {key}={value}")
    if ASG_TAG in tags:
        return refuse(
            state,
            f"the instance belongs to the Auto Scaling group {tags[ASG_TAG]}; resize the group's launch "
            "template instead, or the group will replace what this resize changes",
        )
    if instance.get("RootDeviceType") != "ebs":
        return refuse(state, "the instance has an instance-store root volume and cannot be stopped or imaged safely")
    mode = os.environ["MODE"]
    if status not in ("running", "stopped"):
        return refuse(state, f"the instance is {status}; only running or stopped instances are resized")
    if mode == "replace" and status != "running":
        return refuse(state, "replace mode replaces running instances only; this one is stopped")
    if mode == "replace":
        count, added = replacement_tag_count(tags)
        if count > TAG_LIMIT:
            return refuse(
                state,
                f"the replacement would carry {count} tags ({count - added} copied from the instance and {added} "
                f"the construct adds to mark it), more than the EC2 limit of {TAG_LIMIT} per resource; "
                f"remove at least {count - TAG_LIMIT} of the instance's tags",
            )
    rungs = ladder()
    rung = next((i for i, types in enumerate(rungs) if current_type in types), None)
    if rung is None:
        sizes = " < ".join("|".join(types) for types in rungs)
        return refuse(state, f"{current_type} is not on the size ladder {sizes}")
    step = 1 if state["direction"] == "up" else -1
    if not 0 <= rung + step < len(rungs):
        end = "largest" if step > 0 else "smallest"
        logger.info("already at the end of the ladder", extra={"instance_id": state["instance_id"], "end": end})
        return {**state, "action": "noop", "outcome": "noop", "reason": f"{current_type} is already the {end} size"}
    wanted = rungs[rung + step]
    try:
        described = ec2.describe_instance_types(InstanceTypes=sorted({current_type, *wanted}))["InstanceTypes"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "InvalidInstanceType":
            raise
        return refuse(state, f"the size ladder names a type this Region does not know: {error}")
    by_type = {t["InstanceType"]: t for t in described}
    az = instance["Placement"]["AvailabilityZone"]
    offered = {
        o["InstanceType"]
        for o in ec2.describe_instance_type_offerings(
            LocationType="availability-zone",
            Filters=[{"Name": "location", "Values": [az]}, {"Name": "instance-type", "Values": wanted}],
        )["InstanceTypeOfferings"]
    }
    candidates: list[str] = []
    rejected: dict[str, str] = {}
    for candidate in wanted:
        reason = incompatibility(instance, by_type.get(current_type, {}), by_type.get(candidate))
        if reason is None and candidate not in offered:
            reason = f"is not offered in {az}"
        if reason:
            rejected[candidate] = reason
        else:
            candidates.append(candidate)
    if not candidates:
        detail = "; ".join(f"{t} {r}" for t, r in rejected.items())
        return refuse(state, f"no compatible type to move {current_type} {state['direction']} to: {detail}")
    state = {
        **state,
        "action": "resize",
        "candidates": candidates,
        "candidate_index": 0,
        "rejected": rejected,
        "az": az,
    }
    if mode == "replace":
        state["launch"] = {
            "subnet_id": instance["SubnetId"],
            "security_group_ids": [g["GroupId"] for g in instance.get("SecurityGroups", [])],
            "instance_profile_arn": instance.get("IamInstanceProfile", {}).get("Arn"),
            "key_name": instance.get("KeyName"),
            "http_tokens": instance.get("MetadataOptions", {}).get("HttpTokens", "required"),
            "ebs_optimized": bool(instance.get("EbsOptimized")),
            "monitoring": instance.get("Monitoring", {}).get("State") == "enabled",
            "tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items()) if not k.startswith("aws:")],
        }
        state["registrations"] = target_registrations(state["instance_id"], instance["VpcId"])
    logger.info("resize planned", extra={k: state[k] for k in ("instance_id", "original_type", "candidates")})
    return state


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = event.get("state")
    if not isinstance(state, dict) or not state.get("instance_id") or state.get("direction") not in ("up", "down"):
        raise BadRequest(f"state must carry instance_id and a direction of up or down; got {state!r}")
    return plan(state)
