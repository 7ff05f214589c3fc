"""What the two sides of the MWAA DR pair share: the strategy, the Airflow objects and the secrets
backend passed to both, the names and constants both agree on, and the checks of each option."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from aws_cdk import Duration, Token
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3


class MwaaDrStrategy(Enum):
    """How the DR Region recovers."""

    #: A passive environment with paused DAGs waits in the DR Region; failover restores the
    #: latest backup into it and unpauses the DAGs that were active.
    ACTIVE_PASSIVE = "active_passive"
    #: No environment waits in the DR Region; failover creates one from the primary's stored
    #: configuration, waits until it is available, then restores the latest backup.
    BACKUP_RESTORE = "backup_restore"


#: Airflow versions CreateEnvironment accepts (botocore MWAA service model), all >= 2.4.3 so
#: InvokeRestApi works.
AIRFLOW_VERSIONS = ("2.7.2", "2.8.1", "2.9.2", "2.10.1", "2.10.3", "2.11.0", "3.0.6")
ENVIRONMENT_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
#: Airflow roles that InvokeRestApi may act as: the default FAB roles with read and write access to
#: variables, connections and pools (User and Viewer have none, so backups and restores get 403).
AIRFLOW_RBAC_ROLES = ("Admin", "Op")
BACKUP_PREFIX = "backups"
FAILBACK_PREFIX = "failback"
#: Powertools' ``service`` metric dimension of the backup function and of the health check.
BACKUP_SERVICE = "mwaa-dr-backup"
HEALTH_SERVICE = "mwaa-dr-health"
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$")
_ENV_NAME_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")


#: Airflow configuration options that keep the DR environment passive, set on it by
#: :class:`MwaaDrSecondary`: DAGs parse paused, and an unpaused DAG without an explicit
#: ``catchup`` schedules only its latest interval instead of every interval since ``start_date``.
DR_CONFIGURATION_OPTIONS = {"core.dags_are_paused_at_creation": "True", "scheduler.catchup_by_default": "False"}
#: Airflow's secrets backend for AWS Secrets Manager (Amazon provider), which MWAA ships.
SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
#: AWS::MWAA::Environment properties whose change replaces the environment: the resource schema's
#: ``createOnlyProperties`` (cfn-lint's copy of the CloudFormation registry schema).
REPLACING_PROPERTIES = ("Name", "KmsKey", "NetworkConfiguration.SubnetIds", "EndpointManagement")
# botocore's MWAA model: ConfigKey (1-64 characters) and ConfigValue (1-65536 printable ASCII).
_CONFIG_KEY_RE = re.compile(r"^[a-z]+([a-z0-9._]*[a-z0-9_]+)?$")
_CONFIG_VALUE_RE = re.compile(r"^[ -~]{1,65536}$")
# Secrets Manager names: letters, digits and /_+=.@- (a prefix neither starts nor ends with '/').
_SECRET_PREFIX_RE = re.compile(r"^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$")


@dataclass(frozen=True)
class AirflowS3Object:
    """One object of the DAGs bucket at one version: MWAA's ``<X>S3Path`` and
    ``<X>S3ObjectVersion`` (requirements.txt, plugins.zip, the startup script).

    S3 replication keeps an object's version id, so the same ``version`` names the same bytes in
    the DR Region's replica bucket: pass the same object to both constructs, once it has
    replicated.
    """

    path: str
    version: str


@dataclass(frozen=True)
class SecretsManagerBackend:
    """Airflow's Secrets Manager backend on both environments: connections are read from secrets
    named ``<connections_prefix>/<conn_id>``, variables from ``<variables_prefix>/<key>`` (and
    Airflow configuration from ``<config_prefix>/<key>``); ``None`` turns a lookup off. Each
    environment reads the secrets of its own Region, so create every secret with a replica in the
    DR Region (Secrets Manager ``ReplicaRegions``): a replica keeps the secret's name.
    """

    connections_prefix: str | None = "airflow/connections"
    variables_prefix: str | None = "airflow/variables"
    config_prefix: str | None = None

    def prefixes(self) -> list[str]:
        return [p for p in (self.connections_prefix, self.variables_prefix, self.config_prefix) if p is not None]

    def options(self) -> dict[str, str]:
        """The ``secrets.backend`` and ``secrets.backend_kwargs`` configuration options."""
        kwargs = {
            "connections_prefix": self.connections_prefix,
            "variables_prefix": self.variables_prefix,
            "config_prefix": self.config_prefix,
        }
        return {"secrets.backend": SECRETS_MANAGER_BACKEND, "secrets.backend_kwargs": json.dumps(kwargs)}


def _check_s3_object(argument: str, value: AirflowS3Object | None) -> None:
    if value is None:
        return
    if not isinstance(value, AirflowS3Object):
        raise ValueError(f"{argument} must be an AirflowS3Object(path=..., version=...); got {value!r}")
    path, version = value.path, value.version
    if not Token.is_unresolved(path) and (
        not path or path.startswith(("/", "s3://")) or len(path) > 1024 or path.endswith("/")
    ):
        raise ValueError(
            f"{argument}.path must be an object key relative to the DAGs bucket, such as 'requirements.txt' "
            f"(no leading '/', no s3:// URL, at most 1024 characters); got {path!r}"
        )
    if not Token.is_unresolved(version) and (not version or len(version) > 1024 or version == "null"):
        raise ValueError(
            f"{argument}.version must be the object's S3 version id (1-1024 characters; not 'null', which an "
            "object written before versioning has, and replication never copies): both environments load "
            f"that exact version; got {version!r}"
        )


def _check_configuration(argument: str, options: Mapping[str, str] | None) -> dict[str, str]:
    options = dict(options or {})
    for key, value in options.items():
        if not isinstance(key, str) or len(key) > 64 or "." not in key or not _CONFIG_KEY_RE.match(key):
            raise ValueError(
                f"{argument} keys must be '<section>.<option>' in lowercase letters, digits, '.' and '_' (at most "
                f"64 characters, MWAA's ConfigKey), such as 'core.default_task_retries'; got {key!r}"
            )
        if not isinstance(value, str) or not (Token.is_unresolved(value) or _CONFIG_VALUE_RE.match(value)):
            raise ValueError(
                f"{argument}[{key!r}] must be a string of 1-65536 printable ASCII characters (MWAA's "
                f"ConfigValue); got {value!r}"
            )
    return options


def _check_secrets(
    secrets_backend: SecretsManagerBackend | None, secrets_key: kms.IKey | None, options: Mapping[str, str]
) -> None:
    if secrets_backend is None:
        if secrets_key is not None:
            raise ValueError("secrets_key is the key of the secrets_backend's secrets; pass a secrets_backend too")
        return
    if not isinstance(secrets_backend, SecretsManagerBackend):
        raise ValueError(f"secrets_backend must be a SecretsManagerBackend(...); got {secrets_backend!r}")
    clash = sorted(k for k in options if k.startswith("secrets."))
    if clash:
        raise ValueError(
            "secrets_backend sets secrets.backend and secrets.backend_kwargs; pass either secrets_backend or "
            f"those options in airflow_configuration_options, not both; got {', '.join(clash)}"
        )
    if not secrets_backend.prefixes():
        raise ValueError("secrets_backend needs at least one of connections_prefix, variables_prefix, config_prefix")
    for prefix in secrets_backend.prefixes():
        if not isinstance(prefix, str) or len(prefix) > 256 or not _SECRET_PREFIX_RE.match(prefix):
            raise ValueError(
                "secrets_backend prefixes must be Secrets Manager name prefixes: letters, digits and /_+=.@-, "
                f"not starting or ending with '/', such as 'airflow/connections'; got {prefix!r}"
            )


def _given(**arguments: Any) -> list[str]:
    """The names of the arguments that were set (for errors that list what a mode does not take)."""
    return [name for name, value in arguments.items() if value]


def _check_prefix(name_prefix: str) -> None:
    if not _PREFIX_RE.match(name_prefix):
        raise ValueError(
            "name_prefix must be 3-24 characters of lowercase letters, digits and hyphens, starting and "
            f"ending with a letter or digit (it names buckets and the replica key alias); got {name_prefix!r}"
        )


def _check_environment_name(argument: str, name: str) -> None:
    if Token.is_unresolved(name) or not _ENV_NAME_RE.match(name):
        raise ValueError(
            f"{argument} must be a literal MWAA environment name: a letter, then up to 79 letters, digits, "
            f"'-' or '_'; got {name!r}"
        )


def dr_bucket_names(name_prefix: str, account: str, region: str) -> dict[str, str]:
    """The deterministic names of the DR Region's DAGs and backup buckets."""
    _check_prefix(name_prefix)
    return {
        "dags": f"{name_prefix}-dags-{account}-{region}",
        "backup": f"{name_prefix}-backup-{account}-{region}",
    }


def replica_key_alias(name_prefix: str) -> str:
    """The alias of the DR Region's KMS key that replicas are encrypted with."""
    _check_prefix(name_prefix)
    return f"alias/{name_prefix}-dr-replica"


@dataclass(frozen=True)
class _AirflowSettings:
    """What configures an environment either side creates; the same on both (docs/mwaa-dr.md, **Code and
    configuration on both sides**). The Airflow configuration options are checked and merged apart from it."""

    airflow_version: str
    environment_class: str
    max_workers: int
    requirements: AirflowS3Object | None
    plugins: AirflowS3Object | None
    startup_script: AirflowS3Object | None
    secrets_backend: SecretsManagerBackend | None
    secrets_key: kms.IKey | None


def _check_common(settings: _AirflowSettings, *, airflow_rbac_role: str, backup_retention: Duration) -> None:
    """The checks both sides make of the environment's size and version, the Airflow role and the retention."""
    if settings.airflow_version not in AIRFLOW_VERSIONS:
        raise ValueError(
            f"airflow_version must be one of {', '.join(AIRFLOW_VERSIONS)}; got {settings.airflow_version!r}"
        )
    if settings.environment_class not in ENVIRONMENT_CLASSES:
        raise ValueError(
            f"environment_class must be one of {', '.join(ENVIRONMENT_CLASSES)}; got {settings.environment_class!r}"
        )
    if not 1 <= settings.max_workers <= 25:
        raise ValueError(f"max_workers must be between 1 and 25; got {settings.max_workers}")
    if airflow_rbac_role not in AIRFLOW_RBAC_ROLES:
        raise ValueError(
            f"airflow_rbac_role must be one of {', '.join(AIRFLOW_RBAC_ROLES)}: the Airflow roles that may read "
            "and write variables, connections and pools (User and Viewer may not, so every backup and restore "
            f"would get 403); got {airflow_rbac_role!r}"
        )
    days = backup_retention.to_hours() / 24
    if days < 1 or not days.is_integer():
        raise ValueError(f"backup_retention must be at least 1 day, in whole days; got {days:g} days")


def _backup_lifecycle(retention: Duration) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="ExpireBackups",
            prefix=f"{BACKUP_PREFIX}/",
            expiration=retention,
            noncurrent_version_expiration=Duration.days(7),
        ),
        s3.LifecycleRule(
            id="ExpireFailbackBackups",
            prefix=f"{FAILBACK_PREFIX}/",
            expiration=retention,
            noncurrent_version_expiration=Duration.days(7),
        ),
        s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
    ]


def _check_settings(
    settings: _AirflowSettings, airflow_configuration_options: Mapping[str, str] | None
) -> dict[str, str]:
    """Check the Airflow objects, the configuration options and the secrets backend; return the options."""
    for argument, s3_object in (
        ("requirements", settings.requirements),
        ("plugins", settings.plugins),
        ("startup_script", settings.startup_script),
    ):
        _check_s3_object(argument, s3_object)
    options = _check_configuration("airflow_configuration_options", airflow_configuration_options)
    _check_secrets(settings.secrets_backend, settings.secrets_key, options)
    return options
