"""The :class:`VerticalScaling` construct: the lock table, the notification topic, one function per concern, the
state machine that runs them and the triggers that start it, built in that order from the checked options."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import (
    PythonHandler,
    SecureQueue,
    acknowledge,
    execution_alarms,
    logged_state_machine,
    notify,
    secure_topic,
)
from blueprints.constructs.vertical_scaling.functions import create_functions
from blueprints.constructs.vertical_scaling.grants import grant_functions, grant_state_machine
from blueprints.constructs.vertical_scaling.names import METRIC_SERVICE, OUTCOMES
from blueprints.constructs.vertical_scaling.options import (
    AlarmTrigger,
    ReplacedInstanceAction,
    ResizeMode,
    ResizeOptions,
    ScheduleTrigger,
    checked_options,
    polls,
)
from blueprints.constructs.vertical_scaling.triggers import add_alarm_rules, add_schedules
from blueprints.constructs.vertical_scaling.workflows import ReplaceResize, RestartResize, run_definition


class VerticalScaling(Construct):
    """Resizes EC2 instances that carry a tag, one ladder step at a time.

    Builds the lock table, the Step Functions state machine and its Lambda
    functions, the EventBridge Scheduler schedules and alarm rules that start
    it, and the SNS topic for failures. IAM to stop, start, modify, replace or
    retire instances is conditioned on the target tag.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        instance_sizes: Sequence[str | Sequence[str]],
        target_tag_value: str,
        target_tag_key: str = "VerticalScaling",
        mode: ResizeMode | str = ResizeMode.RESTART,
        schedules: Sequence[ScheduleTrigger] = (),
        alarms: Sequence[AlarmTrigger] = (),
        replaced_instance_action: ReplacedInstanceAction | str | None = None,
        target_groups: Sequence[elbv2.ITargetGroup] | None = None,
        instance_roles: Sequence[iam.IRole] = (),
        volume_encryption_keys: Sequence[kms.IKey] = (),
        image_reboot: bool = False,
        cooldown: Duration = Duration.minutes(30),
        wait_timeout: Duration = Duration.minutes(15),
        health_check_timeout: Duration = Duration.minutes(10),
        lock_timeout: Duration | None = None,
        execution_timeout: Duration | None = None,
        max_concurrency: int = 5,
        dry_run: bool = False,
        notification_topic: sns.ITopic | None = None,
        event_bus: events.IEventBus | None = None,
        encryption_key: kms.IKey | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        """Build the resize state machine, its functions, triggers and notification topic.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            instance_sizes: The ladder, smallest first, at least two sizes; each a type or a sequence of interchangeable
                types. Types appear once. Checked at synthesis: each must be an EC2 type name (``family.size``, the size
                ``nano``, ``micro``, ``small``, ``medium``, ``large``, ``xlarge``, ``<n>xlarge``, ``metal`` or
                ``metal-<n>xl``, so ``m7i.larg`` is refused), a family appears once per size, and within a family each
                size is larger than the one before (``large`` < ``xlarge`` < ``2xlarge``..., ``metal-<n>xl`` as
                ``<n>xlarge``, plain ``metal`` unordered), so a largest-first ladder is refused. Types of different
                families are not compared (botocore ships no instance-type data).
                Required.
            target_tag_value: Instances with the tag ``target_tag_key`` = this value are resized; IAM for every change
                is conditioned on it. 1-256 characters.
                Required.
            target_tag_key: The key of the target tag. 1-128 characters, not starting with ``aws:``.
                Default: ``VerticalScaling``.
            mode: ``ResizeMode.RESTART`` or ``ResizeMode.REPLACE``, or its value string (``restart``, ``replace``).
                Default: ``ResizeMode.RESTART``.
            schedules: ``ScheduleTrigger(direction, scheduler.ScheduleExpression, description=None)``.
                Default: ``()``.
            alarms: ``AlarmTrigger(direction, alarm)``: the rule fires when the alarm enters ``ALARM``.
                Default: ``()``.
            replaced_instance_action: What happens to the old instance once the new one serves:
                ``ReplacedInstanceAction.STOP`` or ``TERMINATE``, or its value string (``stop``, ``terminate``).
                Default: ``STOP`` (replace only).
            target_groups: Limit the Register/Deregister grant to these groups. Every group is still searched: an
                instance also registered in another group is refused (see above).
                Default: all (replace only).
            instance_roles: Roles the new instance may be launched with (``iam:PassRole`` to EC2 only).
                Default: ``()`` (replace only).
            volume_encryption_keys: Customer managed KMS keys of the instances' EBS volumes: starting or launching with
                them needs ``kms:CreateGrant`` (for AWS resources only) and decrypt/re-encrypt through EC2.
                Default: ``()``.
            image_reboot: ``True`` reboots the instance for a file-system consistent image (a short outage).
                Default: ``False`` (replace only).
            cooldown: After any change (success, revert or failure), no new resize of that instance starts for this
                long; after a replacement, nor of the new instance.
                Default: 30 minutes.
            wait_timeout: Longest wait for a stop, start, image, launch or drain.
                Default: 15 minutes.
            health_check_timeout: Longest wait for the new instance to be healthy in all its target groups.
                Default: 10 minutes.
            lock_timeout: Lifetime of one instance's lock, the bound of one resize; at least the longest path's waits
                plus a 10-minute margin for the invocations and their retries (timeouts rounded up to 15-second polls).
                Restart: ``(4 + types in the longest size) x wait_timeout + 450 s + 10 min`` (``AwaitStopped``,
                ``AwaitRunning`` once per candidate type, ``Revert``'s two waits and its ``StartFailed`` retries of
                30+60+120+240 s, ``AwaitReverted``); 6,450 s for the defaults and two types a size. Replace: ``3 x
                wait_timeout + health_check_timeout + min(wait_timeout, 5 min) + 10 min`` (``AwaitImage``,
                ``AwaitRunning``, ``AwaitHealthy``, ``AwaitDrained``, then ``DiscardImage`` or ``Cleanup``). A shorter
                value is refused: once a lock expires, another run may take the instance mid-resize.
                Default: 2 hours, or the minimum if longer.
            execution_timeout: Timeout of a whole run (the state machine execution); between ``lock_timeout`` and one
                year. Size it at least ``ceil(tagged instances / max_concurrency) x lock_timeout``.
                Default: 24 hours (or ``lock_timeout`` if longer).
            max_concurrency: Instances resized at once in one run (1-40).
                Default: 5.
            dry_run: Default of every trigger: plan and report, change nothing. An execution input may set ``dry_run``.
                Default: ``False``.
            notification_topic: Failures are published here, and the alarms on failed, timed-out and aborted runs
                notify it. A topic of yours must let CloudWatch alarms publish; if it is KMS-encrypted, let
                CloudWatch, the report function's role and the state machine's role use its key.
                Default: a new KMS-encrypted topic.
            event_bus: Where resize events go.
                Default: the default bus.
            encryption_key: Encrypts the topic the construct creates; refused together with ``notification_topic``.
                Default: a new key with rotation.
            log_retention: Of the functions and the state machine.
                Default: ``logs.RetentionDays.THREE_MONTHS``.

        Attributes:
            mode (ResizeMode)
            instance_sizes (list[list[str]])
            target_tag_key (str)
            target_tag_value (str)
            lock_table (dynamodb.ITable)
            encryption_key (kms.IKey | None)
            notification_topic (sns.ITopic)
            event_bus (events.IEventBus)
            targets_handler (PythonHandler)
            lock_handler (PythonHandler)
            plan_handler (PythonHandler)
            report_handler (PythonHandler)
            step_handler (PythonHandler)
            handlers (list[lambda_.IFunction])
            state_machine_logs (logs.ILogGroup)
            execution_alarms (dict[str, cloudwatch.Alarm])
            state_machine (sfn.IStateMachine)
            trigger_dead_letters (sqs.IQueue)
            schedules (list[scheduler.ISchedule])
            alarm_rules (list[events.IRule])
        """
        options = checked_options(
            instance_sizes=instance_sizes,
            target_tag_key=target_tag_key,
            target_tag_value=target_tag_value,
            mode=mode,
            triggers=[*schedules, *alarms],
            replaced_instance_action=replaced_instance_action,
            target_groups=target_groups,
            instance_roles=instance_roles,
            image_reboot=image_reboot,
            notification_topic=notification_topic,
            encryption_key=encryption_key,
            wait_timeout=wait_timeout,
            health_check_timeout=health_check_timeout,
            lock_timeout=lock_timeout,
            execution_timeout=execution_timeout,
            max_concurrency=max_concurrency,
        )
        super().__init__(scope, id)
        self.mode = options.mode
        self.instance_sizes = options.rungs
        self.target_tag_key = target_tag_key
        self.target_tag_value = target_tag_value
        self._create_lock_table()
        self._create_notifications(notification_topic, encryption_key, event_bus)
        self._create_functions(options, cooldown, dry_run, image_reboot, target_groups, log_retention)
        grant_functions(
            self,
            target_groups=target_groups,
            instance_roles=instance_roles,
            volume_encryption_keys=volume_encryption_keys,
        )
        self._create_state_machine(wait_timeout, health_check_timeout, options, max_concurrency, log_retention)
        self._create_triggers(schedules, alarms)

    # What the construct builds, in order -------------------------------------------------------

    def _create_lock_table(self) -> None:
        # No customer managed key and DESTROY on purpose: an item holds an instance id, the owning execution's
        # ARN and three timestamps, and expires (TTL) soon after its lock or cooldown; nothing to keep.
        self.lock_table: dynamodb.ITable = dynamodb.TableV2(
            self,
            "Locks",
            partition_key=dynamodb.Attribute(name="instance_id", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _create_notifications(
        self, topic: sns.ITopic | None, encryption_key: kms.IKey | None, event_bus: events.IEventBus | None
    ) -> None:
        """The user's topic, or a new one encrypted with ``encryption_key`` (or a new key); the resize events' bus."""
        self._own_topic = topic is None
        self.encryption_key: kms.IKey | None = encryption_key
        if topic is None:
            # DESTROY: the key encrypts notifications only while SNS delivers them; no data at rest outlives it.
            self.encryption_key = encryption_key or kms.Key(
                self,
                "Key",
                enable_key_rotation=True,
                description=f"Encrypts the failure notifications of {self.node.path}"[:8192],
                removal_policy=RemovalPolicy.DESTROY,
            )
            topic = secure_topic(
                self, "Notifications", key=self.encryption_key, display_name="Vertical scaling", alarms_publish=True
            )
        self.notification_topic: sns.ITopic = topic
        self.event_bus: events.IEventBus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )

    def _create_functions(
        self,
        options: ResizeOptions,
        cooldown: Duration,
        dry_run: bool,
        image_reboot: bool,
        target_groups: Sequence[elbv2.ITargetGroup] | None,
        log_retention: logs.RetentionDays,
    ) -> None:
        self._functions = create_functions(
            self,
            options=options,
            target_tag_key=self.target_tag_key,
            target_tag_value=self.target_tag_value,
            cooldown=cooldown,
            dry_run=dry_run,
            image_reboot=image_reboot,
            target_groups=target_groups,
            lock_table=self.lock_table,
            event_bus=self.event_bus,
            notification_topic=self.notification_topic,
            log_retention=log_retention,
        )
        self.targets_handler: PythonHandler = self._functions.targets
        self.lock_handler: PythonHandler = self._functions.lock
        self.plan_handler: PythonHandler = self._functions.plan
        self.report_handler: PythonHandler = self._functions.report
        self.step_handler: PythonHandler = self._functions.step
        self.handlers: list[lambda_.IFunction] = self._functions.as_list()

    def _create_state_machine(
        self,
        wait_timeout: Duration,
        health_check_timeout: Duration,
        options: ResizeOptions,
        max_concurrency: int,
        retention: logs.RetentionDays,
    ) -> None:
        """The run's state machine, logged in full and traced, each instance resized by the mode's fragment."""
        functions, topic, waits = self._functions, self.notification_topic, polls(wait_timeout)
        resize: sfn.StateMachineFragment
        if self.mode is ResizeMode.RESTART:
            resize = RestartResize(self, "RestartResize", functions=functions, notification_topic=topic, waits=waits)
        else:
            resize = ReplaceResize(
                self,
                "ReplaceResize",
                functions=functions,
                notification_topic=topic,
                waits=waits,
                health_waits=polls(health_check_timeout),
            )
        definition = run_definition(self, functions=functions, resize=resize, max_concurrency=max_concurrency)
        targets = f"{self.target_tag_key}={self.target_tag_value}"
        machine, self.state_machine_logs = logged_state_machine(
            self,
            "StateMachine",
            definition=definition,
            timeout=options.execution_timeout,
            invoked_functions=self.handlers,
            retention=retention,
            comment=f"Resizes {targets} instances by {self.mode.value}",
        )
        grant_state_machine(machine, self.encryption_key if self._own_topic else None)
        self.state_machine: sfn.IStateMachine = machine
        # A failed run also reports itself (ReportRunFailure); a timed-out or aborted one cannot.
        self.execution_alarms: dict[str, cloudwatch.Alarm] = execution_alarms(
            self, machine, id_prefix="", subject=f"A resize run of {targets}", timeout=options.execution_timeout
        )
        notify(self.notification_topic, *self.execution_alarms.values())

    def _create_triggers(self, schedules: Sequence[ScheduleTrigger], alarms: Sequence[AlarmTrigger]) -> None:
        """The schedules and alarm rules that start runs, with the dead-letter queue they share."""
        self.trigger_dead_letters: sqs.IQueue = SecureQueue.dead_letter(self, "TriggerDeadLetters")
        acknowledge(
            self.trigger_dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the schedules and alarm rules (their target's "
            "DeadLetterConfig), so it has no dead-letter queue of its own.",
        )
        targets = f"{self.target_tag_key}={self.target_tag_value}"
        self.schedules: list[scheduler.ISchedule] = add_schedules(
            self, schedules, state_machine=self.state_machine, dead_letters=self.trigger_dead_letters, targets=targets
        )
        self.alarm_rules: list[events.IRule] = add_alarm_rules(
            self, alarms, state_machine=self.state_machine, dead_letters=self.trigger_dead_letters, targets=targets
        )

    # What users grant and watch ------------------------------------------------------------------

    def grant_start_resize(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` start a run (``states:StartExecution`` on this state machine only), as a trigger does.

        The run's input is ``{"direction": "up" | "down", "dry_run": bool}``.
        """
        return self.state_machine.grant_start_execution(grantee)

    def _outcome_metric(self, name: str, outcome: str, statistic: str, period: Duration | None) -> cloudwatch.Metric:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}")
        dimensions = {"service": METRIC_SERVICE, "Outcome": outcome, "Mode": self.mode.value}
        return handler_metric(name, dimensions, statistic=statistic, period=period)

    def metric_resizes(
        self, outcome: str, *, statistic: str = "Sum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Resizes reported with ``outcome`` (one of ``OUTCOMES``) in this construct's mode: ``Resizes``
        (count) in the ``Blueprints`` namespace, dimensions ``service``, ``Outcome``, ``Mode``; 5-minute sums.

        Constructs of the same mode in one account and Region publish to the same series.
        """
        return self._outcome_metric("Resizes", outcome, statistic, period)

    def metric_resize_duration(
        self, outcome: str = "resized", *, statistic: str = "Maximum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """Seconds from the lock to the report of each resize with ``outcome``: ``ResizeDuration``, same
        namespace and dimensions as :meth:`metric_resizes`; 5-minute maximum."""
        return self._outcome_metric("ResizeDuration", outcome, statistic, period)
