"""Python Lambda functions built the library's way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import (
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from blueprints.constructs.api import METRIC_NAMESPACE
from blueprints.constructs.common.checks import acknowledge, narrowed, skip_checkov
from blueprints.constructs.common.storage import SecureQueue

LAMBDAS_DIR = Path(__file__).resolve().parents[2] / "lambdas"

#: Newest Python runtime that Lambda, cdk-nag (AwsSolutions-L1) and the
#: Powertools layer all support.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
HANDLER_ARCHITECTURE = lambda_.Architecture.ARM_64
#: Powertools release whose public layer the handlers run with; the same
#: version is pinned in requirements-dev.txt, so tests run what Lambda runs.
POWERTOOLS_VERSION = "3.37.0"


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
            "POWERTOOLS_METRICS_NAMESPACE": METRIC_NAMESPACE,
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
        self._trace()
        self._acknowledge(sync_caller)
        self._skip_checkov(vpc is None, reserved_concurrent_executions is None)

    def _trace(self) -> None:
        """Active tracing, with its X-Ray grant in a policy of its own."""
        # Active tracing set on the resource, with the X-Ray grant in a policy of its own: the
        # acknowledgment of its '*' resource then covers X-Ray only, and any other grant on '*'
        # added to the role later still needs its own reviewed acknowledgment. The handlers do not use
        # Powertools' Tracer: it would trace each AWS call, but aws_xray_sdk costs a cold start ~180 ms
        # (CONTRIBUTING.md, "Handlers").
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

    def _acknowledge(self, sync_caller: str | None) -> None:
        """The dead-letter findings, answered by how the function is invoked."""
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
