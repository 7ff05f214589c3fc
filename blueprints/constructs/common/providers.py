"""Custom resources on aws-cdk-lib's Provider framework, with its logs, its waiter's logs and the findings on the
framework's own functions acknowledged once.

Every custom resource of the library is served this way: the handler returns ``PhysicalResourceId`` and ``Data``
(or raises, and the framework reports the message to CloudFormation), and the framework answers CloudFormation's
pre-signed ``ResponseURL``, retrying its own calls. A handler never speaks to CloudFormation itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from blueprints.constructs.common.checks import acknowledge, skip_checkov
from blueprints.constructs.common.workflows import state_machine_log_group

#: Findings on the Provider framework's functions and waiter that aws-cdk-lib builds and offers no setting for:
#: (cdk-nag rule, reason, the checkov checks the same reason answers, whether only the waiter raises it).
_FRAMEWORK_FINDINGS: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    (
        "Serverless-LambdaDLQ",
        "The Provider framework's functions are invoked synchronously by CloudFormation's custom resource "
        "call and by the waiter state machine, which report failures back to CloudFormation.",
        ("CKV_AWS_116",),
        False,
    ),
    (
        "Serverless-LambdaDefaultMemorySize",
        "The Provider framework's functions only relay calls and poll; aws-cdk-lib sizes them and offers "
        "no memory setting.",
        (),
        False,
    ),
    (
        "Serverless-LambdaTracing",
        "aws-cdk-lib offers no tracing setting for the Provider framework's functions; the handlers they "
        "call are traced with X-Ray.",
        (),
        False,
    ),
    (
        "AwsSolutions-SF2",
        "aws-cdk-lib offers no X-Ray setting for the Provider framework's waiter state machine; its "
        "executions are logged to CloudWatch Logs at level ALL.",
        (),
        True,
    ),
    (
        "Serverless-StepFunctionStateMachineXray",
        "aws-cdk-lib offers no X-Ray setting for the Provider framework's waiter state machine; its "
        "executions are logged to CloudWatch Logs at level ALL.",
        (),
        True,
    ),
)


def secure_provider(
    scope: Construct,
    *,
    on_event: lambda_.IFunction,
    logged_data: str,
    is_complete: lambda_.IFunction | None = None,
    query_interval: Duration | None = None,
    total_timeout: Duration | None = None,
    log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
) -> cr.Provider:
    """A ``cr.Provider`` named ``Provider`` in ``scope`` (one per scope), its log groups and its acknowledgments.

    The framework's functions log to ``ProviderLogs``; with ``is_complete``, the waiter state machine logs every
    execution (level ALL, without execution data) to ``WaiterLogs`` under ``/aws/vendedlogs/states/``.
    ``logged_data`` says what the requests and responses hold, which is why those logs have no customer managed
    key (checkov's CKV_AWS_158 records it).
    """
    log_group = logs.LogGroup(scope, "ProviderLogs", retention=log_retention)
    skip_checkov(
        log_group,
        ["CKV_AWS_158"],
        f"The framework's logs record the custom resource's requests and responses ({logged_data}), which "
        "CloudWatch Logs encrypts at rest; the data does not warrant a customer managed key.",
    )
    if is_complete is None:
        if query_interval is not None or total_timeout is not None:
            raise ValueError("query_interval and total_timeout set the waiter, which only an is_complete handler has")
        provider = cr.Provider(scope, "Provider", on_event_handler=on_event, log_group=log_group)
    else:
        provider = cr.Provider(
            scope,
            "Provider",
            on_event_handler=on_event,
            is_complete_handler=is_complete,
            query_interval=query_interval,
            total_timeout=total_timeout,
            log_group=log_group,
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=state_machine_log_group(scope, "WaiterLogs", retention=log_retention),
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
    _acknowledge_framework(provider, [on_event] if is_complete is None else [on_event, is_complete])
    return provider


def _acknowledge_framework(provider: cr.Provider, handlers: Sequence[lambda_.IFunction]) -> None:
    """Findings on the Provider framework's own functions, roles and waiter, which CDK builds and owns.

    ``cr.Provider`` offers no public handle to its framework functions or its waiter state machine (only to
    the handlers it is given), so they are found by the construct ids aws-cdk-lib gives them
    (``framework-isComplete``, ``framework-onTimeout``, ``waiter-state-machine``).
    """
    stack = Stack.of(provider)
    waiter = provider.node.try_find_child("waiter-state-machine")
    invoked: list[IConstruct] = list(handlers)
    if waiter is not None:
        invoked += [provider.node.find_child(name) for name in ("framework-isComplete", "framework-onTimeout")]
    for function in invoked:
        logical_id = stack.get_logical_id(function.node.default_child)  # type: ignore[arg-type]
        acknowledge(
            provider,
            f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>:*]",
            "The Provider framework invokes this one function by ARN and may call any of its versions "
            "(ARN:*); the wildcard covers versions of that function only.",
        )
    acknowledge(
        provider,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "The Provider framework's own functions are built by aws-cdk-lib with this policy. It allows "
        "logs:CreateLogGroup, CreateLogStream and PutLogEvents on every log group of the account (Resource *), "
        "wider than the framework's one ProviderLogs group; aws-cdk-lib offers no way to scope it, and the "
        "functions run only aws-cdk-lib's framework code.",
    )
    if waiter is not None:
        acknowledge(
            waiter,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:CreateLogDelivery and related actions) supports no resource-level "
            "permissions; the waiter state machine needs them to log its executions. aws-cdk-lib's statement also "
            "grants logs:CreateLogStream and PutLogEvents on *, which vended log delivery does not use; the role "
            "is assumable only by this state machine, which runs no code of its own.",
            checkov=["CKV_AWS_111"],
        )
    for rule, reason, checkov, waiter_only in _FRAMEWORK_FINDINGS:
        if waiter is not None or not waiter_only:
            acknowledge(provider, rule, reason, checkov=checkov)
    skip_checkov(
        provider,
        ["CKV_AWS_115", "CKV_AWS_117", "CKV_AWS_173"],
        "aws-cdk-lib's Provider framework functions relay CloudFormation's calls to the construct's handlers and "
        "poll them: invoked once per deployment, they call only Lambda and Step Functions (no VPC to reach), and "
        "their environment names the handlers' ARNs, no secret; aws-cdk-lib offers no setting for any of these.",
    )
