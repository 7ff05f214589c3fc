"""A WebLogic admin server that keeps one private IP across Availability Zones.

The floating IP sits in an otherwise empty /28 subnet. An Auto Scaling group of
exactly one instance relaunches the admin server in another AZ when its AZ or
instance fails; a launch lifecycle hook on the group makes EventBridge invoke a
function that points the /28 route of every route table at the new instance,
then tags the instance, before it goes into service; the instance starts
WebLogic only once it reads that tag from its instance metadata. The domain home
lives on encrypted EFS, so the new instance starts the same domain. An optional
internet-facing ALB reaches the admin console through the same route.

The package, by concern: ``options`` (names and argument checks), ``network``, ``notifications`` (key, topic,
DLQ alarm), ``instance`` (domain home, role, launch template, group), ``boot`` (the user data, from
``boot.sh``), ``route_mover`` (the function and its rules), ``grants`` (its permissions and their cdk-nag
acknowledgments), ``console`` (the optional ALB), and ``construct`` (``FloatingIpAdminServer``, which puts
them together).
"""

from blueprints.constructs.weblogic_floating_ip.boot import BOOT_SCRIPT_TEMPLATE, render_boot_template, render_user_data
from blueprints.constructs.weblogic_floating_ip.construct import FloatingIpAdminServer
from blueprints.constructs.weblogic_floating_ip.options import (
    DEFAULT_DOMAIN_START_SCRIPT,
    DEFAULT_FLOATING_IP_OFFSET,
    LIFECYCLE_HOOK_NAME,
    ROUTE_TAG_KEY,
    ROUTE_TAG_VALUE,
    imds_tag_key_problem,
    validate_floating_address,
)
from blueprints.constructs.weblogic_floating_ip.route_mover import (
    LAUNCH_LIFECYCLE_DETAIL_TYPE,
    ROUTE_MOVER_METRICS,
    ROUTE_MOVER_SERVICE,
    SCALING_EVENT_DETAIL_TYPES,
)

__all__ = [
    "BOOT_SCRIPT_TEMPLATE",
    "DEFAULT_DOMAIN_START_SCRIPT",
    "DEFAULT_FLOATING_IP_OFFSET",
    "LAUNCH_LIFECYCLE_DETAIL_TYPE",
    "LIFECYCLE_HOOK_NAME",
    "ROUTE_MOVER_METRICS",
    "ROUTE_MOVER_SERVICE",
    "ROUTE_TAG_KEY",
    "ROUTE_TAG_VALUE",
    "SCALING_EVENT_DETAIL_TYPES",
    "FloatingIpAdminServer",
    "imds_tag_key_problem",
    "render_boot_template",
    "render_user_data",
    "validate_floating_address",
]
