"""The resize state machine's states: one run finds the tagged instances and resizes each in a Map iteration, by
restart (:class:`RestartResize`) or by replacement (:class:`ReplaceResize`).

Each state's name is its construct id, so the definition reads as the names below. Every step is one Lambda
invocation of at most a minute; a wait is a step that answers ``NotReady`` and is retried every ``POLL``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.constructs.common import PythonHandler, present
from blueprints.constructs.vertical_scaling.functions import Functions
from blueprints.constructs.vertical_scaling.options import DISCARD_POLLS, POLL, START_FAILED_RETRIES

#: What each instance's iteration leaves in the run's output (``$.results``). The full report goes to
#: EventBridge; a run's output is capped at 256 KiB, so it keeps these small fields only.
_RESULT_FIELDS = ("instance_id", "new_instance_id", "outcome", "old_size", "new_size")
#: How Step Functions reports a Lambda function that ran out of time (``Sandbox.Timedout`` on current runtimes,
#: ``Lambda.Unknown`` on some); ``States.Timeout`` is the task's own timeout.
_FUNCTION_TIMEOUT_ERRORS = ("Sandbox.Timedout", "Lambda.Unknown")


def retry_service_errors(task: tasks.LambdaInvoke) -> None:
    """Retry throttling, the AWS errors a handler lets through, and a task timed out by Step Functions."""
    task.add_retry(
        errors=["ClientError", "Lambda.TooManyRequestsException", "States.Timeout"],
        interval=Duration.seconds(5),
        backoff_rate=2,
        max_attempts=3,
    )


class _States:
    """Builds the states of one instance's resize in ``scope``, the steps every mode shares included."""

    def __init__(self, scope: Construct, functions: Functions, notification_topic: sns.ITopic) -> None:
        self.scope = scope
        self.functions = functions
        self.notification_topic = notification_topic

    def task(
        self,
        name: str,
        handler: PythonHandler,
        step: str | None = None,
        *,
        polls: int = 0,
        result_path: str | None = None,
        result_selector: dict[str, object] | None = None,
        retry_function_timeout: bool = False,
    ) -> tasks.LambdaInvoke:
        payload: dict[str, object] = {"state": sfn.JsonPath.entire_payload}
        if step:
            payload["step"] = step
        task = tasks.LambdaInvoke(
            self.scope,
            name,
            lambda_function=handler.function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            result_path=result_path,
            result_selector=result_selector,
            task_timeout=sfn.Timeout.duration(Duration.minutes(2)),
        )
        if polls:
            task.add_retry(errors=["NotReady"], interval=POLL, backoff_rate=1, max_attempts=polls)
        retry_service_errors(task)
        if retry_function_timeout:
            # Only for idempotent steps: a retry after the function was cut off mid-call repeats the call.
            task.add_retry(
                errors=list(_FUNCTION_TIMEOUT_ERRORS), interval=Duration.seconds(5), backoff_rate=2, max_attempts=2
            )
        return task

    def step(self, name: str, step: str, *, polls: int = 0, retry_function_timeout: bool = False) -> tasks.LambdaInvoke:
        """A step of the mode's own function."""
        return self.task(name, self.functions.step, step, polls=polls, retry_function_timeout=retry_function_timeout)

    def release(self) -> tasks.LambdaInvoke:
        return self.task("ReleaseLock", self.functions.lock, "release")

    def lock_and_plan(
        self, resize: sfn.IChainable, release: tasks.LambdaInvoke, find_registrations: bool = False
    ) -> sfn.Chain:
        """Acquire the lock, plan, and run ``resize`` unless there is nothing to do; always release and report.

        With ``find_registrations``, Plan is followed by ``FindRegistrations``, invoked again while it reports
        ``scanning`` (it stops inside the function's time and continues where it stopped), which refuses the
        resize when the instance is registered where a replacement would not be: before anything is imaged.
        """
        report = self.report("Report")
        acquire = self.task("AcquireLock", self.functions.lock, "acquire")
        acquire.add_catch(report, errors=["States.ALL"], result_path="$.error")
        plan = self.task("Plan", self.functions.plan)
        plan.add_catch(release, errors=["States.ALL"], result_path="$.error")
        dry_run = sfn.Pass(self.scope, "DryRun", result=sfn.Result.from_string("dry-run"), result_path="$.outcome")
        dry_run.next(release)
        decide = (
            sfn.Choice(self.scope, "ResizeNeeded")
            .when(sfn.Condition.not_(sfn.Condition.string_equals("$.action", "resize")), release)
            .when(sfn.Condition.boolean_equals("$.dry_run", True), dry_run)
            .otherwise(resize)
        )
        release.add_catch(report, errors=["States.ALL"], result_path="$.release_error")
        release.next(report)
        if not find_registrations:
            return acquire.next(plan).next(decide)
        # Reads only, so a function timeout is retried; the search resumes from the state it was given.
        scan = self.task("FindRegistrations", self.functions.plan, "registrations", retry_function_timeout=True)
        scan.add_catch(release, errors=["States.ALL"], result_path="$.error")
        scanning = (
            sfn.Choice(self.scope, "Scanning")
            .when(sfn.Condition.boolean_equals("$.scanning", True), scan)
            .otherwise(decide)
        )
        scan.next(scanning)
        return acquire.next(plan).next(scanning)

    def report(self, name: str) -> sfn.IChainable:
        """Report the resize; the iteration ends with a few small fields whichever way the report goes.

        The report's detail (errors up to 2,000 characters each) goes to EventBridge and SNS; kept whole in
        the map's results it would fill the run's 256 KiB output within a few hundred instances, and the run
        would fail with ``States.DataLimitExceeded`` after every resize was done.
        """
        report = self.task(
            name,
            self.functions.report,
            result_selector={field: sfn.JsonPath.string_at(f"$.{field}") for field in _RESULT_FIELDS},
        )
        report.add_retry(errors=["PublishFailed"], interval=Duration.seconds(10), backoff_rate=2, max_attempts=4)
        lost = tasks.SnsPublish(
            self.scope,
            f"{name}Lost",
            topic=self.notification_topic,
            subject="Vertical scaling could not report a resize",
            message=sfn.TaskInput.from_text(sfn.JsonPath.json_to_string(sfn.JsonPath.entire_payload)),
            result_path=sfn.JsonPath.DISCARD,
        )
        report.add_catch(lost, errors=["States.ALL"], result_path="$.report_error")
        # Every iteration's input carries instance_id (the map's item selector sets it, every step keeps it).
        unreported = sfn.Pass(
            self.scope,
            f"{name}Unreported",
            parameters={"instance_id": sfn.JsonPath.string_at("$.instance_id"), "outcome": "unreported"},
        )
        lost.next(unreported)
        # Never fail the iteration: a failed iteration would stop the other instances' resizes mid-way.
        lost.add_catch(unreported, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
        return report


class _Resize(sfn.StateMachineFragment):
    """One instance's resize: a chain that starts by taking the instance's lock."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self._chain: sfn.Chain | None = None

    @property
    def start_state(self) -> sfn.State:
        return present(self._chain, f"{self.node.path}'s states").start_state

    @property
    def end_states(self) -> list[sfn.INextable]:
        return present(self._chain, f"{self.node.path}'s states").end_states


class RestartResize(_Resize):
    """Stop, set the new type, start; a type that fails to start falls back to the size's next candidate, and
    a resize that cannot finish reverts to the old type (and starts the instance again if it was running).

    ``waits``: the ``NotReady`` polls of one wait (``wait_timeout``); ``notification_topic`` hears of a report
    that failed.
    """

    def __init__(
        self, scope: Construct, id: str, *, functions: Functions, notification_topic: sns.ITopic, waits: int
    ) -> None:
        super().__init__(scope, id)
        states = _States(self, functions, notification_topic)
        release = states.release()
        revert = states.step("Revert", "revert", polls=waits * 2)
        first, factor, attempts = START_FAILED_RETRIES
        revert.add_retry(
            errors=["StartFailed"], interval=Duration.seconds(first), backoff_rate=factor, max_attempts=attempts
        )
        revert.add_catch(release, errors=["States.ALL"], result_path="$.revert_error")
        await_reverted = states.step("AwaitReverted", "await_running", polls=waits)
        await_reverted.add_catch(release, errors=["States.ALL"], result_path="$.revert_error")
        await_reverted.next(release)
        revert.next(
            sfn.Choice(self, "WasRunning")
            .when(sfn.Condition.boolean_equals("$.was_running", True), await_reverted)
            .otherwise(release)
        )
        stop = states.step("Stop", "stop")
        await_stopped = states.step("AwaitStopped", "await_stopped", polls=waits)
        modify = states.step("Modify", "modify")
        start = states.step("Start", "start")
        await_running = states.step("AwaitRunning", "await_running", polls=waits)
        modify_stopped = states.step("ModifyStopped", "modify")
        for task in (stop, await_stopped, modify, start, await_running, modify_stopped):
            task.add_catch(revert, errors=["States.ALL"], result_path="$.error")
        modify_stopped.next(release)
        stop.next(await_stopped).next(modify).next(start)
        start.next(self._fall_back_or_revert("Started", modify, revert, otherwise=await_running))
        await_running.next(self._fall_back_or_revert("Running", modify, revert, otherwise=release))
        is_running = (
            sfn.Choice(self, "IsRunning")
            .when(sfn.Condition.boolean_equals("$.was_running", True), stop)
            .otherwise(modify_stopped)
        )
        self._chain = states.lock_and_plan(is_running, release)

    def _fall_back_or_revert(
        self, name: str, modify: sfn.IChainable, revert: sfn.IChainable, *, otherwise: sfn.IChainable
    ) -> sfn.Choice:
        """Where the step's ``next`` says: ``modify`` to the next candidate type, ``revert``, or on."""
        return (
            sfn.Choice(self, name)
            .when(sfn.Condition.string_equals("$.next", "modify"), modify)
            .when(sfn.Condition.string_equals("$.next", "revert"), revert)
            .otherwise(otherwise)
        )


class ReplaceResize(_Resize):
    """Find every registration of the instance, image it, launch the copy with the new type, register it, and
    retire the old instance once the new one is healthy; a failure cleans up what was made.

    ``waits`` and ``health_waits``: the ``NotReady`` polls of ``wait_timeout`` and ``health_check_timeout``;
    ``notification_topic`` hears of a report that failed.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        functions: Functions,
        notification_topic: sns.ITopic,
        waits: int,
        health_waits: int,
    ) -> None:
        super().__init__(scope, id)
        states = _States(self, functions, notification_topic)
        release = states.release()
        # Bounded by wait_timeout too, so that a replacement with its cleanup or discard still fits lock_timeout.
        discard_polls = min(waits, DISCARD_POLLS)
        cleanup = states.step("Cleanup", "cleanup", polls=discard_polls)
        cleanup.add_catch(release, errors=["States.ALL"], result_path="$.cleanup_error")
        cleanup.next(release)
        steps = [
            # Both idempotent (the image's name, the launch's ClientToken): retried if the function timed out,
            # which the catch would otherwise record without the image or instance a cut-off call made.
            states.step("Image", "image", retry_function_timeout=True),
            states.step("AwaitImage", "await_image", polls=waits),
            states.step("Launch", "launch", retry_function_timeout=True),
            states.step("AwaitRunning", "await_running", polls=waits),
            states.step("Register", "register"),
            states.step("AwaitHealthy", "await_healthy", polls=health_waits),
            states.step("DeregisterOld", "deregister_old"),
            states.step("AwaitDrained", "await_drained", polls=waits),
            states.step("RetireOld", "retire_old"),
        ]
        for task in steps:
            task.add_catch(cleanup, errors=["States.ALL"], result_path="$.error")
        discard = states.step("DiscardImage", "discard_image", polls=discard_polls)
        # The resize is done when the image is discarded: a failure here leaves it resized, and is notified.
        discard.add_catch(release, errors=["States.ALL"], result_path="$.discard_error")
        replace = sfn.Chain.start(steps[0])
        for task in steps[1:]:
            replace = replace.next(task)
        replace.next(discard).next(release)
        self._chain = states.lock_and_plan(replace, release, find_registrations=True)


def run_definition(
    scope: Construct,
    *,
    functions: Functions,
    resize: sfn.IChainable,
    max_concurrency: int,
) -> sfn.IChainable:
    """A whole run, its states in ``scope``: find the targets, then ``resize`` each, ``max_concurrency`` at once.

    A run that fails before any resize is reported, then fails.
    """
    find_targets = tasks.LambdaInvoke(
        scope,
        "FindTargets",
        lambda_function=functions.targets.function,
        payload=sfn.TaskInput.from_object(
            {"input": sfn.JsonPath.entire_payload, "execution": sfn.JsonPath.execution_id}
        ),
        payload_response_only=True,
        task_timeout=sfn.Timeout.duration(Duration.minutes(2)),
    )
    # Throttled or timed out, the run would end in ReportRunFailure and the scheduled resize would be lost.
    retry_service_errors(find_targets)
    each = sfn.Map(
        scope,
        "EachInstance",
        items_path="$.instances",
        max_concurrency=max_concurrency,
        item_selector={
            "instance_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
            "direction": sfn.JsonPath.string_at("$.direction"),
            "dry_run": sfn.JsonPath.string_at("$.dry_run"),
            "trigger": sfn.JsonPath.string_at("$.trigger"),
            "execution": sfn.JsonPath.string_at("$.execution"),
        },
        result_path="$.results",
    )
    each.item_processor(resize)
    failed_run = tasks.LambdaInvoke(
        scope,
        "ReportRunFailure",
        lambda_function=functions.report.function,
        payload=sfn.TaskInput.from_object({"state": sfn.JsonPath.entire_payload}),
        payload_response_only=True,
        result_path=sfn.JsonPath.DISCARD,
    )
    failed_run.next(sfn.Fail(scope, "RunFailed", cause="The run failed before resizing any instance"))
    find_targets.add_catch(failed_run, errors=["States.ALL"], result_path="$.error")
    return find_targets.next(each)
