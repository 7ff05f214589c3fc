"""Accept the AWS RAM resource share that a Security Lake subscriber sends.

A Lake Formation subscriber in the Security Lake account makes AWS RAM share
the Glue tables with the subscriber's account. This handler runs in that
account behind the CDK Provider framework, in one of two phases (environment
variable ``ACCEPTOR_PHASE``):

``on_event``
    Checks the resource properties and fixes the deadline by which the
    invitation must have arrived. Makes no AWS call.
``is_complete``
    Polled by the Provider framework until it reports completion. Finds the
    invitations from the expected sender for the expected share (the pinned
    ``ResourceShareArn``, otherwise the share of the subscriber
    ``SubscriberName``, which Security Lake names
    ``LakeFormation-V<n>-<id>-<subscriber name>``: the ``resourceShareName``
    pattern of ``SubscriberResource`` in botocore's securitylake model),
    accepts the pending ones, and reports success once a matching share is
    accepted (or
    already active, as when both accounts share within one AWS Organization and
    RAM needs no invitation). Throttling, service faults, timeouts and
    connection errors wait for the next poll, as does a call that would not
    end before the invocation's own timeout; an invitation from another account for the named share, an expired or
    rejected invitation for the named share, or no invitation by the deadline
    fail the deployment with a message that says what to do.

Deleting the resource leaves the share accepted: a recipient cannot leave a
share; the Security Lake account ends it by deleting the subscriber.

Both phases read the Provider framework's custom resource request through
Powertools' ``CloudFormationCustomResourceEvent`` (``request_type``,
``physical_resource_id``, ``resource_properties``), and in ``is_complete`` the
``Data`` that ``on_event`` returned, a key the framework adds and the data
class has no property for.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger()

#: UpdateSubscriber's ``subscriberName`` (botocore's securitylake model): ``^[\\\w\-_:/.@=+]*$``, 64 at most.
_SUBSCRIBER_NAME_RE = re.compile(r"^[\\\w\-:/.@=+]{1,64}$", re.ASCII)
#: ``SubscriberResource.resourceShareName`` (botocore's securitylake model), the subscriber's name at the end.
_SHARE_NAME_TEMPLATE = r"^LakeFormation-V[0-9]+-[a-zA-Z0-9]+-{name}$"
_SOURCES_RE = re.compile(r"^[A-Z0-9_]+:[0-9]\.[0-9](,[A-Z0-9_]+:[0-9]\.[0-9])*$")
MIN_TIMEOUT_SECONDS = 60
MAX_TIMEOUT_SECONDS = 3000
#: Invitations from other senders or for other shares named in the timeout message, at most.
MAX_NOTES = 10
#: Faults that a later poll may not see again; the next poll lists the invitations afresh.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailableException",
        "ServerInternalException",
        # The invitation listed a moment ago is gone (withdrawn or replaced): list again at the next poll.
        "ResourceShareInvitationArnNotFoundException",
    }
)
#: The function's timeout (set by the construct). Past it Lambda kills the invocation and the Provider framework
#: fails the deployment, so every AWS call is bounded and none starts that could outlast the invocation.
_FUNCTION_TIMEOUT_S = 60
_MAX_ATTEMPTS = 3
_CONNECT_TIMEOUT_S = 3
_READ_TIMEOUT_S = 8
#: Upper bound of one AWS call with its retries, standard mode waiting under 1 s, then under 2 s, between attempts:
#: 3 x (3 + 8) s + 3 s = 36 s.
_CALL_WORST_CASE_S = _MAX_ATTEMPTS * (_CONNECT_TIMEOUT_S + _READ_TIMEOUT_S) + sum(
    2**i for i in range(_MAX_ATTEMPTS - 1)
)
#: Time left for the cold start's end, the logging and the return after the last call.
_MARGIN_S = 5
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_SHARE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:(?P<owner>\d{12}):resource-share/[A-Za-z0-9-]+$")
_TOKEN_NAMESPACE = uuid.UUID("9f5c2b1e-6a43-4c55-9b0e-52d1f1b6c0de")

_clients: dict[str, Any] = {}
#: ``time.monotonic()`` at which Lambda ends the current invocation; set by ``handler``.
_ends_at = float("inf")


class AcceptanceError(Exception):
    """The invitation cannot be accepted as asked; the deployment must fail."""


class OutOfTime(Exception):
    """Too little of the invocation is left to make another AWS call; the next poll carries on."""


def _client() -> Any:
    if "ram" not in _clients:
        _clients["ram"] = boto3.client(
            "ram",
            config=Config(
                connect_timeout=_CONNECT_TIMEOUT_S,
                read_timeout=_READ_TIMEOUT_S,
                retries={"mode": "standard", "total_max_attempts": _MAX_ATTEMPTS},
            ),
        )
    return _clients["ram"]


def _call(operation: str, **kwargs: Any) -> Any:
    """Make the RAM call ``operation`` if it can end, retries included, before the invocation does."""
    left = _ends_at - time.monotonic()
    if left < _CALL_WORST_CASE_S + _MARGIN_S:
        raise OutOfTime(f"only {left:.0f} s of the invocation left for {operation}")
    return getattr(_client(), operation)(**kwargs)


class Settings:
    """The custom resource's properties, checked."""

    def __init__(self, properties: dict[str, Any]) -> None:
        sender = str(properties.get("SenderAccountId", ""))
        if not _ACCOUNT_RE.match(sender):
            raise AcceptanceError(f"SenderAccountId must be the 12-digit Security Lake account id; got {sender!r}")
        share_arn = str(properties.get("ResourceShareArn") or "")
        if share_arn:
            match = _SHARE_ARN_RE.match(share_arn)
            if not match:
                raise AcceptanceError(
                    "ResourceShareArn must be an AWS RAM resource share ARN such as "
                    f"arn:aws:ram:us-east-1:111111111111:resource-share/<id>; got {share_arn!r}"
                )
            if match.group("owner") != sender:
                raise AcceptanceError(
                    f"ResourceShareArn {share_arn} is owned by account {match.group('owner')}, "
                    f"not by the Security Lake account {sender}; refusing a share from another account"
                )
        try:
            timeout = int(properties.get("TimeoutSeconds", 1800))
        except (TypeError, ValueError):
            raise AcceptanceError(
                f"TimeoutSeconds must be a whole number of seconds; got {properties.get('TimeoutSeconds')!r}"
            ) from None
        if not MIN_TIMEOUT_SECONDS <= timeout <= MAX_TIMEOUT_SECONDS:
            raise AcceptanceError(
                f"TimeoutSeconds must be between {MIN_TIMEOUT_SECONDS} and {MAX_TIMEOUT_SECONDS}; got {timeout}"
            )
        subscriber = str(properties.get("SubscriberName") or "")
        if not _SUBSCRIBER_NAME_RE.match(subscriber):
            raise AcceptanceError(
                "SubscriberName must be the Security Lake subscriber's name (1-64 ASCII letters, digits or "
                f"_ - : / . @ = + \\), whose share alone is accepted; got {subscriber!r}"
            )
        sources = str(properties.get("Sources") or "")
        if sources and not _SOURCES_RE.match(sources):
            raise AcceptanceError(f"Sources must be NAME:VERSION items, comma-separated; got {sources!r}")
        self.sender = sender
        self.share_arn = share_arn
        self.subscriber = subscriber
        self.sources = sources
        self.share_name = re.compile(_SHARE_NAME_TEMPLATE.format(name=re.escape(subscriber)))
        self.timeout = timeout

    @property
    def physical_id(self) -> str:
        return f"ram-share-acceptance:{self.sender}:{self.share_arn or self.subscriber}"

    def describe(self) -> str:
        share = self.share_arn or f"the resource share of the Security Lake subscriber {self.subscriber}"
        return f"{share} from account {self.sender}"

    def matches(self, share_arn: str, share_name: str) -> bool:
        if self.share_arn:
            return share_arn == self.share_arn
        return bool(self.share_name.match(share_name))


def _invitations(settings: Settings) -> list[dict[str, Any]]:
    kwargs: dict[str, Any] = {"resourceShareArns": [settings.share_arn]} if settings.share_arn else {}
    found: list[dict[str, Any]] = []
    while True:
        page = _call("get_resource_share_invitations", **kwargs)
        found.extend(page.get("resourceShareInvitations", []))
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def _active_shares(settings: Settings) -> list[str]:
    """Shares from the sender that this account already uses (accepted earlier, or shared in-organization)."""
    kwargs: dict[str, Any] = {"resourceOwner": "OTHER-ACCOUNTS", "resourceShareStatus": "ACTIVE"}
    if settings.share_arn:
        kwargs["resourceShareArns"] = [settings.share_arn]
    arns: list[str] = []
    while True:
        page = _call("get_resource_shares", **kwargs)
        for share in page.get("resourceShares", []):
            if share.get("owningAccountId") == settings.sender and settings.matches(
                share["resourceShareArn"], share.get("name", "")
            ):
                arns.append(share["resourceShareArn"])
        if not page.get("nextToken"):
            return arns
        kwargs["nextToken"] = page["nextToken"]


def _accept(invitation: dict[str, Any]) -> None:
    arn = invitation["resourceShareInvitationArn"]
    try:
        _call(
            "accept_resource_share_invitation",
            resourceShareInvitationArn=arn,
            clientToken=str(uuid.uuid5(_TOKEN_NAMESPACE, arn)),
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceShareInvitationAlreadyAcceptedException":
            logger.info("Invitation was already accepted", extra={"invitation": arn})
            return
        if code in ("ResourceShareInvitationExpiredException", "ResourceShareInvitationAlreadyRejectedException"):
            raise AcceptanceError(
                f"the invitation {arn} to share {invitation.get('resourceShareName')} can no longer be accepted "
                f"({code}); delete and re-create the Security Lake subscriber in account "
                f"{invitation.get('senderAccountId')} to send a new one"
            ) from error
        raise
    logger.info(
        "Accepted resource share invitation",
        extra={"invitation": arn, "share": invitation.get("resourceShareArn"), "sender": invitation["senderAccountId"]},
    )


def accept_matching(settings: Settings) -> tuple[list[str], list[str]]:
    """Accept the matching invitations; return (accepted share ARNs, notes on what was passed over)."""
    accepted: list[str] = []
    notes: list[str] = []
    for invitation in _invitations(settings):
        sender = invitation.get("senderAccountId", "")
        share_arn = invitation.get("resourceShareArn", "")
        name = invitation.get("resourceShareName", "")
        status = invitation.get("status", "")
        if settings.share_arn and share_arn == settings.share_arn and sender != settings.sender:
            raise AcceptanceError(
                f"the invitation for {share_arn} was sent by account {sender}, not by the Security Lake account "
                f"{settings.sender}; refusing to accept it"
            )
        if sender != settings.sender or not settings.matches(share_arn, name):
            notes.append(f"{name or share_arn} from {sender} ({status})")
            continue
        if status == "PENDING":
            _accept(invitation)
            accepted.append(share_arn)
        elif status == "ACCEPTED":
            accepted.append(share_arn)
        elif settings.share_arn:
            raise AcceptanceError(
                f"the invitation for {share_arn} is {status}; delete and re-create the Security Lake subscriber "
                f"in account {settings.sender} to send a new one"
            )
        else:
            notes.append(f"{name} from {sender} ({status})")
    if not accepted:
        accepted = _active_shares(settings)
    return sorted(set(accepted)), notes


def _properties(request: CloudFormationCustomResourceEvent) -> dict[str, Any]:
    """A copy of the request's ``ResourceProperties``; empty when the request has none."""
    return dict(request.resource_properties)


def on_event(request: CloudFormationCustomResourceEvent) -> dict[str, Any]:
    if request.request_type == "Delete":
        logger.info("Nothing to undo: the share stays until the Security Lake account deletes the subscriber")
        return {"PhysicalResourceId": request.physical_resource_id}
    settings = Settings(_properties(request))
    return {
        "PhysicalResourceId": settings.physical_id,
        "Data": {"AcceptBefore": str(int(time.time()) + settings.timeout)},
    }


def is_complete(request: CloudFormationCustomResourceEvent) -> dict[str, Any]:
    if request.request_type == "Delete":
        return {"IsComplete": True}
    settings = Settings(_properties(request))
    data = request.get("Data") or {}
    try:
        deadline = int(data["AcceptBefore"])
    except (KeyError, TypeError, ValueError):
        raise AcceptanceError(f"the acceptance deadline is missing from the event Data; got {data!r}") from None
    try:
        accepted, notes = accept_matching(settings)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in TRANSIENT_CODES:
            raise
        if time.time() > deadline:
            raise AcceptanceError(
                f"AWS RAM kept failing with {code} until the deadline while accepting {settings.describe()}"
            ) from error
        logger.warning("AWS RAM fault; trying again at the next poll", extra={"code": code})
        return {"IsComplete": False}
    except (BotoCoreError, OutOfTime) as error:
        if time.time() > deadline:
            raise AcceptanceError(
                f"AWS RAM could not be reached until the deadline while accepting {settings.describe()}: "
                f"{type(error).__name__}: {error}"
            ) from error
        logger.warning(
            "AWS RAM unreachable or out of time; trying again at the next poll",
            extra={"error": f"{type(error).__name__}: {error}"},
        )
        return {"IsComplete": False}
    if accepted:
        logger.info("Share accepted", extra={"shares": accepted, "sources": settings.sources})
        return {"IsComplete": True, "Data": {"ResourceShareArns": ",".join(accepted)}}
    if time.time() > deadline:
        shown = ", ".join(notes[:MAX_NOTES]) + (f" and {len(notes) - MAX_NOTES} more" if len(notes) > MAX_NOTES else "")
        passed_over = f"; passed over: {shown}" if notes else ""
        raise AcceptanceError(
            f"no invitation for {settings.describe()} arrived within {settings.timeout} seconds. Check that the "
            f"Security Lake subscriber in account {settings.sender} names this account as principal with "
            f"LAKEFORMATION access, in this Region{passed_over}"
        )
    logger.info("Invitation has not arrived yet", extra={"expected": settings.describe(), "passed_over": notes})
    return {"IsComplete": False}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    global _ends_at
    _ends_at = time.monotonic() + context.get_remaining_time_in_millis() / 1000
    phase = os.environ.get("ACCEPTOR_PHASE", "")
    request = CloudFormationCustomResourceEvent(event)
    logger.append_keys(request_type=request.request_type, phase=phase)
    if phase not in ("on_event", "is_complete"):
        raise RuntimeError(f"ACCEPTOR_PHASE must be 'on_event' or 'is_complete'; got {phase!r}")
    try:
        return on_event(request) if phase == "on_event" else is_complete(request)
    except AcceptanceError as error:
        # The message CloudFormation shows names where this invocation logged: the Provider framework's own hint
        # (``Logs: /aws/lambda/<function>``) assumes Lambda's default log group, which this function does not use.
        logger.error("acceptance failed", extra={"reason": str(error)})
        raise AcceptanceError(
            f"{error} (log group {context.log_group_name}, stream {context.log_stream_name})"
        ) from error
