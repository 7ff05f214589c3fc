"""``UnifiedApi``: the construct, assembled from the package's parts in the order they depend on each other
(network and endpoint, deploy-time lookups, entry, edge, WAF, the private domain name, DNS)."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import CustomResource, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cf
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct

from blueprints.constructs.common import PythonHandler, explain_zone_lookup
from blueprints.constructs.unified_api import domain, edge, entry, lookups, network, waf
from blueprints.constructs.unified_api.options import validate_arguments


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
            lookup_provider (cr.Provider)
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
        validate_arguments(
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
        endpoint, endpoint_count, load_balancer_selection = self._network(
            vpc,
            availability_zones=availability_zones,
            log_retention=log_retention,
            endpoint_subnets=endpoint_subnets,
            load_balancer_subnets=load_balancer_subnets,
            private_dns_enabled=private_dns_enabled,
            endpoint_id_parameter=endpoint_id_parameter,
        )

        # Deploy-time facts: the endpoint's ENI IPs (and CloudFront's prefix list id).
        self.lookup_function: PythonHandler
        self.lookup_provider: cr.Provider
        self.lookup_function, self.lookup_provider = lookups.create_lookups(
            self, log_retention=log_retention, cloudfront=cloudfront
        )
        self.endpoint_ips: CustomResource = lookups.resolve_endpoint_ips(
            self, self.lookup_provider, endpoint, endpoint_count
        )
        self.target_group: elbv2.IApplicationTargetGroup = lookups.create_endpoint_targets(
            self, self.vpc, self.endpoint_ips, endpoint_count, health_check_codes
        )

        # Entry: certificate, ALB, listeners, access logs.
        self.certificate: acm.ICertificate = certificate or entry.create_certificate(self, domain_name, hosted_zone)
        self.access_logs_bucket: s3.IBucket = access_logs_bucket or entry.create_access_logs_bucket(self)
        alb = entry.create_load_balancer(
            self, self.vpc, load_balancer_selection, self.load_balancer_security_group, self.access_logs_bucket
        )
        self.load_balancer: elbv2.IApplicationLoadBalancer = alb
        self.https_listener: elbv2.IApplicationListener = entry.add_https_listener(alb, self.certificate, ssl_policy)

        # Edge: either the ALB itself, open to the internet, or CloudFront in front of it.
        self._edge(
            alb,
            cloudfront=cloudfront,
            domain_name=domain_name,
            certificate=cloudfront_certificate or self.certificate,
            web_acl_arn=cloudfront_web_acl_arn,
            header_name=origin_header_name,
        )

        self.web_acl: wafv2.CfnWebACL = waf.create_web_acl(
            self, rate_limit, common_rule_set_count_only, forwarded_ip=cloudfront
        )
        waf.associate_web_acl(self, alb, self.web_acl)
        self.waf_logs: logs.ILogGroup | None = (
            waf.create_waf_logs(self, self.web_acl, log_retention, origin_header_name) if waf_logs else None
        )

        # API Gateway: the private custom domain name, reachable through this endpoint only.
        self._private_domain(endpoint, domain_name)

        # DNS: the API host name points at CloudFront or at the ALB.
        self.record: route53.IRecordSet | None = (
            edge.create_alias_records(self, hosted_zone, domain_name, distribution=self.distribution, alb=alb)
            if hosted_zone is not None
            else None
        )

    def _network(
        self,
        vpc: ec2.IVpc | None,
        *,
        availability_zones: Sequence[str] | None,
        log_retention: logs.RetentionDays,
        endpoint_subnets: ec2.SubnetSelection | None,
        load_balancer_subnets: ec2.SubnetSelection | None,
        private_dns_enabled: bool,
        endpoint_id_parameter: str | None,
    ) -> tuple[ec2.InterfaceVpcEndpoint, int, ec2.SubnetSelection]:
        """The VPC (with its flow logs when created), the security groups and the execute-api endpoint; returns the
        endpoint, its number of subnets and where the load balancer goes."""
        creates_vpc = vpc is None
        self.vpc: ec2.IVpc
        self.flow_logs: logs.ILogGroup | None
        self.vpc, self.flow_logs = (
            network.create_vpc(self, availability_zones, log_retention) if vpc is None else (vpc, None)
        )
        explain_zone_lookup(self, self.vpc, created=creates_vpc)
        endpoint_selection, load_balancer_selection = network.subnet_selections(
            creates_vpc=creates_vpc, endpoint_subnets=endpoint_subnets, load_balancer_subnets=load_balancer_subnets
        )
        selected = network.select_endpoint_subnets(self.vpc, endpoint_selection)
        endpoint_count = len(selected.subnet_ids)
        self.load_balancer_security_group: ec2.ISecurityGroup
        self.endpoint_security_group: ec2.ISecurityGroup
        self.load_balancer_security_group, self.endpoint_security_group = network.create_security_groups(self, self.vpc)
        endpoint = network.create_endpoint(
            self, self.vpc, selected, self.endpoint_security_group, private_dns_enabled=private_dns_enabled
        )
        self.vpc_endpoint: ec2.IInterfaceVpcEndpoint = endpoint
        self.endpoint_id_parameter: ssm.IStringParameter | None = (
            network.publish_endpoint_id(self, endpoint, endpoint_id_parameter)
            if endpoint_id_parameter is not None
            else None
        )
        return endpoint, endpoint_count, load_balancer_selection

    def _edge(
        self,
        alb: elbv2.ApplicationLoadBalancer,
        *,
        cloudfront: bool,
        domain_name: str,
        certificate: acm.ICertificate,
        web_acl_arn: str | None,
        header_name: str,
    ) -> None:
        """CloudFront in front of the ALB (and the ALB open to CloudFront only), or the ALB open to the internet."""
        self.distribution: cf.IDistribution | None = None
        self.origin_secret: secretsmanager.ISecret | None = None
        if cloudfront:
            self.distribution, self.origin_secret = edge.add_cloudfront(
                self,
                prefix_list_id=lookups.cloudfront_prefix_list_id(self, self.lookup_provider),
                security_group=self.load_balancer_security_group,
                listener=self.https_listener,
                target_group=self.target_group,
                alb=alb,
                domain_name=domain_name,
                certificate=certificate,
                web_acl_arn=web_acl_arn,
                header_name=header_name,
            )
        else:
            entry.forward_api_host(self.https_listener, domain_name, self.target_group)
            entry.open_to_internet(alb, self.load_balancer_security_group)

    def _private_domain(self, endpoint: ec2.InterfaceVpcEndpoint, domain_name: str) -> None:
        """The private custom domain name, the endpoint's policy limited to it, and their access association."""
        self.private_domain: apigw.CfnDomainNameV2 = domain.create_private_domain(
            self, domain_name, self.certificate, self.private_api_policy()
        )
        self.endpoint_domain_arn_pattern: str = domain.endpoint_domain_arn_pattern(Stack.of(self), domain_name)
        domain.restrict_endpoint_to_domain(endpoint, self.endpoint_domain_arn_pattern)
        self.access_association: apigw.CfnDomainNameAccessAssociation = domain.associate_endpoint(
            self, endpoint, self.private_domain
        )

    @property
    def connections(self) -> ec2.Connections:
        """The load balancer's security group, default port 443: ``connections.allow_from(peer)`` lets a client
        reach the entry (the construct itself opens it to the internet in ALB mode, to CloudFront otherwise)."""
        return ec2.Connections(security_groups=[self.load_balancer_security_group], default_port=ec2.Port.tcp(443))

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
        return domain.endpoint_policy(endpoint_id, stages=stages)

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
        domain.check_base_path(base_path, self._base_paths)
        mapping = domain.create_mapping(
            self,
            rest_api,
            base_path=base_path,
            stage=domain.mapping_stage(base_path, rest_api, stage),
            domain_name_arn=self.private_domain.attr_domain_name_arn,
        )
        self._base_paths[base_path] = mapping
        return mapping
