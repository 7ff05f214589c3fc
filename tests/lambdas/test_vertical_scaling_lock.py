"""Vertical scaling: the per-instance lock and cooldown (moto DynamoDB), and the report
(moto EventBridge and SNS, Stubber for a refused event)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from tests.handler_kit import LambdaContext, emf_records, load_event, stubbed
from tests.lambdas.vertical_scaling_kit import EXECUTION, Aws


def state(execution: str = EXECUTION, **extra: Any) -> dict[str, Any]:
    return {"instance_id": "i-0123456789abcdef0", "execution": execution, "direction": "up", **extra}


def lock(h: dict[str, ModuleType], step: str, current: dict[str, Any]) -> dict[str, Any]:
    return h["lock"].handler({"step": step, "state": current}, LambdaContext())  # type: ignore[no-any-return]


def item(aws: Aws) -> dict[str, Any]:
    return aws.client("dynamodb").get_item(TableName="locks", Key={"instance_id": {"S": "i-0123456789abcdef0"}})["Item"]


def test_concurrent_triggers_for_one_instance_let_exactly_one_through(
    aws: Aws, handlers: dict[str, ModuleType]
) -> None:
    first = lock(handlers, "acquire", state("exec-a"))
    assert first["started_at"] > 0
    with pytest.raises(handlers["lock"].InstanceBusy, match="being resized by exec-a"):
        lock(handlers, "acquire", state("exec-b"))
    assert item(aws)["lock_owner"] == {"S": "exec-a"}


def test_a_retried_acquire_by_the_same_execution_succeeds(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state())
    again = lock(handlers, "acquire", state(started_at=123))
    assert again["started_at"] == 123


def test_release_after_a_change_starts_the_cooldown(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-a"))
    lock(handlers, "release", state("exec-a", changed=True))
    stored = item(aws)
    assert "lock_owner" not in stored and stored["locked_until"] == {"N": "0"}
    assert int(stored["cooldown_until"]["N"]) > int(stored["expires_at"]["N"]) - 3601
    with pytest.raises(handlers["lock"].InCooldown, match="cooldown lasts until"):
        lock(handlers, "acquire", state("exec-b"))


def test_release_without_a_change_sets_no_cooldown(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-a"))
    lock(handlers, "release", state("exec-a"))
    assert item(aws)["cooldown_until"] == {"N": "0"}
    lock(handlers, "acquire", state("exec-b"))


NEW = "i-0fedcba9876543210"


def item_of(aws: Aws, instance_id: str) -> dict[str, Any] | None:
    found = aws.client("dynamodb").get_item(TableName="locks", Key={"instance_id": {"S": instance_id}})
    return found.get("Item")  # type: ignore[no-any-return]


def test_release_after_a_replacement_starts_the_new_instances_cooldown_too(
    aws: Aws, handlers: dict[str, ModuleType]
) -> None:
    lock(handlers, "acquire", state("exec-a"))
    lock(handlers, "release", state("exec-a", changed=True, outcome="resized", new_instance_id=NEW))
    stored = item_of(aws, NEW)
    assert stored is not None and "lock_owner" not in stored
    assert int(stored["cooldown_until"]["N"]) == int(item(aws)["cooldown_until"]["N"])
    assert int(stored["expires_at"]["N"]) == int(stored["cooldown_until"]["N"]) + 3600
    with pytest.raises(handlers["lock"].InCooldown, match=f"{NEW} was resized recently"):
        lock(handlers, "acquire", state("exec-b", instance_id=NEW))


def test_a_kept_new_instance_of_a_failed_replacement_is_in_cooldown(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-a"))
    failed = state("exec-a", changed=True, outcome="failed", kept_new_instance=True, new_instance_id=NEW)
    lock(handlers, "release", failed)
    with pytest.raises(handlers["lock"].InCooldown):
        lock(handlers, "acquire", state("exec-b", instance_id=NEW))


def test_a_removed_new_instance_gets_no_cooldown_item(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-a"))
    failed = state("exec-a", changed=True, outcome="failed", kept_new_instance=False, new_instance_id=NEW)
    lock(handlers, "release", failed)
    assert item_of(aws, NEW) is None


def test_the_new_instance_can_be_resized_once_its_cooldown_is_over(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COOLDOWN_SECONDS", "-10")  # a cooldown that is over, its item not yet expired by TTL
    lock(handlers, "acquire", state("exec-a"))
    lock(handlers, "release", state("exec-a", changed=True, outcome="resized", new_instance_id=NEW))
    assert item_of(aws, NEW) is not None
    lock(handlers, "acquire", state("exec-b", instance_id=NEW))
    assert item_of(aws, NEW)["lock_owner"] == {"S": "exec-b"}  # type: ignore[index]


def test_the_new_instances_cooldown_leaves_a_live_lock_on_it_alone(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-a"))
    lock(handlers, "acquire", state("exec-b", instance_id=NEW))  # a run that listed the new instance already
    held = item_of(aws, NEW)
    lock(handlers, "release", state("exec-a", changed=True, outcome="resized", new_instance_id=NEW))
    assert item_of(aws, NEW) == held


def test_an_expired_lock_can_be_taken_over(
    aws: Aws, handlers: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCK_SECONDS", "-10")  # a lock that expired at once, as one whose execution died
    lock(handlers, "acquire", state("exec-a"))
    monkeypatch.setenv("LOCK_SECONDS", "7200")
    lock(handlers, "acquire", state("exec-b"))
    assert item(aws)["lock_owner"] == {"S": "exec-b"}


def test_release_by_an_execution_that_lost_the_lock_changes_nothing(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    lock(handlers, "acquire", state("exec-b"))
    lock(handlers, "release", state("exec-a", changed=True))
    assert item(aws)["lock_owner"] == {"S": "exec-b"}


def test_lock_faults_other_than_the_condition_are_raised(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    aws.fail("dynamodb.UpdateItem", "ProvisionedThroughputExceededException", "InternalServerError")
    with pytest.raises(Exception, match="ProvisionedThroughputExceededException"):
        lock(handlers, "acquire", state())
    with pytest.raises(Exception, match="InternalServerError"):
        lock(handlers, "release", state())


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"step": "acquire", "state": {"instance_id": "i-1"}}, "must carry instance_id and execution"),
        ({"step": "steal", "state": state()}, "step must be acquire or release"),
    ],
)
def test_lock_refuses_bad_events(handlers: dict[str, ModuleType], event: dict[str, Any], message: str) -> None:
    with pytest.raises(handlers["lock"].BadRequest, match=message):
        handlers["lock"].handler(event, LambdaContext())


# --- report -----------------------------------------------------------------------------------


def report(h: dict[str, ModuleType], current: Any) -> dict[str, Any]:
    return h["report"].handler({"state": current}, LambdaContext())  # type: ignore[no-any-return]


def test_report_of_a_resize_sends_an_event_and_metrics_but_no_notification(
    aws: Aws, handlers: dict[str, ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    detail = report(
        handlers,
        state(
            started_at=1,
            original_type="m5.large",
            current_type="m5.xlarge",
            candidates=["m5.xlarge"],
            outcome="resized",
        ),
    )
    assert (detail["outcome"], detail["old_size"], detail["new_size"]) == ("resized", "m5.large", "m5.xlarge")
    assert detail["duration_seconds"] > 0
    assert aws.calls["eventbridge.PutEvents"] == 1 and aws.calls["sns.Publish"] == 0
    emf = emf_records(capsys.readouterr().out)
    assert emf and emf[-1]["Resizes"] == [1.0] and emf[-1]["Outcome"] == "resized"


def test_report_of_a_failed_revert_notifies_with_both_errors(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    detail = report(handlers, load_event("vertical_scaling_caught_failure"))
    assert detail["outcome"] == "failed"
    assert detail["new_size"] == "m5.large"
    assert "IncorrectInstanceState" in detail["errors"]["error"]["cause"]
    assert "InsufficientInstanceCapacity" in detail["errors"]["revert_error"]["cause"]
    assert aws.calls["sns.Publish"] == 1


def test_report_of_a_busy_instance_is_a_skip_without_notification(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    busy = state(error={"Error": "InstanceBusy", "Cause": json.dumps({"errorMessage": "being resized by x"})})
    detail = report(handlers, busy)
    assert detail["outcome"] == "skipped" and aws.calls["sns.Publish"] == 0


def test_report_of_a_run_that_failed_before_any_instance(aws: Aws, handlers: dict[str, ModuleType]) -> None:
    run = {"direction": "sideways", "error": {"Error": "BadRequest", "Cause": "not json"}}
    detail = report(handlers, run)
    assert detail["outcome"] == "failed" and detail["instance_id"] is None
    assert detail["errors"]["error"] == {"error": "BadRequest", "cause": "not json"}
    assert aws.calls["sns.Publish"] == 1
    assert report(handlers, "garbage")["outcome"] == "failed"


def test_report_raises_when_eventbridge_refuses_the_event(handlers: dict[str, ModuleType]) -> None:
    module = handlers["report"]
    client = module._client("events")
    with stubbed(client) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}]},
        )
        with (
            pytest.raises(module.PublishFailed, match="InternalFailure"),
            pytest.warns(UserWarning, match="No application metrics"),  # nothing is counted for an unsent event
        ):
            report(handlers, state(outcome="noop"))
