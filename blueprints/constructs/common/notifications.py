"""Encrypted SNS topics, and the alarms' notification topic."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.common.grants import alarm_arn_pattern, service_grant

#: What CloudWatch needs of the key of a topic its alarms publish to (SNS User Guide, "Enable compatibility
#: between event sources from AWS services and encrypted topics"): a data key to encrypt with, and Decrypt.
ALARM_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


#: What EventBridge needs of the key of an encrypted SNS topic that a rule targets (AWS re:Post Knowledge Center,
#: "Why isn't my Amazon SNS topic receiving Amazon EventBridge notifications?": the key policy lets
#: events.amazonaws.com call kms:Decrypt and kms:GenerateDataKey). SNS asks for a plaintext data key, so the
#: WithoutPlaintext variant that a ``GenerateDataKey*`` wildcard would also allow is never needed.
EVENTBRIDGE_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


#: What a role that publishes to an encrypted topic needs of the topic's key. SNS encrypts the message on the
#: publisher's behalf with a data key that KMS returns in plaintext (kms:GenerateDataKey; "not authorized to
#: perform: kms:GenerateDataKey" is the refusal a publisher without it gets) and decrypts data keys it reuses.
#: CDK's ``Topic.grant_publish`` grants ``kms:GenerateDataKey*``, which adds GenerateDataKeyWithoutPlaintext,
#: a call SNS never makes, and which AwsSolutions-IAM5 rightly flags.
PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def grant_publish(topic: sns.ITopic, grantee: iam.IGrantable) -> iam.Grant:
    """``sns:Publish`` on ``topic`` and, when it is encrypted with a key the construct knows, that key's
    :data:`PUBLISH_KEY_ACTIONS`: ``Topic.grant_publish`` without its wildcard action."""
    grant = iam.Grant.add_to_principal_or_resource(
        grantee=grantee, actions=["sns:Publish"], resource_arns=[topic.topic_arn], resource=topic
    )
    if topic.master_key is not None:
        topic.master_key.grant(grantee, *PUBLISH_KEY_ACTIONS)
    return grant


def allow_eventbridge_to_use_key(scope: Construct, key: kms.IKey, sid: str) -> None:
    """Let EventBridge rules deliver to a topic encrypted with ``key``: SNS encrypts with the publisher's identity.

    EventBridge's KMS request carries no source keys (``UNSOURCED_SERVICE_GRANTS``), so the grant cannot name the
    rule; the topic's own policy admits only the rule that targets it (``TopicRuleTarget``). An imported key's
    policy is its owner's to change, and ``add_to_resource_policy`` leaves it alone.
    """
    key.add_to_resource_policy(
        _key_use(scope, sid, "events.amazonaws.com", EVENTBRIDGE_KEY_ACTIONS, source_account=False)
    )


def _key_use(
    scope: Construct, sid: str, service: str, actions: tuple[str, ...], *, source_account: bool = True
) -> iam.PolicyStatement:
    """A key-policy statement letting ``service`` use the key (any key policy's ``Resource`` is the key: ``*``)."""
    return service_grant(
        scope, sid=sid, service=service, actions=list(actions), resources=["*"], source_account=source_account
    )


def allow_alarms_to_use_key(scope: Construct, key: kms.IKey, sid: str = "AllowCloudWatchAlarmsToPublish") -> None:
    """Let this account's CloudWatch alarms use ``key`` for a topic it encrypts (a key of the stack's own only:
    an imported key's policy is its owner's to change)."""
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(_key_use(scope, sid, "cloudwatch.amazonaws.com", ALARM_KEY_ACTIONS))


def secure_topic(
    scope: Construct,
    id: str,
    *,
    key: kms.IKey,
    display_name: str | None = None,
    alarms_publish: bool = False,
    key_sid: str = "AllowCloudWatchAlarmsToPublish",
) -> sns.Topic:
    """An SNS topic encrypted with ``key`` that refuses requests without TLS.

    ``enforce_ssl`` writes a topic policy, which replaces SNS's default one (the one that lets the account's
    services publish), so every publisher must be granted: a role with ``grant_publish``, an EventBridge rule
    with :class:`~blueprints.constructs.common.TopicRuleTarget` (which adds its rule-bound statement), and, with
    ``alarms_publish``, this account's CloudWatch alarms (a topic statement bound to the account's alarm ARNs,
    and the key's grant, under ``key_sid``).
    """
    topic = sns.Topic(scope, id, master_key=key, enforce_ssl=True, display_name=display_name)
    if alarms_publish:
        allow_alarms_to_use_key(scope, key, key_sid)
        allow_alarms_to_publish(scope, topic)
    return topic


def allow_alarms_to_publish(scope: Construct, topic: sns.ITopic) -> None:
    """Let this account's CloudWatch alarms publish to ``topic``: a TLS-only topic's policy replaces SNS's default
    one, so the alarms' publisher is named, bound to the account's alarm ARNs."""
    topic.add_to_resource_policy(
        service_grant(
            scope,
            sid="CloudWatchAlarmsPublish",
            service="cloudwatch.amazonaws.com",
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            source_arn=alarm_arn_pattern(scope),
        )
    )


def alarm_notification_topic(scope: Construct, key: kms.IKey, topic: sns.ITopic | None) -> sns.ITopic:
    """The notification topic: ``topic`` as given (its owner must let CloudWatch alarms publish),
    or a new one, ``Notifications``, encrypted with ``key``, that this account's alarms may publish to."""
    if topic is not None:
        return topic
    return secure_topic(scope, "Notifications", key=key, alarms_publish=True)


def notify(topic: sns.ITopic, *alarms: cloudwatch.AlarmBase, ok: bool = True) -> None:
    """Send each alarm's ALARM (and, with ``ok``, its return to OK) to ``topic``."""
    for alarm in alarms:
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        if ok:
            alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
