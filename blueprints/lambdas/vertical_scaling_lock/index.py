"""The per-instance lock and cooldown of vertical scaling, in one DynamoDB item.

``acquire`` takes the lock with a conditional write: it succeeds when nobody
holds an unexpired lock and the cooldown after the last resize has passed, or
when this same execution already holds it (a retried invocation). ``release``
gives the lock back, only if this execution still owns it, and starts the
cooldown when the instance was changed. After a replacement that kept the new
instance, the new instance gets the same cooldown in an item of its own (no
lock), so a trigger right after the swap does not resize it at once. An item
expires by TTL once neither lock nor cooldown matter.
"""

from __future__ import annotations

import os
import time
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
_TTL_MARGIN = 3600


class InstanceBusy(Exception):
    """Another execution holds the instance's lock."""


class InCooldown(Exception):
    """The instance was resized too recently."""


class BadRequest(Exception):
    """The event cannot be acted on."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def acquire(state: dict[str, Any], now: int) -> dict[str, Any]:
    lock_until = now + int(os.environ["LOCK_SECONDS"])
    try:
        _client("dynamodb").update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"instance_id": {"S": state["instance_id"]}},
            UpdateExpression="SET lock_owner = :owner, locked_until = :until, expires_at = :expires",
            ConditionExpression=(
                "attribute_not_exists(instance_id) OR lock_owner = :owner OR "
                "(locked_until < :now AND (attribute_not_exists(cooldown_until) OR cooldown_until < :now))"
            ),
            ExpressionAttributeValues={
                ":owner": {"S": state["execution"]},
                ":until": {"N": str(lock_until)},
                ":expires": {"N": str(lock_until + _TTL_MARGIN)},
                ":now": {"N": str(now)},
            },
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        item = error.response.get("Item", {})
        locked_until = int(item.get("locked_until", {}).get("N", "0"))
        if locked_until >= now:
            owner = item.get("lock_owner", {}).get("S", "another execution")
            raise InstanceBusy(
                f"{state['instance_id']} is being resized by {owner} (lock held until {locked_until})"
            ) from None
        cooldown_until = int(item.get("cooldown_until", {}).get("N", "0"))
        raise InCooldown(
            f"{state['instance_id']} was resized recently; cooldown lasts until {cooldown_until}"
        ) from None
    logger.info("lock acquired", extra={"instance_id": state["instance_id"], "until": lock_until})
    return {**state, "started_at": state.get("started_at") or now}


def _kept_new_instance(state: dict[str, Any]) -> str | None:
    """The replacement a replace-mode resize launched and left in service, if any.

    ``kept_new_instance`` is False only when cleanup removed it; a cleanup that failed part-way may have
    left it running, so it is treated as kept.
    """
    new_id = state.get("new_instance_id")
    if not new_id or state.get("kept_new_instance") is False:
        return None
    return str(new_id)


def _start_cooldown(instance_id: str, cooldown_until: int, now: int) -> None:
    """Start the cooldown of an instance this execution holds no lock on.

    ``locked_until`` is set when missing so that ``acquire`` can take the item once the cooldown is over.
    A live lock on the instance (a run that listed it while it was being swapped in) is left alone: its
    own release starts the cooldown.
    """
    try:
        _client("dynamodb").update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"instance_id": {"S": instance_id}},
            UpdateExpression=(
                "SET cooldown_until = :cooldown, locked_until = if_not_exists(locked_until, :zero), "
                "expires_at = :expires"
            ),
            ConditionExpression="attribute_not_exists(locked_until) OR locked_until < :now",
            ExpressionAttributeValues={
                ":cooldown": {"N": str(cooldown_until)},
                ":zero": {"N": "0"},
                ":now": {"N": str(now)},
                ":expires": {"N": str(max(cooldown_until, now) + _TTL_MARGIN)},
            },
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.warning(
            "new instance is locked by another execution; no cooldown set", extra={"instance_id": instance_id}
        )
        return
    logger.info("cooldown started", extra={"instance_id": instance_id, "cooldown_until": cooldown_until})


def release(state: dict[str, Any], now: int) -> dict[str, Any]:
    changed = bool(state.get("changed"))
    cooldown_until = now + int(os.environ["COOLDOWN_SECONDS"]) if changed else 0
    names = {"#cooldown": "cooldown_until"}
    values: dict[str, Any] = {
        ":owner": {"S": state["execution"]},
        ":zero": {"N": "0"},
        ":expires": {"N": str(max(cooldown_until, now) + _TTL_MARGIN)},
    }
    cooldown_expr = "#cooldown = if_not_exists(#cooldown, :zero)"
    if changed:
        values[":cooldown"] = {"N": str(cooldown_until)}
        cooldown_expr = "#cooldown = :cooldown"
    new_id = _kept_new_instance(state) if changed else None
    if new_id:
        # Written whether or not this execution still holds the old instance's lock: the swap happened.
        _start_cooldown(new_id, cooldown_until, now)
    try:
        _client("dynamodb").update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"instance_id": {"S": state["instance_id"]}},
            UpdateExpression=f"SET locked_until = :zero, {cooldown_expr}, expires_at = :expires REMOVE lock_owner",
            ConditionExpression="lock_owner = :owner",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # The lock expired and someone else took it, or a retried release already ran.
        logger.warning("lock no longer held by this execution", extra={"instance_id": state["instance_id"]})
        return state
    logger.info("lock released", extra={"instance_id": state["instance_id"], "cooldown_until": cooldown_until})
    return state


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step, state = event.get("step"), event.get("state")
    if not isinstance(state, dict) or not state.get("instance_id") or not state.get("execution"):
        raise BadRequest(f"state must carry instance_id and execution; got {state!r}")
    now = int(time.time())
    if step == "acquire":
        return acquire(state, now)
    if step == "release":
        return release(state, now)
    raise BadRequest(f"step must be acquire or release; got {step!r}")
