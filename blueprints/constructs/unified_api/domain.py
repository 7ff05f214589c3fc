"""API Gateway's side: the private custom domain name for the API host name, reachable through this endpoint
only; the resource policies that tie private APIs to the endpoint; and the base path mappings of domain APIs."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from aws_cdk import Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from blueprints.constructs.unified_api.options import BASE_PATH_RE, is_stage_name


def create_private_domain(
    scope: Construct, domain_name: str, certificate: acm.ICertificate, policy: iam.PolicyDocument
) -> apigw.CfnDomainNameV2:
    """The private custom domain name (``AWS::ApiGateway::DomainNameV2``) for ``domain_name``."""
    return apigw.CfnDomainNameV2(
        scope,
        "PrivateDomainName",
        domain_name=domain_name,
        certificate_arn=certificate.certificate_arn,
        endpoint_configuration=apigw.CfnDomainNameV2.EndpointConfigurationProperty(types=["PRIVATE"]),
        security_policy="TLS_1_2",
        policy=policy.to_json(),
    )


def endpoint_domain_arn_pattern(stack: Stack, domain_name: str) -> str:
    """The ARN of any private custom domain name for ``domain_name`` in this account and Region."""
    # The exact domain name ARN would make a cycle (the domain name's policy names this endpoint), so the ARN's
    # generated suffix after '+' is a wildcard.
    return f"arn:{stack.partition}:execute-api:{stack.region}:{stack.account}:/domainnames/{domain_name}+*"


def restrict_endpoint_to_domain(endpoint: ec2.InterfaceVpcEndpoint, domain_arn_pattern: str) -> None:
    """Let the endpoint carry only calls through a private custom domain name matching ``domain_arn_pattern``."""
    # "Control access to private APIs with VPC endpoint policies", Example 4 (API Gateway developer guide).
    endpoint.add_to_policy(
        iam.PolicyStatement(
            effect=iam.Effect.ALLOW,
            principals=[iam.AnyPrincipal()],
            actions=["execute-api:Invoke"],
            resources=["*"],
            conditions={"ArnLike": {"execute-api:viaDomainArn": domain_arn_pattern}},
        )
    )


def associate_endpoint(
    scope: Construct, endpoint: ec2.InterfaceVpcEndpoint, private_domain: apigw.CfnDomainNameV2
) -> apigw.CfnDomainNameAccessAssociation:
    """Make ``private_domain`` reachable through ``endpoint``."""
    return apigw.CfnDomainNameAccessAssociation(
        scope,
        "DomainAccessAssociation",
        access_association_source=endpoint.vpc_endpoint_id,
        access_association_source_type="VPCE",
        domain_name_arn=private_domain.attr_domain_name_arn,
    )


def endpoint_policy(endpoint_id: str, *, stages: Sequence[str] | None = None) -> iam.PolicyDocument:
    """A resource policy that lets only calls through the VPC endpoint ``endpoint_id`` invoke.

    With ``stages``, only those stages of the API may be invoked (``execute-api:/<stage>/*``);
    without, any stage.
    """
    if not Token.is_unresolved(endpoint_id) and not re.match(r"^vpce-[0-9a-f]{8,17}$", endpoint_id):
        raise ValueError(f"endpoint_id must be a VPC endpoint id such as vpce-0123456789abcdef0; got {endpoint_id!r}")
    if stages is not None:
        stages = list(stages)
        if not stages or any(not isinstance(s, str) or not is_stage_name(s) for s in stages):
            raise ValueError(
                f"stages must list at least one stage name of letters, digits, '-' and '_'; got {stages!r}"
            )
    allowed = [f"execute-api:/{stage}/*" for stage in stages] if stages else ["execute-api:/*"]
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                effect=iam.Effect.ALLOW,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=allowed,
            ),
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=["execute-api:/*"],
                conditions={"StringNotEquals": {"aws:SourceVpce": endpoint_id}},
            ),
        ]
    )


def check_base_path(base_path: str, mapped: Collection[str]) -> None:
    """Refuse a base path a private custom domain name cannot take, or one already ``mapped`` (in any case)."""
    if not isinstance(base_path, str) or not BASE_PATH_RE.match(base_path):
        raise ValueError(
            "base_path must be one path segment of letters, digits and $-_.+!*'() (private custom domain names "
            "take no multi-level or empty base paths); got " + repr(base_path)
        )
    if base_path.lower() in (p.lower() for p in mapped):
        raise ValueError(f"base_path {base_path!r} is already mapped; mapped so far: {sorted(mapped)}")


def mapping_stage(base_path: str, rest_api: apigw.IRestApi, stage: str | None) -> str:
    """``stage``, checked, or else ``rest_api``'s deployment stage (an imported API has none: then it is refused)."""
    if stage is None:
        try:
            return rest_api.deployment_stage.stage_name
        except (RuntimeError, AttributeError) as error:  # jsii raises RuntimeError for an imported API
            raise ValueError(
                f"pass stage= for the REST API mapped at {base_path!r}: it has no deployment stage known to "
                f"this app (an imported API); {error}"
            ) from None
    if not is_stage_name(stage) and not Token.is_unresolved(stage):
        raise ValueError(f"stage must be a stage name of letters, digits, '-' and '_'; got {stage!r}")
    return stage


def create_mapping(
    platform: Construct,
    rest_api: apigw.IRestApi,
    *,
    base_path: str,
    stage: str,
    domain_name_arn: str,
) -> apigw.CfnBasePathMappingV2:
    """The base path mapping of ``rest_api``, in ``platform`` when both are in one stack, else in the API's stack
    (under ``rest_api`` itself when it is a construct), after checking both share an account and Region."""
    owner = Stack.of(rest_api)
    here = Stack.of(platform)
    for attribute in ("account", "region"):
        theirs, ours = getattr(owner, attribute), getattr(here, attribute)
        if not Token.is_unresolved(theirs) and not Token.is_unresolved(ours) and theirs != ours:
            raise ValueError(
                f"rest_api mapped at {base_path!r} must be in the unified API's {attribute} ({ours}): a base path "
                f"mapping joins a domain name and an API of one account and Region; got {attribute} {theirs}"
            )
    # In the API's own stack when that is another stack: the dependency then points from the domain
    # stack to the platform stack, which deploys first.
    same_stack = owner.node.addr == here.node.addr
    scope: Construct = platform if same_stack else rest_api if isinstance(rest_api, Construct) else owner
    return apigw.CfnBasePathMappingV2(
        scope,
        f"Mapping-{base_path}" if same_stack else f"UnifiedApiMapping-{base_path}",
        domain_name_arn=domain_name_arn,
        rest_api_id=rest_api.rest_api_id,
        stage=stage,
        base_path=base_path,
    )
