"""blueprints: AWS CDK constructs for architectures published on the AWS blogs.

Every construct and example stack is re-exported here::

    from blueprints import EmrReconciliationCluster, SecureBucket
"""

from blueprints.constructs import (
    BucketEncryption,
    EmrReconciliationCluster,
    FleetInstanceType,
    FloatingIpAdminServer,
    PythonHandler,
    SecureBucket,
    SecureQueue,
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    UnifiedApi,
    acknowledge,
    all_aws_sources,
)
from blueprints.stacks import (
    DomainApi,
    EmrReconciliationStack,
    SecurityLakeSubscriberStack,
    SecurityLakeVisualizationStack,
    UnifiedApiStack,
    WebLogicAdminHaStack,
)

__version__ = "0.1.0"

__all__ = [
    "BucketEncryption",
    "DomainApi",
    "EmrReconciliationCluster",
    "EmrReconciliationStack",
    "FleetInstanceType",
    "FloatingIpAdminServer",
    "PythonHandler",
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
    "WebLogicAdminHaStack",
    "acknowledge",
    "all_aws_sources",
]
