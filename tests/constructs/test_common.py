"""The shared blocks, proven on a stack that uses them and passes both nag packs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from blueprints.constructs.common import (
    POWERTOOLS_VERSION,
    PythonHandler,
    SecureBucket,
    SecureQueue,
    acknowledge,
    handler_code,
    state_machine_log_group,
)
from blueprints.example_app import add_nag_packs
from tests.conftest import cdk_context

ENV = cdk.Environment(account="111111111111", region="eu-west-1")


def _stack() -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(context=cdk_context())
    return app, cdk.Stack(app, "Common", env=ENV)


@pytest.fixture(scope="module")
def template() -> Template:
    app, stack = _stack()
    SecureBucket(stack, "Data")
    SecureBucket(
        stack,
        "Plain",
        encryption=s3.BucketEncryption.S3_MANAGED,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        versioned=False,
    )
    handler = PythonHandler(
        stack,
        "Echo",
        name="echo",
        description="echoes its event, to prove the handler factory",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        sync_caller="the test",
        environment={"GREETING": "hello"},
    )
    assert handler.function.runtime.name == "python3.14"
    PythonHandler(
        stack,
        "OnEvent",
        name="on_event",
        description="an asynchronously invoked function, which gets a DLQ",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    SecureQueue(stack, "Work", visibility_timeout=cdk.Duration.minutes(2))
    add_nag_packs(app)
    app.synth()  # raises if any nag finding is unacknowledged
    return Template.from_stack(stack)


def test_data_bucket_is_kms_encrypted_tls_only_versioned_and_retained(template: Template) -> None:
    template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
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
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "LoggingConfiguration": Match.object_like({"DestinationBucketName": Match.any_value()}),
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_every_bucket_gets_an_access_log_bucket_with_s3_managed_keys(template: Template) -> None:
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 4  # two buckets, each with its own access log bucket
    log_buckets = [b for b in buckets.values() if "LoggingConfiguration" not in b["Properties"]]
    assert len(log_buckets) == 2
    for bucket in log_buckets:
        rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_non_data_bucket_is_destroyed_with_the_stack(template: Template) -> None:
    destroyed = [b for b in template.find_resources("AWS::S3::Bucket").values() if b.get("DeletionPolicy") == "Delete"]
    assert len(destroyed) == 2


def test_handler_runs_newest_python_on_arm_with_powertools_tracing_and_retention(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "index.handler",
            "TracingConfig": {"Mode": "Active"},
            "MemorySize": 256,
            "Timeout": 30,
            "Layers": [Match.object_like({"Ref": Match.string_like_regexp("powertoolspythonarm64python314")})],
            "Environment": {"Variables": Match.object_like({"POWERTOOLS_SERVICE_NAME": "echo", "GREETING": "hello"})},
        },
    )
    parameters = template.to_json()["Parameters"]
    ssm_names = [
        p["Default"]
        for p in parameters.values()
        if p["Type"].startswith("AWS::SSM::Parameter::Value") and "powertools" in p["Default"]
    ]
    assert ssm_names == [f"/aws/service/powertools/python/arm64/python3.14/{POWERTOOLS_VERSION}"]
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_handler_role_has_no_managed_policies_and_writes_only_its_log_group(template: Template) -> None:
    roles = template.find_resources("AWS::IAM::Role")
    assert len(roles) == 2
    for role in roles.values():
        assert "ManagedPolicyArns" not in role["Properties"]
    policies = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyName": Match.string_like_regexp("^Echo")}}
    )
    by_actions: dict[frozenset[str], list[dict[str, Any]]] = {}
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        actions = frozenset(
            a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
        by_actions[actions] = statements
    # The X-Ray grant on '*' stands alone, so its acknowledgment cannot cover anything else.
    assert set(by_actions) == {
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
        frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}),
    }
    (log_statement,) = by_actions[frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})]
    assert log_statement["Resource"] != "*"


def test_kms_key_passed_in_is_used() -> None:
    _, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    SecureBucket(stack, "Data", encryption_key=key)
    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": [Match.string_like_regexp("Key"), "Arn"]},
                            }
                        }
                    )
                ]
            }
        },
    )


def test_key_with_s3_managed_encryption_is_refused() -> None:
    _, stack = _stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(ValueError, match="encryption_key is only used with encryption=s3.BucketEncryption.KMS"):
        SecureBucket(stack, "B", encryption=s3.BucketEncryption.S3_MANAGED, encryption_key=key)


def test_access_log_destination_with_kms_is_refused() -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match="S3-managed encryption"):
        SecureBucket(stack, "B", access_log_destination=True)


def test_access_log_destination_that_logs_elsewhere_is_refused() -> None:
    _, stack = _stack()
    other = SecureBucket(stack, "Other", encryption=s3.BucketEncryption.S3_MANAGED, access_log_destination=True)
    with pytest.raises(ValueError, match="not both"):
        SecureBucket(
            stack,
            "B",
            encryption=s3.BucketEncryption.S3_MANAGED,
            access_log_destination=True,
            server_access_logs_bucket=other,
        )


def test_memory_outside_lambda_limits_is_refused() -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match="memory_size must be between 128 and 10240 MB; got 64"):
        PythonHandler(stack, "F", name="x", description="d", memory_size=64, code=lambda_.Code.from_inline("x = 1"))


def test_missing_handler_folder_is_refused() -> None:
    with pytest.raises(ValueError, match="no handler at blueprints/lambdas/nope/index.py"):
        handler_code("nope")


def test_acknowledge_refuses_unknown_rule_ids() -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match="rule must be a cdk-nag finding id"):
        acknowledge(stack, "IAM5", "a long enough reason for the reviewer")


def test_acknowledge_refuses_short_reasons() -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match="must explain why"):
        acknowledge(stack, "AwsSolutions-IAM5[Resource::*]", "needed")


def test_unacknowledged_finding_fails_synthesis() -> None:
    from aws_cdk import aws_sqs as sqs

    app, stack = _stack()
    sqs.Queue(stack, "Plain")
    add_nag_packs(app)
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS4"):
        app.synth()


def test_synchronous_handler_has_no_dlq_and_asynchronous_one_has(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    with_dlq = [f for f in functions.values() if "DeadLetterConfig" in f["Properties"]]
    assert len(functions) == 2 and len(with_dlq) == 1
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2})


def test_queue_is_encrypted_tls_only_with_a_dead_letter_queue(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "VisibilityTimeout": 120,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 5},
        },
    )
    dlqs = template.find_resources("AWS::SQS::Queue", {"Properties": {"MessageRetentionPeriod": 1209600}})
    assert len(dlqs) == 2  # the queue's and the asynchronous handler's
    policies = template.find_resources("AWS::SQS::QueuePolicy")
    assert len(policies) == 3
    for policy in policies.values():
        statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_sync_caller_with_a_dead_letter_queue_is_refused() -> None:
    _, stack = _stack()
    dlq = SecureQueue.dead_letter(stack, "D")
    with pytest.raises(ValueError, match="never uses a dead_letter_queue"):
        PythonHandler(
            stack,
            "F",
            name="x",
            description="d",
            sync_caller="SQS",
            dead_letter_queue=dlq,
            code=lambda_.Code.from_inline("x = 1"),
        )


def test_dead_letter_queue_of_a_dead_letter_queue_is_refused() -> None:
    _, stack = _stack()
    dlq = SecureQueue.dead_letter(stack, "D")
    with pytest.raises(ValueError, match="takes no dead_letter_queue"):
        SecureQueue(stack, "Q", is_dead_letter_queue=True, dead_letter_queue=dlq)


def test_secure_bucket_works_without_the_bucket_policy_log_delivery_flag() -> None:
    app = cdk.App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": False})
    stack = cdk.Stack(app, "NoFlags", env=ENV)
    SecureBucket(stack, "Data")
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::S3::Bucket", {"OwnershipControls": {"Rules": [{"ObjectOwnership": "ObjectWriter"}]}}
    )


def test_another_grant_on_every_resource_is_not_covered_by_the_x_ray_acknowledgment() -> None:
    from aws_cdk import aws_iam as iam

    app, stack = _stack()
    handler = PythonHandler(
        stack, "F", name="x", description="d", sync_caller="the test", code=lambda_.Code.from_inline("x = 1")
    )
    handler.role.add_to_principal_policy(iam.PolicyStatement(actions=["ec2:DescribeInstances"], resources=["*"]))
    add_nag_packs(app)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


def test_state_machine_log_groups_are_vended_unique_per_stack_and_within_the_name_limit() -> None:
    """Two stacks of one app, each with a construct path far longer than a log group name may be."""
    import re

    from constructs import Construct

    app = cdk.App(context=cdk_context())
    stacks = [cdk.Stack(app, name, env=ENV) for name in ("Orders-Prod", "Orders-Test")]
    for stack in stacks:
        scope: Construct = stack
        for depth in range(12):
            scope = Construct(scope, f"Level{depth}With_A.Long:Construct Id" * 2)
        state_machine_log_group(scope, "Logs")
        state_machine_log_group(stack, "Logs")
    names = []
    for stack in stacks:
        for group in Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values():
            assert group["DeletionPolicy"] == "Delete"
            names.append(group["Properties"]["LogGroupName"])
    assert len(set(names)) == 4, names
    for name in names:
        # CloudWatch Logs: 1-512 characters of [.-_/#A-Za-z0-9] (CreateLogGroup, logGroupName).
        assert name.startswith("/aws/vendedlogs/states/Orders-") and len(name) <= 512, name
        assert re.fullmatch(r"[.\-_/#A-Za-z0-9]+", name), name


def test_secure_bucket_takes_cdks_encryption_and_removal_policy_and_refuses_the_rest() -> None:
    _app, stack = _stack()
    with pytest.raises(ValueError, match="encryption must be s3.BucketEncryption.KMS or s3.BucketEncryption.S3_"):
        SecureBucket(stack, "Unencrypted", encryption=s3.BucketEncryption.UNENCRYPTED)
    with pytest.raises(ValueError, match="removal_policy must be RemovalPolicy.RETAIN"):
        SecureBucket(stack, "Snapshot", removal_policy=cdk.RemovalPolicy.SNAPSHOT)
    with pytest.raises(TypeError, match=r"unexpected argument 'data' \(data was renamed removal_policy\)"):
        SecureBucket(stack, "Old", data=False)  # type: ignore[call-arg]
    SecureBucket(stack, "Staging", removal_policy=cdk.RemovalPolicy.DESTROY)
    policies = {
        name: resource["DeletionPolicy"]
        for name, resource in Template.from_stack(stack).to_json()["Resources"].items()
        if resource["Type"] == "AWS::S3::Bucket"
    }
    assert set(policies.values()) == {"Delete"} and len(policies) == 2, policies  # the bucket and its log bucket


def test_nag_text_writes_tokens_as_cdk_nag_does_and_refuses_what_it_cannot() -> None:
    from aws_cdk import aws_sqs as sqs

    from blueprints.constructs.common import nag_text

    stack = cdk.Stack(cdk.App(), "Agnostic")  # no env: partition, Region and account stay tokens
    queue = sqs.Queue(stack, "Q")
    logical = stack.get_logical_id(queue.node.default_child)  # type: ignore[arg-type]
    arn = stack.format_arn(service="ec2", resource="network-interface", resource_name="*")
    assert nag_text(stack, arn) == "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*"
    assert nag_text(stack, f"{queue.queue_arn}/x") == f"<{logical}.Arn>/x"
    assert nag_text(stack, queue.queue_url) == f"<{logical}>"
    with pytest.raises(ValueError, match="cannot write"):
        nag_text(stack, cdk.Fn.select(0, cdk.Fn.get_azs()))


@pytest.mark.parametrize("acknowledged", [True, False])
def test_acknowledge_wildcard_names_the_finding_cdk_nag_raises_for_that_resource(acknowledged: bool) -> None:
    from aws_cdk import aws_iam as iam

    from blueprints.constructs.common import acknowledge_wildcard

    app, stack = _stack()
    bucket = SecureBucket(stack, "Data")
    role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"{bucket.bucket_arn}/in/*"]))
    if acknowledged:
        acknowledge_wildcard(role, f"{bucket.bucket_arn}/in/*", "Reads every object under in/ of its own bucket.")
    add_nag_packs(app)
    if acknowledged:
        app.synth()  # the id written from the resource is the one cdk-nag raises
    else:
        with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::<Data[0-9A-F]+\.Arn>/in/\*\]"):
            app.synth()


# --- checkov skips: Metadata.checkov.skip, written with the cdk-nag acknowledgment they match -------------------


def _skips(template: Template, kind: str) -> dict[str, dict[str, str]]:
    """Logical id -> {check id: comment} of the checkov skips on each resource of ``kind``."""
    return {
        logical_id: {
            skip["id"]: skip["comment"] for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        }
        for logical_id, resource in template.find_resources(kind).items()
    }


def test_handlers_skip_checkovs_lambda_checks_they_answer_by_design(template: Template) -> None:
    functions = _skips(template, "AWS::Lambda::Function")
    sync = next(v for k, v in functions.items() if k.startswith("Echo"))
    async_ = next(v for k, v in functions.items() if k.startswith("OnEvent"))
    # Both run outside a VPC, unreserved, with an environment of names; only the synchronous one lacks a DLQ, and
    # its skip carries the very reason of the Serverless-LambdaDLQ acknowledgment.
    assert set(sync) == {"CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_115", "CKV_AWS_173"}
    assert set(async_) == {"CKV_AWS_117", "CKV_AWS_115", "CKV_AWS_173"}
    assert sync["CKV_AWS_116"].startswith("Invoked synchronously by the test")
    for skips in _skips(template, "AWS::Logs::LogGroup").values():
        assert set(skips) == {"CKV_AWS_158"}
    # Nothing else carries a Lambda check.
    assert all("CKV_AWS_116" not in skips for skips in _skips(template, "AWS::IAM::Role").values())


def test_a_handler_in_a_vpc_with_reserved_concurrency_does_not_skip_those_checks() -> None:
    from aws_cdk import aws_ec2 as ec2

    _app, stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip
    PythonHandler(
        stack,
        "Inside",
        name="inside",
        description="a function in a VPC with reserved concurrency",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        vpc=vpc,
        reserved_concurrent_executions=2,
    )
    functions = _skips(Template.from_stack(stack), "AWS::Lambda::Function")
    (skips,) = (v for k, v in functions.items() if k.startswith("Inside"))
    assert set(skips) == {"CKV_AWS_173"}


def test_queues_with_sqs_managed_keys_and_access_log_buckets_skip_what_checkov_misreads(template: Template) -> None:
    queues = _skips(template, "AWS::SQS::Queue")
    assert queues and all(set(skips) == {"CKV_AWS_27"} for skips in queues.values())
    buckets = _skips(template, "AWS::S3::Bucket")
    log_buckets = {k: v for k, v in buckets.items() if "AccessLogs" in k}
    assert log_buckets and all(set(v) == {"CKV_AWS_18", "CKV_AWS_21"} for v in log_buckets.values())
    assert all(not v for k, v in buckets.items() if k not in log_buckets)  # data buckets log and version


def test_a_queue_with_a_customer_managed_key_skips_nothing() -> None:
    _app, stack = _stack()
    SecureQueue(stack, "Work", encryption_key=kms.Key(stack, "Key", enable_key_rotation=True))
    assert all(not skips for skips in _skips(Template.from_stack(stack), "AWS::SQS::Queue").values())


def test_skip_checkov_merges_skips_covers_later_children_and_refuses_bad_input() -> None:
    from blueprints.constructs.common import skip_checkov

    app, _ = _stack()
    scope = cdk.Stack(app, "Scoped", env=ENV)
    skip_checkov(scope, ["CKV_AWS_21"], "a reason long enough for a reviewer to read")
    skip_checkov(scope, ["CKV_AWS_18", "CKV_AWS_21"], "a second reason that is long enough too")
    s3.CfnBucket(scope, "Later")  # added after the skips: still covered, as an acknowledgment would be
    kms.CfnKey(scope, "Key", key_policy={})
    template = Template.from_stack(scope)
    (bucket,) = _skips(template, "AWS::S3::Bucket").values()
    assert bucket == {
        "CKV_AWS_21": "a reason long enough for a reviewer to read",
        "CKV_AWS_18": "a second reason that is long enough too",
    }
    assert all(not skips for skips in _skips(template, "AWS::KMS::Key").values())  # not a type the checks read
    with pytest.raises(ValueError, match="checkov ids listed"):
        skip_checkov(scope, ["CKV_AWS_999999"], "a reason long enough for a reviewer to read")
    with pytest.raises(ValueError, match="checkov ids listed"):
        skip_checkov(scope, [], "a reason long enough for a reviewer to read")
    with pytest.raises(ValueError, match="must explain"):
        skip_checkov(scope, ["CKV_AWS_21"], "short")


def test_secure_topic_is_encrypted_tls_only_and_admits_alarms_only_when_asked() -> None:
    from blueprints.constructs.common import secure_topic

    _, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    secure_topic(stack, "Quiet", key=key, display_name="quiet")
    secure_topic(stack, "Alarmed", key=key, alarms_publish=True)
    template = Template.from_stack(stack)
    topics = template.find_resources("AWS::SNS::Topic")
    assert {t["Properties"].get("KmsMasterKeyId") is not None for t in topics.values()} == {True}
    policies = template.find_resources("AWS::SNS::TopicPolicy")
    by_topic = {
        policy["Properties"]["Topics"][0]["Ref"]: policy["Properties"]["PolicyDocument"]["Statement"]
        for policy in policies.values()
    }
    for logical_id, statements in by_topic.items():
        denies = [s for s in statements if s["Effect"] == "Deny"]
        assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        alarm = [s for s in statements if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        if logical_id.startswith("Alarmed"):
            (grant,) = alarm
            assert grant["Action"] == "sns:Publish"
            assert set(grant["Condition"]) == {"ArnLike", "StringEquals"}  # the account's alarms only
        else:
            assert not alarm
    key_statements = next(iter(template.find_resources("AWS::KMS::Key").values()))["Properties"]["KeyPolicy"]
    cloudwatch = [
        s for s in key_statements["Statement"] if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert len(cloudwatch) == 1 and cloudwatch[0]["Sid"] == "AllowCloudWatchAlarmsToPublish"


def test_eventbridge_key_grant_is_exactly_what_sns_asks_for_and_leaves_imported_keys_alone() -> None:
    from blueprints.constructs.common import allow_eventbridge_to_use_key

    _, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    allow_eventbridge_to_use_key(stack, key, "EventBridgeDelivers")
    imported = kms.Key.from_key_arn(
        stack, "Theirs", "arn:aws:kms:eu-west-1:111111111111:key/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    allow_eventbridge_to_use_key(stack, imported, "EventBridgeDeliversToTheirs")
    (own,) = Template.from_stack(stack).find_resources("AWS::KMS::Key").values()
    (grant,) = [s for s in own["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "EventBridgeDelivers"]
    # SNS encrypts with a plaintext data key (GenerateDataKey); no wildcard that would admit WithoutPlaintext too.
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    # EventBridge's KMS request for an SNS target carries no source keys: a condition would drop every event.
    assert "Condition" not in grant


def test_grant_publish_needs_no_wildcard_action_and_no_acknowledgment() -> None:
    from aws_cdk import aws_iam as iam

    from blueprints.constructs.common import grant_publish, secure_topic

    app, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = secure_topic(stack, "Topic", key=key)
    role = iam.Role(stack, "Publisher", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant_publish(topic, role)
    (policy,) = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    actions = {
        action
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert actions == {"sns:Publish", "kms:Decrypt", "kms:GenerateDataKey"}
    add_nag_packs(app)
    app.synth()  # AwsSolutions-IAM5 has no wildcard action to flag, so no acknowledgment is needed


def test_flow_logged_vpc_logs_every_flow_restricts_the_default_group_and_passes_both_packs() -> None:
    from aws_cdk import aws_ec2 as ec2

    from blueprints.constructs.common import flow_logged_vpc

    app, stack = _stack()
    vpc, log_group = flow_logged_vpc(
        stack,
        "Vpc",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    add_nag_packs(app)
    app.synth()  # raises on an unacknowledged finding
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogGroupName": {"Ref": Match.string_like_regexp("^FlowLogs")}},
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    assert set(next(iter(_skips(template, "AWS::Logs::LogGroup").values()))) == {"CKV_AWS_158"}
    (provider,) = (v for k, v in _skips(template, "AWS::Lambda::Function").items() if "RestrictDefaultSG" in k)
    assert set(provider) == {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    assert vpc.isolated_subnets and log_group.node.id == "FlowLogs"


def test_secure_table_uses_the_key_point_in_time_recovery_and_is_retained_by_default() -> None:
    from blueprints.constructs.common import secure_table

    _, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    secure_table(stack, "Kept", key=key, partition_key="id", time_to_live_attribute="expires_at")
    secure_table(stack, "Rebuilt", key=key, partition_key="pk", removal_policy=cdk.RemovalPolicy.DESTROY)
    template = Template.from_stack(stack)
    tables = template.find_resources("AWS::DynamoDB::Table")
    kept = next(v for k, v in tables.items() if k.startswith("Kept"))
    rebuilt = next(v for k, v in tables.items() if k.startswith("Rebuilt"))
    for table in (kept, rebuilt):
        props = table["Properties"]
        assert props["SSESpecification"]["SSEType"] == "KMS" and "KMSMasterKeyId" in props["SSESpecification"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert kept["DeletionPolicy"] == "Retain" and rebuilt["DeletionPolicy"] == "Delete"
    assert kept["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "TimeToLiveSpecification" not in rebuilt["Properties"]


def test_logged_state_machine_logs_traces_passes_both_packs_and_alarms_on_every_bad_end() -> None:
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_stepfunctions_tasks as tasks

    from blueprints.constructs.common import STATE_MACHINE_LOG_PREFIX, execution_alarms, logged_state_machine, notify

    app, stack = _stack()
    worker = PythonHandler(
        stack,
        "Worker",
        name="worker",
        description="a step of the machine",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
        sync_caller="the state machine",
    )
    step = tasks.LambdaInvoke(stack, "Work", lambda_function=worker.function, payload_response_only=True)
    machine, log_group = logged_state_machine(
        stack, "Flow", definition=step, timeout=cdk.Duration.hours(2), invoked_functions=[worker.function]
    )
    assert log_group.node.id == "FlowLogs"
    alarms = execution_alarms(stack, machine, id_prefix="Flow", subject="A test run", timeout=cdk.Duration.hours(2))
    topic = sns.Topic(stack, "Topic", master_key=kms.Key(stack, "TopicKey", enable_key_rotation=True), enforce_ssl=True)
    notify(topic, *alarms.values())
    add_nag_packs(app)
    app.synth()  # raises on an unacknowledged finding: the role's '*' and ':*' grants are acknowledged
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
        },
    )
    (group,) = (v for k, v in template.find_resources("AWS::Logs::LogGroup").items() if k.startswith("FlowLogs"))
    assert group["Properties"]["LogGroupName"].startswith(STATE_MACHINE_LOG_PREFIX)
    assert set(alarms) == {"failed", "timed_out", "aborted"}
    found = template.find_resources("AWS::CloudWatch::Alarm")
    by_metric = {a["Properties"]["MetricName"]: a["Properties"] for a in found.values()}
    assert set(by_metric) == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert by_metric["ExecutionsTimedOut"]["AlarmDescription"] == "A test run timed out (limit 2 hours)"
    for props in by_metric.values():
        assert props["Threshold"] == 1 and props["TreatMissingData"] == "notBreaching"
        assert props["AlarmActions"] == [{"Ref": next(k for k in template.find_resources("AWS::SNS::Topic"))}]
        assert props["OKActions"] == props["AlarmActions"]


def _custom_resource_handler(stack: cdk.Stack, id: str) -> lambda_.IFunction:
    return PythonHandler(
        stack,
        id,
        name=id.lower(),
        description=f"a custom resource's {id} handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
        sync_caller="the CloudFormation custom resource Provider framework",
    ).function


@pytest.mark.parametrize("waits", [False, True], ids=["on_event_only", "with_is_complete"])
def test_secure_provider_logs_and_passes_both_packs_with_a_waiter_only_when_it_polls(waits: bool) -> None:
    from blueprints.constructs.common import secure_provider

    app, stack = _stack()
    provider = secure_provider(
        stack,
        on_event=_custom_resource_handler(stack, "OnEvent"),
        is_complete=_custom_resource_handler(stack, "IsComplete") if waits else None,
        query_interval=cdk.Duration.seconds(30) if waits else None,
        logged_data="test ids only",
    )
    cdk.CustomResource(stack, "Thing", service_token=provider.service_token, resource_type="Custom::Thing")
    add_nag_packs(app)
    app.synth()  # raises on an unacknowledged finding: every framework finding, and only those that fire
    template = Template.from_stack(stack)
    machines = template.find_resources("AWS::StepFunctions::StateMachine")
    assert len(machines) == (1 if waits else 0)
    groups = template.find_resources("AWS::Logs::LogGroup")
    (framework_logs,) = (v for k, v in groups.items() if k.startswith("ProviderLogs"))
    (skip,) = framework_logs["Metadata"]["checkov"]["skip"]
    assert skip["id"] == "CKV_AWS_158" and "(test ids only)" in skip["comment"]
    waiter_logs = [v for k, v in groups.items() if k.startswith("WaiterLogs")]
    assert len(waiter_logs) == (1 if waits else 0)
    for machine in machines.values():
        config = machine["Properties"]["LoggingConfiguration"]
        assert (config["Level"], config["IncludeExecutionData"]) == ("ALL", False)


def test_secure_provider_refuses_waiter_settings_without_is_complete() -> None:
    from blueprints.constructs.common import secure_provider

    _, stack = _stack()
    with pytest.raises(ValueError, match="only an is_complete handler has"):
        secure_provider(
            stack,
            on_event=_custom_resource_handler(stack, "OnEvent"),
            total_timeout=cdk.Duration.minutes(5),
            logged_data="test ids only",
        )
