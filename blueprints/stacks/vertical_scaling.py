"""Example deployment of :class:`VerticalScaling`, both modes and both kinds of trigger.

* A back-office instance is resized by **restart**: up at 08:00 and down at
  20:00 on weekdays (Europe/Paris), and up whenever its CPU alarm fires.
* A web instance behind an internal Application Load Balancer is resized by
  **replacement**: up when the load balancer's response time alarm fires,
  down at 22:00 every night (America/New_York).

Everything sits in a VPC with isolated subnets only: no NAT gateway, no
internet ingress, so the example costs little and opens nothing.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from blueprints.config import ExampleConfig
from blueprints.constructs.common import SecureBucket, flow_logged_vpc, log_alb_access_logs, skip_checkov
from blueprints.constructs.vertical_scaling import (
    AlarmTrigger,
    Direction,
    ReplacedInstanceAction,
    ResizeMode,
    ScheduleTrigger,
    VerticalScaling,
)
from blueprints.stacks.base import ExampleStack

EXAMPLE_STACKS = ("VerticalScaling",)
TAG_KEY = "VerticalScaling"
VPC_CIDR = "10.42.0.0/16"
LADDER = [("m7i.large", "m6i.large"), ("m7i.xlarge", "m6i.xlarge"), ("m7i.2xlarge", "m6i.2xlarge")]

_WEB_SERVER = """#!/bin/bash
cat > /etc/systemd/system/demo-web.service <<'UNIT'
[Unit]
Description=Demo web server
[Service]
ExecStart=/usr/bin/python3 -m http.server 80 --directory /usr/share/doc
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable --now demo-web
"""


class VerticalScalingStack(ExampleStack):
    """Two instances and the vertical scaling that resizes them."""

    def __init__(self, scope: Construct, id: str, **kwargs: object) -> None:
        """Build the example VPC, instances, ALB and both resizers.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            kwargs: Passed to the stack (``env``, ``stack_name``, ``description``...).
        """
        super().__init__(scope, id, **kwargs)  # type: ignore[arg-type]
        self.vpc, _ = flow_logged_vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            availability_zones=[cdk.Fn.select(0, cdk.Fn.get_azs()), cdk.Fn.select(1, cdk.Fn.get_azs())],
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
            flow_log_id="FlowLogs",
        )

        self.back_office = self._instance("BackOffice", "back-office")
        cpu = cloudwatch.Alarm(
            self,
            "BackOfficeCpuHigh",
            alarm_description="Back-office CPU above 80% for 15 minutes: move it one size up",
            metric=cloudwatch.Metric(
                namespace="AWS/EC2",
                metric_name="CPUUtilization",
                dimensions_map={"InstanceId": self.back_office.instance_id},
                period=Duration.minutes(5),
                statistic="Average",
            ),
            threshold=80,
            evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        paris = TimeZone.EUROPE_PARIS
        self.restart_scaling = VerticalScaling(
            self,
            "BackOfficeScaling",
            instance_sizes=LADDER,
            target_tag_key=TAG_KEY,
            target_tag_value="back-office",
            mode=ResizeMode.RESTART,
            schedules=[
                ScheduleTrigger(
                    Direction.UP,
                    scheduler.ScheduleExpression.cron(minute="0", hour="8", week_day="MON-FRI", time_zone=paris),
                    "Back office one size up for business hours",
                ),
                ScheduleTrigger(
                    Direction.DOWN,
                    scheduler.ScheduleExpression.cron(minute="0", hour="20", week_day="MON-FRI", time_zone=paris),
                    "Back office one size down after business hours",
                ),
            ],
            alarms=[AlarmTrigger(Direction.UP, cpu)],
        )

        self.web = self._instance("Web", "web")
        self.load_balancer, self.target_group = self._load_balancer(self.web)
        slow = cloudwatch.Alarm(
            self,
            "WebSlow",
            alarm_description="Web responses slower than 1 s on average for 10 minutes: move it one size up",
            metric=self.target_group.metrics.target_response_time(period=Duration.minutes(5)),
            threshold=1,
            evaluation_periods=2,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        )
        self.replace_scaling = VerticalScaling(
            self,
            "WebScaling",
            instance_sizes=LADDER,
            target_tag_key=TAG_KEY,
            target_tag_value="web",
            mode=ResizeMode.REPLACE,
            replaced_instance_action=ReplacedInstanceAction.STOP,
            target_groups=[self.target_group],
            instance_roles=[self.web.role],
            alarms=[AlarmTrigger(Direction.UP, slow)],
            schedules=[
                ScheduleTrigger(
                    Direction.DOWN,
                    scheduler.ScheduleExpression.cron(minute="0", hour="22", time_zone=TimeZone.AMERICA_NEW_YORK),
                    "Web one size down for the night",
                )
            ],
        )

    def _instance(self, id: str, role_tag: str) -> ec2.Instance:
        security_group = ec2.SecurityGroup(
            self, f"{id}Sg", vpc=self.vpc, description=f"{id} instance", allow_all_outbound=False
        )
        instance = ec2.Instance(
            self,
            id,
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            instance_type=ec2.InstanceType(LADDER[0][0]),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(cached_in_context=True),
            security_group=security_group,
            require_imdsv2=True,
            detailed_monitoring=True,
            disable_api_termination=True,
            user_data=ec2.UserData.custom(_WEB_SERVER),
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(16, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3),
                )
            ],
        )
        cdk.Tags.of(instance).add(TAG_KEY, role_tag)
        return instance

    def _load_balancer(self, web: ec2.Instance) -> tuple[elbv2.IApplicationLoadBalancer, elbv2.ApplicationTargetGroup]:
        # Access logs are audit records, and CloudFormation cannot delete a bucket that holds objects: retained
        # (with its own access-log bucket) rather than left to fail the stack's deletion.
        logs = SecureBucket(
            self,
            "LoadBalancerLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(365), noncurrent_version_expiration=Duration.days(30))
            ],
        )
        security_group = ec2.SecurityGroup(
            self, "LoadBalancerSg", vpc=self.vpc, description="Internal web load balancer", allow_all_outbound=False
        )
        security_group.add_ingress_rule(ec2.Peer.ipv4(VPC_CIDR), ec2.Port.tcp(80), "HTTP from the VPC")
        balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            vpc=self.vpc,
            internet_facing=False,
            security_group=security_group,
            drop_invalid_header_fields=True,
        )
        log_alb_access_logs(balancer, logs, "web")
        target_group = elbv2.ApplicationTargetGroup(
            self,
            "WebTargets",
            vpc=self.vpc,
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.INSTANCE,
            deregistration_delay=Duration.seconds(60),
            health_check=elbv2.HealthCheck(path="/", healthy_threshold_count=2, interval=Duration.seconds(10)),
        )
        target_group.add_target(elbv2_targets.InstanceTarget(web, 80))
        listener = balancer.add_listener("Http", port=80, open=False, default_target_groups=[target_group])
        skip_checkov(
            listener,
            ["CKV_AWS_2", "CKV_AWS_103"],
            "The example's internal load balancer in an isolated VPC (no internet gateway or NAT), admitted from "
            "the VPC's CIDR only, stands in for the post's web tier; HTTPS needs a certificate for a domain of "
            "the deployer's, so a real deployment adds an HTTPS listener with its own ACM certificate.",
        )
        web.connections.allow_from(balancer, ec2.Port.tcp(80), "HTTP from the load balancer")
        return balancer, target_group


def add_example(app: cdk.App, config: ExampleConfig) -> list[cdk.Stack]:
    """Add the ``VerticalScaling`` example stack."""
    stack = VerticalScalingStack(
        app,
        "VerticalScaling",
        env=cdk.Environment(account=config.account, region=config.region),
        description="Vertical scaling of EC2 instances by restart and by replacement (blueprints example)",
    )
    return [stack]
