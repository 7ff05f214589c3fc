"""blueprints: AWS CDK constructs for architectures published on the AWS blogs.

Every construct and example stack is re-exported here::

    from blueprints import EmrReconciliationCluster, SecureBucket
"""

from blueprints.constructs import (
    BucketEncryption,
    EmrReconciliationCluster,
    FleetInstanceType,
    PythonHandler,
    SecureBucket,
    SecureQueue,
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    acknowledge,
    all_aws_sources,
)
from blueprints.stacks import (
    EmrReconciliationStack,
    SecurityLakeSubscriberStack,
    SecurityLakeVisualizationStack,
)

__version__ = "0.1.0"

__all__ = [
    "BucketEncryption",
    "EmrReconciliationCluster",
    "EmrReconciliationStack",
    "FleetInstanceType",
    "PythonHandler",
    "SecureBucket",
    "SecureQueue",
    "SecurityLakeShareAcceptance",
    "SecurityLakeSource",
    "SecurityLakeSubscriber",
    "SecurityLakeSubscriberStack",
    "SecurityLakeVisualization",
    "SecurityLakeVisualizationStack",
    "acknowledge",
    "all_aws_sources",
]
