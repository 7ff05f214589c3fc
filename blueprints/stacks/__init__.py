"""One deployable Stack per architecture, built from the constructs."""

from blueprints.stacks.emr_reconciliation import EmrReconciliationStack
from blueprints.stacks.mwaa_dr import MwaaDrPrimaryStack, MwaaDrSecondaryStack
from blueprints.stacks.security_lake import SecurityLakeSubscriberStack, SecurityLakeVisualizationStack
from blueprints.stacks.unified_api import UnifiedApiStack
from blueprints.stacks.vertical_scaling import VerticalScalingStack
from blueprints.stacks.weblogic_floating_ip import WebLogicAdminHaStack

__all__ = [
    "EmrReconciliationStack",
    "MwaaDrPrimaryStack",
    "MwaaDrSecondaryStack",
    "SecurityLakeSubscriberStack",
    "SecurityLakeVisualizationStack",
    "UnifiedApiStack",
    "VerticalScalingStack",
    "WebLogicAdminHaStack",
]
