"""Building blocks every blueprint uses: a secure bucket, a Python handler
function, and a way to acknowledge a cdk-nag finding with a reason.

Written once so that each architecture gets the same secure defaults and the
same nag story; an architecture module never builds a raw bucket or function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import jsii
from aws_cdk import (
    Acknowledgment,
    Annotations,
    ArnFormat,
    Aspects,
    CfnResource,
    Duration,
    FeatureFlags,
    IAspect,
    Names,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
    region_info,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk.interfaces import aws_events as events_refs
from constructs import Construct, IConstruct

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"

#: Newest Python runtime that Lambda, cdk-nag (AwsSolutions-L1) and the
#: Powertools layer all support.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
HANDLER_ARCHITECTURE = lambda_.Architecture.ARM_64
#: Powertools release whose public layer the handlers run with; the same
#: version is pinned in requirements-dev.txt, so tests run what Lambda runs.
POWERTOOLS_VERSION = "3.37.0"

_PACKS = ("AwsSolutions", "Serverless", "HIPAA.Security", "NIST.800.53.R4", "NIST.800.53.R5", "PCI.DSS.321")
_RULE_RE = re.compile(r"^(?P<pack>[A-Za-z0-9.]+)-[A-Za-z0-9]+(\[.+\])?$")
_MIN_REASON = 20


_T = TypeVar("_T")


def narrowed(value: object, kind: type[_T], what: str) -> _T:
    """``value`` as a ``kind``, for the type checker and at run time (an ``assert`` would vanish under ``-O``).

    For what CDK gives back as an interface or a base class (``node.default_child``, ``find_child``): a
    ``TypeError`` naming ``what`` if it is not a ``kind``, which only a change in CDK or in this library causes.
    """
    if not isinstance(value, kind):
        raise TypeError(f"{what}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def present(value: _T | None, what: str) -> _T:
    """``value``, known not to be ``None`` (as :func:`narrowed`, for an optional attribute this code has set)."""
    if value is None:
        raise TypeError(f"{what}: expected a value, got None")
    return value


def acknowledge(scope: IConstruct, rule: str, reason: str, *, checkov: Sequence[str] = ()) -> None:
    """Acknowledge one cdk-nag finding on ``scope`` (and only its children).

    ``rule`` is the finding id as cdk-nag prints it, e.g.
    ``AwsSolutions-IAM5[Resource::*]`` or ``Serverless-LambdaDLQ``; the pack
    prefix that cdk-nag 3 expects is added here. The reason is what a security
    reviewer reads, so an empty or token reason is refused.

    ``checkov`` names the checkov checks the same reason answers (e.g. ``CKV_AWS_116`` next to
    ``Serverless-LambdaDLQ``); they are skipped on the same resources (see :func:`skip_checkov`).
    """
    match = _RULE_RE.match(rule)
    if not match or match.group("pack") not in _PACKS:
        raise ValueError(
            f"rule must be a cdk-nag finding id such as 'AwsSolutions-IAM5[Resource::*]' "
            f"from one of {', '.join(_PACKS)}; got {rule!r}"
        )
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(
            f"reason for acknowledging {rule} must explain why the finding is acceptable "
            f"(at least {_MIN_REASON} characters); got {reason!r}"
        )
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{match.group('pack')}::{rule}", reason=reason.strip()))
    if checkov:
        skip_checkov(scope, checkov, reason)


#: The checkov checks this library skips anywhere, with the CloudFormation resource types each one inspects
#: (checkov's own ``supported_resources``; tools/checkov_gate.py compares this table with the installed
#: checkov's registry, so a wrong entry fails ``make test``).
CHECKOV_RESOURCE_TYPES: Mapping[str, frozenset[str]] = {
    "CKV_AWS_18": frozenset({"AWS::S3::Bucket"}),
    "CKV_AWS_21": frozenset({"AWS::S3::Bucket"}),
    "CKV_AWS_27": frozenset({"AWS::SQS::Queue"}),
    "CKV_AWS_59": frozenset({"AWS::ApiGateway::Method"}),
    "CKV_AWS_111": frozenset(
        {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::Group", "AWS::IAM::User"}
    ),
    "CKV_AWS_115": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_116": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_117": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_120": frozenset({"AWS::ApiGateway::Stage", "AWS::Serverless::Api"}),
    "CKV_AWS_149": frozenset({"AWS::SecretsManager::Secret"}),
    "CKV_AWS_158": frozenset({"AWS::Logs::LogGroup"}),
    "CKV_AWS_173": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
}
_CHECKOV_ID_RE = re.compile(r"^CKV2?_AWS_[0-9]+$")


@jsii.implements(IAspect)
class _CheckovSkip:
    """Writes ``Metadata.checkov.skip`` on each resource of the checks' types at or below the scope it is added to."""

    def __init__(self, checks: Sequence[str], reason: str) -> None:
        self.checks = tuple(checks)
        self.reason = reason

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        wanted = [check for check in self.checks if node.cfn_resource_type in CHECKOV_RESOURCE_TYPES[check]]
        if not wanted:
            return
        metadata = node.get_metadata("checkov") or {}
        skips = list(metadata.get("skip", []))
        listed = {skip["id"] for skip in skips}
        skips += [{"id": check, "comment": self.reason} for check in wanted if check not in listed]
        node.add_metadata("checkov", {**metadata, "skip": skips})


def skip_checkov(scope: IConstruct, checks: Sequence[str], reason: str) -> None:
    """Skip checkov ``checks`` on the resources at or below ``scope``, with ``reason`` as checkov's comment.

    checkov reads a skip from the resource's ``Metadata.checkov.skip`` (``[{"id": ..., "comment": ...}]``) and
    reports it as skipped with that comment. Like :func:`acknowledge`, this covers resources added under
    ``scope`` later too (it runs as an aspect at synthesis), and only those of the types each check inspects.
    Where the finding has a cdk-nag counterpart, pass the checks to :func:`acknowledge` instead, so the two
    scanners read one reason.
    """
    unknown = [check for check in checks if not _CHECKOV_ID_RE.match(check) or check not in CHECKOV_RESOURCE_TYPES]
    if unknown or not checks:
        raise ValueError(
            f"checks must be checkov ids listed in CHECKOV_RESOURCE_TYPES ({', '.join(CHECKOV_RESOURCE_TYPES)}); "
            f"got {list(checks)!r}"
        )
    if len(reason.strip()) < _MIN_REASON:
        raise ValueError(
            f"reason for skipping {', '.join(checks)} must explain why the finding is acceptable "
            f"(at least {_MIN_REASON} characters); got {reason!r}"
        )
    Aspects.of(scope).add(_CheckovSkip(checks, reason.strip()))


def nag_text(scope: IConstruct, value: object) -> str:
    """``value`` (a string that may hold tokens) written as cdk-nag writes it in a finding id.

    The value is resolved in ``scope``'s stack; a ``Ref`` is written ``<Name>`` (``<AWS::Region>`` for a pseudo
    parameter), an ``Fn::GetAtt`` ``<LogicalId.Attribute>``, and an ``Fn::Join`` is flattened. Anything else has no
    cdk-nag spelling, and is refused rather than guessed.
    """
    return _nag_rendered(Stack.of(scope).resolve(value))


def _nag_rendered(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            return str(argument[0]).join(_nag_rendered(part) for part in argument[1])
        if function == "Fn::GetAtt":
            return f"<{argument[0]}.{argument[1]}>"
        if function == "Ref":
            return f"<{argument}>"
    raise ValueError(f"cannot write {value!r} as cdk-nag does in a finding id")


#: The encryptions a :class:`SecureBucket` takes: a customer managed KMS key, or S3-managed keys for buckets that
#: services which cannot use KMS write to (S3 server access logs, ALB access logs).
_BUCKET_ENCRYPTIONS = (s3.BucketEncryption.KMS, s3.BucketEncryption.S3_MANAGED)
#: Removal policies a bucket can have (CloudFormation has no snapshot of a bucket).
_BUCKET_REMOVAL_POLICIES = (RemovalPolicy.RETAIN, RemovalPolicy.DESTROY, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)


def _log_delivery_by_bucket_policy(scope: Construct) -> bool:
    """Whether S3 server access logs are granted by bucket policy (the recommended feature flag,
    set in this project's cdk.json) rather than by the legacy ACL, which needs ObjectWriter."""
    return FeatureFlags.of(scope).is_enabled("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy") is True


class SecureBucket(s3.Bucket):
    """An S3 bucket with the library's defaults.

    TLS-only bucket policy, public access blocked, object ownership enforced,
    encryption at rest (KMS by default), versioning, server access logs to a
    sibling log bucket (or one passed in), and retention on stack deletion
    for data buckets.

    A bucket with ``removal_policy=RemovalPolicy.DESTROY`` is deleted with its stack, but CloudFormation deletes
    only an empty bucket (all versions included): use it for buckets that are empty when the stack goes (e.g.
    staging), and retain anything that services write to (access logs).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption: s3.BucketEncryption = s3.BucketEncryption.KMS,
        encryption_key: kms.IKey | None = None,
        versioned: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        server_access_logs_bucket: s3.IBucket | None = None,
        server_access_logs_prefix: str | None = None,
        access_log_destination: bool = False,
        lifecycle_rules: Sequence[s3.LifecycleRule] | None = None,
        bucket_name: str | None = None,
        event_bridge_enabled: bool | None = None,
    ) -> None:
        """Create the bucket (and its access-log bucket unless given).

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            encryption: ``s3.BucketEncryption.KMS`` or ``s3.BucketEncryption.S3_MANAGED``.
                Default: ``s3.BucketEncryption.KMS``.
            encryption_key: The KMS key; only with ``s3.BucketEncryption.KMS``.
                Default: ``None``: a new key with rotation.
            versioned: Keep object versions.
                Default: ``True``.
            removal_policy: ``RETAIN`` (or ``RETAIN_ON_UPDATE_OR_DELETE``) keeps the bucket when the stack goes;
                ``DESTROY`` deletes it (only when empty). Its access-log bucket gets the same.
                Default: ``RemovalPolicy.RETAIN``.
            server_access_logs_bucket: Where server access logs go.
                Default: ``None``: a sibling log bucket.
            server_access_logs_prefix: Key prefix of the access logs.
                Default: ``None``.
            access_log_destination: This bucket receives access logs itself (needs ``S3_MANAGED``).
                Default: ``False``.
            lifecycle_rules: Lifecycle rules of the bucket.
                Default: ``None``.
            bucket_name: A physical name.
                Default: ``None``: generated.
            event_bridge_enabled: Send the bucket's events to EventBridge.
                Default: ``None``: off.

        Attributes:
            server_access_logs_bucket (s3.IBucket | None)
        """
        if encryption not in _BUCKET_ENCRYPTIONS:
            raise ValueError(
                f"encryption must be s3.BucketEncryption.KMS or s3.BucketEncryption.S3_MANAGED; got {encryption}"
            )
        if removal_policy not in _BUCKET_REMOVAL_POLICIES:
            raise ValueError(
                "removal_policy must be RemovalPolicy.RETAIN, RETAIN_ON_UPDATE_OR_DELETE or DESTROY (a bucket has "
                f"no snapshot); got {removal_policy}"
            )
        if encryption_key is not None and encryption is not s3.BucketEncryption.KMS:
            raise ValueError(
                "encryption_key is only used with encryption=s3.BucketEncryption.KMS; "
                f"got encryption={encryption} and an encryption_key"
            )
        if access_log_destination and server_access_logs_bucket is not None:
            raise ValueError(
                "an access_log_destination bucket does not log to another bucket; "
                "pass either access_log_destination=True or server_access_logs_bucket, not both"
            )
        if access_log_destination and encryption is s3.BucketEncryption.KMS:
            raise ValueError(
                "S3 server access logs can only be delivered to a bucket with S3-managed "
                "encryption; use encryption=s3.BucketEncryption.S3_MANAGED for access_log_destination"
            )
        logs_bucket = server_access_logs_bucket
        if not access_log_destination and logs_bucket is None:
            logs_bucket = SecureBucket(
                scope,
                f"{id}AccessLogs",
                encryption=s3.BucketEncryption.S3_MANAGED,
                access_log_destination=True,
                removal_policy=removal_policy,
                versioned=False,
                lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            )
        super().__init__(
            scope,
            id,
            bucket_name=bucket_name,
            encryption=encryption,
            encryption_key=encryption_key,
            bucket_key_enabled=encryption is s3.BucketEncryption.KMS,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=(
                s3.ObjectOwnership.OBJECT_WRITER
                if access_log_destination and not _log_delivery_by_bucket_policy(scope)
                else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
            ),
            versioned=versioned,
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix=server_access_logs_prefix or (f"{id}/" if logs_bucket else None),
            lifecycle_rules=list(lifecycle_rules) if lifecycle_rules else None,
            removal_policy=removal_policy,
            auto_delete_objects=False,
            event_bridge_enabled=event_bridge_enabled,
        )
        self.server_access_logs_bucket = logs_bucket
        if access_log_destination:
            acknowledge(
                self,
                "AwsSolutions-S1",
                "This bucket is the server access log destination; logging it into itself "
                "would loop, and S3 records its own writes in CloudTrail data events if enabled.",
                checkov=["CKV_AWS_18"],
            )
            if not versioned:
                skip_checkov(
                    self,
                    ["CKV_AWS_21"],
                    "Access logs are written once, under keys of their own, by the log delivery service, and "
                    "expire by the lifecycle rule; versioning would only keep a copy of each expired log.",
                )


class SecureQueue(sqs.Queue):
    """An SQS queue with the library's defaults: KMS or SQS-managed encryption,
    TLS-only policy, and a dead-letter queue (unless it is one)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        encryption_key: kms.IKey | None = None,
        visibility_timeout: Duration = Duration.seconds(30),
        retention_period: Duration = Duration.days(4),
        dead_letter_queue: sqs.IQueue | None = None,
        max_receive_count: int = 5,
        is_dead_letter_queue: bool = False,
    ) -> None:
        """Create the queue and, unless it is one, its dead-letter queue.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            encryption_key: KMS key of the queue (and of its new dead-letter queue).
                Default: ``None``: SQS-managed encryption.
            visibility_timeout: The queue's visibility timeout.
                Default: 30 seconds.
            retention_period: How long a message is kept.
                Default: 4 days.
            dead_letter_queue: A dead-letter queue of yours; refused with ``is_dead_letter_queue``.
                Default: ``None``: a new one.
            max_receive_count: Receives before a message moves to the dead-letter queue, at least 1.
                Default: 5.
            is_dead_letter_queue: This queue is itself a dead-letter queue (it gets none).
                Default: ``False``.

        Attributes:
            dead_letters (sqs.IQueue | None)
        """
        if is_dead_letter_queue and dead_letter_queue is not None:
            raise ValueError("a queue that is a dead-letter queue takes no dead_letter_queue of its own")
        if max_receive_count < 1:
            raise ValueError(f"max_receive_count must be at least 1; got {max_receive_count}")
        self.dead_letters: sqs.IQueue | None = None
        if not is_dead_letter_queue:
            self.dead_letters = dead_letter_queue or SecureQueue(
                scope,
                f"{id}DeadLetters",
                encryption_key=encryption_key,
                is_dead_letter_queue=True,
                retention_period=Duration.days(14),
            )
        super().__init__(
            scope,
            id,
            encryption=sqs.QueueEncryption.KMS if encryption_key else sqs.QueueEncryption.SQS_MANAGED,
            encryption_master_key=encryption_key,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=retention_period,
            dead_letter_queue=(
                sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=max_receive_count)
                if self.dead_letters
                else None
            ),
        )
        if encryption_key is None:
            skip_checkov(
                self,
                ["CKV_AWS_27"],
                "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled, set by CDK's SQS_MANAGED); "
                "checkov's CKV_AWS_27 counts only KmsMasterKeyId. Pass encryption_key for a customer managed key.",
            )
        if is_dead_letter_queue:
            acknowledge(
                self,
                "Serverless-SQSRedrivePolicy",
                "This queue is itself a dead-letter queue: its messages stay here for inspection "
                "and redrive; a further redrive target would only move the same failures again.",
            )

    @classmethod
    def dead_letter(cls, scope: Construct, id: str, *, encryption_key: kms.IKey | None = None) -> SecureQueue:
        """A dead-letter queue that keeps messages for the 14-day maximum."""
        return cls(
            scope, id, encryption_key=encryption_key, is_dead_letter_queue=True, retention_period=Duration.days(14)
        )


#: Where a state machine's execution logs go. Step Functions delivers them as vended logs, which CloudWatch Logs
#: admits through a resource policy that Step Functions adds to when logging is turned on; those policies are
#: limited to 5,120 characters (and 10 per Region), so in a busy account a new state machine's logging fails to
#: be set up. Log groups under ``/aws/vendedlogs/`` are admitted without growing the policy (Step Functions
#: Developer Guide, "Avoiding Amazon CloudWatch Logs resource policy size restrictions"; CloudWatch Logs User
#: Guide, "Enabling logging from AWS services"), and ``/aws/vendedlogs/states/`` is what the Step Functions
#: console names them.
STATE_MACHINE_LOG_PREFIX = "/aws/vendedlogs/states/"
_LOG_GROUP_NAME_MAX = 512


def state_machine_log_group(
    scope: Construct,
    id: str,
    *,
    retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
    removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
) -> logs.LogGroup:
    """A log group for one state machine's execution logs, named ``/aws/vendedlogs/states/<stack>-<path>-<hash>``.

    The name is fixed, so it carries the stack name and the construct path (``Names.unique_resource_name``)
    to be unique in the account and Region. Because a fixed name cannot be created twice, the group is
    deleted with the stack by default: a retained group would make the stack fail to create again.
    """
    log_group = logs.LogGroup(scope, id, retention=retention, removal_policy=removal_policy)
    name = STATE_MACHINE_LOG_PREFIX + Names.unique_resource_name(
        log_group,
        separator="-",
        allowed_special_characters="-_.",
        max_length=_LOG_GROUP_NAME_MAX - len(STATE_MACHINE_LOG_PREFIX),
    )
    cfn_log_group = narrowed(log_group.node.default_child, logs.CfnLogGroup, "the log group's resource")
    cfn_log_group.log_group_name = name
    skip_checkov(
        log_group,
        ["CKV_AWS_158"],
        "Execution logs carry state names, resource identifiers and outcomes of the library's own workflows; "
        "CloudWatch Logs encrypts every log group at rest, and the data does not warrant a customer managed key.",
    )
    return log_group


def powertools_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The public Powertools for AWS Lambda (Python) layer for the stack's Region.

    The ARN comes from Powertools' public SSM parameter for the pinned version,
    resolved by CloudFormation at deploy time, so synthesis needs no AWS call and
    each Region gets its own layer ARN. One layer construct per stack.
    """
    stack = Stack.of(scope)
    existing = stack.node.try_find_child("PowertoolsLayer")
    if existing is not None:
        return existing  # type: ignore[return-value]
    arch = HANDLER_ARCHITECTURE.name  # "arm64" or "x86_64", as the parameter path spells them
    arn = ssm.StringParameter.value_for_string_parameter(
        stack, f"/aws/service/powertools/python/{arch}/{PYTHON_RUNTIME.name}/{POWERTOOLS_VERSION}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(stack, "PowertoolsLayer", arn)


def handler_code(name: str) -> lambda_.Code:
    """Asset code for the handler folder ``blueprints/lambdas/<name>/``."""
    folder = LAMBDAS_DIR / name
    if not (folder / "index.py").is_file():
        raise ValueError(f"no handler at blueprints/lambdas/{name}/index.py; handlers are folders with index.py")
    return lambda_.Code.from_asset(str(folder), exclude=["__pycache__", "*.pyc", ".mypy_cache"])


class PythonHandler(Construct):
    """A Python Lambda function built the library's way.

    Code from ``blueprints/lambdas/<name>/index.py:handler`` (or ``code`` passed
    in), the newest Python runtime on Graviton, the public Powertools layer, a log
    group with retention, X-Ray tracing, and its own role with no AWS managed
    policies: the function may write only to its own log group until the caller
    grants more.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        description: str,
        code: lambda_.Code | None = None,
        environment: Mapping[str, str] | None = None,
        timeout: Duration = Duration.seconds(30),
        memory_size: int = 256,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        reserved_concurrent_executions: int | None = None,
        service_name: str | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        sync_caller: str | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
    ) -> None:
        """Create the function, its role and its log group.

        Args:
            scope: The parent construct.
            id: The construct's id, unique in ``scope``.
            name: The handler's folder under ``blueprints/lambdas/``.
                Required.
            description: What the function does (also its role's description).
                Required.
            code: Code of your own instead of the packaged handler.
                Default: ``None``: ``blueprints/lambdas/<name>``.
            environment: Environment variables added to Powertools' own.
                Default: ``None``.
            timeout: The function's timeout.
                Default: 30 seconds.
            memory_size: Memory in MB, 128 to 10240.
                Default: 256.
            log_retention: Retention of the function's log group.
                Default: ``logs.RetentionDays.THREE_MONTHS``.
            reserved_concurrent_executions: Reserved concurrency.
                Default: ``None``.
            service_name: Powertools' service name (the ``service`` metric dimension).
                Default: ``None``: ``name``.
            vpc: Run the function in this VPC.
                Default: ``None``.
            vpc_subnets: Its subnets in ``vpc``.
                Default: ``None``.
            security_groups: Its security groups in ``vpc``.
                Default: ``None``.
            sync_caller: Who invokes it synchronously (then it gets no dead-letter queue); refused with
                ``dead_letter_queue``.
                Default: ``None``.
            dead_letter_queue: Dead-letter queue of asynchronous invocations.
                Default: ``None``: a new one unless ``sync_caller``.

        Attributes:
            log_group (logs.ILogGroup)
            role (iam.IRole)
            dead_letter_queue (sqs.IQueue | None)
            function (lambda_.Function)
            tracing_policy (iam.Policy)
        """
        super().__init__(scope, id)
        if sync_caller is not None and dead_letter_queue is not None:
            raise ValueError(
                f"a function invoked synchronously (sync_caller={sync_caller!r}) never uses a dead_letter_queue; "
                "pass one or the other"
            )
        if memory_size < 128 or memory_size > 10240:
            raise ValueError(f"memory_size must be between 128 and 10240 MB; got {memory_size}")
        self.log_group: logs.ILogGroup = logs.LogGroup(
            self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.role: iam.IRole = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs {description[:900]}",
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service_name or name,
            "POWERTOOLS_METRICS_NAMESPACE": "Blueprints",
            "LOG_LEVEL": "INFO",
        }
        env.update(environment or {})
        self.dead_letter_queue: sqs.IQueue | None = None
        if sync_caller is None:
            self.dead_letter_queue = dead_letter_queue or SecureQueue.dead_letter(self, "DeadLetters")
        self.function: lambda_.Function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=PYTHON_RUNTIME,
            architecture=HANDLER_ARCHITECTURE,
            handler="index.handler",
            code=code or handler_code(name),
            layers=[powertools_layer(self)],
            environment=env,
            timeout=timeout,
            memory_size=memory_size,
            role=self.role,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrent_executions,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) if security_groups else None,
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=2 if sync_caller is None else None,
        )
        self.log_group.grant_write(self.role)
        # Active tracing set on the resource, with the X-Ray grant in a policy of its own: the
        # acknowledgment of its '*' resource then covers X-Ray only, and any other grant on '*'
        # added to the role later still needs its own reviewed acknowledgment.
        cfn_function = narrowed(self.function.node.default_child, lambda_.CfnFunction, "the function's resource")
        cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        self.tracing_policy = iam.Policy(
            self,
            "TracingPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
            ],
        )
        cfn_function.node.add_dependency(self.tracing_policy)
        acknowledge(
            self.tracing_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level "
            "permissions; Lambda's active tracing needs them on '*'.",
        )
        if sync_caller is None:
            acknowledge(
                self.function,
                "Serverless-LambdaAsyncFailureDestination",
                "Events that still fail after two retries go to the function's dead-letter queue "
                "(DeadLetterConfig); an on-failure destination as well would deliver each failure twice.",
            )
        else:
            acknowledge(
                self.function,
                "Serverless-LambdaDLQ",
                f"Invoked synchronously by {sync_caller}: a failure returns to the caller, which retries "
                "or records it, and a Lambda DLQ only ever receives asynchronous invocations.",
                checkov=["CKV_AWS_116"],
            )
        self._skip_checkov(vpc is None, reserved_concurrent_executions is None)

    def _skip_checkov(self, outside_vpc: bool, unreserved: bool) -> None:
        """checkov's Lambda checks that the library's handlers answer by design, each with its reason."""
        skip_checkov(
            self.function,
            ["CKV_AWS_173"],
            "The environment holds resource names, ARNs and Powertools settings, never a secret; Lambda "
            "encrypts environment variables at rest with an AWS managed key.",
        )
        skip_checkov(
            self.log_group,
            ["CKV_AWS_158"],
            "The handlers log identifiers, outcomes and error messages (Powertools, log_event=False), never "
            "event payloads or secret values; CloudWatch Logs encrypts every log group at rest, and the data "
            "does not warrant a customer managed key.",
        )
        if outside_vpc:
            skip_checkov(
                self.function,
                ["CKV_AWS_117"],
                "The function calls AWS service APIs only, over TLS, and reaches nothing inside a VPC; in one it "
                "would need a NAT gateway or an endpoint per service and gain no isolation: its role bounds it.",
            )
        if unreserved:
            skip_checkov(
                self.function,
                ["CKV_AWS_115"],
                "Its caller bounds its concurrency (an event source, state machine or rule of low volume); "
                "reserving would take from the account's unreserved pool and can fail the deployment in an "
                "account with a low quota. reserved_concurrent_executions reserves it where that matters.",
            )


# --- Service principals: grants bound to their source (confused-deputy protection) -------------------------
#
# A resource policy that lets an AWS service principal publish, write or invoke lets that service do so for
# *any* customer's resource (another account's rule, alarm or bucket) unless the statement names the source.
# The service puts the source in the request as aws:SourceArn and aws:SourceAccount; every service grant in
# this library is made by ``service_grant`` below, which adds both wherever the service sends them.

#: (service principal, service prefix of the actions) pairs where the calling service sends neither
#: aws:SourceArn nor aws:SourceAccount, so a condition on them would refuse every real request. Each names
#: the AWS statement that says so and what protects the resource instead. Nothing else may be granted
#: without a source condition (``service_grant`` refuses it).
UNSOURCED_SERVICE_GRANTS: Mapping[tuple[str, str], str] = {
    ("events.amazonaws.com", "kms"): (
        "EventBridge's KMS requests for an encrypted SNS topic target carry no aws:SourceArn, aws:SourceAccount "
        "or aws:SourceOrgID (EventBridge User Guide, 'Amazon SNS permissions' for encrypted topics). SNS makes "
        "that request only for a publish the topic policy admitted, and the topic policy admits the construct's "
        "own rule alone (TopicRuleTarget), so another account's rule never gets as far as the key."
    ),
    ("logdelivery.elasticloadbalancing.amazonaws.com", "s3"): (
        "The ALB user guide ('Enable access logs for your Application Load Balancer', Step 2) gives this "
        "principal's grant, for Regions opened in or after August 2022, with no condition key, and documents "
        "none. The object path names this account (<prefix>/AWSLogs/<account>/), so a load balancer of "
        "another account can only write under its own account's path, and the bucket holds nothing else."
    ),
}

#: Condition keys other than aws:SourceArn/aws:SourceAccount that bind a grant to its source, with the
#: AWS statement that documents them: CloudWatch Logs calls KMS with the log group's ARN as encryption
#: context (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS", key policy).
SOURCE_BINDING_KEYS = frozenset({"kms:EncryptionContext:aws:logs:arn"})

_SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
_ACTION_RE = re.compile(r"^(?P<prefix>[a-z0-9-]+):[A-Za-z][A-Za-z0-9]*\*?$")


def service_grant(
    scope: IConstruct,
    *,
    service: str,
    actions: Sequence[str],
    resources: Sequence[str],
    source_arn: str | None = None,
    source_account: bool = True,
    conditions: Mapping[str, Mapping[str, object]] | None = None,
    sid: str | None = None,
) -> iam.PolicyStatement:
    """An Allow statement for the AWS service principal ``service``, bound to its source.

    ``aws:SourceAccount`` is this stack's account (unless ``source_account=False``) and ``aws:SourceArn``
    is ``source_arn`` (an ARN, or an ARN pattern such as ``...:alarm:*``) when it is known at synthesis.
    Pass neither only for a pair listed in :data:`UNSOURCED_SERVICE_GRANTS`, where AWS documents that the
    service sends no source key; for any other pair that is refused, and so is a source condition on a listed
    pair (it would refuse every real request). ``conditions`` adds further condition blocks.
    """
    if not _SERVICE_RE.match(service):
        raise ValueError(f"service must be an AWS service principal such as 'events.amazonaws.com'; got {service!r}")
    if not actions:
        raise ValueError(f"actions for {service} must name at least one action; got {list(actions)!r}")
    prefixes = set()
    for action in actions:
        match = _ACTION_RE.match(action)
        if not match:
            raise ValueError(
                f"actions must be 'service:Action' names (a trailing '*' at most, e.g. 'kms:GenerateDataKey*'), "
                f"never '*' or 'service:*'; got {action!r}"
            )
        prefixes.add(match.group("prefix"))
    if len(prefixes) != 1:
        raise ValueError(f"actions of one service grant must belong to one service; got {sorted(prefixes)}")
    if not resources:
        raise ValueError(f"resources for {service} must name at least one resource; got {list(resources)!r}")
    pair = (service, prefixes.pop())
    bound = (
        source_account
        or source_arn is not None
        or any(key in SOURCE_BINDING_KEYS for keys in (conditions or {}).values() for key in keys)
    )
    if pair in UNSOURCED_SERVICE_GRANTS and bound:
        raise ValueError(
            f"{pair[0]} sends no aws:SourceArn or aws:SourceAccount to {pair[1]} ({UNSOURCED_SERVICE_GRANTS[pair]}); "
            "a source condition would refuse every delivery: pass source_account=False and no source_arn"
        )
    if pair not in UNSOURCED_SERVICE_GRANTS and not bound:
        raise ValueError(
            f"a grant to {pair[0]} for {pair[1]} actions must name its source (aws:SourceAccount, aws:SourceArn); "
            f"only {sorted(UNSOURCED_SERVICE_GRANTS)} are documented as sending neither"
        )
    merged: dict[str, dict[str, object]] = {op: dict(keys) for op, keys in (conditions or {}).items()}
    if source_account:
        merged.setdefault("StringEquals", {})["aws:SourceAccount"] = Stack.of(scope).account
    if source_arn is not None:
        merged.setdefault("ArnLike", {})["aws:SourceArn"] = source_arn
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=list(actions),
        resources=list(resources),
        conditions=merged or None,
    )


def alarm_arn_pattern(scope: IConstruct) -> str:
    """``arn:<partition>:cloudwatch:<region>:<account>:alarm:*``: any alarm of this stack's account and Region,
    the ``aws:SourceArn`` CloudWatch sends when an alarm action publishes (CloudWatch User Guide, 'Confused
    deputy prevention'); alarm names are generated, so the pattern, not each ARN, is known at synthesis."""
    return Stack.of(scope).format_arn(
        service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
    )


_MAX_RETRY_ATTEMPTS = 185


@jsii.implements(events.IRuleTarget)
class TopicRuleTarget:
    """An EventBridge rule target that publishes to an SNS topic, allowed for that rule only.

    ``aws_events_targets.SnsTopic`` lets ``events.amazonaws.com`` publish with no source condition, so any
    account's rule could target the topic. This target grants the same publish bound to the rule's ARN (and
    this account), as EventBridge documents for SNS targets, and gives its dead-letter queue the same bound
    grant. A KMS-encrypted topic still needs the key grant (see :data:`UNSOURCED_SERVICE_GRANTS`).
    """

    def __init__(
        self,
        topic: sns.ITopic,
        *,
        message: events.RuleTargetInput | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
    ) -> None:
        if retry_attempts is not None and not 0 <= retry_attempts <= _MAX_RETRY_ATTEMPTS:
            raise ValueError(f"retry_attempts must be between 0 and {_MAX_RETRY_ATTEMPTS}; got {retry_attempts}")
        if max_event_age is not None and not Token.is_unresolved(max_event_age.to_seconds()):
            seconds = max_event_age.to_seconds()
            if not 60 <= seconds <= 86400:
                raise ValueError(f"max_event_age must be between 1 minute and 24 hours; got {seconds} seconds")
        self.topic = topic
        self.message = message
        self.dead_letter_queue = dead_letter_queue
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events_refs.IRuleRef, id: str | None = None) -> events.RuleTargetConfig:
        rule_arn = events.CfnRule.arn_for_rule(rule)
        self.topic.add_to_resource_policy(
            service_grant(
                self.topic,
                service="events.amazonaws.com",
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                source_arn=rule_arn,
            )
        )
        dead_letter_config = None
        if self.dead_letter_queue is not None:
            self.dead_letter_queue.add_to_resource_policy(
                service_grant(
                    self.dead_letter_queue,
                    service="events.amazonaws.com",
                    actions=["sqs:SendMessage"],
                    resources=[self.dead_letter_queue.queue_arn],
                    source_arn=rule_arn,
                )
            )
            dead_letter_config = events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn)
        retry_policy = None
        if self.retry_attempts is not None or self.max_event_age is not None:
            retry_policy = events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(self.max_event_age.to_seconds()) if self.max_event_age else None,
            )
        return events.RuleTargetConfig(
            arn=self.topic.topic_arn,
            input=self.message,
            dead_letter_config=dead_letter_config,
            retry_policy=retry_policy,
            target_resource=self.topic,
        )


def log_alb_access_logs(load_balancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: str) -> None:
    """Turn on the load balancer's access logs into ``bucket`` under ``prefix``, with the grants AWS documents.

    This replaces ``ApplicationLoadBalancer.log_access_logs``, whose two grants to ``delivery.logs.amazonaws.com``
    carry no source condition. Elastic Load Balancing itself writes as its Regional account (Regions before
    August 2022) or as ``logdelivery.elasticloadbalancing.amazonaws.com`` (newer Regions), and the ALB user
    guide gives both grants with no source condition: an account principal is not a service principal, so it
    sends no aws:SourceAccount, and the service principal documents none (see
    :data:`UNSOURCED_SERVICE_GRANTS`). What limits them is the object path ``<prefix>/AWSLogs/<this account>/``.
    The ``delivery.logs.amazonaws.com`` grants (kept as CDK writes them, for log types delivered through
    CloudWatch's log-delivery service) are bound to this account's log deliveries with the aws:SourceAccount
    and aws:SourceArn the ELB user guide documents for that principal ('Enable access logs for your Network
    Load Balancer').
    """
    if not prefix or prefix.startswith("/") or prefix.endswith("/") or "AWSLogs" in prefix:
        raise ValueError(
            "prefix must be a non-empty S3 key prefix with no leading or trailing '/' that does not contain "
            f"'AWSLogs' (Elastic Load Balancing adds AWSLogs/<account>/ itself); got {prefix!r}"
        )
    stack = Stack.of(load_balancer)
    if Token.is_unresolved(stack.region):
        raise ValueError(
            "ALB access logs need the stack's Region at synthesis (the log-delivery principal differs by Region); "
            "give the stack an env with a region"
        )
    load_balancer.set_attribute("access_logs.s3.enabled", "true")
    load_balancer.set_attribute("access_logs.s3.bucket", bucket.bucket_name)
    load_balancer.set_attribute("access_logs.s3.prefix", prefix)
    log_objects = bucket.arn_for_objects(f"{prefix}/AWSLogs/{stack.account}/*")
    elb_account = region_info.RegionInfo.get(stack.region).elbv2_account
    if elb_account:
        elb_grant = iam.PolicyStatement(
            principals=[iam.AccountPrincipal(elb_account)], actions=["s3:PutObject"], resources=[log_objects]
        )
    else:
        elb_grant = service_grant(
            load_balancer,
            service="logdelivery.elasticloadbalancing.amazonaws.com",
            actions=["s3:PutObject"],
            resources=[log_objects],
            source_account=False,
        )
    bucket.add_to_resource_policy(elb_grant)
    log_delivery_sources = stack.format_arn(service="logs", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME)
    bucket.add_to_resource_policy(
        service_grant(
            load_balancer,
            service="delivery.logs.amazonaws.com",
            actions=["s3:PutObject"],
            resources=[log_objects],
            source_arn=log_delivery_sources,
            conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        )
    )
    bucket.add_to_resource_policy(
        service_grant(
            load_balancer,
            service="delivery.logs.amazonaws.com",
            actions=["s3:GetBucketAcl"],
            resources=[bucket.bucket_arn],
            source_arn=log_delivery_sources,
        )
    )
    # ELB checks its access to the bucket when the attribute is set: the policy must exist first.
    cfn_load_balancer = load_balancer.node.default_child
    cfn_policy = bucket.policy.node.default_child if bucket.policy else None
    if isinstance(cfn_load_balancer, elbv2.CfnLoadBalancer) and cfn_policy is not None:
        cfn_load_balancer.add_resource_dependency(cfn_policy)  # type: ignore[arg-type]


def _notification_key(scope: Construct, key: kms.IKey) -> None:
    """Let CloudWatch alarms publish to a topic encrypted with ``key``."""
    if isinstance(key, kms.Key):
        key.add_to_resource_policy(
            service_grant(
                scope,
                sid="AllowCloudWatchAlarmsToPublish",
                service="cloudwatch.amazonaws.com",
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )


def alarm_notification_topic(scope: Construct, key: kms.IKey, topic: sns.ITopic | None) -> sns.ITopic:
    """The notification topic: ``topic`` as given (its owner must let CloudWatch alarms publish),
    or a new one encrypted with ``key`` that this account's alarms may publish to."""
    if topic is not None:
        return topic
    _notification_key(scope, key)
    created = sns.Topic(scope, "Notifications", master_key=key, enforce_ssl=True)
    # enforce_ssl writes a topic policy, which replaces SNS's default one (the one that lets the
    # account's alarms publish); without this statement CloudWatch's publish is denied.
    created.add_to_resource_policy(
        service_grant(
            scope,
            sid="CloudWatchAlarmsPublish",
            service="cloudwatch.amazonaws.com",
            actions=["sns:Publish"],
            resources=[created.topic_arn],
            source_arn=alarm_arn_pattern(scope),
        )
    )
    return created


#: What ``Stack.availability_zones`` returns while CDK has no answer to its lookup (aws-cdk-lib's
#: ``ContextProvider`` dummy value for the ``availability-zones`` provider).
_DUMMY_ZONES = frozenset({"dummy1a", "dummy1b", "dummy1c"})
#: The key under which the ``cdk`` CLI hands an app a lookup it could not make (cloud-assembly-api's
#: ``PROVIDER_ERROR_KEY``): ``{"$providerError": "Need to perform AWS calls ...", "$dontSaveContext": true}``.
_PROVIDER_ERROR = "$providerError"


def explain_zone_lookup(construct: Construct, vpc: ec2.IVpc, *, created: bool) -> None:
    """Name the construct and the argument that avoids it when ``cdk synth`` could not look the zones up.

    In an environment-specific stack, ``ec2.Vpc`` asks CDK for the Region's Availability Zones (even when given
    zone names: it checks them). Without AWS credentials the CLI then stops with CDK's own error on the *stack*
    ("Need to perform AWS calls for account ..."), which says neither which construct asked nor how to avoid it.
    This adds an error on ``construct`` that does, on the synthesis where the CLI reports the failed lookup (the
    first one, with no answer yet, passes: with credentials the lookup then succeeds). ``created`` says the
    construct made ``vpc`` itself; otherwise ``vpc`` is the caller's and is blamed only if its zones are CDK's
    placeholders.
    """
    stack = Stack.of(vpc)
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return  # an environment-agnostic stack uses Fn::GetAZs: nothing is looked up
    key = f"availability-zones:account={stack.account}:region={stack.region}"
    answer = construct.node.try_get_context(key)
    if not (isinstance(answer, Mapping) and _PROVIDER_ERROR in answer):
        return
    name = f"{type(construct).__name__} {construct.node.path!r}"
    if created:
        # The stack answered with CDK's placeholders, so this construct's VPC made the lookup (a stack that
        # overrides availability_zones, such as blueprints.ExampleStack, answers without one).
        if not _DUMMY_ZONES.intersection(stack.availability_zones):
            return
        message = (
            f"{name} creates a VPC in the environment-specific stack {stack.node.path!r}, and CDK looks that "
            f"Region's Availability Zones up ({key}), which needs AWS credentials. To synthesize without them, "
            "pass vpc= (an ec2.IVpc you own), or build the construct in a blueprints.ExampleStack (its zones come "
            "from Fn::GetAZs; availability_zones= then names the zones to use), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    else:
        if not _DUMMY_ZONES.intersection(z for z in vpc.availability_zones if not Token.is_unresolved(z)):
            return
        message = (
            f"{name}: the VPC passed as vpc= was built in the environment-specific stack {stack.node.path!r}, "
            f"whose Availability Zones CDK looks up ({key}), which needs AWS credentials. To synthesize without "
            "them, build that VPC in a blueprints.ExampleStack (its zones come from Fn::GetAZs), or pass "
            "ec2.Vpc.from_vpc_attributes(..., availability_zones=[...]), or run `cdk synth` once with "
            "credentials and commit cdk.context.json."
        )
    Annotations.of(construct).add_error(message)
