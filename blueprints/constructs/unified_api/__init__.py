"""One public HTTPS entry to many private API Gateway REST APIs, one per business domain.

After "How Sonar built a unified API on AWS": users call
``https://api.example.com/<domain>/...``; an internet-facing Application Load
Balancer with AWS WAF terminates TLS and forwards to the network interfaces of
an ``execute-api`` interface VPC endpoint; API Gateway's private custom domain
name for the same host name maps each base path to that domain team's private
REST API.

The package, by concern: ``options`` (names and argument checks), ``network`` (VPC, security groups, the
endpoint), ``lookups`` (the deploy-time custom resources and the endpoint's target group), ``entry`` (certificate
and ALB), ``edge`` (CloudFront or the open ALB, and DNS), ``waf``, ``domain`` (the private custom domain name,
the resource policies and base path mappings), and ``construct`` (``UnifiedApi``, which puts them together).
"""

from blueprints.constructs.unified_api.construct import UnifiedApi
from blueprints.constructs.unified_api.options import (
    API_ID_HEADER,
    BASE_PATH_RE,
    CLOUDFRONT_PREFIX_LIST,
    MANAGED_RULE_GROUPS,
)

__all__ = [
    "API_ID_HEADER",
    "BASE_PATH_RE",
    "CLOUDFRONT_PREFIX_LIST",
    "MANAGED_RULE_GROUPS",
    "UnifiedApi",
]
