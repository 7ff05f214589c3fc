"""The visualization account's catalog: a Glue database of resource links to the shared tables, and the post's view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_glue as glue
from constructs import Construct, IDependable

from blueprints.constructs.security_lake.sources import SecurityLakeSource, pascal, security_lake_database_name
from blueprints.constructs.security_lake.views import (
    ATHENA_DEFAULT_DATABASE,
    FAILED_FINDINGS_VIEW,
    FAILED_FINDINGS_VIEW_COLUMNS,
    failed_findings_view_sql,
    presto_view_text,
    view_source,
)


@dataclass(frozen=True)
class LinkedCatalog:
    """The shared tables as this account's catalog sees them, with the names both sides give them."""

    sources: tuple[SecurityLakeSource, ...]
    region: str
    lake_account: str
    lake_database_name: str
    database_name: str
    database: glue.CfnDatabase
    default_database: glue.CfnDatabase | None
    resource_links: dict[str, glue.CfnTable]
    failed_findings_view: glue.CfnTable | None

    @property
    def tables(self) -> list[str]:
        """The shared tables, each also the name of its resource link."""
        return [s.table_name(self.region) for s in self.sources]


def link_catalog(
    scope: Construct,
    *,
    sources: tuple[SecurityLakeSource, ...],
    region: str,
    lake_account: str,
    database_name: str,
    create_default_database: bool,
    after: Sequence[IDependable],
    admin_dependencies: Sequence[IDependable],
) -> LinkedCatalog:
    """The database of resource links in ``scope`` (after ``after``), one link per source, and the post's view.

    With ``create_default_database``, also Athena's ``default`` database (after ``admin_dependencies``).
    """
    lake_database_name = security_lake_database_name(region)
    database = glue.CfnDatabase(
        scope,
        "Database",
        catalog_id=Aws.ACCOUNT_ID,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=database_name,
            description=f"Resource links to the Security Lake tables shared by account {lake_account}",
            create_table_default_permissions=[],
        ),
    )
    database.node.add_dependency(*after)
    default_database = _default_database(scope, admin_dependencies) if create_default_database else None
    links: dict[str, glue.CfnTable] = {}
    for source in sources:
        table = source.table_name(region)
        link = glue.CfnTable(
            scope,
            f"Link{pascal(source.name)}",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=table,
                target_table=glue.CfnTable.TableIdentifierProperty(
                    catalog_id=lake_account, database_name=lake_database_name, name=table
                ),
            ),
        )
        link.node.add_dependency(database)
        links[source.name] = link
    return LinkedCatalog(
        sources=sources,
        region=region,
        lake_account=lake_account,
        lake_database_name=lake_database_name,
        database_name=database_name,
        database=database,
        default_database=default_database,
        resource_links=links,
        failed_findings_view=_failed_findings_view(scope, sources, region, database_name, links),
    )


def _default_database(scope: Construct, admin_dependencies: Sequence[IDependable]) -> glue.CfnDatabase:
    """Athena's ``default`` database, which must exist for the DESCRIBE grants on it.

    Kept on stack deletion, since Athena and everybody else in the account use it too.
    """
    database = glue.CfnDatabase(
        scope,
        "DefaultDatabase",
        catalog_id=Aws.ACCOUNT_ID,
        database_input=glue.CfnDatabase.DatabaseInputProperty(
            name=ATHENA_DEFAULT_DATABASE, description="Athena's default database"
        ),
    )
    database.apply_removal_policy(RemovalPolicy.RETAIN)
    for dependency in admin_dependencies:
        database.node.add_dependency(dependency)
    return database


def _failed_findings_view(
    scope: Construct,
    sources: Sequence[SecurityLakeSource],
    region: str,
    database_name: str,
    links: dict[str, glue.CfnTable],
) -> glue.CfnTable | None:
    """The post's view, created as Athena creates views, so that it exists without anyone running its SQL."""
    findings = view_source(sources)
    if findings is None:
        return None
    sql = failed_findings_view_sql(database_name, findings, region)
    view = glue.CfnTable(
        scope,
        "FailedFindingsView",
        catalog_id=Aws.ACCOUNT_ID,
        database_name=database_name,
        table_input=glue.CfnTable.TableInputProperty(
            name=FAILED_FINDINGS_VIEW,
            description="The post's view: 100 failed Security Hub findings by creation time",
            table_type="VIRTUAL_VIEW",
            parameters={"presto_view": "true", "comment": "Presto View"},
            view_original_text=presto_view_text(
                sql, database_name, [(c, "varchar") for c in FAILED_FINDINGS_VIEW_COLUMNS]
            ),
            view_expanded_text="/* Presto View */",
            partition_keys=[],
            storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                columns=[glue.CfnTable.ColumnProperty(name=c, type="string") for c in FAILED_FINDINGS_VIEW_COLUMNS],
                serde_info=glue.CfnTable.SerdeInfoProperty(),
            ),
        ),
    )
    view.node.add_dependency(links["SH_FINDINGS"])
    return view
