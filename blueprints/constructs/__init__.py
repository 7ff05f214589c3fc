"""The reusable L3 constructs, one module per architecture, plus the shared blocks."""

from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    SecureQueue,
    TopicRuleTarget,
    acknowledge,
    log_alb_access_logs,
    service_grant,
    state_machine_log_group,
)
from blueprints.constructs.emr_reconciliation import EmrReconciliationCluster, FleetInstanceType
from blueprints.constructs.mwaa_dr import (
    MwaaDrPrimary,
    MwaaDrSecondary,
    MwaaDrStrategy,
    dr_bucket_names,
    replica_key_alias,
)
from blueprints.constructs.security_lake import (
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    all_aws_sources,
)
from blueprints.constructs.unified_api import UnifiedApi
from blueprints.constructs.vertical_scaling import (
    AlarmTrigger,
    Direction,
    ReplacedInstanceAction,
    ResizeMode,
    ScheduleTrigger,
    VerticalScaling,
)
from blueprints.constructs.weblogic_floating_ip import FloatingIpAdminServer

__all__ = [
    "AlarmTrigger",
    "Direction",
    "EmrReconciliationCluster",
    "FleetInstanceType",
    "FloatingIpAdminServer",
    "MwaaDrPrimary",
    "MwaaDrSecondary",
    "MwaaDrStrategy",
    "PythonHandler",
    "ReplacedInstanceAction",
    "ResizeMode",
    "ScheduleTrigger",
    "SecureBucket",
    "SecureQueue",
    "SecurityLakeShareAcceptance",
    "SecurityLakeSource",
    "SecurityLakeSubscriber",
    "SecurityLakeVisualization",
    "TopicRuleTarget",
    "UnifiedApi",
    "VerticalScaling",
    "acknowledge",
    "all_aws_sources",
    "dr_bucket_names",
    "log_alb_access_logs",
    "replica_key_alias",
    "service_grant",
    "state_machine_log_group",
]
