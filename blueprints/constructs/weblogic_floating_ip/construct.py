"""``FloatingIpAdminServer``: the construct, assembled from the package's parts in the order they depend on
each other (network, key and topic, security groups, domain home, instance, route mover, group, console)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import Duration, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import PythonHandler, SecureBucket, explain_zone_lookup
from blueprints.constructs.weblogic_floating_ip import instance, network, notifications
from blueprints.constructs.weblogic_floating_ip.boot import admin_boot_script
from blueprints.constructs.weblogic_floating_ip.console import create_console
from blueprints.constructs.weblogic_floating_ip.options import (
    LIFECYCLE_HOOK_NAME,
    validate_arguments,
    validate_floating_address,
)
from blueprints.constructs.weblogic_floating_ip.route_mover import (
    ROUTE_MOVER_METRICS,
    ROUTE_MOVER_SERVICE,
    create_launch_handling,
)


@jsii.implements(ec2.IConnectable)
class FloatingIpAdminServer(Construct):
    """A single WebLogic admin server reachable at one private IP in any AZ.

    Builds (or uses) a VPC across at least two AZs, a /28 subnet that holds only
    the floating IP, an encrypted EFS domain home, a one-instance Auto Scaling
    group with the launch lifecycle hook in the group itself, the EventBridge
    rule and function that move the /28 route to each new instance (and tag it,
    which is what its boot script waits for before starting WebLogic), failure
    notifications on an encrypted SNS topic, and (when a certificate is given)
    an internet-facing ALB whose IP target is the floating IP, enabled in the
    floating subnet's AZ.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc | None = None,
        availability_zones: Sequence[str] | None = None,
        vpc_cidr: str = "10.0.0.0/16",
        floating_subnet_cidr: str = "10.0.11.0/28",
        floating_ip: str | None = None,
        admin_subnets: ec2.SubnetSelection | None = None,
        route_table_ids: Sequence[str] | None = None,
        instance_type: ec2.InstanceType | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_device_name: str = "/dev/xvda",
        root_volume_size_gib: int = 30,
        admin_port: int = 7001,
        start_command: str | None = None,
        run_as_user: str = "ec2-user",
        file_system: efs.IFileSystem | None = None,
        mount_point: str = "/mnt/efs",
        encryption_key: kms.IKey | None = None,
        managed_server_security_group: ec2.ISecurityGroup | None = None,
        notification_topic: sns.ITopic | None = None,
        heartbeat_timeout: Duration = Duration.minutes(5),
        console_certificate: acm.ICertificate | None = None,
        console_ingress_cidrs: Sequence[str] = (),
        health_check_path: str = "/console/login/LoginForm.jsp",
        console_target_protocol: elbv2.ApplicationProtocol = elbv2.ApplicationProtocol.HTTP,
        route_mover_code: lambda_.Code | None = None,
    ) -> None:
        """Build the one-instance group, its floating IP route, file system, route mover and console.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            vpc: An existing VPC. Its public, private and isolated subnets' route tables get the /28 route unless
                ``route_table_ids`` is given.
                Default: created.
            availability_zones: Only when the VPC is created; at least two. In an environment-specific stack, naming AZs
                makes CDK look the Region's AZs up; override the stack's ``availability_zones`` (as the example does) to
                avoid that.
                Default: two of the stack's AZs.
            vpc_cidr: Only when the VPC is created. Subnets are /24s from the start of the range.
                Default: ``10.0.0.0/16``.
            floating_subnet_cidr: Must be a private /28 inside the VPC CIDR (checked when the CIDR is known at
                synthesis) and overlap no subnet. Changing it replaces the floating subnet and changes the admin
                server's address (see *Moving the floating subnet*).
                Default: ``10.0.11.0/28``.
            floating_ip: Must be in the /28 and not one of the five addresses AWS reserves (network, +1 router, +2 DNS,
                +3 future use, broadcast).
                Default: the 8th address of the /28.
            admin_subnets: Where the group launches; must span at least two AZs. The floating subnet is created in the
                first of their AZs (the route works from any AZ: the subnet holds no instance). With the console ALB, it
                is the first of their AZs in which the ALB is enabled (the VPC's public subnets), or else one of the
                ALB's AZs: Elastic Load Balancing places the floating IP target in the floating subnet's AZ, and sends
                nothing to a target in an AZ the load balancer is not enabled in. A change here (or to the VPC's public
                subnets, with the console) can move the floating subnet to another AZ, which needs a new
                ``floating_subnet_cidr``: see *Moving the floating subnet*.
                Default: private subnets with egress.
            route_table_ids: The tables that must carry the /28 route: those of every subnet from which clients (managed
                servers, ALB nodes) reach the floating IP.
                Default: every public, private and isolated route table of the VPC.
            instance_type: The admin server's instance type.
                Default: ``m7i.large``.
            machine_image: The user data needs ``dnf``, ``systemd``, ``curl``, the ``amazon-efs-utils`` package (in the
                AL2023 repositories), and systemd-networkd managing the primary interface with amazon-ec2-net-utils'
                ``70-<interface>.network`` (as on AL2023): the floating IP is declared to it (see the choices below).
                Default: latest Amazon Linux 2023 (x86_64, via SSM parameter at deploy time).
            root_device_name: The image's root device. The root volume is gp3 and encrypted (AWS managed key: the group
                launches it, and a customer managed key would need the Auto Scaling service-linked role in its policy).
                Default: ``/dev/xvda``.
            root_volume_size_gib: Size of the root volume in GiB.
                Default: 30.
            admin_port: The admin server's port, for the managed servers, the ALB target and the health check.
                Default: 7001.
            start_command: Runs in the foreground as ``run_as_user`` under systemd (``weblogic-admin.service``,
                restarted on failure and after reboots).
                Default:
                ``<mount_point>/wls/fmw/install/Oracle/Middleware/Oracle_Home/user_projects/domains/domain1/bin/startWebLogic.sh``
                (the post's).
            run_as_user: Any non-root user that exists on the image.
                Default: ``ec2-user``.
            file_system: Encrypted EFS (customer managed KMS key), elastic throughput, automatic backups, retained on
                delete, policy denying non-TLS access; mount targets in ``admin_subnets``.
                Default: created.
            mount_point: Where the instance mounts the file system.
                Default: ``/mnt/efs``.
            encryption_key: Encrypts the file system and the topic. The construct lets EventBridge and CloudWatch (this
                account) use it to publish to the topic (see *Resource policies* below); a key it cannot modify
                (imported) must already allow that. **Fixed at the first deployment** when the construct creates the
                file system: an EFS file system's KMS key cannot change, so passing or changing ``encryption_key`` later
                replaces the file system with an empty one (the old one is retained, orphaned) and the admin server
                boots on an empty domain home. Run ``cdk diff`` first; to change keys, pass the existing file system as
                ``file_system``.
                Default: created (rotation on, retained).
            managed_server_security_group: Gets the admin port on the floating IP (an egress rule is added when a group
                passed in restricts outbound traffic).
                Default: created.
            notification_topic: Receives abandoned launches, heartbeat timeouts, the DLQ alarm, and every
                launch/terminate of the group. The construct adds the publish grants of *Resource policies* below to the
                topic's policy; an imported topic must already allow them (and its key must let both services use it).
                Default: created (KMS, TLS-only).
            heartbeat_timeout: 30 s to 2 h. The route mover's heartbeat restarts it, so a retried invocation gets a full
                timeout again; the instance waits twice this plus two minutes for the route mover's tag, then gives up
                without starting WebLogic.
                Default: 5 minutes.
            console_certificate: With it, the construct builds the internet-facing ALB, its HTTPS listener, and the IP
                target group. The ALB's access logs need the stack's Region, so the stack must have ``env`` with a
                Region.
                Default: none (no ALB).
            console_ingress_cidrs: Required with ``console_certificate``; ``0.0.0.0/0`` is refused.
                Default: none.
            health_check_path: Healthy on HTTP 200-399. (WebLogic 14.1.2 and later have no built-in console: use a path
                your domain serves.).
                Default: ``/console/login/LoginForm.jsp``.
            console_target_protocol: ``HTTPS`` makes the ALB speak TLS to WebLogic too (set ``admin_port`` to the admin
                server's SSL listen port, e.g. 7002); the ALB does not validate the server's certificate, so a
                self-signed one works.
                Default: ``HTTP``.
            route_mover_code: Your own ``lambda_.Code`` for the route mover. It must keep the contract the instance
                relies on: tag the instance ``ROUTE_TAG_KEY=ROUTE_TAG_VALUE`` (environment variables;
                ``weblogic-floating-route=moved``) only after every route points at it and before completing with
                ``CONTINUE``, or WebLogic never starts.
                Default: ``blueprints/lambdas/weblogic_floating_ip_route_mover``.

        Attributes:
            floating_ip (str)
            floating_subnet_cidr (str)
            admin_port (int)
            lifecycle_hook_name (str)
            vpc (ec2.IVpc)
            floating_subnet (ec2.ISubnet)
            route_table_ids (list[str])
            encryption_key (kms.IKey)
            notification_topic (sns.ITopic)
            security_group (ec2.ISecurityGroup)
            managed_server_security_group (ec2.ISecurityGroup)
            file_system (efs.IFileSystem)
            role (iam.IRole)
            user_data_script (str)
            launch_template (ec2.ILaunchTemplate)
            route_mover (PythonHandler)
            route_mover_function (lambda_.IFunction)
            dead_letter_queue (sqs.IQueue)
            launch_rule (events.IRule)
            scaling_events_rule (events.IRule)
            dead_letter_alarm (cloudwatch.IAlarm)
            auto_scaling_group (autoscaling.IAutoScalingGroup)
            load_balancer (elbv2.IApplicationLoadBalancer | None)
            target_group (elbv2.IApplicationTargetGroup | None)
            listener (elbv2.IApplicationListener | None)
            access_logs_bucket (SecureBucket | None)
            unhealthy_console_alarm (cloudwatch.IAlarm | None)
        """
        super().__init__(scope, id)
        stack = Stack.of(self)
        floating_network, address = validate_floating_address(floating_subnet_cidr, floating_ip)
        validate_arguments(
            stack=stack,
            vpc=vpc,
            availability_zones=availability_zones,
            vpc_cidr=vpc_cidr,
            network=floating_network,
            admin_port=admin_port,
            run_as_user=run_as_user,
            mount_point=mount_point,
            start_command=start_command,
            heartbeat_timeout=heartbeat_timeout,
            console_certificate=console_certificate,
            console_ingress_cidrs=console_ingress_cidrs,
            health_check_path=health_check_path,
            console_target_protocol=console_target_protocol,
            root_volume_size_gib=root_volume_size_gib,
            route_table_ids=route_table_ids,
        )
        self.floating_ip: str = address
        self.floating_subnet_cidr: str = str(floating_network)
        self.admin_port: int = admin_port
        self.lifecycle_hook_name: str = LIFECYCLE_HOOK_NAME

        # Network: the VPC, the admin subnets, the /28 that holds only the floating IP, the tables it is routed in.
        self.vpc: ec2.IVpc = vpc or network.create_vpc(self, availability_zones, vpc_cidr)
        explain_zone_lookup(self, self.vpc, created=vpc is None)
        selection, selected = network.select_admin_subnets(self.vpc, admin_subnets)
        network.check_overlap(self.vpc, floating_network)
        self.floating_subnet: ec2.ISubnet = network.create_floating_subnet(
            self, self.vpc, floating_network, selected, with_console=console_certificate is not None
        )
        self.route_table_ids: list[str] = list(route_table_ids or network.default_route_tables(self.vpc))

        # The key of the domain home and the topic, and the topic the failover reports to.
        self.encryption_key: kms.IKey = encryption_key or notifications.create_key(self)
        notifications.allow_publishers_to_use_key(self, self.encryption_key)
        self.notification_topic: sns.ITopic = notification_topic or notifications.create_topic(
            self, self.encryption_key
        )

        # The admin server, its domain home on EFS, and what boots it.
        self._admin_server(
            address=address, selected=selected, managed_server_security_group=managed_server_security_group,
            file_system=file_system, instance_type=instance_type, machine_image=machine_image,
            boot={"mount_point": mount_point, "start_command": start_command, "run_as_user": run_as_user,
                  "heartbeat_timeout": heartbeat_timeout},
            root_device_name=root_device_name, root_volume_size_gib=root_volume_size_gib,
        )  # fmt: skip

        # The route mover and the rules that feed it (and the topic), in place before the group's first launch.
        group_name = instance.group_name(self)
        self._launch_handling(floating_network, group_name, route_mover_code, heartbeat_timeout)

        # The one-instance group, launched once all of that is in place.
        self.auto_scaling_group: autoscaling.IAutoScalingGroup = instance.create_group(
            self,
            vpc=self.vpc,
            selection=selection,
            selected=selected,
            launch_template=self.launch_template,
            name=group_name,
            heartbeat_timeout=heartbeat_timeout,
            launch_handling=[self.route_mover, self.launch_rule, self.scaling_events_rule],
            file_system=self.file_system,
        )

        # The optional console: an internet-facing ALB whose one target is the floating IP.
        self._console(
            address,
            console_certificate,
            ingress_cidrs=console_ingress_cidrs,
            health_check_path=health_check_path,
            target_protocol=console_target_protocol,
        )

    def _admin_server(
        self,
        *,
        address: str,
        selected: ec2.SelectedSubnets,
        managed_server_security_group: ec2.ISecurityGroup | None,
        file_system: efs.IFileSystem | None,
        boot: dict[str, Any],
        **launch: Any,
    ) -> None:
        """The security groups, the domain home on EFS, the instance role, the boot script (``boot``: what
        :func:`admin_boot_script` takes) and the launch template (``launch``: what it takes of the instance)."""
        self.security_group: ec2.ISecurityGroup
        self.managed_server_security_group: ec2.ISecurityGroup
        self.security_group, self.managed_server_security_group = network.create_security_groups(
            self,
            self.vpc,
            admin_port=self.admin_port,
            floating_ip=address,
            managed_server_security_group=managed_server_security_group,
        )
        self.file_system: efs.IFileSystem = file_system or instance.create_file_system(
            self, self.vpc, selected, self.encryption_key
        )
        self.file_system.connections.allow_default_port_from(self.security_group, "Admin server mounts the domain home")
        self.role: iam.IRole = instance.create_instance_role(self, self.file_system)
        self.user_data_script: str = admin_boot_script(
            floating_ip=address, file_system_id=self.file_system.file_system_id, **boot
        )
        self.launch_template: ec2.ILaunchTemplate = instance.create_launch_template(
            self,
            role=self.role,
            security_group=self.security_group,
            user_data_script=self.user_data_script,
            **launch,
        )

    def _launch_handling(
        self, network: ipaddress.IPv4Network, group_name: str, code: lambda_.Code | None, heartbeat_timeout: Duration
    ) -> None:
        """The route mover, its dead-letter queue and alarm, and the launch and scaling-event rules."""
        launch = create_launch_handling(
            self,
            network=network,
            route_table_ids=self.route_table_ids,
            group_name=group_name,
            topic=self.notification_topic,
            code=code,
            heartbeat_timeout=heartbeat_timeout,
        )
        self.route_mover: PythonHandler = launch.route_mover
        self.route_mover_function: lambda_.IFunction = launch.route_mover.function
        self.dead_letter_queue: sqs.IQueue = launch.dead_letter_queue
        self.launch_rule: events.IRule = launch.launch_rule
        self.scaling_events_rule: events.IRule = launch.scaling_events_rule
        self.dead_letter_alarm: cloudwatch.IAlarm = launch.dead_letter_alarm

    def _console(self, address: str, certificate: acm.ICertificate | None, **options: Any) -> None:
        """The console's ALB, target group, listener, log bucket and alarm (``options`` as :func:`create_console`
        takes them), or None for each without a certificate."""
        console = None
        if certificate is not None:
            console = create_console(
                self,
                vpc=self.vpc,
                admin_security_group=self.security_group,
                floating_subnet=self.floating_subnet,
                floating_ip=address,
                admin_port=self.admin_port,
                topic=self.notification_topic,
                certificate=certificate,
                **options,
            )
        self.load_balancer: elbv2.IApplicationLoadBalancer | None = console.load_balancer if console else None
        self.target_group: elbv2.IApplicationTargetGroup | None = console.target_group if console else None
        self.listener: elbv2.IApplicationListener | None = console.listener if console else None
        self.access_logs_bucket: SecureBucket | None = console.access_logs_bucket if console else None
        self.unhealthy_console_alarm: cloudwatch.IAlarm | None = console.unhealthy_alarm if console else None

    @property
    def connections(self) -> ec2.Connections:
        """The admin server's security group, default port ``admin_port``: ``connections.allow_from(other)``
        lets ``other`` reach the admin server on its floating IP."""
        return ec2.Connections(security_groups=[self.security_group], default_port=ec2.Port.tcp(self.admin_port))

    def metric_route_mover(
        self, metric_name: str, *, statistic: str = "Sum", period: Duration | None = None
    ) -> cloudwatch.Metric:
        """A count the route mover publishes (one of ``ROUTE_MOVER_METRICS``): the ``Blueprints`` namespace,
        dimension ``service`` = ``weblogic-route-mover``; 5-minute sums."""
        if metric_name not in ROUTE_MOVER_METRICS:
            raise ValueError(f"metric_name must be one of {', '.join(ROUTE_MOVER_METRICS)}; got {metric_name!r}")
        return handler_metric(metric_name, {"service": ROUTE_MOVER_SERVICE}, statistic=statistic, period=period)

    def metric_route_tables_updated(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Route tables pointed at a new admin instance (``RouteTablesUpdated``), 5-minute sums."""
        return self.metric_route_mover("RouteTablesUpdated", period=period)

    def metric_launches_abandoned(self, *, period: Duration | None = None) -> cloudwatch.Metric:
        """Launches the route mover abandoned, so the group replaces the instance (``LaunchesAbandoned``)."""
        return self.metric_route_mover("LaunchesAbandoned", period=period)
