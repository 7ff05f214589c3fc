"""Decides what one resize does, before anything is stopped.

Reads the instance fresh (after the lock is held), refuses what must not be
resized (Auto Scaling members, instance-store roots, instances that lost the
target tag, sizes not on the ladder), moves one rung up or down the ladder
(a no-op at either end), and keeps only candidate types that fit the
instance: same architecture and virtualization, ENA and NVMe where the new
type requires them, and offered in the instance's Availability Zone. In
replace mode it also refuses an instance whose tags, with the construct's own,
would exceed EC2's 50 tags per resource.

Then, in replace mode, the ``registrations`` step finds every load balancer
registration of the instance: instance-type target groups of its VPC by its
id, IP-type target groups by its private addresses, Classic Load Balancers by
its id. A registration a replacement would not carry over (an IP target, a
Classic Load Balancer, a target group outside ``target_groups``) refuses the
resize before anything is imaged: retiring the old instance would leave it a
target there. Target groups are read a page at a time, their health several
at once, and an invocation stops starting calls while the slowest call still
fits its time; the state machine invokes the step again from where it left
off until ``scanning`` is false.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
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
#: DescribeTargetHealth calls in flight at once (one per target group; there is no call for many groups).
SCAN_WORKERS = 10
#: DescribeTargetGroups page size (the API's maximum).
SCAN_PAGE = 400
#: The registrations step starts no more health calls once less than this remains of the function's time: the
#: slowest call (3 s to connect and 8 s to read, twice) still ends inside it.
SCAN_RESERVE_MS = 25_000
_SCAN_CONFIG = Config(
    connect_timeout=3,
    read_timeout=8,
    retries={"mode": "standard", "total_max_attempts": 2},
    max_pool_connections=SCAN_WORKERS,
)
ASG_TAG = "aws:autoscaling:groupName"
#: EC2 allows at most this many tags on a resource; RunInstances refuses more.
TAG_LIMIT = 50


class BadRequest(Exception):
    """The event cannot be acted on."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def _scan_client(name: str) -> Any:
    """The client for ``name`` that the load-balancer scan uses: short timeouts, two attempts, a pool per worker."""
    key = f"{name}:scan"
    if key not in _clients:
        _clients[key] = boto3.client(name, config=_SCAN_CONFIG)
    return _clients[key]


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


def instance_addresses(instance: dict[str, Any]) -> list[str]:
    """Every private IPv4 and IPv6 address of the instance's network interfaces (IP targets name these)."""
    addresses: list[str] = []
    for interface in instance.get("NetworkInterfaces", []):
        addresses += [a["PrivateIpAddress"] for a in interface.get("PrivateIpAddresses", []) if "PrivateIpAddress" in a]
        addresses += [a["Ipv6Address"] for a in interface.get("Ipv6Addresses", []) if "Ipv6Address" in a]
    if instance.get("PrivateIpAddress") and instance["PrivateIpAddress"] not in addresses:
        addresses.append(instance["PrivateIpAddress"])
    return addresses


def _may_hold(group: dict[str, Any], vpc_id: str) -> bool:
    """Whether the instance could be a target of ``group``: by id only in its own VPC (ELB registers instance
    targets of the target group's VPC only), by address in any VPC (peered addresses register as ``all``)."""
    kind = group.get("TargetType", "instance")
    return (kind == "instance" and group.get("VpcId") == vpc_id) or kind == "ip"


def _group_registrations(
    group: dict[str, Any], descriptions: list[dict[str, Any]], state: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The instance's registrations in one group: those a replacement carries over, and those it cannot."""
    arn = group["TargetGroupArn"]
    allowed = json.loads(os.environ.get("TARGET_GROUP_ARNS") or "[]")
    migrated: list[dict[str, Any]] = []
    foreign: list[str] = []
    for description in descriptions:
        target, health = description["Target"], description.get("TargetHealth", {}).get("State")
        if health == "draining":
            continue  # already leaving the group
        if group.get("TargetType", "instance") == "ip":
            outside = group.get("VpcId") != state["vpc_id"] and target.get("AvailabilityZone") != "all"
            if target["Id"] in state["addresses"] and not outside:
                foreign.append(f"IP target {target['Id']} of target group {arn} (a replacement has other addresses)")
            continue
        if target["Id"] != state["instance_id"]:
            continue
        if allowed and arn not in allowed:
            foreign.append(f"target group {arn}, which is not in target_groups (the construct may not register there)")
            continue
        # An unused registration (no listener uses the group, or its AZ is not enabled) is carried over too, but
        # reports no health to wait for.
        port = target.get("Port", group.get("Port"))
        migrated.append({"target_group_arn": arn, "port": port, "health_checked": health != "unused"})
    return migrated, foreign


def _classic_registrations(instance_id: str) -> list[str]:
    found: list[str] = []
    for page in _scan_client("elb").get_paginator("describe_load_balancers").paginate():
        for balancer in page["LoadBalancerDescriptions"]:
            if any(i.get("InstanceId") == instance_id for i in balancer.get("Instances", [])):
                found.append(f"Classic Load Balancer {balancer['LoadBalancerName']} (it has no target groups)")
    return found


def registrations(state: dict[str, Any], context: Any) -> dict[str, Any]:
    """Continue the search for the instance's registrations from ``state['scan']``; re-entrant.

    Each invocation makes at least one round of health calls, so the search always advances, and starts no
    further round once less than ``SCAN_RESERVE_MS`` remains.
    """
    if not state.get("scanning"):
        return state
    elbv2 = _scan_client("elbv2")
    scan = dict(state["scan"])
    found, foreign = list(state["registrations"]), list(state["unmigratable"])
    checked = int(scan.get("checked", 0))
    rounds = 0

    def health(group: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TargetGroupNotFound":
                raise
            return []  # deleted since it was listed: nothing is registered there any more
        return list(response["TargetHealthDescriptions"])

    with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
        while scan.get("marker") is not False:
            request: dict[str, Any] = {"PageSize": SCAN_PAGE}
            if scan.get("marker"):
                request["Marker"] = scan["marker"]
            page = elbv2.describe_target_groups(**request)
            groups = page["TargetGroups"]
            while scan["offset"] < len(groups):
                if rounds and context.get_remaining_time_in_millis() < SCAN_RESERVE_MS:
                    logger.info("registrations: continuing in the next invocation", extra={"checked": checked})
                    paused = {**state, "scan": {**scan, "checked": checked}, "registrations": found}
                    return {**paused, "unmigratable": foreign}
                chunk = groups[scan["offset"] : scan["offset"] + SCAN_WORKERS]
                relevant = [g for g in chunk if _may_hold(g, state["vpc_id"])]
                for group, descriptions in zip(relevant, pool.map(health, relevant), strict=True):
                    migrated, refused = _group_registrations(group, descriptions, state)
                    found += migrated
                    foreign += refused
                checked += len(relevant)
                scan["offset"] += len(chunk)
                rounds += 1
            scan = {"marker": page.get("NextMarker") or False, "offset": 0}
    foreign += _classic_registrations(state["instance_id"])
    logger.info(
        "registrations found",
        extra={"instance_id": state["instance_id"], "groups_checked": checked, "registrations": found},
    )
    done = {**state, "scanning": False, "scan": {**scan, "checked": checked}, "registrations": found}
    done["unmigratable"] = foreign
    if foreign:
        return refuse(
            done,
            "the instance is registered where its replacement would not be, and retiring it would leave a stopped "
            f"target there: {'; '.join(foreign)}. Register it by instance id in target groups the construct may "
            "use, or resize it in restart mode",
        )
    return done


#: The instance metadata options RunInstances accepts (EC2 API Reference, InstanceMetadataOptionsRequest), as
#: DescribeInstances reports them (InstanceMetadataOptionsResponse, which adds ``State``).
METADATA_OPTIONS = ("HttpTokens", "HttpPutResponseHopLimit", "HttpEndpoint", "HttpProtocolIpv6", "InstanceMetadataTags")
#: The hostname options RunInstances accepts (PrivateDnsNameOptionsRequest); DescribeInstances reports them.
DNS_NAME_OPTIONS = ("HostnameType", "EnableResourceNameDnsARecord", "EnableResourceNameDnsAAAARecord")


def _attribute(instance_id: str, name: str) -> Any:
    """One DescribeInstanceAttribute value (``disableApiStop`` answers ``{"DisableApiStop": {"Value": ...}}``)."""
    response = _client("ec2").describe_instance_attribute(InstanceId=instance_id, Attribute=name)
    return response.get(name[0].upper() + name[1:], {}).get("Value")


def launch_settings(instance: dict[str, Any], tags: dict[str, str], burstable: bool) -> dict[str, Any]:
    """What the replacement is launched with, besides its image, type and tags' construct keys.

    User data is not read here: it may hold secrets, and the state is logged; the launch step reads it.
    """
    instance_id = instance["InstanceId"]
    metadata = instance.get("MetadataOptions", {})
    settings: dict[str, Any] = {
        "subnet_id": instance["SubnetId"],
        "security_group_ids": [g["GroupId"] for g in instance.get("SecurityGroups", [])],
        "instance_profile_arn": instance.get("IamInstanceProfile", {}).get("Arn"),
        "key_name": instance.get("KeyName"),
        "metadata_options": {k: metadata[k] for k in METADATA_OPTIONS if k in metadata} or {"HttpTokens": "required"},
        "private_dns_name_options": {
            k: v for k, v in instance.get("PrivateDnsNameOptions", {}).items() if k in DNS_NAME_OPTIONS
        },
        "shutdown_behavior": _attribute(instance_id, "instanceInitiatedShutdownBehavior"),
        "ebs_optimized": bool(instance.get("EbsOptimized")),
        "monitoring": instance.get("Monitoring", {}).get("State") == "enabled",
        "tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items()) if not k.startswith("aws:")],
    }
    if burstable:
        credits = _client("ec2").describe_instance_credit_specifications(InstanceIds=[instance_id])
        specifications = credits.get("InstanceCreditSpecifications", [])
        if specifications and specifications[0].get("CpuCredits"):
            settings["cpu_credits"] = specifications[0]["CpuCredits"]
    return settings


def protection(instance_id: str) -> str | None:
    """Why the old instance could not be retired once replaced, or None."""
    # Stop protection blocks TerminateInstances too (EC2 User Guide, "Enable stop protection").
    if _attribute(instance_id, "disableApiStop"):
        return (
            "the instance has stop protection (DisableApiStop), which keeps a replacement from stopping or "
            "terminating it once replaced; turn it off or resize it in restart mode"
        )
    if os.environ.get("OLD_INSTANCE_ACTION") == "terminate" and _attribute(instance_id, "disableApiTermination"):
        return (
            "the instance has termination protection and replaced_instance_action is TERMINATE: it could not be "
            "retired once replaced; turn the protection off, or use ReplacedInstanceAction.STOP"
        )
    return None


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
        protected = protection(state["instance_id"])
        if protected:
            return refuse(state, protected)
        burstable = bool(by_type.get(current_type, {}).get("BurstablePerformanceSupported"))
        state["launch"] = launch_settings(instance, tags, burstable)
        # CreditSpecification is valid for burstable (T) types only (EC2 API Reference, RunInstances).
        state["burstable_candidates"] = [c for c in candidates if by_type[c].get("BurstablePerformanceSupported")]
        state.update(
            scanning=True,
            scan={"marker": None, "offset": 0, "checked": 0},
            vpc_id=instance["VpcId"],
            addresses=instance_addresses(instance),
            registrations=[],
            unmigratable=[],
        )
    logger.info("resize planned", extra={k: state[k] for k in ("instance_id", "original_type", "candidates")})
    return state


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state, step = event.get("state"), event.get("step")
    if not isinstance(state, dict) or not state.get("instance_id") or state.get("direction") not in ("up", "down"):
        raise BadRequest(f"state must carry instance_id and a direction of up or down; got {state!r}")
    if step == "registrations":
        return registrations(state, context)
    if step is not None:
        raise BadRequest(f"step must be absent (plan) or 'registrations'; got {step!r}")
    # The state machine's Choice after Plan reads it, so every outcome carries it.
    return {"scanning": False, **plan(state)}
