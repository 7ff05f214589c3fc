"""Example deployment of the unified API: the public entry and two small domain APIs behind it.

Context keys (``-c key=value``), each with a placeholder default so that the
example synthesizes with no AWS account and no lookups:

- ``unified_api:domain_name``: the API host name (default ``api.example.com``)
- ``unified_api:hosted_zone_id`` / ``unified_api:hosted_zone_name``: the public
  Route 53 zone that holds it (default ``Z0123456789EXAMPLE`` / ``example.com``);
  the certificate is DNS-validated in it and the alias record is created in it
- ``unified_api:availability_zones``: comma-separated AZ names (default the
  Region's ``a``, ``b`` and ``c`` zones)
- ``unified_api:cloudfront``: ``true`` to put CloudFront in front (default ``false``)
- ``unified_api:set_apigateway_account_role``: ``true`` (default) to set the Region's API
  Gateway account setting to a CloudWatch Logs role this stack creates (and retains);
  ``false`` where the account already manages that setting

A stage with access logging (or execution logging) can only be created once the
Region's API Gateway account settings hold a CloudWatch Logs role; otherwise
CloudFormation fails with ``CloudWatch Logs role ARN must be set in account
settings to enable logging``. That setting is one per account and Region, so the
example stack sets it (the ``UnifiedApi`` construct never does) and every domain
API stage waits for it.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from constructs import Construct, IDependable

from blueprints.config import ExampleConfig
from blueprints.constructs.common import acknowledge, skip_checkov
from blueprints.constructs.unified_api import UnifiedApi
from blueprints.stacks.base import ExampleStack

EXAMPLE_STACKS = ("UnifiedApi",)

CONTEXT_DEFAULTS = {
    "unified_api:domain_name": "api.example.com",
    "unified_api:hosted_zone_id": "Z0123456789EXAMPLE",
    "unified_api:hosted_zone_name": "example.com",
    "unified_api:availability_zones": "",
    "unified_api:cloudfront": "false",
    "unified_api:set_apigateway_account_role": "true",
}
#: Where the example publishes the endpoint id for domain APIs deployed from other stacks.
ENDPOINT_ID_PARAMETER = "/blueprints/unified-api/vpc-endpoint-id"
#: The example business domains: base path -> what its mock API answers.
EXAMPLE_DOMAINS = {"orders": "Orders domain", "catalog": "Catalog domain"}
#: The one stage of each example domain API, the one mapped; its resource policy admits no other.
STAGE = "v1"


def _context(scope: Construct, key: str) -> str:
    value = scope.node.try_get_context(key)
    return CONTEXT_DEFAULTS[key] if value is None else str(value)


def _flag(scope: Construct, key: str) -> bool:
    value = _context(scope, key).lower()
    if value not in ("true", "false"):
        raise ValueError(f"context key {key!r} must be true or false; got {value!r}")
    return value == "true"


#: The AWS managed policy AWS documents for the API Gateway CloudWatch Logs role.
PUSH_TO_CLOUDWATCH_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class ApiGatewayCloudWatchRole(Construct):
    """The Region's API Gateway account setting: the role API Gateway uses to write CloudWatch logs.

    API Gateway refuses a stage with access or execution logging until its
    account settings hold such a role. The setting is one per account and
    Region (``AWS::ApiGateway::Account``): two stacks that both set it overwrite
    each other, so only one stack per account and Region should contain this.
    Deleting the ``AWS::ApiGateway::Account`` resource leaves the setting in
    place, so the role is retained: the setting never points at a deleted role.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway account setting: writes the Region's API access and execution logs",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_CLOUDWATCH_LOGS)],
        )
        role.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
        self.role: iam.IRole = role
        self.account = apigw.CfnAccount(self, "Account", cloud_watch_role_arn=role.role_arn)
        acknowledge(
            role,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{PUSH_TO_CLOUDWATCH_LOGS}]",
            "The policy AWS documents for API Gateway's CloudWatch Logs role, kept current by AWS. The role is "
            "the account-wide setting for every API in the Region, writing to log groups each API chooses, so "
            "its log permissions cannot be narrowed to this stack's groups; only apigateway.amazonaws.com may "
            "assume it.",
        )


class DomainApi(Construct):
    """A small private REST API standing in for a domain team's API.

    ``GET /`` and ``GET /items`` answer from a mock integration; the stage has
    throttling, access logs, and X-Ray tracing. The resource policy admits only
    the unified API's VPC endpoint, and only for the mapped stage. Access
    logging needs the Region's API Gateway CloudWatch Logs role: pass what sets
    it as ``logging_role_setting`` so that the stage waits for it.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        unified: UnifiedApi,
        title: str,
        logging_role_setting: IDependable | None = None,
    ) -> None:
        """Build the mock API and map it on ``unified``.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            unified: The unified API whose endpoint may call this API.
                Required.
            title: The API's name and the text its mock integration answers with.
                Required.
            logging_role_setting: What sets the Region's API Gateway CloudWatch Logs role; the stage waits for it.
                Default: ``None``.

        Attributes:
            access_logs (logs.LogGroup)
            api (apigw.RestApi)
        """
        super().__init__(scope, id)
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.THREE_MONTHS)
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=f"{title} API",
            description=f"{title}: a private API behind the unified API",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.PRIVATE]),
            policy=unified.private_api_policy(stages=[STAGE]),
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=100,
                throttling_burst_limit=200,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        if logging_role_setting is not None:
            self.api.deployment_stage.node.add_dependency(logging_role_setting)
        validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        body = json.dumps({"domain": title, "path": "$context.resourcePath"})
        integration = apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 200}'},
            integration_responses=[
                apigw.IntegrationResponse(status_code="200", response_templates={"application/json": body})
            ],
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
        )
        responses = [apigw.MethodResponse(status_code="200")]
        self.api.root.add_method("GET", integration, request_validator=validator, method_responses=responses)
        self.api.root.add_resource("items").add_method(
            "GET", integration, request_validator=validator, method_responses=responses
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG4",
            "Example domain API answering static mock data; each domain team chooses its own authorizer "
            "(Cognito, Lambda or IAM), and the unified entry does not authenticate on their behalf.",
            checkov=["CKV_AWS_59"],
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "Example domain API answering static mock data; each domain team chooses its own authorizer.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "A private API, reachable only through the unified API's VPC endpoint, behind the ALB whose "
            "regional AWS WAF web ACL inspects every request; a second web ACL here would inspect them twice.",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG6",
            "Execution logs go to log groups API Gateway creates itself (API-Gateway-Execution-Logs_<api>/<stage>), "
            "which no stack owns, never expire and outlive the API; this mock API's stage records every request in "
            "JSON access logs (a log group with three months' retention) and X-Ray traces instead.",
        )
        skip_checkov(
            self.api,
            ["CKV_AWS_120"],
            "Example domain API answering static mock data from a mock integration: a stage cache would hold "
            "nothing worth keeping and bill by the hour; each domain team sizes its own cache.",
        )
        skip_checkov(
            self.access_logs,
            ["CKV_AWS_158"],
            "JSON access logs of a mock API: method, path, status, length, time and client IP (caller and user "
            "left out), which CloudWatch Logs encrypts at rest; the data does not warrant a customer managed key.",
        )


class UnifiedApiStack(ExampleStack):
    """The unified API with two domain APIs mapped at ``/orders`` and ``/catalog``."""

    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        """Build the example unified API and its two domain APIs.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        zones = _context(self, "unified_api:availability_zones")
        availability_zones = [z.strip() for z in zones.split(",") if z.strip()] or [
            f"{self.region}{suffix}" for suffix in ("a", "b", "c")
        ]
        cloudfront = _flag(self, "unified_api:cloudfront")
        set_account_role = _flag(self, "unified_api:set_apigateway_account_role")
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self,
            "Zone",
            hosted_zone_id=_context(self, "unified_api:hosted_zone_id"),
            zone_name=_context(self, "unified_api:hosted_zone_name"),
        )
        self.unified = UnifiedApi(
            self,
            "UnifiedApi",
            domain_name=_context(self, "unified_api:domain_name"),
            hosted_zone=zone,
            availability_zones=availability_zones,
            cloudfront=cloudfront,
            endpoint_id_parameter=ENDPOINT_ID_PARAMETER,
        )
        # The Region's API Gateway CloudWatch Logs role, which every stage with access logging needs.
        self.cloudwatch_role: ApiGatewayCloudWatchRole | None = (
            ApiGatewayCloudWatchRole(self, "ApiGatewayCloudWatchRole") if set_account_role else None
        )
        setting = self.cloudwatch_role.account if self.cloudwatch_role is not None else None
        self.domains: dict[str, DomainApi] = {}
        for base_path, title in EXAMPLE_DOMAINS.items():
            domain = DomainApi(self, base_path.title(), unified=self.unified, title=title, logging_role_setting=setting)
            self.unified.add_domain(base_path, domain.api)
            self.domains[base_path] = domain
        cdk.CfnOutput(self, "ApiUrl", value=f"https://{self.unified.domain_name}/")
        cdk.CfnOutput(self, "LoadBalancerDns", value=self.unified.load_balancer.load_balancer_dns_name)


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    """Add the ``UnifiedApi`` example stack."""
    stack = UnifiedApiStack(
        app,
        "UnifiedApi",
        env=cdk.Environment(account=config.account, region=config.region),
        description="Unified API: ALB + WAF in front of private API Gateway APIs, one per business domain",
    )
    return [stack]
