"""The regional AWS WAF web ACL on the ALB (the API id header blocked, a per-client rate rule, the managed rule
groups) and its request logs, with credentials and the origin secret redacted. Every resource is created in the
construct's own scope."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Names, RemovalPolicy, Stack
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from blueprints.constructs.common import skip_checkov
from blueprints.constructs.unified_api.options import API_ID_HEADER, MANAGED_RULE_GROUPS


def create_web_acl(
    scope: Construct, rate_limit: int, count_only: Sequence[str], *, forwarded_ip: bool
) -> wafv2.CfnWebACL:
    """The web ACL: block ``x-apigw-api-id``, then the rate rule (per ``X-Forwarded-For`` behind CloudFront),
    then :data:`MANAGED_RULE_GROUPS`, with ``count_only`` rules of the common rule set counted."""
    rules = [
        wafv2.CfnWebACL.RuleProperty(
            name="BlockApiIdHeader",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=_api_id_header_statement(),
            visibility_config=_visibility("BlockApiIdHeader"),
        ),
        wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerClient",
            priority=1,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=_rate_statement(rate_limit, forwarded_ip=forwarded_ip)
            ),
            visibility_config=_visibility("RateLimitPerClient"),
        ),
    ]
    rules.extend(_managed_rules(count_only))
    return wafv2.CfnWebACL(
        scope,
        "WebAcl",
        scope="REGIONAL",
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility("UnifiedApi"),
        rules=rules,
    )


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def _api_id_header_statement() -> wafv2.CfnWebACL.StatementProperty:
    # API Gateway routes a request carrying x-apigw-api-id to that private API whatever its Host
    # ("Invoke a private API", API Gateway developer guide); no client of the unified API needs it.
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                headers=wafv2.CfnWebACL.HeadersProperty(
                    match_pattern=wafv2.CfnWebACL.HeaderMatchPatternProperty(all={}),
                    match_scope="KEY",
                    oversize_handling="MATCH",
                )
            ),
            positional_constraint="EXACTLY",
            search_string=API_ID_HEADER,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")],
        )
    )


def _rate_statement(rate_limit: int, *, forwarded_ip: bool) -> wafv2.CfnWebACL.RateBasedStatementProperty:
    return wafv2.CfnWebACL.RateBasedStatementProperty(
        limit=rate_limit,
        evaluation_window_sec=300,
        aggregate_key_type="FORWARDED_IP" if forwarded_ip else "IP",
        forwarded_ip_config=(
            wafv2.CfnWebACL.ForwardedIPConfigurationProperty(header_name="X-Forwarded-For", fallback_behavior="MATCH")
            if forwarded_ip
            else None
        ),
    )


def _managed_rules(count_only: Sequence[str]) -> list[wafv2.CfnWebACL.RuleProperty]:
    rules = []
    for priority, group in enumerate(MANAGED_RULE_GROUPS, start=2):
        overrides = (
            [
                wafv2.CfnWebACL.RuleActionOverrideProperty(
                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                )
                for rule in count_only
            ]
            if group == "AWSManagedRulesCommonRuleSet" and count_only
            else None
        )
        rules.append(
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group, rule_action_overrides=overrides
                    )
                ),
                visibility_config=_visibility(group),
            )
        )
    return rules


def associate_web_acl(scope: Construct, alb: elbv2.IApplicationLoadBalancer, web_acl: wafv2.CfnWebACL) -> None:
    """Put ``web_acl`` in front of ``alb``."""
    wafv2.CfnWebACLAssociation(
        scope, "WebAclAssociation", resource_arn=alb.load_balancer_arn, web_acl_arn=web_acl.attr_arn
    )


def create_waf_logs(
    scope: Construct,
    web_acl: wafv2.CfnWebACL,
    retention: logs.RetentionDays,
    origin_header_name: str,
) -> logs.ILogGroup:
    """WAF request logs in CloudWatch Logs, with credentials and the origin secret redacted."""
    # WAF only delivers to log groups named aws-waf-logs-*, given by ARN without the ':*' suffix.
    name = f"aws-waf-logs-{Names.unique_id(scope)}"
    log_group = logs.LogGroup(
        scope, "WafLogs", log_group_name=name, retention=retention, removal_policy=RemovalPolicy.DESTROY
    )
    config = wafv2.CfnLoggingConfiguration(
        scope,
        "WafLogging",
        resource_arn=web_acl.attr_arn,
        log_destination_configs=[
            Stack.of(scope).format_arn(
                service="logs",
                resource="log-group",
                resource_name=name,
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
        ],
        redacted_fields=[
            wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header.lower()})
            for header in ("Authorization", "Cookie", "X-Api-Key", origin_header_name)
        ],
    )
    config.node.add_dependency(log_group)
    skip_checkov(
        log_group,
        ["CKV_AWS_158"],
        "WAF's request records with the Authorization, Cookie and X-Api-Key headers and the origin secret "
        "redacted (redacted_fields): what is left is request metadata, which CloudWatch Logs encrypts at rest; "
        "it does not warrant a customer managed key.",
    )
    return log_group
