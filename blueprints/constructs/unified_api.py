"""One public HTTPS entry to many private API Gateway REST APIs, one per business domain.

After "How Sonar built a unified API on AWS": users call
``https://api.example.com/<domain>/...``; an internet-facing Application Load
Balancer with AWS WAF terminates TLS and forwards to the network interfaces of
an ``execute-api`` interface VPC endpoint; API Gateway's private custom domain
name for the same host name maps each base path to that domain team's private
REST API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import jsii
from aws_cdk import ArnFormat, CustomResource, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cf
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    acknowledge,
    explain_zone_lookup,
    log_alb_access_logs,
    narrowed,
)

#: Base paths API Gateway accepts in a base path mapping of a private custom
#: domain name: one path segment (the V1 API, the only one that manages private
#: custom domain names, rejects '/'), of these characters.
BASE_PATH_RE = re.compile(r"^[A-Za-z0-9$_.+!*'()-]+$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_STATUS_CODES_RE = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
_HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_STAGE_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_PARAMETER_RE = re.compile(r"^/[A-Za-z0-9_.\-/]{1,1010}$")
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


@jsii.implements(ec2.IConnectable)
class UnifiedApi(Construct):
    """A unified public API: ALB + WAF in front of an ``execute-api`` VPC endpoint and private REST APIs.

    Builds (or takes) a VPC, an interface endpoint for API Gateway in one subnet
    per Availability Zone whose security group admits only the load balancer on
    443, a custom resource that resolves the endpoint's network interface IPs at
    deploy time (again whenever the endpoint or its interfaces change), an HTTPS
    target group of those IPs, an internet-facing ALB (HTTPS with a modern TLS
    policy, HTTP redirected, access logs), a regional WAF web ACL, a private
    custom domain name (``AWS::ApiGateway::DomainNameV2``) for the API host name
    associated with the endpoint, and a Route 53 alias record. Domain teams'
    private REST APIs are mapped with :meth:`add_domain`.

    With ``cloudfront=True`` a CloudFront distribution serves the host name
    instead, and the ALB admits only CloudFront's origin-facing addresses and
    only requests that carry a secret origin header.

    Prerequisite for the domain APIs: API Gateway creates a stage with access
    or execution logging only once the Region's API Gateway account settings
    hold a CloudWatch Logs role. That setting is one per account and Region
    (``AWS::ApiGateway::Account``; two stacks that set it overwrite each other),
    so this construct, which creates no stage itself, never sets it: set it once
    per account and Region (the example stack ``UnifiedApi`` does) and make each
    logging stage depend on it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        domain_name: str,
        hosted_zone: route53.IHostedZone | None = None,
        certificate: acm.ICertificate | None = None,
        vpc: ec2.IVpc | None = None,
        availability_zones: Sequence[str] | None = None,
        endpoint_subnets: ec2.SubnetSelection | None = None,
        load_balancer_subnets: ec2.SubnetSelection | None = None,
        private_dns_enabled: bool = False,
        ssl_policy: elbv2.SslPolicy = elbv2.SslPolicy.TLS13_12_RES_PQ,
        health_check_codes: str = "200-403",
        rate_limit: int = 2000,
        common_rule_set_count_only: Sequence[str] = (),
        access_logs_bucket: s3.IBucket | None = None,
        cloudfront: bool = False,
        cloudfront_certificate: acm.ICertificate | None = None,
        cloudfront_web_acl_arn: str | None = None,
        origin_header_name: str = "X-Origin-Verify",
        endpoint_id_parameter: str | None = None,
        waf_logs: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    ) -> None:
        """Build the public entry (ALB, WAF, optionally CloudFront) in front of the execute-api endpoint.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            domain_name: Lower-case host name, e.g. ``api.example.com``.
                Required.
            hosted_zone: Public zone: DNS validation of a new certificate and the alias record(s); without it, no record
                is created.
                Default: ``None``.
            certificate: ACM certificate for ``domain_name`` in the stack's Region (ALB and the private domain name);
                one of ``certificate`` or ``hosted_zone`` is required.
                Default: created.
            vpc: A new VPC has public subnets (ALB) and isolated subnets (endpoint) in ``availability_zones``, no NAT
                gateways, flow logs to CloudWatch Logs.
                Default: created.
            availability_zones: At least two distinct names; refused together with ``vpc``.
                Default: required without ``vpc``.
            endpoint_subnets: One subnet per AZ is used; at least two AZs.
                Default: the new VPC's isolated subnets, else private subnets with egress.
            load_balancer_subnets: Subnets of the internet-facing load balancer.
                Default: public subnets.
            private_dns_enabled: ``True`` would make every ``*.execute-api`` name in the VPC resolve to this endpoint,
                breaking calls to public APIs from the VPC; the ALB needs no DNS.
                Default: ``False``.
            ssl_policy: TLS 1.3 and 1.2 with forward-secret AEAD ciphers and post-quantum key exchange.
                Default: ``TLS13_12_RES_PQ`` (``ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09``).
            health_check_codes: ALB matcher syntax, codes 200-499.
                Default: ``"200-403"``.
            rate_limit: Requests per client address per 5 minutes, 10 to 2,000,000,000.
                Default: ``2000``.
            common_rule_set_count_only: Rule names of the common rule set to count instead of block.
                Default: ``()``.
            access_logs_bucket: S3-managed encryption (ALB log delivery cannot use KMS), TLS-only, retained, its own
                server access logs; a bucket passed in gets the ELB delivery statements only if it belongs to this app
                (an imported bucket must already allow them; see *Design choices* for what they
                are).
                Default: created.
            cloudfront: See above.
                Default: ``False``.
            cloudfront_certificate: Required outside us-east-1 with ``cloudfront=True``; refused without it.
                Default: the stack's certificate in us-east-1.
            cloudfront_web_acl_arn: A CLOUDFRONT-scope web ACL for the distribution.
                Default: ``None``.
            origin_header_name: The secret header's name.
                Default: ``X-Origin-Verify``.
            waf_logs: WAF request logs to a CloudWatch Logs group ``aws-waf-logs-…`` (the name WAF requires) with
                ``log_retention``, the ``Authorization``, ``Cookie``, ``X-Api-Key`` and origin-secret headers redacted;
                the group is deleted with the stack, since its fixed name would block a re-creation.
                Default: ``True``.
            endpoint_id_parameter: An SSM parameter name (leading ``/``) to publish the endpoint id in, for domain
                stacks.
                Default: ``None``.
            log_retention: Handler, flow and WAF logs.
                Default: ``logs.RetentionDays.THREE_MONTHS``.

        Attributes:
            domain_name (str)
            flow_logs (logs.ILogGroup | None)
            vpc (ec2.IVpc)
            load_balancer_security_group (ec2.ISecurityGroup)
            endpoint_security_group (ec2.ISecurityGroup)
            vpc_endpoint (ec2.IInterfaceVpcEndpoint)
            endpoint_id_parameter (ssm.IStringParameter | None)
            lookup_function (PythonHandler)
            endpoint_ips (CustomResource)
            target_group (elbv2.IApplicationTargetGroup)
            certificate (acm.ICertificate)
            access_logs_bucket (s3.IBucket)
            load_balancer (elbv2.IApplicationLoadBalancer)
            https_listener (elbv2.IApplicationListener)
            distribution (cf.IDistribution | None)
            origin_secret (secretsmanager.ISecret | None)
            web_acl (wafv2.CfnWebACL)
            waf_logs (logs.ILogGroup | None)
            private_domain (apigw.CfnDomainNameV2)
            endpoint_domain_arn_pattern (str)
            access_association (apigw.CfnDomainNameAccessAssociation)
            record (route53.IRecordSet | None)
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._validate(
            stack=stack,
            domain_name=domain_name,
            hosted_zone=hosted_zone,
            certificate=certificate,
            vpc=vpc,
            availability_zones=availability_zones,
            health_check_codes=health_check_codes,
            rate_limit=rate_limit,
            cloudfront=cloudfront,
            cloudfront_certificate=cloudfront_certificate,
            cloudfront_web_acl_arn=cloudfront_web_acl_arn,
            origin_header_name=origin_header_name,
            endpoint_id_parameter=endpoint_id_parameter,
        )
        self.domain_name = domain_name
        self._base_paths: dict[str, apigw.CfnBasePathMappingV2] = {}

        # Network: a VPC of public subnets (the ALB) and isolated subnets (the endpoint), or the caller's.
        creates_vpc = vpc is None
        if vpc is None:
            new_vpc = ec2.Vpc(
                self,
                "Vpc",
                availability_zones=list(availability_zones or []),
                nat_gateways=0,
                restrict_default_security_group=False,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="Entry", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                    ec2.SubnetConfiguration(name="Endpoint", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
                ],
            )
            self.flow_logs: logs.ILogGroup | None = logs.LogGroup(self, "FlowLogs", retention=log_retention)
            new_vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_logs))
            # The AZ names are given on purpose (no lookup at synthesis, one endpoint ENI per named AZ);
            # cfn-lint's W3010 ("avoid hard-coded AZs") is silenced on these subnets only.
            for subnet in [*new_vpc.public_subnets, *new_vpc.isolated_subnets]:
                child = subnet.node.default_child
                if isinstance(child, ec2.CfnSubnet):
                    child.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3010"]}})
            vpc = new_vpc
            endpoint_subnets = endpoint_subnets or ec2.SubnetSelection(subnet_group_name="Endpoint")
            load_balancer_subnets = load_balancer_subnets or ec2.SubnetSelection(subnet_group_name="Entry")
        else:
            self.flow_logs = None
        self.vpc: ec2.IVpc = vpc
        explain_zone_lookup(self, vpc, created=creates_vpc)
        endpoint_selection = endpoint_subnets or ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, one_per_az=True
        )
        try:
            selected = vpc.select_subnets(
                subnet_type=endpoint_selection.subnet_type,
                subnet_group_name=endpoint_selection.subnet_group_name,
                subnets=endpoint_selection.subnets,
                subnet_filters=endpoint_selection.subnet_filters,
                availability_zones=endpoint_selection.availability_zones,
                one_per_az=True,
            )
        except RuntimeError as error:  # jsii reports the VPC's own complaint, e.g. no such subnet group
            raise ValueError(
                f"endpoint_subnets selects no subnets of the VPC (the default is its private subnets with egress): "
                f"{str(error).splitlines()[0]}"
            ) from None
        endpoint_count = len(selected.subnet_ids)
        if endpoint_count < 2:
            raise ValueError(
                "endpoint_subnets must select subnets in at least two Availability Zones (one endpoint network "
                f"interface each); got {endpoint_count}"
            )

        # Security groups: the internet (or CloudFront) -> ALB :443 -> endpoint :443, nothing else.
        self.load_balancer_security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self, "LoadBalancerSecurityGroup", vpc=vpc, allow_all_outbound=False, description="Unified API entry"
        )
        self.endpoint_security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="execute-api endpoint: HTTPS from the unified API load balancer only",
        )
        self.load_balancer_security_group.connections.allow_to(
            self.endpoint_security_group, ec2.Port.tcp(443), "HTTPS to the execute-api endpoint"
        )

        self.vpc_endpoint: ec2.IInterfaceVpcEndpoint = ec2.InterfaceVpcEndpoint(
            self,
            "Endpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
            subnets=ec2.SubnetSelection(subnets=selected.subnets),
            security_groups=[self.endpoint_security_group],
            open=False,
            private_dns_enabled=private_dns_enabled,
        )
        endpoint = narrowed(self.vpc_endpoint, ec2.InterfaceVpcEndpoint, "vpc_endpoint")
        self.endpoint_id_parameter: ssm.IStringParameter | None = None
        if endpoint_id_parameter is not None:
            self.endpoint_id_parameter = ssm.StringParameter(
                self,
                "EndpointIdParameter",
                parameter_name=endpoint_id_parameter,
                string_value=endpoint.vpc_endpoint_id,
                description="VPC endpoint id that domain APIs behind the unified API must admit in their policy",
            )

        # Deploy-time facts: the endpoint's ENI IPs (and CloudFront's prefix list id).
        self.lookup_function = PythonHandler(
            self,
            "Lookups",
            name="unified_api_endpoint_ips",
            description="the unified API's deploy-time lookups: VPC endpoint interface IPs, managed prefix list ids",
            timeout=Duration.minutes(1),
            memory_size=128,
            log_retention=log_retention,
        )
        actions = ["ec2:DescribeNetworkInterfaces"] + (["ec2:DescribeManagedPrefixLists"] if cloudfront else [])
        self.lookup_function.role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=["*"]))
        acknowledge(
            self.lookup_function.role,
            "AwsSolutions-IAM5[Resource::*]",
            "ec2:DescribeNetworkInterfaces and ec2:DescribeManagedPrefixLists support no resource-level "
            "permissions (read-only Describe calls), and X-Ray PutTraceSegments/PutTelemetryRecords neither.",
        )
        self.endpoint_ips = CustomResource(
            self,
            "EndpointIps",
            service_token=self.lookup_function.function.function_arn,
            resource_type="Custom::VpcEndpointIps",
            service_timeout=Duration.minutes(5),
            properties={
                "EndpointId": endpoint.vpc_endpoint_id,
                "NetworkInterfaceIds": endpoint.vpc_endpoint_network_interface_ids,
                "ExpectedCount": str(endpoint_count),
            },
        )

        self.target_group: elbv2.IApplicationTargetGroup = elbv2.ApplicationTargetGroup(
            self,
            "EndpointTargets",
            vpc=vpc,
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            target_type=elbv2.TargetType.IP,
            targets=[
                elbv2_targets.IpTarget(self.endpoint_ips.get_att_string(f"Ip{i}"), 443) for i in range(endpoint_count)
            ],
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

        # Entry: certificate, ALB, listeners, access logs.
        self.certificate: acm.ICertificate = certificate or acm.Certificate(
            self,
            "Certificate",
            domain_name=domain_name,
            validation=acm.CertificateValidation.from_dns(hosted_zone),
        )
        self.access_logs_bucket: s3.IBucket = access_logs_bucket or SecureBucket(
            self, "AccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, versioned=False
        )
        alb = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=load_balancer_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.load_balancer_security_group,
            drop_invalid_header_fields=True,
            preserve_host_header=True,
        )
        log_alb_access_logs(alb, self.access_logs_bucket, "alb")
        self.load_balancer: elbv2.IApplicationLoadBalancer = alb
        self.https_listener: elbv2.IApplicationListener = alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(self.certificate)],
            ssl_policy=ssl_policy,
            open=False,
            # Only requests for the API host name reach the endpoint: API Gateway would route any other Host
            # (<api-id>.execute-api.<region>.amazonaws.com) straight to that private API, past the custom domain.
            default_action=elbv2.ListenerAction.fixed_response(
                404, content_type="text/plain", message_body="Not Found"
            ),
        )
        if not cloudfront:
            listener = narrowed(self.https_listener, elbv2.ApplicationListener, "https_listener")
            listener.add_action(
                "ToApiDomain",
                priority=10,
                conditions=[elbv2.ListenerCondition.host_headers([domain_name])],
                action=elbv2.ListenerAction.forward([self.target_group]),
            )

        # Edge: either the ALB itself, open to the internet, or CloudFront in front of it.
        self.distribution: cf.IDistribution | None = None
        self.origin_secret: secretsmanager.ISecret | None = None
        if cloudfront:
            self._add_cloudfront(
                stack=stack,
                alb=alb,
                domain_name=domain_name,
                certificate=cloudfront_certificate or self.certificate,
                web_acl_arn=cloudfront_web_acl_arn,
                header_name=origin_header_name,
            )
        else:
            anyone = ec2.Peer.any_ipv4()  # the load balancer is IPv4-only
            self.load_balancer_security_group.add_ingress_rule(anyone, ec2.Port.tcp(443), "HTTPS from API users")
            self.load_balancer_security_group.add_ingress_rule(anyone, ec2.Port.tcp(80), "HTTP, redirected")
            alb.add_redirect(source_port=80, target_port=443, open=False)
            acknowledge(
                self.load_balancer_security_group,
                "AwsSolutions-EC23",
                "The load balancer is the public entry of the API: it must accept HTTPS (and HTTP, which it only "
                "redirects) from any address; AWS WAF filters requests behind it.",
            )

        self.web_acl = self._add_web_acl(rate_limit, common_rule_set_count_only, forwarded_ip=cloudfront)
        wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=alb.load_balancer_arn, web_acl_arn=self.web_acl.attr_arn
        )
        self.waf_logs: logs.ILogGroup | None = None
        if waf_logs:
            self.waf_logs = self._add_waf_logs(stack, log_retention, origin_header_name)

        # API Gateway: the private custom domain name, reachable through this endpoint only.
        self.private_domain = apigw.CfnDomainNameV2(
            self,
            "PrivateDomainName",
            domain_name=domain_name,
            certificate_arn=self.certificate.certificate_arn,
            endpoint_configuration=apigw.CfnDomainNameV2.EndpointConfigurationProperty(types=["PRIVATE"]),
            security_policy="TLS_1_2",
            policy=self.private_api_policy().to_json(),
        )
        # The endpoint itself carries only calls through a private custom domain name for this host name in this
        # account ("Control access to private APIs with VPC endpoint policies", Example 4). The exact domain name
        # ARN would make a cycle (the domain name's policy names this endpoint), so the ARN's generated suffix
        # after '+' is a wildcard.
        self.endpoint_domain_arn_pattern = (
            f"arn:{stack.partition}:execute-api:{stack.region}:{stack.account}:/domainnames/{domain_name}+*"
        )
        endpoint.add_to_policy(
            iam.PolicyStatement(
                effect=iam.Effect.ALLOW,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=["*"],
                conditions={"ArnLike": {"execute-api:viaDomainArn": self.endpoint_domain_arn_pattern}},
            )
        )
        self.access_association = apigw.CfnDomainNameAccessAssociation(
            self,
            "DomainAccessAssociation",
            access_association_source=endpoint.vpc_endpoint_id,
            access_association_source_type="VPCE",
            domain_name_arn=self.private_domain.attr_domain_name_arn,
        )

        # DNS: the API host name points at CloudFront or at the ALB.
        self.record: route53.IRecordSet | None = None
        if hosted_zone is not None:
            target = (
                route53_targets.CloudFrontTarget(self.distribution)
                if self.distribution is not None
                else route53_targets.LoadBalancerTarget(alb)
            )
            self.record = route53.ARecord(
                self,
                "AliasRecord",
                zone=hosted_zone,
                record_name=domain_name + ".",
                target=route53.RecordTarget.from_alias(target),
            )
            if self.distribution is not None:
                route53.AaaaRecord(
                    self,
                    "AliasRecordIpv6",
                    zone=hosted_zone,
                    record_name=domain_name + ".",
                    target=route53.RecordTarget.from_alias(target),
                )

    @property
    def connections(self) -> ec2.Connections:
        """The load balancer's security group, default port 443: ``connections.allow_from(peer)`` lets a client
        reach the entry (the construct itself opens it to the internet in ALB mode, to CloudFront otherwise)."""
        return ec2.Connections(security_groups=[self.load_balancer_security_group], default_port=ec2.Port.tcp(443))

    @staticmethod
    def _validate(
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
        if not Token.is_unresolved(domain_name) and not _DOMAIN_RE.match(domain_name):
            raise ValueError(
                f"domain_name must be a lower-case DNS host name such as api.example.com; got {domain_name!r}"
            )
        if certificate is None and hosted_zone is None:
            raise ValueError(
                "pass certificate (an ACM certificate for domain_name in this Region), or hosted_zone so that "
                "a DNS-validated certificate can be created; got neither"
            )
        if hosted_zone is not None and not Token.is_unresolved(hosted_zone.zone_name):
            zone = hosted_zone.zone_name.rstrip(".")
            if domain_name != zone and not domain_name.endswith("." + zone):
                raise ValueError(f"domain_name {domain_name!r} is not in the hosted zone {zone!r}")
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
        if not cloudfront and (cloudfront_certificate is not None or cloudfront_web_acl_arn is not None):
            raise ValueError(
                "cloudfront_certificate and cloudfront_web_acl_arn only apply with cloudfront=True; "
                "got cloudfront=False"
            )
        if cloudfront and cloudfront_certificate is None and stack.region != "us-east-1":
            raise ValueError(
                "CloudFront takes certificates from us-east-1 only: pass cloudfront_certificate (an ACM certificate "
                f"for domain_name in us-east-1) when the stack's Region is not us-east-1; got region {stack.region!r}"
            )
        if (
            cloudfront_web_acl_arn is not None
            and not Token.is_unresolved(cloudfront_web_acl_arn)
            and not re.match(
                r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[^/]+/[^/]+$", cloudfront_web_acl_arn
            )
        ):
            raise ValueError(
                "cloudfront_web_acl_arn must be the ARN of a CLOUDFRONT-scope web ACL (created in us-east-1, "
                f"arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>); got {cloudfront_web_acl_arn!r}"
            )
        if endpoint_id_parameter is not None and not _PARAMETER_RE.match(endpoint_id_parameter):
            raise ValueError(
                "endpoint_id_parameter must be an SSM parameter name such as /unified-api/vpc-endpoint-id "
                f"(a leading '/', then letters, digits and _.-/); got {endpoint_id_parameter!r}"
            )
        if not _HEADER_NAME_RE.match(origin_header_name):
            raise ValueError(
                f"origin_header_name must be an HTTP header name of letters, digits and '-'; got {origin_header_name!r}"
            )

    def _add_cloudfront(
        self,
        *,
        stack: Stack,
        alb: elbv2.ApplicationLoadBalancer,
        domain_name: str,
        certificate: acm.ICertificate,
        web_acl_arn: str | None,
        header_name: str,
    ) -> None:
        """CloudFront in front of the ALB; the ALB admits CloudFront's addresses carrying the secret header."""
        prefix_list = CustomResource(
            self,
            "CloudFrontPrefixList",
            service_token=self.lookup_function.function.function_arn,
            resource_type="Custom::ManagedPrefixList",
            service_timeout=Duration.minutes(5),
            properties={"PrefixListName": CLOUDFRONT_PREFIX_LIST},
        )
        self.load_balancer_security_group.add_ingress_rule(
            ec2.Peer.prefix_list(prefix_list.get_att_string("PrefixListId")),
            ec2.Port.tcp(443),
            "HTTPS from CloudFront origin-facing addresses only",
        )
        secret = secretsmanager.Secret(
            self,
            "OriginSecret",
            description=f"Value of the {header_name} header that CloudFront adds and the unified API ALB requires",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
        )
        self.origin_secret = secret
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "The origin header value is a shared secret between CloudFront and the ALB listener rule, both set "
            "from it at deploy time; it is rotated deliberately (a new value, then a deployment that updates "
            "both), since an automatic rotation would change it under both without updating them.",
        )
        header_value = secret.secret_value.unsafe_unwrap()
        listener = narrowed(self.https_listener, elbv2.ApplicationListener, "https_listener")
        listener.add_action(
            "FromCloudFront",
            priority=10,
            conditions=[
                elbv2.ListenerCondition.host_headers([domain_name]),
                elbv2.ListenerCondition.http_header(header_name, [header_value]),
            ],
            action=elbv2.ListenerAction.forward([self.target_group]),
        )
        distribution = cf.Distribution(
            self,
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
        self.distribution = distribution
        acknowledge(
            distribution,
            "AwsSolutions-CFR1",
            "A public API for customers worldwide: no geo restriction; add one with a CLOUDFRONT web ACL if needed.",
        )
        if web_acl_arn is None:
            acknowledge(
                distribution,
                "AwsSolutions-CFR2",
                "Every request CloudFront forwards passes the regional AWS WAF web ACL on the ALB (managed rule "
                "groups and a per-client rate rule on X-Forwarded-For); pass cloudfront_web_acl_arn to filter at "
                "the edge as well.",
            )
        acknowledge(
            distribution,
            "AwsSolutions-CFR3",
            "Every request CloudFront forwards is recorded in the ALB access logs, with the viewer address in "
            "X-Forwarded-For; CloudFront standard logs would need an ACL-enabled bucket.",
        )

    def _add_web_acl(self, rate_limit: int, count_only: Sequence[str], *, forwarded_ip: bool) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        rate_statement = wafv2.CfnWebACL.RateBasedStatementProperty(
            limit=rate_limit,
            evaluation_window_sec=300,
            aggregate_key_type="FORWARDED_IP" if forwarded_ip else "IP",
            forwarded_ip_config=(
                wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                    header_name="X-Forwarded-For", fallback_behavior="MATCH"
                )
                if forwarded_ip
                else None
            ),
        )
        # API Gateway routes a request carrying x-apigw-api-id to that private API whatever its Host
        # ("Invoke a private API", API Gateway developer guide); no client of the unified API needs it.
        api_id_header = wafv2.CfnWebACL.StatementProperty(
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
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="BlockApiIdHeader",
                priority=0,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=api_id_header,
                visibility_config=visibility("BlockApiIdHeader"),
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerClient",
                priority=1,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=rate_statement),
                visibility_config=visibility("RateLimitPerClient"),
            ),
        ]
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
                    visibility_config=visibility(group),
                )
            )
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("UnifiedApi"),
            rules=rules,
        )

    def _add_waf_logs(self, stack: Stack, retention: logs.RetentionDays, origin_header_name: str) -> logs.ILogGroup:
        """WAF request logs in CloudWatch Logs, with credentials and the origin secret redacted."""
        # WAF only delivers to log groups named aws-waf-logs-*, given by ARN without the ':*' suffix.
        name = f"aws-waf-logs-{Names.unique_id(self)}"
        log_group = logs.LogGroup(
            self, "WafLogs", log_group_name=name, retention=retention, removal_policy=RemovalPolicy.DESTROY
        )
        config = wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[
                stack.format_arn(
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
        return log_group

    def private_api_policy(self, *, stages: Sequence[str] | None = None) -> iam.PolicyDocument:
        """A resource policy that lets only calls through this construct's VPC endpoint invoke.

        Used for the private custom domain name; give it to every domain team's
        private REST API in the same app (``policy=`` of ``apigw.RestApi``), with
        ``stages`` set to the stage(s) that :meth:`add_domain` maps, so that no
        other stage of the API can be invoked even from inside the VPC. A domain
        API in another app uses :meth:`endpoint_policy` with the endpoint id from
        ``endpoint_id_parameter``.
        """
        return self.endpoint_policy(self.vpc_endpoint.vpc_endpoint_id, stages=stages)

    @staticmethod
    def endpoint_policy(endpoint_id: str, *, stages: Sequence[str] | None = None) -> iam.PolicyDocument:
        """A resource policy that lets only calls through the VPC endpoint ``endpoint_id`` invoke.

        With ``stages``, only those stages of the API may be invoked (``execute-api:/<stage>/*``);
        without, any stage.
        """
        if not Token.is_unresolved(endpoint_id) and not re.match(r"^vpce-[0-9a-f]{8,17}$", endpoint_id):
            raise ValueError(
                f"endpoint_id must be a VPC endpoint id such as vpce-0123456789abcdef0; got {endpoint_id!r}"
            )
        if stages is not None:
            stages = list(stages)
            if not stages or any(not isinstance(s, str) or not _STAGE_RE.match(s) for s in stages):
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

    @property
    def base_paths(self) -> list[str]:
        """The base paths mapped so far."""
        return list(self._base_paths)

    def add_domain(
        self, base_path: str, rest_api: apigw.IRestApi, *, stage: str | None = None
    ) -> apigw.CfnBasePathMappingV2:
        """Map ``https://<domain_name>/<base_path>/...`` to a domain team's private REST API.

        ``rest_api`` may come from another stack; ``stage`` defaults to its
        deployment stage. Its resource policy must admit this VPC endpoint (see
        :meth:`private_api_policy`).

        The mapping (``AWS::ApiGateway::BasePathMappingV2``) is created in the
        stack that holds ``rest_api``: for an API in a domain team's stack of the
        same app, that stack then references the platform's domain name (an
        export), so CloudFormation deploys the platform first and one
        ``cdk deploy --all`` works on a fresh account; the platform stack never
        depends on a domain stack. An imported API (``RestApi.from_rest_api_id``)
        is mapped in the stack that imports it.
        """
        if not isinstance(base_path, str) or not BASE_PATH_RE.match(base_path):
            raise ValueError(
                "base_path must be one path segment of letters, digits and $-_.+!*'() (private custom domain names "
                "take no multi-level or empty base paths); got " + repr(base_path)
            )
        if base_path.lower() in (p.lower() for p in self._base_paths):
            raise ValueError(f"base_path {base_path!r} is already mapped; mapped so far: {sorted(self._base_paths)}")
        if stage is None:
            try:
                stage = rest_api.deployment_stage.stage_name
            except (RuntimeError, AttributeError) as error:  # jsii raises RuntimeError for an imported API
                raise ValueError(
                    f"pass stage= for the REST API mapped at {base_path!r}: it has no deployment stage known to "
                    f"this app (an imported API); {error}"
                ) from None
        elif not _STAGE_RE.match(stage) and not Token.is_unresolved(stage):
            raise ValueError(f"stage must be a stage name of letters, digits, '-' and '_'; got {stage!r}")
        owner = Stack.of(rest_api)
        here = Stack.of(self)
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
        scope: Construct = self if same_stack else rest_api if isinstance(rest_api, Construct) else owner
        mapping = apigw.CfnBasePathMappingV2(
            scope,
            f"Mapping-{base_path}" if same_stack else f"UnifiedApiMapping-{base_path}",
            domain_name_arn=self.private_domain.attr_domain_name_arn,
            rest_api_id=rest_api.rest_api_id,
            stage=stage,
            base_path=base_path,
        )
        self._base_paths[base_path] = mapping
        return mapping
