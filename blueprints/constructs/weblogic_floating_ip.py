"""A WebLogic admin server that keeps one private IP across Availability Zones.

The floating IP sits in an otherwise empty /28 subnet. An Auto Scaling group of
exactly one instance relaunches the admin server in another AZ when its AZ or
instance fails; a launch lifecycle hook on the group makes EventBridge invoke a
function that points the /28 route of every route table at the new instance,
then tags the instance, before it goes into service; the instance starts
WebLogic only once it reads that tag from its instance metadata. The domain home
lives on encrypted EFS, so the new instance starts the same domain. An optional
internet-facing ALB reaches the admin console through the same route.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

import jsii
from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as elbv2_targets
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IValidation

from blueprints.constructs.api import handler_metric
from blueprints.constructs.common import (
    PythonHandler,
    SecureBucket,
    TopicRuleTarget,
    acknowledge,
    alarm_arn_pattern,
    explain_zone_lookup,
    log_alb_access_logs,
    nag_text,
    narrowed,
    present,
    service_grant,
)

#: Where the post keeps the domain, relative to the EFS mount point.
DEFAULT_DOMAIN_START_SCRIPT = (
    "wls/fmw/install/Oracle/Middleware/Oracle_Home/user_projects/domains/domain1/bin/startWebLogic.sh"
)
#: Offset of the floating IP in its /28 (the post uses 10.0.11.8 in 10.0.11.0/28).
DEFAULT_FLOATING_IP_OFFSET = 8
LIFECYCLE_HOOK_NAME = "weblogic-admin-launch"
#: The tag the route mover puts on the instance once every route points at it, before CONTINUE.
#: The boot script reads it from instance metadata (``tags/instance/<key>``), so the key must be one
#: that instance metadata can serve: no '/' and no spaces.
ROUTE_TAG_KEY = "weblogic-floating-route"
ROUTE_TAG_VALUE = "moved"
LAUNCH_LIFECYCLE_DETAIL_TYPE = "EC2 Instance-launch Lifecycle Action"
SCALING_EVENT_DETAIL_TYPES = (
    "EC2 Instance Launch Successful",
    "EC2 Instance Launch Unsuccessful",
    "EC2 Instance Terminate Successful",
    "EC2 Instance Terminate Unsuccessful",
)
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_PATH_RE = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
_HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/%?=&-]*$")
_START_SCRIPT_END = "WEBLOGIC_START_COMMAND"
#: The admin instance's boot script, with ``@@NAME@@`` placeholders (a real bash file, so
#: shellcheck and editors see it as it runs); shipped in the wheel as package data.
BOOT_SCRIPT_TEMPLATE = Path(__file__).with_name("weblogic_floating_ip_boot.sh")
_PLACEHOLDER_RE = re.compile(r"@@([A-Z][A-Z0-9_]*)@@")
#: Tag keys that instance metadata can serve (EC2 refuses a launch with any other key once tags
#: are allowed in instance metadata): letters, digits and + - = . , _ : @; not '.', '..' or '_index'.
_IMDS_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9+\-=.,_:@]{1,128}$")
_IMDS_RESERVED_TAG_KEYS = frozenset({".", "..", "_index"})
#: Where the console load balancer is enabled (one public subnet per AZ).
_CONSOLE_SUBNETS = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)


def validate_floating_address(subnet_cidr: str, floating_ip: str | None) -> tuple[ipaddress.IPv4Network, str]:
    """Check the /28 and the floating IP in it; return the network and the IP (default: offset 8).

    AWS reserves five addresses in every subnet: the network address, the next
    three (VPC router, DNS, future use) and the broadcast address.
    """
    try:
        network = ipaddress.IPv4Network(subnet_cidr, strict=True)
    except ValueError as error:
        raise ValueError(
            f"floating_subnet_cidr must be an IPv4 network address with a /28 prefix such as 10.0.11.0/28; "
            f"got {subnet_cidr!r} ({error})"
        ) from None
    if network.prefixlen != 28:
        raise ValueError(
            f"floating_subnet_cidr must be a /28 (the smallest subnet AWS allows, used only for the floating IP); "
            f"got /{network.prefixlen} in {subnet_cidr!r}"
        )
    if not network.is_private:
        raise ValueError(f"floating_subnet_cidr must be a private (RFC 1918 or RFC 6598) range; got {subnet_cidr!r}")
    address = network.network_address + DEFAULT_FLOATING_IP_OFFSET if floating_ip is None else _parse_ip(floating_ip)
    if address not in network:
        raise ValueError(f"floating_ip must be inside floating_subnet_cidr {network}; got {floating_ip!r}")
    first = network.network_address
    reserved = {first, first + 1, first + 2, first + 3, network.broadcast_address}
    if address in reserved:
        usable = f"{first + 4} to {network.broadcast_address - 1}"
        raise ValueError(
            f"floating_ip {address} is one of the five addresses AWS reserves in {network} "
            f"(network, VPC router, DNS, future use, broadcast); choose one from {usable}"
        )
    return network, str(address)


def _parse_ip(value: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"floating_ip must be an IPv4 address such as 10.0.11.8; got {value!r}") from None


def imds_tag_key_problem(key: str) -> str | None:
    """Why instance metadata cannot serve the instance tag ``key`` (EC2 then refuses the launch), or None."""
    if key in _IMDS_RESERVED_TAG_KEYS:
        return f"{key!r} is reserved in instance metadata"
    if not _IMDS_TAG_KEY_RE.match(key):
        return f"{key!r} has a character other than letters, digits and + - = . , _ : @ (no spaces or '/')"
    return None


#: Powertools' ``service`` dimension of the route mover's metrics, and the counts it publishes.
ROUTE_MOVER_SERVICE = "weblogic-route-mover"
ROUTE_MOVER_METRICS = (
    "RouteTablesUpdated",
    "LaunchesAbandoned",
    "CompletionsUnconfirmed",
    "MalformedEvents",
    "RedeliveredEvents",
)


@jsii.implements(IValidation)
class _InstanceTagKeysServableFromMetadata:
    """Fails synthesis when a tag the admin instance will carry has a key instance metadata cannot serve.

    The launch template allows tags in instance metadata (the boot script waits for the route
    mover's tag there), and then EC2 refuses to launch an instance with any such key. Tags are
    applied by aspects, so this runs at validation time, after them; tags added outside the CDK
    app (stack tags given at deploy time) cannot be seen here.
    """

    def __init__(self, launch_template: ec2.CfnLaunchTemplate, group: autoscaling.CfnAutoScalingGroup) -> None:
        self._launch_template = launch_template
        self._group = group

    def validate(self) -> list[str]:
        keys: dict[str, str] = {}
        data = Stack.of(self._launch_template).resolve(self._launch_template.launch_template_data) or {}
        for spec in data.get("tagSpecifications") or data.get("TagSpecifications") or []:
            if (spec.get("resourceType") or spec.get("ResourceType")) == "instance":
                for tag in spec.get("tags") or spec.get("Tags") or []:
                    keys.setdefault(str(tag.get("key") or tag.get("Key")), "the launch template")
        for tag in self._group.tags.render_tags() or []:
            if tag.get("propagateAtLaunch") or tag.get("PropagateAtLaunch"):
                keys.setdefault(str(tag.get("key") or tag.get("Key")), "the Auto Scaling group (propagated at launch)")
        errors = []
        for key, source in sorted(keys.items()):
            problem = None if Token.is_unresolved(key) else imds_tag_key_problem(key)
            if problem:
                errors.append(
                    f"instance tag key {problem}; it comes from {source}. The admin server's launch template "
                    "allows tags in instance metadata (the boot script waits for the route mover's tag there), "
                    "and EC2 then refuses to launch an instance with such a key. Rename the tag, or keep it off "
                    "this construct's AWS::EC2::LaunchTemplate and AWS::AutoScaling::AutoScalingGroup "
                    "(Tags.of(...).add(..., exclude_resource_types=[...]))."
                )
        return errors


def render_user_data(
    *,
    floating_ip: str,
    file_system_id: str,
    mount_point: str,
    start_command: str,
    run_as_user: str,
    max_wait_seconds: int,
    route_tag_key: str = ROUTE_TAG_KEY,
    route_tag_value: str = ROUTE_TAG_VALUE,
) -> str:
    """The admin instance's boot script.

    1. Declares the floating IP to systemd-networkd with a drop-in for the primary
       interface's network file (``/etc/systemd/network/70-<iface>.network.d/``), so
       that networkd keeps it when it reconfigures the link, and checks from a
       systemd unit at every boot that it is on the interface.
    2. Mounts the EFS file system over TLS with IAM authorization (fstab, so it
       is mounted on every boot), retrying while the mount target's DNS name
       propagates.
    3. Polls the instance tag ``route_tag_key`` in instance metadata (IMDSv2)
       until it reads ``route_tag_value``: the route mover sets it only after
       every route points at this instance, before it completes the lifecycle
       action. ``autoscaling/target-lifecycle-state`` cannot serve here: it is
       the state the instance is heading for, ``InService`` from the start of
       a launch. It is still read, to give up at ``Terminated`` (an abandoned
       launch); the script also gives up when the wait outlives the hook.
    4. Enables and starts the admin server unit, which runs ``start_command``
       as ``run_as_user`` and restarts it on failure and after a reboot.
    """
    return render_boot_template(
        BOOT_SCRIPT_TEMPLATE.read_text(encoding="utf-8"),
        {
            "FLOATING_IP": floating_ip,
            "FILE_SYSTEM_ID": file_system_id,
            "MOUNT_POINT": shlex.quote(mount_point),
            "MAX_WAIT_SECONDS": str(max_wait_seconds),
            "ROUTE_TAG_KEY": route_tag_key,
            "ROUTE_TAG_VALUE": route_tag_value,
            "START_COMMAND": start_command,
            "RUN_AS_USER": run_as_user,
        },
    )


def render_boot_template(template: str, values: dict[str, str]) -> str:
    """``template`` with every ``@@NAME@@`` replaced by ``values[NAME]``.

    Every placeholder must have a value and every value a placeholder, so a renamed one
    fails here rather than shipping a literal ``@@NAME@@`` to the instance. Values are
    inserted as they are, in one pass (a value that itself holds ``@@...@@`` is not expanded).
    """
    names = set(_PLACEHOLDER_RE.findall(template))
    if names != set(values):
        raise ValueError(
            f"the boot script template's placeholders {sorted(names)} do not match the values given {sorted(values)}"
        )
    return _PLACEHOLDER_RE.sub(lambda match: values[match.group(1)], template)


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
                Default: ``blueprints/lambdas/weblogic_route_mover``.

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
        network, address = validate_floating_address(floating_subnet_cidr, floating_ip)
        self._validate(
            vpc=vpc,
            availability_zones=availability_zones,
            vpc_cidr=vpc_cidr,
            network=network,
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
        stack = Stack.of(self)
        if console_certificate is not None and Token.is_unresolved(stack.region):
            raise ValueError(
                "the console load balancer writes access logs to S3, which needs the stack's Region: "
                "give the stack env=Environment(region=...), or leave console_certificate out"
            )
        self.floating_ip: str = address
        self.floating_subnet_cidr: str = str(network)
        self.admin_port: int = admin_port
        self.lifecycle_hook_name: str = LIFECYCLE_HOOK_NAME

        self.vpc: ec2.IVpc = vpc or self._create_vpc(availability_zones, vpc_cidr)
        explain_zone_lookup(self, self.vpc, created=vpc is None)
        selection = admin_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        selected = self.vpc.select_subnets(
            subnet_type=selection.subnet_type,
            subnet_group_name=selection.subnet_group_name,
            subnets=selection.subnets,
            availability_zones=selection.availability_zones,
            one_per_az=selection.one_per_az,
        )
        concrete_azs = {az for az in selected.availability_zones if not Token.is_unresolved(az)}
        if len(concrete_azs) == len(selected.availability_zones) and len(concrete_azs) < 2:
            raise ValueError(
                f"admin_subnets must span at least two Availability Zones so the admin server can move; "
                f"got {sorted(concrete_azs)}"
            )
        self._check_overlap(network)

        # The console ALB's target is the floating IP, which Elastic Load Balancing places in the
        # floating subnet's AZ; a target in an AZ the load balancer is not enabled in gets no traffic.
        console_azs = (
            self.vpc.select_subnets(subnet_type=_CONSOLE_SUBNETS.subnet_type).availability_zones
            if console_certificate is not None
            else None
        )
        self.floating_subnet: ec2.ISubnet = ec2.Subnet(
            self,
            "FloatingSubnet",
            vpc_id=self.vpc.vpc_id,
            availability_zone=self._floating_subnet_az(selected.availability_zones, console_azs),
            cidr_block=str(network),
            map_public_ip_on_launch=False,
        )
        self.route_table_ids: list[str] = list(route_table_ids) if route_table_ids else self._default_route_tables()

        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            description="Encrypts the WebLogic admin server's domain home (EFS) and its notification topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # SNS encrypts with the publisher's identity: EventBridge (scaling events) and
        # CloudWatch (the dead-letter alarm) need the key. EventBridge's KMS request
        # carries no source keys (UNSOURCED_SERVICE_GRANTS), so only CloudWatch's grant names its source.
        self.encryption_key.add_to_resource_policy(
            service_grant(
                self,
                sid="EventBridgePublishesToTopic",
                service="events.amazonaws.com",
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                source_account=False,
            )
        )
        self.encryption_key.add_to_resource_policy(
            service_grant(
                self,
                sid="CloudWatchAlarmsPublishToTopic",
                service="cloudwatch.amazonaws.com",
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
            )
        )
        self.notification_topic: sns.ITopic = notification_topic or sns.Topic(
            self,
            "Notifications",
            display_name="WebLogic admin server failover",
            master_key=self.encryption_key,
            enforce_ssl=True,
        )

        self.security_group: ec2.ISecurityGroup = ec2.SecurityGroup(
            self,
            "AdminSecurityGroup",
            vpc=self.vpc,
            description="WebLogic admin server: admin port from managed servers and the console load balancer",
            allow_all_outbound=True,
        )
        self.managed_server_security_group: ec2.ISecurityGroup = managed_server_security_group or ec2.SecurityGroup(
            self,
            "ManagedServerSecurityGroup",
            vpc=self.vpc,
            description="WebLogic managed servers: may reach the admin server on the floating IP",
            allow_all_outbound=True,
        )
        self.security_group.add_ingress_rule(
            self.managed_server_security_group,
            ec2.Port.tcp(admin_port),
            "Managed servers reach the admin server (T3/HTTP) on the floating IP",
        )
        if managed_server_security_group is not None and not managed_server_security_group.allow_all_outbound:
            managed_server_security_group.add_egress_rule(
                ec2.Peer.ipv4(f"{address}/32"), ec2.Port.tcp(admin_port), "Admin server on the floating IP"
            )

        self.file_system: efs.IFileSystem = file_system or self._create_file_system(selected)
        self.file_system.connections.allow_default_port_from(self.security_group, "Admin server mounts the domain home")

        self.role: iam.IRole = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="WebLogic admin server: Session Manager access and the EFS domain home",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
            "AmazonSSMManagedInstanceCore is the policy AWS maintains for the SSM Agent; its action list "
            "follows agent releases, and a hand-copied list can silently break Session Manager on the one "
            "instance operators must reach during a failover.",
        )
        self.file_system.grant_read_write(self.role)

        self.user_data_script: str = render_user_data(
            floating_ip=address,
            file_system_id=self.file_system.file_system_id,
            mount_point=mount_point,
            start_command=start_command or f"{mount_point}/{DEFAULT_DOMAIN_START_SCRIPT}",
            run_as_user=run_as_user,
            # Heartbeats from retried invocations extend the hook's timeout: wait for two.
            max_wait_seconds=2 * int(heartbeat_timeout.to_seconds()) + 120,
            route_tag_key=ROUTE_TAG_KEY,
            route_tag_value=ROUTE_TAG_VALUE,
        )
        self.launch_template: ec2.ILaunchTemplate = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            instance_type=instance_type or ec2.InstanceType("m7i.large"),
            machine_image=machine_image
            or ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.X86_64),
            role=self.role,
            security_group=self.security_group,
            user_data=ec2.UserData.custom(self.user_data_script),
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            # The boot script waits for the route mover's tag (tags/instance/<key>).
            instance_metadata_tags=True,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name=root_device_name,
                    volume=ec2.BlockDeviceVolume.ebs(
                        root_volume_size_gib,
                        encrypted=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        delete_on_termination=True,
                    ),
                )
            ],
        )

        # A literal name: the rule, the function's policy and its environment must
        # exist before the group launches its first instance, so none may depend on it.
        group_name = Names.unique_resource_name(self, max_length=200, separator="-") + "-admin"
        self.route_mover = PythonHandler(
            self,
            "RouteMover",
            name="weblogic_route_mover",
            description=f"moves the route for {network} to the WebLogic admin server the group launches",
            code=route_mover_code,
            timeout=Duration.seconds(60),
            memory_size=256,
            environment={
                "DESTINATION_CIDR": str(network),
                "ROUTE_TABLE_IDS": ",".join(self.route_table_ids),
                "AUTO_SCALING_GROUP_NAME": group_name,
                "LIFECYCLE_HOOK_NAME": LIFECYCLE_HOOK_NAME,
                "TOPIC_ARN": self.notification_topic.topic_arn,
                "ROUTE_TAG_KEY": ROUTE_TAG_KEY,
                "ROUTE_TAG_VALUE": ROUTE_TAG_VALUE,
            },
            service_name=ROUTE_MOVER_SERVICE,
        )
        self.route_mover_function: lambda_.IFunction = self.route_mover.function
        self.dead_letter_queue: sqs.IQueue = present(self.route_mover.dead_letter_queue, "the route mover's DLQ")
        self._grant_route_mover(stack, group_name)

        self.launch_rule: events.IRule = events.Rule(
            self,
            "LaunchLifecycleRule",
            description="Launch lifecycle actions of the WebLogic admin server group",
            event_pattern=events.EventPattern(
                source=["aws.autoscaling"],
                detail_type=[LAUNCH_LIFECYCLE_DETAIL_TYPE],
                detail={"AutoScalingGroupName": [group_name], "LifecycleHookName": [LIFECYCLE_HOOK_NAME]},
            ),
            targets=[
                events_targets.LambdaFunction(
                    self.route_mover.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=4,
                    # No point delivering after the hook has given up (EventBridge's floor is a minute).
                    max_event_age=Duration.seconds(max(60, int(heartbeat_timeout.to_seconds()))),
                )
            ],
        )
        self.scaling_events_rule: events.IRule = events.Rule(
            self,
            "ScalingEventsRule",
            description="Launches and terminations of the WebLogic admin server group, to the notification topic",
            event_pattern=events.EventPattern(
                source=["aws.autoscaling"],
                detail_type=list(SCALING_EVENT_DETAIL_TYPES),
                detail={"AutoScalingGroupName": [group_name]},
            ),
            targets=[TopicRuleTarget(self.notification_topic, dead_letter_queue=self.dead_letter_queue)],
        )
        self.dead_letter_alarm: cloudwatch.IAlarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description="A launch event of the WebLogic admin server group could not be handled; see the DLQ",
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.notification_topic))
        # The rule target's publish grant is bound to the scaling-events rule (TopicRuleTarget). The topic
        # policy CDK writes (TLS-only, EventBridge) replaces SNS's default one, so the alarms' publisher is
        # allowed explicitly, for this account's alarms only.
        self.notification_topic.add_to_resource_policy(
            service_grant(
                self,
                sid="CloudWatchAlarmsPublish",
                service="cloudwatch.amazonaws.com",
                actions=["sns:Publish"],
                resources=[self.notification_topic.topic_arn],
                source_arn=alarm_arn_pattern(self),
            )
        )

        group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=self.vpc,
            vpc_subnets=selection,
            launch_template=self.launch_template,
            auto_scaling_group_name=group_name,
            min_capacity=1,
            max_capacity=1,
            health_checks=autoscaling.HealthChecks.ec2(grace_period=Duration.minutes(5)),
            cooldown=Duration.minutes(5),
        )
        cfn_group = narrowed(group.node.default_child, autoscaling.CfnAutoScalingGroup, "the group's resource")
        cfn_group.lifecycle_hook_specification_list = [
            autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty(
                lifecycle_hook_name=LIFECYCLE_HOOK_NAME,
                lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                heartbeat_timeout=int(heartbeat_timeout.to_seconds()),
                default_result="ABANDON",
            )
        ]
        group.node.add_dependency(self.route_mover, self.launch_rule, self.scaling_events_rule)
        # The first boot installs packages and reaches SSM: wait for the subnets' NAT routes.
        group.node.add_dependency(selected.internet_connectivity_established)
        if isinstance(self.file_system, efs.FileSystem):
            group.node.add_dependency(self.file_system.mount_targets_available)
        acknowledge(
            group,
            "AwsSolutions-AS3",
            "The group's launches and terminations reach the notification topic through an EventBridge rule, "
            "which works with the topic's customer managed KMS key; group notifications would need the "
            "Auto Scaling service-linked role in the key policy, which may not exist yet in the account.",
        )
        self.auto_scaling_group: autoscaling.IAutoScalingGroup = group
        cfn_launch_template = narrowed(
            self.launch_template.node.default_child, ec2.CfnLaunchTemplate, "the launch template's resource"
        )
        self.node.add_validation(_InstanceTagKeysServableFromMetadata(cfn_launch_template, cfn_group))

        self.load_balancer: elbv2.IApplicationLoadBalancer | None = None
        self.target_group: elbv2.IApplicationTargetGroup | None = None
        self.listener: elbv2.IApplicationListener | None = None
        self.access_logs_bucket: SecureBucket | None = None
        self.unhealthy_console_alarm: cloudwatch.IAlarm | None = None
        if console_certificate is not None:
            self._create_console(console_certificate, console_ingress_cidrs, health_check_path, console_target_protocol)

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

    @staticmethod
    def _floating_subnet_az(admin_azs: Sequence[str], console_azs: Sequence[str] | None) -> str:
        """The floating subnet's AZ: the first admin AZ, or, with the console, an AZ the ALB is enabled in.

        The subnet holds no instance, so any AZ works for the route; but Elastic Load Balancing
        places the floating IP target in this AZ, and a load balancer sends nothing to targets in
        an AZ it is not enabled in. An admin AZ the ALB also covers comes first, so a deployment
        that already works keeps its subnet where it is: moving it replaces the subnet, and as
        CloudFormation creates the new subnet before deleting the old one, the move needs a new
        ``floating_subnet_cidr`` (docs/weblogic-floating-ip.md, "Moving the floating subnet").
        """
        if console_azs is None:
            return admin_azs[0]
        shared = [az for az in admin_azs if az in console_azs]
        return shared[0] if shared else console_azs[0]

    @staticmethod
    def _validate(
        *,
        vpc: ec2.IVpc | None,
        availability_zones: Sequence[str] | None,
        vpc_cidr: str,
        network: ipaddress.IPv4Network,
        admin_port: int,
        run_as_user: str,
        mount_point: str,
        start_command: str | None,
        heartbeat_timeout: Duration,
        console_certificate: acm.ICertificate | None,
        console_ingress_cidrs: Sequence[str],
        health_check_path: str,
        console_target_protocol: elbv2.ApplicationProtocol,
        root_volume_size_gib: int,
        route_table_ids: Sequence[str] | None,
    ) -> None:
        if vpc is not None and availability_zones is not None:
            raise ValueError(
                "availability_zones is only used when the construct creates the VPC; "
                "pass either vpc or availability_zones, not both"
            )
        if vpc is None:
            if availability_zones is not None and len(set(availability_zones)) < 2:
                raise ValueError(
                    f"availability_zones must name at least two Availability Zones; got {list(availability_zones)}"
                )
            try:
                vpc_network = ipaddress.IPv4Network(vpc_cidr, strict=True)
            except ValueError:
                raise ValueError(f"vpc_cidr must be an IPv4 network such as 10.0.0.0/16; got {vpc_cidr!r}") from None
            if not network.subnet_of(vpc_network):
                raise ValueError(f"floating_subnet_cidr {network} must lie inside vpc_cidr {vpc_network}")
        elif not Token.is_unresolved(vpc.vpc_cidr_block) and not network.subnet_of(
            ipaddress.IPv4Network(vpc.vpc_cidr_block)
        ):
            raise ValueError(f"floating_subnet_cidr {network} must lie inside the VPC's CIDR {vpc.vpc_cidr_block}")
        if route_table_ids is not None and len(route_table_ids) == 0:
            raise ValueError("route_table_ids must list at least one route table, or be left out to use the VPC's")
        if not 1 <= admin_port <= 65535:
            raise ValueError(f"admin_port must be a TCP port between 1 and 65535; got {admin_port}")
        if not _USER_RE.match(run_as_user) or run_as_user == "root":
            raise ValueError(
                f"run_as_user must be a non-root Linux user name (lowercase letters, digits, '_' or '-'); "
                f"got {run_as_user!r}"
            )
        if not _PATH_RE.match(mount_point):
            raise ValueError(
                f"mount_point must be an absolute path of letters, digits, '.', '_' or '-' such as /mnt/efs; "
                f"got {mount_point!r}"
            )
        if start_command is not None and (not start_command.strip() or _START_SCRIPT_END in start_command.splitlines()):
            raise ValueError(
                f"start_command must be a non-empty shell command and no line of it may be {_START_SCRIPT_END!r}; "
                f"got {start_command!r}"
            )
        seconds = heartbeat_timeout.to_seconds()
        if not 30 <= seconds <= 7200:
            raise ValueError(f"heartbeat_timeout must be between 30 seconds and 2 hours; got {seconds:g} seconds")
        if not 8 <= root_volume_size_gib <= 16384:
            raise ValueError(f"root_volume_size_gib must be between 8 and 16384; got {root_volume_size_gib}")
        if console_certificate is None and console_ingress_cidrs:
            raise ValueError(
                "console_ingress_cidrs is only used with console_certificate (which creates the console load "
                "balancer); pass both or neither"
            )
        if console_certificate is not None:
            if not console_ingress_cidrs:
                raise ValueError(
                    "console_ingress_cidrs must list the networks allowed to reach the admin console "
                    "(for example your office's range); the console is never opened to the whole internet by default"
                )
            for cidr in console_ingress_cidrs:
                try:
                    allowed = ipaddress.IPv4Network(cidr, strict=True)
                except ValueError:
                    raise ValueError(
                        f"console_ingress_cidrs must be IPv4 networks such as 203.0.113.0/24; got {cidr!r}"
                    ) from None
                if allowed.prefixlen == 0:
                    raise ValueError(
                        "console_ingress_cidrs must not contain 0.0.0.0/0: the WebLogic admin console "
                        "is not for the whole internet"
                    )
            if console_target_protocol not in (elbv2.ApplicationProtocol.HTTP, elbv2.ApplicationProtocol.HTTPS):
                raise ValueError(
                    f"console_target_protocol must be ApplicationProtocol.HTTP or HTTPS (WebLogic's SSL listen port); "
                    f"got {console_target_protocol}"
                )
            if not _HEALTH_PATH_RE.match(health_check_path) or len(health_check_path) > 1024:
                raise ValueError(
                    f"health_check_path must be a URL path starting with '/' such as /console/login/LoginForm.jsp; "
                    f"got {health_check_path!r}"
                )

    def _create_vpc(self, availability_zones: Sequence[str] | None, vpc_cidr: str) -> ec2.IVpc:
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY
        )
        azs = list(availability_zones) if availability_zones else None
        vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(vpc_cidr),
            availability_zones=azs,
            max_azs=None if azs else 2,
            # One NAT gateway per AZ: the admin server must boot (packages, SSM) in the AZ that survives.
            nat_gateways=len(azs) if azs else 2,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=24),
            ],
            restrict_default_security_group=True,
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        return vpc

    def _check_overlap(self, network: ipaddress.IPv4Network) -> None:
        subnets = [*self.vpc.public_subnets, *self.vpc.private_subnets, *self.vpc.isolated_subnets]
        for subnet in subnets:
            cidr = getattr(subnet, "ipv4_cidr_block", None)
            if not cidr or Token.is_unresolved(cidr):
                continue
            if network.overlaps(ipaddress.IPv4Network(cidr)):
                raise ValueError(
                    f"floating_subnet_cidr {network} overlaps the VPC's subnet {cidr}; "
                    "choose a /28 that no other subnet uses"
                )

    def _default_route_tables(self) -> list[str]:
        ids: list[str] = []
        for subnet in [*self.vpc.public_subnets, *self.vpc.private_subnets, *self.vpc.isolated_subnets]:
            route_table_id = subnet.route_table.route_table_id
            if route_table_id not in ids:
                ids.append(route_table_id)
        if not ids:
            raise ValueError("the VPC has no subnets with route tables; pass route_table_ids")
        return ids

    def _create_file_system(self, selected: ec2.SelectedSubnets) -> efs.IFileSystem:
        file_system = efs.FileSystem(
            self,
            "DomainHome",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=selected.subnets),
            encrypted=True,
            kms_key=self.encryption_key,
            enable_automatic_backups=True,
            performance_mode=efs.PerformanceMode.GENERAL_PURPOSE,
            throughput_mode=efs.ThroughputMode.ELASTIC,
            allow_anonymous_access=False,
            removal_policy=RemovalPolicy.RETAIN,
        )
        file_system.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyWithoutTls",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=[
                    "elasticfilesystem:ClientMount",
                    "elasticfilesystem:ClientWrite",
                    "elasticfilesystem:ClientRootAccess",
                ],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        return file_system

    def _grant_route_mover(self, stack: Stack, group_name: str) -> None:
        role = self.route_mover.role
        route_tables = [
            stack.format_arn(service="ec2", resource="route-table", resource_name=rtb) for rtb in self.route_table_ids
        ]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="MoveFloatingRoute",
                actions=["ec2:ReplaceRoute", "ec2:CreateRoute"],
                resources=route_tables,
            )
        )
        instances = stack.format_arn(service="ec2", resource="instance", resource_name="*")
        # ModifyInstanceAttribute changes one attribute per request (user data, instance type, security
        # groups, ...). ec2:Attribute/<name> is in the request context only for the attribute the request
        # sets (Service Authorization Reference for EC2), and StringEquals on a missing key does not
        # match: only SourceDestCheck=false passes, never another attribute.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="DisableSourceDestCheckOnGroupInstances",
                actions=["ec2:ModifyInstanceAttribute"],
                resources=[instances],
                conditions={
                    "StringEquals": {
                        "aws:ResourceTag/aws:autoscaling:groupName": group_name,
                        "ec2:Attribute/SourceDestCheck": "false",
                    }
                },
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="MarkRouteMovedOnGroupInstances",
                actions=["ec2:CreateTags"],
                resources=[instances],
                conditions={
                    "StringEquals": {
                        "aws:ResourceTag/aws:autoscaling:groupName": group_name,
                        f"aws:RequestTag/{ROUTE_TAG_KEY}": ROUTE_TAG_VALUE,
                    },
                    "ForAllValues:StringEquals": {"aws:TagKeys": [ROUTE_TAG_KEY]},
                },
            )
        )
        group_arn = stack.format_arn(
            service="autoscaling",
            resource="autoScalingGroup",
            resource_name=f"*:autoScalingGroupName/{group_name}",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="CompleteLaunchLifecycleAction",
                actions=["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
                resources=[group_arn],
            )
        )
        self.notification_topic.grant_publish(role)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(stack, instances)}]",
            "ModifyInstanceAttribute and CreateTags are limited by the aws:autoscaling:groupName tag condition "
            "to instances of this construct's group, whose IDs are only known at launch; ModifyInstanceAttribute "
            "further to SourceDestCheck=false (ec2:Attribute/SourceDestCheck), CreateTags to the one tag "
            f"{ROUTE_TAG_KEY}={ROUTE_TAG_VALUE} (aws:TagKeys, aws:RequestTag).",
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{nag_text(stack, group_arn)}]",
            "The group's ARN carries a UUID that CloudFormation does not expose; the ARN is pinned by the "
            "group's name, so only this construct's group is covered.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Publishing to the KMS-encrypted notification topic needs GenerateDataKey* (both variants SNS may "
            "call), and the grant is limited to the construct's one key.",
        )

    def _create_console(
        self,
        certificate: acm.ICertificate,
        ingress_cidrs: Sequence[str],
        health_check_path: str,
        target_protocol: elbv2.ApplicationProtocol,
    ) -> None:
        alb_security_group = ec2.SecurityGroup(
            self,
            "ConsoleSecurityGroup",
            vpc=self.vpc,
            description="WebLogic admin console load balancer: HTTPS from the allowed networks",
            allow_all_outbound=False,
        )
        for cidr in ingress_cidrs:
            alb_security_group.add_ingress_rule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"Admin console from {cidr}")
        alb_security_group.add_egress_rule(
            ec2.Peer.ipv4(f"{self.floating_ip}/32"), ec2.Port.tcp(self.admin_port), "Admin server on the floating IP"
        )
        self.security_group.add_ingress_rule(
            alb_security_group, ec2.Port.tcp(self.admin_port), "Console load balancer reaches the admin server"
        )
        self.access_logs_bucket = SecureBucket(
            self, "ConsoleAccessLogs", encryption=s3.BucketEncryption.S3_MANAGED, versioned=False
        )
        load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "Console",
            vpc=self.vpc,
            internet_facing=True,
            vpc_subnets=_CONSOLE_SUBNETS,
            security_group=alb_security_group,
            drop_invalid_header_fields=True,
        )
        log_alb_access_logs(load_balancer, self.access_logs_bucket, "console")
        target_group = elbv2.ApplicationTargetGroup(
            self,
            "ConsoleTargets",
            vpc=self.vpc,
            target_type=elbv2.TargetType.IP,
            protocol=target_protocol,
            port=self.admin_port,
            # No Availability Zone: the floating IP is inside the VPC, so ELB takes the floating
            # subnet's AZ (and refuses "all" for it). With cross-zone load balancing, always on for
            # an ALB, every node sends to it, and the moved route takes it to the admin server.
            targets=[elbv2_targets.IpTarget(self.floating_ip, self.admin_port)],
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
        # ELB finds the target's AZ from the subnet that holds the IP: register only once it exists.
        target_group.node.add_dependency(self.floating_subnet)
        listener = load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            open=False,
            default_target_groups=[target_group],
        )
        self.load_balancer = load_balancer
        self.target_group = target_group
        self.listener = listener
        # The group's EC2 health check cannot see WebLogic; the console's target can.
        # Five minutes without a healthy target outlasts a normal failover's route move.
        alarm = cloudwatch.Alarm(
            self,
            "ConsoleUnhealthyAlarm",
            alarm_description="The WebLogic admin server has not answered its health check on the floating IP "
            "for five minutes (boot failure, WebLogic down, or a failover still in progress)",
            metric=target_group.metrics.healthy_host_count(period=Duration.minutes(1), statistic="Maximum"),
            threshold=1,
            evaluation_periods=5,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.notification_topic))
        alarm.add_ok_action(cloudwatch_actions.SnsAction(self.notification_topic))
        self.unhealthy_console_alarm = alarm
