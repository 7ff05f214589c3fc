"""The unified API's fixed names and the checks its arguments pass before anything is built."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_route53 as route53

#: Base paths API Gateway accepts in a base path mapping of a private custom
#: domain name: one path segment (the V1 API, the only one that manages private
#: custom domain names, rejects '/'), of these characters.
BASE_PATH_RE = re.compile(r"^[A-Za-z0-9$_.+!*'()-]+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_STATUS_CODES_RE = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_STAGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PARAMETER_RE = re.compile(r"^/[A-Za-z0-9_.\-/]{1,1010}$")
_WEB_ACL_ARN_RE = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[^/]+/[^/]+$")
#: CloudFront's origin-facing addresses, as an AWS-managed prefix list (its id differs per Region).
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
#: The header that makes API Gateway route a request to a private API by id, past any custom domain name.
API_ID_HEADER = "x-apigw-api-id"
#: The WAF managed rule groups every unified API gets, in evaluation order after the rate rule.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)


def is_stage_name(stage: str) -> bool:
    """Whether ``stage`` is an API Gateway stage name (letters, digits, '-' and '_', up to 128)."""
    return bool(_STAGE_RE.match(stage))


def validate_arguments(
    *,
    stack: Stack,
    domain_name: str,
    hosted_zone: route53.IHostedZone | None,
    certificate: acm.ICertificate | None,
    vpc: ec2.IVpc | None,
    availability_zones: Sequence[str] | None,
    health_check_codes: str,
    rate_limit: int,
    cloudfront: bool,
    cloudfront_certificate: acm.ICertificate | None,
    cloudfront_web_acl_arn: str | None,
    origin_header_name: str,
    endpoint_id_parameter: str | None,
) -> None:
    """Every check of the constructor's arguments that needs no resource, in the order a user meets them."""
    _check_domain(domain_name, hosted_zone, certificate)
    _check_network(vpc, availability_zones)
    _check_entry(health_check_codes, rate_limit)
    _check_cloudfront(stack, cloudfront, cloudfront_certificate, cloudfront_web_acl_arn)
    if endpoint_id_parameter is not None and not _PARAMETER_RE.match(endpoint_id_parameter):
        raise ValueError(
            "endpoint_id_parameter must be an SSM parameter name such as /unified-api/vpc-endpoint-id "
            f"(a leading '/', then letters, digits and _.-/); got {endpoint_id_parameter!r}"
        )
    if not _HEADER_NAME_RE.match(origin_header_name):
        raise ValueError(
            f"origin_header_name must be an HTTP header name of letters, digits and '-'; got {origin_header_name!r}"
        )


def _check_domain(
    domain_name: str, hosted_zone: route53.IHostedZone | None, certificate: acm.ICertificate | None
) -> None:
    if not Token.is_unresolved(domain_name) and not _DOMAIN_RE.match(domain_name):
        raise ValueError(f"domain_name must be a lower-case DNS host name such as api.example.com; got {domain_name!r}")
    if certificate is None and hosted_zone is None:
        raise ValueError(
            "pass certificate (an ACM certificate for domain_name in this Region), or hosted_zone so that "
            "a DNS-validated certificate can be created; got neither"
        )
    if hosted_zone is not None and not Token.is_unresolved(hosted_zone.zone_name):
        zone = hosted_zone.zone_name.rstrip(".")
        if domain_name != zone and not domain_name.endswith("." + zone):
            raise ValueError(f"domain_name {domain_name!r} is not in the hosted zone {zone!r}")


def _check_network(vpc: ec2.IVpc | None, availability_zones: Sequence[str] | None) -> None:
    if vpc is not None and availability_zones is not None:
        raise ValueError(
            "availability_zones is only for the VPC this construct creates; got both vpc and availability_zones "
            "(select the endpoint subnets of your VPC with endpoint_subnets)"
        )
    if vpc is None:
        zones = list(availability_zones or [])
        if len(zones) < 2 or len(set(zones)) != len(zones) or any(Token.is_unresolved(z) for z in zones):
            raise ValueError(
                "availability_zones must list at least two distinct Availability Zones by name (e.g. "
                f"['us-east-1a', 'us-east-1b', 'us-east-1c']) when no vpc is passed; got {availability_zones!r}"
            )


def _check_entry(health_check_codes: str, rate_limit: int) -> None:
    if not _STATUS_CODES_RE.match(health_check_codes) or any(
        not 200 <= int(code) <= 499 for code in re.findall(r"\d{3}", health_check_codes)
    ):
        raise ValueError(
            "health_check_codes must be HTTP codes from 200 to 499 as the ALB matcher takes them, e.g. "
            f"'200-403' or '200,403'; got {health_check_codes!r}"
        )
    if not 10 <= rate_limit <= 2_000_000_000:
        raise ValueError(
            f"rate_limit is requests per client IP per 5 minutes, from 10 to 2,000,000,000; got {rate_limit}"
        )


def _check_cloudfront(
    stack: Stack,
    cloudfront: bool,
    cloudfront_certificate: acm.ICertificate | None,
    cloudfront_web_acl_arn: str | None,
) -> None:
    if not cloudfront and (cloudfront_certificate is not None or cloudfront_web_acl_arn is not None):
        raise ValueError(
            "cloudfront_certificate and cloudfront_web_acl_arn only apply with cloudfront=True; got cloudfront=False"
        )
    if cloudfront and cloudfront_certificate is None and stack.region != "us-east-1":
        raise ValueError(
            "CloudFront takes certificates from us-east-1 only: pass cloudfront_certificate (an ACM certificate "
            f"for domain_name in us-east-1) when the stack's Region is not us-east-1; got region {stack.region!r}"
        )
    if (
        cloudfront_web_acl_arn is not None
        and not Token.is_unresolved(cloudfront_web_acl_arn)
        and not _WEB_ACL_ARN_RE.match(cloudfront_web_acl_arn)
    ):
        raise ValueError(
            "cloudfront_web_acl_arn must be the ARN of a CLOUDFRONT-scope web ACL (created in us-east-1, "
            f"arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>); got {cloudfront_web_acl_arn!r}"
        )
