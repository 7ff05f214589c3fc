"""One step of a restart-mode resize per invocation, driven by Step Functions.

Steps: ``stop``, ``await_stopped``, ``modify``, ``start``, ``await_running``
and ``revert``. A step that must wait raises ``NotReady``, which the state
machine retries with a delay. When the instance cannot start on the new type
(capacity, limits, an unsupported combination, or it falls back to stopped),
the next candidate of the same rung is tried; when none is left, ``revert``
puts the original type back and starts the instance again, so a running
instance is never left stopped.
"""

from __future__ import annotations

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

#: Start failures that another instance type (or the original one) may not hit.
FALLBACK_CODES = frozenset(
    {
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "InsufficientHostCapacity",
        "InstanceLimitExceeded",
        "VcpuLimitExceeded",
        "Unsupported",
        "InvalidParameterCombination",
        "Server.InsufficientInstanceCapacity",
        "Server.InternalError",
        "Client.VolumeLimitExceeded",
    }
)


class NotReady(Exception):
    """The instance has not reached the state this step waits for; retry later."""


class StartFailed(Exception):
    """The instance could not be started."""


class ModifyFailed(Exception):
    """EC2 refused the new instance type."""


class StatusChecksFailed(Exception):
    """The instance runs but its status checks report it impaired."""


class BadRequest(Exception):
    """The event cannot be acted on."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "Unknown"))


def _status(instance_id: str) -> dict[str, Any]:
    statuses = _client("ec2").describe_instance_status(InstanceIds=[instance_id], IncludeAllInstances=True)
    return statuses["InstanceStatuses"][0]


def _next_candidate(state: dict[str, Any], failure: str) -> dict[str, Any]:
    attempts = [*state.get("failures", []), {"type": state["candidates"][state["candidate_index"]], "error": failure}]
    index = state["candidate_index"] + 1
    if index < len(state["candidates"]):
        logger.warning(
            "falling back to the next candidate", extra={"failure": failure, "next": state["candidates"][index]}
        )
        return {**state, "failures": attempts, "candidate_index": index, "next": "modify"}
    logger.error("no candidate left; reverting", extra={"failure": failure})
    return {**state, "failures": attempts, "next": "revert"}


def stop(state: dict[str, Any]) -> dict[str, Any]:
    _client("ec2").stop_instances(InstanceIds=[state["instance_id"]])
    return {**state, "changed": True}


def await_stopped(state: dict[str, Any]) -> dict[str, Any]:
    name = _status(state["instance_id"])["InstanceState"]["Name"]
    if name == "stopped":
        return state
    if name in ("stopping", "pending", "running"):
        raise NotReady(f"{state['instance_id']} is {name}, waiting for stopped")
    raise StartFailed(f"{state['instance_id']} is {name} while waiting for it to stop")


def modify(state: dict[str, Any]) -> dict[str, Any]:
    new_type = state["candidates"][state["candidate_index"]]
    try:
        _client("ec2").modify_instance_attribute(InstanceId=state["instance_id"], InstanceType={"Value": new_type})
    except ClientError as error:
        raise ModifyFailed(f"{state['instance_id']} cannot change to {new_type}: {_code(error)}") from error
    result = {**state, "current_type": new_type, "changed": True, "next": "start"}
    if not state["was_running"]:
        result["outcome"] = "resized"
    return result


def start(state: dict[str, Any]) -> dict[str, Any]:
    try:
        _client("ec2").start_instances(InstanceIds=[state["instance_id"]])
    except ClientError as error:
        if _code(error) in FALLBACK_CODES:
            return _next_candidate(state, _code(error))
        raise StartFailed(f"{state['instance_id']} did not start as {state['current_type']}: {_code(error)}") from error
    return {**state, "next": "await_running"}


def await_running(state: dict[str, Any]) -> dict[str, Any]:
    status = _status(state["instance_id"])
    name = status["InstanceState"]["Name"]
    if name in ("pending", "stopping"):
        raise NotReady(f"{state['instance_id']} is {name}")
    if name == "stopped":
        # A start can be accepted and still fail, e.g. Server.InsufficientInstanceCapacity.
        if state.get("reverting"):
            raise StartFailed(f"{state['instance_id']} stopped again after starting as {state['current_type']}")
        return _next_candidate(state, "stopped after start")
    if name != "running":
        raise StartFailed(f"{state['instance_id']} is {name} after starting")
    checks = (status["SystemStatus"]["Status"], status["InstanceStatus"]["Status"])
    if "impaired" in checks:
        raise StatusChecksFailed(f"{state['instance_id']} is impaired as {state['current_type']}")
    if checks != ("ok", "ok"):
        raise NotReady(f"{state['instance_id']} status checks are {checks}")
    return {**state, "next": "done", "outcome": "reverted" if state.get("reverting") else "resized"}


def revert(state: dict[str, Any]) -> dict[str, Any]:
    """Put the original type back and restart the instance if it was running; re-entrant."""
    ec2 = _client("ec2")
    instance = ec2.describe_instances(InstanceIds=[state["instance_id"]])["Reservations"][0]["Instances"][0]
    name, current = instance["State"]["Name"], instance["InstanceType"]
    reverted = {**state, "reverting": True, "changed": True, "current_type": current}
    if name in ("pending", "stopping"):
        raise NotReady(f"{state['instance_id']} is {name}; reverting once it settles")
    if name == "running":
        if current == state["original_type"]:
            return reverted
        ec2.stop_instances(InstanceIds=[state["instance_id"]])
        raise NotReady(f"{state['instance_id']} runs as {current}; stopping it to put {state['original_type']} back")
    if name != "stopped":
        raise StartFailed(f"{state['instance_id']} is {name}; it cannot be reverted")
    if current != state["original_type"]:
        ec2.modify_instance_attribute(InstanceId=state["instance_id"], InstanceType={"Value": state["original_type"]})
        reverted["current_type"] = state["original_type"]
    if state["was_running"]:
        try:
            ec2.start_instances(InstanceIds=[state["instance_id"]])
        except ClientError as error:
            raise StartFailed(
                f"{state['instance_id']} did not start again as {state['original_type']}: {_code(error)}"
            ) from error
    else:
        reverted["outcome"] = "reverted"
    logger.warning("reverted to the original type", extra={"instance_id": state["instance_id"]})
    return reverted


STEPS = {
    "stop": stop,
    "await_stopped": await_stopped,
    "modify": modify,
    "start": start,
    "await_running": await_running,
    "revert": revert,
}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step, state = event.get("step"), event.get("state")
    if step not in STEPS:
        raise BadRequest(f"step must be one of {', '.join(STEPS)}; got {step!r}")
    if not isinstance(state, dict) or state.get("action") != "resize" or not state.get("candidates"):
        raise BadRequest(f"state must be a planned resize with candidates; got {state!r}")
    if os.environ.get("MODE", "restart") != "restart":
        raise BadRequest("this function runs restart-mode resizes only")
    return STEPS[step](state)
