"""The optional admin console entry: an internet-facing ALB whose one IP target is the floating IP, for the
allowed networks only, and the alarm on its health. Every resource is created in the construct's own scope."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from blueprints.constructs.common import UNVERSIONED_LOGS, SecureBucket, log_alb_access_logs, skip_checkov
from blueprints.constructs.weblogic_floating_ip.network import CONSOLE_SUBNETS


class Console(NamedTuple):
    """What :func:`create_console` built."""

    load_balancer: elbv2.IApplicationLoadBalancer
    target_group: elbv2.IApplicationTargetGroup
    listener: elbv2.IApplicationListener
    access_logs_bucket: SecureBucket
    unhealthy_alarm: cloudwatch.IAlarm


def create_console(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    admin_security_group: ec2.ISecurityGroup,
    floating_subnet: ec2.ISubnet,
    floating_ip: str,
    admin_port: int,
    topic: sns.ITopic,
    certificate: acm.ICertificate,
    ingress_cidrs: Sequence[str],
    health_check_path: str,
    target_protocol: elbv2.ApplicationProtocol,
) -> Console:
    """The ALB (HTTPS from ``ingress_cidrs``, access logs), its IP target group and listener, and the alarm."""
    alb_security_group = _console_security_group(scope, vpc, ingress_cidrs, floating_ip, admin_port)
    admin_security_group.add_ingress_rule(
        alb_security_group, ec2.Port.tcp(admin_port), "Console load balancer reaches the admin server"
    )
    access_logs_bucket = SecureBucket(
        scope, "ConsoleAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, versioned=False
    )
    skip_checkov(access_logs_bucket, ["CKV_AWS_21"], UNVERSIONED_LOGS)
    load_balancer = elbv2.ApplicationLoadBalancer(
        scope,
        "Console",
        vpc=vpc,
        internet_facing=True,
        vpc_subnets=CONSOLE_SUBNETS,
        security_group=alb_security_group,
        drop_invalid_header_fields=True,
    )
    log_alb_access_logs(load_balancer, access_logs_bucket, "console")
    target_group = _console_targets(scope, vpc, floating_ip, admin_port, health_check_path, target_protocol)
    # ELB finds the target's AZ from the subnet that holds the IP: register only once it exists.
    target_group.node.add_dependency(floating_subnet)
    listener = load_balancer.add_listener(
        "Https",
        port=443,
        protocol=elbv2.ApplicationProtocol.HTTPS,
        certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
        ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
        open=False,
        default_target_groups=[target_group],
    )
    alarm = _unhealthy_console_alarm(scope, target_group, topic)
    return Console(load_balancer, target_group, listener, access_logs_bucket, alarm)


def _console_security_group(
    scope: Construct, vpc: ec2.IVpc, ingress_cidrs: Sequence[str], floating_ip: str, admin_port: int
) -> ec2.SecurityGroup:
    group = ec2.SecurityGroup(
        scope,
        "ConsoleSecurityGroup",
        vpc=vpc,
        description="WebLogic admin console load balancer: HTTPS from the allowed networks",
        allow_all_outbound=False,
    )
    for cidr in ingress_cidrs:
        group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"Admin console from {cidr}")
    group.add_egress_rule(
        ec2.Peer.ipv4(f"{floating_ip}/32"), ec2.Port.tcp(admin_port), "Admin server on the floating IP"
    )
    return group


def _console_targets(
    scope: Construct,
    vpc: ec2.IVpc,
    floating_ip: str,
    admin_port: int,
    health_check_path: str,
    target_protocol: elbv2.ApplicationProtocol,
) -> elbv2.ApplicationTargetGroup:
    return elbv2.ApplicationTargetGroup(
        scope,
        "ConsoleTargets",
        vpc=vpc,
        target_type=elbv2.TargetType.IP,
        protocol=target_protocol,
        port=admin_port,
        # No Availability Zone: the floating IP is inside the VPC, so ELB takes the floating
        # subnet's AZ (and refuses "all" for it). With cross-zone load balancing, always on for
        # an ALB, every node sends to it, and the moved route takes it to the admin server.
        targets=[elbv2_targets.IpTarget(floating_ip, admin_port)],
        deregistration_delay=Duration.seconds(30),
        health_check=elbv2.HealthCheck(
            path=health_check_path,
            healthy_http_codes="200-399",
            interval=Duration.seconds(15),
            timeout=Duration.seconds(5),
            healthy_threshold_count=2,
            unhealthy_threshold_count=3,
        ),
    )


def _unhealthy_console_alarm(
    scope: Construct, target_group: elbv2.ApplicationTargetGroup, topic: sns.ITopic
) -> cloudwatch.IAlarm:
    # The group's EC2 health check cannot see WebLogic; the console's target can.
    # Five minutes without a healthy target outlasts a normal failover's route move.
    alarm = cloudwatch.Alarm(
        scope,
        "ConsoleUnhealthyAlarm",
        alarm_description="The WebLogic admin server has not answered its health check on the floating IP "
        "for five minutes (boot failure, WebLogic down, or a failover still in progress)",
        metric=target_group.metrics.healthy_host_count(period=Duration.minutes(1), statistic="Maximum"),
        threshold=1,
        evaluation_periods=5,
        comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
    )
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    alarm.add_ok_action(cloudwatch_actions.SnsAction(topic))
    return alarm
