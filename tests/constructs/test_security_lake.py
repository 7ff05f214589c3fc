"""Security Lake subscriber and visualization: both example stacks (with both nag packs) and every validation."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from blueprints.constructs.security_lake import (
    AWS_LOG_SOURCES,
    SecurityLakeShareAcceptance,
    SecurityLakeSource,
    SecurityLakeSubscriber,
    SecurityLakeVisualization,
    all_aws_sources,
)
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

LAKE = "111111111111"
VIZ = "222222222222"
REGION = "us-east-1"
OWNER = f"arn:aws:quicksight:{REGION}:{VIZ}:group/default/security-admins"
ANALYST = f"arn:aws:iam::{VIZ}:role/SecurityAnalyst"
SH_LINK = "amazon_security_lake_table_us_east_1_sh_findings_2_0"
LAKE_DB = "amazon_security_lake_glue_db_us_east_1"


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
            "Sources": [{"AwsLogSource": {"SourceName": name, "SourceVersion": "2.0"}} for name in AWS_LOG_SOURCES],
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
        {"SenderAccountId": LAKE, "ResourceShareNamePrefix": "LakeFormation", "TimeoutSeconds": "1800"},
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
    links = viz.find_resources("AWS::Glue::Table")
    assert len(links) == len(AWS_LOG_SOURCES)
    for link in links.values():
        assert link["DependsOn"] == [database_id]
        table = link["Properties"]["TableInput"]
        assert table["Name"].startswith("amazon_security_lake_table_us_east_1_")
        assert table["TargetTable"] == {"CatalogId": LAKE, "DatabaseName": LAKE_DB, "Name": table["Name"]}


def test_grants_describe_links_and_select_targets_after_the_links(viz: Template) -> None:
    links = viz.find_resources("AWS::Glue::Table")
    link_by_name = {r["Properties"]["TableInput"]["Name"]: logical for logical, r in links.items()}
    grants = viz.find_resources("AWS::LakeFormation::PrincipalPermissions")
    # one principal (QuickSight's role; the example names no analyst) x (database + link + target per source)
    assert len(grants) == 1 + 2 * len(AWS_LOG_SOURCES)
    for grant in grants.values():
        props = grant["Properties"]
        assert props["PermissionsWithGrantOption"] == []
        resource = props["Resource"]
        if "Database" in resource:
            assert props["Permissions"] == ["DESCRIBE"]
            continue
        table = resource["Table"]
        assert grant["DependsOn"] == [link_by_name[table["Name"]]]
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
    assert len(queries) == 3
    text = "\n".join(q["QueryString"] for q in queries)
    assert f'"AwsDataCatalog"."security_lake_visualization"."{SH_LINK}" LIMIT 10' in text
    assert "CREATE OR REPLACE VIEW security_hub_new_failed_findings_by_created_time AS" in text
    assert "finding_info.title" in text and "compliance.status = 'FAILED'" in text
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
    assert sql["custodian"].count("UNION ALL") == len(AWS_LOG_SOURCES) - 1
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
    analysts_only.resource_count_is("AWS::LakeFormation::PrincipalPermissions", 3)
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
    analysts_only.has_resource_properties(
        "AWS::Athena::NamedQuery",
        {"QueryString": Match.string_like_regexp(r"finding\.title AS finding_title, cloud\.account_uid")},
    )


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
        ({"resource_share_name_prefix": ""}, "resource_share_name_prefix must be 1-255"),
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
