"""UnifiedApi: the example stack (both nag packs) with and without CloudFront, an existing VPC, validation."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ssm as ssm
from aws_cdk import cx_api
from aws_cdk.assertions import Match, Template

from blueprints.constructs.unified_api import UnifiedApi
from blueprints.example_app import add_nag_packs
from blueprints.stacks.unified_api import EXAMPLE_STACKS
from tests.conftest import cdk_context
from tests.stack_kit import synth_example

MODULE = "blueprints.stacks.unified_api"
ENV = cdk.Environment(account="111111111111", region="us-east-1")
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


@pytest.fixture(scope="module")
def template() -> Template:
    templates = synth_example(MODULE)
    assert sorted(templates) == sorted(EXAMPLE_STACKS)
    return templates["UnifiedApi"]


@pytest.fixture(scope="module")
def cf_template() -> Template:
    return synth_example(MODULE, **{"unified_api:cloudfront": "true"})["UnifiedApi"]


def _logical_id(template: Template, type_: str, props: dict[str, Any] | None = None) -> str:
    found = template.find_resources(type_, {"Properties": Match.object_like(props)} if props else None)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found))


def _wildcard_actions(template: Template) -> set[str]:
    """Every action that the lookup function's role may perform on '*'."""
    actions: set[str] = set()
    for policy_id, policy in template.find_resources("AWS::IAM::Policy").items():
        if "Lookups" not in policy_id:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                listed = statement["Action"]
                actions.update([listed] if isinstance(listed, str) else listed)
    return actions


def _props(template: Template, type_: str) -> list[dict[str, Any]]:
    return [r.get("Properties", {}) for r in template.find_resources(type_).values()]


# --- the endpoint and its IPs ---------------------------------------------------------------------------------


def test_endpoint_is_execute_api_in_three_subnets_without_private_dns(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": "com.amazonaws.us-east-1.execute-api",
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": False,
            "SubnetIds": Match.any_value(),
        },
    )
    (endpoint,) = _props(template, "AWS::EC2::VPCEndpoint")
    assert len(endpoint["SubnetIds"]) == 3
    subnets = template.find_resources("AWS::EC2::Subnet", {"Properties": {"MapPublicIpOnLaunch": False}})
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values()) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]
    assert {ref["Ref"] for ref in endpoint["SubnetIds"]} == set(subnets)


def test_endpoint_admits_only_the_load_balancer_on_443(template: Template) -> None:
    (endpoint,) = _props(template, "AWS::EC2::VPCEndpoint")
    (endpoint_sg_ref,) = endpoint["SecurityGroupIds"]
    endpoint_sg = endpoint_sg_ref["Fn::GetAtt"][0]
    alb_sg = _props(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")[0]["SecurityGroups"][0]["Fn::GetAtt"][0]
    assert "SecurityGroupIngress" not in template.to_json()["Resources"][endpoint_sg]["Properties"]
    ingress = [
        p for p in _props(template, "AWS::EC2::SecurityGroupIngress") if p["GroupId"]["Fn::GetAtt"][0] == endpoint_sg
    ]
    assert [{k: v for k, v in rule.items() if k != "Description"} for rule in ingress] == [
        {
            "FromPort": 443,
            "ToPort": 443,
            "GroupId": {"Fn::GetAtt": [endpoint_sg, "GroupId"]},
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": {"Fn::GetAtt": [alb_sg, "GroupId"]},
        }
    ]
    template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {
            "GroupId": {"Fn::GetAtt": [alb_sg, "GroupId"]},
            "FromPort": 443,
            "ToPort": 443,
            "DestinationSecurityGroupId": {"Fn::GetAtt": [endpoint_sg, "GroupId"]},
        },
    )


def test_ips_are_resolved_by_a_custom_resource_tied_to_the_endpoint(template: Template) -> None:
    endpoint = _logical_id(template, "AWS::EC2::VPCEndpoint")
    template.has_resource_properties(
        "Custom::VpcEndpointIps",
        {
            "ServiceToken": {"Fn::GetAtt": [Match.string_like_regexp("Lookups"), "Arn"]},
            "EndpointId": {"Ref": endpoint},
            "NetworkInterfaceIds": {"Fn::GetAtt": [endpoint, "NetworkInterfaceIds"]},
            "ExpectedCount": "3",
            "ServiceTimeout": "300",
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "index.handler", "Runtime": "python3.14", "Timeout": 60, "TracingConfig": {"Mode": "Active"}},
    )
    assert _wildcard_actions(template) == {
        "ec2:DescribeNetworkInterfaces",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    }


def test_target_group_has_one_https_ip_target_per_interface(template: Template) -> None:
    lookup = _logical_id(template, "Custom::VpcEndpointIps")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Protocol": "HTTPS",
            "Port": 443,
            "TargetType": "ip",
            "HealthCheckProtocol": "HTTPS",
            "Matcher": {"HttpCode": "200-403"},
            "Targets": [{"Id": {"Fn::GetAtt": [lookup, f"Ip{i}"]}, "Port": 443} for i in range(3)],
        },
    )


# --- the entry --------------------------------------------------------------------------------------------------


def test_load_balancer_is_internet_facing_with_access_logs_and_strict_headers(template: Template) -> None:
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {
            "Scheme": "internet-facing",
            "Type": "application",
            "LoadBalancerAttributes": Match.array_with(
                [
                    {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    {"Key": "routing.http.preserve_host_header.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.enabled", "Value": "true"},
                    {"Key": "access_logs.s3.bucket", "Value": {"Ref": Match.string_like_regexp("AccessLogs")}},
                    {"Key": "access_logs.s3.prefix", "Value": "alb"},
                ]
            ),
        },
    )
    # The access log bucket is S3-managed encrypted (ALB log delivery cannot use KMS) and TLS-only.
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "LoggingConfiguration": Match.any_value(),
        },
    )
    log_bucket = _logical_id(
        template, "AWS::S3::Bucket", {"BucketEncryption": Match.any_value(), "LoggingConfiguration": Match.any_value()}
    )
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": log_bucket},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Action": "s3:PutObject",
                            "Effect": "Allow",
                            # Elastic Load Balancing's log delivery account for us-east-1
                            "Principal": {"AWS": "arn:aws:iam::127311923021:root"},
                            "Resource": {
                                "Fn::Join": ["", [{"Fn::GetAtt": [log_bucket, "Arn"]}, "/alb/AWSLogs/111111111111/*"]]
                            },
                        }
                    ]
                )
            },
        },
    )


NOT_FOUND = [
    {
        "Type": "fixed-response",
        "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain", "MessageBody": "Not Found"},
    }
]


def test_https_listener_forwards_only_the_api_host_with_a_modern_tls_policy_and_http_redirects(
    template: Template,
) -> None:
    target_group = _logical_id(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "SslPolicy": TLS_POLICY,
            "Certificates": [{"CertificateArn": {"Ref": Match.string_like_regexp("Certificate")}}],
            "DefaultActions": NOT_FOUND,
        },
    )
    https = _logical_id(template, "AWS::ElasticLoadBalancingV2::Listener", {"Port": 443})
    (rule,) = _props(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    assert rule == {
        "ListenerArn": {"Ref": https},
        "Priority": 10,
        "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}}],
        "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": target_group}}],
    }
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "Protocol": "HTTP",
            "DefaultActions": [
                {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
            ],
        },
    )
    ports = sorted(
        p["FromPort"] for p in _props(template, "AWS::EC2::SecurityGroup")[0].get("SecurityGroupIngress", [])
    )
    assert ports == [80, 443]  # the public entry


def test_certificate_is_dns_validated_in_the_zone(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {
            "DomainName": "api.example.com",
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": "api.example.com", "HostedZoneId": "Z0123456789EXAMPLE"}],
        },
    )


API_ID_HEADER_RULE = {
    "Name": "BlockApiIdHeader",
    "Priority": 0,
    "Action": {"Block": {}},
    "Statement": {
        "ByteMatchStatement": {
            "FieldToMatch": {
                "Headers": {"MatchPattern": {"All": {}}, "MatchScope": "KEY", "OversizeHandling": "MATCH"}
            },
            "PositionalConstraint": "EXACTLY",
            "SearchString": "x-apigw-api-id",
            "TextTransformations": [{"Priority": 0, "Type": "LOWERCASE"}],
        }
    },
    "VisibilityConfig": {
        "CloudWatchMetricsEnabled": True,
        "MetricName": "BlockApiIdHeader",
        "SampledRequestsEnabled": True,
    },
}


@pytest.mark.parametrize("mode", ["alb", "cloudfront"])
def test_web_acl_first_blocks_any_request_naming_a_private_api_by_id(
    mode: str, template: Template, cf_template: Template
) -> None:
    """API Gateway routes x-apigw-api-id to that private API whatever the Host; CloudFront forwards viewer headers."""
    (acl,) = _props(cf_template if mode == "cloudfront" else template, "AWS::WAFv2::WebACL")
    assert min(acl["Rules"], key=lambda r: r["Priority"]) == API_ID_HEADER_RULE


def test_web_acl_has_managed_groups_and_a_rate_rule_on_the_alb(template: Template) -> None:
    (acl,) = _props(template, "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    assert acl["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in acl["Rules"]}
    assert rules["RateLimitPerClient"]["Statement"]["RateBasedStatement"] == {
        "Limit": 2000,
        "EvaluationWindowSec": 300,
        "AggregateKeyType": "IP",
    }
    assert rules["RateLimitPerClient"]["Action"] == {"Block": {}}
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ):
        statement = rules[group]["Statement"]["ManagedRuleGroupStatement"]
        assert statement == {"VendorName": "AWS", "Name": group}
        assert rules[group]["OverrideAction"] == {"None": {}}
    assert len({r["Priority"] for r in acl["Rules"]}) == len(acl["Rules"]) == 5
    template.has_resource_properties(
        "AWS::WAFv2::WebACLAssociation",
        {
            "ResourceArn": {"Ref": _logical_id(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")},
            "WebACLArn": {"Fn::GetAtt": [_logical_id(template, "AWS::WAFv2::WebACL"), "Arn"]},
        },
    )


def test_waf_logs_go_to_a_log_group_without_credentials_or_the_origin_secret(cf_template: Template) -> None:
    (group_id,) = cf_template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": Match.string_like_regexp("^aws-waf-logs-")}}
    )
    group = cf_template.to_json()["Resources"][group_id]["Properties"]
    assert group["RetentionInDays"] == 90
    (logging,) = _props(cf_template, "AWS::WAFv2::LoggingConfiguration")
    assert logging["ResourceArn"] == {"Fn::GetAtt": [_logical_id(cf_template, "AWS::WAFv2::WebACL"), "Arn"]}
    # WAF takes the log group ARN without the ':*' suffix that CloudFormation's Arn attribute carries.
    assert logging["LogDestinationConfigs"] == [
        f"arn:aws:logs:us-east-1:111111111111:log-group:{group['LogGroupName']}"
    ]
    redacted = {field["SingleHeader"]["Name"] for field in logging["RedactedFields"]}
    assert redacted == {"authorization", "cookie", "x-api-key", "x-origin-verify"}


def test_alias_record_points_at_the_load_balancer(template: Template) -> None:
    alb = _logical_id(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    template.resource_count_is("AWS::Route53::RecordSet", 1)
    template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": "api.example.com.",
            "Type": "A",
            "HostedZoneId": "Z0123456789EXAMPLE",
            "AliasTarget": Match.object_like(
                {"DNSName": {"Fn::Join": ["", ["dualstack.", {"Fn::GetAtt": [alb, "DNSName"]}]]}}
            ),
        },
    )
    template.resource_count_is("AWS::CloudFront::Distribution", 0)
    template.resource_count_is("AWS::SecretsManager::Secret", 0)


# --- API Gateway ------------------------------------------------------------------------------------------------


def test_private_domain_name_admits_only_the_endpoint(template: Template) -> None:
    endpoint = _logical_id(template, "AWS::EC2::VPCEndpoint")
    template.has_resource_properties(
        "AWS::ApiGateway::DomainNameV2",
        {
            "DomainName": "api.example.com",
            "EndpointConfiguration": {"Types": ["PRIVATE"]},
            "SecurityPolicy": "TLS_1_2",
            "CertificateArn": {"Ref": Match.string_like_regexp("Certificate")},
            "Policy": {
                "Version": "2012-10-17",
                "Statement": Match.array_with(
                    [
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "execute-api:Invoke",
                            "Resource": "execute-api:/*",
                            "Condition": {"StringNotEquals": {"aws:SourceVpce": {"Ref": endpoint}}},
                        }
                    ]
                ),
            },
        },
    )
    template.has_resource_properties(
        "AWS::ApiGateway::DomainNameAccessAssociation",
        {
            "AccessAssociationSource": {"Ref": endpoint},
            "AccessAssociationSourceType": "VPCE",
            "DomainNameArn": {"Fn::GetAtt": [_logical_id(template, "AWS::ApiGateway::DomainNameV2"), "DomainNameArn"]},
        },
    )


def test_endpoint_policy_admits_only_calls_through_a_private_domain_name_for_the_api_host(template: Template) -> None:
    """Example 4 of "Control access to private APIs with VPC endpoint policies"; the suffix after '+' is generated."""
    (endpoint,) = _props(template, "AWS::EC2::VPCEndpoint")
    assert endpoint["PolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "execute-api:Invoke",
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "execute-api:viaDomainArn": "arn:aws:execute-api:us-east-1:111111111111:"
                        "/domainnames/api.example.com+*"
                    }
                },
            }
        ],
    }


def test_each_domain_api_is_private_mapped_and_admits_only_the_endpoint(template: Template) -> None:
    endpoint = _logical_id(template, "AWS::EC2::VPCEndpoint")
    domain = _logical_id(template, "AWS::ApiGateway::DomainNameV2")
    template.resource_count_is("AWS::ApiGateway::RestApi", 2)
    for api_id, api in template.find_resources("AWS::ApiGateway::RestApi").items():
        props = api["Properties"]
        assert props["EndpointConfiguration"] == {"Types": ["PRIVATE"]}
        assert {"StringNotEquals": {"aws:SourceVpce": {"Ref": endpoint}}} in [
            s.get("Condition") for s in props["Policy"]["Statement"]
        ]
        # Only the mapped stage may be invoked, even from inside the VPC.
        assert [s["Resource"] for s in props["Policy"]["Statement"] if s["Effect"] == "Allow"] == ["execute-api:/v1/*"]
        template.has_resource_properties(
            "AWS::ApiGateway::Stage",
            {
                "RestApiId": {"Ref": api_id},
                "StageName": "v1",
                "TracingEnabled": True,
                "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
                "MethodSettings": Match.array_with(
                    [Match.object_like({"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200})]
                ),
            },
        )
    mappings = template.find_resources("AWS::ApiGateway::BasePathMappingV2")
    assert sorted(m["Properties"]["BasePath"] for m in mappings.values()) == ["catalog", "orders"]
    for mapping in mappings.values():
        props = mapping["Properties"]
        assert props["DomainNameArn"] == {"Fn::GetAtt": [domain, "DomainNameArn"]}
        assert props["RestApiId"]["Ref"] in template.find_resources("AWS::ApiGateway::RestApi")
        assert props["Stage"]["Ref"] in template.find_resources("AWS::ApiGateway::Stage")


# --- The Region's API Gateway CloudWatch Logs role (example stack) -----------------------------------------------

PUSH_TO_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def _logging_stages(template: Template) -> dict[str, Any]:
    stages = template.find_resources("AWS::ApiGateway::Stage", {"Properties": {"AccessLogSetting": Match.any_value()}})
    assert len(stages) == 2, sorted(stages)
    return stages


def test_every_logging_stage_waits_for_the_account_cloudwatch_role(template: Template) -> None:
    """API Gateway refuses a stage with access logging until the account setting holds a CloudWatch role."""
    account = _logical_id(template, "AWS::ApiGateway::Account")
    for stage_id, stage in _logging_stages(template).items():
        assert account in stage.get("DependsOn", []), stage_id
    role_id = template.find_resources("AWS::ApiGateway::Account")[account]["Properties"]["CloudWatchRoleArn"][
        "Fn::GetAtt"
    ][0]
    role = template.find_resources("AWS::IAM::Role")[role_id]
    assert role["DeletionPolicy"] == "Retain"  # deleting the Account resource leaves the setting pointing at it
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}}
    ]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/{PUSH_TO_LOGS}"]]}
    ]
    assert "Policies" not in role["Properties"]
    assert not [p for p in template.find_resources("AWS::IAM::Policy").values() if role_id in str(p["Properties"])]


@pytest.fixture(scope="module")
def managed_setting_template() -> Template:
    return synth_example(MODULE, **{"unified_api:set_apigateway_account_role": "false"})["UnifiedApi"]


def test_an_account_that_manages_the_setting_itself_gets_no_account_resource(
    managed_setting_template: Template,
) -> None:
    managed_setting_template.resource_count_is("AWS::ApiGateway::Account", 0)
    assert PUSH_TO_LOGS not in str(managed_setting_template.find_resources("AWS::IAM::Role"))
    for stage in _logging_stages(managed_setting_template).values():
        assert "DependsOn" not in stage


@pytest.mark.parametrize("key", ["unified_api:set_apigateway_account_role", "unified_api:cloudfront"])
def test_example_flags_take_only_true_or_false(key: str) -> None:
    with pytest.raises(ValueError, match=f"context key '{key}' must be true or false; got 'yes'"):
        synth_example(MODULE, **{key: "yes"})


# --- CloudFront in front ------------------------------------------------------------------------------------------


def test_cloudfront_forwards_host_and_the_secret_header_over_tls(cf_template: Template) -> None:
    alb = _logical_id(cf_template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    secret = _logical_id(cf_template, "AWS::SecretsManager::Secret")
    secret_ref = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret}, ":SecretString:::}}"]]}
    cf_template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "Aliases": ["api.example.com"],
                    "ViewerCertificate": Match.object_like(
                        {"MinimumProtocolVersion": "TLSv1.2_2021", "SslSupportMethod": "sni-only"}
                    ),
                    "DefaultCacheBehavior": Match.object_like(
                        {
                            "ViewerProtocolPolicy": "https-only",
                            "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",  # CachingDisabled
                            "OriginRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3",  # AllViewer (with Host)
                        }
                    ),
                    "Origins": [
                        Match.object_like(
                            {
                                "DomainName": {"Fn::GetAtt": [alb, "DNSName"]},
                                "CustomOriginConfig": Match.object_like(
                                    {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]}
                                ),
                                "OriginCustomHeaders": [{"HeaderName": "X-Origin-Verify", "HeaderValue": secret_ref}],
                            }
                        )
                    ],
                }
            )
        },
    )
    target_group = _logical_id(cf_template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    cf_template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "DefaultActions": NOT_FOUND,
        },
    )
    cf_template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        {
            "Conditions": [
                {"Field": "host-header", "HostHeaderConfig": {"Values": ["api.example.com"]}},
                {
                    "Field": "http-header",
                    "HttpHeaderConfig": {"HttpHeaderName": "X-Origin-Verify", "Values": [secret_ref]},
                },
            ],
            "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": target_group}}],
        },
    )
    cf_template.resource_count_is("AWS::ElasticLoadBalancingV2::ListenerRule", 1)
    cf_template.resource_properties_count_is("AWS::ElasticLoadBalancingV2::Listener", {"Port": 80}, 0)


def test_cloudfront_mode_admits_only_the_origin_facing_prefix_list(cf_template: Template) -> None:
    lookup = _logical_id(cf_template, "Custom::ManagedPrefixList")
    cf_template.has_resource_properties("Custom::ManagedPrefixList", {"PrefixListName": ORIGIN_FACING})
    alb_sg = _props(cf_template, "AWS::ElasticLoadBalancingV2::LoadBalancer")[0]["SecurityGroups"][0]["Fn::GetAtt"][0]
    sg = cf_template.to_json()["Resources"][alb_sg]["Properties"]
    assert "SecurityGroupIngress" not in sg
    alb_ingress = [
        p for p in _props(cf_template, "AWS::EC2::SecurityGroupIngress") if p["GroupId"]["Fn::GetAtt"][0] == alb_sg
    ]
    assert len(alb_ingress) == 1
    assert alb_ingress[0]["SourcePrefixListId"] == {"Fn::GetAtt": [lookup, "PrefixListId"]}
    assert (alb_ingress[0]["FromPort"], alb_ingress[0]["ToPort"]) == (443, 443)
    assert _wildcard_actions(cf_template) == {
        "ec2:DescribeManagedPrefixLists",
        "ec2:DescribeNetworkInterfaces",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    }


def test_cloudfront_mode_rate_limits_on_the_forwarded_client_address(cf_template: Template) -> None:
    (acl,) = _props(cf_template, "AWS::WAFv2::WebACL")
    (rate,) = [r for r in acl["Rules"] if r["Name"] == "RateLimitPerClient"]
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "FORWARDED_IP"
    assert rate["Statement"]["RateBasedStatement"]["ForwardedIPConfig"] == {
        "HeaderName": "X-Forwarded-For",
        "FallbackBehavior": "MATCH",
    }


def test_cloudfront_mode_points_dns_at_the_distribution(cf_template: Template) -> None:
    distribution = _logical_id(cf_template, "AWS::CloudFront::Distribution")
    for record_type in ("A", "AAAA"):
        cf_template.has_resource_properties(
            "AWS::Route53::RecordSet",
            {
                "Name": "api.example.com.",
                "Type": record_type,
                "AliasTarget": Match.object_like({"DNSName": {"Fn::GetAtt": [distribution, "DomainName"]}}),
            },
        )


# --- an existing VPC ----------------------------------------------------------------------------------------------


def _stack(region: str = "us-east-1") -> tuple[cdk.App, cdk.Stack, route53.IHostedZone]:
    app = cdk.App(context=cdk_context())
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="111111111111", region=region))
    zone = route53.HostedZone.from_hosted_zone_attributes(
        stack, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
    )
    return app, stack, zone


def _existing_vpc(stack: cdk.Stack, zones: int = 3) -> ec2.IVpc:
    names = ["us-east-1a", "us-east-1b", "us-east-1c"][:zones]
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=names,
        public_subnet_ids=[f"subnet-0aaaaaaaaaaaaaaa{i}" for i in range(zones)],
        public_subnet_route_table_ids=[f"rtb-0aaaaaaaaaaaaaaa{i}" for i in range(zones)],
        private_subnet_ids=[f"subnet-0bbbbbbbbbbbbbbb{i}" for i in range(zones)],
        private_subnet_route_table_ids=[f"rtb-0bbbbbbbbbbbbbbb{i}" for i in range(zones)],
    )


def test_existing_vpc_and_certificate_are_used_as_given() -> None:
    app, stack, _ = _stack()
    certificate = acm.Certificate.from_certificate_arn(
        stack, "Cert", "arn:aws:acm:us-east-1:111111111111:certificate/0f1e2d3c-0000-4000-8000-000000000000"
    )
    unified = UnifiedApi(
        stack,
        "Unified",
        domain_name="api.example.com",
        vpc=_existing_vpc(stack),
        certificate=certificate,
        waf_logs=False,
    )
    api = apigw.RestApi.from_rest_api_id(stack, "Imported", "abcde12345")
    unified.add_domain("billing", api, stage="prod")
    add_nag_packs(app)
    app.synth()
    template = Template.from_stack(stack)

    template.resource_count_is("AWS::EC2::VPC", 0)
    template.resource_count_is("AWS::CertificateManager::Certificate", 0)
    template.resource_count_is("AWS::Route53::RecordSet", 0)  # no hosted zone: DNS is the caller's
    template.resource_count_is("AWS::WAFv2::LoggingConfiguration", 0)
    template.resource_count_is("AWS::WAFv2::WebACL", 1)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcId": "vpc-0123456789abcdef0", "SubnetIds": [f"subnet-0bbbbbbbbbbbbbbb{i}" for i in range(3)]},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::BasePathMappingV2", {"BasePath": "billing", "RestApiId": "abcde12345", "Stage": "prod"}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Certificates": [{"CertificateArn": Match.string_like_regexp("certificate/0f1e2d3c")}]},
    )
    assert unified.base_paths == ["billing"]


# --- validation -----------------------------------------------------------------------------------------------


def _unified(**kwargs: Any) -> UnifiedApi:
    _, stack, zone = _stack(kwargs.pop("region", "us-east-1"))
    args: dict[str, Any] = {
        "domain_name": "api.example.com",
        "hosted_zone": zone,
        "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
    }
    if kwargs.pop("existing_vpc", None):
        args.pop("availability_zones")
        args["vpc"] = _existing_vpc(stack, zones=kwargs.pop("zones", 3))
    args.update(kwargs)
    return UnifiedApi(stack, "Unified", **args)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"domain_name": "API.example.com"}, "domain_name must be a lower-case DNS host name"),
        ({"hosted_zone": None}, "pass certificate .* or hosted_zone"),
        ({"domain_name": "api.example.org"}, "is not in the hosted zone 'example.com'"),
        (
            {"existing_vpc": True, "availability_zones": ["us-east-1a", "us-east-1b"]},
            "got both vpc and availability_zones",
        ),
        ({"availability_zones": ["us-east-1a"]}, "availability_zones must list at least two distinct"),
        ({"availability_zones": ["us-east-1a", "us-east-1a"]}, "availability_zones must list at least two distinct"),
        ({"health_check_codes": "200-600"}, "health_check_codes must be HTTP codes from 200 to 499"),
        ({"health_check_codes": "ok"}, "health_check_codes must be HTTP codes from 200 to 499"),
        ({"rate_limit": 5}, "rate_limit is requests per client IP per 5 minutes"),
        ({"cloudfront_web_acl_arn": "arn:aws:wafv2:us-east-1:1:global/webacl/x/y"}, "only apply with cloudfront=True"),
        ({"cloudfront": True, "region": "eu-west-1"}, "CloudFront takes certificates from us-east-1 only"),
        (
            {"cloudfront": True, "cloudfront_web_acl_arn": "arn:aws:wafv2:us-east-1:111111111111:regional/webacl/a/b"},
            "must be the ARN of a CLOUDFRONT-scope web ACL",
        ),
        ({"cloudfront": True, "origin_header_name": "X Origin"}, "origin_header_name must be an HTTP header name"),
        ({"existing_vpc": True, "zones": 1}, "endpoint_subnets must select subnets in at least two"),
        (
            {
                "existing_vpc": True,
                "endpoint_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            },
            "endpoint_subnets selects no subnets of the VPC",
        ),
        ({"endpoint_id_parameter": "unified-api/endpoint"}, "endpoint_id_parameter must be an SSM parameter name"),
    ],
)
def test_invalid_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _unified(**kwargs)


def test_cloudfront_outside_us_east_1_takes_a_us_east_1_certificate() -> None:
    _, stack, zone = _stack("eu-west-1")
    edge_certificate = acm.Certificate.from_certificate_arn(
        stack, "EdgeCert", "arn:aws:acm:us-east-1:111111111111:certificate/11111111-0000-4000-8000-000000000000"
    )
    unified = UnifiedApi(
        stack,
        "Unified",
        domain_name="api.example.com",
        hosted_zone=zone,
        availability_zones=["eu-west-1a", "eu-west-1b"],
        cloudfront=True,
        cloudfront_certificate=edge_certificate,
        cloudfront_web_acl_arn="arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/0f1e2d3c",
    )
    assert unified.distribution is not None
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {"WebACLId": "arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/0f1e2d3c"}
            )
        },
    )
    assert unified.origin_secret is not None


@pytest.fixture
def unified() -> UnifiedApi:
    return _unified()


def _api(unified: UnifiedApi, name: str) -> apigw.IRestApi:
    return apigw.RestApi.from_rest_api_id(unified, name, f"{name.lower()}12345")


@pytest.mark.parametrize(
    ("base_path", "message"),
    [
        ("orders/v1", "one path segment"),
        ("/orders", "one path segment"),
        ("", "one path segment"),
        ("ord ers", "one path segment"),
        ("orders?x", "one path segment"),
    ],
)
def test_add_domain_refuses_invalid_base_paths(unified: UnifiedApi, base_path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        unified.add_domain(base_path, _api(unified, "Api"), stage="prod")


def test_add_domain_refuses_a_duplicate_base_path(unified: UnifiedApi) -> None:
    unified.add_domain("orders", _api(unified, "One"), stage="prod")
    with pytest.raises(ValueError, match="'Orders' is already mapped"):
        unified.add_domain("Orders", _api(unified, "Two"), stage="prod")
    assert unified.base_paths == ["orders"]


def test_add_domain_needs_a_stage_for_an_imported_api(unified: UnifiedApi) -> None:
    with pytest.raises(ValueError, match="pass stage= for the REST API mapped at 'orders'"):
        unified.add_domain("orders", _api(unified, "Api"))


def test_add_domain_refuses_a_bad_stage_name(unified: UnifiedApi) -> None:
    with pytest.raises(ValueError, match="stage must be a stage name"):
        unified.add_domain("orders", _api(unified, "Api"), stage="prod/v1")


def test_add_domain_accepts_the_characters_api_gateway_allows(unified: UnifiedApi) -> None:
    unified.add_domain("v1.orders_2-(beta)", _api(unified, "Api"), stage="prod")
    assert unified.base_paths == ["v1.orders_2-(beta)"]


def test_endpoint_policy_takes_a_literal_endpoint_id() -> None:
    document = UnifiedApi.endpoint_policy("vpce-0123456789abcdef0").to_json()
    (deny,) = [st for st in document["Statement"] if st["Effect"] == "Deny"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:SourceVpce": "vpce-0123456789abcdef0"}}
    with pytest.raises(ValueError, match="endpoint_id must be a VPC endpoint id"):
        UnifiedApi.endpoint_policy("vpc-0123456789abcdef0")


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _deploy_all_on_a_fresh_account(assembly: cx_api.CloudAssembly) -> list[str]:
    """The order ``cdk deploy --all`` deploys in (dependencies first), checked as a fresh account would.

    Each stack may read only SSM parameters that AWS publishes (``/aws/service/``), that ``cdk bootstrap``
    wrote (``/cdk-bootstrap/``) or that an earlier stack creates, and only outputs of earlier stacks.
    """
    stacks = {s.stack_name: s for s in assembly.stacks}
    order: list[str] = []

    def visit(name: str, seen: tuple[str, ...] = ()) -> None:
        assert name not in seen, f"dependency cycle: {(*seen, name)}"
        if name in order:
            return
        for dependency in stacks[name].dependencies:
            if dependency.id in stacks:
                visit(dependency.id, (*seen, name))
        order.append(name)

    for name in sorted(stacks):
        visit(name)
    created: set[str] = set()
    outputs: set[tuple[str, str]] = set()
    for name in order:
        template = stacks[name].template
        for parameter in template.get("Parameters", {}).values():
            if parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
                path = parameter["Default"]
                assert path.startswith(("/aws/service/", "/cdk-bootstrap/")) or path in created, (
                    f"{name} reads SSM parameter {path} before any stack creates it (deploy order {order})"
                )
        for node in _walk(template["Resources"]):
            if "Fn::GetStackOutput" in node:
                wanted = node["Fn::GetStackOutput"]
                assert (wanted["StackName"], wanted["OutputName"]) in outputs, f"{name} reads {wanted} too early"
            assert "Fn::ImportValue" not in node or node["Fn::ImportValue"] in {o for _, o in outputs}, node
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::SSM::Parameter":
                created.add(resource["Properties"]["Name"])
        for output_name, output in template.get("Outputs", {}).items():
            outputs.add((name, output_name))
            if "Export" in output:
                outputs.add((name, output["Export"]["Name"]))
    return order


def _platform_and_domain_stacks() -> tuple[cdk.App, cdk.Stack, UnifiedApi, cdk.Stack, apigw.RestApi]:
    app = cdk.App(context=cdk_context())
    platform = cdk.Stack(app, "Platform", env=ENV)
    zone = route53.HostedZone.from_hosted_zone_attributes(
        platform, "Zone", hosted_zone_id="Z0123456789EXAMPLE", zone_name="example.com"
    )
    unified = UnifiedApi(
        platform,
        "Unified",
        domain_name="api.example.com",
        hosted_zone=zone,
        availability_zones=["us-east-1a", "us-east-1b"],
        endpoint_id_parameter="/unified-api/vpc-endpoint-id",
    )
    domain = cdk.Stack(app, "Payments", env=ENV)
    endpoint_id = ssm.StringParameter.value_for_string_parameter(domain, "/unified-api/vpc-endpoint-id")
    api = apigw.RestApi(
        domain,
        "Api",
        endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE]),
        policy=UnifiedApi.endpoint_policy(endpoint_id, stages=["prod"]),
    )
    api.root.add_method("GET", apigw.MockIntegration())
    return app, platform, unified, domain, api


def test_a_domain_api_in_its_own_stack_deploys_after_the_platform_in_one_deploy_all() -> None:
    """The documented same-app path: the domain stack owns its mapping, so the platform deploys first.

    Before, the platform stack held the mapping and so depended on the domain stack, which CDK then deployed
    first: its read of the platform's SSM parameter failed on a fresh account.
    """
    app, platform, unified, domain, api = _platform_and_domain_stacks()
    # A second team's API that takes the policy straight from the construct (cross-stack references).
    billing = cdk.Stack(app, "Billing", env=ENV)
    billing_api = apigw.RestApi(
        billing,
        "Api",
        endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE]),
        policy=unified.private_api_policy(stages=["prod"]),
    )
    billing_api.root.add_method("GET", apigw.MockIntegration())
    unified.add_domain("payments", api)
    unified.add_domain("billing", billing_api)
    assembly = app.synth()

    assert _deploy_all_on_a_fresh_account(assembly)[0] == "Platform"
    assert platform in domain.dependencies and platform in billing.dependencies
    assert platform.dependencies == []
    Template.from_stack(platform).resource_count_is("AWS::ApiGateway::BasePathMappingV2", 0)
    Template.from_stack(platform).has_resource_properties(
        "AWS::SSM::Parameter",
        {
            "Name": "/unified-api/vpc-endpoint-id",
            "Type": "String",
            "Value": {"Ref": Match.string_like_regexp("Endpoint")},
        },
    )
    for stack, base_path in ((domain, "payments"), (billing, "billing")):
        Template.from_stack(stack).has_resource_properties(
            "AWS::ApiGateway::BasePathMappingV2",
            {
                "BasePath": base_path,
                "DomainNameArn": {"Fn::GetStackOutput": Match.object_like({"StackName": "Platform"})},
                "RestApiId": {"Ref": Match.string_like_regexp("^Api")},
                "Stage": {"Ref": Match.string_like_regexp("^ApiDeploymentStageprod")},
            },
        )
    assert unified.base_paths == ["payments", "billing"]


def test_an_imported_api_is_mapped_in_the_stack_that_imports_it() -> None:
    app, platform, unified, _, _ = _platform_and_domain_stacks()
    unified.add_domain("legacy", apigw.RestApi.from_rest_api_id(platform, "Legacy", "abcde12345"), stage="live")
    app.synth()
    Template.from_stack(platform).has_resource_properties(
        "AWS::ApiGateway::BasePathMappingV2", {"BasePath": "legacy", "RestApiId": "abcde12345", "Stage": "live"}
    )


@pytest.mark.parametrize(
    ("attribute", "env"), [("region", ("111111111111", "eu-west-1")), ("account", ("222222222222", "us-east-1"))]
)
def test_add_domain_refuses_an_api_of_another_account_or_region(attribute: str, env: tuple[str, str]) -> None:
    app, _, unified, _, _ = _platform_and_domain_stacks()
    elsewhere = cdk.Stack(app, "Elsewhere", env=cdk.Environment(account=env[0], region=env[1]))
    api = apigw.RestApi(
        elsewhere, "Api", endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE])
    )
    api.root.add_method("GET", apigw.MockIntegration())
    with pytest.raises(ValueError, match=f"must be in the unified API's {attribute}"):
        unified.add_domain("elsewhere", api)
    assert unified.base_paths == []


@pytest.mark.parametrize("stages", [[], ["v1/x"], [""]])
def test_endpoint_policy_refuses_bad_stage_names(stages: list[str]) -> None:
    with pytest.raises(ValueError, match="stages must list at least one stage name"):
        UnifiedApi.endpoint_policy("vpce-0123456789abcdef0", stages=stages)
