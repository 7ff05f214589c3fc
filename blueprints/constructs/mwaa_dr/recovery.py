"""The DR Region's recovery functions, each with exactly the permissions it needs: the metadata restore (and
the DR backup a failback restores), and the failover's steps (the health-check schedule, the health state, and
for backup_restore the creation of the environment in private network mode)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from blueprints.constructs.common import PythonHandler, acknowledge, nag_text
from blueprints.constructs.mwaa_dr.environment import _AirflowEnvironment, _environment_arn, _rbac_role_arn
from blueprints.constructs.mwaa_dr.grants import (
    _KEY_READ,
    _KEY_WRITE,
    _ack_key_use,
    _grant_key_via,
    _grant_put_objects,
    _grant_read_objects,
)
from blueprints.constructs.mwaa_dr.options import BACKUP_PREFIX, FAILBACK_PREFIX, MwaaDrStrategy


def _metadata_function(
    scope: Construct,
    *,
    dr_name: str,
    primary_environment_name: str,
    primary_region: str,
    airflow_rbac_role: str,
    backup_bucket: s3.IBucket,
    key: kms.IKey,
) -> PythonHandler:
    """Restores Airflow metadata into either environment, and backs the DR environment up for failback."""
    stack = Stack.of(scope)
    environments = {
        "primary": {"name": primary_environment_name, "region": primary_region},
        "dr": {"name": dr_name, "region": stack.region},
    }
    handler = PythonHandler(
        scope,
        "Metadata",
        name="mwaa_dr_metadata",
        description=f"restores Airflow metadata into {dr_name} and backs it up for failback",
        service_name="mwaa-dr-restore",
        sync_caller="the failover and failback state machines",
        timeout=Duration.minutes(5),
        environment={
            "BACKUP_BUCKET": backup_bucket.bucket_name,
            "KMS_KEY_ARN": key.key_arn,
            "ENVIRONMENTS": stack.to_json_string(environments),
        },
    )
    meta = handler.function
    meta.add_to_role_policy(
        iam.PolicyStatement(
            actions=["airflow:GetEnvironment"],
            resources=[
                _environment_arn(scope, dr_name),
                _environment_arn(scope, primary_environment_name, primary_region),
            ],
        )
    )
    meta.add_to_role_policy(
        iam.PolicyStatement(
            actions=["airflow:InvokeRestApi"],
            resources=[
                _rbac_role_arn(scope, dr_name, airflow_rbac_role),
                _rbac_role_arn(scope, primary_environment_name, airflow_rbac_role, primary_region),
            ],
        )
    )
    _grant_read_objects(meta, backup_bucket)
    _grant_put_objects(meta, backup_bucket, f"{FAILBACK_PREFIX}/*")
    _grant_key_via(meta, key, (*_KEY_READ, *_KEY_WRITE), ["s3"])
    for finding, reason in (
        (f"Resource::{nag_text(scope, backup_bucket.bucket_arn)}/*", "Restores read any backup folder of this bucket."),
        (
            f"Resource::{nag_text(scope, backup_bucket.bucket_arn)}/{FAILBACK_PREFIX}/*",
            "Failback backups write new timestamped objects under the failback/ prefix only.",
        ),
        ("Action::s3:GetObject*", "Read-only object access for restores, limited to the backup bucket."),
        ("Action::s3:GetBucket*", "Bucket metadata reads for restores, limited to the backup bucket."),
        ("Action::s3:List*", "Listing backup folders to find the newest complete one, in this bucket only."),
        (
            "Action::kms:GenerateDataKey*",
            "SSE-KMS writes need data keys from the construct's own key, and only when S3 in this Region "
            "calls KMS for the role (kms:ViaService).",
        ),
        (
            "Action::kms:ReEncrypt*",
            "SSE-KMS object access with the construct's own key, only when S3 in this Region calls KMS for "
            "the role (kms:ViaService).",
        ),
        ("Action::s3:Abort*", "Aborting its own multipart uploads, in the failback/ prefix only."),
    ):
        acknowledge(handler.role, f"AwsSolutions-IAM5[{finding}]", reason)
    return handler


def _failover_function(
    scope: Construct,
    *,
    strategy: MwaaDrStrategy,
    schedule_name: str,
    dr_name: str,
    state_table: dynamodb.ITable,
    backup_bucket: s3.IBucket,
    dags_bucket: s3.IBucket,
    key: kms.IKey,
    airflow: _AirflowEnvironment,
    vpc: ec2.IVpc,
    subnets: Sequence[ec2.ISubnet],
) -> PythonHandler:
    """The failover's steps: disables and re-arms the health-check schedule, and for backup_restore creates the
    DR environment from the stored configuration and reports its status."""
    stack = Stack.of(scope)
    handler = PythonHandler(
        scope,
        "Failover",
        name="mwaa_dr_failover",
        description=f"disables the health check and brings up MWAA environment {dr_name}",
        sync_caller="the failover and failback state machines",
        environment={
            "SCHEDULE_NAME": schedule_name,
            "SCHEDULE_GROUP": "default",
            "STATE_TABLE": state_table.table_name,
            "DR_ENVIRONMENT_NAME": dr_name,
            "BACKUP_BUCKET": backup_bucket.bucket_name,
            "BACKUP_PREFIX": BACKUP_PREFIX,
            "EXECUTION_ROLE_ARN": airflow.role.role_arn,
            "SOURCE_BUCKET_ARN": dags_bucket.bucket_arn,
            "SUBNET_IDS": ",".join(s.subnet_id for s in subnets),
            "SECURITY_GROUP_IDS": airflow.security_group.security_group_id,
        },
    )
    failover = handler.function
    schedule_arn = stack.format_arn(service="scheduler", resource="schedule", resource_name=f"default/{schedule_name}")
    failover.add_to_role_policy(
        iam.PolicyStatement(actions=["scheduler:GetSchedule", "scheduler:UpdateSchedule"], resources=[schedule_arn])
    )
    failover.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:DeleteItem", "dynamodb:PutItem"], resources=[state_table.table_arn])
    )
    # DynamoDB for the health-state table; backup_restore also reads the SSE-KMS stored configuration.
    if strategy is MwaaDrStrategy.BACKUP_RESTORE:
        _grant_key_via(failover, key, (*_KEY_WRITE, *_KEY_READ), ["dynamodb", "s3"])
        _ack_key_use(
            handler.role,
            "Writes the KMS-encrypted health-state table and reads the SSE-KMS stored configuration",
            ["DynamoDB", "S3"],
        )
    else:
        _grant_key_via(failover, key, _KEY_WRITE, ["dynamodb"])
        _ack_key_use(handler.role, "Writes the KMS-encrypted health-state table", ["DynamoDB"])
    failover.add_to_role_policy(
        iam.PolicyStatement(actions=["airflow:GetEnvironment"], resources=[_environment_arn(scope, dr_name)])
    )
    if strategy is MwaaDrStrategy.BACKUP_RESTORE:
        _allow_create(scope, handler, name=dr_name, airflow=airflow, dags_bucket=dags_bucket, vpc=vpc, subnets=subnets)
        _grant_read_objects(failover, backup_bucket, f"{BACKUP_PREFIX}/*")
        for finding, reason in (
            (
                f"Resource::{nag_text(scope, backup_bucket.bucket_arn)}/{BACKUP_PREFIX}/*",
                "Reads the newest backup's stored environment configuration under backups/.",
            ),
            ("Action::s3:GetObject*", "Read-only object access, limited to backups/ of the backup bucket."),
            ("Action::s3:GetBucket*", "Bucket metadata reads, limited to the backup bucket."),
            ("Action::s3:List*", "Listing within the backup bucket only."),
        ):
            acknowledge(handler.role, f"AwsSolutions-IAM5[{finding}]", reason)
    return handler


def _allow_create(
    scope: Construct,
    handler: PythonHandler,
    *,
    name: str,
    airflow: _AirflowEnvironment,
    dags_bucket: s3.IBucket,
    vpc: ec2.IVpc,
    subnets: Sequence[ec2.ISubnet],
) -> None:
    """What CreateEnvironment needs from its caller in private network mode."""
    stack = Stack.of(scope)
    fn = handler.function
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["airflow:CreateEnvironment", "airflow:TagResource"], resources=[_environment_arn(scope, name)]
        )
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:PassRole"],
            resources=[airflow.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "airflow.amazonaws.com"}},
        )
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(actions=["s3:GetEncryptionConfiguration"], resources=[dags_bucket.bucket_arn])
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["iam:CreateServiceLinkedRole"],
            resources=[
                stack.format_arn(
                    service="iam",
                    region="",
                    resource="role",
                    resource_name="aws-service-role/airflow.amazonaws.com/AWSServiceRoleForAmazonMWAA",
                )
            ],
            conditions={"StringLike": {"iam:AWSServiceName": "airflow.amazonaws.com"}},
        )
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=[
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "ec2:DescribeRouteTables",
            ],
            resources=["*"],
        )
    )
    _allow_private_network(scope, handler, airflow=airflow, vpc=vpc, subnets=subnets)


def _allow_private_network(
    scope: Construct,
    handler: PythonHandler,
    *,
    airflow: _AirflowEnvironment,
    vpc: ec2.IVpc,
    subnets: Sequence[ec2.ISubnet],
) -> None:
    """The network interfaces and VPC endpoints CreateEnvironment makes, in this VPC, subnets and security group."""
    stack = Stack.of(scope)
    fn = handler.function
    network = [
        stack.format_arn(service="ec2", resource="vpc", resource_name=vpc.vpc_id),
        *[stack.format_arn(service="ec2", resource="subnet", resource_name=s.subnet_id) for s in subnets],
        stack.format_arn(
            service="ec2", resource="security-group", resource_name=airflow.security_group.security_group_id
        ),
    ]
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ec2:CreateVpcEndpoint"],
            resources=[stack.format_arn(service="ec2", resource="vpc-endpoint", resource_name="*"), *network],
        )
    )
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkInterface"],
            resources=[stack.format_arn(service="ec2", resource="network-interface", resource_name="*"), *network],
        )
    )
    for finding in (
        "Resource::*",
        *(
            f"Resource::{nag_text(scope, stack.format_arn(service='ec2', resource=kind, resource_name='*'))}"
            for kind in ("vpc-endpoint", "network-interface")
        ),
    ):
        acknowledge(
            handler.role,
            f"AwsSolutions-IAM5[{finding}]",
            "CreateEnvironment in private network mode creates the environment's VPC endpoints and network "
            "interfaces, whose ids do not exist beforehand, in this construct's VPC, subnets and security group; "
            "the EC2 Describe calls support no resource-level permissions.",
        )
