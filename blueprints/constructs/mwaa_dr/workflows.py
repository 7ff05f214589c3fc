"""The failover and failback workflows of the DR Region, as Step Functions fragments, and the state machine
that runs each.

The fragments hold states only (which are not CloudFormation resources); the functions they invoke, and the
state machines and their log groups, belong to the construct that passes itself in. Each fragment exposes the
states its caller needs, so nothing looks a state up in the construct tree by id.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.constructs.common import logged_state_machine
from blueprints.constructs.mwaa_dr.grants import _KEY_PUBLISH, _grant_key_via
from blueprints.constructs.mwaa_dr.options import BACKUP_PREFIX, FAILBACK_PREFIX, MwaaDrStrategy
from blueprints.constructs.mwaa_dr.steps import (
    _DrFunctions,
    _Fragment,
    _invoke,
    _Notifications,
    _PauseLoop,
    _RestoreLoop,
    _retry_then_fail,
)

#: MWAA statuses (botocore ``EnvironmentStatus``) in which a DR environment takes the restore:
#: UPDATE_FAILED means "restored to its previous state successfully and is ready to use".
READY_STATUSES = ("AVAILABLE", "UPDATE_FAILED")
#: Statuses that MWAA leaves on its own; the failover waits through them. Every other status
#: (CREATE_FAILED, UNAVAILABLE, DELETING, DELETED, PENDING, a vanished environment, or one added
#: later) fails the failover at once, with a notification.
TRANSITIONAL_STATUSES = ("CREATING", "UPDATING", "CREATING_SNAPSHOT", "ROLLING_BACK", "MAINTENANCE")
#: Longest a failover or failback execution may run; a timed-out execution raises an alarm.
EXECUTION_TIMEOUT = Duration.hours(3)


class _FailoverWorkflow(_Fragment):
    """Check the primary's health; on a disaster, disable the health check and recover the DR environment:
    restore the newest backup into the passive environment (active_passive), or create the environment from
    the backup's stored configuration, wait until it is ready, and restore that backup (backup_restore)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        strategy: MwaaDrStrategy,
        functions: _DrFunctions,
        notifications: _Notifications,
    ) -> None:
        super().__init__(scope, id)
        failed_end = sfn.Fail(
            self, "FailoverFailed", error="FailoverFailed", cause="See the notification and the execution history"
        )
        failed = notifications.notified(self, "failover_failed", failed_end)
        succeeded = notifications.notified(self, "failover_succeeded", sfn.Succeed(self, "FailoverSucceeded"))
        backup_restore = strategy is MwaaDrStrategy.BACKUP_RESTORE
        # backup_restore picks the backup once, so the environment is created from the backup it is
        # restored from (a later backup may arrive while the environment is created)
        #: The restore of the chosen backup into the DR environment.
        self.restore = _RestoreLoop(
            self,
            "Restore",
            label="Failover",
            metadata=functions.metadata,
            prefix=BACKUP_PREFIX,
            target="dr",
            after=succeeded,
            folder="$.backup.folder" if backup_restore else None,
        )
        #: The first step of a failover: the health check stops starting executions.
        self.disable = _invoke(
            self, "DisableHealthCheck", functions.failover, {"action": "disable_schedule"}, "$.schedule"
        )
        steps = [self.disable]
        recover: sfn.IChainable = self.restore
        if backup_restore:
            recover, creation = self._environment_creation(functions, failed)
            steps += creation
        _retry_then_fail([*steps, self.restore.restore], failed)
        # A failed "started" notification must never block the failover: it goes on to disable the
        # schedule, and the error travels on in $.notification_error.
        start = notifications.notified(self, "failover_started", self.disable).next(recover)
        #: The health check that every execution starts with.
        self.check = _invoke(
            self,
            "CheckPrimaryHealth",
            functions.health,
            {"execution": sfn.JsonPath.string_at("$$.Execution.Id"), "input": sfn.JsonPath.object_at("$")},
            "$.health",
        )
        decide = (
            sfn.Choice(self, "IsDisaster")
            .when(sfn.Condition.boolean_equals("$.health.disaster", True), start)
            .otherwise(sfn.Succeed(self, "NoFailover"))
        )
        self._close(self.check.next(decide))

    def _environment_creation(
        self, functions: _DrFunctions, failed: sfn.IChainable
    ) -> tuple[sfn.IChainable, list[tasks.LambdaInvoke]]:
        """backup_restore: choose the backup, create the environment from its stored configuration, wait until
        the environment is ready, then restore. Returns the first state and the steps that may fail."""
        choose = _invoke(
            self, "ChooseBackup", functions.metadata, {"action": "resolve", "prefix": BACKUP_PREFIX}, "$.backup"
        )
        create = _invoke(
            self,
            "CreateEnvironment",
            functions.failover,
            {"action": "create_environment", "folder": sfn.JsonPath.string_at("$.backup.folder")},
            "$.environment",
        )
        wait = sfn.Wait(self, "WaitForEnvironment", time=sfn.WaitTime.duration(Duration.minutes(1)))
        status = _invoke(
            self, "GetEnvironmentStatus", functions.failover, {"action": "environment_status"}, "$.environment"
        )

        def any_status(statuses: Sequence[str]) -> sfn.Condition:
            return sfn.Condition.or_(*[sfn.Condition.string_equals("$.environment.status", s) for s in statuses])

        # Wait only through the statuses MWAA leaves by itself; anything else (CREATE_FAILED,
        # UNAVAILABLE, DELETING, DELETED, PENDING, NOT_FOUND, a status added later) fails now
        # instead of looping until the execution times out.
        ready = (
            sfn.Choice(self, "EnvironmentReady")
            .when(any_status(READY_STATUSES), self.restore)
            .when(any_status(TRANSITIONAL_STATUSES), wait)
            .otherwise(failed)
        )
        wait.next(status).next(ready)
        return choose.next(create).next(wait), [choose, create, status]


class _FailbackWorkflow(_Fragment):
    """Back up DR, pause every DAG in DR, restore that backup into the primary, re-arm the
    health check. DR is paused before the restore unpauses anything in the primary, so the two
    never schedule the same DAGs at once (the backup, taken first, still holds which DAGs were
    active). A failure after the pause leaves both sides paused, which the notification says."""

    def __init__(self, scope: Construct, id: str, *, functions: _DrFunctions, notifications: _Notifications) -> None:
        super().__init__(scope, id)
        failed_end = sfn.Fail(
            self, "FailbackFailed", error="FailbackFailed", cause="See the notification and the execution history"
        )
        failed = notifications.notified(self, "failback_failed", failed_end)
        #: The last step: the health check starts executions again.
        self.rearm = _invoke(self, "RearmHealthCheck", functions.failover, {"action": "rearm"}, "$.schedule")
        done = notifications.notified(self, "failback_succeeded", sfn.Succeed(self, "FailbackSucceeded"))
        self.rearm.next(done)
        #: The backup of the DR environment that the primary is restored from.
        self.backup = _invoke(
            self,
            "BackupDrEnvironment",
            functions.metadata,
            {"action": "backup", "source": "dr", "prefix": FAILBACK_PREFIX},
            "$.backup",
        )
        #: The restore of that backup into the primary.
        self.restore = _RestoreLoop(
            self,
            "Restore",
            label="Failback",
            metadata=functions.metadata,
            prefix=FAILBACK_PREFIX,
            target="primary",
            after=self.rearm,
        )
        #: The pause of every DAG in the DR environment.
        self.pause = _PauseLoop(
            self,
            "Pause",
            label="FailbackPause",
            metadata=functions.metadata,
            target="dr",
            after=self.restore,
            failed=failed,
        )
        _retry_then_fail([self.backup, self.pause.pause, self.restore.restore, self.rearm], failed)
        self._close(notifications.notified(self, "failback_started", self.backup).next(self.pause))


def _dr_state_machine(
    scope: Construct, id: str, workflow: sfn.IChainable, *, functions: _DrFunctions, topic: sns.ITopic
) -> sfn.StateMachine:
    """The state machine ``id`` in ``scope`` that runs ``workflow``: logged (log group ``<id>Logs``) and traced,
    limited to EXECUTION_TIMEOUT, allowed to publish to ``topic``."""
    machine, _ = logged_state_machine(
        scope,
        id,
        definition=workflow,
        timeout=EXECUTION_TIMEOUT,
        invoked_functions=[fn.function for fn in (functions.health, functions.metadata, functions.failover)],
    )
    # SNS encrypts each message with the topic's key on the publisher's behalf, so a publisher to
    # an SSE topic needs kms:GenerateDataKey and kms:Decrypt on it (common.PUBLISH_KEY_ACTIONS).
    # That holds for a caller's topic too, when it was passed with its key
    # (sns.Topic.from_topic_attributes(key_arn=...)); its key policy must delegate to IAM or
    # allow these roles.
    topic_key = topic.master_key
    if topic_key is not None:
        _grant_key_via(machine, topic_key, _KEY_PUBLISH, ["sns"], region=topic.env.region)
    return machine
