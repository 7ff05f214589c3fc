"""Grants to AWS service principals, bound to their source, and the EventBridge-to-SNS target."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import (
    ArnFormat,
    Duration,
    Stack,
    Token,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.interfaces import aws_events as events_refs
from constructs import IConstruct

# --- Service principals: grants bound to their source (confused-deputy protection) -------------------------
#
# A resource policy that lets an AWS service principal publish, write or invoke lets that service do so for
# *any* customer's resource (another account's rule, alarm or bucket) unless the statement names the source.
# The service puts the source in the request as aws:SourceArn and aws:SourceAccount; every service grant in
# this library is made by ``service_grant`` below, which adds both wherever the service sends them.

#: (service principal, service prefix of the actions) pairs where the calling service sends neither
#: aws:SourceArn nor aws:SourceAccount, so a condition on them would refuse every real request. Each names
#: the AWS statement that says so and what protects the resource instead. Nothing else may be granted
#: without a source condition (``service_grant`` refuses it).
UNSOURCED_SERVICE_GRANTS: Mapping[tuple[str, str], str] = {
    ("events.amazonaws.com", "kms"): (
        "EventBridge's KMS requests for an encrypted SNS topic target carry no aws:SourceArn, aws:SourceAccount "
        "or aws:SourceOrgID (EventBridge User Guide, 'Amazon SNS permissions' for encrypted topics). SNS makes "
        "that request only for a publish the topic policy admitted, and the topic policy admits the construct's "
        "own rule alone (TopicRuleTarget), so another account's rule never gets as far as the key."
    ),
    ("logdelivery.elasticloadbalancing.amazonaws.com", "s3"): (
        "The ALB user guide ('Enable access logs for your Application Load Balancer', Step 2) gives this "
        "principal's grant, for Regions opened in or after August 2022, with no condition key, and documents "
        "none. The object path names this account (<prefix>/AWSLogs/<account>/), so a load balancer of "
        "another account can only write under its own account's path, and the bucket holds nothing else."
    ),
}

#: Condition keys other than aws:SourceArn/aws:SourceAccount that bind a grant to its source, with the
#: AWS statement that documents them: CloudWatch Logs calls KMS with the log group's ARN as encryption
#: context (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS", key policy).
SOURCE_BINDING_KEYS = frozenset({"kms:EncryptionContext:aws:logs:arn"})

_SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
_ACTION_RE = re.compile(r"^(?P<prefix>[a-z0-9-]+):[A-Za-z][A-Za-z0-9]*\*?$")


def service_grant(
    scope: IConstruct,
    *,
    service: str,
    actions: Sequence[str],
    resources: Sequence[str],
    source_arn: str | None = None,
    source_account: bool = True,
    conditions: Mapping[str, Mapping[str, object]] | None = None,
    sid: str | None = None,
) -> iam.PolicyStatement:
    """An Allow statement for the AWS service principal ``service``, bound to its source.

    ``aws:SourceAccount`` is this stack's account (unless ``source_account=False``) and ``aws:SourceArn``
    is ``source_arn`` (an ARN, or an ARN pattern such as ``...:alarm:*``) when it is known at synthesis.
    Pass neither only for a pair listed in :data:`UNSOURCED_SERVICE_GRANTS`, where AWS documents that the
    service sends no source key; for any other pair that is refused, and so is a source condition on a listed
    pair (it would refuse every real request). ``conditions`` adds further condition blocks.
    """
    if not _SERVICE_RE.match(service):
        raise ValueError(f"service must be an AWS service principal such as 'events.amazonaws.com'; got {service!r}")
    if not actions:
        raise ValueError(f"actions for {service} must name at least one action; got {list(actions)!r}")
    prefixes = set()
    for action in actions:
        match = _ACTION_RE.match(action)
        if not match:
            raise ValueError(
                f"actions must be 'service:Action' names (a trailing '*' at most, e.g. 'kms:GenerateDataKey*'), "
                f"never '*' or 'service:*'; got {action!r}"
            )
        prefixes.add(match.group("prefix"))
    if len(prefixes) != 1:
        raise ValueError(f"actions of one service grant must belong to one service; got {sorted(prefixes)}")
    if not resources:
        raise ValueError(f"resources for {service} must name at least one resource; got {list(resources)!r}")
    pair = (service, prefixes.pop())
    bound = (
        source_account
        or source_arn is not None
        or any(key in SOURCE_BINDING_KEYS for keys in (conditions or {}).values() for key in keys)
    )
    if pair in UNSOURCED_SERVICE_GRANTS and bound:
        raise ValueError(
            f"{pair[0]} sends no aws:SourceArn or aws:SourceAccount to {pair[1]} ({UNSOURCED_SERVICE_GRANTS[pair]}); "
            "a source condition would refuse every delivery: pass source_account=False and no source_arn"
        )
    if pair not in UNSOURCED_SERVICE_GRANTS and not bound:
        raise ValueError(
            f"a grant to {pair[0]} for {pair[1]} actions must name its source (aws:SourceAccount, aws:SourceArn); "
            f"only {sorted(UNSOURCED_SERVICE_GRANTS)} are documented as sending neither"
        )
    merged: dict[str, dict[str, object]] = {op: dict(keys) for op, keys in (conditions or {}).items()}
    if source_account:
        merged.setdefault("StringEquals", {})["aws:SourceAccount"] = Stack.of(scope).account
    if source_arn is not None:
        merged.setdefault("ArnLike", {})["aws:SourceArn"] = source_arn
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=list(actions),
        resources=list(resources),
        conditions=merged or None,
    )


def alarm_arn_pattern(scope: IConstruct) -> str:
    """``arn:<partition>:cloudwatch:<region>:<account>:alarm:*``: any alarm of this stack's account and Region,
    the ``aws:SourceArn`` CloudWatch sends when an alarm action publishes (CloudWatch User Guide, 'Confused
    deputy prevention'); alarm names are generated, so the pattern, not each ARN, is known at synthesis."""
    return Stack.of(scope).format_arn(
        service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )


_MAX_RETRY_ATTEMPTS = 185


@jsii.implements(events.IRuleTarget)
class TopicRuleTarget:
    """An EventBridge rule target that publishes to an SNS topic, allowed for that rule only.

    ``aws_events_targets.SnsTopic`` lets ``events.amazonaws.com`` publish with no source condition, so any
    account's rule could target the topic. This target grants the same publish bound to the rule's ARN (and
    this account), as EventBridge documents for SNS targets, and gives its dead-letter queue the same bound
    grant. A KMS-encrypted topic still needs the key grant (see :data:`UNSOURCED_SERVICE_GRANTS`).
    """

    def __init__(
        self,
        topic: sns.ITopic,
        *,
        message: events.RuleTargetInput | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
    ) -> None:
        if retry_attempts is not None and not 0 <= retry_attempts <= _MAX_RETRY_ATTEMPTS:
            raise ValueError(f"retry_attempts must be between 0 and {_MAX_RETRY_ATTEMPTS}; got {retry_attempts}")
        if max_event_age is not None and not Token.is_unresolved(max_event_age.to_seconds()):
            seconds = max_event_age.to_seconds()
            if not 60 <= seconds <= 86400:
                raise ValueError(f"max_event_age must be between 1 minute and 24 hours; got {seconds} seconds")
        self.topic = topic
        self.message = message
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        rule_arn = events.CfnRule.arn_for_rule(rule)
        self.topic.add_to_resource_policy(
            service_grant(
                self.topic,
                service="events.amazonaws.com",
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                source_arn=rule_arn,
            )
        )
        dead_letter_config = None
        if self.dead_letter_queue is not None:
            self.dead_letter_queue.add_to_resource_policy(
                service_grant(
                    self.dead_letter_queue,
                    service="events.amazonaws.com",
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letter_queue.queue_arn],
                    source_arn=rule_arn,
                )
            )
            dead_letter_config = events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn)
        retry_policy = None
        if self.retry_attempts is not None or self.max_event_age is not None:
            retry_policy = events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()) if self.max_event_age else None,
            )
        return events.RuleTargetConfig(
            arn=self.topic.topic_arn,
            input=self.message,
            dead_letter_config=dead_letter_config,
            retry_policy=retry_policy,
            target_resource=self.topic,
        )
