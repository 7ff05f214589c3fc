"""The MWAA DR pair: both strategies synthesized once (with both nag packs), resources asserted,
and every path of the failover and failback state machines walked through their definitions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from blueprints.constructs.mwaa_dr import (
    DR_CONFIGURATION_OPTIONS,
    REPLACING_PROPERTIES,
    SECRETS_MANAGER_BACKEND,
    AirflowS3Object,
    MwaaDrPrimary,
    MwaaDrSecondary,
    MwaaDrStrategy,
    SecretsManagerBackend,
    dr_bucket_names,
    replica_key_alias,
)
from blueprints.example_app import add_nag_packs, new_app
from tests import asl_kit
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def active_passive() -> dict[str, Template]:
    return synth_example("blueprints.stacks.mwaa_dr")


@pytest.fixture(scope="module")
def backup_restore() -> dict[str, Template]:
    return synth_example("blueprints.stacks.mwaa_dr", mwaa_dr_strategy="backup_restore")


def _machines(template: Template) -> dict[str, dict[str, Any]]:
    """State machine definitions keyed by their first state's name."""
    return {d["StartAt"]: d for d in asl_kit.state_machines(template.to_json()["Resources"]).values()}


def _failover(template: Template) -> dict[str, Any]:
    return _machines(template)["CheckPrimaryHealth"]


def _failback(template: Template) -> dict[str, Any]:
    return _machines(template)["NotifyFailbackStarted"]


# -- the definitions run by tests/asl_kit.py, each task answered from a list per state ------------------------

#: A task's outcome: it fails with ``error`` on its first attempt and on every retry.
TaskFailed = asl_kit.TaskError

CONTEXT = {"Execution": {"Id": "arn:aws:states:us-west-2:111111111111:execution:machine:run"}}


def walk(
    definition: dict[str, Any],
    outputs: dict[str, list[Any]],
    limit: int = 60,
    inputs: dict[str, list[Any]] | None = None,
) -> list[str]:
    """Run the definition with each Task's results taken in order from ``outputs`` (``{}`` once a state's
    list is used up), one per entry into the state: a ``TaskFailed`` fails that attempt and its retries, so
    the state's Catch is followed; with none, the execution fails and the path ends in
    ``ExecutionFailed:<error>``. With ``inputs``, each entry's effective Parameters are recorded per state.
    A path that does not resolve (States.Runtime) fails the test. Returns the names of the states visited.
    """
    remaining = {k: list(v) for k, v in outputs.items()}
    current: dict[str, Any] = {}

    def answer(call: asl_kit.TaskCall) -> Any:
        if call.retry_count == 0:
            if inputs is not None:
                inputs.setdefault(call.state, []).append(call.input)
            queued = remaining.get(call.state)
            current[call.state] = queued.pop(0) if queued else {}
        outcome = current[call.state]
        if isinstance(outcome, TaskFailed):
            raise outcome
        return outcome

    execution = asl_kit.run(definition, answer, {}, execution_id=CONTEXT["Execution"]["Id"], limit=limit)
    assert execution.error != "States.Runtime", execution.cause
    path = list(execution.visited)
    if execution.status == "FAILED" and definition["States"][path[-1]]["Type"] != "Fail":
        path.append(f"ExecutionFailed:{execution.error}")
    return path


HEALTHY = {"healthy": True, "consecutive_unhealthy": 0, "disaster": False}
BELOW = {"healthy": False, "consecutive_unhealthy": 2, "disaster": False}
DISASTER = {"healthy": False, "consecutive_unhealthy": 3, "disaster": True}
PARTIAL = {"done": False, "wait": False, "cursor": {"section": 1}}
WAITING = {"done": False, "wait": True, "cursor": {"section": 3}}
DONE = {"done": True, "wait": False, "cursor": None}
CHOSEN = {"folder": "backups/20261127T080000Z", "created_at": "2026-11-27T08:00:00+00:00"}


# -- resources ------------------------------------------------------------------------------------


def test_example_has_both_stacks_in_two_regions(active_passive: dict[str, Template]) -> None:
    assert sorted(active_passive) == ["MwaaDrPrimary", "MwaaDrSecondary"]


def test_primary_environment_is_private_logged_and_small(active_passive: dict[str, Template]) -> None:
    active_passive["MwaaDrPrimary"].has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "Name": "blueprints-airflow",
            "EnvironmentClass": "mw1.small",
            "WebserverAccessMode": "PRIVATE_ONLY",
            "Schedulers": 2,
            "NetworkConfiguration": {"SubnetIds": Match.any_value(), "SecurityGroupIds": Match.any_value()},
            "LoggingConfiguration": Match.object_like(
                {
                    "SchedulerLogs": {"Enabled": True, "LogLevel": "INFO"},
                    "TaskLogs": {"Enabled": True, "LogLevel": "INFO"},
                    "DagProcessingLogs": {"Enabled": True, "LogLevel": "INFO"},
                }
            ),
        },
    )


def test_both_buckets_replicate_to_deterministic_dr_names(active_passive: dict[str, Template]) -> None:
    names = dr_bucket_names("blueprints-mwaa", ACCOUNT, "us-west-2")
    template = active_passive["MwaaDrPrimary"]
    for target in names.values():
        template.has_resource(
            "AWS::S3::Bucket",
            {
                "DeletionPolicy": "Retain",
                "Properties": Match.object_like(
                    {
                        "VersioningConfiguration": {"Status": "Enabled"},
                        "ReplicationConfiguration": {
                            "Role": Match.any_value(),
                            "Rules": [
                                Match.object_like(
                                    {
                                        "Status": "Enabled",
                                        "Destination": {
                                            "Bucket": f"arn:aws:s3:::{target}",
                                            "EncryptionConfiguration": {
                                                "ReplicaKmsKeyID": "arn:aws:kms:us-west-2:111111111111:alias/"
                                                "blueprints-mwaa-dr-replica"
                                            },
                                        },
                                        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                                    }
                                )
                            ],
                        },
                    }
                ),
            },
        )
    secondary = active_passive["MwaaDrSecondary"]
    for target in names.values():
        secondary.has_resource(
            "AWS::S3::Bucket",
            {
                "DeletionPolicy": "Retain",
                "Properties": Match.object_like(
                    {"BucketName": target, "VersioningConfiguration": {"Status": "Enabled"}}
                ),
            },
        )
    secondary.has_resource_properties("AWS::KMS::Alias", {"AliasName": replica_key_alias("blueprints-mwaa")})


def test_replication_time_control_is_an_option() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Rtc", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    MwaaDrPrimary(
        stack,
        "Dr",
        environment_name="existing-env",
        dr_region="eu-central-1",
        create_environment=False,
        dags_bucket=s3.Bucket(stack, "ExistingDags", versioned=True),
        replication_time_control=True,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::MWAA::Environment", 0)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ReplicationConfiguration": {
                "Role": Match.any_value(),
                "Rules": [
                    Match.object_like(
                        {
                            "Destination": Match.object_like(
                                {
                                    "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                    "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                                }
                            )
                        }
                    )
                ],
            }
        },
    )
    # wrapping an existing environment still grants the backup only that environment's REST API
    statements = [
        st
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
        if st["Action"] == "airflow:InvokeRestApi"
    ]
    assert [st["Resource"] for st in statements] == ["arn:aws:airflow:eu-west-1:111111111111:role/existing-env/Op"]


def test_backups_run_at_the_rpo_and_expire(active_passive: dict[str, Template]) -> None:
    template = active_passive["MwaaDrPrimary"]
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(15 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "Input": Match.serialized_json({"action": "backup", "source": "primary", "prefix": "backups"}),
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {"Id": "ExpireBackups", "Prefix": "backups/", "ExpirationInDays": 30, "Status": "Enabled"}
                        )
                    ]
                )
            }
        },
    )


def test_primary_alarms_on_heartbeat_and_stopped_backups(active_passive: dict[str, Template]) -> None:
    template = active_passive["MwaaDrPrimary"]
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AmazonMWAA",
            "MetricName": "SchedulerHeartbeat",
            "Dimensions": [
                {"Name": "Environment", "Value": "blueprints-airflow"},
                {"Name": "Function", "Value": "Scheduler"},
            ],
            "ComparisonOperator": "LessThanThreshold",
            "TreatMissingData": "breaching",
            "AlarmActions": [Match.any_value()],
        },
    )
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "MwaaBackupsCompleted",
            "Period": 900,
            "TreatMissingData": "breaching",
            "Dimensions": Match.array_with([{"Name": "service", "Value": "mwaa-dr-backup"}]),
        },
    )
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_active_passive_has_a_paused_passive_environment(active_passive: dict[str, Template]) -> None:
    secondary = active_passive["MwaaDrSecondary"]
    secondary.has_resource_properties(
        "AWS::MWAA::Environment",
        {
            "WebserverAccessMode": "PRIVATE_ONLY",
            "AirflowConfigurationOptions": {"core.dags_are_paused_at_creation": "True"},
        },
    )


def test_backup_restore_has_no_standing_environment(backup_restore: dict[str, Template]) -> None:
    backup_restore["MwaaDrSecondary"].resource_count_is("AWS::MWAA::Environment", 0)
    backup_restore["MwaaDrPrimary"].resource_count_is("AWS::MWAA::Environment", 1)
    statements = [
        st
        for policy in backup_restore["MwaaDrSecondary"].find_resources("AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    create = [st for st in statements if "airflow:CreateEnvironment" in st["Action"]]
    assert len(create) == 1
    assert create[0]["Resource"] == "arn:aws:airflow:us-west-2:111111111111:environment/blueprints-airflow"
    pass_role = [st for st in statements if st["Action"] == "iam:PassRole" and "airflow" in json.dumps(st)]
    assert pass_role[0]["Condition"] == {"StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}}


def test_health_check_schedule_is_named_and_does_not_replay(active_passive: dict[str, Template]) -> None:
    active_passive["MwaaDrSecondary"].has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "Name": "blueprints-mwaa-health-check",
            "ScheduleExpression": "rate(2 minutes)",
            "State": "ENABLED",
            "Target": Match.object_like({"RetryPolicy": {"MaximumEventAgeInSeconds": 120, "MaximumRetryAttempts": 2}}),
        },
    )
    active_passive["MwaaDrSecondary"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"UNHEALTHY_THRESHOLD": "3", "WINDOW_MINUTES": "3", "PRIMARY_REGION": "us-east-1"}
                )
            }
        },
    )


def test_dr_side_state_is_encrypted_and_recoverable(active_passive: dict[str, Template]) -> None:
    secondary = active_passive["MwaaDrSecondary"]
    secondary.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    secondary.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "BackupAgeSeconds", "Threshold": 2700, "TreatMissingData": "breaching"},
    )
    secondary.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"TracingConfiguration": {"Enabled": True}, "LoggingConfiguration": Match.object_like({"Level": "ALL"})},
    )


def test_no_function_has_a_wildcard_action(
    active_passive: dict[str, Template], backup_restore: dict[str, Template]
) -> None:
    for templates in (active_passive, backup_restore):
        for template in templates.values():
            for policy in template.find_resources("AWS::IAM::Policy").values():
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                    assert "*" not in actions and not any(a.endswith(":*") for a in actions), statement


def _role_statements(template: Template, role_logical_id: str) -> list[dict[str, Any]]:
    return [
        st
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_health_check_may_list_only_the_latest_pointer(
    active_passive: dict[str, Template], backup_restore: dict[str, Template]
) -> None:
    """HeadObject of a missing key answers 403 without s3:ListBucket, 404 with it."""
    for templates in (active_passive, backup_restore):
        template = templates["MwaaDrSecondary"]
        functions = template.find_resources(
            "AWS::Lambda::Function",
            {"Properties": {"Environment": {"Variables": Match.object_like({"UNHEALTHY_THRESHOLD": "3"})}}},
        )
        assert len(functions) == 1
        role = next(iter(functions.values()))["Properties"]["Role"]["Fn::GetAtt"][0]
        buckets = template.find_resources(
            "AWS::S3::Bucket",
            {"Properties": {"BucketName": dr_bucket_names("blueprints-mwaa", ACCOUNT, "us-west-2")["backup"]}},
        )
        assert len(buckets) == 1
        statements = _role_statements(template, role)
        listing = [st for st in statements if any(a.startswith("s3:List") for a in _actions(st))]
        assert listing == [
            {
                "Action": "s3:ListBucket",
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [next(iter(buckets)), "Arn"]},
                "Condition": {"StringEquals": {"s3:prefix": "backups/latest.json"}},
            }
        ]
        reads = [st for st in statements if "s3:GetObject" in _actions(st)]
        assert len(reads) == 1 and json.dumps(reads[0]["Resource"]).endswith('"/backups/latest.json"]]}')


@pytest.mark.parametrize("strategy", ["active_passive", "backup_restore"])
def test_executions_that_fail_time_out_or_are_aborted_raise_alarms(
    active_passive: dict[str, Template], backup_restore: dict[str, Template], strategy: str
) -> None:
    """A timed-out or aborted execution sends no notification of its own: only these alarms tell."""
    template = {"active_passive": active_passive, "backup_restore": backup_restore}[strategy]["MwaaDrSecondary"]
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == 2
    topic = next(iter(template.find_resources("AWS::SNS::Topic")))
    for machine, properties in machines.items():
        definition = asl_kit.render(properties["Properties"]["DefinitionString"])
        assert definition.get("TimeoutSeconds") == 3 * 3600
        for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
            alarms = template.find_resources(
                "AWS::CloudWatch::Alarm",
                {
                    "Properties": {
                        "Namespace": "AWS/States",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": machine}}],
                    }
                },
            )
            assert len(alarms) == 1, (machine, metric)
            alarm = next(iter(alarms.values()))["Properties"]
            assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert alarm["TreatMissingData"] == "notBreaching"
            assert alarm["AlarmActions"] == [{"Ref": topic}] and alarm["OKActions"] == [{"Ref": topic}]


def test_alarm_topics_let_this_accounts_cloudwatch_alarms_publish(
    active_passive: dict[str, Template], backup_restore: dict[str, Template]
) -> None:
    """The TLS-only topic policy replaces SNS's default one, so CloudWatch needs its own allow."""
    for templates in (active_passive, backup_restore):
        for stack_name, template in templates.items():
            region = "us-east-1" if stack_name == "MwaaDrPrimary" else "us-west-2"
            topics = template.find_resources("AWS::SNS::Topic")
            policies = template.find_resources("AWS::SNS::TopicPolicy")
            assert len(topics) == 1 and len(policies) == 1, stack_name
            topic = next(iter(topics))
            policy = next(iter(policies.values()))["Properties"]
            assert policy["Topics"] == [{"Ref": topic}]
            allows = [
                st
                for st in policy["PolicyDocument"]["Statement"]
                if st["Effect"] == "Allow" and st.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
            ]
            assert allows == [
                {
                    "Sid": "CloudWatchAlarmsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": {"Ref": topic},
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": ACCOUNT},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:*"},
                    },
                }
            ], stack_name
            # the TLS-only deny is still there, and every alarm of the stack notifies this topic
            assert any(st["Effect"] == "Deny" for st in policy["PolicyDocument"]["Statement"])
            alarms = template.find_resources("AWS::CloudWatch::Alarm")
            assert alarms and all(a["Properties"]["AlarmActions"] == [{"Ref": topic}] for a in alarms.values())


def _policy_statements(template: Template, role_logical_id: str) -> dict[str, list[dict[str, Any]]]:
    """Statements of every policy attached to the role, by the policy's logical id."""
    return {
        policy_id: policy["Properties"]["PolicyDocument"]["Statement"]
        for policy_id, policy in template.find_resources("AWS::IAM::Policy").items()
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]
    }


def _function_role(template: Template, variable: str) -> str:
    functions = template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"Environment": {"Variables": Match.object_like({variable: Match.any_value()})}}},
    )
    assert len(functions) == 1, variable
    return str(next(iter(functions.values()))["Properties"]["Role"]["Fn::GetAtt"][0])


def test_health_check_may_read_only_failover_executions(active_passive: dict[str, Template]) -> None:
    """To free a lock whose execution died, in a policy apart from the role's default one (which the
    function depends on, while the state machine depends on the function)."""
    template = active_passive["MwaaDrSecondary"]
    role = _function_role(template, "UNHEALTHY_THRESHOLD")
    failover = next(
        name
        for name, machine in template.find_resources("AWS::StepFunctions::StateMachine").items()
        if "CheckPrimaryHealth" in json.dumps(machine["Properties"]["DefinitionString"])
    )
    describe = {
        policy_id: [st for st in statements if "states:DescribeExecution" in _actions(st)]
        for policy_id, statements in _policy_statements(template, role).items()
    }
    holders = {policy_id: found for policy_id, found in describe.items() if found}
    assert len(holders) == 1
    policy_id, statements = next(iter(holders.items()))
    assert "DefaultPolicy" not in policy_id
    assert statements == [
        {
            "Action": "states:DescribeExecution",
            "Effect": "Allow",
            "Resource": {
                "Fn::Join": [
                    "",
                    [f"arn:aws:states:us-west-2:{ACCOUNT}:execution:", {"Fn::GetAtt": [failover, "Name"]}, ":*"],
                ]
            },
        }
    ]


@pytest.mark.parametrize("strategy", ["active_passive", "backup_restore"])
def test_every_key_grant_is_limited_to_the_service_that_uses_it(
    active_passive: dict[str, Template], backup_restore: dict[str, Template], strategy: str
) -> None:
    """kms:ViaService on every KMS statement, so the roles can use the keys only through S3,
    DynamoDB or SNS (as the acknowledged cdk-nag findings say), never by calling KMS directly."""
    templates = {"active_passive": active_passive, "backup_restore": backup_restore}[strategy]
    for stack_name, template in templates.items():
        region = "us-east-1" if stack_name == "MwaaDrPrimary" else "us-west-2"
        for policy in template.find_resources("AWS::IAM::Policy").values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if any(a.startswith("kms:") for a in _actions(statement)):
                    via = statement["Condition"].get("StringEquals", statement["Condition"].get("StringLike"))
                    services = via["kms:ViaService"]
                    services = services if isinstance(services, list) else [services]
                    assert services and all(
                        s.endswith(".amazonaws.com") and s.split(".")[0] in ("s3", "dynamodb", "sns", "sqs")
                        for s in services
                    ), statement
                    # replication writes replicas in the other Region; everything else stays in its own
                    assert all(s.split(".")[1] == region for s in services) or "kms:ResourceAliases" in json.dumps(
                        statement
                    ), statement
    secondary = templates["MwaaDrSecondary"]

    def services_of(role: str) -> list[str]:
        found = [
            st["Condition"]["StringEquals"]["kms:ViaService"]
            for statements in _policy_statements(secondary, role).values()
            for st in statements
            if any(a.startswith("kms:") for a in _actions(st))
        ]
        assert len(found) == 1, role
        return [s.split(".")[0] for s in found[0]]

    assert services_of(_function_role(secondary, "UNHEALTHY_THRESHOLD")) == ["dynamodb", "s3"]
    assert services_of(_function_role(secondary, "ENVIRONMENTS")) == ["s3"]
    assert services_of(_function_role(secondary, "SCHEDULE_NAME")) == (
        ["dynamodb", "s3"] if strategy == "backup_restore" else ["dynamodb"]
    )
    for machine in secondary.find_resources("AWS::StepFunctions::StateMachine").values():
        assert services_of(machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]) == ["sns"]
    primary = templates["MwaaDrPrimary"]
    backup_role = _function_role(primary, "ENVIRONMENTS")
    [kms_statement] = [
        st
        for statements in _policy_statements(primary, backup_role).values()
        for st in statements
        if any(a.startswith("kms:") for a in _actions(st))
    ]
    assert kms_statement["Condition"] == {"StringEquals": {"kms:ViaService": ["s3.us-east-1.amazonaws.com"]}}


TOPIC_KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def caller_topics() -> tuple[cdk.Stack, Template, dict[str, Any]]:
    """Three DR sides in one stack, each with a caller's topic: imported with its key, created in
    the stack with its own key, and imported without a key."""
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Topics", env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        availability_zones=["us-west-2a", "us-west-2b"],
        nat_gateways=1,
        restrict_default_security_group=False,
    )
    own_key = kms.Key(stack, "OwnKey")
    topics: dict[str, Any] = {
        "imported_with_key": sns.Topic.from_topic_attributes(
            stack, "Imported", topic_arn=f"arn:aws:sns:us-west-2:{ACCOUNT}:ops", key_arn=TOPIC_KEY
        ),
        "own_with_key": sns.Topic(stack, "Own", master_key=own_key),
        "imported_plain": sns.Topic.from_topic_arn(stack, "Plain", f"arn:aws:sns:us-west-2:{ACCOUNT}:plain"),
    }
    for n, (label, topic) in enumerate(topics.items()):
        dr = MwaaDrSecondary(
            stack,
            f"Dr{n}",
            strategy="active_passive",
            primary_environment_name="env",
            primary_region="us-east-1",
            vpc=vpc,
            notification_topic=topic,
            name_prefix=f"topic-{n}",
        )
        assert dr.notification_topic is topic, label
    topics["own_key"] = own_key
    return stack, Template.from_stack(stack), topics


def _kms_grants_of_machines_publishing_to(template: Template, topic_marker: str) -> list[list[dict[str, Any]]]:
    grants = []
    for machine in template.find_resources("AWS::StepFunctions::StateMachine").values():
        if topic_marker not in json.dumps(machine["Properties"]["DefinitionString"]):
            continue
        role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        grants.append(
            [
                st
                for found in _policy_statements(template, role).values()
                for st in found
                if any(a.startswith("kms:") for a in _actions(st))
            ]
        )
    assert len(grants) == 2, topic_marker  # failover and failback
    return grants


def test_a_callers_encrypted_topic_gets_its_key_granted(caller_topics: tuple[cdk.Stack, Template, Any]) -> None:
    """SNS needs kms:GenerateDataKey and kms:Decrypt (no wildcard) on an SSE topic's key from every publisher."""
    _, template, _ = caller_topics
    for statements in _kms_grants_of_machines_publishing_to(template, f"arn:aws:sns:us-west-2:{ACCOUNT}:ops"):
        assert statements == [
            {
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Effect": "Allow",
                "Resource": TOPIC_KEY,
                "Condition": {"StringEquals": {"kms:ViaService": ["sns.us-west-2.amazonaws.com"]}},
            }
        ]


def test_a_callers_topic_in_the_stack_gets_its_own_key(caller_topics: tuple[cdk.Stack, Template, Any]) -> None:
    stack, template, topics = caller_topics
    key_id = stack.get_logical_id(topics["own_key"].node.default_child)
    topic_id = stack.get_logical_id(topics["own_with_key"].node.default_child)
    for statements in _kms_grants_of_machines_publishing_to(template, topic_id):
        assert [st["Resource"] for st in statements] == [{"Fn::GetAtt": [key_id, "Arn"]}]


def test_a_callers_unencrypted_topic_needs_no_key(caller_topics: tuple[cdk.Stack, Template, Any]) -> None:
    _, template, _ = caller_topics
    for statements in _kms_grants_of_machines_publishing_to(template, f"arn:aws:sns:us-west-2:{ACCOUNT}:plain"):
        assert statements == []


# -- state machine paths --------------------------------------------------------------------------


def test_failover_path_healthy(active_passive: dict[str, Template]) -> None:
    path = walk(_failover(active_passive["MwaaDrSecondary"]), {"CheckPrimaryHealth": [HEALTHY]})
    assert path == ["CheckPrimaryHealth", "IsDisaster", "NoFailover"]


def test_failover_path_unhealthy_below_threshold(active_passive: dict[str, Template]) -> None:
    path = walk(_failover(active_passive["MwaaDrSecondary"]), {"CheckPrimaryHealth": [BELOW]})
    assert path == ["CheckPrimaryHealth", "IsDisaster", "NoFailover"]


def test_failover_path_disaster_active_passive(active_passive: dict[str, Template]) -> None:
    path = walk(
        _failover(active_passive["MwaaDrSecondary"]),
        {"CheckPrimaryHealth": [DISASTER], "FailoverRestore": [PARTIAL, WAITING, DONE]},
    )
    assert path == [
        "CheckPrimaryHealth",
        "IsDisaster",
        "NotifyFailoverStarted",
        "DisableHealthCheck",
        "FailoverInit",
        "FailoverRestore",
        "FailoverRestoreDone",
        "FailoverRestore",
        "FailoverRestoreDone",
        "FailoverWaitForDags",
        "FailoverRestore",
        "FailoverRestoreDone",
        "NotifyFailoverSucceeded",
        "FailoverSucceeded",
    ]
    # the schedule is disabled before anything is restored
    assert path.index("DisableHealthCheck") < path.index("FailoverRestore")


def test_failover_path_disaster_backup_restore(backup_restore: dict[str, Template]) -> None:
    path = walk(
        _failover(backup_restore["MwaaDrSecondary"]),
        {
            "CheckPrimaryHealth": [DISASTER],
            "ChooseBackup": [CHOSEN],
            "CreateEnvironment": [{"status": "CREATING"}],
            "GetEnvironmentStatus": [{"status": "CREATING"}, {"status": "AVAILABLE"}],
            "FailoverRestore": [DONE],
        },
    )
    assert path == [
        "CheckPrimaryHealth",
        "IsDisaster",
        "NotifyFailoverStarted",
        "DisableHealthCheck",
        "ChooseBackup",
        "CreateEnvironment",
        "WaitForEnvironment",
        "GetEnvironmentStatus",
        "EnvironmentReady",
        "WaitForEnvironment",
        "GetEnvironmentStatus",
        "EnvironmentReady",
        "FailoverInit",
        "FailoverRestore",
        "FailoverRestoreDone",
        "NotifyFailoverSucceeded",
        "FailoverSucceeded",
    ]


def test_backup_restore_failover_creates_and_restores_from_one_chosen_backup(
    backup_restore: dict[str, Template],
) -> None:
    """The backup is resolved once (manifest check and fallback in the metadata function's
    ``resolve``) and the same folder goes to CreateEnvironment and to every restore call."""
    inputs: dict[str, list[Any]] = {}
    walk(
        _failover(backup_restore["MwaaDrSecondary"]),
        {
            "CheckPrimaryHealth": [DISASTER],
            "ChooseBackup": [CHOSEN],
            "CreateEnvironment": [{"status": "CREATING"}],
            "GetEnvironmentStatus": [{"status": "AVAILABLE"}],
            "FailoverRestore": [PARTIAL, DONE],
        },
        inputs=inputs,
    )
    assert inputs["ChooseBackup"] == [{"action": "resolve", "prefix": "backups"}]
    assert inputs["CreateEnvironment"] == [{"action": "create_environment", "folder": CHOSEN["folder"]}]
    assert [call["folder"] for call in inputs["FailoverRestore"]] == [CHOSEN["folder"]] * 2


@pytest.mark.parametrize("status", ["CREATE_FAILED", "UNAVAILABLE", "NOT_FOUND"])
def test_failover_path_create_failed(backup_restore: dict[str, Template], status: str) -> None:
    path = walk(
        _failover(backup_restore["MwaaDrSecondary"]),
        {
            "CheckPrimaryHealth": [DISASTER],
            "ChooseBackup": [CHOSEN],
            "CreateEnvironment": [{"status": "CREATING"}],
            "GetEnvironmentStatus": [{"status": status}],
        },
    )
    assert path[-4:] == ["GetEnvironmentStatus", "EnvironmentReady", "NotifyFailoverFailed", "FailoverFailed"]
    assert "FailoverRestore" not in path


@pytest.mark.parametrize("failing", ["DisableHealthCheck", "FailoverRestore"])
def test_failover_path_task_failure_is_notified(active_passive: dict[str, Template], failing: str) -> None:
    path = walk(
        _failover(active_passive["MwaaDrSecondary"]),
        {"CheckPrimaryHealth": [DISASTER], failing: [TaskFailed()]},
    )
    assert path[-3:] == [failing, "NotifyFailoverFailed", "FailoverFailed"]


def test_failover_tasks_retry_before_failing(backup_restore: dict[str, Template]) -> None:
    states = _failover(backup_restore["MwaaDrSecondary"])["States"]
    for name in ("DisableHealthCheck", "ChooseBackup", "CreateEnvironment", "GetEnvironmentStatus", "FailoverRestore"):
        errors = [e for r in states[name]["Retry"] for e in r["ErrorEquals"]]
        assert "States.TaskFailed" in errors and "Lambda.TooManyRequestsException" in errors
        assert states[name]["Catch"][0]["Next"] == "NotifyFailoverFailed"
    assert states["CheckPrimaryHealth"]["Parameters"] == {"execution.$": "$$.Execution.Id", "input.$": "$"}
    assert states["DisableHealthCheck"]["Parameters"] == {"action": "disable_schedule"}


#: The failback's pause of every DAG in DR (one slice: the answer has no ``done: false``).
PAUSE_DR = ["FailbackPauseInit", "FailbackPauseDags", "FailbackPauseDone"]


def test_failback_pauses_dr_before_anything_is_restored_into_the_primary(
    active_passive: dict[str, Template],
) -> None:
    """Finding 4: the restore unpauses the primary's DAGs, so DR must be paused before it starts;
    the backup that the restore uses is taken before the pause (it records which DAGs ran)."""
    machine = _failback(active_passive["MwaaDrSecondary"])
    inputs: dict[str, list[Any]] = {}
    path = walk(machine, {"FailbackRestore": [DONE]}, inputs=inputs)
    assert path.index("BackupDrEnvironment") < path.index("FailbackPauseDags") < path.index("FailbackRestore")
    assert inputs["FailbackPauseDags"] == [{"action": "pause_all", "target": "dr", "cursor": {}}]
    # a pause that fails stops the failback before the primary is touched
    failed = walk(machine, {"FailbackPauseDags": [TaskFailed()]})
    assert "FailbackRestore" not in failed and failed[-2:] == ["NotifyFailbackFailed", "FailbackFailed"]


def test_failback_pause_passes_its_cursor_back_until_done(active_passive: dict[str, Template]) -> None:
    """pause_all may stop at its time budget with ``done: false`` and a cursor; the loop calls it
    again with that cursor, and only a finished pause lets the restore start."""
    machine = _failback(active_passive["MwaaDrSecondary"])
    inputs: dict[str, list[Any]] = {}
    slices = [{"done": False, "cursor": {"offset": 100}}, {"done": False, "cursor": {"offset": 200}}, {"done": True}]
    path = walk(machine, {"FailbackPauseDags": slices, "FailbackRestore": [DONE]}, inputs=inputs)
    assert [call["cursor"] for call in inputs["FailbackPauseDags"]] == [{}, {"offset": 100}, {"offset": 200}]
    assert path.count("FailbackPauseDags") == 3
    assert path.index("FailbackRestore") > max(i for i, n in enumerate(path) if n == "FailbackPauseDags")
    assert path[-1] == "FailbackSucceeded"
    # an unfinished pause that cannot say where to go on fails the failback, never passes for done
    stuck = walk(machine, {"FailbackPauseDags": [{"done": False}]})
    assert "FailbackRestore" not in stuck and stuck[-2:] == ["NotifyFailbackFailed", "FailbackFailed"]


def test_failback_path_and_failure(active_passive: dict[str, Template]) -> None:
    machine = _failback(active_passive["MwaaDrSecondary"])
    path = walk(machine, {"FailbackRestore": [PARTIAL, DONE]})
    assert path == [
        "NotifyFailbackStarted",
        "BackupDrEnvironment",
        *PAUSE_DR,
        "FailbackInit",
        "FailbackRestore",
        "FailbackRestoreDone",
        "FailbackRestore",
        "FailbackRestoreDone",
        "RearmHealthCheck",
        "NotifyFailbackSucceeded",
        "FailbackSucceeded",
    ]
    assert machine["States"]["FailbackRestore"]["Parameters"]["target"] == "primary"
    assert machine["States"]["BackupDrEnvironment"]["Parameters"] == {
        "action": "backup",
        "source": "dr",
        "prefix": "failback",
    }
    failed = walk(machine, {"BackupDrEnvironment": [TaskFailed()]})
    assert failed[-2:] == ["NotifyFailbackFailed", "FailbackFailed"]


# -- notifications never decide the outcome -------------------------------------------------------


NOTIFY_STATES = {
    "failover": ["NotifyFailoverStarted", "NotifyFailoverSucceeded", "NotifyFailoverFailed"],
    "failback": ["NotifyFailbackStarted", "NotifyFailbackSucceeded", "NotifyFailbackFailed"],
}


@pytest.mark.parametrize("strategy", ["active_passive", "backup_restore"])
def test_every_notification_retries_and_is_caught(
    active_passive: dict[str, Template], backup_restore: dict[str, Template], strategy: str
) -> None:
    template = {"active_passive": active_passive, "backup_restore": backup_restore}[strategy]["MwaaDrSecondary"]
    for machine, names in (
        (_failover(template), NOTIFY_STATES["failover"]),
        (_failback(template), NOTIFY_STATES["failback"]),
    ):
        notify = sorted(n for n, st in machine["States"].items() if st.get("Resource", "").endswith(":sns:publish"))
        assert notify == sorted(names)
        for name in names:
            state = machine["States"][name]
            assert state["TimeoutSeconds"] == 30
            assert state["Retry"] == [
                {
                    "ErrorEquals": ["States.TaskFailed", "States.Timeout"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 3,
                    "BackoffRate": 2,
                }
            ]
            assert state["Catch"] == [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.notification_error", "Next": state["Next"]}
            ], name


@pytest.mark.parametrize("error", ["States.TaskFailed", "States.Timeout", "SNS.KmsThrottlingException"])
def test_a_failed_started_notification_still_fails_over(active_passive: dict[str, Template], error: str) -> None:
    """The health check already holds the lock: a lost "started" message must not stop the failover."""
    inputs: dict[str, list[Any]] = {}
    path = walk(
        _failover(active_passive["MwaaDrSecondary"]),
        {"CheckPrimaryHealth": [DISASTER], "NotifyFailoverStarted": [TaskFailed(error)], "FailoverRestore": [DONE]},
        inputs=inputs,
    )
    assert path == [
        "CheckPrimaryHealth",
        "IsDisaster",
        "NotifyFailoverStarted",
        "DisableHealthCheck",
        "FailoverInit",
        "FailoverRestore",
        "FailoverRestoreDone",
        "NotifyFailoverSucceeded",
        "FailoverSucceeded",
    ]
    # the lost notification is reported in the next one
    assert inputs["NotifyFailoverSucceeded"][0]["Message"]["state"]["notification_error"] == {"Error": error}


def test_a_failed_started_notification_still_fails_over_backup_restore(backup_restore: dict[str, Template]) -> None:
    path = walk(
        _failover(backup_restore["MwaaDrSecondary"]),
        {
            "CheckPrimaryHealth": [DISASTER],
            "NotifyFailoverStarted": [TaskFailed()],
            "ChooseBackup": [CHOSEN],
            "GetEnvironmentStatus": [{"status": "AVAILABLE"}],
            "FailoverRestore": [DONE],
        },
    )
    assert path[2:6] == ["NotifyFailoverStarted", "DisableHealthCheck", "ChooseBackup", "CreateEnvironment"]
    assert path[-1] == "FailoverSucceeded"


def test_a_failed_succeeded_notification_ends_in_success(active_passive: dict[str, Template]) -> None:
    path = walk(
        _failover(active_passive["MwaaDrSecondary"]),
        {"CheckPrimaryHealth": [DISASTER], "FailoverRestore": [DONE], "NotifyFailoverSucceeded": [TaskFailed()]},
    )
    assert path[-2:] == ["NotifyFailoverSucceeded", "FailoverSucceeded"]


def test_a_failed_failure_notification_still_ends_as_failover_failed(active_passive: dict[str, Template]) -> None:
    path = walk(
        _failover(active_passive["MwaaDrSecondary"]),
        {"CheckPrimaryHealth": [DISASTER], "FailoverRestore": [TaskFailed()], "NotifyFailoverFailed": [TaskFailed()]},
    )
    assert path[-3:] == ["FailoverRestore", "NotifyFailoverFailed", "FailoverFailed"]


@pytest.mark.parametrize("failing", ["NotifyFailbackStarted", "NotifyFailbackSucceeded"])
def test_failed_failback_notifications_never_fail_the_failback(
    active_passive: dict[str, Template], failing: str
) -> None:
    path = walk(_failback(active_passive["MwaaDrSecondary"]), {"FailbackRestore": [DONE], failing: [TaskFailed()]})
    assert path == [
        "NotifyFailbackStarted",
        "BackupDrEnvironment",
        *PAUSE_DR,
        "FailbackInit",
        "FailbackRestore",
        "FailbackRestoreDone",
        "RearmHealthCheck",
        "NotifyFailbackSucceeded",
        "FailbackSucceeded",
    ]


# -- the created environment's statuses ------------------------------------------------------------

#: What the failover does at each status of botocore's MWAA EnvironmentStatus (plus the handler's
#: NOT_FOUND), from the status descriptions in the MWAA API reference.
STATUS_OUTCOME = {
    "AVAILABLE": "restore",
    "UPDATE_FAILED": "restore",  # "restored to its previous state successfully and is ready to use"
    "CREATING": "wait",
    "UPDATING": "wait",
    "CREATING_SNAPSHOT": "wait",
    "ROLLING_BACK": "wait",  # ends in UPDATE_FAILED or UNAVAILABLE on its own
    "MAINTENANCE": "wait",
    "CREATE_FAILED": "fail",
    "UNAVAILABLE": "fail",  # "did not return to its previous state and is not stable"
    "DELETING": "fail",
    "DELETED": "fail",
    "PENDING": "fail",  # waits for VPC endpoints someone must create: notify now, resume later
    "NOT_FOUND": "fail",
    "SOME_NEW_STATUS": "fail",
}


def test_every_mwaa_status_is_decided() -> None:
    """A status botocore adds must be classified here (and in the construct) deliberately."""
    enum = botocore.session.get_session().get_service_model("mwaa").shape_for("EnvironmentStatus").enum
    assert set(enum) | {"NOT_FOUND", "SOME_NEW_STATUS"} == set(STATUS_OUTCOME)


@pytest.mark.parametrize("status", sorted(STATUS_OUTCOME))
def test_environment_status_restores_waits_or_fails_fast(backup_restore: dict[str, Template], status: str) -> None:
    path = walk(
        _failover(backup_restore["MwaaDrSecondary"]),
        {
            "CheckPrimaryHealth": [DISASTER],
            "ChooseBackup": [CHOSEN],
            "CreateEnvironment": [{"status": "CREATING"}],
            "GetEnvironmentStatus": [{"status": status}, {"status": "AVAILABLE"}],
            "FailoverRestore": [DONE],
        },
    )
    after = path[path.index("EnvironmentReady") + 1]
    expected = {"restore": "FailoverInit", "wait": "WaitForEnvironment", "fail": "NotifyFailoverFailed"}
    assert after == expected[STATUS_OUTCOME[status]], path
    assert path[-1] == ("FailoverFailed" if STATUS_OUTCOME[status] == "fail" else "FailoverSucceeded")


def _dotted_paths(value: Any) -> list[str]:
    """Every path a ``key.$`` field in ``value`` references."""
    if isinstance(value, list):
        return [p for v in value for p in _dotted_paths(v)]
    if not isinstance(value, dict):
        return []
    out = []
    for key, item in value.items():
        if key.endswith(".$"):
            out.append(item)
        else:
            out.extend(_dotted_paths(item))
    return out


@pytest.mark.parametrize("strategy", ["active_passive", "backup_restore"])
def test_restore_cursor_references_have_a_producer(
    active_passive: dict[str, Template], backup_restore: dict[str, Template], strategy: str
) -> None:
    """CDK drops a None from a Pass Result: the restore loop's first cursor must be a real value."""
    template = {"active_passive": active_passive, "backup_restore": backup_restore}[strategy]["MwaaDrSecondary"]
    for start, machine in _machines(template).items():
        states = machine["States"]
        readers = [n for n, st in states.items() if "$.restore.cursor" in _dotted_paths(st.get("Parameters", {}))]
        producers = {n: st for n, st in states.items() if st.get("ResultPath") == "$.restore"}
        if start in ("CheckPrimaryHealth", "NotifyFailbackStarted"):
            assert readers, f"{start}: no state reads the restore cursor"
        for name, producer in producers.items():
            if producer["Type"] == "Pass":
                assert "cursor" in producer["Result"], f"{name} produces $.restore without a cursor: {producer}"
                # an empty cursor is what the restore handler treats as "start a new restore"
                assert not producer["Result"]["cursor"]
            else:
                assert producer["Type"] == "Task" and name in readers
        # every reader is reached only after a producer: each reader is the Next of a producer
        for reader in readers:
            assert any(p.get("Next") == reader for p in producers.values() if p["Type"] == "Pass"), reader


@pytest.mark.parametrize(
    ("strategy", "machine", "outputs"),
    [
        ("active_passive", _failover, {"CheckPrimaryHealth": [DISASTER], "FailoverRestore": [PARTIAL, WAITING, DONE]}),
        (
            "backup_restore",
            _failover,
            {
                "CheckPrimaryHealth": [DISASTER],
                "ChooseBackup": [CHOSEN],
                "GetEnvironmentStatus": [{"status": "AVAILABLE"}],
                "FailoverRestore": [PARTIAL, DONE],
            },
        ),
        ("active_passive", _failback, {"FailbackRestore": [PARTIAL, WAITING, DONE]}),
    ],
    ids=["failover-active-passive", "failover-backup-restore", "failback"],
)
def test_restore_loop_passes_the_cursor_back(
    active_passive: dict[str, Template],
    backup_restore: dict[str, Template],
    strategy: str,
    machine: Callable[[Template], dict[str, Any]],
    outputs: dict[str, list[Any]],
) -> None:
    """Init -> Restore data flow: the first call gets an empty cursor, each later one the cursor
    the previous call returned; a missing $.restore.cursor would fail with States.Runtime."""
    template = {"active_passive": active_passive, "backup_restore": backup_restore}[strategy]["MwaaDrSecondary"]
    inputs: dict[str, list[Any]] = {}
    path = walk(machine(template), outputs, inputs=inputs)
    restore = next(name for name in outputs if name.endswith("Restore"))
    assert path[-1] in ("FailoverSucceeded", "FailbackSucceeded")
    sent = [call["cursor"] for call in inputs[restore]]
    returned = [out["cursor"] for out in outputs[restore]]
    assert sent == [{}, *returned[:-1]]
    assert all(call["action"] == "restore" for call in inputs[restore])
    # the notifications carry the execution id from the context object
    notify = next(name for name in inputs if name.startswith("Notify"))
    assert inputs[notify][0]["Message"]["execution"] == CONTEXT["Execution"]["Id"]


# -- validation -----------------------------------------------------------------------------------


_SHARED: dict[str, Any] = {}


def _dr_stack() -> tuple[cdk.Stack, ec2.Vpc]:
    """One stack and VPC for the validation tests (each adds a construct with a fresh id)."""
    if not _SHARED:
        app = cdk.App(context=cdk_context())
        stack = cdk.Stack(app, "V", env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
        _SHARED["stack"] = stack
        _SHARED["vpc"] = ec2.Vpc(
            stack,
            "Vpc",
            availability_zones=["us-west-2a", "us-west-2b"],
            nat_gateways=1,
            restrict_default_security_group=False,
        )
    _SHARED["n"] = _SHARED.get("n", 0) + 1
    return _SHARED["stack"], _SHARED["vpc"]


def _id() -> str:
    return f"Dr{_SHARED['n']}"


def _secondary(**overrides: Any) -> MwaaDrSecondary:
    stack, vpc = _dr_stack()
    kwargs: dict[str, Any] = {
        "strategy": "active_passive",
        "primary_environment_name": "env",
        "primary_region": "us-east-1",
        "vpc": vpc,
    }
    kwargs.update(overrides)
    return MwaaDrSecondary(stack, _id(), **kwargs)


def _primary(**overrides: Any) -> MwaaDrPrimary:
    stack, vpc = _dr_stack()
    kwargs: dict[str, Any] = {"environment_name": "env", "dr_region": "us-east-1", "vpc": vpc}
    kwargs.update(overrides)
    return MwaaDrPrimary(stack, _id(), **kwargs)


VALIDATION: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
    (
        _secondary,
        {"strategy": "pilot_light"},
        "argument 'strategy' must be one of MwaaDrStrategy.ACTIVE_PASSIVE or 'active_passive', "
        "MwaaDrStrategy.BACKUP_RESTORE or 'backup_restore'",
    ),
    (_secondary, {"unhealthy_threshold": 1}, "unhealthy_threshold must be at least 2"),
    (_secondary, {"check_interval": cdk.Duration.seconds(90)}, "check_interval must be whole minutes"),
    (_secondary, {"heartbeat_window": cdk.Duration.hours(2)}, "heartbeat_window must be whole minutes"),
    (_secondary, {"primary_region": "us-west-2"}, "primary_region must differ"),
    (_secondary, {"primary_region": "mars-1"}, "primary_region must be a literal Region code"),
    (_secondary, {"primary_environment_name": "1bad"}, "primary_environment_name must be a literal MWAA"),
    (_secondary, {"environment_name": "bad name"}, "environment_name must be a literal MWAA"),
    (_secondary, {"name_prefix": "Bad_Prefix"}, "name_prefix must be 3-24 characters"),
    (_secondary, {"airflow_version": "1.10.12"}, "airflow_version must be one of"),
    (_secondary, {"environment_class": "mw1.huge"}, "environment_class must be one of"),
    (_secondary, {"max_workers": 0}, "max_workers must be between 1 and 25"),
    (_secondary, {"airflow_rbac_role": "Public"}, "airflow_rbac_role must be one of Admin, Op"),
    # Airflow's User and Viewer roles have no permission on variables or connections
    (_secondary, {"airflow_rbac_role": "User"}, "airflow_rbac_role must be one of Admin, Op: .*got 'User'"),
    (_primary, {"airflow_rbac_role": "Viewer"}, "airflow_rbac_role must be one of Admin, Op: .*got 'Viewer'"),
    (_secondary, {"backup_retention": cdk.Duration.hours(1)}, "backup_retention must be at least 1 day"),
    (_primary, {"dr_region": "us-west-2"}, "dr_region must differ"),
    (_primary, {"dr_region": "westus"}, "dr_region must be a literal Region code"),
    (_primary, {"vpc": None}, "create_environment=True needs a vpc"),
    (_primary, {"create_environment": False}, "with create_environment=False"),
    (_primary, {"rpo": cdk.Duration.minutes(2)}, "rpo must be whole minutes between 5 and 1440"),
]


@pytest.mark.parametrize(("build", "overrides", "message"), VALIDATION, ids=[v[2][:40] for v in VALIDATION])
def test_validation(build: Callable[..., Any], overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**overrides)


def test_subnets_must_span_two_azs() -> None:
    stack, vpc = _dr_stack()
    with pytest.raises(ValueError, match="two private subnets in different Availability Zones"):
        MwaaDrSecondary(
            stack,
            _id(),
            strategy=MwaaDrStrategy.BACKUP_RESTORE,
            primary_environment_name="env",
            primary_region="us-east-1",
            vpc=vpc,
            subnets=[vpc.private_subnets[0]],
        )


def test_detection_time_of_the_defaults_is_within_ten_minutes() -> None:
    secondary = _secondary()
    assert secondary.detection_minutes == 9
    assert _secondary(unhealthy_threshold=5).detection_minutes == 13


# -- the passive environment's configuration (findings 3, 8, 9) ----------------------------------

REQUIREMENTS = AirflowS3Object(path="requirements.txt", version="3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
PLUGINS = AirflowS3Object(path="plugins.zip", version="Zf6mXnqGtwkZX5Q9Xf.dBWKBvUvuUqU1")
STARTUP = AirflowS3Object(path="startup.sh", version="nZ5pDVxMfkWhaAXvRt3Cpp2u4zD8zC6c")
OPTIONS = {"core.default_task_retries": "3", "celery.worker_autoscale": "10,1"}
SECRETS = SecretsManagerBackend(connections_prefix="orders/connections", variables_prefix="orders/variables")


@pytest.fixture(scope="module")
def configured() -> dict[str, Template]:
    """Both sides with requirements, plugins, a startup script, options and the Secrets Manager
    backend, each with its Region's key for the secrets, synthesized with both nag packs."""
    app = new_app(context=cdk_context())
    dr = cdk.Stack(app, "Dr", env=cdk.Environment(account=ACCOUNT, region="us-west-2"))
    primary = cdk.Stack(app, "Primary", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    common: dict[str, Any] = {
        "requirements": REQUIREMENTS,
        "plugins": PLUGINS,
        "startup_script": STARTUP,
        "airflow_configuration_options": OPTIONS,
        "secrets_backend": SECRETS,
    }
    MwaaDrSecondary(
        dr,
        "Dr",
        strategy=MwaaDrStrategy.ACTIVE_PASSIVE,
        primary_environment_name="orders",
        primary_region="us-east-1",
        vpc=ec2.Vpc(dr, "Vpc", availability_zones=["us-west-2a", "us-west-2b"], restrict_default_security_group=False),
        secrets_key=kms.Key(dr, "SecretsReplicaKey", enable_key_rotation=True),
        **common,
    )
    MwaaDrPrimary(
        primary,
        "Dr",
        environment_name="orders",
        dr_region="us-west-2",
        vpc=ec2.Vpc(
            primary, "Vpc", availability_zones=["us-east-1a", "us-east-1b"], restrict_default_security_group=False
        ),
        secrets_key=kms.Key(primary, "SecretsKey", enable_key_rotation=True),
        **common,
    )
    for stack in (dr, primary):  # the example VPCs' flow logs are not what is under test here
        cdk.Validations.of(stack.node.find_child("Vpc")).acknowledge(
            cdk.Acknowledgment(id="AwsSolutions-VPC7", reason="test VPC without flow logs")
        )
    add_nag_packs(app)
    app.synth()
    return {"primary": Template.from_stack(primary), "dr": Template.from_stack(dr)}


def _environment_properties(template: Template) -> dict[str, Any]:
    (environment,) = template.find_resources("AWS::MWAA::Environment").values()
    return dict(environment["Properties"])


def test_the_passive_environment_does_not_backfill(active_passive: dict[str, Template]) -> None:
    """Finding 3: an unpaused DAG without its own catchup schedules only its latest interval in DR."""
    options = _environment_properties(active_passive["MwaaDrSecondary"])["AirflowConfigurationOptions"]
    assert options["scheduler.catchup_by_default"] == "False"
    assert options["core.dags_are_paused_at_creation"] == "True"
    # the primary keeps Airflow's own defaults
    assert "AirflowConfigurationOptions" not in _environment_properties(active_passive["MwaaDrPrimary"])


def test_both_environments_get_the_same_code_and_configuration(configured: dict[str, Template]) -> None:
    """Finding 8: the passive environment installs what the primary installs, at the same object
    versions (S3 replication keeps version ids), so the DAGs parse in DR."""
    primary, dr = (_environment_properties(configured[side]) for side in ("primary", "dr"))
    for props in (primary, dr):
        assert props["RequirementsS3Path"] == "requirements.txt"
        assert props["RequirementsS3ObjectVersion"] == REQUIREMENTS.version
        assert props["PluginsS3Path"] == "plugins.zip"
        assert props["PluginsS3ObjectVersion"] == PLUGINS.version
        assert props["StartupScriptS3Path"] == "startup.sh"
        assert props["StartupScriptS3ObjectVersion"] == STARTUP.version
    assert primary["AirflowConfigurationOptions"] == {**OPTIONS, **SECRETS.options()}
    assert dr["AirflowConfigurationOptions"] == {**OPTIONS, **SECRETS.options(), **DR_CONFIGURATION_OPTIONS}


def test_the_dags_bucket_replicates_every_object_version(configured: dict[str, Template]) -> None:
    """The replica keeps each version id only if every version is replicated: one rule, the whole
    bucket, SSE-KMS objects included."""
    buckets = configured["primary"].find_resources("AWS::S3::Bucket")
    rules = [
        b["Properties"]["ReplicationConfiguration"]["Rules"]
        for b in buckets.values()
        if "ReplicationConfiguration" in b["Properties"]
    ]
    assert len(rules) == 2  # DAGs and backups
    for (rule,) in rules:
        assert rule["Status"] == "Enabled" and rule["Filter"] == {"Prefix": ""}
        assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}


def test_secrets_backend_configuration(configured: dict[str, Template]) -> None:
    """Finding 9: the backend MWAA documents, with exactly the prefixes given (no Region: each
    environment reads its own Region's secrets, the replicas in DR)."""
    options = _environment_properties(configured["dr"])["AirflowConfigurationOptions"]
    assert options["secrets.backend"] == SECRETS_MANAGER_BACKEND
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "connections_prefix": "orders/connections",
        "variables_prefix": "orders/variables",
        "config_prefix": None,
    }


def _arn(value: Any) -> str:
    """A resolved ARN (``Fn::Join`` of literals and pseudo parameters) as a string."""
    if isinstance(value, str):
        return value
    pseudo = {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
    return "".join(p if isinstance(p, str) else pseudo.get(p.get("Ref", ""), "<token>") for p in value["Fn::Join"][1])


def _execution_statements(template: Template) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if any("airflow:PublishMetrics" in _actions(st) for st in p["Properties"]["PolicyDocument"]["Statement"])
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def _allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's match of one request against Allow statements (wildcards as IAM treats them;
    conditions are asserted separately)."""
    import fnmatch

    for st in statements:
        if st["Effect"] != "Allow" or "Resource" not in st:
            continue
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if any(fnmatch.fnmatchcase(action, a) for a in _actions(st)) and any(
            fnmatch.fnmatchcase(resource, _arn(r)) for r in resources
        ):
            return True
    return False


SECRET = "arn:aws:secretsmanager:{region}:111111111111:secret:{name}-AbCdEf"
#: (action, secret name, allowed): what the execution role may do with secrets, as an attacker
#: inside a DAG would try it.
SECRET_REQUESTS = [
    ("secretsmanager:GetSecretValue", "orders/connections/warehouse", True),
    ("secretsmanager:GetSecretValue", "orders/variables/api_key", True),
    ("secretsmanager:GetSecretValue", "orders/connectionsX", False),
    ("secretsmanager:GetSecretValue", "payroll/db", False),
    ("secretsmanager:GetSecretValue", "airflow/connections/default", False),
    ("secretsmanager:PutSecretValue", "orders/connections/warehouse", False),
    ("secretsmanager:DeleteSecret", "orders/connections/warehouse", False),
    ("secretsmanager:ListSecrets", "*", False),
]


@pytest.mark.parametrize("side", ["primary", "dr"])
@pytest.mark.parametrize(("action", "name", "allowed"), SECRET_REQUESTS)
def test_execution_roles_read_exactly_the_backends_secrets(
    configured: dict[str, Template], side: str, action: str, name: str, allowed: bool
) -> None:
    region = {"primary": "us-east-1", "dr": "us-west-2"}[side]
    statements = _execution_statements(configured[side])
    assert _allowed(statements, action, SECRET.format(region=region, name=name)) is allowed
    # never the other Region's secrets: DR reads the replicas
    other = {"primary": "us-west-2", "dr": "us-east-1"}[side]
    assert not _allowed(statements, action, SECRET.format(region=other, name=name))


@pytest.mark.parametrize(("side", "key"), [("primary", "SecretsKey"), ("dr", "SecretsReplicaKey")])
def test_execution_roles_decrypt_secrets_only_through_secrets_manager(
    configured: dict[str, Template], side: str, key: str
) -> None:
    region = {"primary": "us-east-1", "dr": "us-west-2"}[side]
    template = configured[side]
    (key_id,) = [k for k in template.find_resources("AWS::KMS::Key") if k.startswith(key)]
    grants = [st for st in _execution_statements(template) if st.get("Resource") == {"Fn::GetAtt": [key_id, "Arn"]}]
    assert grants == [
        {
            "Action": "kms:Decrypt",
            "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key_id, "Arn"]},
        }
    ]


# -- keys (finding 11) ------------------------------------------------------------------------------


def _key_of_bucket(template: Template, bucket_filter: Callable[[dict[str, Any]], bool]) -> str:
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        if bucket_filter(bucket["Properties"]):
            rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            return str(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0])
    raise AssertionError("no such bucket")


@pytest.mark.parametrize("side", ["MwaaDrPrimary", "MwaaDrSecondary"])
def test_environments_use_their_dags_buckets_key(active_passive: dict[str, Template], side: str) -> None:
    """MWAA's guide: a bucket with an SSE-KMS key needs the same key on the environment (KmsKey),
    and that key's policy must let CloudWatch Logs use it for the environment's log groups."""
    template = active_passive[side]
    props = _environment_properties(template)
    source = props["SourceBucketArn"]["Fn::GetAtt"][0]
    key = _key_of_bucket(template, lambda p: "ReplicationConfiguration" in p or "BucketName" in p)
    bucket = template.find_resources("AWS::S3::Bucket")[source]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "KMSMasterKeyID"
    ] == {"Fn::GetAtt": [key, "Arn"]}
    assert props["KmsKey"] == {"Fn::GetAtt": [key, "Arn"]}
    region = "us-east-1" if side == "MwaaDrPrimary" else "us-west-2"
    policy = template.find_resources("AWS::KMS::Key")[key]["Properties"]["KeyPolicy"]["Statement"]
    logs = [st for st in policy if st.get("Principal") == {"Service": f"logs.{region}.amazonaws.com"}]
    assert len(logs) == 1
    context = _arn(logs[0]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert context == f"arn:aws:logs:{region}:111111111111:log-group:airflow-blueprints-airflow-*"
    # the execution role uses that key through SQS and S3 only; no grant on other accounts' keys
    kms_statements = [st for st in _execution_statements(template) if any(a.startswith("kms:") for a in _actions(st))]
    assert kms_statements == [
        {
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"],
            "Condition": {
                "StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com", f"s3.{region}.amazonaws.com"]}
            },
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [key, "Arn"]},
        }
    ]


def test_backup_restores_role_keeps_the_aws_owned_key_policy(backup_restore: dict[str, Template]) -> None:
    """The failover creates backup_restore's environment from the primary's stored configuration,
    which names no key, so its role keeps MWAA's policy for an AWS owned key (SQS only)."""
    statements = _execution_statements(backup_restore["MwaaDrSecondary"])
    assert any("NotResource" in st for st in statements)


# -- replacement (finding 10) -----------------------------------------------------------------------


def test_the_primary_environment_is_retained(active_passive: dict[str, Template]) -> None:
    """Deleting the stack, or a change that replaces the environment, never deletes the primary's
    metadata database."""
    (primary,) = active_passive["MwaaDrPrimary"].find_resources("AWS::MWAA::Environment").values()
    assert primary["DeletionPolicy"] == "Retain" and primary["UpdateReplacePolicy"] == "Retain"
    (passive,) = active_passive["MwaaDrSecondary"].find_resources("AWS::MWAA::Environment").values()
    assert "DeletionPolicy" not in passive


def test_replacing_properties_follow_the_cloudformation_schema() -> None:
    """REPLACING_PROPERTIES (and the docs' list) are the resource schema's createOnlyProperties."""
    from pathlib import Path

    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    digest = json.loads((schemas / "providers" / "us-east-1.json").read_text())["AWS::MWAA::Environment"]
    schema = json.loads((schemas / "resources" / f"{digest}.json").read_text())
    create_only = {p.removeprefix("/properties/").replace("/", ".") for p in schema["createOnlyProperties"]}
    assert create_only == set(REPLACING_PROPERTIES)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "mwaa-dr.md").read_text()
    for prop in REPLACING_PROPERTIES:
        assert f"`{prop}`" in docs, prop


# -- wrap mode (finding 7) --------------------------------------------------------------------------


def test_wrap_mode_replicates_the_wrapped_environments_bucket() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Wrap", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    key = kms.Key(stack, "DagsKey")
    existing = s3.Bucket(stack, "ExistingDags", versioned=True, encryption_key=key)
    dr = MwaaDrPrimary(
        stack,
        "Dr",
        environment_name="existing-env",
        dr_region="eu-central-1",
        create_environment=False,
        dags_bucket=existing,
    )
    assert dr.dags_bucket is existing and dr.dags_key is key
    template = Template.from_stack(stack)
    buckets = template.find_resources("AWS::S3::Bucket")
    replicated = {lid for lid, b in buckets.items() if "ReplicationConfiguration" in b["Properties"]}
    existing_id = stack.get_logical_id(existing.node.default_child)  # type: ignore[arg-type]
    assert existing_id in replicated and len(replicated) == 2  # the wrapped DAGs bucket and the backups
    (rule,) = buckets[existing_id]["Properties"]["ReplicationConfiguration"]["Rules"]
    assert (
        rule["Destination"]["Bucket"] == f"arn:aws:s3:::{dr_bucket_names('mwaa-dr', ACCOUNT, 'eu-central-1')['dags']}"
    )
    # replication may decrypt the wrapped bucket's objects with their own key, through S3 only
    role = stack.get_logical_id(dr.replication_role.node.default_child)  # type: ignore[arg-type]
    decrypt = [st for st in _role_statements(template, role) if st["Action"] == "kms:Decrypt"]
    key_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    assert {"Fn::GetAtt": [key_id, "Arn"]} in decrypt[0]["Resource"]
    assert decrypt[0]["Condition"] == {"StringLike": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def _wrap(**overrides: Any) -> MwaaDrPrimary:
    stack, _ = _dr_stack()
    kwargs: dict[str, Any] = {"environment_name": "env", "dr_region": "us-east-1", "create_environment": False}
    kwargs.update(overrides)
    return MwaaDrPrimary(stack, _id(), **kwargs)


def _bucket(**props: Any) -> s3.IBucket:
    stack, _ = _dr_stack()
    return s3.Bucket(stack, f"Bucket{_SHARED['n']}", **props)


WRAP_VALIDATION: list[tuple[Callable[[], dict[str, Any]], str]] = [
    (dict, "create_environment=False needs dags_bucket"),
    (
        lambda: {"dags_bucket": s3.Bucket.from_bucket_name(_dr_stack()[0], f"Imp{_SHARED['n']}", "existing-dags")},
        "must be an s3.Bucket defined in the same stack",
    ),
    (lambda: {"dags_bucket": _bucket()}, "dags_bucket must be versioned"),
    (
        lambda: {"dags_bucket": _bucket(versioned=True, encryption=s3.BucketEncryption.KMS_MANAGED)},
        "SSE-KMS with a key the construct cannot see",
    ),
    (
        lambda: {"dags_bucket": _bucket(versioned=True), "requirements": REQUIREMENTS},
        "wrapped environment keeps its own configuration; set requirements",
    ),
    (
        lambda: {"dags_bucket": _bucket(versioned=True), "secrets_backend": SECRETS},
        "set secrets_backend on it directly",
    ),
]


@pytest.mark.parametrize(("overrides", "message"), WRAP_VALIDATION, ids=[m[:40] for _, m in WRAP_VALIDATION])
def test_wrap_mode_validation(overrides: Callable[[], dict[str, Any]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _wrap(**overrides())


def test_a_bucket_that_already_replicates_is_refused() -> None:
    bucket = _bucket(versioned=True)
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
        role="arn:aws:iam::1:role/r", rules=[]
    )
    with pytest.raises(ValueError, match="already has a replication configuration"):
        _wrap(dags_bucket=bucket)


CONFIG_VALIDATION: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
    (
        _secondary,
        {"airflow_configuration_options": {"scheduler.catchup_by_default": "True"}},
        "must stay 'False' on the DR side",
    ),
    (_secondary, {"airflow_configuration_options": {"core.dags_are_paused_at_creation": "False"}}, "must stay 'True'"),
    (_primary, {"airflow_configuration_options": {"Core.Parallelism": "4"}}, "keys must be '<section>.<option>'"),
    (_primary, {"airflow_configuration_options": {"parallelism": "4"}}, "keys must be '<section>.<option>'"),
    (_primary, {"airflow_configuration_options": {"core.parallelism": ""}}, "must be a string of 1-65536 printable"),
    (
        _primary,
        {"requirements": AirflowS3Object(path="/requirements.txt", version="v1")},
        "requirements.path must be an object key",
    ),
    (
        _primary,
        {"plugins": AirflowS3Object(path="s3://b/plugins.zip", version="v1")},
        "plugins.path must be an object key",
    ),
    (_secondary, {"startup_script": AirflowS3Object(path="startup.sh", version="")}, "startup_script.version must be"),
    (_secondary, {"requirements": AirflowS3Object(path="requirements.txt", version="null")}, "not 'null'"),
    (_primary, {"secrets_backend": SecretsManagerBackend(None, None, None)}, "needs at least one of"),
    (
        _secondary,
        {"secrets_backend": SecretsManagerBackend(connections_prefix="/airflow")},
        "Secrets Manager name prefixes",
    ),
    (
        _secondary,
        {"secrets_backend": SecretsManagerBackend(variables_prefix="airflow/*")},
        "Secrets Manager name prefixes",
    ),
    (
        _primary,
        {"secrets_backend": SECRETS, "airflow_configuration_options": {"secrets.backend": "x.Y"}},
        "pass either secrets_backend or those options",
    ),
    (
        _secondary,
        {"strategy": "backup_restore", "requirements": REQUIREMENTS},
        "backup_restore creates the DR environment from the primary's configuration",
    ),
]


@pytest.mark.parametrize(
    ("build", "overrides", "message"), CONFIG_VALIDATION, ids=[v[2][:40] for v in CONFIG_VALIDATION]
)
def test_configuration_validation(build: Callable[..., Any], overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**overrides)


def test_a_secrets_key_without_a_secrets_backend_is_refused() -> None:
    stack, vpc = _dr_stack()
    key = kms.Key(stack, "SecretsKey", enable_key_rotation=True)
    with pytest.raises(ValueError, match="pass a secrets_backend too"):
        MwaaDrPrimary(stack, _id(), environment_name="env", dr_region="us-east-1", vpc=vpc, secrets_key=key)


def test_wrong_types_in_the_configuration_are_type_errors() -> None:
    """Were ValueErrors of the construct's own checks; the argument check refuses them first."""
    with pytest.raises(TypeError, match=r"argument 'airflow_configuration_options' .* item 'core.parallelism'"):
        _primary(airflow_configuration_options={"core.parallelism": 4})
    with pytest.raises(TypeError, match=r"argument 'requirements' must be AirflowS3Object \| None; got str"):
        _primary(requirements="requirements.txt")


def test_backup_restore_takes_a_secrets_backend_for_its_role() -> None:
    """backup_restore's environment is configured from the primary's stored options (which carry
    secrets.backend); the role the failover passes to it still needs the secrets."""
    secondary = _secondary(strategy="backup_restore", secrets_backend=SECRETS)
    assert secondary.airflow.secret_arns and secondary.environment is None


def test_health_check_may_read_only_the_primarys_mwaa_status(active_passive: dict[str, Template]) -> None:
    """Finding 12: GetEnvironment on the primary environment in the primary Region, nothing else."""
    template = active_passive["MwaaDrSecondary"]
    statements = _role_statements(template, _function_role(template, "UNHEALTHY_THRESHOLD"))
    airflow = [st for st in statements if any(a.startswith("airflow:") for a in _actions(st))]
    assert airflow == [
        {
            "Action": "airflow:GetEnvironment",
            "Effect": "Allow",
            "Resource": "arn:aws:airflow:us-east-1:111111111111:environment/blueprints-airflow",
        }
    ]
