"""Disaster recovery for Amazon MWAA across two Regions, after "Disaster recovery strategies for
Amazon MWAA" (AWS Big Data Blog).

:class:`MwaaDrPrimary` runs in the primary Region: the DAGs and backup buckets (replicated to the
DR Region), a scheduled metadata backup through MWAA ``InvokeRestApi`` and the alarms.
:class:`MwaaDrSecondary` runs in the DR Region: the replica buckets, the health check, the
failover and failback state machines, and, for the active-passive strategy, the passive
environment. The two stacks share nothing but names derived from the account, the Region and a
prefix, so neither needs a cross-Region reference; deploy the DR side first so the replication
targets exist.

The modules, by concern: ``options`` (the strategy, what both sides share, the checks of each option),
``validation`` (the checks of each side's arguments together), ``environment`` (the MWAA environment and its
execution role), ``grants`` (key and bucket grants, the primary's replication), ``primary`` and ``secondary``
(the two constructs), ``health`` (the health check and its schedule), ``recovery`` (the metadata and failover
functions), ``steps`` and ``workflows`` (the failover and failback state machines), ``alarms``.
"""

from blueprints.constructs.api import METRIC_NAMESPACE
from blueprints.constructs.mwaa_dr.environment import HEARTBEAT_NAMESPACE, heartbeat_metric
from blueprints.constructs.mwaa_dr.options import (
    AIRFLOW_RBAC_ROLES,
    AIRFLOW_VERSIONS,
    BACKUP_PREFIX,
    BACKUP_SERVICE,
    DR_CONFIGURATION_OPTIONS,
    ENVIRONMENT_CLASSES,
    FAILBACK_PREFIX,
    HEALTH_SERVICE,
    REPLACING_PROPERTIES,
    SECRETS_MANAGER_BACKEND,
    AirflowS3Object,
    MwaaDrStrategy,
    SecretsManagerBackend,
    dr_bucket_names,
    replica_key_alias,
)
from blueprints.constructs.mwaa_dr.primary import MwaaDrPrimary
from blueprints.constructs.mwaa_dr.secondary import MwaaDrSecondary
from blueprints.constructs.mwaa_dr.steps import NOTIFICATION_ERROR_PATH, NOTIFY_TIMEOUT
from blueprints.constructs.mwaa_dr.workflows import EXECUTION_TIMEOUT, READY_STATUSES, TRANSITIONAL_STATUSES

__all__ = [
    "AIRFLOW_RBAC_ROLES",
    "AIRFLOW_VERSIONS",
    "BACKUP_PREFIX",
    "BACKUP_SERVICE",
    "DR_CONFIGURATION_OPTIONS",
    "ENVIRONMENT_CLASSES",
    "EXECUTION_TIMEOUT",
    "FAILBACK_PREFIX",
    "HEALTH_SERVICE",
    "HEARTBEAT_NAMESPACE",
    "METRIC_NAMESPACE",
    "NOTIFICATION_ERROR_PATH",
    "NOTIFY_TIMEOUT",
    "READY_STATUSES",
    "REPLACING_PROPERTIES",
    "SECRETS_MANAGER_BACKEND",
    "TRANSITIONAL_STATUSES",
    "AirflowS3Object",
    "MwaaDrPrimary",
    "MwaaDrSecondary",
    "MwaaDrStrategy",
    "SecretsManagerBackend",
    "dr_bucket_names",
    "heartbeat_metric",
    "replica_key_alias",
]
