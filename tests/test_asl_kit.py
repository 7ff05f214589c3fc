"""tests/asl_kit.py, rule by rule, on small hand-written ASL documents.

Each test names the section of the Amazon States Language specification (https://states-language.net/spec.html)
or the Step Functions Developer Guide page whose rule it checks. Where the two interpreters the kit replaced
disagreed (the MWAA DR test's and the vertical scaling test's), the test says so.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest

from tests import asl_kit
from tests.asl_kit import TaskCall, TaskError


def _task(following: str | None = None, **fields: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f", **fields}
    state.update({"Next": following} if following else {"End": True})
    return state


def _machine(start: str, **states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


class Script:
    """A task answering from a list of outcomes, one per attempt; a ``TaskError`` in the list is raised."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[TaskCall] = []

    def __call__(self, call: TaskCall) -> Any:
        self.calls.append(call)
        outcome = self.outcomes.pop(0) if self.outcomes else {}
        if isinstance(outcome, TaskError):
            raise outcome
        return outcome


# -- rendering ------------------------------------------------------------------------------------------------


def test_render_replaces_tokens_and_partition() -> None:
    definition = {
        "Fn::Join": [
            "",
            [
                '{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"',
                {"Fn::GetAtt": ["Fn1234ABCD", "Arn"]},
                '","Next":"B"},"B":{"Type":"Task","Resource":"arn:',
                {"Ref": "AWS::Partition"},
                ':states:::sns:publish","Parameters":{"TopicArn":"',
                {"Ref": "Topic5678"},
                '"},"End":true}}}',
            ],
        ]
    }
    resources = {
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": definition}},
        "Fn1234ABCD": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Environment": {"Variables": {"MODE": "restart", "TOPIC": {"Ref": "Topic5678"}}}},
        },
    }
    (asl,) = asl_kit.state_machines(resources).values()
    assert asl["States"]["A"]["Resource"] == asl_kit.token("Fn1234ABCD", "Arn") == "${Fn1234ABCD.Arn}"
    assert asl["States"]["B"]["Resource"] == "arn:aws:states:::sns:publish"
    assert asl["States"]["B"]["Parameters"] == {"TopicArn": "${Topic5678}"}
    environment = asl_kit.function_environment(resources["Fn1234ABCD"], lambda name, token: f"{name}={token['Ref']}")
    assert environment == {"MODE": "restart", "TOPIC": "TOPIC=Topic5678"}


# -- input and output processing (spec, "Input and Output Processing") ---------------------------------------


def test_input_path_parameters_and_context_object() -> None:
    task = Script({"ok": True})
    definition = _machine(
        "A",
        A=_task(
            InputPath="$.job",
            Parameters={
                "name.$": "$.name",
                "first.$": "$.items[0]",
                "quoted.$": "$['odd key']",
                "static": {"nested.$": "$.name"},
                "list": [{"each.$": "$.name"}, 1],
                "execution.$": "$$.Execution.Id",
                "state.$": "$$.State.Name",
                "message.$": "States.JsonToString($.items)",
                "greeting.$": "States.Format('hello {} of {}, \\{\\}', $.name, $.items)",
                "parsed.$": "States.StringToJson($.text)",
            },
        ),
    )
    execution_input = {"job": {"name": "n", "items": [1, 2], "odd key": "k", "text": '{"a": 1}'}}
    asl_kit.run(definition, task, execution_input, execution_id="arn:aws:states:::execution:m:e1")
    assert task.calls[0].input == {
        "name": "n",
        "first": 1,
        "quoted": "k",
        "static": {"nested": "n"},
        "list": [{"each": "n"}, 1],
        "execution": "arn:aws:states:::execution:m:e1",
        "state": "A",
        "message": "[1,2]",  # compact, as Step Functions serializes (the vertical scaling interpreter added spaces)
        "greeting": "hello n of [1,2], {}",
        "parsed": {"a": 1},
    }


def test_a_task_without_parameters_gets_its_effective_input() -> None:
    """Both interpreters the kit replaced sent ``{}`` to a Task without Parameters."""
    task = Script()
    asl_kit.run(_machine("A", A=_task(InputPath="$.x")), task, {"x": {"y": 1}})
    assert task.calls[0].input == {"y": 1}
    asl_kit.run(_machine("A", A=_task(InputPath=None)), task, {"x": 1})
    assert task.calls[1].input == {}


def test_result_selector_result_path_and_output_path() -> None:
    result = {"Payload": {"size": 3, "noise": "x"}, "StatusCode": 200}
    definition = _machine(
        "A",
        A=_task(
            "B",
            ResultSelector={"size.$": "$.Payload.size", "code.$": "$.StatusCode"},
            ResultPath="$.deep.result",
        ),
        B=_task("C", ResultPath=None),
        C=_task(OutputPath="$.deep"),
    )
    execution = asl_kit.run(definition, Script(result, {"discarded": True}, {"replaced": True}), {"keep": 1})
    # C's default ResultPath "$" replaces its input with its result, so OutputPath "$.deep" must fail...
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    definition["States"]["C"] = _task(ResultPath="$.last", OutputPath="$.deep")
    execution = asl_kit.run(definition, Script(result, {"discarded": True}, {"replaced": True}), {"keep": 1})
    assert execution.result() == {"result": {"size": 3, "code": 200}}


def test_result_path_creates_nested_objects() -> None:
    """The vertical scaling interpreter wrote ``$.a.b`` to the top-level key ``b``."""
    execution = asl_kit.run(_machine("A", A=_task(ResultPath="$.a.b")), Script(7), {"a": {"c": 1}})
    assert execution.result() == {"a": {"c": 1, "b": 7}}


def test_result_path_into_a_value_that_is_no_object_is_a_catchable_error() -> None:
    definition = _machine(
        "A",
        A=_task(ResultPath="$.a.b", Catch=[{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "B"}]),
        B={"Type": "Succeed"},
    )
    execution = asl_kit.run(definition, Script(1), {"a": "text"})
    assert execution.visited == ["A", "B"]
    assert execution.output["Error"] == "States.ResultPathMatchFailure"


# -- paths that do not resolve (guide, "Handling errors", States.Runtime) -------------------------------------


def test_a_missing_path_is_states_runtime_which_no_retry_or_catch_handles() -> None:
    """The vertical scaling interpreter raised KeyError here, which its States.ALL retrier and catcher took."""
    task = Script()
    definition = _machine(
        "A",
        A=_task(
            Parameters={"x.$": "$.missing"},
            Retry=[{"ErrorEquals": ["States.ALL"]}],
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "B"}],
        ),
        B={"Type": "Succeed"},
    )
    execution = asl_kit.run(definition, task, {})
    assert (execution.status, execution.error, execution.failed_in) == ("FAILED", "States.Runtime", "A")
    assert "$.missing" in str(execution.cause) and task.calls == [] and execution.visited == ["A"]
    definition["States"]["A"] = _task(
        "B", ResultSelector={"x.$": "$.missing"}, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "B"}]
    )
    assert asl_kit.run(definition, Script({}), {}).error == "States.Runtime"


# -- Retry (spec, "Retrying after error") ---------------------------------------------------------------------


def test_retry_first_matching_retrier_decides_and_counts_its_own_attempts() -> None:
    retry = [
        {"ErrorEquals": ["Busy"], "MaxAttempts": 2},
        {"ErrorEquals": ["Busy", "Other"], "MaxAttempts": 5},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1},
    ]
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
    definition = _machine("A", A=_task(Retry=retry, Catch=catch), Caught={"Type": "Succeed"})
    # Busy: two retries by the first retrier, never the second one's five, then the catcher
    busy = Script(*[TaskError("Busy")] * 4)
    assert asl_kit.run(definition, busy).visited == ["A", "Caught"] and len(busy.calls) == 3
    # the counts are per retrier: Busy, Other, Busy, Other, Busy, then success
    mixed = Script(TaskError("Busy"), TaskError("Other"), TaskError("Busy"), TaskError("Other"), {"done": 1})
    execution = asl_kit.run(definition, mixed)
    assert execution.result() == {"done": 1} and [c.retry_count for c in mixed.calls] == [0, 1, 2, 3, 4]
    # States.ALL takes what no earlier retrier names
    other = Script(TaskError("Unnamed"), {"done": 2})
    assert asl_kit.run(definition, other).result() == {"done": 2}


def test_retry_max_attempts_defaults_to_three_and_zero_never_retries() -> None:
    for retrier, calls in (({"ErrorEquals": ["E"]}, 4), ({"ErrorEquals": ["E"], "MaxAttempts": 0}, 1)):
        task = Script(*[TaskError("E")] * 10)
        execution = asl_kit.run(_machine("A", A=_task(Retry=[retrier])), task)
        assert (execution.status, execution.error, len(task.calls)) == ("FAILED", "E", calls)


def test_retry_counts_start_again_when_the_state_is_entered_again() -> None:
    definition = _machine(
        "A",
        A=_task("Again", Retry=[{"ErrorEquals": ["E"], "MaxAttempts": 1}], ResultPath="$.a"),
        Again={
            "Type": "Choice",
            "Choices": [{"Variable": "$.a.loop", "BooleanEquals": True, "Next": "A"}],
            "Default": "End",
        },
        End={"Type": "Succeed"},
    )
    task = Script(TaskError("E"), {"loop": True}, TaskError("E"), {"loop": False})
    assert asl_kit.run(definition, task).visited == ["A", "Again", "A", "Again", "End"]


def test_states_all_must_be_alone_and_last() -> None:
    definition = _machine("A", A=_task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]}]))
    with pytest.raises(AssertionError, match="States.ALL must be alone"):
        asl_kit.run(definition, Script())


# -- Catch (spec, "Fallback States"; guide, "Handling errors", error names) -----------------------------------


def _catching(*catchers: list[str]) -> dict[str, Any]:
    catch = [{"ErrorEquals": names, "ResultPath": "$.error", "Next": f"C{i}"} for i, names in enumerate(catchers)]
    return _machine("A", A=_task(Catch=catch), **{f"C{i}": {"Type": "Succeed"} for i in range(len(catchers))})


@pytest.mark.parametrize(
    ("error", "caught_by"),
    [
        ("Named", "C0"),
        ("States.Timeout", "C2"),  # States.TaskFailed matches every error but States.Timeout
        ("Lambda.Unknown", "C1"),  # States.TaskFailed matches names it does not list
        ("States.Permissions", "C1"),
    ],
)
def test_catch_first_matching_catcher(error: str, caught_by: str) -> None:
    """The vertical scaling interpreter matched States.TaskFailed only as a literal name, in Retry and Catch."""
    definition = _catching(["Named"], ["States.TaskFailed"], ["States.ALL"])
    execution = asl_kit.run(definition, Script(TaskError(error)), {"kept": 1})
    assert execution.visited == ["A", caught_by]
    assert execution.output == {"kept": 1, "error": {"Error": error}}


def test_task_failed_in_a_retrier_retries_every_error_but_timeout() -> None:
    retry = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}]
    for error, calls in (("SNS.KmsThrottlingException", 2), ("States.Timeout", 1)):
        task = Script(*[TaskError(error)] * 3)
        assert asl_kit.run(_machine("A", A=_task(Retry=retry)), task).error == error and len(task.calls) == calls


def test_error_output_carries_the_cause_when_there_is_one() -> None:
    """The MWAA DR interpreter's error output had only Error, the vertical scaling one always a Cause."""
    definition = _machine("A", A=_task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "B"}]), B={"Type": "Succeed"})
    assert asl_kit.run(definition, Script(TaskError("E", "why"))).output == {"Error": "E", "Cause": "why"}
    assert asl_kit.run(definition, Script(TaskError("E"))).output == {"Error": "E"}


def test_an_error_nothing_handles_fails_the_execution() -> None:
    execution = asl_kit.run(
        _machine("A", A=_task(Catch=[{"ErrorEquals": ["Other"], "Next": "A"}])), Script(TaskError("E", "c"))
    )
    assert (execution.status, execution.error, execution.cause, execution.failed_in) == ("FAILED", "E", "c", "A")
    with pytest.raises(asl_kit.ExecutionFailed, match="execution failed in A: E: c"):
        execution.result()


# -- Choice (spec, "Choice Rules") ----------------------------------------------------------------------------


def _choosing(rule: dict[str, Any], default: bool = True) -> dict[str, Any]:
    choice: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]}
    if default:
        choice["Default"] = "No"
    return _machine("Q", Q=choice, Yes={"Type": "Succeed"}, No={"Type": "Succeed"})


@pytest.mark.parametrize(
    ("rule", "data", "chosen"),
    [
        ({"Variable": "$.s", "StringEquals": "a"}, {"s": "a"}, "Yes"),
        ({"Variable": "$.s", "StringEquals": "a"}, {"s": "b"}, "No"),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": True}, "Yes"),
        ({"Variable": "$.b", "BooleanEquals": True}, {"b": 1}, "No"),  # another type is false
        ({"Variable": "$.n", "NumericEquals": 1}, {"n": True}, "No"),  # a boolean is no number
        ({"Variable": "$.n", "NumericGreaterThanPath": "$.m"}, {"n": 2, "m": 1}, "Yes"),
        ({"Variable": "$.n", "IsNull": True}, {"n": None}, "Yes"),
        ({"Not": {"Variable": "$.s", "StringEquals": "a"}}, {"s": "b"}, "Yes"),
        (
            {"Or": [{"Variable": "$.s", "StringEquals": "a"}, {"Variable": "$.s", "StringEquals": "b"}]},
            {"s": "b"},
            "Yes",
        ),
        # And stops at its first false rule: the comparison of the missing $.p.done is never made
        (
            {"And": [{"Variable": "$.p.done", "IsPresent": True}, {"Variable": "$.p.done", "BooleanEquals": False}]},
            {"p": {}},
            "No",
        ),
        ({"Variable": "$.p", "IsPresent": False}, {}, "Yes"),
    ],
)
def test_choice_rules(rule: dict[str, Any], data: dict[str, Any], chosen: str) -> None:
    """The MWAA DR interpreter had no Not, the vertical scaling one no And, Or or IsPresent."""
    assert asl_kit.run(_choosing(rule), Script(), data).visited == ["Q", chosen]


def test_choice_comparing_a_missing_path_is_states_runtime() -> None:
    execution = asl_kit.run(_choosing({"Variable": "$.absent", "StringEquals": "a"}), Script(), {})
    assert execution.error == "States.Runtime"


def test_choice_without_a_match_or_default_fails_with_no_choice_matched() -> None:
    """The vertical scaling interpreter ended the (sub-)machine successfully here."""
    execution = asl_kit.run(_choosing({"Variable": "$.s", "StringEquals": "a"}, default=False), Script(), {"s": "b"})
    assert (execution.status, execution.error) == ("FAILED", "States.NoChoiceMatched")


# -- Map (spec, "Map State"; guide, "Map state in inline mode") -----------------------------------------------


def _mapping(**fields: Any) -> dict[str, Any]:
    processor = _machine("Work", Work=_task(Parameters={"value.$": "$.value", "index.$": "$.index"}))
    state = {
        "Type": "Map",
        "ItemsPath": "$.items",
        "ItemSelector": {"value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "run.$": "$.run"},
        "ItemProcessor": processor,
        "ResultPath": "$.results",
        "End": True,
        **fields,
    }
    return _machine("Each", Each=state)


def test_map_item_selector_items_path_and_result_path() -> None:
    task = Script({"r": 1}, {"r": 2})
    execution = asl_kit.run(_mapping(), task, {"items": ["a", "b"], "run": "x"})
    assert [c.input for c in task.calls] == [{"value": "a", "index": 0}, {"value": "b", "index": 1}]
    assert execution.result() == {"items": ["a", "b"], "run": "x", "results": [{"r": 1}, {"r": 2}]}
    assert execution.visited == ["Each", "Work", "Work"]


def test_an_iteration_error_is_the_maps_error_for_its_catch() -> None:
    definition = _mapping(Catch=[{"ErrorEquals": ["E"], "ResultPath": "$.error", "Next": "After"}])
    del definition["States"]["Each"]["End"]
    definition["States"]["Each"]["Next"] = "After"
    definition["States"]["After"] = {"Type": "Succeed"}
    execution = asl_kit.run(definition, Script({}, TaskError("E")), {"items": [1, 2], "run": "x"})
    assert execution.visited == ["Each", "Work", "Work", "After"] and execution.output["error"] == {"Error": "E"}


def test_map_items_path_must_select_an_array() -> None:
    assert asl_kit.run(_mapping(), Script(), {"items": {"a": 1}, "run": "x"}).error == "States.Runtime"


# -- Pass, Wait, Succeed, Fail (spec, "Pass State", "Wait State", "Succeed State", "Fail State") ---------------


def test_pass_wait_succeed() -> None:
    definition = _machine(
        "P",
        P={"Type": "Pass", "Parameters": {"copied.$": "$.x"}, "ResultPath": "$.p", "Next": "R"},
        R={"Type": "Pass", "Result": {"fixed": True}, "ResultPath": "$.r", "Next": "W"},
        W={"Type": "Wait", "Seconds": 86400, "Next": "S"},
        S={"Type": "Succeed", "OutputPath": "$.r"},
    )
    execution = asl_kit.run(definition, Script(), {"x": 1})  # a day's Wait, not slept
    assert execution.result() == {"fixed": True} and execution.visited == ["P", "R", "W", "S"]
    definition["States"]["W"] = {"Type": "Wait", "SecondsPath": "$.absent", "Next": "S"}
    assert asl_kit.run(definition, Script(), {"x": 1}).error == "States.Runtime"


def test_fail_state_ends_the_execution_without_catch() -> None:
    definition = _machine("F", F={"Type": "Fail", "Error": "Broken", "Cause": "on purpose"})
    execution = asl_kit.run(definition, Script())
    assert (execution.status, execution.error, execution.cause, execution.failed_in) == (
        "FAILED",
        "Broken",
        "on purpose",
        "F",
    )


def test_a_loop_without_end_and_jsonata_fail_the_test() -> None:
    loop = _machine("A", A={"Type": "Pass", "Next": "A"})
    with pytest.raises(AssertionError, match="no end after 5 states"):
        asl_kit.run(loop, Script(), limit=5)
    with pytest.raises(AssertionError, match="JSONPath"):
        asl_kit.run({**loop, "QueryLanguage": "JSONata"}, Script())


def test_tasks_by_resource() -> None:
    definition = _machine(
        "A", A=_task("B"), B={"Type": "Task", "Resource": "arn:aws:states:::sns:publish", "End": True}
    )
    first, second = Script({"a": 1}), Script({"b": 2})
    tasks = {definition["States"]["A"]["Resource"]: first, "arn:aws:states:::sns:publish": second}
    assert asl_kit.run(definition, tasks).result() == {"b": 2} and second.calls[0].input == {"a": 1}
    with pytest.raises(AssertionError, match="no task given"):
        asl_kit.run(definition, {"arn:aws:states:::sns:publish": second})


# -- Lambda handlers --------------------------------------------------------------------------------------------


def test_lambda_function_sets_its_environment_marshals_json_and_names_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASL_KIT_MODE", raising=False)

    class NotReady(Exception):
        pass

    def handler(event: dict[str, Any], context: Any) -> Any:
        if event.get("fail"):
            raise NotReady("not yet")
        if event.get("unmarshallable"):
            return {"value": object()}
        return {"mode": os.environ["ASL_KIT_MODE"], "event": event}

    function = asl_kit.LambdaFunction("unused", {"ASL_KIT_MODE": "restart"})
    function.module = SimpleNamespace(handler=handler)
    definition = _machine(
        "A",
        A=_task(
            Parameters={"fail.$": "$.fail", "unmarshallable.$": "$.bad"},
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "B"}],
        ),
        B={"Type": "Succeed"},
    )
    ok = asl_kit.run(definition, function, {"fail": False, "bad": False})
    assert ok.result() == {"mode": "restart", "event": {"fail": False, "unmarshallable": False}}
    assert function.results == [ok.output]
    failed = asl_kit.run(definition, function, {"fail": True, "bad": False}).output
    assert failed["Error"] == "NotReady" and '"errorMessage": "not yet"' in failed["Cause"]
    assert asl_kit.run(definition, function, {"fail": False, "bad": True}).output["Error"] == "Runtime.MarshalError"
    assert "ASL_KIT_MODE" not in os.environ
