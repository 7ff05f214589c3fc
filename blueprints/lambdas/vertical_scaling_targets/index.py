"""Lists the instances a vertical-scaling run applies to: every running or
stopped instance that carries the target tag, except those a replacement
retired (tagged ``<mark>:replaced-by``; they keep the target tag, and a
stopped one would otherwise be refused on every run).

Input is the state machine's execution input (``direction``, ``trigger``,
optional ``dry_run``) plus the execution id; a bad direction fails the run
with a clear message before anything is touched.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

logger = Logger()
DIRECTIONS = ("up", "down")
#: Bounded waits per call, so that a hung call fails inside the function's 60 seconds rather than the function
#: timing out (which a step's catch records without what the call did); throttling is retried by Step Functions.
_CONFIG = Config(connect_timeout=5, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 3})
_clients: dict[str, Any] = {}


class BadRequest(Exception):
    """The execution input cannot be acted on."""


def _client(name: str) -> Any:
    """The container's client for ``name``, created on first use; the SDK retries its calls."""
    if name not in _clients:
        _clients[name] = boto3.client(name, config=_CONFIG)
    return _clients[name]


def parse_request(event: dict[str, Any]) -> dict[str, Any]:
    request = event.get("input")
    if not isinstance(request, dict):
        raise BadRequest(f"execution input must be a JSON object with a direction; got {request!r}")
    direction = request.get("direction")
    if direction not in DIRECTIONS:
        raise BadRequest(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    dry_run = request.get("dry_run", os.environ.get("DRY_RUN", "false") == "true")
    if not isinstance(dry_run, bool):
        raise BadRequest(f"dry_run must be true or false; got {dry_run!r}")
    return {
        "direction": direction,
        "dry_run": dry_run,
        "trigger": str(request.get("trigger") or "manual")[:256],
        "execution": str(event.get("execution") or "unknown"),
    }


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse_request(event)
    key, value = os.environ["TARGET_TAG_KEY"], os.environ["TARGET_TAG_VALUE"]
    # DescribeInstances filters cannot say "tag absent": retired instances are left out here.
    retired_key = f"{os.environ['MARK_TAG_KEY']}:replaced-by"
    instances: list[str] = []
    retired: list[str] = []
    paginator = _client("ec2").get_paginator("describe_instances")
    for page in paginator.paginate(
        Filters=[
            {"Name": f"tag:{key}", "Values": [value]},
            {"Name": "instance-state-name", "Values": ["running", "stopped"]},
        ]
    ):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                replaced = any(t["Key"] == retired_key for t in instance.get("Tags", []))
                (retired if replaced else instances).append(instance["InstanceId"])
    logger.info(
        "targets found",
        extra={"count": len(instances), "retired": sorted(retired), "tag": f"{key}={value}", **request},
    )
    return {**request, "instances": sorted(instances)}
