"""EMR reconciliation: requests queued in SQS become Spark steps on a long-running Graviton EMR cluster.

From the AWS Big Data blog post "How Amazon optimized its high-volume financial
reconciliation process with Amazon EMR for higher scalability and performance":
a client sends a transformation request to an SQS queue, a Lambda function
validates it and adds a ``spark-submit`` step to a dedicated EMR cluster (ten
steps at a time), and EMR's step state changes are published, with the request
id, to an SNS topic. The cluster is configured as the post configures it:
instance fleets of r6g instances, EMR managed scaling between 64 and 512
instance-fleet units, EMR 7.x with Spark, kept alive, termination-protected.

The modules, by concern: ``construct`` (``EmrReconciliationCluster``), ``fleets`` and ``cluster`` (instance
fleets, managed scaling, the EMR cluster and its encryption), ``network`` (subnets and security groups),
``storage`` (key and buckets), ``grants`` (roles and permissions), ``artifacts`` (the job and the contract it
shares with the submitter), ``submitter`` (queue, ledger, function), ``results`` (results topic and step events),
``alarms`` and ``validation``.
"""

from blueprints.constructs.emr_reconciliation.artifacts import (
    CONTRACT,
    CONTRACT_MODULE,
    CONTRACTS_DIR,
    JOB_SCRIPT,
    JOBS_DIR,
)
from blueprints.constructs.emr_reconciliation.cluster import (
    JOB_PYTHON,
    JOB_PYTHON_VERSION,
    JOB_RELEASE_MAJORS,
    RELEASE_LABEL,
    RELEASE_SPARK_VERSION,
    spark_python_configurations,
)
from blueprints.constructs.emr_reconciliation.construct import EmrReconciliationCluster
from blueprints.constructs.emr_reconciliation.fleets import (
    DEFAULT_LAUNCH_UNITS,
    DEFAULT_TASK_UNITS,
    PRIMARY_INSTANCE_TYPES,
    WORKER_INSTANCE_TYPES,
    FleetInstanceType,
)
from blueprints.constructs.emr_reconciliation.network import EMR_MANAGED_TAG
from blueprints.constructs.emr_reconciliation.results import RESULTS_PREFIX
from blueprints.constructs.emr_reconciliation.submitter import (
    REQUEST_METRICS,
    SUBMITTER,
    SUBMITTER_SERVICE,
    deferral_seconds,
)

__all__ = [
    "CONTRACT",
    "CONTRACTS_DIR",
    "CONTRACT_MODULE",
    "DEFAULT_LAUNCH_UNITS",
    "DEFAULT_TASK_UNITS",
    "EMR_MANAGED_TAG",
    "JOBS_DIR",
    "JOB_PYTHON",
    "JOB_PYTHON_VERSION",
    "JOB_RELEASE_MAJORS",
    "JOB_SCRIPT",
    "PRIMARY_INSTANCE_TYPES",
    "RELEASE_LABEL",
    "RELEASE_SPARK_VERSION",
    "REQUEST_METRICS",
    "RESULTS_PREFIX",
    "SUBMITTER",
    "SUBMITTER_SERVICE",
    "WORKER_INSTANCE_TYPES",
    "EmrReconciliationCluster",
    "FleetInstanceType",
    "deferral_seconds",
    "spark_python_configurations",
]
