"""Building blocks every blueprint uses, written once so that each architecture gets the same secure defaults
and the same scanner story; an architecture module never builds a raw bucket, queue or function.

- :mod:`.checks`: acknowledging a cdk-nag finding (and the checkov checks it answers) with a reason.
- :mod:`.storage`: :class:`SecureBucket`, :class:`SecureQueue`, ALB access logs.
- :mod:`.handlers`: :class:`PythonHandler`, the Powertools layer.
- :mod:`.grants`: grants to AWS service principals bound to their source; the EventBridge-to-SNS target.
- :mod:`.notifications`: the alarms' notification topic.
- :mod:`.tables`: DynamoDB tables with a customer managed key and point-in-time recovery.
- :mod:`.workflows`: logged, traced state machines and their execution alarms.
- :mod:`.providers`: custom resources on the Provider framework, its logs and its acknowledgments.
- :mod:`.network`: the error that names the construct when a zone lookup needs credentials.
"""

from blueprints.constructs.common.checks import (
    CHECKOV_RESOURCE_TYPES,
    acknowledge,
    acknowledge_wildcard,
    nag_text,
    narrowed,
    present,
    skip_checkov,
)
from blueprints.constructs.common.grants import (
    SOURCE_BINDING_KEYS,
    UNSOURCED_SERVICE_GRANTS,
    TopicRuleTarget,
    alarm_arn_pattern,
    service_grant,
)
from blueprints.constructs.common.handlers import (
    HANDLER_ARCHITECTURE,
    LAMBDAS_DIR,
    POWERTOOLS_VERSION,
    PYTHON_RUNTIME,
    PythonHandler,
    handler_code,
    powertools_layer,
)
from blueprints.constructs.common.network import explain_zone_lookup, flow_logged_vpc
from blueprints.constructs.common.notifications import (
    ALARM_KEY_ACTIONS,
    EVENTBRIDGE_KEY_ACTIONS,
    PUBLISH_KEY_ACTIONS,
    alarm_notification_topic,
    allow_alarms_to_publish,
    allow_alarms_to_use_key,
    allow_eventbridge_to_use_key,
    grant_publish,
    notify,
    secure_topic,
)
from blueprints.constructs.common.providers import secure_provider
from blueprints.constructs.common.storage import UNVERSIONED_LOGS, SecureBucket, SecureQueue, log_alb_access_logs
from blueprints.constructs.common.tables import secure_table
from blueprints.constructs.common.workflows import (
    EXECUTION_OUTCOMES,
    STATE_MACHINE_LOG_PREFIX,
    execution_alarms,
    logged_state_machine,
    state_machine_log_group,
)

__all__ = [
    "ALARM_KEY_ACTIONS",
    "CHECKOV_RESOURCE_TYPES",
    "EVENTBRIDGE_KEY_ACTIONS",
    "EXECUTION_OUTCOMES",
    "HANDLER_ARCHITECTURE",
    "LAMBDAS_DIR",
    "POWERTOOLS_VERSION",
    "PUBLISH_KEY_ACTIONS",
    "PYTHON_RUNTIME",
    "SOURCE_BINDING_KEYS",
    "STATE_MACHINE_LOG_PREFIX",
    "UNSOURCED_SERVICE_GRANTS",
    "UNVERSIONED_LOGS",
    "PythonHandler",
    "SecureBucket",
    "SecureQueue",
    "TopicRuleTarget",
    "acknowledge",
    "acknowledge_wildcard",
    "alarm_arn_pattern",
    "alarm_notification_topic",
    "allow_alarms_to_publish",
    "allow_alarms_to_use_key",
    "allow_eventbridge_to_use_key",
    "execution_alarms",
    "explain_zone_lookup",
    "flow_logged_vpc",
    "grant_publish",
    "handler_code",
    "log_alb_access_logs",
    "logged_state_machine",
    "nag_text",
    "narrowed",
    "notify",
    "powertools_layer",
    "present",
    "secure_provider",
    "secure_table",
    "secure_topic",
    "service_grant",
    "skip_checkov",
    "state_machine_log_group",
]
