"""Example deployment: a WebLogic admin server that keeps 10.0.11.8 across AZs, with its console behind an ALB."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct

from blueprints.config import ExampleConfig
from blueprints.constructs.weblogic_floating_ip import FloatingIpAdminServer

EXAMPLE_STACKS = ("WebLogicAdminHa",)

#: Context key for the ACM certificate of the admin console's HTTPS listener.
CERTIFICATE_CONTEXT_KEY = "weblogic:certificate_arn"
#: Context key for the network allowed to reach the console (one IPv4 CIDR).
CONSOLE_CIDR_CONTEXT_KEY = "weblogic:console_cidr"
#: A certificate ARN that cannot exist (all-zero ID): replace it with
#: ``-c weblogic:certificate_arn=arn:aws:acm:...`` before deploying.
PLACEHOLDER_CERTIFICATE_ID = "00000000-0000-0000-0000-000000000000"
#: TEST-NET-3 (RFC 5737), a documentation range: replace it with your network.
PLACEHOLDER_CONSOLE_CIDR = "203.0.113.0/24"


#: How many of the Region's Availability Zones the example VPC spans.
EXAMPLE_AZ_COUNT = 2


class WebLogicAdminHaStack(cdk.Stack):
    """A VPC in two AZs with the /28 floating subnet, the admin server group and the console ALB.

    The AZs are the Region's first two, chosen by CloudFormation (``Fn::GetAZs``)
    at deploy time: synthesis looks nothing up and the template names no AZ.
    """

    @property
    def availability_zones(self) -> list[str]:
        return [cdk.Fn.select(index, cdk.Fn.get_azs()) for index in range(EXAMPLE_AZ_COUNT)]

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        certificate_arn: str,
        console_cidr: str,
        **kwargs: object,
    ) -> None:
        """Build the example VPC and admin server with its console.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            certificate_arn: ACM certificate of the console's HTTPS listener.
                Required.
            console_cidr: The one network allowed to reach the console.
                Required.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        certificate = acm.Certificate.from_certificate_arn(self, "ConsoleCertificate", certificate_arn)
        self.admin_server = FloatingIpAdminServer(
            self,
            "AdminServer",
            vpc_cidr="10.0.0.0/16",
            floating_subnet_cidr="10.0.11.0/28",
            floating_ip="10.0.11.8",
            console_certificate=certificate,
            console_ingress_cidrs=[console_cidr],
        )
        cdk.CfnOutput(self, "FloatingIp", value=self.admin_server.floating_ip)
        cdk.CfnOutput(self, "NotificationTopicArn", value=self.admin_server.notification_topic.topic_arn)
        if self.admin_server.load_balancer is not None:
            cdk.CfnOutput(
                self, "ConsoleUrl", value=f"https://{self.admin_server.load_balancer.load_balancer_dns_name}/console"
            )


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    """Add the ``WebLogicAdminHa`` example stack."""
    certificate_arn = str(
        app.node.try_get_context(CERTIFICATE_CONTEXT_KEY)
        or f"arn:aws:acm:{config.region}:{config.account}:certificate/{PLACEHOLDER_CERTIFICATE_ID}"
    )
    if not certificate_arn.startswith("arn:aws") or ":acm:" not in certificate_arn:
        raise ValueError(
            f"context key {CERTIFICATE_CONTEXT_KEY!r} must be an ACM certificate ARN such as "
            f"arn:aws:acm:{config.region}:{config.account}:certificate/<id>; got {certificate_arn!r}"
        )
    console_cidr = str(app.node.try_get_context(CONSOLE_CIDR_CONTEXT_KEY) or PLACEHOLDER_CONSOLE_CIDR)
    stack = WebLogicAdminHaStack(
        app,
        "WebLogicAdminHa",
        env=cdk.Environment(account=config.account, region=config.region),
        description="WebLogic admin server HA: floating IP in a /28, one-instance ASG, route-moving lifecycle hook",
        certificate_arn=certificate_arn,
        console_cidr=console_cidr,
    )
    return [stack]
