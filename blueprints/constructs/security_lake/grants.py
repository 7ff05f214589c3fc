"""Who may query the lake, and how: the IAM statements and Lake Formation grants of the visualization account."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from aws_cdk import Aws, Stack, Token
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lakeformation as lakeformation
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import acknowledge, acknowledge_wildcard
from blueprints.constructs.security_lake.catalog import LinkedCatalog
from blueprints.constructs.security_lake.sources import pascal
from blueprints.constructs.security_lake.views import ATHENA_DEFAULT_DATABASE, FAILED_FINDINGS_VIEW

#: A Lake Formation grant (its property types are nested in it).
_Permission = lakeformation.CfnPrincipalPermissions


def principal_key(principal: str, index: int) -> str:
    """A construct-id part that names a grantee by its ARN, not its place in the list.

    Lake Formation grants are keyed by principal: if an id followed the list order, removing one analyst would
    rename the grants of those after it, and CloudFormation would create the renamed grants and then delete the
    old ones, revoking the very permissions it had just granted. An ARN only known at deploy time (a token) keeps
    its position instead.
    """
    if Token.is_unresolved(principal):
        return f"Analyst{index}"
    return "Analyst" + hashlib.sha256(principal.encode()).hexdigest()[:10]


class QueryAccess:
    """Query access to the linked catalog through one workgroup, granted to principals in ``scope``.

    Lake Formation decides which tables a principal may read (:meth:`lake_formation_grants`); IAM lets it use the
    workgroup, read the catalog entries and the results (:meth:`statements`).
    """

    def __init__(
        self,
        scope: Construct,
        catalog: LinkedCatalog,
        workgroup: athena.CfnWorkGroup,
        results_bucket: s3.IBucket,
        results_key: kms.IKey,
    ) -> None:
        self.scope = scope
        self.catalog = catalog
        self.workgroup = workgroup
        self.results_bucket = results_bucket
        self.results_key = results_key

    def statements(self) -> list[iam.PolicyStatement]:
        """What a principal needs to query the lake through the workgroup (Lake Formation grants aside)."""
        stack = Stack.of(self.scope)
        catalog = self.catalog
        own_tables = [*catalog.tables, *([FAILED_FINDINGS_VIEW] if catalog.failed_findings_view is not None else [])]
        return [
            iam.PolicyStatement(
                sid="QueryThroughTheWorkGroup",
                actions=[
                    "athena:GetWorkGroup",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:GetQueryResultsStream",
                ],
                resources=[stack.format_arn(service="athena", resource="workgroup", resource_name=self.workgroup.ref)],
            ),
            iam.PolicyStatement(
                sid="BrowseTheDataCatalog",
                actions=[
                    "athena:GetDataCatalog",
                    "athena:GetDatabase",
                    "athena:ListDatabases",
                    "athena:GetTableMetadata",
                    "athena:ListTableMetadata",
                ],
                resources=[stack.format_arn(service="athena", resource="datacatalog", resource_name="AwsDataCatalog")],
            ),
            iam.PolicyStatement(
                sid="ListCatalogsAndWorkGroups",
                actions=["athena:ListDataCatalogs", "athena:ListWorkGroups"],
                resources=["*"],
            ),
            # Athena's documented prerequisite for working with the Glue Data Catalog ("Configure AWS Glue access
            # to the catalog and database per AWS Region"): GetDatabase and CreateDatabase on the Region's catalog
            # and its `default` database. CreateDatabase can create no database but `default` (the database ARN
            # must match too), which Athena creates when it is missing.
            iam.PolicyStatement(
                sid="AthenaDefaultDatabase",
                actions=["glue:GetDatabase", "glue:CreateDatabase"],
                resources=[
                    stack.format_arn(service="glue", resource="catalog"),
                    stack.format_arn(service="glue", resource="database", resource_name="default"),
                ],
            ),
            iam.PolicyStatement(
                sid="ReadTheLinksAndSharedTables",
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                ],
                resources=[
                    *self._glue_arns(Aws.ACCOUNT_ID, catalog.database_name, own_tables),
                    *self._glue_arns(catalog.lake_account, catalog.lake_database_name, catalog.tables),
                ],
            ),
            iam.PolicyStatement(
                sid="LakeFormationCredentialVending", actions=["lakeformation:GetDataAccess"], resources=["*"]
            ),
            iam.PolicyStatement(
                sid="FindResultsBucket",
                actions=["s3:GetBucketLocation", "s3:ListBucket"],
                resources=[self.results_bucket.bucket_arn],
            ),
            iam.PolicyStatement(
                sid="ReadWriteQueryResults",
                actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=[self.results_bucket.arn_for_objects("results/*")],
            ),
            iam.PolicyStatement(
                sid="EncryptQueryResults",
                actions=["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[self.results_key.key_arn],
            ),
        ]

    def _glue_arns(self, account: str, database: str, tables: Sequence[str]) -> list[str]:
        stack = Stack.of(self.scope)
        return [
            stack.format_arn(service="glue", account=account, resource="catalog"),
            stack.format_arn(service="glue", account=account, resource="database", resource_name=database),
            *(
                stack.format_arn(service="glue", account=account, resource="table", resource_name=f"{database}/{t}")
                for t in tables
            ),
        ]

    def add_to_principal(self, grantee: iam.IGrantable) -> iam.Grant:
        """:meth:`statements` added to ``grantee``'s policy, as one grant."""
        statements = self.statements()
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=statements[0].actions, resource_arns=statements[0].resources
        )
        for statement in statements[1:]:
            grant = grant.combine(
                iam.Grant.add_to_principal(
                    grantee=grantee, actions=statement.actions, resource_arns=statement.resources
                )
            )
        return grant

    def acknowledge(self, construct: Construct) -> None:
        """The findings on a principal that holds :meth:`statements`."""
        acknowledge(
            construct,
            "AwsSolutions-IAM5[Resource::*]",
            "lakeformation:GetDataAccess, athena:ListDataCatalogs and athena:ListWorkGroups support no "
            "resource-level permissions; the listings only read names, and Lake Formation itself decides which "
            "tables the role may read, from the grants this construct makes.",
        )
        acknowledge_wildcard(
            construct,
            f"{self.results_bucket.bucket_arn}/results/*",
            "Athena writes each query's results under a new key below results/ in the construct's own bucket; "
            "the role is limited to that prefix.",
        )

    def quicksight_role(self) -> iam.IRole:
        """QuickSight's own role for the data source (the account-wide QuickSight role stays untouched)."""
        role = iam.Role(
            self.scope,
            "QuickSightRole",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight's role for the Security Lake Athena data source",
        )
        for statement in self.statements():
            role.add_to_policy(statement)
        self.acknowledge(role)
        return role

    def lake_formation_grants(self, key: str, principal: str) -> list[lakeformation.CfnPrincipalPermissions]:
        """``principal``'s grants, ids starting ``Grant<key>``: DESCRIBE on the database, ``default`` and the
        links, SELECT on the shared tables and the view."""
        catalog = self.catalog
        grants = [
            self._grant(
                f"Grant{key}Database",
                principal,
                _database(catalog.database_name),
                ["DESCRIBE"],
                [catalog.database],
            ),
            # Athena: "The DESCRIBE permission is required on the default database" (Considerations and limitations
            # for querying data registered with Lake Formation); without it every query of a principal fails in an
            # account where Lake Formation, not IAMAllowedPrincipals, governs the catalog.
            self._grant(
                f"Grant{key}DefaultDatabase",
                principal,
                _database(ATHENA_DEFAULT_DATABASE),
                ["DESCRIBE"],
                [catalog.database, *([catalog.default_database] if catalog.default_database is not None else [])],
            ),
        ]
        if catalog.failed_findings_view is not None:
            # A view is a table of this account: readers need SELECT on it, and on what it reads (granted below).
            grants.append(
                self._grant(
                    f"Grant{key}FailedFindingsView",
                    principal,
                    _table(Aws.ACCOUNT_ID, catalog.database_name, FAILED_FINDINGS_VIEW),
                    ["SELECT", "DESCRIBE"],
                    [catalog.failed_findings_view],
                )
            )
        for source in catalog.sources:
            table = source.table_name(catalog.region)
            link = catalog.resource_links[source.name]
            link_table = _table(Aws.ACCOUNT_ID, catalog.database_name, table)
            grants.append(
                self._grant(f"Grant{key}Link{pascal(source.name)}", principal, link_table, ["DESCRIBE"], [link])
            )
            target_table = _table(catalog.lake_account, catalog.lake_database_name, table)
            grants.append(
                self._grant(f"Grant{key}Target{pascal(source.name)}", principal, target_table, ["SELECT"], [link])
            )
        return grants

    def _grant(
        self,
        construct_id: str,
        principal: str,
        resource: _Permission.ResourceProperty,
        permissions: list[str],
        after: Sequence[glue.CfnTable | glue.CfnDatabase],
    ) -> lakeformation.CfnPrincipalPermissions:
        permission = _Permission(
            self.scope,
            construct_id,
            principal=_Permission.DataLakePrincipalProperty(data_lake_principal_identifier=principal),
            resource=resource,
            permissions=permissions,
            permissions_with_grant_option=[],
        )
        for dependency in after:
            permission.node.add_dependency(dependency)
        return permission


def _database(name: str) -> _Permission.ResourceProperty:
    """A database of this account, as a Lake Formation grant names it."""
    return _Permission.ResourceProperty(
        database=_Permission.DatabaseResourceProperty(catalog_id=Aws.ACCOUNT_ID, name=name)
    )


def _table(catalog_id: str, database_name: str, name: str) -> _Permission.ResourceProperty:
    """A table of the catalog ``catalog_id``, as a Lake Formation grant names it."""
    return _Permission.ResourceProperty(
        table=_Permission.TableResourceProperty(catalog_id=catalog_id, database_name=database_name, name=name)
    )
