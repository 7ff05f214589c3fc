"""The shared service-principal grants (issue #18): ``service_grant``, ``TopicRuleTarget`` and
``log_alb_access_logs``, on small stacks that pass both nag packs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from blueprints.constructs.common import (
    UNSOURCED_SERVICE_GRANTS,
    SecureBucket,
    TopicRuleTarget,
    alarm_arn_pattern,
    log_alb_access_logs,
    service_grant,
)
from blueprints.example_app import add_nag_packs
from tests.conftest import cdk_context

ACCOUNT = "111111111111"


def _stack(region: str = "us-east-1") -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(context=cdk_context())
    return app, cdk.Stack(app, "Grants", env=cdk.Environment(account=ACCOUNT, region=region))


def _statements(template: Template, kind: str, prop: str = "PolicyDocument") -> list[dict[str, Any]]:
    return [s for r in template.find_resources(kind).values() for s in r["Properties"][prop]["Statement"]]


def _for_service(statements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [s for s in statements if s.get("Principal") == {"Service": service}]


# --- service_grant ---------------------------------------------------------------------------------------


def test_a_service_grant_names_this_account_and_the_source() -> None:
    _, stack = _stack()
    statement = service_grant(
        stack,
        service="cloudwatch.amazonaws.com",
        actions=["sns:Publish"],
        resources=["arn:aws:sns:us-east-1:111111111111:t"],
        source_arn=alarm_arn_pattern(stack),
    )
    assert stack.resolve(statement.to_statement_json()) == {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": "arn:aws:sns:us-east-1:111111111111:t",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:*"},
        },
    }


def test_extra_conditions_are_kept_beside_the_source() -> None:
    _, stack = _stack()
    statement = service_grant(
        stack,
        service="delivery.logs.amazonaws.com",
        actions=["s3:PutObject"],
        resources=["arn:aws:s3:::b/*"],
        conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
    )
    assert stack.resolve(statement.to_statement_json())["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": ACCOUNT}
    }


def test_a_documented_exception_gets_no_source_condition() -> None:
    _, stack = _stack()
    statement = service_grant(
        stack, service="events.amazonaws.com", actions=["kms:Decrypt"], resources=["*"], source_account=False
    )
    assert "Condition" not in stack.resolve(statement.to_statement_json())
    assert ("events.amazonaws.com", "kms") in UNSOURCED_SERVICE_GRANTS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": "events"}, "service must be an AWS service principal"),
        ({"service": "arn:aws:iam::111111111111:root"}, "service must be an AWS service principal"),
        ({"actions": []}, "must name at least one action"),
        ({"actions": ["*"]}, "never '\\*' or 'service:\\*'"),
        ({"actions": ["sns:*"]}, "never '\\*' or 'service:\\*'"),
        ({"actions": ["sns:Publish", "kms:Decrypt"]}, "must belong to one service"),
        ({"resources": []}, "must name at least one resource"),
        ({"source_account": False}, "must name its source"),
        (
            {"service": "events.amazonaws.com", "actions": ["kms:Decrypt"]},
            "sends no aws:SourceArn or aws:SourceAccount to kms",
        ),
        (
            {
                "service": "events.amazonaws.com",
                "actions": ["kms:Decrypt"],
                "source_account": False,
                "source_arn": "arn:aws:events:us-east-1:111111111111:rule/r",
            },
            "a source condition would refuse every delivery",
        ),
    ],
)
def test_service_grant_refuses(kwargs: dict[str, Any], message: str) -> None:
    _, stack = _stack()
    arguments: dict[str, Any] = {
        "service": "sns.amazonaws.com",
        "actions": ["sqs:SendMessage"],
        "resources": ["arn:aws:sqs:us-east-1:111111111111:q"],
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        service_grant(stack, **arguments)


# --- TopicRuleTarget --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rule_template() -> Template:
    app, stack = _stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    dead_letters = sqs.Queue(stack, "DeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True)
    events.Rule(
        stack,
        "Rule",
        event_pattern=events.EventPattern(source=["aws.emr"]),
        targets=[
            TopicRuleTarget(
                topic,
                message=events.RuleTargetInput.from_text("hello"),
                dead_letter_queue=dead_letters,
                retry_attempts=10,
                max_event_age=cdk.Duration.hours(24),
            )
        ],
    )
    for construct, rule in (
        (dead_letters, "AwsSolutions-SQS3"),
        (dead_letters, "Serverless-SQSRedrivePolicy"),
    ):
        cdk.Validations.of(construct).acknowledge(
            cdk.Acknowledgment(id=f"{rule.split('-')[0]}::{rule}", reason="the test's dead-letter queue itself")
        )
    add_nag_packs(app)
    app.synth()
    return Template.from_stack(stack)


def _rule_id(template: Template) -> str:
    (rule_id,) = template.find_resources("AWS::Events::Rule")
    return rule_id


def test_the_rule_may_publish_to_the_topic_and_no_other_source(rule_template: Template) -> None:
    (publish,) = _for_service(_statements(rule_template, "AWS::SNS::TopicPolicy"), "events.amazonaws.com")
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": {"Fn::GetAtt": [_rule_id(rule_template), "Arn"]}},
    }


def test_the_dead_letter_queue_takes_the_rules_failures_only(rule_template: Template) -> None:
    (send,) = _for_service(_statements(rule_template, "AWS::SQS::QueuePolicy"), "events.amazonaws.com")
    assert send["Action"] == "sqs:SendMessage"
    assert send["Condition"]["ArnLike"] == {"aws:SourceArn": {"Fn::GetAtt": [_rule_id(rule_template), "Arn"]}}


def test_the_target_keeps_input_retries_and_dead_letters(rule_template: Template) -> None:
    (rule,) = rule_template.find_resources("AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    (queue_id,) = rule_template.find_resources("AWS::SQS::Queue")
    (topic_id,) = rule_template.find_resources("AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    assert target["Input"] == '"hello"'
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86400}


def test_the_key_gets_no_unbound_eventbridge_grant_from_the_target(rule_template: Template) -> None:
    """``aws_events_targets.SnsTopic`` grants events.amazonaws.com the topic's key too; this target leaves
    the key grant to the construct, which makes it (and says why it has no source condition)."""
    key_statements = _statements(rule_template, "AWS::KMS::Key", "KeyPolicy")
    assert _for_service(key_statements, "events.amazonaws.com") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retry_attempts": -1}, "retry_attempts must be between 0 and 185"),
        ({"retry_attempts": 186}, "retry_attempts must be between 0 and 185"),
        ({"max_event_age": cdk.Duration.seconds(59)}, "max_event_age must be between 1 minute and 24 hours"),
        ({"max_event_age": cdk.Duration.hours(25)}, "max_event_age must be between 1 minute and 24 hours"),
    ],
)
def test_topic_rule_target_refuses(kwargs: dict[str, Any], message: str) -> None:
    _, stack = _stack()
    with pytest.raises(ValueError, match=message):
        TopicRuleTarget(sns.Topic(stack, "Topic"), **kwargs)


# --- log_alb_access_logs -----------------------------------------------------------------------------------


def _alb_template(region: str) -> Template:
    _app, stack = _stack(region)
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=[f"{region}a", f"{region}b"], nat_gateways=0)
    bucket = SecureBucket(stack, "Logs", encryption=s3.BucketEncryption.S3_MANAGED, versioned=False)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc, internet_facing=False)
    log_alb_access_logs(alb, bucket, "web")
    return Template.from_stack(stack)


def _log_bucket_statements(template: Template) -> list[dict[str, Any]]:
    (bucket_id,) = [
        k for k, v in template.find_resources("AWS::S3::Bucket").items() if "LoggingConfiguration" in v["Properties"]
    ]
    policies = template.find_resources("AWS::S3::BucketPolicy")
    (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    return policy["Properties"]["PolicyDocument"]["Statement"]


@pytest.fixture(scope="module")
def old_region_alb() -> Template:
    return _alb_template("us-east-1")


def test_alb_logs_are_written_by_the_regions_elb_account_under_this_accounts_path(old_region_alb: Template) -> None:
    statements = _log_bucket_statements(old_region_alb)
    (elb,) = [s for s in statements if s.get("Principal") == {"AWS": "arn:aws:iam::127311923021:root"}]
    assert elb["Action"] == "s3:PutObject" and "Condition" not in elb
    assert elb["Resource"]["Fn::Join"][1][1] == "/web/AWSLogs/111111111111/*"
    (alb,) = old_region_alb.find_resources("AWS::ElasticLoadBalancingV2::LoadBalancer").values()
    attributes = {a["Key"]: a["Value"] for a in alb["Properties"]["LoadBalancerAttributes"]}
    assert attributes["access_logs.s3.enabled"] == "true" and attributes["access_logs.s3.prefix"] == "web"
    assert any("Policy" in d for d in alb["DependsOn"])


def test_the_log_delivery_service_grants_are_bound_to_this_accounts_deliveries(old_region_alb: Template) -> None:
    grants = _for_service(_log_bucket_statements(old_region_alb), "delivery.logs.amazonaws.com")
    assert sorted(g["Action"] for g in grants) == ["s3:GetBucketAcl", "s3:PutObject"]
    for grant in grants:
        assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
        assert grant["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws:logs:us-east-1:111111111111:*"}


def test_a_region_without_an_elb_account_uses_the_documented_service_principal() -> None:
    """ap-southeast-4 (Melbourne) opened in 2023: ELB delivers as logdelivery.elasticloadbalancing.amazonaws.com,
    whose documented grant has no condition key."""
    statements = _log_bucket_statements(_alb_template("ap-southeast-4"))
    (elb,) = _for_service(statements, "logdelivery.elasticloadbalancing.amazonaws.com")
    assert elb["Action"] == "s3:PutObject" and "Condition" not in elb
    assert elb["Resource"]["Fn::Join"][1][1] == "/web/AWSLogs/111111111111/*"
    assert not [s for s in statements if "AWS" in s.get("Principal", {}) and s["Effect"] == "Allow"]


@pytest.mark.parametrize("prefix", ["", "/web", "web/", "web/AWSLogs"])
def test_alb_access_log_prefix_is_checked(prefix: str) -> None:
    _, stack = _stack()
    vpc = ec2.Vpc(stack, "Vpc", availability_zones=["us-east-1a", "us-east-1b"], nat_gateways=0)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc)
    with pytest.raises(ValueError, match="prefix must be a non-empty S3 key prefix"):
        log_alb_access_logs(alb, SecureBucket(stack, "Logs", encryption=s3.BucketEncryption.S3_MANAGED), prefix)


def test_alb_access_logs_need_the_region() -> None:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "NoRegion")
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0)
    alb = elbv2.ApplicationLoadBalancer(stack, "Alb", vpc=vpc)
    with pytest.raises(ValueError, match="need the stack's Region"):
        log_alb_access_logs(alb, SecureBucket(stack, "Logs", encryption=s3.BucketEncryption.S3_MANAGED), "web")
