"""The argument checks of each side of the MWAA DR pair as a whole: which arguments go together, the other
Region, the timings, and what the network and a DAGs bucket passed in must allow. They run before anything is
created, so bad input never reaches CloudFormation."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import explain_zone_lookup
from blueprints.constructs.mwaa_dr.options import (
    DR_CONFIGURATION_OPTIONS,
    MwaaDrStrategy,
    _AirflowSettings,
    _check_common,
    _check_environment_name,
    _check_prefix,
    _check_settings,
    _given,
)

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _check_primary(
    construct: Construct,
    *,
    environment_name: str,
    dr_region: str,
    name_prefix: str,
    create_environment: bool,
    vpc: ec2.IVpc | None,
    subnets: Sequence[ec2.ISubnet] | None,
    rpo: Duration,
    backup_retention: Duration,
    airflow_rbac_role: str,
    dags_bucket: s3.IBucket | None,
    settings: _AirflowSettings,
    airflow_configuration_options: Mapping[str, str] | None,
) -> tuple[dict[str, str], list[ec2.ISubnet]]:
    """Check ``MwaaDrPrimary``'s arguments; return the Airflow configuration options and the created
    environment's subnets (none when it wraps an existing environment)."""
    _check_environment_name("environment_name", environment_name)
    _check_prefix(name_prefix)
    options = _check_settings(settings, airflow_configuration_options)
    _check_common(settings, airflow_rbac_role=airflow_rbac_role, backup_retention=backup_retention)
    _check_other_region("dr_region", dr_region, Stack.of(construct).region, "us-west-2")
    if create_environment and vpc is None:
        raise ValueError("create_environment=True needs a vpc with two private subnets for the environment")
    if not create_environment and (vpc is not None or subnets is not None):
        raise ValueError(
            "vpc and subnets place an environment this construct creates; with create_environment=False "
            "the existing environment keeps its own network, so pass neither"
        )
    if not 5 <= rpo.to_minutes() <= 1440 or rpo.to_seconds() % 60:
        raise ValueError(f"rpo must be whole minutes between 5 and 1440; got {rpo.to_seconds()} seconds")
    subnet_list = _private_subnets(vpc, subnets) if vpc is not None else []
    if vpc is not None:
        explain_zone_lookup(construct, vpc, created=False)
    if not create_environment:
        _check_wrapped(settings, airflow_configuration_options, dags_bucket)
    if dags_bucket is not None:
        _check_dags_bucket(construct, dags_bucket)
    return options, subnet_list


def _check_wrapped(
    settings: _AirflowSettings,
    airflow_configuration_options: Mapping[str, str] | None,
    dags_bucket: s3.IBucket | None,
) -> None:
    """A wrapped environment keeps its own configuration, and its own DAGs bucket is what must replicate."""
    given = _given(
        requirements=settings.requirements,
        plugins=settings.plugins,
        startup_script=settings.startup_script,
        airflow_configuration_options=airflow_configuration_options,
        secrets_backend=settings.secrets_backend,
    )
    if given:
        raise ValueError(
            "with create_environment=False the wrapped environment keeps its own configuration; set "
            f"{', '.join(given)} on it directly (and pass the same to MwaaDrSecondary), not here"
        )
    if dags_bucket is None:
        raise ValueError(
            "create_environment=False needs dags_bucket: the existing environment's DAGs bucket (an "
            "s3.Bucket of this stack, versioned), which is what must replicate to the DR Region; a new, "
            "empty bucket would replicate nothing the environment reads"
        )


@dataclass(frozen=True)
class _SecondaryArguments:
    """``MwaaDrSecondary``'s arguments once checked."""

    strategy: MwaaDrStrategy
    #: The passive environment's Airflow configuration options, DR_CONFIGURATION_OPTIONS included.
    options: dict[str, str]
    #: The DR environment's name.
    environment_name: str
    subnets: list[ec2.ISubnet]


def _check_secondary(
    construct: Construct,
    *,
    strategy: MwaaDrStrategy | str,
    primary_environment_name: str,
    primary_region: str,
    environment_name: str | None,
    name_prefix: str,
    vpc: ec2.IVpc,
    subnets: Sequence[ec2.ISubnet] | None,
    check_interval: Duration,
    heartbeat_window: Duration,
    unhealthy_threshold: int,
    backup_retention: Duration,
    airflow_rbac_role: str,
    settings: _AirflowSettings,
    airflow_configuration_options: Mapping[str, str] | None,
) -> _SecondaryArguments:
    """Check ``MwaaDrSecondary``'s arguments."""
    options = _check_settings(settings, airflow_configuration_options)
    _check_dr_options(options)
    options.update(DR_CONFIGURATION_OPTIONS)
    chosen = _check_strategy(strategy, settings, airflow_configuration_options)
    _check_environment_name("primary_environment_name", primary_environment_name)
    dr_name = environment_name or primary_environment_name
    _check_environment_name("environment_name", dr_name)
    _check_prefix(name_prefix)
    _check_common(settings, airflow_rbac_role=airflow_rbac_role, backup_retention=backup_retention)
    _check_other_region("primary_region", primary_region, Stack.of(construct).region, "us-east-1")
    for label, value, low, high in (
        ("check_interval", check_interval, 1, 60),
        ("heartbeat_window", heartbeat_window, 1, 60),
    ):
        if value.to_seconds() % 60 or not low <= value.to_minutes() <= high:
            raise ValueError(
                f"{label} must be whole minutes between {low} and {high}; got {value.to_seconds()} seconds"
            )
    if unhealthy_threshold < 2:
        raise ValueError(
            "unhealthy_threshold must be at least 2 so that one missing datapoint never triggers a failover; "
            f"got {unhealthy_threshold}"
        )
    subnet_list = _private_subnets(vpc, subnets)
    explain_zone_lookup(construct, vpc, created=False)
    return _SecondaryArguments(strategy=chosen, options=options, environment_name=dr_name, subnets=subnet_list)


def _check_dr_options(options: Mapping[str, str]) -> None:
    """The options that keep the DR environment passive may be passed only with the values the construct sets."""
    for option, wanted in DR_CONFIGURATION_OPTIONS.items():
        if option in options and options[option].lower() != wanted.lower():
            raise ValueError(
                f"airflow_configuration_options[{option!r}] must stay {wanted!r} on the DR side (it keeps the "
                "passive environment from scheduling, and from backfilling every interval since start_date "
                f"when a DAG is unpaused); leave it out, the construct sets it; got {options[option]!r}"
            )


def _check_strategy(
    strategy: MwaaDrStrategy | str,
    settings: _AirflowSettings,
    airflow_configuration_options: Mapping[str, str] | None,
) -> MwaaDrStrategy:
    """The strategy, from the member or its value; backup_restore takes the environment's configuration from
    the primary's backups, so it refuses what configures a passive environment."""
    try:
        chosen = strategy if isinstance(strategy, MwaaDrStrategy) else MwaaDrStrategy(strategy)
    except ValueError as err:
        raise ValueError(
            f"strategy must be one of {', '.join(s.value for s in MwaaDrStrategy)}; got {strategy!r}"
        ) from err
    if chosen is MwaaDrStrategy.BACKUP_RESTORE:
        given = _given(
            requirements=settings.requirements,
            plugins=settings.plugins,
            startup_script=settings.startup_script,
            airflow_configuration_options=airflow_configuration_options,
        )
        if given:
            raise ValueError(
                "backup_restore creates the DR environment from the primary's configuration stored with each "
                "backup (requirements, plugins and startup script at the same object versions, which "
                f"replication keeps, and the configuration options); pass {', '.join(given)} to MwaaDrPrimary "
                "only"
            )
    return chosen


def _check_other_region(argument: str, region: str, stack_region: str, example: str) -> None:
    """``region``, the other side's, must be a literal Region code other than the stack's."""
    if Token.is_unresolved(region) or not _REGION_RE.match(region):
        raise ValueError(f"{argument} must be a literal Region code such as {example}; got {region!r}")
    if not Token.is_unresolved(stack_region) and stack_region == region:
        raise ValueError(f"{argument} must differ from the stack's Region ({stack_region}); got {region!r}")


def _private_subnets(vpc: ec2.IVpc, subnets: Sequence[ec2.ISubnet] | None) -> list[ec2.ISubnet]:
    chosen = list(subnets) if subnets is not None else list(vpc.private_subnets)
    if len(chosen) < 2 or len({s.availability_zone for s in chosen[:2]}) < 2:
        raise ValueError(
            "MWAA needs two private subnets in different Availability Zones; pass subnets=[a, b] or a vpc "
            f"with private subnets in two Availability Zones; got {len(chosen)} subnet(s)"
        )
    return chosen[:2]


def _check_dags_bucket(scope: Construct, bucket: s3.IBucket) -> None:
    """A DAGs bucket passed in must be one this stack can give a replication configuration."""
    cfn = bucket.node.default_child if isinstance(bucket, s3.Bucket) else None
    if not isinstance(cfn, s3.CfnBucket) or Stack.of(bucket) is not Stack.of(scope):
        raise ValueError(
            "dags_bucket must be an s3.Bucket defined in the same stack (the construct adds its replication "
            "configuration); an imported bucket (Bucket.from_bucket_name/arn) cannot be changed from here: bring it "
            f"into the stack with 'cdk import' first; got {bucket}"
        )
    versioning = Stack.of(scope).resolve(cfn.versioning_configuration)
    if not isinstance(versioning, dict) or versioning.get("status", versioning.get("Status")) != "Enabled":
        raise ValueError(
            "dags_bucket must be versioned (versioned=True): S3 replication needs versioning, and MWAA's "
            "requirements, plugins and startup script are referenced by object version"
        )
    if cfn.replication_configuration is not None:
        raise ValueError(
            "dags_bucket already has a replication configuration; the construct sets one (to the DR Region's "
            "DAGs bucket) and would replace it"
        )
    encryption = json.dumps(Stack.of(scope).resolve(cfn.bucket_encryption) or {})
    if bucket.encryption_key is None and "aws:kms" in encryption:
        raise ValueError(
            "dags_bucket is SSE-KMS with a key the construct cannot see; create it with encryption_key=<kms.Key> "
            "so that replication and the environment may use that key"
        )
