"""Vertical scaling of EC2 instances: move tagged instances one size up or down
a ladder, on a schedule or when an alarm fires, by restarting them with the
new type or by replacing them with a resized copy behind their load balancer.

Each resize runs in Step Functions, one small Lambda function per concern and
one invocation per step, so no step is bounded by a Lambda time limit. A
DynamoDB item per instance holds a lock that expires and a cooldown. Every
resize is reported to EventBridge and CloudWatch; failures notify SNS.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import PythonHandler, SecureQueue, acknowledge, nag_text, state_machine_log_group

#: EC2 instance type names (EC2 User Guide, "Amazon EC2 instance type naming conventions"): a family (series
#: letters, generation digit, option letters, and an optional ``-suffix`` such as ``-flex`` or ``u-6tb1``), a dot,
#: and a size.
_TYPE_RE = re.compile(r"^[a-z]+(?:[0-9][a-z0-9]*(?:-[a-z0-9]+)?|-[0-9][a-z0-9]*)\.(?P<size>[a-z0-9-]+)$")
#: Relative capacity of each size within one family (vCPUs, and memory with them, double from each size to the
#: next from ``large`` up; ``<n>xlarge`` is n times ``xlarge``; ``metal-<n>xl`` as ``<n>xlarge``). Plain
#: ``metal`` differs by family, so it is not ordered.
_SIZES = {"nano": 0.125, "micro": 0.25, "small": 0.5, "medium": 1, "large": 2, "xlarge": 4}
_SIZE_RE = re.compile(r"^(?:(?P<n>[1-9][0-9]*)xlarge|metal(?:-(?P<metal>[1-9][0-9]*)xl)?)$")
_POLL = Duration.seconds(15)
#: Most polls for the image's snapshots, which EC2 may call in use for a short while after deregistering it.
_DISCARD_POLLS = 20
#: What each instance's iteration leaves in the run's output (``$.results``). The full report goes to
#: EventBridge; a run's output is capped at 256 KiB, so it keeps these small fields only.
_RESULT_FIELDS = ("instance_id", "new_instance_id", "outcome", "old_size", "new_size")
#: Waits of the restart path's ``Revert`` retrying ``StartFailed``: 30 + 60 + 120 + 240 seconds.
_START_FAILED_RETRIES = (30, 2, 4)
#: Added to the sum of a resize's waits for its Lambda invocations and their service-error retries.
_LOCK_MARGIN = Duration.minutes(10)
#: Default lifetime of a lock, raised to the longest resize (plus ``_LOCK_MARGIN``) when that is longer.
_LOCK_TIMEOUT = Duration.hours(2)
#: How Step Functions reports a Lambda function that ran out of time (``Sandbox.Timedout`` on current runtimes,
#: ``Lambda.Unknown`` on some); ``States.Timeout`` is the task's own timeout.
_FUNCTION_TIMEOUT_ERRORS = ("Sandbox.Timedout", "Lambda.Unknown")
#: Default bound of a whole run: many batches of ``max_concurrency`` resizes, each up to ``lock_timeout``.
_EXECUTION_TIMEOUT = Duration.hours(24)
#: The longest a Standard workflow execution may run.
_MAX_EXECUTION = Duration.days(365)
#: Tag that marks images, snapshots and instances this construct created.
MARK_TAG_KEY = "blueprints:vertical-scaling"
EVENT_SOURCE = "blueprints.vertical-scaling"
EVENT_DETAIL_TYPE = "EC2 Instance Resize"
_SYNC_CALLER = "the VerticalScaling state machine"
#: Powertools' ``service`` dimension of the handlers' metrics.
METRIC_SERVICE = "vertical_scaling"
#: The ``Outcome`` dimension's values (the report handler's ``OUTCOMES``).
OUTCOMES = ("resized", "noop", "skipped", "refused", "dry-run", "reverted", "failed")


class ResizeMode(Enum):
    """How an instance gets its new size."""

    #: Stop, change the type, start again (same instance, same volumes and addresses).
    RESTART = "restart"
    #: Launch a resized copy from an image, swap it in behind the target groups, retire the old one.
    REPLACE = "replace"


class Direction(Enum):
    """Which way along the size ladder a trigger moves an instance."""

    UP = "up"
    DOWN = "down"


class ReplacedInstanceAction(Enum):
    """What replace mode does with the old instance once the new one serves."""

    STOP = "stop"
    TERMINATE = "terminate"


@dataclass(frozen=True)
class ScheduleTrigger:
    """Move the instances ``direction`` whenever ``schedule`` fires.

    Use ``scheduler.ScheduleExpression.cron(..., time_zone=TimeZone.EUROPE_PARIS)``
    for local business hours.
    """

    direction: Direction
    schedule: scheduler.ScheduleExpression
    description: str | None = None


@dataclass(frozen=True)
class AlarmTrigger:
    """Move the instances ``direction`` whenever ``alarm`` enters the ALARM state."""

    direction: Direction
    alarm: cloudwatch.IAlarm


def _size_scale(instance_type: str) -> float | None:
    """The size's capacity relative to its family's ``medium`` (None: not a known size name, or plain ``metal``)."""
    size = instance_type.split(".", 1)[1]
    if size in _SIZES:
        return _SIZES[size]
    match = _SIZE_RE.match(size)
    if match is None:
        return None
    multiple = match.group("n") or match.group("metal")
    return 4 * int(multiple) if multiple else None


def _is_instance_type(instance_type: object) -> bool:
    if not isinstance(instance_type, str) or not _TYPE_RE.match(instance_type):
        return False
    return _size_scale(instance_type) is not None or instance_type.endswith(".metal")


def _check_order(rungs: list[list[str]]) -> None:
    """Sizes of one family must grow from each rung to the next; one rung holds one size of a family."""
    for index, rung in enumerate(rungs):
        families = [t.split(".", 1)[0] for t in rung]
        for family in set(families):
            if families.count(family) > 1:
                same = [t for t in rung if t.startswith(f"{family}.")]
                raise ValueError(
                    f"the types of one size in instance_sizes are interchangeable candidates, so one family may "
                    f"appear once per size; got {same} in size {index + 1}"
                )
        if index == 0:
            continue
        for smaller in rungs[index - 1]:
            for larger in rung:
                if smaller.split(".", 1)[0] != larger.split(".", 1)[0]:
                    continue
                low, high = _size_scale(smaller), _size_scale(larger)
                if low is not None and high is not None and low >= high:
                    raise ValueError(
                        f"instance_sizes must go from the smallest size to the largest; size {index + 1} "
                        f"({larger}) is not larger than size {index} ({smaller}) of the same family"
                    )


def _validate_ladder(instance_sizes: Sequence[str | Sequence[str]]) -> list[list[str]]:
    if isinstance(instance_sizes, str) or len(instance_sizes) < 2:
        raise ValueError(
            "instance_sizes must list at least two sizes, smallest first (a size may be a list of "
            f"interchangeable types, preferred first); got {instance_sizes!r}"
        )
    rungs: list[list[str]] = []
    seen: set[str] = set()
    for entry in instance_sizes:
        rung = [entry] if isinstance(entry, str) else list(entry)
        if not rung:
            raise ValueError(f"each size in instance_sizes needs at least one instance type; got {instance_sizes!r}")
        for instance_type in rung:
            if not _is_instance_type(instance_type):
                raise ValueError(
                    "instance_sizes entries must be EC2 instance types such as 'm7i.large' (family.size, size one "
                    "of nano, micro, small, medium, large, xlarge, <n>xlarge, metal, metal-<n>xl); "
                    f"got {instance_type!r}"
                )
            if instance_type in seen:
                raise ValueError(f"instance type {instance_type} appears twice in instance_sizes; each may appear once")
            seen.add(instance_type)
        rungs.append(rung)
    _check_order(rungs)
    return rungs


def _polls(timeout: Duration) -> int:
    """How many ``NotReady`` retries, one every ``_POLL``, a wait of ``timeout`` makes."""
    return math.ceil(timeout.to_seconds() / _POLL.to_seconds())


def minimum_lock_seconds(
    mode: ResizeMode, rungs: Sequence[Sequence[str]], wait_timeout: Duration, health_check_timeout: Duration
) -> tuple[int, str]:
    """The shortest ``lock_timeout`` that outlasts one resize, and how it is computed.

    The sum of the longest path's waits in the state machine (each wait its polls x 15 seconds, so a timeout
    rounded up to whole polls) plus ``_LOCK_MARGIN`` for the invocations themselves and their retries.

    Restart: ``AwaitStopped``, then ``AwaitRunning`` once per candidate type of the target size (a type that
    fails to start falls back to the next one), then ``Revert`` (two waits and its ``StartFailed`` retries) and
    ``AwaitReverted``: ``(4 + longest size) x wait_timeout + 450 s``.
    Replace: ``AwaitImage``, ``AwaitRunning``, ``AwaitHealthy``, ``AwaitDrained``, then ``DiscardImage`` or
    ``Cleanup`` (each at most ``min(wait_timeout, 5 minutes)``): ``3 x wait_timeout + health_check_timeout +
    min(wait_timeout, 300 s)``.
    """
    poll = int(_POLL.to_seconds())
    wait = _polls(wait_timeout) * poll
    margin = int(_LOCK_MARGIN.to_seconds())
    if mode is ResizeMode.RESTART:
        longest = max(len(rung) for rung in rungs)
        first, factor, attempts = _START_FAILED_RETRIES
        start_failed = sum(first * factor**n for n in range(attempts))
        types = f"{longest} type{'s' if longest > 1 else ''} of the longest size"
        formula = f"(4 + {types}) x wait_timeout + {start_failed} s + {margin} s margin"
        return (4 + longest) * wait + start_failed + margin, formula
    health = _polls(health_check_timeout) * poll
    discard = min(_polls(wait_timeout), _DISCARD_POLLS) * poll
    formula = f"3 x wait_timeout + health_check_timeout + {discard} s discard + {margin} s margin"
    return 3 * wait + health + discard + margin, formula


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
            notification_topic: Failures are published here. If your topic is KMS-encrypted, let the report function's
                role and the state machine's role use its key.
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
            state_machine (sfn.IStateMachine)
            trigger_dead_letters (sqs.IQueue)
            schedules (list[scheduler.ISchedule])
            alarm_rules (list[events.IRule])
        """
        mode = ResizeMode(mode)
        if replaced_instance_action is not None:
            replaced_instance_action = ReplacedInstanceAction(replaced_instance_action)
        rungs = _validate_ladder(instance_sizes)
        if not target_tag_key or len(target_tag_key) > 128 or target_tag_key.lower().startswith("aws:"):
            raise ValueError(
                f"target_tag_key must be a tag key of 1-128 characters not starting with 'aws:'; got {target_tag_key!r}"
            )
        if not target_tag_value or len(target_tag_value) > 256:
            raise ValueError(f"target_tag_value must be a tag value of 1-256 characters; got {target_tag_value!r}")
        if mode is ResizeMode.RESTART and (
            replaced_instance_action is not None or target_groups is not None or instance_roles or image_reboot
        ):
            raise ValueError(
                "replaced_instance_action, target_groups, instance_roles and image_reboot apply to "
                "mode=ResizeMode.REPLACE only; got them with mode=ResizeMode.RESTART"
            )
        if notification_topic is not None and encryption_key is not None:
            raise ValueError(
                "encryption_key encrypts the topic the construct creates; got both notification_topic and "
                "encryption_key: pass one or the other"
            )
        if target_groups is not None and not target_groups:
            raise ValueError("target_groups, when given, must list at least one target group; omit it to search all")
        triggers: list[ScheduleTrigger | AlarmTrigger] = [*schedules, *alarms]
        for trigger in triggers:
            if not isinstance(trigger.direction, Direction):
                raise ValueError(f"a trigger's direction must be Direction.UP or Direction.DOWN; got {trigger!r}")
        if wait_timeout.to_seconds() < _POLL.to_seconds() or health_check_timeout.to_seconds() < _POLL.to_seconds():
            raise ValueError(
                f"wait_timeout and health_check_timeout must be at least {_POLL.to_seconds()} seconds (one poll); "
                f"got {wait_timeout.to_seconds()} and {health_check_timeout.to_seconds()}"
            )
        minimum_lock, formula = minimum_lock_seconds(mode, rungs, wait_timeout, health_check_timeout)
        if lock_timeout is None:
            lock_timeout = Duration.seconds(max(_LOCK_TIMEOUT.to_seconds(), minimum_lock))
        if lock_timeout.to_seconds() < minimum_lock:
            raise ValueError(
                f"lock_timeout must outlast the longest {mode.value}-mode resize ({formula} = {minimum_lock} "
                "seconds), or another run could take the lock of an instance still being resized; "
                f"got lock_timeout={lock_timeout.to_seconds()} seconds"
            )
        if execution_timeout is None:
            longer = lock_timeout.to_seconds() > _EXECUTION_TIMEOUT.to_seconds()
            execution_timeout = lock_timeout if longer else _EXECUTION_TIMEOUT
        if not lock_timeout.to_seconds() <= execution_timeout.to_seconds() <= _MAX_EXECUTION.to_seconds():
            raise ValueError(
                "execution_timeout bounds a whole run, in which each instance's resize may take up to lock_timeout: "
                f"it must be between lock_timeout ({lock_timeout.to_seconds()} seconds) and one year "
                f"({_MAX_EXECUTION.to_seconds()} seconds); got {execution_timeout.to_seconds()} seconds"
            )
        if not 1 <= max_concurrency <= 40:
            raise ValueError(f"max_concurrency must be between 1 and 40 instances at a time; got {max_concurrency}")
        super().__init__(scope, id)

        stack = Stack.of(self)
        self.mode = mode
        self.instance_sizes = rungs
        self.target_tag_key = target_tag_key
        self.target_tag_value = target_tag_value
        action = replaced_instance_action or ReplacedInstanceAction.STOP

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
        self._own_topic = notification_topic is None
        self.encryption_key: kms.IKey | None = encryption_key
        if notification_topic is None:
            self.encryption_key = encryption_key or kms.Key(
                self,
                "Key",
                enable_key_rotation=True,
                description=f"Encrypts the failure notifications of {self.node.path}"[:8192],
                removal_policy=RemovalPolicy.DESTROY,
            )
            notification_topic = sns.Topic(
                self, "Notifications", master_key=self.encryption_key, enforce_ssl=True, display_name="Vertical scaling"
            )
        self.notification_topic: sns.ITopic = notification_topic
        self.event_bus: events.IEventBus = event_bus or events.EventBus.from_event_bus_name(
            self, "DefaultBus", "default"
        )

        instance_arn = self._ec2_arn(stack, "instance")
        tagged = {"StringEquals": {f"aws:ResourceTag/{target_tag_key}": target_tag_value}}
        environment = {
            "TARGET_TAG_KEY": target_tag_key,
            "TARGET_TAG_VALUE": target_tag_value,
            "MODE": mode.value,
            "DRY_RUN": "true" if dry_run else "false",
        }

        def handler(name: str, description: str, extra: dict[str, str] | None = None) -> PythonHandler:
            return PythonHandler(
                self,
                name.title().replace("_", "") + "Function",
                name=f"vertical_scaling_{name}",
                description=f"{description} ({self.node.path})"[:256],
                environment={**environment, **(extra or {})},
                timeout=Duration.minutes(1),
                log_retention=log_retention,
                sync_caller=_SYNC_CALLER,
                service_name=METRIC_SERVICE,
            )

        self.targets_handler = handler(
            "targets", "Lists the tagged instances a vertical-scaling run resizes", {"MARK_TAG_KEY": MARK_TAG_KEY}
        )
        self.lock_handler = handler(
            "lock",
            "Takes and releases the per-instance resize lock and cooldown",
            {
                "TABLE_NAME": self.lock_table.table_name,
                "LOCK_SECONDS": str(int(lock_timeout.to_seconds())),
                "COOLDOWN_SECONDS": str(int(cooldown.to_seconds())),
            },
        )
        plan_env = {"LADDER": json.dumps(rungs), "MARK_TAG_KEY": MARK_TAG_KEY}
        if mode is ResizeMode.REPLACE:
            plan_env["OLD_INSTANCE_ACTION"] = action.value
        if target_groups:
            plan_env["TARGET_GROUP_ARNS"] = stack.to_json_string([g.target_group_arn for g in target_groups])
        self.plan_handler = handler("plan", "Plans one resize and checks the new type fits the instance", plan_env)
        self.report_handler = handler(
            "report",
            "Reports each resize to EventBridge, CloudWatch and SNS",
            {"EVENT_BUS_NAME": self.event_bus.event_bus_name, "TOPIC_ARN": self.notification_topic.topic_arn},
        )
        self.step_handler: PythonHandler
        if mode is ResizeMode.RESTART:
            self.step_handler = handler("restart", "Runs one step of a restart-mode resize")
        else:
            self.step_handler = handler(
                "replace",
                "Runs one step of a replace-mode resize",
                {
                    "MARK_TAG_KEY": MARK_TAG_KEY,
                    "OLD_INSTANCE_ACTION": action.value,
                    "IMAGE_REBOOT": "true" if image_reboot else "false",
                },
            )
        self.handlers: list[lambda_.IFunction] = [
            h.function
            for h in (
                self.targets_handler,
                self.lock_handler,
                self.plan_handler,
                self.step_handler,
                self.report_handler,
            )
        ]

        # Reads: EC2 and ELB describe calls support no resource-level permissions.
        describe = ["ec2:DescribeInstances"]
        self.targets_handler.role.add_to_principal_policy(iam.PolicyStatement(actions=describe, resources=["*"]))
        plan_actions = [*describe, "ec2:DescribeInstanceTypes", "ec2:DescribeInstanceTypeOfferings"]
        if mode is ResizeMode.REPLACE:
            # DescribeLoadBalancers: the Classic Load Balancers the instance is in (the same action as ELBv2's).
            plan_actions += [
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeLoadBalancers",
            ]
        if mode is ResizeMode.REPLACE:
            plan_actions.append("ec2:DescribeInstanceCreditSpecifications")
        self.plan_handler.role.add_to_principal_policy(iam.PolicyStatement(actions=plan_actions, resources=["*"]))
        if mode is ResizeMode.REPLACE:
            # Stop and termination protection, shutdown behaviour (Plan) and user data (the launch step), of
            # target instances only: user data may hold secrets.
            for role in (self.plan_handler.role, self.step_handler.role):
                role.add_to_principal_policy(
                    iam.PolicyStatement(
                        actions=["ec2:DescribeInstanceAttribute"], resources=[instance_arn], conditions=tagged
                    )
                )
        self.lock_table.grant(self.lock_handler.role, "dynamodb:UpdateItem")
        self.event_bus.grant_put_events_to(self.report_handler.role)
        self.notification_topic.grant_publish(self.report_handler.role)
        step_role = self.step_handler.role
        step_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"]
                + (
                    ["ec2:DescribeImages", "ec2:DescribeSnapshots", "elasticloadbalancing:DescribeTargetHealth"]
                    if mode is ResizeMode.REPLACE
                    else []
                ),
                resources=["*"],
            )
        )
        if mode is ResizeMode.RESTART:
            step_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ec2:StopInstances", "ec2:StartInstances"], resources=[instance_arn], conditions=tagged
                )
            )
            # The instance type only, and only to a type on the ladder: ModifyInstanceAttribute also sets user
            # data, which with a restart would run as root on the instance. ec2:Attribute/InstanceType is the
            # requested type (Service Authorization Reference, EC2: ec2:Attribute/${AttributeName}); a request
            # setting any other attribute lacks the key, and StringEquals then fails.
            step_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ec2:ModifyInstanceAttribute"],
                    resources=[instance_arn],
                    conditions={
                        "StringEquals": {
                            **tagged["StringEquals"],
                            "ec2:Attribute/InstanceType": sorted({t for rung in rungs for t in rung}),
                        }
                    },
                )
            )
        else:
            self._grant_replace(stack, step_role, instance_arn, tagged, target_groups, instance_roles)
        if volume_encryption_keys:
            step_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:CreateGrant"],
                    resources=[k.key_arn for k in volume_encryption_keys],
                    conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
                )
            )
            step_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:GenerateDataKeyWithoutPlaintext",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                    ],
                    resources=[k.key_arn for k in volume_encryption_keys],
                    conditions={"StringEquals": {"kms:ViaService": f"ec2.{stack.region}.amazonaws.com"}},
                )
            )
        self._acknowledge_iam(stack, mode, bool(target_groups))

        waits = _polls(wait_timeout)
        health_waits = _polls(health_check_timeout)
        resize = self._restart_flow(waits) if mode is ResizeMode.RESTART else self._replace_flow(waits, health_waits)
        self.state_machine: sfn.IStateMachine = self._state_machine(
            resize, execution_timeout, max_concurrency, log_retention
        )

        self.trigger_dead_letters: sqs.IQueue = SecureQueue.dead_letter(self, "TriggerDeadLetters")
        acknowledge(
            self.trigger_dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the schedules and alarm rules (their target's "
            "DeadLetterConfig), so it has no dead-letter queue of its own.",
        )
        self.schedules: list[scheduler.ISchedule] = []
        for index, trigger in enumerate(schedules):
            self.schedules.append(
                scheduler.Schedule(
                    self,
                    f"Schedule{index}{trigger.direction.value.title()}",
                    schedule=trigger.schedule,
                    description=trigger.description
                    or f"Moves {target_tag_key}={target_tag_value} instances {trigger.direction.value} one size",
                    target=scheduler_targets.StepFunctionsStartExecution(
                        self.state_machine,
                        input=scheduler.ScheduleTargetInput.from_object(
                            {
                                "direction": trigger.direction.value,
                                "trigger": f"schedule {trigger.schedule.expression_string}",
                            }
                        ),
                        dead_letter_queue=self.trigger_dead_letters,
                        retry_attempts=3,
                        max_event_age=Duration.hours(1),
                    ),
                )
            )
        self.alarm_rules: list[events.IRule] = []
        for index, alarm_trigger in enumerate(alarms):
            self.alarm_rules.append(
                events.Rule(
                    self,
                    f"Alarm{index}{alarm_trigger.direction.value.title()}",
                    description=f"Moves {target_tag_key}={target_tag_value} instances "
                    f"{alarm_trigger.direction.value} one size when the alarm fires",
                    event_pattern=events.EventPattern(
                        source=["aws.cloudwatch"],
                        detail_type=["CloudWatch Alarm State Change"],
                        resources=[alarm_trigger.alarm.alarm_arn],
                        detail={"state": {"value": ["ALARM"]}},
                    ),
                    targets=[
                        events_targets.SfnStateMachine(
                            self.state_machine,
                            input=events.RuleTargetInput.from_object(
                                {
                                    "direction": alarm_trigger.direction.value,
                                    "trigger": f"alarm {events.EventField.from_path('$.detail.alarmName')}",
                                }
                            ),
                            dead_letter_queue=self.trigger_dead_letters,
                            retry_attempts=3,
                            max_event_age=Duration.hours(1),
                        )
                    ],
                )
            )

    # IAM ---------------------------------------------------------------------------------------

    def _grant_replace(
        self,
        stack: Stack,
        role: iam.IRole,
        instance_arn: str,
        tagged: dict[str, dict[str, str]],
        target_groups: Sequence[elbv2.ITargetGroup] | None,
        instance_roles: Sequence[iam.IRole],
    ) -> None:
        def arn(resource: str, account: bool = True) -> str:
            return self._ec2_arn(stack, resource, account)

        image_arn, snapshot_arn, volume_arn = arn("image", account=False), arn("snapshot", account=False), arn("volume")
        marked = {"StringEquals": {f"ec2:ResourceTag/{MARK_TAG_KEY}": "replace"}}
        marks = {"StringEquals": {f"aws:RequestTag/{MARK_TAG_KEY}": "replace"}}
        statements = [
            # The old instance (imaged, stopped or terminated) and a failed new one carry the target tag.
            iam.PolicyStatement(
                actions=["ec2:CreateImage", "ec2:StopInstances", "ec2:TerminateInstances"],
                resources=[instance_arn],
                conditions=tagged,
            ),
            iam.PolicyStatement(actions=["ec2:CreateImage"], resources=[image_arn, snapshot_arn], conditions=marks),
            iam.PolicyStatement(
                actions=["ec2:RunInstances"],
                resources=[instance_arn, volume_arn],
                conditions={
                    "StringEquals": {
                        f"aws:RequestTag/{self.target_tag_key}": self.target_tag_value,
                        f"aws:RequestTag/{MARK_TAG_KEY}": "replace",
                    }
                },
            ),
            iam.PolicyStatement(actions=["ec2:RunInstances"], resources=[image_arn], conditions=marked),
            iam.PolicyStatement(
                actions=["ec2:RunInstances"],
                resources=[arn("subnet"), arn("security-group"), arn("network-interface"), arn("key-pair")],
            ),
            iam.PolicyStatement(
                actions=["ec2:CreateTags"],
                resources=[instance_arn, volume_arn, image_arn, snapshot_arn],
                conditions={"StringEquals": {"ec2:CreateAction": ["RunInstances", "CreateImage"]}},
            ),
            # The retired old instance is tagged with its replacement, which takes it out of later runs' targets;
            # this one key only, and only on instances that carry the target tag.
            iam.PolicyStatement(
                actions=["ec2:CreateTags"],
                resources=[instance_arn],
                conditions={
                    **tagged,
                    "ForAllValues:StringEquals": {"aws:TagKeys": [f"{MARK_TAG_KEY}:replaced-by"]},
                    "StringLike": {f"aws:RequestTag/{MARK_TAG_KEY}:replaced-by": "i-*"},
                },
            ),
            iam.PolicyStatement(
                actions=["ec2:DeregisterImage", "ec2:DeleteSnapshot"],
                resources=[image_arn, snapshot_arn],
                conditions=marked,
            ),
            iam.PolicyStatement(
                actions=["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                resources=(
                    [g.target_group_arn for g in target_groups] if target_groups else [self._target_group_arn(stack)]
                ),
            ),
        ]
        if instance_roles:
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[r.role_arn for r in instance_roles],
                    conditions={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
                )
            )
        for statement in statements:
            role.add_to_principal_policy(statement)

    def _acknowledge_iam(self, stack: Stack, mode: ResizeMode, target_groups: bool) -> None:
        describe = (
            "EC2 Describe* and Elastic Load Balancing Describe* calls support no resource-level permissions, "
            "so they are granted on '*'; they read metadata only."
        )
        for handler in (self.targets_handler, self.plan_handler, self.step_handler):
            acknowledge(handler.role, "AwsSolutions-IAM5[Resource::*]", describe)
        acknowledge(
            self.report_handler.role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the KMS-encrypted notification topic needs data keys of that one key; the grant "
            "is on the key's ARN only.",
        )

        def arn(resource: str, account: bool = True) -> str:
            return nag_text(stack, self._ec2_arn(stack, resource, account))

        if mode is ResizeMode.RESTART:
            acknowledge(
                self.step_handler.role,
                f"AwsSolutions-IAM5[Resource::{arn('instance')}]",
                "Stop, start and modify are allowed only on instances that carry the target tag "
                "(aws:ResourceTag condition), which is how the construct selects its instances, and modify only "
                "sets the instance type to one on the ladder (ec2:Attribute/InstanceType); their ids are "
                "not known at deploy time.",
            )
            return
        acknowledge(
            self.plan_handler.role,
            f"AwsSolutions-IAM5[Resource::{arn('instance')}]",
            "DescribeInstanceAttribute (stop and termination protection, shutdown behaviour) is allowed only on "
            "instances that carry the target tag (aws:ResourceTag condition); their ids are not known at deploy time.",
        )
        reasons = {
            "instance": "Reading the old instance's user data for the launch, imaging, stopping, terminating and "
            "tagging the old instance as replaced (that one tag key "
            "only) are conditioned on the target tag, and launching on the new instance carrying it; instance "
            "ids are not known at deploy time.",
            "volume": "RunInstances creates the new instance's volumes, whose ids do not exist before the launch; "
            "the launch must tag them with the target and construct tags.",
            "subnet": "The new instance goes into the old one's subnet, known only when the resize runs.",
            "security-group": "The new instance gets the old one's security groups, known only when the resize runs.",
            "network-interface": "RunInstances creates the new instance's network interface; its id does not "
            "exist before the launch.",
            "key-pair": "The new instance gets the old one's key pair, known only when the resize runs.",
        }
        for resource, reason in reasons.items():
            acknowledge(self.step_handler.role, f"AwsSolutions-IAM5[Resource::{arn(resource)}]", reason)
        for resource in ("image", "snapshot"):
            acknowledge(
                self.step_handler.role,
                f"AwsSolutions-IAM5[Resource::{arn(resource, account=False)}]",
                "Images and snapshots are created per resize; using, tagging and deleting them is conditioned on "
                f"the {MARK_TAG_KEY} tag the construct sets when creating them.",
            )
        if not target_groups:
            acknowledge(
                self.step_handler.role,
                f"AwsSolutions-IAM5[Resource::{nag_text(stack, self._target_group_arn(stack))}]",
                "The new instance joins whichever target groups the old one is in, found when the resize runs; "
                "pass target_groups to limit this to known groups.",
            )

    @staticmethod
    def _ec2_arn(stack: Stack, resource: str, account: bool = True) -> str:
        return stack.format_arn(service="ec2", resource=resource, resource_name="*", account=None if account else "")

    @staticmethod
    def _target_group_arn(stack: Stack) -> str:
        return stack.format_arn(service="elasticloadbalancing", resource="targetgroup", resource_name="*/*")

    # Step Functions ------------------------------------------------------------------------------

    def _task(
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
            self,
            name,
            lambda_function=handler.function,
            payload=sfn.TaskInput.from_object(payload),
            payload_response_only=True,
            result_path=result_path,
            result_selector=result_selector,
            task_timeout=sfn.Timeout.duration(Duration.minutes(2)),
        )
        if polls:
            task.add_retry(errors=["NotReady"], interval=_POLL, backoff_rate=1, max_attempts=polls)
        self._retry_service_errors(task)
        if retry_function_timeout:
            # Only for idempotent steps: a retry after the function was cut off mid-call repeats the call.
            task.add_retry(
                errors=list(_FUNCTION_TIMEOUT_ERRORS), interval=Duration.seconds(5), backoff_rate=2, max_attempts=2
            )
        return task

    @staticmethod
    def _retry_service_errors(task: tasks.LambdaInvoke) -> None:
        """Retry throttling, the AWS errors a handler lets through, and a task timed out by Step Functions."""
        task.add_retry(
            errors=["ClientError", "Lambda.TooManyRequestsException", "States.Timeout"],
            interval=Duration.seconds(5),
            backoff_rate=2,
            max_attempts=3,
        )

    def _lock_and_plan(
        self, resize: sfn.IChainable, release: tasks.LambdaInvoke, find_registrations: bool = False
    ) -> sfn.Chain:
        """Acquire the lock, plan, and run ``resize`` unless there is nothing to do; always release and report.

        With ``find_registrations``, Plan is followed by ``FindRegistrations``, invoked again while it reports
        ``scanning`` (it stops inside the function's time and continues where it stopped), which refuses the
        resize when the instance is registered where a replacement would not be: before anything is imaged.
        """
        report = self._report("Report")
        acquire = self._task("AcquireLock", self.lock_handler, "acquire")
        acquire.add_catch(report, errors=["States.ALL"], result_path="$.error")
        plan = self._task("Plan", self.plan_handler)
        plan.add_catch(release, errors=["States.ALL"], result_path="$.error")
        dry_run = sfn.Pass(self, "DryRun", result=sfn.Result.from_string("dry-run"), result_path="$.outcome")
        dry_run.next(release)
        decide = (
            sfn.Choice(self, "ResizeNeeded")
            .when(sfn.Condition.not_(sfn.Condition.string_equals("$.action", "resize")), release)
            .when(sfn.Condition.boolean_equals("$.dry_run", True), dry_run)
            .otherwise(resize)
        )
        release.add_catch(report, errors=["States.ALL"], result_path="$.release_error")
        release.next(report)
        if not find_registrations:
            return acquire.next(plan).next(decide)
        # Reads only, so a function timeout is retried; the search resumes from the state it was given.
        scan = self._task("FindRegistrations", self.plan_handler, "registrations", retry_function_timeout=True)
        scan.add_catch(release, errors=["States.ALL"], result_path="$.error")
        scanning = (
            sfn.Choice(self, "Scanning").when(sfn.Condition.boolean_equals("$.scanning", True), scan).otherwise(decide)
        )
        scan.next(scanning)
        return acquire.next(plan).next(scanning)

    def _report(self, name: str) -> sfn.IChainable:
        """Report the resize; the iteration ends with a few small fields whichever way the report goes.

        The report's detail (errors up to 2,000 characters each) goes to EventBridge and SNS; kept whole in
        the map's results it would fill the run's 256 KiB output within a few hundred instances, and the run
        would fail with ``States.DataLimitExceeded`` after every resize was done.
        """
        report = self._task(
            name,
            self.report_handler,
            result_selector={field: sfn.JsonPath.string_at(f"$.{field}") for field in _RESULT_FIELDS},
        )
        report.add_retry(errors=["PublishFailed"], interval=Duration.seconds(10), backoff_rate=2, max_attempts=4)
        lost = tasks.SnsPublish(
            self,
            f"{name}Lost",
            topic=self.notification_topic,
            subject="Vertical scaling could not report a resize",
            message=sfn.TaskInput.from_text(sfn.JsonPath.json_to_string(sfn.JsonPath.entire_payload)),
            result_path=sfn.JsonPath.DISCARD,
        )
        report.add_catch(lost, errors=["States.ALL"], result_path="$.report_error")
        # Every iteration's input carries instance_id (the map's item selector sets it, every step keeps it).
        unreported = sfn.Pass(
            self,
            f"{name}Unreported",
            parameters={"instance_id": sfn.JsonPath.string_at("$.instance_id"), "outcome": "unreported"},
        )
        lost.next(unreported)
        # Never fail the iteration: a failed iteration would stop the other instances' resizes mid-way.
        lost.add_catch(unreported, errors=["States.ALL"], result_path=sfn.JsonPath.DISCARD)
        return report

    def _restart_flow(self, waits: int) -> sfn.IChainable:
        h = self.step_handler
        release = self._task("ReleaseLock", self.lock_handler, "release")
        revert = self._task("Revert", h, "revert", polls=waits * 2)
        first, factor, attempts = _START_FAILED_RETRIES
        revert.add_retry(
            errors=["StartFailed"], interval=Duration.seconds(first), backoff_rate=factor, max_attempts=attempts
        )
        revert.add_catch(release, errors=["States.ALL"], result_path="$.revert_error")
        await_reverted = self._task("AwaitReverted", h, "await_running", polls=waits)
        await_reverted.add_catch(release, errors=["States.ALL"], result_path="$.revert_error")
        await_reverted.next(release)
        revert.next(
            sfn.Choice(self, "WasRunning")
            .when(sfn.Condition.boolean_equals("$.was_running", True), await_reverted)
            .otherwise(release)
        )
        stop = self._task("Stop", h, "stop")
        await_stopped = self._task("AwaitStopped", h, "await_stopped", polls=waits)
        modify = self._task("Modify", h, "modify")
        start = self._task("Start", h, "start")
        await_running = self._task("AwaitRunning", h, "await_running", polls=waits)
        modify_stopped = self._task("ModifyStopped", h, "modify")
        for task in (stop, await_stopped, modify, start, await_running, modify_stopped):
            task.add_catch(revert, errors=["States.ALL"], result_path="$.error")
        modify_stopped.next(release)
        stop.next(await_stopped).next(modify).next(start)
        start.next(
            sfn.Choice(self, "Started")
            .when(sfn.Condition.string_equals("$.next", "modify"), modify)
            .when(sfn.Condition.string_equals("$.next", "revert"), revert)
            .otherwise(await_running)
        )
        await_running.next(
            sfn.Choice(self, "Running")
            .when(sfn.Condition.string_equals("$.next", "modify"), modify)
            .when(sfn.Condition.string_equals("$.next", "revert"), revert)
            .otherwise(release)
        )
        is_running = (
            sfn.Choice(self, "IsRunning")
            .when(sfn.Condition.boolean_equals("$.was_running", True), stop)
            .otherwise(modify_stopped)
        )
        return self._lock_and_plan(is_running, release)

    def _replace_flow(self, waits: int, health_waits: int) -> sfn.IChainable:
        h = self.step_handler
        release = self._task("ReleaseLock", self.lock_handler, "release")
        # Bounded by wait_timeout too, so that a replacement with its cleanup or discard still fits lock_timeout.
        discard_polls = min(waits, _DISCARD_POLLS)
        cleanup = self._task("Cleanup", h, "cleanup", polls=discard_polls)
        cleanup.add_catch(release, errors=["States.ALL"], result_path="$.cleanup_error")
        cleanup.next(release)
        steps = [
            # Both idempotent (the image's name, the launch's ClientToken): retried if the function timed out,
            # which the catch would otherwise record without the image or instance a cut-off call made.
            self._task("Image", h, "image", retry_function_timeout=True),
            self._task("AwaitImage", h, "await_image", polls=waits),
            self._task("Launch", h, "launch", retry_function_timeout=True),
            self._task("AwaitRunning", h, "await_running", polls=waits),
            self._task("Register", h, "register"),
            self._task("AwaitHealthy", h, "await_healthy", polls=health_waits),
            self._task("DeregisterOld", h, "deregister_old"),
            self._task("AwaitDrained", h, "await_drained", polls=waits),
            self._task("RetireOld", h, "retire_old"),
        ]
        for task in steps:
            task.add_catch(cleanup, errors=["States.ALL"], result_path="$.error")
        discard = self._task("DiscardImage", h, "discard_image", polls=discard_polls)
        # The resize is done when the image is discarded: a failure here leaves it resized, and is notified.
        discard.add_catch(release, errors=["States.ALL"], result_path="$.discard_error")
        replace = sfn.Chain.start(steps[0])
        for task in steps[1:]:
            replace = replace.next(task)
        replace.next(discard).next(release)
        return self._lock_and_plan(replace, release, find_registrations=True)

    def _state_machine(
        self, resize: sfn.IChainable, timeout: Duration, max_concurrency: int, retention: logs.RetentionDays
    ) -> sfn.StateMachine:
        targets = tasks.LambdaInvoke(
            self,
            "FindTargets",
            lambda_function=self.targets_handler.function,
            payload=sfn.TaskInput.from_object(
                {"input": sfn.JsonPath.entire_payload, "execution": sfn.JsonPath.execution_id}
            ),
            payload_response_only=True,
            task_timeout=sfn.Timeout.duration(Duration.minutes(2)),
        )
        # Throttled or timed out, the run would end in ReportRunFailure and the scheduled resize would be lost.
        self._retry_service_errors(targets)
        each = sfn.Map(
            self,
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
            self,
            "ReportRunFailure",
            lambda_function=self.report_handler.function,
            payload=sfn.TaskInput.from_object({"state": sfn.JsonPath.entire_payload}),
            payload_response_only=True,
            result_path=sfn.JsonPath.DISCARD,
        )
        failed_run.next(sfn.Fail(self, "RunFailed", cause="The run failed before resizing any instance"))
        targets.add_catch(failed_run, errors=["States.ALL"], result_path="$.error")
        self.state_machine_logs: logs.ILogGroup = state_machine_log_group(self, "StateMachineLogs", retention=retention)
        machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(targets.next(each)),
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.state_machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            comment=f"Resizes {self.target_tag_key}={self.target_tag_value} instances by {self.mode.value}",
        )
        acknowledge(
            machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery and X-Ray tracing actions support no resource-level permissions.",
        )
        stack = Stack.of(self)
        if self._own_topic and self.encryption_key is not None:
            self.encryption_key.grant(machine.role, "kms:Decrypt", "kms:GenerateDataKey*")
            acknowledge(
                machine.role,
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                "Publishing to the KMS-encrypted notification topic needs data keys of that one key; the grant "
                "is on the key's ARN only.",
            )
        for function in self.handlers:
            logical_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
            acknowledge(
                machine.role,
                f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
                "Step Functions may invoke this one function's versions and aliases (ARN suffix ':*'), "
                "as the Lambda task integration grants; no other function.",
            )
        return machine

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
