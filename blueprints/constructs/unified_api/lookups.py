"""Deploy-time facts the template cannot name: the endpoint's network interface IPs (a VPC endpoint has no
CloudFormation attribute for them) and CloudFront's origin-facing prefix list id, both from one function
(``blueprints/lambdas/unified_api_endpoint_ips``) on the Provider framework, and the load balancer's target group
of those IPs.

The custom resources' logical ids name the lookup (``EndpointIpLookup``, ``CloudFrontPrefixListLookup``):
CloudFormation does not update a custom resource's ``ServiceToken``, so the resources that the function once
answered by itself were replaced when the Provider framework took over (docs/unified-api.md, "Upgrade")."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from blueprints.constructs.common import PythonHandler, acknowledge, secure_provider
from blueprints.constructs.unified_api.options import CLOUDFRONT_PREFIX_LIST


def create_lookups(
    scope: Construct, *, log_retention: logs.RetentionDays, cloudfront: bool
) -> tuple[PythonHandler, cr.Provider]:
    """The custom resources' function, allowed the Describe calls it makes (prefix lists only with CloudFront),
    and the Provider framework that serves them (construct ``Lookups``)."""
    lookups = Construct(scope, "Lookups")
    function = PythonHandler(
        lookups,
        "Function",
        name="unified_api_endpoint_ips",
        description="the unified API's deploy-time lookups: VPC endpoint interface IPs, managed prefix list ids",
        timeout=Duration.minutes(1),
        memory_size=128,
        log_retention=log_retention,
        sync_caller="the CloudFormation custom resource Provider framework",
    )
    actions = ["ec2:DescribeNetworkInterfaces"] + (["ec2:DescribeManagedPrefixLists"] if cloudfront else [])
    function.role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=["*"]))
    acknowledge(
        function.role,
        "AwsSolutions-IAM5[Resource::*]",
        "ec2:DescribeNetworkInterfaces and ec2:DescribeManagedPrefixLists support no resource-level "
        "permissions (read-only Describe calls), and X-Ray PutTraceSegments/PutTelemetryRecords neither.",
    )
    provider = secure_provider(
        lookups,
        on_event=function.function,
        logged_data="VPC endpoint, network interface and prefix list ids, the endpoint's private IPs",
        log_retention=log_retention,
    )
    return function, provider


def resolve_endpoint_ips(
    scope: Construct, provider: cr.Provider, endpoint: ec2.InterfaceVpcEndpoint, endpoint_count: int
) -> CustomResource:
    """The endpoint's interface IPs as attributes ``Ip0`` ... ``Ip<n-1>``, looked up again whenever the endpoint
    or its interfaces change."""
    return CustomResource(
        scope,
        "EndpointIpLookup",
        service_token=provider.service_token,
        resource_type="Custom::VpcEndpointIps",
        service_timeout=Duration.minutes(5),
        properties={
            "EndpointId": endpoint.vpc_endpoint_id,
            "NetworkInterfaceIds": endpoint.vpc_endpoint_network_interface_ids,
            "ExpectedCount": str(endpoint_count),
        },
    )


def create_endpoint_targets(
    scope: Construct, vpc: ec2.IVpc, endpoint_ips: CustomResource, endpoint_count: int, health_check_codes: str
) -> elbv2.IApplicationTargetGroup:
    """The HTTPS target group of the endpoint's interface IPs."""
    return elbv2.ApplicationTargetGroup(
        scope,
        "EndpointTargets",
        vpc=vpc,
        port=443,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        target_type=elbv2.TargetType.IP,
        targets=[elbv2_targets.IpTarget(endpoint_ips.get_att_string(f"Ip{i}"), 443) for i in range(endpoint_count)],
        deregistration_delay=Duration.seconds(30),
        health_check=elbv2.HealthCheck(
            protocol=elbv2.Protocol.HTTPS,
            path="/",
            healthy_http_codes=health_check_codes,
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        ),
    )


def cloudfront_prefix_list_id(scope: Construct, provider: cr.Provider) -> str:
    """The id of CloudFront's origin-facing prefix list in this Region, looked up at deploy time."""
    prefix_list = CustomResource(
        scope,
        "CloudFrontPrefixListLookup",
        service_token=provider.service_token,
        resource_type="Custom::ManagedPrefixList",
        service_timeout=Duration.minutes(5),
        properties={"PrefixListName": CLOUDFRONT_PREFIX_LIST},
    )
    return prefix_list.get_att_string("PrefixListId")
