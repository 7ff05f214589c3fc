"""What the API host name resolves to: the ALB itself, or (``cloudfront=True``) a CloudFront distribution in front
of it that the ALB admits by address and by a secret origin header; and the Route 53 alias records. Every
resource is created in the construct's own scope."""

from __future__ import annotations

from typing import NamedTuple

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cf
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from blueprints.constructs.common import acknowledge, narrowed, skip_checkov


class CloudFrontEdge(NamedTuple):
    """What :func:`add_cloudfront` built."""

    distribution: cf.IDistribution
    origin_secret: secretsmanager.ISecret


def add_cloudfront(
    scope: Construct,
    *,
    prefix_list_id: str,
    security_group: ec2.ISecurityGroup,
    listener: elbv2.IApplicationListener,
    target_group: elbv2.IApplicationTargetGroup,
    alb: elbv2.ApplicationLoadBalancer,
    domain_name: str,
    certificate: acm.ICertificate,
    web_acl_arn: str | None,
    header_name: str,
) -> CloudFrontEdge:
    """CloudFront in front of the ALB; the ALB admits CloudFront's addresses carrying the secret header."""
    security_group.add_ingress_rule(
        ec2.Peer.prefix_list(prefix_list_id),
        ec2.Port.tcp(443),
        "HTTPS from CloudFront origin-facing addresses only",
    )
    secret = _origin_secret(scope, header_name)
    header_value = secret.secret_value.unsafe_unwrap()
    narrowed(listener, elbv2.ApplicationListener, "https_listener").add_action(
        "FromCloudFront",
        priority=10,
        conditions=[
            elbv2.ListenerCondition.host_headers([domain_name]),
            elbv2.ListenerCondition.http_header(header_name, [header_value]),
        ],
        action=elbv2.ListenerAction.forward([target_group]),
    )
    distribution = cf.Distribution(
        scope,
        "Distribution",
        comment=f"Unified API {domain_name}",
        domain_names=[domain_name],
        certificate=certificate,
        minimum_protocol_version=cf.SecurityPolicyProtocol.TLS_V1_2_2021,
        http_version=cf.HttpVersion.HTTP2_AND_3,
        web_acl_id=web_acl_arn,
        default_behavior=cf.BehaviorOptions(
            origin=origins.LoadBalancerV2Origin(
                alb,
                protocol_policy=cf.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cf.OriginSslPolicy.TLS_V1_2],
                custom_headers={header_name: header_value},
            ),
            viewer_protocol_policy=cf.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cf.AllowedMethods.ALLOW_ALL,
            cache_policy=cf.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cf.OriginRequestPolicy.ALL_VIEWER,
        ),
    )
    _acknowledge_distribution(distribution, edge_web_acl=web_acl_arn is not None)
    return CloudFrontEdge(distribution, secret)


def _origin_secret(scope: Construct, header_name: str) -> secretsmanager.ISecret:
    secret = secretsmanager.Secret(
        scope,
        "OriginSecret",
        description=f"Value of the {header_name} header that CloudFront adds and the unified API ALB requires",
        generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
    )
    acknowledge(
        secret,
        "AwsSolutions-SMG4",
        "The origin header value is a shared secret between CloudFront and the ALB listener rule, both set "
        "from it at deploy time; it is rotated deliberately (a new value, then a deployment that updates "
        "both), since an automatic rotation would change it under both without updating them.",
    )
    skip_checkov(
        secret,
        ["CKV_AWS_149"],
        "CloudFormation resolves the value into the distribution's origin header and the listener rule, where "
        "anyone who may read either sees it; a customer managed key would guard only the Secrets Manager copy, "
        "which Secrets Manager encrypts at rest with its AWS managed key.",
    )
    return secret


def _acknowledge_distribution(distribution: cf.Distribution, *, edge_web_acl: bool) -> None:
    acknowledge(
        distribution,
        "AwsSolutions-CFR1",
        "A public API for customers worldwide: no geo restriction; add one with a CLOUDFRONT web ACL if needed.",
    )
    if not edge_web_acl:
        acknowledge(
            distribution,
            "AwsSolutions-CFR2",
            "Every request CloudFront forwards passes the regional AWS WAF web ACL on the ALB (managed rule "
            "groups and a per-client rate rule on X-Forwarded-For); pass cloudfront_web_acl_arn to filter at "
            "the edge as well.",
            checkov=["CKV_AWS_68"],
        )
    acknowledge(
        distribution,
        "AwsSolutions-CFR3",
        "Every request CloudFront forwards is recorded in the ALB access logs, with the viewer address in "
        "X-Forwarded-For; CloudFront standard logs would need an ACL-enabled bucket.",
        checkov=["CKV_AWS_86"],
    )


def create_alias_records(
    scope: Construct,
    zone: route53.IHostedZone,
    domain_name: str,
    *,
    distribution: cf.IDistribution | None,
    alb: elbv2.ApplicationLoadBalancer,
) -> route53.IRecordSet:
    """The API host name as an alias of the distribution (A and AAAA) or of the ALB (A); the A record."""
    target = (
        route53_targets.CloudFrontTarget(distribution)
        if distribution is not None
        else route53_targets.LoadBalancerTarget(alb)
    )
    record = route53.ARecord(
        scope,
        "AliasRecord",
        zone=zone,
        record_name=domain_name + ".",
        target=route53.RecordTarget.from_alias(target),
    )
    if distribution is not None:
        route53.AaaaRecord(
            scope,
            "AliasRecordIpv6",
            zone=zone,
            record_name=domain_name + ".",
            target=route53.RecordTarget.from_alias(target),
        )
    return record
