"""The admin instance: its EFS domain home, role, launch template, and the one-instance group with the launch
lifecycle hook in the group itself. Every resource is created in the construct's own scope."""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import Duration, Names, RemovalPolicy, Stack, Token
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IDependable, IValidation

from blueprints.constructs.common import acknowledge, narrowed
from blueprints.constructs.weblogic_floating_ip.options import LIFECYCLE_HOOK_NAME, imds_tag_key_problem


def create_file_system(
    scope: Construct, vpc: ec2.IVpc, selected: ec2.SelectedSubnets, key: kms.IKey
) -> efs.IFileSystem:
    """The domain home: encrypted with ``key``, backed up, retained, TLS-only; mount targets in ``selected``."""
    file_system = efs.FileSystem(
        scope,
        "DomainHome",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnets=selected.subnets),
        encrypted=True,
        kms_key=key,
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


def create_instance_role(scope: Construct, file_system: efs.IFileSystem) -> iam.IRole:
    """The instance's role: Session Manager (the AWS managed policy, acknowledged) and the domain home."""
    role = iam.Role(
        scope,
        "InstanceRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description="WebLogic admin server: Session Manager access and the EFS domain home",
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
    )
    acknowledge(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
        "AmazonSSMManagedInstanceCore is the policy AWS maintains for the SSM Agent; its action list "
        "follows agent releases, and a hand-copied list can silently break Session Manager on the one "
        "instance operators must reach during a failover.",
    )
    file_system.grant_read_write(role)
    return role


def create_launch_template(
    scope: Construct,
    *,
    instance_type: ec2.InstanceType | None,
    machine_image: ec2.IMachineImage | None,
    role: iam.IRole,
    security_group: ec2.ISecurityGroup,
    user_data_script: str,
    root_device_name: str,
    root_volume_size_gib: int,
) -> ec2.ILaunchTemplate:
    """IMDSv2 only, tags in instance metadata (the boot script waits for one), an encrypted gp3 root volume."""
    return ec2.LaunchTemplate(
        scope,
        "LaunchTemplate",
        instance_type=instance_type or ec2.InstanceType("m7i.large"),
        machine_image=machine_image or ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.X86_64),
        role=role,
        security_group=security_group,
        user_data=ec2.UserData.custom(user_data_script),
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


def group_name(scope: Construct) -> str:
    """The group's name, unique in the account and known at synthesis."""
    # A literal name: the rule, the function's policy and its environment must
    # exist before the group launches its first instance, so none may depend on it.
    return Names.unique_resource_name(scope, max_length=200, separator="-") + "-admin"


def create_group(
    scope: Construct,
    *,
    vpc: ec2.IVpc,
    selection: ec2.SubnetSelection,
    selected: ec2.SelectedSubnets,
    launch_template: ec2.ILaunchTemplate,
    name: str,
    heartbeat_timeout: Duration,
    launch_handling: Sequence[IDependable],
    file_system: efs.IFileSystem,
) -> autoscaling.IAutoScalingGroup:
    """The one-instance group, its launch lifecycle hook in the group itself, deployed after ``launch_handling``
    (what must be in place before the first launch), the subnets' NAT routes and the file system's mount targets.
    ``scope`` then refuses at synthesis an instance tag key that instance metadata cannot serve."""
    group = autoscaling.AutoScalingGroup(
        scope,
        "Group",
        vpc=vpc,
        vpc_subnets=selection,
        launch_template=launch_template,
        auto_scaling_group_name=name,
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
    group.node.add_dependency(*launch_handling)
    # The first boot installs packages and reaches SSM: wait for the subnets' NAT routes.
    group.node.add_dependency(selected.internet_connectivity_established)
    if isinstance(file_system, efs.FileSystem):
        group.node.add_dependency(file_system.mount_targets_available)
    acknowledge(
        group,
        "AwsSolutions-AS3",
        "The group's launches and terminations reach the notification topic through an EventBridge rule, "
        "which works with the topic's customer managed KMS key; group notifications would need the "
        "Auto Scaling service-linked role in the key policy, which may not exist yet in the account.",
    )
    cfn_launch_template = narrowed(
        launch_template.node.default_child, ec2.CfnLaunchTemplate, "the launch template's resource"
    )
    scope.node.add_validation(_InstanceTagKeysServableFromMetadata(cfn_launch_template, cfn_group))
    return group


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
