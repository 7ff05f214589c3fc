"""The public entry: the certificate, the internet-facing ALB with its access logs and HTTPS listener, which
forwards only the API host name to the endpoint. Every resource is created in the construct's own scope."""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import (
    UNVERSIONED_LOGS,
    SecureBucket,
    acknowledge,
    log_alb_access_logs,
    narrowed,
    skip_checkov,
)


def create_certificate(scope: Construct, domain_name: str, hosted_zone: route53.IHostedZone | None) -> acm.ICertificate:
    """An ACM certificate for ``domain_name``, validated by DNS in ``hosted_zone``."""
    return acm.Certificate(
        scope,
        "Certificate",
        domain_name=domain_name,
        validation=acm.CertificateValidation.from_dns(hosted_zone),
    )


def create_access_logs_bucket(scope: Construct) -> s3.IBucket:
    """The ALB's access logs bucket: S3-managed encryption, which is what ALB log delivery can write to."""
    bucket = SecureBucket(scope, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, versioned=False)
    skip_checkov(bucket, ["CKV_AWS_21"], UNVERSIONED_LOGS)
    return bucket


def create_load_balancer(
    scope: Construct,
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    security_group: ec2.ISecurityGroup,
    access_logs_bucket: s3.IBucket,
) -> elbv2.ApplicationLoadBalancer:
    """The internet-facing ALB; it drops invalid headers and keeps the client's Host header."""
    alb = elbv2.ApplicationLoadBalancer(
        scope,
        "LoadBalancer",
        vpc=vpc,
        internet_facing=True,
        vpc_subnets=subnets,
        security_group=security_group,
        drop_invalid_header_fields=True,
        preserve_host_header=True,
    )
    log_alb_access_logs(alb, access_logs_bucket, "alb")
    return alb


def add_https_listener(
    alb: elbv2.ApplicationLoadBalancer, certificate: acm.ICertificate, ssl_policy: elbv2.SslPolicy
) -> elbv2.IApplicationListener:
    """The HTTPS listener; what no rule forwards gets a 404."""
    return alb.add_listener(
        "Https",
        port=443,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
        ssl_policy=ssl_policy,
        open=False,
        # Only requests for the API host name reach the endpoint: API Gateway would route any other Host
        # (<api-id>.execute-api.<region>.amazonaws.com) straight to that private API, past the custom domain.
        default_action=elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="Not Found"),
    )


def forward_api_host(
    listener: elbv2.IApplicationListener, domain_name: str, target_group: elbv2.IApplicationTargetGroup
) -> None:
    """Forward requests for ``domain_name`` (and nothing else) to the endpoint."""
    narrowed(listener, elbv2.ApplicationListener, "https_listener").add_action(
        "ToApiDomain",
        priority=10,
        conditions=[elbv2.ListenerCondition.host_headers([domain_name])],
        action=elbv2.ListenerAction.forward([target_group]),
    )


def open_to_internet(alb: elbv2.ApplicationLoadBalancer, security_group: ec2.ISecurityGroup) -> None:
    """Admit HTTPS from any address, and HTTP only to redirect it."""
    anyone = ec2.Peer.any_ipv4()  # the load balancer is IPv4-only
    security_group.add_ingress_rule(anyone, ec2.Port.tcp(443), "HTTPS from API users")
    security_group.add_ingress_rule(anyone, ec2.Port.tcp(80), "HTTP, redirected")
    alb.add_redirect(source_port=80, target_port=443, open=False)
    acknowledge(
        security_group,
        "AwsSolutions-EC23",
        "The load balancer is the public entry of the API: it must accept HTTPS (and HTTP, which it only "
        "redirects) from any address; AWS WAF filters requests behind it.",
        checkov=["CKV_AWS_260"],
    )
