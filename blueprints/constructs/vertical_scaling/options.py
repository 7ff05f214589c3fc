"""What a user chooses (mode, triggers, the size ladder, timeouts) and how the construct checks it before it
builds anything."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns

#: EC2 instance type names (EC2 User Guide, "Amazon EC2 instance type naming conventions"): a family (series
#: letters, generation digit, option letters, and an optional ``-suffix`` such as ``-flex`` or ``u-6tb1``), a dot,
#: and a size.
_TYPE_RE = re.compile(r"^[a-z]+(?:[0-9][a-z0-9]*(?:-[a-z0-9]+)?|-[0-9][a-z0-9]*)\.(?P<size>[a-z0-9-]+)$")
#: Relative capacity of each size within one family (vCPUs, and memory with them, double from each size to the
#: next from ``large`` up; ``<n>xlarge`` is n times ``xlarge``; ``metal-<n>xl`` as ``<n>xlarge``). Plain
#: ``metal`` differs by family, so it is not ordered.
_SIZES = {"nano": 0.125, "micro": 0.25, "small": 0.5, "medium": 1, "large": 2, "xlarge": 4}
_SIZE_RE = re.compile(r"^(?:(?P<n>[1-9][0-9]*)xlarge|metal(?:-(?P<metal>[1-9][0-9]*)xl)?)$")
#: The interval of every wait's ``NotReady`` retries.
POLL = Duration.seconds(15)
#: Most polls for the image's snapshots, which EC2 may call in use for a short while after deregistering it.
DISCARD_POLLS = 20
#: Waits of the restart path's ``Revert`` retrying ``StartFailed``: 30 + 60 + 120 + 240 seconds.
START_FAILED_RETRIES = (30, 2, 4)
#: Added to the sum of a resize's waits for its Lambda invocations and their service-error retries.
_LOCK_MARGIN = Duration.minutes(10)
#: Default lifetime of a lock, raised to the longest resize (plus ``_LOCK_MARGIN``) when that is longer.
_LOCK_TIMEOUT = Duration.hours(2)
#: Default bound of a whole run: many batches of ``max_concurrency`` resizes, each up to ``lock_timeout``.
_EXECUTION_TIMEOUT = Duration.hours(24)
#: The longest a Standard workflow execution may run.
_MAX_EXECUTION = Duration.days(365)


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


# The size ladder ---------------------------------------------------------------------------------


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


# Timeouts ----------------------------------------------------------------------------------------


def polls(timeout: Duration) -> int:
    """How many ``NotReady`` retries, one every ``POLL``, a wait of ``timeout`` makes."""
    return math.ceil(timeout.to_seconds() / POLL.to_seconds())


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
    poll = int(POLL.to_seconds())
    wait = polls(wait_timeout) * poll
    margin = int(_LOCK_MARGIN.to_seconds())
    if mode is ResizeMode.RESTART:
        longest = max(len(rung) for rung in rungs)
        first, factor, attempts = START_FAILED_RETRIES
        start_failed = sum(first * factor**n for n in range(attempts))
        types = f"{longest} type{'s' if longest > 1 else ''} of the longest size"
        formula = f"(4 + {types}) x wait_timeout + {start_failed} s + {margin} s margin"
        return (4 + longest) * wait + start_failed + margin, formula
    health = polls(health_check_timeout) * poll
    discard = min(polls(wait_timeout), DISCARD_POLLS) * poll
    formula = f"3 x wait_timeout + health_check_timeout + {discard} s discard + {margin} s margin"
    return 3 * wait + health + discard + margin, formula


def _resolved_timeouts(
    mode: ResizeMode,
    rungs: list[list[str]],
    wait_timeout: Duration,
    health_check_timeout: Duration,
    lock_timeout: Duration | None,
    execution_timeout: Duration | None,
) -> tuple[Duration, Duration]:
    """``lock_timeout`` and ``execution_timeout``, their defaults filled in, each checked against the waits."""
    if wait_timeout.to_seconds() < POLL.to_seconds() or health_check_timeout.to_seconds() < POLL.to_seconds():
        raise ValueError(
            f"wait_timeout and health_check_timeout must be at least {POLL.to_seconds()} seconds (one poll); "
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
    return lock_timeout, execution_timeout


# All arguments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResizeOptions:
    """The constructor's arguments that :func:`checked_options` checked or filled in."""

    mode: ResizeMode
    rungs: list[list[str]]
    #: ``STOP`` unless given; restart mode has no old instance to act on and ignores it.
    replaced_instance_action: ReplacedInstanceAction
    lock_timeout: Duration
    execution_timeout: Duration


def _check_tag(key: str, value: str) -> None:
    if not key or len(key) > 128 or key.lower().startswith("aws:"):
        raise ValueError(f"target_tag_key must be a tag key of 1-128 characters not starting with 'aws:'; got {key!r}")
    if not value or len(value) > 256:
        raise ValueError(f"target_tag_value must be a tag value of 1-256 characters; got {value!r}")


def checked_options(
    *,
    instance_sizes: Sequence[str | Sequence[str]],
    target_tag_key: str,
    target_tag_value: str,
    mode: ResizeMode | str,
    triggers: Sequence[ScheduleTrigger | AlarmTrigger],
    replaced_instance_action: ReplacedInstanceAction | str | None,
    target_groups: Sequence[elbv2.ITargetGroup] | None,
    instance_roles: Sequence[iam.IRole],
    image_reboot: bool,
    notification_topic: sns.ITopic | None,
    encryption_key: kms.IKey | None,
    wait_timeout: Duration,
    health_check_timeout: Duration,
    lock_timeout: Duration | None,
    execution_timeout: Duration | None,
    max_concurrency: int,
) -> ResizeOptions:
    """Check every argument of :class:`VerticalScaling` (``ValueError`` naming what is wrong and what is accepted)."""
    mode = ResizeMode(mode)
    action = None if replaced_instance_action is None else ReplacedInstanceAction(replaced_instance_action)
    rungs = _validate_ladder(instance_sizes)
    _check_tag(target_tag_key, target_tag_value)
    if mode is ResizeMode.RESTART and (
        action is not None or target_groups is not None or instance_roles or image_reboot
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
    for trigger in triggers:
        if not isinstance(trigger.direction, Direction):
            raise ValueError(f"a trigger's direction must be Direction.UP or Direction.DOWN; got {trigger!r}")
    lock, execution = _resolved_timeouts(
        mode, rungs, wait_timeout, health_check_timeout, lock_timeout, execution_timeout
    )
    if not 1 <= max_concurrency <= 40:
        raise ValueError(f"max_concurrency must be between 1 and 40 instances at a time; got {max_concurrency}")
    return ResizeOptions(mode, rungs, action or ReplacedInstanceAction.STOP, lock, execution)
