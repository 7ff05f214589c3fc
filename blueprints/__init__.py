"""blueprints: AWS CDK constructs for architectures published on the AWS blogs.

Every construct and example stack is re-exported here::

    from blueprints import EmrReconciliationCluster, SecureBucket
"""

from constructs import Construct as _Construct

from blueprints.constructs import (
    AlarmTrigger,
    Direction,
    EmrReconciliationCluster,
    FleetInstanceType,
    FloatingIpAdminServer,
    MwaaDrPrimary,
    MwaaDrSecondary,
    MwaaDrStrategy,
    PythonHandler,
    ReplacedInstanceAction,
    ResizeMode,
    ScheduleTrigger,
    SecureBucket,
    SecureQueue,
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    TopicRuleTarget,
    UnifiedApi,
    VerticalScaling,
    acknowledge,
    all_aws_sources,
    dr_bucket_names,
    log_alb_access_logs,
    replica_key_alias,
    service_grant,
    state_machine_log_group,
)
from blueprints.constructs.api import explain as _explain
from blueprints.stacks import (
    EmrReconciliationStack,
    MwaaDrPrimaryStack,
    MwaaDrSecondaryStack,
    SecurityLakeSubscriberStack,
    SecurityLakeVisualizationStack,
    UnifiedApiStack,
    VerticalScalingStack,
    WebLogicAdminHaStack,
)
from blueprints.stacks.base import ExampleStack

__version__ = "0.1.0"

__all__ = [
    "AlarmTrigger",
    "Direction",
    "EmrReconciliationCluster",
    "EmrReconciliationStack",
    "ExampleStack",
    "FleetInstanceType",
    "FloatingIpAdminServer",
    "MwaaDrPrimary",
    "MwaaDrPrimaryStack",
    "MwaaDrSecondary",
    "MwaaDrSecondaryStack",
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
    "SecurityLakeSubscriberStack",
    "SecurityLakeVisualization",
    "SecurityLakeVisualizationStack",
    "TopicRuleTarget",
    "UnifiedApi",
    "UnifiedApiStack",
    "VerticalScaling",
    "VerticalScalingStack",
    "WebLogicAdminHaStack",
    "acknowledge",
    "all_aws_sources",
    "dr_bucket_names",
    "log_alb_access_logs",
    "replica_key_alias",
    "service_grant",
    "state_machine_log_group",
]

# Every public construct and stack shows its real signature and docstring, and checks its arguments' types.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, _Construct):
        _explain(_obj)


def __dir__() -> list[str]:
    """The public API only: ``config``, ``example_app``, ``jobs`` and ``lambdas`` stay importable, unlisted."""
    return sorted([*__all__, "__version__"])
