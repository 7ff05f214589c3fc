"""QuickSight in the visualization account: the Athena data source, a dataset and a dashboard per persona."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_quicksight as quicksight
from constructs import Construct, IDependable

from blueprints.constructs.security_lake.dashboards import PERSONA_DASHBOARDS, persona_dashboard_definition
from blueprints.constructs.security_lake.sources import pascal
from blueprints.constructs.security_lake.views import PersonaDataSet

DATA_SOURCE_OWNER_ACTIONS = (
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
)
DATA_SET_OWNER_ACTIONS = (
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:PassDataSet",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:UpdateDataSet",
    "quicksight:DeleteDataSet",
    "quicksight:CreateIngestion",
    "quicksight:CancelIngestion",
    "quicksight:UpdateDataSetPermissions",
)
DASHBOARD_VIEWER_ACTIONS = (
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:QueryDashboard",
)
DASHBOARD_OWNER_ACTIONS = (
    *DASHBOARD_VIEWER_ACTIONS,
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
)


@dataclass
class QuickSightResources:
    """What :func:`publish` creates (nothing, where QuickSight is not built); the dicts are keyed by persona."""

    data_source: quicksight.CfnDataSource | None = None
    data_sets: dict[str, quicksight.CfnDataSet] = field(default_factory=dict)
    refresh_schedules: dict[str, quicksight.CfnRefreshSchedule] = field(default_factory=dict)
    dashboards: dict[str, quicksight.CfnDashboard] = field(default_factory=dict)


def publish(
    scope: Construct,
    *,
    role: iam.IRole,
    after: Sequence[IDependable],
    workgroup_name: str,
    personas: Sequence[PersonaDataSet],
    owner: str,
    viewers: Sequence[str],
    prefix: str,
    import_mode: str,
) -> QuickSightResources:
    """The data source (querying through ``workgroup_name`` as ``role``, after ``role`` and ``after``), then per
    persona a dataset (refreshed daily with ``SPICE``), then per persona a dashboard."""
    data_source = _data_source(scope, role, workgroup_name, owner, prefix)
    data_source.node.add_dependency(role, *after)
    published = QuickSightResources(data_source=data_source)
    for persona in personas:
        data_set = _data_set(scope, persona, data_source, owner, prefix, import_mode)
        published.data_sets[persona.key] = data_set
        if import_mode == "SPICE":
            published.refresh_schedules[persona.key] = _daily_refresh(scope, persona.key, data_set)
    for key in PERSONA_DASHBOARDS:
        published.dashboards[key] = _dashboard(scope, key, published.data_sets[key], owner, viewers, prefix)
    return published


def _data_source(
    scope: Construct, role: iam.IRole, workgroup_name: str, owner: str, prefix: str
) -> quicksight.CfnDataSource:
    return quicksight.CfnDataSource(
        scope,
        "DataSource",
        aws_account_id=Aws.ACCOUNT_ID,
        data_source_id=f"{prefix}-athena",
        name="Security Lake (Athena)",
        type="ATHENA",
        data_source_parameters=quicksight.CfnDataSource.DataSourceParametersProperty(
            athena_parameters=quicksight.CfnDataSource.AthenaParametersProperty(
                work_group=workgroup_name, role_arn=role.role_arn
            )
        ),
        ssl_properties=quicksight.CfnDataSource.SslPropertiesProperty(disable_ssl=False),
        permissions=[
            quicksight.CfnDataSource.ResourcePermissionProperty(
                principal=owner, actions=list(DATA_SOURCE_OWNER_ACTIONS)
            )
        ],
    )


def _data_set(
    scope: Construct,
    persona: PersonaDataSet,
    data_source: quicksight.CfnDataSource,
    owner: str,
    prefix: str,
    import_mode: str,
) -> quicksight.CfnDataSet:
    return quicksight.CfnDataSet(
        scope,
        f"DataSet{pascal(persona.key)}",
        aws_account_id=Aws.ACCOUNT_ID,
        data_set_id=f"{prefix}-{persona.key}",
        name=persona.title,
        import_mode=import_mode,
        physical_table_map={
            persona.key: quicksight.CfnDataSet.PhysicalTableProperty(
                custom_sql=quicksight.CfnDataSet.CustomSqlProperty(
                    data_source_arn=data_source.attr_arn,
                    name=persona.key,
                    sql_query=persona.sql,
                    columns=[
                        quicksight.CfnDataSet.InputColumnProperty(name=name, type=column_type)
                        for name, column_type in persona.columns
                    ],
                )
            )
        },
        permissions=[
            quicksight.CfnDataSet.ResourcePermissionProperty(principal=owner, actions=list(DATA_SET_OWNER_ACTIONS))
        ],
    )


def _daily_refresh(scope: Construct, key: str, data_set: quicksight.CfnDataSet) -> quicksight.CfnRefreshSchedule:
    """A full refresh of a ``SPICE`` dataset every day at 05:00 UTC."""
    schedule = quicksight.CfnRefreshSchedule(
        scope,
        f"Refresh{pascal(key)}",
        aws_account_id=Aws.ACCOUNT_ID,
        data_set_id=data_set.data_set_id,
        schedule=quicksight.CfnRefreshSchedule.RefreshScheduleMapProperty(
            schedule_id="daily",
            refresh_type="FULL_REFRESH",
            schedule_frequency=quicksight.CfnRefreshSchedule.ScheduleFrequencyProperty(
                interval="DAILY", time_of_the_day="05:00", time_zone="UTC"
            ),
        ),
    )
    schedule.node.add_dependency(data_set)
    return schedule


def _dashboard(
    scope: Construct,
    key: str,
    data_set: quicksight.CfnDataSet,
    owner: str,
    viewers: Sequence[str],
    prefix: str,
) -> quicksight.CfnDashboard:
    name, _ = PERSONA_DASHBOARDS[key]
    dashboard = quicksight.CfnDashboard(
        scope,
        f"Dashboard{pascal(key)}",
        aws_account_id=Aws.ACCOUNT_ID,
        dashboard_id=f"{prefix}-{key}-overview",
        name=name,
        permissions=[
            quicksight.CfnDashboard.ResourcePermissionProperty(principal=owner, actions=list(DASHBOARD_OWNER_ACTIONS)),
            *(
                quicksight.CfnDashboard.ResourcePermissionProperty(
                    principal=viewer, actions=list(DASHBOARD_VIEWER_ACTIONS)
                )
                for viewer in viewers
            ),
        ],
    )
    dashboard.add_property_override("Definition", persona_dashboard_definition(key, data_set.attr_arn))
    return dashboard
