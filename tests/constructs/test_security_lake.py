"""Security Lake subscriber and visualization: both example stacks (with both nag packs) and every validation."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from blueprints.constructs.security_lake import (
    AWS_LOG_SOURCES,
    FAILED_FINDINGS_VIEW,
    FAILED_FINDINGS_VIEW_COLUMNS,
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    all_aws_sources,
    dashboards,
    parse_sources,
    views,
)
from blueprints.stacks.security_lake import DEFAULT_SOURCES
from tests.conftest import ROOT, cdk_context
from tests.stack_kit import synth_example

LAKE = "111111111111"
VIZ = "222222222222"
REGION = "us-east-1"
OWNER = f"arn:aws:quicksight:{REGION}:{VIZ}:group/default/security-admins"
ANALYST = f"arn:aws:iam::{VIZ}:role/SecurityAnalyst"
SH_LINK = "amazon_security_lake_table_us_east_1_sh_findings_2_0"
LAKE_DB = "amazon_security_lake_glue_db_us_east_1"
#: What the example stacks subscribe to by default (cdk.json's security_lake:sources).
EXAMPLE_SOURCES = parse_sources(DEFAULT_SOURCES)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    return synth_example("blueprints.stacks.security_lake", outdir=tmp_path_factory.mktemp("security_lake"))


@pytest.fixture(scope="module")
def subscriber(templates: dict[str, Template]) -> Template:
    return templates["SecurityLakeSubscriber"]


@pytest.fixture(scope="module")
def viz(templates: dict[str, Template]) -> Template:
    return templates["SecurityLakeVisualization"]


def _logical_id(template: Template, resource_type: str, props: dict[str, Any] | None = None) -> str:
    found = template.find_resources(resource_type, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return next(iter(found))


# The subscriber (lake account) ------------------------------------------------


def test_subscriber_gives_lake_formation_access_to_the_visualization_account(subscriber: Template) -> None:
    subscriber.has_resource_properties(
        "AWS::SecurityLake::Subscriber",
        {
            "AccessTypes": ["LAKEFORMATION"],
            "DataLakeArn": f"arn:aws:securitylake:{REGION}:{LAKE}:data-lake/default",
            "SubscriberIdentity": {"Principal": VIZ, "ExternalId": Match.any_value()},
            "Sources": [{"AwsLogSource": {"SourceName": s.name, "SourceVersion": s.version}} for s in EXAMPLE_SOURCES],
        },
    )


def test_external_id_is_a_generated_secret_resolved_at_deploy_time(subscriber: Template) -> None:
    secret_id = _logical_id(subscriber, "AWS::SecretsManager::Secret")
    subscriber.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": {"PasswordLength": 32, "ExcludePunctuation": True, "IncludeSpace": False}},
    )
    identity = next(iter(subscriber.find_resources("AWS::SecurityLake::Subscriber").values()))["Properties"][
        "SubscriberIdentity"
    ]
    rendered = json.dumps(identity["ExternalId"])
    assert "{{resolve:secretsmanager:" in rendered
    assert secret_id in rendered


def test_subscriber_outputs_what_the_visualization_account_needs(subscriber: Template) -> None:
    outputs = subscriber.to_json()["Outputs"]
    values = {json.dumps(o["Value"]) for o in outputs.values()}
    for attribute in ("ResourceShareArn", "ResourceShareName", "SubscriberArn"):
        assert any(attribute in v for v in values), attribute


# The visualization account -------------------------------------------------------


def test_share_acceptance_waits_for_the_invitation_from_the_lake_account(viz: Template) -> None:
    viz.has_resource_properties(
        "Custom::SecurityLakeShareAcceptance",
        {
            "SenderAccountId": LAKE,
            "SubscriberName": "cross-account-visualization",
            "Sources": "CLOUD_TRAIL_MGMT:2.0,ROUTE53:2.0,SH_FINDINGS:2.0,VPC_FLOW:2.0",
            "TimeoutSeconds": "1800",
        },
    )
    for phase in ("on_event", "is_complete"):
        viz.has_resource_properties(
            "AWS::Lambda::Function",
            {
                "Runtime": "python3.14",
                "Environment": {"Variables": Match.object_like({"ACCEPTOR_PHASE": phase})},
                "TracingConfig": {"Mode": "Active"},
            },
        )
    viz.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False})},
    )


def test_only_invitations_from_the_lake_account_may_be_accepted(viz: Template) -> None:
    viz.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "ram:AcceptResourceShareInvitation",
                                "Condition": {"StringEquals": {"ram:ShareOwnerAccountId": LAKE}},
                            }
                        )
                    ]
                )
            }
        },
    )


def test_catalog_is_built_in_order_acceptance_database_links(viz: Template) -> None:
    acceptance = _logical_id(viz, "Custom::SecurityLakeShareAcceptance")
    database = viz.find_resources("AWS::Glue::Database")
    assert len(database) == 1
    database_id, database_resource = next(iter(database.items()))
    assert acceptance in database_resource["DependsOn"]
    viz.has_resource_properties(
        "AWS::Glue::Database",
        {
            "DatabaseInput": Match.object_like(
                {"Name": "security_lake_visualization", "CreateTableDefaultPermissions": []}
            )
        },
    )
    links = _links(viz)
    assert len(links) == len(EXAMPLE_SOURCES)
    for link in links.values():
        assert link["DependsOn"] == [database_id]
        table = link["Properties"]["TableInput"]
        assert table["Name"].startswith("amazon_security_lake_table_us_east_1_")
        assert table["TargetTable"] == {"CatalogId": LAKE, "DatabaseName": LAKE_DB, "Name": table["Name"]}


def _links(template: Template) -> dict[str, Any]:
    """The resource links (Glue tables with a target), by logical id."""
    tables = template.find_resources("AWS::Glue::Table")
    return {logical: t for logical, t in tables.items() if "TargetTable" in t["Properties"]["TableInput"]}


def test_grants_describe_links_and_select_targets_after_the_links(viz: Template) -> None:
    tables = viz.find_resources("AWS::Glue::Table")
    link_by_name = {r["Properties"]["TableInput"]["Name"]: logical for logical, r in tables.items()}
    grants = viz.find_resources("AWS::LakeFormation::PrincipalPermissions")
    # one principal (QuickSight's role; the example names no analyst) x (database + `default` + view + link and
    # target per source)
    assert len(grants) == 3 + 2 * len(EXAMPLE_SOURCES)
    for grant in grants.values():
        props = grant["Properties"]
        assert props["PermissionsWithGrantOption"] == []
        resource = props["Resource"]
        if "Database" in resource:
            assert props["Permissions"] == ["DESCRIBE"]
            continue
        table = resource["Table"]
        assert grant["DependsOn"] == [link_by_name[table["Name"]]]
        if table["Name"] == FAILED_FINDINGS_VIEW:
            assert props["Permissions"] == ["SELECT", "DESCRIBE"]
            continue
        if table["CatalogId"] == LAKE:
            assert props["Permissions"] == ["SELECT"]
            assert table["DatabaseName"] == LAKE_DB
        else:
            assert props["Permissions"] == ["DESCRIBE"]
            assert table["DatabaseName"] == "security_lake_visualization"


def test_example_grants_only_principals_it_knows_exist(viz: Template) -> None:
    """A Lake Formation grant to a principal that does not exist fails the deployment ('Invalid principal').

    The example's only default principal is the role it creates for QuickSight; analysts are granted when
    passed (security_lake:analyst_principal_arns), as the analysts-only variant below shows.
    """
    quicksight_role = _logical_id(
        viz,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "quicksight.amazonaws.com"}})]}
            )
        },
    )
    grants = viz.find_resources("AWS::LakeFormation::PrincipalPermissions")
    principals = {json.dumps(g["Properties"]["Principal"]["DataLakePrincipalIdentifier"]) for g in grants.values()}
    assert principals == {json.dumps({"Fn::GetAtt": [quicksight_role, "Arn"]})}


def test_lake_formation_administrators_are_never_written(templates: dict[str, Template]) -> None:
    for template in templates.values():
        template.resource_count_is("AWS::LakeFormation::DataLakeSettings", 0)


def test_workgroup_enforces_encrypted_results_and_a_scan_limit(viz: Template) -> None:
    key_id = _logical_id(viz, "AWS::KMS::Key")
    viz.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    viz.has_resource_properties(
        "AWS::Athena::WorkGroup",
        {
            "Name": "security-lake-visualization",
            "WorkGroupConfiguration": {
                "EnforceWorkGroupConfiguration": True,
                "PublishCloudWatchMetricsEnabled": True,
                "BytesScannedCutoffPerQuery": 10 * 1024**3,
                "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
                "ResultConfiguration": {
                    "OutputLocation": Match.any_value(),
                    "ExpectedBucketOwner": {"Ref": "AWS::AccountId"},
                    "EncryptionConfiguration": {
                        "EncryptionOption": "SSE_KMS",
                        "KmsKey": {"Fn::GetAtt": [key_id, "Arn"]},
                    },
                },
            },
        },
    )
    viz.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            }
                        }
                    )
                ]
            },
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {"ExpirationInDays": 30, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
                    )
                ]
            },
        },
    )
    viz.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_named_queries_carry_the_posts_examples(viz: Template) -> None:
    queries = [q["Properties"] for q in viz.find_resources("AWS::Athena::NamedQuery").values()]
    assert len(queries) == 2
    text = "\n".join(q["QueryString"] for q in queries)
    assert f'"AwsDataCatalog"."security_lake_visualization"."{SH_LINK}" LIMIT 10' in text
    assert f'"security_lake_visualization"."{FAILED_FINDINGS_VIEW}" LIMIT 10' in text
    # The view exists with the stack (see the view tests): no named query asks anybody to create it.
    assert "CREATE " not in text.upper()
    assert all(q["Database"] == "security_lake_visualization" for q in queries)


def test_quicksight_reads_athena_through_its_own_least_privilege_role(viz: Template) -> None:
    role_id = _quicksight_role_id(viz)
    viz.has_resource_properties(
        "AWS::QuickSight::DataSource",
        {
            "Type": "ATHENA",
            "DataSourceParameters": {
                "AthenaParameters": {"WorkGroup": Match.any_value(), "RoleArn": {"Fn::GetAtt": [role_id, "Arn"]}}
            },
            "SslProperties": {"DisableSsl": False},
            "Permissions": [Match.object_like({"Principal": OWNER})],
        },
    )
    wildcard = [s for s in _quicksight_statements(viz) if s["Resource"] == "*"]
    assert sorted(json.dumps(s["Action"]) for s in wildcard) == sorted(
        [json.dumps(["athena:ListDataCatalogs", "athena:ListWorkGroups"]), json.dumps("lakeformation:GetDataAccess")]
    )


def test_three_persona_datasets_query_the_links(viz: Template) -> None:
    data_sets = viz.find_resources("AWS::QuickSight::DataSet")
    assert len(data_sets) == 3
    sql = {}
    for data_set in data_sets.values():
        props = data_set["Properties"]
        assert props["ImportMode"] == "DIRECT_QUERY"
        assert props["Permissions"][0]["Principal"] == OWNER
        ((key, table),) = props["PhysicalTableMap"].items()
        sql[key] = table["CustomSql"]["SqlQuery"]
    assert set(sql) == {"executive", "custodian", "operator"}
    assert f'"security_lake_visualization"."{SH_LINK}"' in sql["executive"]
    assert sql["custodian"].count("UNION ALL") == len(EXAMPLE_SOURCES) - 1
    assert "severity_id >= 3" in sql["operator"]


def _dashboard(template: Template, persona: str) -> dict[str, Any]:
    found = template.find_resources(
        "AWS::QuickSight::Dashboard", {"Properties": {"DashboardId": f"security-lake-{persona}-overview"}}
    )
    assert len(found) == 1
    return dict(next(iter(found.values()))["Properties"])


def test_executive_dashboard_has_the_three_overview_visuals(viz: Template) -> None:
    executive = _logical_id(viz, "AWS::QuickSight::DataSet", {"DataSetId": "security-lake-executive"})
    dashboard = _dashboard(viz, "executive")
    definition = dashboard["Definition"]
    assert definition["DataSetIdentifierDeclarations"] == [
        {"Identifier": "executive", "DataSetArn": {"Fn::GetAtt": [executive, "Arn"]}}
    ]
    visuals = definition["Sheets"][0]["Visuals"]
    titles = [next(iter(v.values()))["Title"]["FormatText"]["PlainText"] for v in visuals]
    assert titles == ["Findings by severity over time", "Findings by account", "Failed compliance checks by account"]
    assert "LineChartVisual" in visuals[0]
    assert dashboard["Permissions"][0]["Principal"] == OWNER
    assert "quicksight:UpdateDashboardPermissions" in dashboard["Permissions"][0]["Actions"]


def test_every_persona_has_a_dashboard(viz: Template) -> None:
    viz.resource_count_is("AWS::QuickSight::Dashboard", 3)
    assert "TableVisual" in _dashboard(viz, "operator")["Definition"]["Sheets"][0]["Visuals"][0]
    assert "LineChartVisual" in _dashboard(viz, "custodian")["Definition"]["Sheets"][0]["Visuals"][0]


def test_dataset_columns_are_the_columns_the_sql_names(viz: Template) -> None:
    for data_set in viz.find_resources("AWS::QuickSight::DataSet").values():
        ((_, table),) = data_set["Properties"]["PhysicalTableMap"].items()
        sql = table["CustomSql"]["SqlQuery"]
        for column in table["CustomSql"]["Columns"]:
            assert f" AS {column['Name']}" in sql or f", {column['Name']}," in sql, column["Name"]


@pytest.mark.parametrize("persona", ["executive", "custodian", "operator"])
def test_dashboard_fields_exist_in_their_dataset(viz: Template, persona: str) -> None:
    data_set = next(
        iter(
            viz.find_resources(
                "AWS::QuickSight::DataSet", {"Properties": {"DataSetId": f"security-lake-{persona}"}}
            ).values()
        )
    )
    ((_, table),) = data_set["Properties"]["PhysicalTableMap"].items()
    columns = {c["Name"] for c in table["CustomSql"]["Columns"]}
    definition = _dashboard(viz, persona)["Definition"]
    referenced: list[dict[str, str]] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if "ColumnName" in node:
                referenced.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(definition)
    assert referenced and all(r["DataSetIdentifier"] == persona for r in referenced)
    assert {r["ColumnName"] for r in referenced} <= columns
    field_ids = _field_ids(definition)
    assert len(field_ids) == len(set(field_ids))
    layout = definition["Sheets"][0]["Layouts"][0]["Configuration"]["GridLayout"]["Elements"]
    visual_ids = [next(iter(v.values()))["VisualId"] for v in definition["Sheets"][0]["Visuals"]]
    assert [e["ElementId"] for e in layout] == visual_ids


def _field_ids(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["FieldId"]] if "FieldId" in node else []
        return own + [f for value in node.values() for f in _field_ids(value)]
    if isinstance(node, list):
        return [f for value in node for f in _field_ids(value)]
    return []


def test_no_policy_grants_every_action(templates: dict[str, Template]) -> None:
    for template in templates.values():
        for policy in template.find_resources("AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not [a for a in actions if a == "*" or a.endswith(":*")], actions


# A variant: no QuickSight, source version 1.0 as in the post --------------------------


@pytest.fixture(scope="module")
def analysts_only() -> Template:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Variant", env=cdk.Environment(account=VIZ, region="ap-southeast-2"))
    cdk.CfnWaitConditionHandle(stack, "LakeFormationAdmin")
    SecurityLakeVisualization(
        stack,
        "Viz",
        lake_account=LAKE,
        sources=[SecurityLakeSource("SH_FINDINGS", "1.0")],
        analyst_principal_arns=[ANALYST],
        enable_quicksight=False,
        bytes_scanned_cutoff_per_query=100_000_000,
        admin_dependencies=[stack.node.find_child("LakeFormationAdmin")],
    )
    return Template.from_stack(stack)


def test_database_waits_for_the_admin_dependencies(analysts_only: Template) -> None:
    admin = _logical_id(analysts_only, "AWS::CloudFormation::WaitConditionHandle")
    acceptance = _logical_id(analysts_only, "Custom::SecurityLakeShareAcceptance")
    database = next(iter(analysts_only.find_resources("AWS::Glue::Database").values()))
    assert sorted(database["DependsOn"]) == sorted([admin, acceptance])


def test_without_quicksight_only_the_analysts_are_granted(analysts_only: Template) -> None:
    for resource_type in ("AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet", "AWS::QuickSight::Dashboard"):
        analysts_only.resource_count_is(resource_type, 0)
    # database, `default`, the view, and the one source's link and target
    analysts_only.resource_count_is("AWS::LakeFormation::PrincipalPermissions", 5)
    analysts_only.has_resource_properties(
        "AWS::Glue::Table",
        {
            "TableInput": {
                "Name": "amazon_security_lake_table_ap_southeast_2_sh_findings_1_0",
                "TargetTable": Match.object_like({"DatabaseName": "amazon_security_lake_glue_db_ap_southeast_2"}),
            }
        },
    )


def test_version_one_views_use_the_posts_columns(analysts_only: Template) -> None:
    sql = _view_definition(analysts_only)["originalSql"]
    assert re.search(r"finding\.title AS finding_title, cloud\.account_uid", sql)
    assert "amazon_security_lake_table_ap_southeast_2_sh_findings_1_0" in sql


def test_spice_data_sets_refresh_daily() -> None:
    stack = _stack()
    viewer = f"arn:aws:quicksight:{REGION}:{VIZ}:group/default/ciso"
    share = f"arn:aws:ram:{REGION}:{LAKE}:resource-share/7d0c1b2a-3e4f"
    SecurityLakeVisualization(
        stack,
        "Viz",
        lake_account=LAKE,
        quicksight_owner_arn=OWNER,
        quicksight_viewer_arns=[viewer],
        data_set_import_mode="SPICE",
        resource_share_arn=share,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("Custom::SecurityLakeShareAcceptance", {"ResourceShareArn": share})
    template.has_resource_properties(
        "AWS::QuickSight::Dashboard",
        {
            "Permissions": [
                Match.object_like({"Principal": OWNER}),
                {
                    "Principal": viewer,
                    "Actions": [
                        "quicksight:DescribeDashboard",
                        "quicksight:ListDashboardVersions",
                        "quicksight:QueryDashboard",
                    ],
                },
            ]
        },
    )
    template.resource_count_is("AWS::QuickSight::RefreshSchedule", 3)
    template.has_resource_properties("AWS::QuickSight::DataSet", {"ImportMode": "SPICE"})
    template.has_resource_properties(
        "AWS::QuickSight::RefreshSchedule",
        {
            "DataSetId": "security-lake-executive",
            "Schedule": {
                "ScheduleId": "daily",
                "RefreshType": "FULL_REFRESH",
                "ScheduleFrequency": {"Interval": "DAILY", "TimeOfTheDay": "05:00", "TimeZone": "UTC"},
            },
        },
    )


def test_direct_query_needs_no_refresh_schedule(viz: Template) -> None:
    viz.resource_count_is("AWS::QuickSight::RefreshSchedule", 0)


# Validation ------------------------------------------------------------------------


def _example_owner(**context: str) -> str:
    """The QuickSight owner ARN the example app builds, read from the construct without synthesizing."""
    from blueprints.config import load_config
    from blueprints.stacks.security_lake import SecurityLakeVisualizationStack, add_example

    app = cdk.App(context=cdk_context(**context))
    stacks = add_example(app, load_config(app))
    viz_stack = next(s for s in stacks if isinstance(s, SecurityLakeVisualizationStack))
    data_source = viz_stack.visualization.data_source
    assert data_source is not None
    permissions = data_source.permissions
    assert isinstance(permissions, list)
    return str(permissions[0].principal)


def test_example_owner_defaults_to_the_stack_region() -> None:
    assert _example_owner() == OWNER


def test_example_owner_lives_in_the_quicksight_identity_region() -> None:
    """QuickSight users and groups live in the account's identity Region, and their ARNs carry it."""
    owner = _example_owner(**{"security_lake:quicksight_identity_region": "eu-west-1"})
    assert owner == f"arn:aws:quicksight:eu-west-1:{VIZ}:group/default/security-admins"


def test_example_owner_passed_in_wins_over_the_identity_region() -> None:
    owner = f"arn:aws:quicksight:eu-west-1:{VIZ}:user/default/alice"
    context = {"security_lake:quicksight_identity_region": "us-west-2", "security_lake:quicksight_owner_arn": owner}
    assert _example_owner(**context) == owner


@pytest.mark.parametrize("value", ["eu-west", "EU-WEST-1", ""])
def test_example_refuses_an_unknown_quicksight_identity_region(value: str) -> None:
    with pytest.raises(
        ValueError, match="context key 'security_lake:quicksight_identity_region' must be an AWS Region"
    ):
        _example_owner(**{"security_lake:quicksight_identity_region": value})


def _stack(account: str = VIZ, region: str | None = REGION) -> cdk.Stack:
    app = cdk.App(context=cdk_context())
    env = cdk.Environment(account=account, region=region) if region else None
    return cdk.Stack(app, "S", env=env)


def _viz(region: str | None = REGION, **overrides: Any) -> None:
    kwargs: dict[str, Any] = {"lake_account": LAKE, "quicksight_owner_arn": OWNER, **overrides}
    SecurityLakeVisualization(_stack(region=region), "Viz", **kwargs)


def test_table_names_follow_security_lake() -> None:
    assert SecurityLakeSource("SH_FINDINGS", "2.0").table_name("eu-west-1") == (
        "amazon_security_lake_table_eu_west_1_sh_findings_2_0"
    )
    assert len(all_aws_sources()) == 8


def test_every_sql_file_and_dashboard_is_read() -> None:
    """The data files of the package are all in use: each SQL file is a persona's dataset, the view or a named
    query, each dashboard in dashboards.json belongs to a persona, and every placeholder of a statement is filled."""
    used = {key for key, _, _ in views.PERSONAS} | {file for _, _, file in views.NAMED_QUERIES}
    assert {p.stem for p in views.SQL_DIR.glob("*.sql")} == used | {"failed_findings_view"}
    assert list(dashboards.PERSONA_DASHBOARDS) == [key for key, _, _ in views.PERSONAS]
    findings = SecurityLakeSource("SH_FINDINGS")
    statements = [p.sql for p in views.persona_data_sets("db", REGION, EXAMPLE_SOURCES)]
    statements += [
        views.failed_findings_view_sql("db", SecurityLakeSource("SH_FINDINGS", v), REGION) for v in ("1.0", "2.0")
    ]
    statements += [views.named_query_sql(file, "db", findings, REGION) for _, _, file in views.NAMED_QUERIES]
    assert all("$" not in s and "--" not in s and "\n" not in s for s in statements)
    with pytest.raises(KeyError, match="findings"):
        views.query("executive")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"subscriber_account": "2222"}, "subscriber_account must be a 12-digit AWS account id"),
        ({"subscriber_account": LAKE}, "must be another account than the Security Lake account"),
        ({"sources": []}, "sources must list at least one"),
        ({"sources": [SecurityLakeSource("GUARDDUTY")]}, "source name must be one of"),
        ({"sources": [SecurityLakeSource("WAF", "latest")]}, "must be a concrete version"),
        ({"sources": [SecurityLakeSource("WAF"), SecurityLakeSource("WAF", "1.0")]}, "WAF more than once"),
        ({"subscriber_name": "no;semicolons"}, "subscriber_name must be 1-64"),
        ({"subscriber_name": "no spaces"}, "subscriber_name must be 1-64"),
        ({"subscriber_name": "no,commas"}, "subscriber_name must be 1-64"),
    ],
)
def test_subscriber_validation(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"subscriber_account": VIZ, **kwargs}
    with pytest.raises(ValueError, match=message):
        SecurityLakeSubscriber(_stack(account=LAKE), "Sub", **arguments)


def test_subscriber_uses_a_secret_passed_in() -> None:
    stack = _stack(account=LAKE)
    secret = secretsmanager.Secret(stack, "Mine")
    subscriber = SecurityLakeSubscriber(stack, "Sub", subscriber_account=VIZ, external_id_secret=secret)
    assert subscriber.external_id_secret is secret
    Template.from_stack(stack).resource_count_is("AWS::SecretsManager::Secret", 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resource_share_arn": "arn:aws:s3:::bucket"}, "resource_share_arn must be an AWS RAM resource share ARN"),
        (
            {"resource_share_arn": f"arn:aws:ram:{REGION}:333333333333:resource-share/abc-1"},
            "owned by account 333333333333, not by sender_account",
        ),
        ({"timeout": cdk.Duration.seconds(30)}, "timeout must be between 1 minute and 50 minutes"),
        ({"timeout": cdk.Duration.hours(1)}, "timeout must be between 1 minute and 50 minutes"),
        ({"query_interval": cdk.Duration.seconds(1)}, "query_interval must be between 10 seconds and 5 minutes"),
        ({"sender_account": "abc"}, "sender_account must be a 12-digit"),
        ({"subscriber_name": "two words"}, "subscriber_name must be 1-64 ASCII"),
        ({"sources": []}, "sources must list at least one"),
    ],
)
def test_share_acceptance_validation(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"sender_account": LAKE, **kwargs}
    with pytest.raises(ValueError, match=message):
        SecurityLakeShareAcceptance(_stack(), "Accept", **arguments)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region": None}, "the stack must have an explicit region"),
        ({"lake_account": VIZ}, "lake_account must be the Security Lake account, not this visualization account"),
        ({"lake_account": "1"}, "lake_account must be a 12-digit"),
        ({"database_name": "Security-Lake"}, "database_name must be 1-255 lowercase"),
        ({"database_name": "default"}, "database_name must not be 'default'"),
        ({"subscriber_name": "viz, the account"}, "subscriber_name must be 1-64 ASCII"),
        ({"workgroup_name": "no spaces"}, "workgroup_name must be 1-128"),
        ({"analyst_principal_arns": ["SecurityAnalyst"]}, "analyst_principal_arns must be IAM role or user ARNs"),
        ({"analyst_principal_arns": [ANALYST, ANALYST]}, "must not repeat a principal"),
        ({"bytes_scanned_cutoff_per_query": 1024}, "at least 10000000 bytes"),
        ({"results_expiration": cdk.Duration.hours(2)}, "results_expiration must be a whole number of days"),
        ({"results_expiration": cdk.Duration.hours(36)}, "results_expiration must be a whole number of days"),
        ({"quicksight_owner_arn": None}, "quicksight_owner_arn is required with enable_quicksight=True"),
        ({"quicksight_owner_arn": ANALYST}, "QuickSight principals must be QuickSight user or group ARNs"),
        ({"quicksight_viewer_arns": [OWNER] * 64}, "at most 63 viewers"),
        ({"quicksight_id_prefix": "Security Lake"}, "quicksight_id_prefix must be 1-40"),
        ({"data_set_import_mode": "CACHE"}, "data_set_import_mode must be one of DIRECT_QUERY, SPICE"),
        ({"sources": [SecurityLakeSource("WAF")]}, "sources must include SH_FINDINGS"),
        ({"sources": [SecurityLakeSource("SH_FINDINGS", "1.0")]}, "written for source version 2.0"),
        ({"enable_quicksight": False}, "only used with enable_quicksight=True"),
        ({"enable_quicksight": False, "quicksight_owner_arn": None}, "nobody would be granted access"),
    ],
)
def test_visualization_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _viz(**kwargs)


def _grant_ids(analysts: list[str]) -> dict[str, str]:
    """Logical id -> principal of every Lake Formation grant of a visualization with these analysts."""
    stack = _stack(region=REGION)
    SecurityLakeVisualization(
        stack, "Viz", lake_account=LAKE, quicksight_owner_arn=OWNER, analyst_principal_arns=analysts
    )
    grants = Template.from_stack(stack).find_resources("AWS::LakeFormation::PrincipalPermissions")
    return {
        logical_id: json.dumps(resource["Properties"]["Principal"]["DataLakePrincipalIdentifier"])
        for logical_id, resource in grants.items()
    }


def test_grants_are_named_by_principal_so_removing_an_analyst_leaves_the_others_alone() -> None:
    other = f"arn:aws:iam::{VIZ}:role/Auditor"
    before = _grant_ids([ANALYST, other])
    after = _grant_ids([other])
    # Every grant that remains keeps its logical id and principal: CloudFormation neither recreates nor revokes it.
    assert set(after.items()) <= set(before.items())
    assert len(before) - len(after) == len([p for p in before.values() if ANALYST in p]) > 0
    assert any("QuickSight" in logical_id for logical_id in after)


def _joined(value: Any) -> str:
    """An ARN as the template writes it, with ``{"Ref": ...}`` parts shown as ``<...>``."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    return "".join(p if isinstance(p, str) else f"<{p.get('Ref', p)}>" for p in parts)


def _quicksight_role_id(viz: Template) -> str:
    """The logical id of the role the QuickSight data source uses."""
    return _logical_id(
        viz,
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [Match.object_like({"Principal": {"Service": "quicksight.amazonaws.com"}})],
                "Version": Match.any_value(),
            }
        },
    )


def _quicksight_statements(viz: Template) -> list[dict[str, Any]]:
    policies = viz.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": _quicksight_role_id(viz)}]}})
    return [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_quicksight_role_has_athenas_default_database_and_catalog_access(viz: Template) -> None:
    # Athena: access to the Region's `default` database and catalog for GetDatabase and CreateDatabase must be
    # present for Athena to work with the Glue Data Catalog (fine-grained-access-to-glue-resources,
    # #full-access-to-default-db-per-region).
    statements = {s.get("Sid"): s for s in _quicksight_statements(viz)}
    default = statements["AthenaDefaultDatabase"]
    assert sorted(default["Action"]) == ["glue:CreateDatabase", "glue:GetDatabase"]
    assert [_joined(r) for r in default["Resource"]] == [
        f"arn:aws:glue:{REGION}:{VIZ}:catalog",
        f"arn:aws:glue:{REGION}:{VIZ}:database/default",
    ]
    # CreateDatabase nowhere else: it can create the `default` database only.
    others = [s for sid, s in statements.items() if sid != "AthenaDefaultDatabase"]
    assert not [s for s in others if "glue:CreateDatabase" in s["Action"]]
    reads = statements["ReadTheLinksAndSharedTables"]
    assert {"glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"} <= set(reads["Action"])
    tables = [_joined(r) for r in reads["Resource"] if ":table/" in _joined(r)]
    assert f"arn:aws:glue:{REGION}:{LAKE}:table/{LAKE_DB}/{SH_LINK}" in tables
    assert not [r for r in map(_joined, reads["Resource"]) if r.endswith("database/default")]


# Subscriber names: what Security Lake's API accepts (finding 8) ------------------------------


def _botocore_subscriber_name_rule() -> tuple[re.Pattern[str], int]:
    """UpdateSubscriber's subscriberName in botocore's securitylake model: pattern and maximum length.

    The service validates as Java does, where ``\\w`` is ASCII only; ``re.ASCII`` gives Python the same.
    """
    import botocore.session

    model = botocore.session.get_session().get_service_model("securitylake")
    shape = model.operation_model("UpdateSubscriber").input_shape.members["subscriberName"]
    return re.compile(shape.metadata["pattern"], re.ASCII), shape.metadata["max"]


@pytest.mark.parametrize(
    "name",
    [
        "cross-account-visualization",
        "viz_account:prod/eu@corp=1+2.x",
        "back\\slash",
        "x" * 64,
        "x" * 65,
        "with space",
        "comma,separated",
        "tab\there",
        "semi;colon",
        "ümlaut",
        "",
    ],
)
def test_subscriber_names_are_accepted_exactly_as_update_subscriber_accepts_them(name: str) -> None:
    pattern, longest = _botocore_subscriber_name_rule()
    # CloudFormation requires a name (the construct always sends one), so the empty name the pattern allows is refused
    api_accepts = bool(pattern.fullmatch(name)) and 1 <= len(name) <= longest
    try:
        SecurityLakeSubscriber(_stack(account=LAKE), "Sub", subscriber_account=VIZ, subscriber_name=name)
        construct_accepts = True
    except ValueError as error:
        assert "subscriber_name must be" in str(error)
        construct_accepts = False
    assert construct_accepts == api_accepts


def test_subscriber_name_reaches_the_subscriber_and_the_acceptance() -> None:
    stack = _stack(account=LAKE)
    SecurityLakeSubscriber(stack, "Sub", subscriber_account=VIZ, subscriber_name="soc-dashboards")
    Template.from_stack(stack).has_resource_properties(
        "AWS::SecurityLake::Subscriber", {"SubscriberName": "soc-dashboards"}
    )
    viz_stack = _stack()
    SecurityLakeVisualization(
        viz_stack, "Viz", lake_account=LAKE, quicksight_owner_arn=OWNER, subscriber_name="soc-dashboards"
    )
    Template.from_stack(viz_stack).has_resource_properties(
        "Custom::SecurityLakeShareAcceptance", {"SubscriberName": "soc-dashboards"}
    )


# Sources: botocore's list, one context key for both stacks (finding 5) -----------------------


def test_aws_log_sources_are_botocores_aws_log_source_names() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("securitylake")
    assert sorted(AWS_LOG_SOURCES) == sorted(model.shape_for("AwsLogSourceName").enum)


def test_cdk_json_sets_the_example_sources_the_code_defaults_to() -> None:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert parse_sources(context["security_lake:sources"]) == EXAMPLE_SOURCES
    assert {s.name for s in EXAMPLE_SOURCES} == {"CLOUD_TRAIL_MGMT", "VPC_FLOW", "ROUTE53", "SH_FINDINGS"}


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    return synth_example(
        "blueprints.stacks.security_lake",
        outdir=tmp_path_factory.mktemp("security_lake_two_sources"),
        **{"security_lake:sources": "WAF, SH_FINDINGS:2.0"},
    )


def test_both_stacks_follow_the_sources_context_key(two_sources: dict[str, Template]) -> None:
    subscriber = two_sources["SecurityLakeSubscriber"]
    subscriber.has_resource_properties(
        "AWS::SecurityLake::Subscriber",
        {
            "Sources": [
                {"AwsLogSource": {"SourceName": "WAF", "SourceVersion": "2.0"}},
                {"AwsLogSource": {"SourceName": "SH_FINDINGS", "SourceVersion": "2.0"}},
            ]
        },
    )
    viz = two_sources["SecurityLakeVisualization"]
    names = sorted(link["Properties"]["TableInput"]["Name"] for link in _links(viz).values())
    assert names == [SH_LINK, "amazon_security_lake_table_us_east_1_waf_2_0"]
    viz.has_resource_properties("Custom::SecurityLakeShareAcceptance", {"Sources": "SH_FINDINGS:2.0,WAF:2.0"})
    granted = {
        g["Properties"]["Resource"]["Table"]["Name"]
        for g in viz.find_resources("AWS::LakeFormation::PrincipalPermissions").values()
        if "Table" in g["Properties"]["Resource"]
    }
    assert granted == {SH_LINK, "amazon_security_lake_table_us_east_1_waf_2_0", FAILED_FINDINGS_VIEW}


def test_custodian_union_follows_the_sources(two_sources: dict[str, Template]) -> None:
    viz = two_sources["SecurityLakeVisualization"]
    custodian = _logical_id(viz, "AWS::QuickSight::DataSet", {"DataSetId": "security-lake-custodian"})
    table = viz.to_json()["Resources"][custodian]["Properties"]["PhysicalTableMap"]["custodian"]
    sql = table["CustomSql"]["SqlQuery"]
    branches = sql.split(" UNION ALL ")
    assert len(branches) == 2
    assert "amazon_security_lake_table_us_east_1_waf_2_0" in branches[0] and SH_LINK in branches[1]
    assert not re.search(r"vpc_flow|route53|cloud_trail", sql)


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ("SH_FINDINGS,GUARDDUTY", "source name must be one of"),
        ("SH_FINDINGS:latest", "must be a concrete version"),
        ("", "sources must list at least one"),
        ("SH_FINDINGS,SH_FINDINGS:1.0", "more than once"),
    ],
)
def test_example_refuses_unknown_sources(value: str, detail: str) -> None:
    from blueprints.config import load_config
    from blueprints.stacks.security_lake import add_example

    app = cdk.App(context=cdk_context(**{"security_lake:sources": value}))
    with pytest.raises(ValueError, match=f"context key 'security_lake:sources' must list .*{detail}"):
        add_example(app, load_config(app))


def test_example_takes_the_sources_as_a_json_list() -> None:
    from blueprints.config import load_config
    from blueprints.stacks.security_lake import SecurityLakeSubscriberStack, add_example

    app = cdk.App(context=cdk_context(**{"security_lake:sources": ["SH_FINDINGS", "VPC_FLOW:2.0"]}))
    subscriber = next(s for s in add_example(app, load_config(app)) if isinstance(s, SecurityLakeSubscriberStack))
    assert subscriber.subscriber.sources == (SecurityLakeSource("SH_FINDINGS"), SecurityLakeSource("VPC_FLOW"))


# A subscriber edit runs the acceptance again (finding 3) -------------------------------------


def _acceptance_properties(sources: list[SecurityLakeSource], **kwargs: Any) -> dict[str, Any]:
    stack = _stack()
    SecurityLakeVisualization(
        stack,
        "Viz",
        lake_account=LAKE,
        enable_quicksight=False,
        analyst_principal_arns=[ANALYST],
        sources=sources,
        **kwargs,
    )
    found = Template.from_stack(stack).find_resources("Custom::SecurityLakeShareAcceptance")
    ((_, resource),) = found.items()
    properties = dict(resource["Properties"])
    del properties["ServiceToken"]
    return properties


def test_acceptance_properties_change_with_the_subscribed_sources() -> None:
    """CloudFormation runs a custom resource again only when its properties change.

    Security Lake may answer a subscriber edit with a new RAM share; a change of sources, the edit this app makes,
    must therefore reach the acceptance, while a mere reordering must not run it for nothing.
    """
    findings, waf, vpc = SecurityLakeSource("SH_FINDINGS"), SecurityLakeSource("WAF"), SecurityLakeSource("VPC_FLOW")
    before = _acceptance_properties([findings, waf])
    assert _acceptance_properties([waf, findings]) == before
    assert _acceptance_properties([findings, waf, vpc]) != before
    assert _acceptance_properties([findings, SecurityLakeSource("WAF", "1.0")]) != before
    share = f"arn:aws:ram:{REGION}:{LAKE}:resource-share/0a1b2c3d-4e5f"
    assert _acceptance_properties([findings, waf], resource_share_arn=share) != before


# Athena's `default` database under Lake Formation (finding 4) --------------------------------


def _default_grants(template: Template) -> dict[str, Any]:
    return {
        logical: g
        for logical, g in template.find_resources("AWS::LakeFormation::PrincipalPermissions").items()
        if g["Properties"]["Resource"].get("Database", {}).get("Name") == "default"
    }


def test_every_principal_may_describe_the_default_database() -> None:
    """Athena: "The DESCRIBE permission is required on the default database" (Considerations and limitations for
    querying data registered with Lake Formation)."""
    stack = _stack()
    SecurityLakeVisualization(
        stack, "Viz", lake_account=LAKE, quicksight_owner_arn=OWNER, analyst_principal_arns=[ANALYST]
    )
    template = Template.from_stack(stack)
    grants = _default_grants(template)
    principals = sorted(
        json.dumps(g["Properties"]["Principal"]["DataLakePrincipalIdentifier"]) for g in grants.values()
    )
    assert principals == sorted(
        [json.dumps(ANALYST), json.dumps({"Fn::GetAtt": [_quicksight_role_id(template), "Arn"]})]
    )
    for grant in grants.values():
        assert grant["Properties"]["Resource"]["Database"] == {
            "CatalogId": {"Ref": "AWS::AccountId"},
            "Name": "default",
        }
        assert grant["Properties"]["Permissions"] == ["DESCRIBE"]
    # Nothing creates `default` unless asked: Athena or an earlier user usually has.
    template.resource_count_is("AWS::Glue::Database", 1)


def test_default_database_can_be_created_and_outlives_the_stack() -> None:
    stack = _stack()
    SecurityLakeVisualization(stack, "Viz", lake_account=LAKE, quicksight_owner_arn=OWNER, create_default_database=True)
    template = Template.from_stack(stack)
    default_id = _logical_id(template, "AWS::Glue::Database", {"DatabaseInput": Match.object_like({"Name": "default"})})
    resource = template.to_json()["Resources"][default_id]
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    (grant,) = _default_grants(template).values()
    assert default_id in grant["DependsOn"]


# The post's view, created with the stack and readable (finding 6) ----------------------------


def _view(template: Template) -> dict[str, Any]:
    views = [
        t
        for t in template.find_resources("AWS::Glue::Table").values()
        if t["Properties"]["TableInput"].get("TableType") == "VIRTUAL_VIEW"
    ]
    assert len(views) == 1
    return views[0]


def _view_definition(template: Template) -> dict[str, Any]:
    text = _view(template)["Properties"]["TableInput"]["ViewOriginalText"]
    match = re.fullmatch(r"/\* Presto View: ([A-Za-z0-9+/=]+) \*/", text)
    assert match, text
    return dict(json.loads(base64.b64decode(match.group(1))))


def test_failed_findings_view_is_an_athena_view_over_the_findings_link(viz: Template) -> None:
    """Athena keeps a view as a Glue VIRTUAL_VIEW table whose original text is the base64 JSON definition between
    ``/* Presto View: `` and `` */``, expanded text ``/* Presto View */``, parameter ``presto_view=true`` (Trino's
    Hive connector: ViewReaderUtil and HiveMetadata in trinodb/trino, the engine of Athena engine version 3)."""
    view = _view(viz)
    table = view["Properties"]["TableInput"]
    assert table["Name"] == FAILED_FINDINGS_VIEW
    assert table["ViewExpandedText"] == "/* Presto View */"
    assert table["Parameters"] == {"presto_view": "true", "comment": "Presto View"}
    assert view["Properties"]["DatabaseName"] == "security_lake_visualization"
    definition = _view_definition(viz)
    assert definition["catalog"] == "awsdatacatalog" and definition["schema"] == "security_lake_visualization"
    assert "owner" not in definition  # runs with the querying principal's rights, which the grants give
    sql = definition["originalSql"]
    assert sql.startswith("SELECT finding_info.title AS finding_title, cloud.account.uid AS account_uid")
    assert f'FROM "security_lake_visualization"."{SH_LINK}" WHERE compliance.status = \'FAILED\'' in sql
    assert sql.endswith("ORDER BY finding_info.created_time LIMIT 100")
    # The declared columns are the SELECT's aliases, in order, in both the definition and the Glue schema.
    aliases = re.findall(r" AS (\w+)", sql)
    assert [c["name"] for c in definition["columns"]] == aliases == list(FAILED_FINDINGS_VIEW_COLUMNS)
    assert {c["type"] for c in definition["columns"]} == {"varchar"}
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == aliases
    sh_link = next(logical for logical, t in _links(viz).items() if t["Properties"]["TableInput"]["Name"] == SH_LINK)
    assert view["DependsOn"] == [sh_link]


def test_every_principal_may_read_the_view() -> None:
    stack = _stack()
    SecurityLakeVisualization(
        stack, "Viz", lake_account=LAKE, quicksight_owner_arn=OWNER, analyst_principal_arns=[ANALYST]
    )
    template = Template.from_stack(stack)
    view_grants = [
        g["Properties"]
        for g in template.find_resources("AWS::LakeFormation::PrincipalPermissions").values()
        if g["Properties"]["Resource"].get("Table", {}).get("Name") == FAILED_FINDINGS_VIEW
    ]
    principals = sorted(json.dumps(g["Principal"]["DataLakePrincipalIdentifier"]) for g in view_grants)
    assert principals == sorted(
        [json.dumps(ANALYST), json.dumps({"Fn::GetAtt": [_quicksight_role_id(template), "Arn"]})]
    )
    for grant in view_grants:
        assert grant["Permissions"] == ["SELECT", "DESCRIBE"]
        assert grant["Resource"]["Table"]["DatabaseName"] == "security_lake_visualization"
        # ...and what the view reads: SELECT on the shared findings table, DESCRIBE on its link.
        principal = grant["Principal"]
        reads = {
            (g["Properties"]["Resource"]["Table"]["Name"], g["Properties"]["Resource"]["Table"]["DatabaseName"]): g[
                "Properties"
            ]["Permissions"]
            for g in template.find_resources("AWS::LakeFormation::PrincipalPermissions").values()
            if g["Properties"]["Principal"] == principal and "Table" in g["Properties"]["Resource"]
        }
        assert reads[(SH_LINK, LAKE_DB)] == ["SELECT"]
        assert reads[(SH_LINK, "security_lake_visualization")] == ["DESCRIBE"]


def test_without_security_hub_findings_there_is_no_view() -> None:
    stack = _stack()
    SecurityLakeVisualization(
        stack,
        "Viz",
        lake_account=LAKE,
        sources=[SecurityLakeSource("VPC_FLOW")],
        enable_quicksight=False,
        analyst_principal_arns=[ANALYST],
    )
    template = Template.from_stack(stack)
    assert not [
        t
        for t in template.find_resources("AWS::Glue::Table").values()
        if t["Properties"]["TableInput"].get("TableType") == "VIRTUAL_VIEW"
    ]
    template.resource_count_is("AWS::Athena::NamedQuery", 0)
