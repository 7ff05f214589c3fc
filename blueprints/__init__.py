"""blueprints: AWS CDK constructs for architectures published on the AWS blogs.

Every construct and example stack is re-exported here::

    from blueprints import EmrReconciliationCluster, SecureBucket
"""

from blueprints.constructs import (
    AlarmTrigger,
    BucketEncryption,
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
    UnifiedApi,
    VerticalScaling,
    acknowledge,
    all_aws_sources,
    dr_bucket_names,
    replica_key_alias,
)
from blueprints.stacks import (
    DomainApi,
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
    "BucketEncryption",
    "Direction",
    "DomainApi",
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
    "UnifiedApi",
    "UnifiedApiStack",
    "VerticalScaling",
    "VerticalScalingStack",
    "WebLogicAdminHaStack",
    "acknowledge",
    "all_aws_sources",
    "dr_bucket_names",
    "replica_key_alias",
]
