"""Athena in the visualization account: an enforcing workgroup, its encrypted results bucket, the named queries."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_athena as athena
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import SecureBucket, skip_checkov
from blueprints.constructs.security_lake.catalog import LinkedCatalog
from blueprints.constructs.security_lake.views import NAMED_QUERIES, named_query_sql, view_source


def results_key(scope: Construct) -> kms.IKey:
    return kms.Key(
        scope,
        "ResultsKey",
        description="Encrypts the Security Lake visualization's Athena query results",
        enable_key_rotation=True,
    )


def results_bucket(scope: Construct, key: kms.IKey, expiration: Duration) -> s3.IBucket:
    """The query results, encrypted with ``key``; results expire after ``expiration``, incomplete uploads a day."""
    bucket = SecureBucket(
        scope,
        "Results",
        encryption_key=key,
        versioned=False,
        lifecycle_rules=[
            s3.LifecycleRule(expiration=expiration, abort_incomplete_multipart_upload_after=Duration.days(1))
        ],
    )
    skip_checkov(
        bucket,
        ["CKV_AWS_21"],
        "Athena writes each query's results once, under the query's own id, and they expire by the lifecycle "
        "rule; they are copies of data kept in Security Lake, so a versioned copy would protect nothing.",
    )
    return bucket


def workgroup(
    scope: Construct, *, name: str, bucket: s3.IBucket, key: kms.IKey, bytes_scanned_cutoff_per_query: int
) -> athena.CfnWorkGroup:
    """A workgroup on Athena engine 3 whose configuration (results location and key, scan cutoff) is enforced."""
    return athena.CfnWorkGroup(
        scope,
        "WorkGroup",
        name=name,
        # Once QuickSight has queried it, the workgroup holds query executions, and Athena refuses to delete
        # a non-empty workgroup; the results themselves stay in the retained results bucket.
        recursive_delete_option=True,
        description="Queries over the Security Lake resource links; configuration enforced",
        state="ENABLED",
        work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
            enforce_work_group_configuration=True,
            publish_cloud_watch_metrics_enabled=True,
            bytes_scanned_cutoff_per_query=bytes_scanned_cutoff_per_query,
            engine_version=athena.CfnWorkGroup.EngineVersionProperty(selected_engine_version="Athena engine version 3"),
            result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                output_location=f"s3://{bucket.bucket_name}/results/",
                expected_bucket_owner=Aws.ACCOUNT_ID,
                encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                    encryption_option="SSE_KMS", kms_key=key.key_arn
                ),
            ),
        ),
    )


def named_queries(scope: Construct, catalog: LinkedCatalog, group: athena.CfnWorkGroup) -> list[athena.CfnNamedQuery]:
    """The post's named queries in ``group``, over the findings link and the view (none without findings)."""
    findings = view_source(catalog.sources)
    if findings is None:
        return []
    link = findings.table_name(catalog.region)
    created_queries = []
    for construct_id, name, file in NAMED_QUERIES:
        query = athena.CfnNamedQuery(
            scope,
            construct_id,
            name=name,
            description=f"From the Security Lake visualization post, over {link}",
            database=catalog.database_name,
            work_group=group.ref,
            query_string=named_query_sql(file, catalog.database_name, findings, catalog.region),
        )
        query.node.add_dependency(catalog.failed_findings_view or catalog.resource_links["SH_FINDINGS"])
        created_queries.append(query)
    return created_queries
