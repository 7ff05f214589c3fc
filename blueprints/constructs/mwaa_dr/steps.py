"""The steps the DR workflows are built from: a Lambda invocation retried on Lambda's own faults, a
notification that never decides an outcome, and the restore and pause loops, which call a function again
with the cursor it returned until it is done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.constructs.common import PythonHandler
from blueprints.constructs.mwaa_dr.options import MwaaDrStrategy

#: How long one SNS publish of a state machine may take before it is retried.
NOTIFY_TIMEOUT = Duration.seconds(30)
#: Where a notification that failed after its retries is recorded in the execution's state.
NOTIFICATION_ERROR_PATH = "$.notification_error"


@dataclass(frozen=True)
class _DrFunctions:
    """The functions the workflows invoke."""

    health: PythonHandler
    metadata: PythonHandler
    failover: PythonHandler


@dataclass(frozen=True)
class _Notifications:
    """Where the workflows notify, and what every notification says of the pair."""

    topic: sns.ITopic
    primary_environment_name: str
    dr_environment_name: str
    strategy: MwaaDrStrategy

    def notify(self, scope: Construct, id: str, event: str) -> tasks.SnsPublish:
        """An SNS notification, retried on throttling, 5xx, KMS faults and timeouts. The caller adds
        the Catch: a notification must never decide the outcome of a failover or failback."""
        task = tasks.SnsPublish(
            scope,
            id,
            topic=self.topic,
            # SNS subjects hold at most 100 characters
            subject=f"MWAA DR {event.replace('_', ' ')}: {self.primary_environment_name}"[:100],
            message=sfn.TaskInput.from_object(
                {
                    "event": event,
                    "primary_environment": self.primary_environment_name,
                    "dr_environment": self.dr_environment_name,
                    "strategy": self.strategy.value,
                    "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                    "state": sfn.JsonPath.object_at("$"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(NOTIFY_TIMEOUT),
        )
        task.add_retry(
            errors=["States.TaskFailed", "States.Timeout"],
            interval=Duration.seconds(2),
            max_attempts=3,
            backoff_rate=2,
        )
        return task

    def notified(self, scope: Construct, event: str, then: sfn.State) -> sfn.Chain:
        """Notify ``event``, then go to ``then`` whether or not the notification went out; a
        notification that failed after its retries is kept in ``$.notification_error``, so it shows
        in the execution's output and in the next notification."""
        notify = self.notify(scope, f"Notify{''.join(w.title() for w in event.split('_'))}", event)
        notify.add_catch(then, errors=["States.ALL"], result_path=NOTIFICATION_ERROR_PATH)
        return notify.next(then)


def _invoke(
    scope: Construct, id: str, handler: PythonHandler, payload: dict[str, Any], result_path: str
) -> tasks.LambdaInvoke:
    """Invoke ``handler`` with ``payload``, retried on Lambda's own throttling and faults."""
    task = tasks.LambdaInvoke(
        scope,
        id,
        lambda_function=handler.function,
        payload=sfn.TaskInput.from_object(payload),
        payload_response_only=True,
        result_path=result_path,
    )
    task.add_retry(
        errors=["Lambda.TooManyRequestsException", "Lambda.ServiceException", "Lambda.SdkClientException"],
        interval=Duration.seconds(5),
        max_attempts=4,
        backoff_rate=2,
    )
    return task


def _retry_then_fail(steps: Sequence[tasks.LambdaInvoke], failed: sfn.IChainable) -> None:
    """Retry each step's own failure twice, then go to ``failed`` with the error in ``$.error``."""
    for task in steps:
        task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(10), max_attempts=2, backoff_rate=2)
        task.add_catch(failed, errors=["States.ALL"], result_path="$.error")


class _Fragment(sfn.StateMachineFragment):
    """A fragment built as one chain of states, which its constructor hands to ``_close``."""

    def _close(self, chain: sfn.Chain) -> None:
        """Enter the fragment at ``chain``'s first state; go on from its ends."""
        self._start = chain.start_state
        self._ends = chain.end_states

    @property
    def start_state(self) -> sfn.State:
        return self._start

    @property
    def end_states(self) -> list[sfn.INextable]:
        return self._ends


class _RestoreLoop(_Fragment):
    """Restore a backup into ``target``, one bounded slice per invocation, then go to ``after``.

    ``folder`` (a JSON path): restore that backup instead of resolving the newest one under ``prefix``.
    The states are named ``<label>Init``, ``<label>Restore``, ``<label>WaitForDags`` and ``<label>RestoreDone``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        label: str,
        metadata: PythonHandler,
        prefix: str,
        target: str,
        after: sfn.IChainable,
        folder: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        # An empty cursor starts a restore. Not None: CDK drops a None from a Result, and a missing
        # $.restore.cursor fails the execution with States.Runtime, which no Catch handles.
        init = sfn.Pass(self, f"{label}Init", result=sfn.Result.from_object({"cursor": {}}), result_path="$.restore")
        payload: dict[str, Any] = {
            "action": "restore",
            "target": target,
            "prefix": prefix,
            "cursor": sfn.JsonPath.object_at("$.restore.cursor"),
        }
        if folder is not None:
            payload["folder"] = sfn.JsonPath.string_at(folder)
        #: The restore task, for the caller's Retry and Catch.
        self.restore = _invoke(self, f"{label}Restore", metadata, payload, "$.restore")
        wait = sfn.Wait(self, f"{label}WaitForDags", time=sfn.WaitTime.duration(Duration.minutes(1)))
        done = (
            sfn.Choice(self, f"{label}RestoreDone")
            .when(sfn.Condition.boolean_equals("$.restore.done", True), after)
            .when(sfn.Condition.boolean_equals("$.restore.wait", True), wait.next(self.restore))
            .otherwise(self.restore)
        )
        self._close(init.next(self.restore).next(done))


class _PauseLoop(_Fragment):
    """Pause every DAG of ``target``, one bounded slice per invocation: the task is called
    again with the cursor it returned while it answers ``done: false``; an answer without
    ``done`` is a complete pause, and ``done: false`` without a cursor goes to ``failed``
    (it cannot go on, and must not pass for done).

    The states are named ``<label>Init``, ``<label>Dags`` and ``<label>Done``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        label: str,
        metadata: PythonHandler,
        target: str,
        after: sfn.IChainable,
        failed: sfn.IChainable,
    ) -> None:
        super().__init__(scope, id)
        init = sfn.Pass(self, f"{label}Init", result=sfn.Result.from_object({"cursor": {}}), result_path="$.paused")
        #: The pause task, for the caller's Retry and Catch.
        self.pause = _invoke(
            self,
            f"{label}Dags",
            metadata,
            {"action": "pause_all", "target": target, "cursor": sfn.JsonPath.object_at("$.paused.cursor")},
            "$.paused",
        )
        more = sfn.Condition.and_(
            sfn.Condition.is_present("$.paused.done"),
            sfn.Condition.boolean_equals("$.paused.done", False),
            sfn.Condition.is_present("$.paused.cursor"),
        )
        stuck = sfn.Condition.and_(
            sfn.Condition.is_present("$.paused.done"), sfn.Condition.boolean_equals("$.paused.done", False)
        )
        decide = sfn.Choice(self, f"{label}Done").when(more, self.pause).when(stuck, failed).otherwise(after)
        self._close(init.next(self.pause).next(decide))
