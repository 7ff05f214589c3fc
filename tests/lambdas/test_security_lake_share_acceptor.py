r"""The Security Lake RAM share acceptor, against botocore's Stubber (moto has no RAM invitations).

Share names follow ``SubscriberResource.resourceShareName`` in botocore's securitylake model
(``^LakeFormation(?:-V[0-9]+)-([a-zA-Z0-9]+)-([\\\w\-_:/.@=+]*)$``, the subscriber's name last); the Stubber checks
every RAM request and response against botocore's RAM model. The last tests run both phases under aws-cdk-lib's
Provider framework itself, on Node.js (``tests/provider_framework_kit.py``).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import botocore.endpoint
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed
from tests.provider_framework_kit import (
    FrameworkRun,
    framework_asset,
    framework_environment,
    framework_function,
    run_framework,
)

LAKE = "111111111111"
OTHER = "333333333333"
VIZ = "222222222222"
SHARE_ARN = f"arn:aws:ram:us-east-1:{LAKE}:resource-share/7d0c1b2a-3e4f-4a5b-8c9d-0e1f2a3b4c5d"
INVITATION_ARN = f"arn:aws:ram:us-east-1:{LAKE}:resource-share-invitation/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
SUBSCRIBER = "cross-account-visualization"
SHARE_NAME = f"LakeFormation-V3-a1B2c3D4-{SUBSCRIBER}"


@pytest.fixture
def acceptor() -> ModuleType:
    return load_handler("security_lake_share_acceptor")


def _invitation(
    status: str = "PENDING", sender: str = LAKE, name: str = SHARE_NAME, share_arn: str = SHARE_ARN
) -> dict[str, Any]:
    return {
        "resourceShareInvitationArn": INVITATION_ARN.replace(LAKE, sender),
        "resourceShareName": name,
        "resourceShareArn": share_arn,
        "senderAccountId": sender,
        "receiverAccountId": VIZ,
        "invitationTimestamp": datetime(2026, 11, 27, tzinfo=UTC),
        "status": status,
    }


def _poll(deadline_in: int = 600, **properties: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("security_lake_share_poll"))
    event["Data"]["AcceptBefore"] = str(int(time.time()) + deadline_in)
    event["ResourceProperties"].update(properties)
    return event


def _token(invitation_arn: str, acceptor: ModuleType) -> str:
    return str(uuid.uuid5(acceptor._TOKEN_NAMESPACE, invitation_arn))


def _no_invitation_yet(stub: Any) -> None:
    """RAM as it answers before the invitation arrives: no invitation, no active share from another account."""
    stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": []}, {})
    stub.add_response(
        "get_resource_shares",
        {"resourceShares": []},
        {"resourceOwner": "OTHER-ACCOUNTS", "resourceShareStatus": "ACTIVE"},
    )


def _run(acceptor: ModuleType, phase: str, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("ACCEPTOR_PHASE", phase)
    return acceptor.handler(event, LambdaContext())


# on_event ------------------------------------------------------------------


def test_create_fixes_the_deadline_without_calling_aws(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    client = acceptor._client()
    with stubbed(client):  # no queued responses: any RAM call would fail
        result = _run(acceptor, "on_event", load_event("security_lake_share_create"), monkeypatch)
    assert result["PhysicalResourceId"] == f"ram-share-acceptance:{LAKE}:{SUBSCRIBER}"
    assert abs(int(result["Data"]["AcceptBefore"]) - (time.time() + 1800)) < 5


def test_delete_leaves_the_share_and_keeps_the_physical_id(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = load_event("security_lake_share_delete")
    with stubbed(acceptor._client()):
        assert _run(acceptor, "on_event", event, monkeypatch) == {"PhysicalResourceId": event["PhysicalResourceId"]}
        assert _run(acceptor, "is_complete", event, monkeypatch) == {"IsComplete": True}


def test_physical_id_names_the_pinned_share(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    event = load_event("security_lake_share_create")
    event["ResourceProperties"]["ResourceShareArn"] = SHARE_ARN
    result = _run(acceptor, "on_event", event, monkeypatch)
    assert result["PhysicalResourceId"] == f"ram-share-acceptance:{LAKE}:{SHARE_ARN}"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"SenderAccountId": "12345"}, "SenderAccountId must be the 12-digit"),
        ({"ResourceShareArn": "arn:aws:s3:::bucket"}, "ResourceShareArn must be an AWS RAM resource share ARN"),
        ({"ResourceShareArn": SHARE_ARN.replace(LAKE, OTHER)}, "refusing a share from another account"),
        ({"TimeoutSeconds": "soon"}, "TimeoutSeconds must be a whole number"),
        ({"TimeoutSeconds": "5"}, "TimeoutSeconds must be between 60 and 3000"),
        ({"SubscriberName": ""}, "SubscriberName must be the Security Lake subscriber's name"),
        ({"SubscriberName": "with space"}, "SubscriberName must be the Security Lake subscriber's name"),
        ({"Sources": "SH_FINDINGS"}, "Sources must be NAME:VERSION items"),
    ],
)
def test_bad_properties_fail_the_create(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch, properties: dict[str, str], message: str
) -> None:
    event = load_event("security_lake_share_create")
    event["ResourceProperties"].update(properties)
    with pytest.raises(acceptor.AcceptanceError, match=message):
        _run(acceptor, "on_event", event, monkeypatch)


def test_unknown_phase_is_refused(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="ACCEPTOR_PHASE must be"):
        _run(acceptor, "sometimes", load_event("security_lake_share_create"), monkeypatch)


# is_complete ---------------------------------------------------------------


def test_pending_invitation_is_accepted_with_an_idempotency_token(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = acceptor._client()
    with stubbed(client) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_response(
            "accept_resource_share_invitation",
            {"resourceShareInvitation": _invitation("ACCEPTED")},
            {"resourceShareInvitationArn": INVITATION_ARN, "clientToken": _token(INVITATION_ARN, acceptor)},
        )
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result == {"IsComplete": True, "Data": {"ResourceShareArns": SHARE_ARN}}


def test_already_accepted_invitation_is_success_without_accepting_again(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation("ACCEPTED")]}, {})
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result["IsComplete"] is True


def test_invitation_accepted_concurrently_is_success(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_client_error(
            "accept_resource_share_invitation",
            service_error_code="ResourceShareInvitationAlreadyAcceptedException",
            http_status_code=400,
        )
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result == {"IsComplete": True, "Data": {"ResourceShareArns": SHARE_ARN}}


def test_pinned_share_is_looked_up_by_arn(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation("ACCEPTED", name="anything")]},
            {"resourceShareArns": [SHARE_ARN]},
        )
        result = _run(acceptor, "is_complete", _poll(ResourceShareArn=SHARE_ARN), monkeypatch)
    assert result["IsComplete"] is True


def test_invitations_are_read_across_pages(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation(sender=OTHER, name="Other")], "nextToken": "page-2"},
            {},
        )
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation("ACCEPTED")]},
            {"nextToken": "page-2"},
        )
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result["IsComplete"] is True


def test_missing_invitation_waits_for_the_next_poll(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        _no_invitation_yet(stub)
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result == {"IsComplete": False}


def test_missing_invitation_past_the_deadline_fails_with_a_clear_message(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": []}, {})
        stub.add_response("get_resource_shares", {"resourceShares": []}, None)
        with pytest.raises(
            acceptor.AcceptanceError,
            match=f"no invitation for the resource share of the Security Lake subscriber {SUBSCRIBER}",
        ):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)


def test_share_active_without_invitation_is_success(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within one AWS Organization RAM shares without an invitation."""
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": []}, {})
        stub.add_response(
            "get_resource_shares",
            {
                "resourceShares": [
                    {"resourceShareArn": SHARE_ARN, "name": SHARE_NAME, "owningAccountId": LAKE},
                    {
                        "resourceShareArn": SHARE_ARN.replace(LAKE, OTHER),
                        "name": SHARE_NAME,
                        "owningAccountId": OTHER,
                    },
                ]
            },
            None,
        )
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result == {"IsComplete": True, "Data": {"ResourceShareArns": SHARE_ARN}}


def test_invitation_from_another_account_is_never_accepted(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation(sender=OTHER, share_arn=SHARE_ARN.replace(LAKE, OTHER))]},
            {},
        )
        stub.add_response("get_resource_shares", {"resourceShares": []}, None)
        with pytest.raises(acceptor.AcceptanceError, match=f"passed over: {SHARE_NAME} from {OTHER}"):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)


def test_timeout_message_names_at_most_ten_passed_over_invitations(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    others = [_invitation(sender=OTHER, name=f"Other-{i}") for i in range(12)]
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": others}, {})
        stub.add_response("get_resource_shares", {"resourceShares": []}, None)
        with pytest.raises(
            acceptor.AcceptanceError, match="Other-9 from 333333333333 \\(PENDING\\) and 2 more \\(log group "
        ):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)


def test_pinned_share_from_the_wrong_sender_is_refused(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation(sender=OTHER)]},
            {"resourceShareArns": [SHARE_ARN]},
        )
        with pytest.raises(acceptor.AcceptanceError, match=f"sent by account {OTHER}.*refusing to accept"):
            _run(acceptor, "is_complete", _poll(ResourceShareArn=SHARE_ARN), monkeypatch)


def test_expired_pinned_invitation_fails_at_once(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations",
            {"resourceShareInvitations": [_invitation("EXPIRED")]},
            {"resourceShareArns": [SHARE_ARN]},
        )
        with pytest.raises(acceptor.AcceptanceError, match="is EXPIRED; delete and re-create"):
            _run(acceptor, "is_complete", _poll(ResourceShareArn=SHARE_ARN), monkeypatch)


def test_invitation_that_expires_while_accepting_fails(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_client_error(
            "accept_resource_share_invitation",
            service_error_code="ResourceShareInvitationExpiredException",
            http_status_code=400,
        )
        with pytest.raises(acceptor.AcceptanceError, match="can no longer be accepted"):
            _run(acceptor, "is_complete", _poll(), monkeypatch)


def test_old_rejected_invitation_does_not_stop_the_wait(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation("REJECTED")]}, {})
        stub.add_response("get_resource_shares", {"resourceShares": []}, None)
        assert _run(acceptor, "is_complete", _poll(), monkeypatch) == {"IsComplete": False}


def test_invitation_withdrawn_while_accepting_is_listed_again_next_poll(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_client_error(
            "accept_resource_share_invitation",
            service_error_code="ResourceShareInvitationArnNotFoundException",
            http_status_code=400,
        )
        assert _run(acceptor, "is_complete", _poll(), monkeypatch) == {"IsComplete": False}


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException", "ServerInternalException"])
def test_throttling_waits_for_the_next_poll(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_client_error("get_resource_share_invitations", service_error_code=code, http_status_code=400)
        assert _run(acceptor, "is_complete", _poll(), monkeypatch) == {"IsComplete": False}


def test_throttling_until_the_deadline_fails(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_client_error(
            "accept_resource_share_invitation", service_error_code="ThrottlingException", http_status_code=400
        )
        with pytest.raises(acceptor.AcceptanceError, match="kept failing with ThrottlingException"):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)


def _unreachable(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every RAM call fail as if the endpoint could not be reached; return the operations tried."""
    client = acceptor._client()
    tried: list[str] = []

    def refuse(event_name: str, **kwargs: Any) -> None:
        tried.append(event_name.rsplit(".", 1)[-1])
        raise EndpointConnectionError(endpoint_url=kwargs["request"].url)

    client.meta.events.register("before-send.ram", refuse, unique_id="test-unreachable")
    # botocore's backoff between attempts, skipped: the module botocore.endpoint sees is replaced, not time.sleep,
    # which other threads of the test process also call.
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=lambda seconds: None))
    return tried


def test_connection_error_waits_for_the_next_poll(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    tried = _unreachable(acceptor, monkeypatch)
    try:
        assert _run(acceptor, "is_complete", _poll(), monkeypatch) == {"IsComplete": False}
    finally:
        acceptor._client().meta.events.unregister("before-send.ram", unique_id="test-unreachable")
    assert tried == ["GetResourceShareInvitations"] * 3  # botocore retried it, then the poll gave up


def test_connection_error_until_the_deadline_fails(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    _unreachable(acceptor, monkeypatch)
    try:
        with pytest.raises(
            acceptor.AcceptanceError, match="could not be reached until the deadline.*EndpointConnection"
        ):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)
    finally:
        acceptor._client().meta.events.unregister("before-send.ram", unique_id="test-unreachable")


def test_no_call_starts_that_could_outlast_the_invocation(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCEPTOR_PHASE", "is_complete")
    context = LambdaContext()
    context.remaining_ms = (acceptor._CALL_WORST_CASE_S + acceptor._MARGIN_S - 1) * 1000
    with stubbed(acceptor._client()):  # no response queued: any AWS call would fail the test
        assert acceptor.handler(_poll(), context) == {"IsComplete": False}
    with stubbed(acceptor._client()), pytest.raises(acceptor.AcceptanceError, match="OutOfTime"):
        acceptor.handler(_poll(deadline_in=-1), context)


def test_client_worst_case_fits_the_function_timeout(acceptor: ModuleType) -> None:
    config = acceptor._client().meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    attempts = config.retries["total_max_attempts"]
    backoff = sum(2**i for i in range(attempts - 1))  # standard mode: under 1 s, then under 2 s, ...
    worst = attempts * (config.connect_timeout + config.read_timeout) + backoff
    assert worst == acceptor._CALL_WORST_CASE_S
    assert worst + acceptor._MARGIN_S < acceptor._FUNCTION_TIMEOUT_S


def test_permission_errors_fail_at_once(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_client_error(
            "accept_resource_share_invitation",
            service_error_code="OperationNotPermittedException",
            http_status_code=400,
        )
        with pytest.raises(ClientError, match="OperationNotPermittedException"):
            _run(acceptor, "is_complete", _poll(), monkeypatch)


def test_missing_deadline_is_refused(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    event = _poll()
    del event["Data"]
    with stubbed(acceptor._client()), pytest.raises(acceptor.AcceptanceError, match="deadline is missing"):
        _run(acceptor, "is_complete", event, monkeypatch)


def test_client_is_created_once_per_container(acceptor: ModuleType) -> None:
    assert acceptor._client() is acceptor._client()
    assert acceptor._client().meta.config.retries["mode"] == "standard"


# Only this subscriber's share ------------------------------------------------------


FOREIGN_SHARE_ARN = SHARE_ARN.replace("7d0c1b2a", "99999999")
FOREIGN_INVITATION_ARN = INVITATION_ARN.replace("1a2b3c4d", "99999999")


def _foreign(name: str, status: str = "PENDING") -> dict[str, Any]:
    """An invitation from the lake account itself, for a share that is not this subscriber's."""
    invitation = _invitation(status, name=name, share_arn=FOREIGN_SHARE_ARN)
    invitation["resourceShareInvitationArn"] = FOREIGN_INVITATION_ARN
    return invitation


FOREIGN_NAMES = [
    "LakeFormation-V3-e5F6g7H8-other-subscriber",  # another Security Lake subscriber for this account
    f"LakeFormation-V3-e5F6g7H8-evil-{SUBSCRIBER}",  # a subscriber whose name ends with ours
    f"LakeFormation-V3-e5F6g7H8-{SUBSCRIBER}-2",  # one whose name starts with ours
    "LakeFormation-V3-e5F6g7H8",  # a plain Lake Formation cross-account grant
    f"MyShare-{SUBSCRIBER}",  # not a Lake Formation share
]


@pytest.mark.parametrize("foreign_name", FOREIGN_NAMES)
def test_only_this_subscribers_share_is_accepted(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch, foreign_name: str
) -> None:
    """Both invitations come from the lake account; the Stubber fails on any accept but the one queued."""
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations", {"resourceShareInvitations": [_foreign(foreign_name), _invitation()]}, {}
        )
        stub.add_response(
            "accept_resource_share_invitation",
            {"resourceShareInvitation": _invitation("ACCEPTED")},
            {"resourceShareInvitationArn": INVITATION_ARN, "clientToken": _token(INVITATION_ARN, acceptor)},
        )
        result = _run(acceptor, "is_complete", _poll(), monkeypatch)
    assert result == {"IsComplete": True, "Data": {"ResourceShareArns": SHARE_ARN}}


@pytest.mark.parametrize("foreign_name", FOREIGN_NAMES)
def test_a_foreign_share_alone_is_never_accepted(
    acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch, foreign_name: str
) -> None:
    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_foreign(foreign_name)]}, {})
        stub.add_response(
            "get_resource_shares",
            {
                "resourceShares": [
                    {"resourceShareArn": FOREIGN_SHARE_ARN, "name": foreign_name, "owningAccountId": LAKE}
                ]
            },
            {"resourceOwner": "OTHER-ACCOUNTS", "resourceShareStatus": "ACTIVE"},
        )
        assert _run(acceptor, "is_complete", _poll(), monkeypatch) == {"IsComplete": False}


def test_an_accepted_foreign_share_is_not_taken_for_ours(acceptor: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """An earlier share of another subscriber, accepted long ago, must not end the wait for ours."""
    with stubbed(acceptor._client()) as stub:
        stub.add_response(
            "get_resource_share_invitations", {"resourceShareInvitations": [_foreign(FOREIGN_NAMES[0], "ACCEPTED")]}, {}
        )
        stub.add_response("get_resource_shares", {"resourceShares": []}, None)
        with pytest.raises(
            acceptor.AcceptanceError, match=f"passed over: {FOREIGN_NAMES[0]} from {LAKE} \\(ACCEPTED\\)"
        ):
            _run(acceptor, "is_complete", _poll(deadline_in=-1), monkeypatch)


def test_subscriber_names_match_only_themselves(acceptor: ModuleType) -> None:
    """Characters a subscriber name may hold that mean something in a regular expression are matched literally."""
    settings = acceptor.Settings({"SenderAccountId": LAKE, "SubscriberName": "a.b+c"})
    assert settings.matches("", "LakeFormation-V3-x1-a.b+c")
    assert not settings.matches("", "LakeFormation-V3-x1-aXbbc")
    assert not settings.matches("", "LakeFormation-V3-x1-abbbc")


# Both phases under aws-cdk-lib's Provider framework, run on Node.js from the synthesized assembly -----------

_ARNS = {
    "on_event": f"arn:aws:lambda:us-east-1:{VIZ}:function:SecurityLakeVisualization-OnEvent",
    "is_complete": f"arn:aws:lambda:us-east-1:{VIZ}:function:SecurityLakeVisualization-IsComplete",
    "waiter": f"arn:aws:states:us-east-1:{VIZ}:stateMachine:SecurityLakeVisualization-Waiter",
}


@dataclass
class _Framework:
    asset: Path
    on_event: dict[str, str]  # the framework.onEvent function's environment
    is_complete: dict[str, str]  # the framework.isComplete function's
    phases: dict[str, str]  # user function ARN -> its ACCEPTOR_PHASE, as the template sets it


@pytest.fixture(scope="module")
def acceptance_framework(example_templates: dict[str, Any], example_assembly: Path) -> _Framework:
    template = example_templates["SecurityLakeVisualization"]
    user_ids = {
        resource["Properties"]["Environment"]["Variables"]["ACCEPTOR_PHASE"]: logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and "ACCEPTOR_PHASE" in resource["Properties"].get("Environment", {}).get("Variables", {})
    }
    on_event = framework_function(template, user_ids["on_event"])
    waiter_id = on_event["Properties"]["Environment"]["Variables"]["WAITER_STATE_MACHINE_ARN"]["Ref"]
    arns = {user_ids["on_event"]: _ARNS["on_event"], user_ids["is_complete"]: _ARNS["is_complete"]}
    return _Framework(
        asset=framework_asset(example_assembly, on_event),
        on_event=framework_environment(on_event, arns | {waiter_id: _ARNS["waiter"]}),
        is_complete=framework_environment(framework_function(template, user_ids["on_event"], "isComplete"), arns),
        phases={_ARNS[phase]: phase for phase in user_ids},
    )


def _framework_run(
    acceptor: ModuleType, framework: _Framework, handler: str, event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> FrameworkRun:
    def invoke(arn: str) -> Any:
        return lambda payload: _run(acceptor, framework.phases[arn], payload, monkeypatch)

    environment = framework.on_event if handler == "onEvent" else framework.is_complete
    return run_framework(
        framework.asset,
        handler,
        event,
        environment=environment,
        functions={arn: invoke(arn) for arn in framework.phases},
    )


def test_framework_accepts_through_the_waiter(
    acceptor: ModuleType, acceptance_framework: _Framework, monkeypatch: pytest.MonkeyPatch
) -> None:
    """onEvent fixes the deadline and starts the waiter; each poll without an invitation is the framework's Retry
    (no answer to CloudFormation); the poll that accepts answers SUCCESS with both phases' Data."""
    create = load_event("security_lake_share_create")
    started = _framework_run(acceptor, acceptance_framework, "onEvent", create, monkeypatch)

    assert started.outcome == {"outcome": "returned"}, started.output
    assert [arn for arn, _ in started.invocations] == [_ARNS["on_event"]]
    assert started.responses == []
    (execution,) = started.executions
    assert execution["stateMachineArn"] == _ARNS["waiter"]
    waiting = json.loads(execution["input"])
    assert int(waiting["Data"]["AcceptBefore"]) > time.time()

    with stubbed(acceptor._client()) as stub:
        _no_invitation_yet(stub)
        polled = _framework_run(acceptor, acceptance_framework, "isComplete", waiting, monkeypatch)
    assert polled.outcome["name"] == "Retry", polled.output
    assert polled.responses == []

    with stubbed(acceptor._client()) as stub:
        stub.add_response("get_resource_share_invitations", {"resourceShareInvitations": [_invitation()]}, {})
        stub.add_response(
            "accept_resource_share_invitation",
            {"resourceShareInvitation": _invitation("ACCEPTED")},
            {"resourceShareInvitationArn": INVITATION_ARN, "clientToken": _token(INVITATION_ARN, acceptor)},
        )
        accepted = _framework_run(acceptor, acceptance_framework, "isComplete", waiting, monkeypatch)
    assert [arn for arn, _ in accepted.invocations] == [_ARNS["is_complete"]]
    response = accepted.response
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == waiting["PhysicalResourceId"]
    assert response["Data"] == {"AcceptBefore": waiting["Data"]["AcceptBefore"], "ResourceShareArns": SHARE_ARN}


def test_framework_fails_the_acceptance_past_the_deadline_with_the_reason(
    acceptor: ModuleType, acceptance_framework: _Framework, monkeypatch: pytest.MonkeyPatch
) -> None:
    with stubbed(acceptor._client()) as stub:
        _no_invitation_yet(stub)
        run = _framework_run(acceptor, acceptance_framework, "isComplete", _poll(deadline_in=-1), monkeypatch)

    response = run.response
    assert response["Status"] == "FAILED"
    assert "names this account as principal with LAKEFORMATION access" in response["Reason"]
    assert f"(log group {LambdaContext().log_group_name}, stream " in response["Reason"]
