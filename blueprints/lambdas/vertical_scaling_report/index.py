"""Records the outcome of one resize: an EventBridge event (old size, new size,
mode, outcome, duration), CloudWatch metrics (embedded metric format), and an
SNS notification for every outcome that needs a person: failed, reverted or
refused resizes, and a resize whose image could not be discarded (it stays
``resized``: the new instance serves; the image and snapshots are left to
delete by hand). It also reports a run that failed before reaching any instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config

logger = Logger()
metrics = Metrics()
#: Bounded waits per call, so that a hung call fails inside the function's 60 seconds rather than the function
#: timing out (which a step's catch records without what the call did); throttling is retried by Step Functions.
_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 3})
_clients: dict[str, Any] = {}
SOURCE = "blueprints.vertical-scaling"
DETAIL_TYPE = "EC2 Instance Resize"
NOTIFY = frozenset({"failed", "reverted", "refused"})
OUTCOMES = frozenset({"resized", "noop", "skipped", "refused", "dry-run", "reverted", "failed"})


class PublishFailed(Exception):
    """EventBridge did not accept the event; the state machine retries."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


ERROR_KEYS = ("error", "revert_error", "cleanup_error", "discard_error", "release_error")
#: Errors that leave the outcome as it is but need a person.
NOTIFY_ERRORS = ("discard_error",)


def _errors(state: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The errors Step Functions caught along the way (``{"Error": ..., "Cause": ...}``), by key."""
    found: dict[str, dict[str, str]] = {}
    for key in ERROR_KEYS:
        error = state.get(key)
        if not isinstance(error, dict):
            continue
        cause = str(error.get("Cause", ""))
        with contextlib.suppress(ValueError, AttributeError):  # a Lambda error's Cause is JSON; others are text
            cause = str(json.loads(cause).get("errorMessage", cause))
        found[key] = {"error": str(error.get("Error", "Unknown")), "cause": cause[:2000]}
    return found


def outcome_of(state: dict[str, Any], errors: dict[str, dict[str, str]]) -> str:
    outcome = state.get("outcome")
    first = errors.get("error", {}).get("error")
    if first in ("InstanceBusy", "InCooldown"):
        return "skipped"
    if "revert_error" in errors or "cleanup_error" in errors:
        return "failed"
    if "error" in errors and outcome != "reverted":
        return "failed"
    return outcome if outcome in OUTCOMES else "failed"


def summarize(state: dict[str, Any], now: float) -> dict[str, Any]:
    errors = _errors(state)
    outcome = outcome_of(state, errors)
    started = state.get("started_at")
    detail: dict[str, Any] = {
        "instance_id": state.get("instance_id"),
        "new_instance_id": state.get("new_instance_id"),
        "mode": os.environ["MODE"],
        "direction": state.get("direction"),
        "trigger": state.get("trigger"),
        "execution": state.get("execution"),
        "old_size": state.get("original_type"),
        "new_size": state.get("current_type") if outcome == "resized" else state.get("original_type"),
        "requested": state.get("candidates"),
        "outcome": outcome,
        "reason": state.get("reason"),
        "failures": state.get("failures", []),
        "dry_run": bool(state.get("dry_run")),
        "duration_seconds": round(now - float(started), 1) if started else None,
        "errors": errors,
    }
    if outcome == "dry-run":
        detail["new_size"] = (state.get("candidates") or [None])[0]
    return detail


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = event.get("state")
    if not isinstance(state, dict):
        state = {"error": {"Error": "BadRequest", "Cause": f"report received no state: {event!r}"[:2000]}}
    detail = summarize(state, time.time())
    result = _client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(detail),
                "EventBusName": os.environ["EVENT_BUS_NAME"],
                "Resources": [r for r in (state.get("instance_id"), state.get("new_instance_id")) if r],
            }
        ]
    )
    if result.get("FailedEntryCount"):
        raise PublishFailed(f"EventBridge refused the resize event: {result['Entries']}")
    metrics.add_dimension(name="Outcome", value=detail["outcome"])
    metrics.add_dimension(name="Mode", value=detail["mode"])
    metrics.add_metric(name="Resizes", unit=MetricUnit.Count, value=1)
    if detail["duration_seconds"] is not None:
        metrics.add_metric(name="ResizeDuration", unit=MetricUnit.Seconds, value=detail["duration_seconds"])
    leftover = [key for key in NOTIFY_ERRORS if key in detail["errors"]]
    if detail["outcome"] in NOTIFY or leftover:
        note = ", image not discarded" if leftover else ""
        subject = f"Vertical scaling {detail['outcome']}{note}: {detail['instance_id'] or 'run'}"[:100]
        _client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Subject=subject, Message=json.dumps(detail, indent=1))
    logger.info("resize reported", extra=detail)
    return detail
