"""One deployable Stack per architecture, built from the constructs."""

from blueprints.stacks.emr_reconciliation import EmrReconciliationStack
from blueprints.stacks.security_lake import SecurityLakeSubscriberStack, SecurityLakeVisualizationStack

__all__ = ["EmrReconciliationStack", "SecurityLakeSubscriberStack", "SecurityLakeVisualizationStack"]
