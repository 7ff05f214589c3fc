"""The visualization account's side: the share accepted, the catalog linked, Athena, grants and QuickSight."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_quicksight as quicksight
from aws_cdk import aws_s3 as s3
from constructs import Construct, IDependable

from blueprints.constructs.common import present
from blueprints.constructs.security_lake import workgroup as athena_workgroup
from blueprints.constructs.security_lake.catalog import LinkedCatalog, link_catalog
from blueprints.constructs.security_lake.grants import QueryAccess, principal_key
from blueprints.constructs.security_lake.quicksight_resources import QuickSightResources, publish
from blueprints.constructs.security_lake.share_acceptance import SecurityLakeShareAcceptance
from blueprints.constructs.security_lake.sources import DEFAULT_SUBSCRIBER_NAME, SecurityLakeSource
from blueprints.constructs.security_lake.validation import check_visualization, concrete_region
from blueprints.constructs.security_lake.views import persona_data_sets

DEFAULT_DATABASE_NAME = "security_lake_visualization"
DEFAULT_WORKGROUP_NAME = "security-lake-visualization"


class SecurityLakeVisualization(Construct):
    """The visualization account's side: share acceptance, catalog, grants, Athena and QuickSight.

    Order of creation, enforced with explicit dependencies: the RAM share
    acceptance and any ``admin_dependencies`` (whatever makes the deploying role
    a Lake Formation administrator), then the Glue database, then one resource
    link per shared table, then the Lake Formation grants, then the QuickSight
    resources that query through them. The construct never writes the account's
    Lake Formation settings (``AWS::LakeFormation::DataLakeSettings`` would
    replace the whole administrator list).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        lake_account: str,
        sources: Sequence[SecurityLakeSource] | None = None,
        subscriber_name: str = DEFAULT_SUBSCRIBER_NAME,
        resource_share_arn: str | None = None,
        invitation_timeout: Duration = Duration.minutes(30),
        database_name: str = DEFAULT_DATABASE_NAME,
        create_default_database: bool = False,
        analyst_principal_arns: Sequence[str] = (),
        admin_dependencies: Sequence[IDependable] = (),
        workgroup_name: str = DEFAULT_WORKGROUP_NAME,
        results_key: kms.IKey | None = None,
        results_expiration: Duration = Duration.days(30),
        bytes_scanned_cutoff_per_query: int = 10 * 1024**3,
        enable_quicksight: bool = True,
        quicksight_owner_arn: str | None = None,
        quicksight_viewer_arns: Sequence[str] = (),
        quicksight_id_prefix: str = "security-lake",
        data_set_import_mode: str = "DIRECT_QUERY",
    ) -> None:
        """Build the catalog, the Athena workgroup and (by default) the QuickSight dashboards.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            lake_account: The Security Lake account; must differ from the stack's account.
                Required.
            sources: One resource link per source, named as Security Lake names the table:
                ``amazon_security_lake_table_<region>_<source>_<version>``; list the same sources as the subscriber, and
                only sources the lake collects (a grant on a table that does not exist fails).
                Default: every AWS log source at ``2.0``.
            subscriber_name: The subscriber's name in the lake account; only its share
                (``LakeFormation-V<n>-<id>-<subscriber_name>``) is accepted.
                Default: ``cross-account-visualization``.
            resource_share_arn: Must be owned by ``lake_account``; accepts exactly this share.
                Default: none: the share of ``subscriber_name`` from ``lake_account``.
            invitation_timeout: 1 to 50 minutes; the Provider's total timeout is this plus 10 minutes, within
                CloudFormation's one-hour limit for a custom resource.
                Default: 30 minutes.
            database_name: Lowercase letters, digits, underscores, not ``default``; ``CreateTableDefaultPermissions`` is
                empty, so only Lake Formation grants apply.
                Default: ``security_lake_visualization``.
            create_default_database: ``True`` creates Athena's ``default`` database (retained on delete) for the
                ``DESCRIBE`` grants on it; only where it does not exist yet.
                Default: ``False``.
            analyst_principal_arns: IAM role/user or QuickSight user/group ARNs granted DESCRIBE on the database, the
                links and ``default``, SELECT on the targets and the failed-findings view; each must already exist (Lake
                Formation refuses a grant to a missing principal).
                Default: none.
            admin_dependencies: Constructs the database, links and grants must wait for.
                Default: none.
            workgroup_name: Name of the Athena workgroup the construct creates.
                Default: ``security-lake-visualization``.
            results_key: Encrypts results (SSE-KMS) and the results bucket.
                Default: a new KMS key with rotation.
            results_expiration: Whole days; results and incomplete uploads (1 day) expire.
                Default: 30 days.
            bytes_scanned_cutoff_per_query: At least 10 MB (Athena's minimum).
                Default: 10737418240 (10 GiB).
            enable_quicksight: ``False`` builds the catalog and Athena only (then ``analyst_principal_arns`` is
                required).
                Default: ``True``.
            quicksight_owner_arn: QuickSight group or user that owns data source, datasets and dashboard; must exist;
                its ARN carries the account's QuickSight identity Region.
                Default: required with QuickSight.
            quicksight_viewer_arns: Up to 63 QuickSight users/groups that may view the dashboard.
                Default: none.
            quicksight_id_prefix: Prefix of the QuickSight resource ids (``<prefix>-athena``, ``<prefix>-executive``,
                …).
                Default: ``security-lake``.
            data_set_import_mode: Or ``SPICE``, which adds a daily 05:00 UTC full refresh per dataset.
                Default: ``DIRECT_QUERY``.

        Attributes:
            sources (tuple[SecurityLakeSource, ...])
            lake_account (str)
            database_name (str)
            lake_database_name (str)
            share_acceptance (SecurityLakeShareAcceptance)
            database (glue.CfnDatabase)
            default_database (glue.CfnDatabase | None)
            resource_links (dict[str, glue.CfnTable])
            failed_findings_view (glue.CfnTable | None)
            results_key (kms.IKey)
            results_bucket (s3.IBucket)
            workgroup (athena.CfnWorkGroup)
            workgroup_name (str)
            named_queries (list[athena.CfnNamedQuery])
            quicksight_role (iam.IRole | None)
            grants (list[lakeformation.CfnPrincipalPermissions])
            data_source (quicksight.CfnDataSource | None)
            data_sets (dict[str, quicksight.CfnDataSet])
            refresh_schedules (dict[str, quicksight.CfnRefreshSchedule])
            dashboards (dict[str, quicksight.CfnDashboard])
            dashboard (quicksight.CfnDashboard | None)
        """
        super().__init__(scope, id)
        region = concrete_region(self)
        self.sources = check_visualization(
            Stack.of(self),
            lake_account=lake_account,
            sources=sources,
            subscriber_name=subscriber_name,
            database_name=database_name,
            workgroup_name=workgroup_name,
            analyst_principal_arns=analyst_principal_arns,
            bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_per_query,
            results_expiration=results_expiration,
            enable_quicksight=enable_quicksight,
            quicksight_owner_arn=quicksight_owner_arn,
            quicksight_viewer_arns=quicksight_viewer_arns,
            quicksight_id_prefix=quicksight_id_prefix,
            data_set_import_mode=data_set_import_mode,
        )
        self.lake_account = lake_account
        self.database_name = database_name

        # 1. The share from the Security Lake account, accepted.
        self.share_acceptance = SecurityLakeShareAcceptance(
            self,
            "ShareAcceptance",
            sender_account=lake_account,
            subscriber_name=subscriber_name,
            sources=self.sources,
            resource_share_arn=resource_share_arn,
            timeout=invitation_timeout,
        )

        # 2. The database that holds the resource links, then 3. one resource link per shared table, named as
        # Security Lake names the table, and the post's view over the findings link.
        catalog = link_catalog(
            self,
            sources=self.sources,
            region=region,
            lake_account=lake_account,
            database_name=database_name,
            create_default_database=create_default_database,
            after=[self.share_acceptance.resource, *admin_dependencies],
            admin_dependencies=admin_dependencies,
        )
        self.lake_database_name = catalog.lake_database_name
        self.database: glue.CfnDatabase = catalog.database
        self.default_database: glue.CfnDatabase | None = catalog.default_database
        self.resource_links: dict[str, glue.CfnTable] = catalog.resource_links
        self.failed_findings_view: glue.CfnTable | None = catalog.failed_findings_view

        # 4. Athena: an encrypted results bucket with expiry and an enforcing workgroup.
        self._athena(catalog, results_key, results_expiration, workgroup_name, bytes_scanned_cutoff_per_query)

        # 5. QuickSight's own role for the data source (the account-wide QuickSight role stays untouched).
        self._access = QueryAccess(self, catalog, self.workgroup, self.results_bucket, self.results_key)
        self.quicksight_role: iam.IRole | None = self._access.quicksight_role() if enable_quicksight else None

        # 6. Lake Formation grants: DESCRIBE on the database and links, SELECT on the shared tables.
        self.grants: list[lakeformation.CfnPrincipalPermissions] = self._lake_formation_grants(analyst_principal_arns)

        # 7. QuickSight: the Athena data source, and a dataset and a dashboard per persona.
        published = QuickSightResources()
        if enable_quicksight and quicksight_owner_arn:
            published = publish(
                self,
                role=present(self.quicksight_role, "quicksight_role"),
                after=self.grants,
                workgroup_name=self.workgroup.ref,
                personas=persona_data_sets(database_name, region, self.sources),
                owner=quicksight_owner_arn,
                viewers=quicksight_viewer_arns,
                prefix=quicksight_id_prefix,
                import_mode=data_set_import_mode,
            )
        self.data_source: quicksight.CfnDataSource | None = published.data_source
        self.data_sets: dict[str, quicksight.CfnDataSet] = published.data_sets
        self.refresh_schedules: dict[str, quicksight.CfnRefreshSchedule] = published.refresh_schedules
        self.dashboards: dict[str, quicksight.CfnDashboard] = published.dashboards
        self.dashboard: quicksight.CfnDashboard | None = published.dashboards.get("executive")
        self._outputs()

    def _outputs(self) -> None:
        CfnOutput(self, "DatabaseName", value=self.database_name, description="Glue database with the resource links")
        CfnOutput(self, "WorkGroupName", value=self.workgroup.ref, description="Athena workgroup for the queries")
        if self.dashboard is not None:
            CfnOutput(
                self,
                "DashboardIds",
                value=",".join(d.dashboard_id for d in self.dashboards.values()),
                description="QuickSight dashboards: executive, custodian, operator",
            )

    def _athena(
        self,
        catalog: LinkedCatalog,
        results_key: kms.IKey | None,
        results_expiration: Duration,
        workgroup_name: str,
        bytes_scanned_cutoff_per_query: int,
    ) -> None:
        """The results key and bucket, the enforcing workgroup and the named queries."""
        self.results_key: kms.IKey = results_key or athena_workgroup.results_key(self)
        self.results_bucket: s3.IBucket = athena_workgroup.results_bucket(self, self.results_key, results_expiration)
        self.workgroup: athena.CfnWorkGroup = athena_workgroup.workgroup(
            self,
            name=workgroup_name,
            bucket=self.results_bucket,
            key=self.results_key,
            bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_per_query,
        )
        self.workgroup_name: str = self.workgroup.ref
        self.named_queries = athena_workgroup.named_queries(self, catalog, self.workgroup)

    def _lake_formation_grants(self, analysts: Sequence[str]) -> list[lakeformation.CfnPrincipalPermissions]:
        """Each analyst's grants, then QuickSight's role's."""
        grants: list[lakeformation.CfnPrincipalPermissions] = []
        for index, principal in enumerate(analysts):
            grants.extend(self._access.lake_formation_grants(principal_key(principal, index), principal))
        if self.quicksight_role is not None:
            grants.extend(self._access.lake_formation_grants("QuickSight", self.quicksight_role.role_arn))
        return grants

    def grant_query(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (an IAM role or user) query the lake through this construct's workgroup, as
        ``analyst_principal_arns`` does: the IAM statements of the QuickSight role (Athena on the workgroup,
        Glue reads of the links and shared tables, the results prefix and key, ``lakeformation:GetDataAccess``)
        and Lake Formation ``DESCRIBE``/``SELECT`` grants on this construct's database, links and tables."""
        principal = grantee.grant_principal
        arn = next((getattr(principal, a) for a in ("role_arn", "user_arn", "arn") if hasattr(principal, a)), None)
        if not isinstance(arn, str):
            raise ValueError(
                f"grant_query needs an IAM role or user (Lake Formation grants name an ARN); got {principal}"
            )
        key = "Grantee" + principal_key(arn, len(self.grants)).removeprefix("Analyst")
        self.grants.extend(self._access.lake_formation_grants(key, arn))
        grant = self._access.add_to_principal(grantee)
        if isinstance(principal, Construct):
            self._access.acknowledge(principal)
        return grant
