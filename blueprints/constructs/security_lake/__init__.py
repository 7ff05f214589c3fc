"""Query Amazon Security Lake from a separate visualization account.

Two halves of one architecture, each deployed in its own account:

* :class:`SecurityLakeSubscriber` (Security Lake delegated administrator
  account): a Lake Formation (query access) subscriber for the visualization
  account, with an external ID generated in Secrets Manager.
* :class:`SecurityLakeVisualization` (visualization account): accepts the AWS
  RAM share (:class:`SecurityLakeShareAcceptance`), links the shared tables
  into a Glue database, grants Lake Formation permissions, and serves the data
  through an Athena workgroup and QuickSight datasets and an executive
  dashboard.

The modules, by concern: ``sources`` (the log sources and Security Lake's names), ``validation`` (the
constructors' argument checks), ``subscriber``, ``share_acceptance``, ``catalog`` (database, resource links,
view), ``workgroup`` (Athena), ``grants`` (IAM and Lake Formation), ``views`` (the SQL, in ``sql/``),
``dashboards`` (the QuickSight definitions, in ``dashboards.json``), ``quicksight_resources`` and
``visualization``.
"""

from blueprints.constructs.security_lake.dashboards import PERSONA_DASHBOARDS, persona_dashboard_definition
from blueprints.constructs.security_lake.quicksight_resources import (
    DASHBOARD_OWNER_ACTIONS,
    DASHBOARD_VIEWER_ACTIONS,
    DATA_SET_OWNER_ACTIONS,
    DATA_SOURCE_OWNER_ACTIONS,
)
from blueprints.constructs.security_lake.share_acceptance import SecurityLakeShareAcceptance
from blueprints.constructs.security_lake.sources import (
    AWS_LOG_SOURCES,
    CURRENT_SOURCE_VERSION,
    DEFAULT_SUBSCRIBER_NAME,
    SecurityLakeSource,
    all_aws_sources,
    parse_sources,
    security_lake_database_name,
)
from blueprints.constructs.security_lake.subscriber import SecurityLakeSubscriber
from blueprints.constructs.security_lake.validation import IMPORT_MODES, MIN_BYTES_SCANNED_CUTOFF
from blueprints.constructs.security_lake.views import (
    ATHENA_DEFAULT_DATABASE,
    FAILED_FINDINGS_VIEW,
    FAILED_FINDINGS_VIEW_COLUMNS,
    PersonaDataSet,
    failed_findings_view_sql,
    persona_data_sets,
    presto_view_text,
)
from blueprints.constructs.security_lake.visualization import (
    DEFAULT_DATABASE_NAME,
    DEFAULT_WORKGROUP_NAME,
    SecurityLakeVisualization,
)

__all__ = [
    "ATHENA_DEFAULT_DATABASE",
    "AWS_LOG_SOURCES",
    "CURRENT_SOURCE_VERSION",
    "DASHBOARD_OWNER_ACTIONS",
    "DASHBOARD_VIEWER_ACTIONS",
    "DATA_SET_OWNER_ACTIONS",
    "DATA_SOURCE_OWNER_ACTIONS",
    "DEFAULT_DATABASE_NAME",
    "DEFAULT_SUBSCRIBER_NAME",
    "DEFAULT_WORKGROUP_NAME",
    "FAILED_FINDINGS_VIEW",
    "FAILED_FINDINGS_VIEW_COLUMNS",
    "IMPORT_MODES",
    "MIN_BYTES_SCANNED_CUTOFF",
    "PERSONA_DASHBOARDS",
    "PersonaDataSet",
    "SecurityLakeShareAcceptance",
    "SecurityLakeSource",
    "SecurityLakeSubscriber",
    "SecurityLakeVisualization",
    "all_aws_sources",
    "failed_findings_view_sql",
    "parse_sources",
    "persona_dashboard_definition",
    "persona_data_sets",
    "presto_view_text",
    "security_lake_database_name",
]
