"""One Amazon States Language interpreter for the tests: a synthesized definition, run as Step Functions runs it.

``state_machines`` renders each ``AWS::StepFunctions::StateMachine`` of a template (its ``DefinitionString``
is an ``Fn::Join`` of strings, ``Ref`` and ``Fn::GetAtt`` tokens) to the ASL document, and ``run`` executes
one document. Each Task is answered by a callable the test gives per ``Resource`` (``LambdaFunction`` runs a
real handler with the environment its function has in the template); a task fails by raising ``TaskError``.

The semantics follow the Amazon States Language specification (https://states-language.net/spec.html, cited
by section below as "spec, <section>") and the Step Functions Developer Guide ("guide, <page>"). The JSONPath
query language only: a JSONata state fails the test, as does any field or rule the kit does not interpret,
so a definition never passes by being half read. Waits are not slept and retry intervals not waited.
"""

from __future__ import annotations

import copy
import json
import os
import re
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from tests.handler_kit import LambdaContext, load_handler

#: Pseudo parameters with the values they have in the commercial partition.
PSEUDO = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}

#: Error names the ``States.ALL`` and ``States.TaskFailed`` wildcards never match (guide, "Handling errors
#: in Step Functions workflows": States.ALL "can't catch the States.DataLimitExceeded terminal error type and
#: runtime error types"; a States.Runtime error "isn't retriable, and will always cause the execution to fail").
TERMINAL = frozenset({"States.Runtime", "States.DataLimitExceeded"})

DEFAULT_EXECUTION_ID = "arn:aws:states:us-east-1:123456789012:execution:machine:run"


# -- rendering a synthesized definition -----------------------------------------------------------------------


def token(logical_id: str, attribute: str | None = None) -> str:
    """The text ``render`` puts for ``{"Ref": logical_id}`` or ``{"Fn::GetAtt": [logical_id, attribute]}``.

    A pseudo parameter with one value (``AWS::Partition``) becomes that value, so a service integration's
    ``Resource`` reads as deployed (``arn:aws:states:::sns:publish``); every other token becomes
    ``${LogicalId}`` or ``${LogicalId.Attribute}``, as ``Fn::Sub`` writes them.
    """
    if attribute is None:
        return PSEUDO.get(logical_id, f"${{{logical_id}}}")
    return f"${{{logical_id}.{attribute}}}"


def render(definition_string: Any) -> dict[str, Any]:
    """The ASL document of a ``DefinitionString``: a plain string, or an ``Fn::Join`` of strings and tokens."""
    if isinstance(definition_string, str):
        return json.loads(definition_string)
    separator, parts = definition_string["Fn::Join"]
    text = []
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        elif "Ref" in part:
            text.append(token(part["Ref"]))
        elif "Fn::GetAtt" in part:
            text.append(token(*part["Fn::GetAtt"]))
        else:
            raise AssertionError(f"token not understood in a DefinitionString: {part}")
    return json.loads(separator.join(text))


def state_machines(resources: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state machine's ASL document in a template's ``Resources``, keyed by logical ID."""
    return {
        logical_id: render(resource["Properties"]["DefinitionString"])
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    }


def function_environment(resource: Mapping[str, Any], resolve: Callable[[str, Any], str]) -> dict[str, str]:
    """An ``AWS::Lambda::Function``'s environment variables, each token resolved by ``resolve(name, token)``."""
    variables = resource["Properties"].get("Environment", {}).get("Variables", {})
    return {name: value if isinstance(value, str) else resolve(name, value) for name, value in variables.items()}


# -- tasks ----------------------------------------------------------------------------------------------------


class TaskError(Exception):
    """A task's failure with an error name and, optionally, a cause (spec, "Errors").

    The error output a catcher passes on holds ``Error`` and, when there is one, ``Cause`` (spec,
    "Fallback States": the error output "MUST" have an "Error" field and "SHOULD" have a "Cause").
    """

    def __init__(self, error: str = "States.TaskFailed", cause: str | None = None) -> None:
        super().__init__(error if cause is None else f"{error}: {cause}")
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, str]:
        return {"Error": self.error} if self.cause is None else {"Error": self.error, "Cause": self.cause}


class StatesRuntime(TaskError):
    """A path that does not resolve, or another error of the interpreter (spec, "Errors", States.Runtime):
    it fails the execution, and no Retry or Catch handles it."""

    def __init__(self, cause: str) -> None:
        super().__init__("States.Runtime", cause)


@dataclass
class TaskCall:
    """One attempt of a Task: what Step Functions sends to its resource."""

    state: str
    resource: str
    #: The effective parameters: InputPath, then Parameters, applied to the state's input.
    input: Any
    #: The context object (``$$``) at this attempt; ``context["State"]["RetryCount"]`` counts the retries.
    context: dict[str, Any]

    @property
    def retry_count(self) -> int:
        return int(self.context["State"]["RetryCount"])


Task = Callable[[TaskCall], Any]


class LambdaFunction:
    """A Task answered by a real handler (``blueprints/lambdas/<name>/index.py``), as the Lambda Python runtime
    calls it: the event and the result pass through JSON, the function's environment variables are set, and
    an exception becomes the error named by its class, with the runtime's error object as the cause (guide,
    "Handling errors": a Lambda function's errorType is the error name). The handler module is loaded at the
    first call (so clients are created inside the test's moto) and kept for the next ones, as a warm container.
    """

    def __init__(self, handler: str, environment: Mapping[str, str]) -> None:
        self.handler = handler
        self.environment = dict(environment)
        self.module: Any = None
        #: Every result the handler returned, in order.
        self.results: list[Any] = []

    def __call__(self, call: TaskCall) -> Any:
        event = json.loads(json.dumps(call.input))
        context = LambdaContext()
        with mock.patch.dict(os.environ, self.environment):
            if self.module is None:
                self.module = load_handler(self.handler)
            try:
                result = self.module.handler(event, context)
            except Exception as error:
                cause = {
                    "errorMessage": str(error),
                    "errorType": type(error).__name__,
                    "requestId": context.aws_request_id,
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
                raise TaskError(type(error).__name__, json.dumps(cause)) from error
        try:
            result = json.loads(json.dumps(result))
        except (TypeError, ValueError) as error:
            raise TaskError("Runtime.MarshalError", f"Unable to marshal response: {error}") from error
        self.results.append(result)
        return result


# -- paths, payload templates and intrinsic functions ---------------------------------------------------------

_STEP = re.compile(r"\.([^.\[\]]+)|\['([^']*)'\]|\[(\d+)\]")


def _steps(path: str) -> Iterator[str | int]:
    """The steps of a reference path after its ``$`` or ``$$`` (spec, "Reference Paths": only dot and
    bracket member notation and array indexes)."""
    rest = path[2:] if path.startswith("$$") else path[1:]
    position = 0
    while position < len(rest):
        match = _STEP.match(rest, position)
        if not match:
            raise AssertionError(f"path not interpreted: {path}")
        name, quoted, index = match.groups()
        yield int(index) if index is not None else (name if name is not None else quoted)
        position = match.end()


def select(path: str, data: Any, context: Mapping[str, Any]) -> Any:
    """The value ``path`` selects in ``data`` (``$``) or in the context object (``$$``); a path that selects
    nothing is a States.Runtime error (spec, "Paths"; guide, "Handling errors", States.Runtime)."""
    if not path.startswith("$"):
        raise AssertionError(f"not a path: {path}")
    node: Any = context if path.startswith("$$") else data
    for step in _steps(path):
        if isinstance(step, int):
            found = isinstance(node, list) and step < len(node)
        else:
            found = isinstance(node, dict) and step in node
        if not found:
            raise StatesRuntime(f"The JSONPath '{path}' could not be found in the input '{json.dumps(data)[:300]}'")
        node = node[step]
    return node


def _arguments(text: str) -> list[str]:
    """The top-level, comma-separated arguments of an intrinsic function call."""
    out, depth, quoted, current = [], 0, False, ""
    for i, char in enumerate(text):
        if char == "'" and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "(":
            depth += 1
        elif not quoted and char in ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            out.append(current.strip())
            current = ""
            continue
        current += char
    return [*out, current.strip()] if current.strip() else out


def _argument(text: str, data: Any, context: Mapping[str, Any]) -> Any:
    if text.startswith("$"):
        return select(text, data, context)
    if text.startswith("States."):
        return intrinsic(text, data, context)
    if text.startswith("'"):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return json.loads(text)


def intrinsic(text: str, data: Any, context: Mapping[str, Any]) -> Any:
    """The intrinsic functions the definitions use (spec, "Intrinsic Functions"): ``States.JsonToString``
    (compact JSON, as Step Functions serializes), ``States.StringToJson`` and ``States.Format``."""
    match = re.fullmatch(r"(States\.\w+)\((.*)\)", text.strip(), re.DOTALL)
    if not match:
        raise AssertionError(f"intrinsic function not understood: {text}")
    name, raw = match.group(1), _arguments(match.group(2))
    args = [_argument(a, data, context) for a in raw]
    if name == "States.JsonToString" and len(args) == 1:
        return json.dumps(args[0], separators=(",", ":"))
    if name == "States.StringToJson" and len(args) == 1:
        return json.loads(args[0])
    if name == "States.Format" and raw and raw[0].startswith("'"):
        # split the literal before unescaping it: an escaped \{\} is text, not a placeholder
        pieces = [re.sub(r"\\(.)", r"\1", p) for p in re.split(r"(?<!\\)\{\}", raw[0][1:-1])]
        if len(pieces) != len(args):
            raise StatesRuntime(f"{text}: {len(pieces) - 1} placeholders for {len(args) - 1} arguments")
        values = [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in args[1:]]
        return "".join(p + v for p, v in zip(pieces, [*values, ""], strict=True))
    raise AssertionError(f"intrinsic function not interpreted: {text}")


def payload(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """A payload template (Parameters, ItemSelector, ResultSelector) evaluated against ``data`` (spec,
    "Payload Template"): a field named ``key.$`` becomes ``key`` with the value its path or intrinsic
    function selects; other fields are copied, nested objects and arrays evaluated in turn."""
    if isinstance(template, list):
        return [payload(item, data, context) for item in template]
    if not isinstance(template, dict):
        return template
    out = {}
    for key, value in template.items():
        if key.endswith(".$"):
            if not isinstance(value, str):
                raise AssertionError(f"{key}: a .$ field takes a path or an intrinsic function, got {value!r}")
            out[key[:-2]] = select(value, data, context) if value.startswith("$") else intrinsic(value, data, context)
        else:
            out[key] = payload(value, data, context)
    return out


def input_path(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> Any:
    """InputPath (spec, "Input and Output Processing"): ``$`` by default; ``null`` gives ``{}``."""
    path = state.get("InputPath", "$")
    return {} if path is None else select(path, data, context)


def output_path(state: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> Any:
    """OutputPath (spec, "Input and Output Processing"): ``$`` by default; ``null`` gives ``{}``."""
    path = state.get("OutputPath", "$")
    return {} if path is None else select(path, data, context)


def result_path(path: str | None, data: Any, result: Any) -> Any:
    """ResultPath (spec, "Input and Output Processing"; guide, "ResultPath"): ``$`` (the default) replaces
    the input with the result, ``null`` discards the result and keeps the input, ``$.a.b`` puts the result
    into a copy of the input, creating the objects on the way. A path through a value that is no object is
    ``States.ResultPathMatchFailure``."""
    if path is None:
        return data
    if path == "$":
        return result
    out = copy.deepcopy(data)
    node = out
    steps = list(_steps(path))
    for i, step in enumerate(steps):
        if not isinstance(node, dict) or not isinstance(step, str):
            raise TaskError("States.ResultPathMatchFailure", f"ResultPath {path} cannot be applied to the input")
        if i == len(steps) - 1:
            node[step] = result
        else:
            node = node.setdefault(step, {})
    return out


# -- choice rules ---------------------------------------------------------------------------------------------

_COMPARE: dict[str, tuple[type | tuple[type, ...], Callable[[Any, Any], bool]]] = {
    "StringEquals": (str, lambda a, b: a == b),
    "StringLessThan": (str, lambda a, b: a < b),
    "StringGreaterThan": (str, lambda a, b: a > b),
    "StringLessThanEquals": (str, lambda a, b: a <= b),
    "StringGreaterThanEquals": (str, lambda a, b: a >= b),
    "NumericEquals": ((int, float), lambda a, b: a == b),
    "NumericLessThan": ((int, float), lambda a, b: a < b),
    "NumericGreaterThan": ((int, float), lambda a, b: a > b),
    "NumericLessThanEquals": ((int, float), lambda a, b: a <= b),
    "NumericGreaterThanEquals": ((int, float), lambda a, b: a >= b),
    "BooleanEquals": (bool, lambda a, b: a is b),
}


def matches(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> bool:
    """One Choice Rule (spec, "Choice Rules"; guide, "Choice workflow state").

    ``And`` stops at its first false rule and ``Or`` at its first true one, which the guide's IsPresent
    example relies on (a comparison of a path that is not there fails the execution with States.Runtime,
    so ``IsPresent`` must be tested first). A comparison of a value of another type is false (spec: the
    comparison operators apply to values of their type); a boolean is no number.
    """
    if "And" in rule:
        return all(matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not matches(rule["Not"], data, context)
    if "IsPresent" in rule:
        try:
            select(rule["Variable"], data, context)
        except StatesRuntime:
            return rule["IsPresent"] is False
        return rule["IsPresent"] is True
    value = select(rule["Variable"], data, context)
    if "IsNull" in rule:
        return (value is None) is rule["IsNull"]
    for operator, (kind, compare) in _COMPARE.items():
        if operator in rule:
            expected = rule[operator]
        elif f"{operator}Path" in rule:
            expected = select(rule[f"{operator}Path"], data, context)
        else:
            continue
        if kind is not bool and (isinstance(value, bool) or isinstance(expected, bool)):
            return False
        return isinstance(value, kind) and isinstance(expected, kind) and compare(value, expected)
    raise AssertionError(f"choice rule not interpreted: {rule}")


# -- errors: Retry and Catch ----------------------------------------------------------------------------------


def error_matches(names: list[str], error: str) -> bool:
    """Whether an ErrorEquals list matches ``error`` (spec, "Errors", Appendix A): a name matches itself;
    ``States.ALL`` every error and ``States.TaskFailed`` every error but ``States.Timeout``, neither of
    them the terminal ``States.Runtime`` or ``States.DataLimitExceeded``."""
    if error in names:
        return True
    if error in TERMINAL:
        return False
    return "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


def _check_wildcards(state_name: str, entries: list[dict[str, Any]], field_name: str) -> None:
    """States.ALL must appear alone in its ErrorEquals and in the last Retrier or Catcher (spec, "Retrying
    after error", "Fallback states")."""
    for i, entry in enumerate(entries):
        if "States.ALL" in entry["ErrorEquals"]:
            assert entry["ErrorEquals"] == ["States.ALL"] and i == len(entries) - 1, (
                f"{state_name}: States.ALL must be alone, in the last {field_name}"
            )


# -- an execution ---------------------------------------------------------------------------------------------


class ExecutionFailed(RuntimeError):
    """An execution that ended FAILED, raised by ``Execution.result``."""


@dataclass
class Execution:
    """What one run did: its status and output (or error and cause), and every state and task call."""

    status: str = "RUNNING"
    output: Any = None
    error: str | None = None
    cause: str | None = None
    #: The state the execution failed in (a Fail state, or the state whose error nothing handled).
    failed_in: str | None = None
    #: The name of every state entered, in order (a Map's iterations run one after another).
    visited: list[str] = field(default_factory=list)
    #: Every task attempt, retries included.
    calls: list[TaskCall] = field(default_factory=list)

    def result(self) -> Any:
        """The output of a SUCCEEDED execution; ``ExecutionFailed`` otherwise."""
        if self.status != "SUCCEEDED":
            raise ExecutionFailed(f"execution failed in {self.failed_in}: {self.error}: {self.cause}")
        return self.output


class _Failed(TaskError):
    """A Fail state (spec, "Fail State"): it ends the execution, or the Map iteration it is in, which then
    fails the Map state with the same error."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error or "", cause)
        self.error = error  # type: ignore[assignment]  # a Fail state need not name an error


class _Interpreter:
    def __init__(
        self, tasks: Mapping[str, Task] | Task, context: dict[str, Any], execution: Execution, limit: int
    ) -> None:
        self.tasks = tasks
        self.context = context
        self.execution = execution
        self.limit = limit

    def _context(self, name: str, retry_count: int = 0, item: dict[str, Any] | None = None) -> dict[str, Any]:
        context = {**self.context, "State": {"Name": name, "RetryCount": retry_count}}
        return {**context, "Map": item} if item is not None else context

    def states(self, machine: Mapping[str, Any], data: Any, item: dict[str, Any] | None = None) -> Any:
        """Run a (sub-)state machine from StartAt to a terminal state (spec, "Structure of a State Machine")."""
        if machine.get("QueryLanguage", "JSONPath") != "JSONPath":
            raise AssertionError("only the JSONPath query language is interpreted")
        name = machine["StartAt"]
        while True:
            if len(self.execution.visited) >= self.limit:
                raise AssertionError(f"no end after {self.limit} states: {self.execution.visited}")
            state = machine["States"][name]
            self.execution.visited.append(name)
            self.execution.failed_in = name
            unknown = {"Arguments", "Output", "Assign", "QueryLanguage"} & set(state)
            assert not unknown, f"{name}: {unknown} not interpreted"
            data, following = self._state(name, state, data, item)
            if following is None:
                return data
            name = following

    def _state(self, name: str, state: Mapping[str, Any], data: Any, item: dict[str, Any] | None) -> tuple[Any, Any]:
        kind = state["Type"]
        context = self._context(name, item=item)
        if kind == "Fail":
            raise _Failed(state.get("Error"), state.get("Cause"))
        if kind in ("Task", "Map"):
            return self._with_errors(name, state, data, item)
        effective = input_path(state, data, context)
        if kind == "Choice":
            following = next(
                (c["Next"] for c in state["Choices"] if matches(c, effective, context)), state.get("Default")
            )
            if following is None:
                raise TaskError("States.NoChoiceMatched", f"no choice rule of {name} matched, and no Default")
            return output_path(state, effective, context), following
        if kind == "Pass":
            result = payload(state["Parameters"], effective, context) if "Parameters" in state else effective
            result = state.get("Result", result)
            output = output_path(state, result_path(state.get("ResultPath", "$"), data, result), context)
        elif kind == "Wait":
            for key in ("SecondsPath", "TimestampPath"):
                if key in state:
                    select(state[key], effective, context)
            output = output_path(state, effective, context)
        elif kind == "Succeed":
            return output_path(state, effective, context), None
        else:
            raise AssertionError(f"{name}: state type {kind} not interpreted")
        return output, None if state.get("End") else state["Next"]

    def _with_errors(
        self, name: str, state: Mapping[str, Any], data: Any, item: dict[str, Any] | None
    ) -> tuple[Any, Any]:
        """A Task or Map with its Retriers and Catchers (spec, "Retrying after error", "Fallback states").

        The first Retrier whose ErrorEquals matches decides: while its own count is below its MaxAttempts
        (3 by default; 0 never retries) the state runs again, else the Catchers are scanned in order and the
        first that matches passes the error output, placed at its ResultPath (``$`` by default) into the
        state's input, to its Next. Retry counts start afresh each time the state is entered.
        """
        retriers, catchers = state.get("Retry", []), state.get("Catch", [])
        _check_wildcards(name, retriers, "Retrier")
        _check_wildcards(name, catchers, "Catcher")
        counts = [0] * len(retriers)
        while True:
            try:
                context = self._context(name, sum(counts), item)
                output = self._map(name, state, data, context) if state["Type"] == "Map" else None
                if state["Type"] == "Task":
                    output = self._task(name, state, data, context)
                return output, None if state.get("End") else state["Next"]
            except TaskError as error:
                if error.error in TERMINAL:
                    raise
                retry = next((i for i, r in enumerate(retriers) if error_matches(r["ErrorEquals"], error.error)), None)
                if retry is not None and counts[retry] < retriers[retry].get("MaxAttempts", 3):
                    counts[retry] += 1
                    continue
                catcher = next((c for c in catchers if error_matches(c["ErrorEquals"], error.error)), None)
                if catcher is None:
                    raise
                return result_path(catcher.get("ResultPath", "$"), data, error.output()), catcher["Next"]

    def _task(self, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        effective = input_path(state, data, context)
        parameters = payload(state["Parameters"], effective, context) if "Parameters" in state else effective
        call = TaskCall(name, state["Resource"], json.loads(json.dumps(parameters)), context)
        self.execution.calls.append(call)
        if callable(self.tasks):
            task = self.tasks
        else:
            assert state["Resource"] in self.tasks, f"{name}: no task given for {state['Resource']}"
            task = self.tasks[state["Resource"]]
        result = task(call)
        return self._results(state, data, result, context)

    def _results(self, state: Mapping[str, Any], data: Any, result: Any, context: dict[str, Any]) -> Any:
        """ResultSelector, ResultPath, then OutputPath (spec, "Input and Output Processing")."""
        if "ResultSelector" in state:
            result = payload(state["ResultSelector"], result, context)
        return output_path(state, result_path(state.get("ResultPath", "$"), data, result), context)

    def _map(self, name: str, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        """A Map state (spec, "Map State"; guide, "Map state in inline mode"): ItemsPath selects the array in
        the effective input; ItemSelector (formerly Parameters) builds each iteration's input with
        ``$$.Map.Item.Index`` and ``$$.Map.Item.Value``; the iterations' outputs, in order, are the result.
        An iteration's error is the Map's error."""
        effective = input_path(state, data, context)
        items = select(state.get("ItemsPath", "$"), effective, context)
        if not isinstance(items, list):
            raise StatesRuntime(f"{name}: ItemsPath {state.get('ItemsPath', '$')} selects no array")
        selector = state.get("ItemSelector", state.get("Parameters"))
        processor = state.get("ItemProcessor", state.get("Iterator"))
        results = []
        for index, value in enumerate(items):
            item = {"Item": {"Index": index, "Value": value}}
            item_input = payload(selector, effective, {**context, "Map": item}) if selector is not None else value
            results.append(self.states(processor, item_input, item))
        return self._results(state, data, results, context)


def run(
    definition: Mapping[str, Any],
    tasks: Mapping[str, Task] | Task,
    execution_input: Any = None,
    *,
    execution_id: str = DEFAULT_EXECUTION_ID,
    limit: int = 1000,
) -> Execution:
    """Run ``definition`` once with ``execution_input`` (``{}`` by default).

    ``tasks`` maps each Task's ``Resource`` to the callable that answers it, or is one callable for every
    Task; it gets a ``TaskCall`` and returns the result or raises ``TaskError``. The execution ends
    SUCCEEDED with the last state's output, or FAILED with the error and cause of a Fail state or of an
    error no Catcher handled (``States.Runtime`` among them). More than ``limit`` states entered fails the
    test: a definition that loops on the answers it gets.
    """
    data = {} if execution_input is None else json.loads(json.dumps(execution_input))
    context = {"Execution": {"Id": execution_id, "Name": execution_id.rsplit(":", 1)[-1], "Input": data}}
    execution = Execution()
    try:
        execution.output = _Interpreter(tasks, context, execution, limit).states(definition, data)
        execution.status, execution.failed_in = "SUCCEEDED", None
    except TaskError as failure:
        execution.status, execution.error, execution.cause = "FAILED", failure.error, failure.cause
    return execution
