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
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from blueprints.constructs.mwaa_dr import (
    MwaaDrPrimary,
    MwaaDrSecondary,
    MwaaDrStrategy,
    dr_bucket_names,
    replica_key_alias,
)
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def active_passive() -> dict[str, Template]:
    return synth_example("blueprints.stacks.mwaa_dr")


@pytest.fixture(scope="module")
def backup_restore() -> dict[str, Template]:
    return synth_example("blueprints.stacks.mwaa_dr", mwaa_dr_strategy="backup_restore")


def _render(value: Any) -> str:
    """A definition string with every token replaced by a readable placeholder."""
    if isinstance(value, str):
        return value
    parts = value["Fn::Join"][1]
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif "Ref" in part:
            out.append(f"REF_{part['Ref']}")
        else:
            out.append(f"ATT_{part['Fn::GetAtt'][0]}")
    return "".join(out)


def _machines(template: Template) -> dict[str, dict[str, Any]]:
    """State machine definitions keyed by their first state's name."""
    found = template.find_resources("AWS::StepFunctions::StateMachine")
    machines = {}
    for resource in found.values():
        definition = json.loads(_render(resource["Properties"]["DefinitionString"]))
        machines[definition["StartAt"]] = definition
    return machines


def _failover(template: Template) -> dict[str, Any]:
    return _machines(template)["CheckPrimaryHealth"]


def _failback(template: Template) -> dict[str, Any]:
    return _machines(template)["NotifyFailbackStarted"]


# -- a small interpreter for the states the definitions use --------------------------------------


class TaskFailed(Exception):
    """A task's outcome: it fails with ``error`` after its retries."""

    def __init__(self, error: str = "States.TaskFailed") -> None:
        super().__init__(error)
        self.error = error


def _catcher(state: dict[str, Any], error: str) -> dict[str, Any] | None:
    """The first Catch that handles ``error``, as Step Functions picks it."""
    for catcher in state.get("Catch", []):
        names = catcher["ErrorEquals"]
        if error in names or "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout"):
            return catcher
    return None


class StatesRuntime(AssertionError):
    """A path that does not resolve: Step Functions fails the execution with States.Runtime,
    which no Retry or Catch (not even States.ALL) handles."""


CONTEXT = {"Execution": {"Id": "arn:aws:states:us-west-2:111111111111:execution:machine:run"}}


def _get(data: Any, path: str) -> Any:
    """A reference path (``$.a.b``, or ``$$.a`` into the context object) that must exist."""
    root, rest = (CONTEXT, path[2:]) if path.startswith("$$") else (data, path[1:])
    assert path.startswith("$"), f"not a path: {path}"
    node = root
    for part in rest.strip(".").split("."):
        if not part:
            continue
        if not isinstance(node, dict) or part not in node:
            raise StatesRuntime(f"path {path} does not exist in {json.dumps(root)[:300]}")
        node = node[part]
    return node


def _parameters(template: Any, data: Any) -> Any:
    """Parameters with every ``key.$`` replaced by the value its path selects."""
    if isinstance(template, list):
        return [_parameters(v, data) for v in template]
    if not isinstance(template, dict):
        return template
    out = {}
    for key, value in template.items():
        if key.endswith(".$"):
            assert isinstance(value, str) and value.startswith("$"), f"intrinsic not understood: {value}"
            out[key[:-2]] = _get(data, value)
        else:
            out[key] = _parameters(value, data)
    return out


def _set(data: dict[str, Any], path: str | None, value: Any) -> dict[str, Any]:
    if path is None:
        return data
    if path == "$":
        return value
    out = json.loads(json.dumps(data))
    node = out
    parts = path.removeprefix("$.").split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _matches(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    if "Or" in rule:
        return any(_matches(r, data) for r in rule["Or"])
    value = _get(data, rule["Variable"])
    if "BooleanEquals" in rule:
        return value is rule["BooleanEquals"]
    if "StringEquals" in rule:
        return value == rule["StringEquals"]
    raise AssertionError(f"condition not understood: {rule}")


def walk(
    definition: dict[str, Any],
    outputs: dict[str, list[Any]],
    limit: int = 60,
    inputs: dict[str, list[Any]] | None = None,
) -> list[str]:
    """Run the definition with each Task's results taken in order from ``outputs``.

    Each Task's ``Parameters`` are evaluated against the state's input as Step Functions does
    (a ``.$`` path that does not exist raises ``StatesRuntime``) and, with ``inputs``, recorded
    per state. An output that is a ``TaskFailed`` instance makes the task fail (retries are
    exhausted immediately), so its Catch is followed; with none, the execution fails and the path
    ends in ``ExecutionFailed:<error>``. Returns the names of the states visited.
    """
    states = definition["States"]
    name, data, path = definition["StartAt"], {}, []
    remaining = {k: list(v) for k, v in outputs.items()}
    for _ in range(limit):
        path.append(name)
        state = states[name]
        kind = state["Type"]
        unsupported = {"InputPath", "OutputPath", "ResultSelector", "Arguments", "Output"} & set(state)
        assert not unsupported, f"{name}: the test interpreter does not evaluate {unsupported}"
        if kind in ("Succeed", "Fail"):
            return path
        if kind == "Choice":
            name = next((c["Next"] for c in state["Choices"] if _matches(c, data)), state.get("Default"))
            assert name, f"Choice {path[-1]} has no matching branch and no default"
            continue
        if kind == "Pass":
            effective = _parameters(state["Parameters"], data) if "Parameters" in state else data
            data = _set(data, state.get("ResultPath", "$"), state.get("Result", effective))
        elif kind == "Task":
            request = _parameters(state.get("Parameters", {}), data)
            if inputs is not None:
                inputs.setdefault(name, []).append(request)
            queued = remaining.get(name)
            result = queued.pop(0) if queued else {}
            if isinstance(result, TaskFailed):
                catcher = _catcher(state, result.error)
                if catcher is None:  # the execution fails with the task's error
                    path.append(f"ExecutionFailed:{result.error}")
                    return path
                data = _set(data, catcher.get("ResultPath", "$"), {"Error": result.error})
                name = catcher["Next"]
                continue
            data = _set(data, state.get("ResultPath", "$"), result)
        if state.get("End"):
            return path
        name = state["Next"]
    raise AssertionError(f"no end after {limit} states: {path}")


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
        definition = json.loads(_render(properties["Properties"]["DefinitionString"]))
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
            alarm_topic=topic,
            name_prefix=f"topic-{n}",
        )
        assert dr.topic is topic, label
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
    """SNS needs kms:GenerateDataKey* and kms:Decrypt on an SSE topic's key from every publisher."""
    _, template, _ = caller_topics
    for statements in _kms_grants_of_machines_publishing_to(template, f"arn:aws:sns:us-west-2:{ACCOUNT}:ops"):
        assert statements == [
            {
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
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


def test_failback_path_and_failure(active_passive: dict[str, Template]) -> None:
    machine = _failback(active_passive["MwaaDrSecondary"])
    path = walk(machine, {"FailbackRestore": [PARTIAL, DONE]})
    assert path == [
        "NotifyFailbackStarted",
        "BackupDrEnvironment",
        "FailbackInit",
        "FailbackRestore",
        "FailbackRestoreDone",
        "FailbackRestore",
        "FailbackRestoreDone",
        "PauseDrDags",
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
        "FailbackInit",
        "FailbackRestore",
        "FailbackRestoreDone",
        "PauseDrDags",
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
    (_secondary, {"strategy": "pilot_light"}, "strategy must be one of active_passive, backup_restore"),
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
