"""The constructor's arguments, checked before a resource exists: each refusal says what is accepted."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3

from blueprints.constructs.emr_reconciliation.cluster import (
    JOB_PYTHON,
    JOB_PYTHON_VERSION,
    JOB_RELEASE_MAJORS,
    RELEASE_LABEL,
)
from blueprints.constructs.emr_reconciliation.fleets import InstanceFleets, ScalingLimits
from blueprints.constructs.emr_reconciliation.submitter import deferral_seconds

_RELEASE_RE = re.compile(r"^emr-(\d+)\.(\d+)\.(\d+)$")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_S3_ZIP_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>[^\x00-\x1f]+\.zip)$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,127}$")


def validate(
    *,
    in_transit_certificates: str,
    cluster_name: str,
    release_label: str,
    fleets: InstanceFleets,
    limits: ScalingLimits,
    step_concurrency_level: int,
    job_script: Path,
    submitter_timeout: Duration,
    max_receive_count: int,
    request_retention: Duration,
    ledger_retention_days: int,
    log_retention_days: int,
    data_buckets: Sequence[s3.IBucket] | None,
    submitter_max_concurrency: int,
) -> tuple[str, str]:
    """Check every argument before a resource exists; returns the certificates' bucket and key."""
    certificates = _S3_ZIP_RE.match(in_transit_certificates)
    if not certificates:
        raise ValueError(
            "in_transit_certificates must be the S3 URI of a zip of PEM files (privateKey.pem, certificateChain.pem, "
            "optionally trustedCertificates.pem), such as s3://my-bucket/emr/certs.zip; "
            f"got {in_transit_certificates!r}"
        )
    if not _NAME_RE.match(cluster_name):
        raise ValueError(
            "cluster_name must be 1-128 letters, digits, spaces, '_', '.' or '-', starting with a letter or digit; "
            f"got {cluster_name!r}"
        )
    release = _RELEASE_RE.match(release_label)
    if not release or int(release.group(1)) not in JOB_RELEASE_MAJORS:
        raise ValueError(
            f"release_label must be an EMR 7.x release such as {RELEASE_LABEL} (every 7.x release ships Python "
            f"{JOB_PYTHON_VERSION} at {JOB_PYTHON} and Spark 3.5, which the job is tested on); got {release_label!r}"
        )
    _check_instance_types(fleets)
    _check_launch_units(fleets)
    _check_limits(limits, fleets)
    if not 1 <= step_concurrency_level <= 256:
        raise ValueError(f"step_concurrency_level must be 1 to 256; got {step_concurrency_level}")
    if not job_script.is_file():
        raise ValueError(f"job_script must be the path of the Spark job's .py file; no file at {job_script}")
    _check_submitter(submitter_timeout, max_receive_count, request_retention, ledger_retention_days, log_retention_days)
    if not 2 <= submitter_max_concurrency <= 1000:
        raise ValueError(
            "submitter_max_concurrency must be 2 to 1000 (the SQS event source's limits); "
            f"got {submitter_max_concurrency}"
        )
    if data_buckets is not None and not data_buckets:
        raise ValueError("data_buckets must list at least one bucket, or be left out to create one")
    return certificates.group("bucket"), certificates.group("key")


def _check_instance_types(fleets: InstanceFleets) -> None:
    for fleet, types in fleets.types.items():
        if fleet != "task" and not types:
            raise ValueError(f"{fleet}_instance_types must list 1 to 30 instance types; got none")
        if len(types) > 30:
            raise ValueError(f"{fleet}_instance_types must list 1 to 30 instance types; got {len(types)}")
        names = [t.instance_type for t in types]
        if len(set(names)) != len(names):
            raise ValueError(f"{fleet}_instance_types must not repeat an instance type; got {names}")
        for t in types:
            if not _INSTANCE_TYPE_RE.match(t.instance_type):
                raise ValueError(
                    f"{fleet}_instance_types: instance_type must be an EC2 type such as r6g.2xlarge; "
                    f"got {t.instance_type!r}"
                )
            if fleet == "primary" and t.weighted_capacity != 1:
                raise ValueError(
                    f"primary_instance_types: weighted_capacity must be 1 (the primary fleet is one node); "
                    f"got {t.weighted_capacity} for {t.instance_type}"
                )
            if not 1 <= t.weighted_capacity <= 1000:
                raise ValueError(
                    f"{fleet}_instance_types: weighted_capacity must be 1 to 1000; got {t.weighted_capacity} "
                    f"for {t.instance_type}"
                )
            if not 1 <= t.ebs_size_gib <= 16384:
                raise ValueError(
                    f"{fleet}_instance_types: ebs_size_gib must be 1 to 16384 (gp3); got {t.ebs_size_gib} "
                    f"for {t.instance_type}"
                )


def _check_launch_units(fleets: InstanceFleets) -> None:
    core_units, task_units = fleets.core_units, fleets.task_units
    for fleet, (on_demand, spot) in (("core", core_units), ("task", task_units)):
        if on_demand < 0 or spot < 0:
            raise ValueError(
                f"{fleet}_on_demand_units and {fleet}_spot_units must not be negative; got {on_demand}, {spot}"
            )
    if sum(core_units) < 1:
        raise ValueError(
            f"core_on_demand_units + core_spot_units must be at least 1; got {core_units[0]} + {core_units[1]}"
        )
    if fleets.task and sum(task_units) < 1:
        raise ValueError(
            "task_on_demand_units + task_spot_units must be at least 1 when there is a task fleet (EMR requires a "
            f"target capacity); got {task_units[0]} + {task_units[1]}, or pass task_instance_types=() for no task fleet"
        )
    if not fleets.task and sum(task_units) > 0:
        raise ValueError(
            f"task_on_demand_units and task_spot_units must be 0 without task_instance_types; got {task_units[0]}, "
            f"{task_units[1]}"
        )
    if not 1 <= fleets.spot_percent <= 100:
        raise ValueError(
            f"spot_price_percent_of_on_demand must be 1 to 100 (% of the On-Demand price); got {fleets.spot_percent}"
        )


def _check_limits(limits: ScalingLimits, fleets: InstanceFleets) -> None:
    minimum, maximum = limits.minimum, limits.maximum
    if not 1 <= minimum <= maximum:
        raise ValueError(
            f"minimum_capacity_units must be at least 1 and at most maximum_capacity_units ({maximum}); got {minimum}"
        )
    for name, value in (
        ("maximum_on_demand_capacity_units", limits.maximum_on_demand),
        ("maximum_core_capacity_units", limits.maximum_core),
    ):
        if not 1 <= value <= maximum:
            raise ValueError(f"{name} must be 1 to maximum_capacity_units ({maximum}); got {value}")
    launch = fleets.launch_units
    if not minimum <= launch <= maximum:
        raise ValueError(
            "the core and task units at launch must lie within the managed scaling limits "
            f"{minimum}..{maximum}; got {launch} ({sum(fleets.core_units)} core + {sum(fleets.task_units)} task)"
        )


def _check_submitter(
    timeout: Duration, max_receive_count: int, request_retention: Duration, ledger_days: int, log_days: int
) -> None:
    seconds = timeout.to_seconds()
    if not 10 <= seconds <= 900:
        raise ValueError(f"submitter_timeout must be 10 seconds to 15 minutes; got {seconds} seconds")
    if max_receive_count < 10:
        raise ValueError(
            "max_receive_count must be at least 10, so that a request deferred while EMR has 256 active steps is not "
            f"dead-lettered during a normal backlog; got {max_receive_count}"
        )
    retention = request_retention.to_seconds()
    deferrals = deferral_seconds(max_receive_count)
    if not deferrals <= retention <= 14 * 86400:
        raise ValueError(
            f"request_retention must be at most 14 days (the SQS maximum) and at least the {deferrals} seconds that "
            f"{max_receive_count} deferred receives take, so that a request is dead-lettered, never expired; "
            f"got {retention} seconds"
        )
    if ledger_days < 1 or log_days < 1:
        raise ValueError(
            f"ledger_retention_days and log_retention_days must be at least 1; got {ledger_days}, {log_days}"
        )
