"""Acknowledging a scanner's finding with a reason (cdk-nag, checkov), and narrowing CDK's return types."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

import jsii
from aws_cdk import (
    Acknowledgment,
    Aspects,
    CfnResource,
    IAspect,
    Stack,
    Validations,
)
from constructs import IConstruct

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
    "CKV_AWS_2": frozenset({"AWS::ElasticLoadBalancingV2::Listener"}),
    "CKV_AWS_18": frozenset({"AWS::S3::Bucket"}),
    "CKV_AWS_21": frozenset({"AWS::S3::Bucket"}),
    "CKV_AWS_27": frozenset({"AWS::SQS::Queue"}),
    "CKV_AWS_59": frozenset({"AWS::ApiGateway::Method"}),
    "CKV_AWS_68": frozenset({"AWS::CloudFront::Distribution"}),
    "CKV_AWS_86": frozenset({"AWS::CloudFront::Distribution"}),
    "CKV_AWS_103": frozenset({"AWS::ElasticLoadBalancingV2::Listener"}),
    "CKV_AWS_111": frozenset(
        {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::Group", "AWS::IAM::User"}
    ),
    "CKV_AWS_115": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_116": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_117": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
    "CKV_AWS_120": frozenset({"AWS::ApiGateway::Stage", "AWS::Serverless::Api"}),
    "CKV_AWS_149": frozenset({"AWS::SecretsManager::Secret"}),
    "CKV_AWS_158": frozenset({"AWS::Logs::LogGroup"}),
    "CKV_AWS_260": frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"}),
    "CKV_AWS_173": frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"}),
}


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
    unknown = [check for check in checks if check not in CHECKOV_RESOURCE_TYPES]
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


def acknowledge_wildcard(scope: IConstruct, resource: object, reason: str, *, checkov: Sequence[str] = ()) -> None:
    """Acknowledge ``AwsSolutions-IAM5`` on ``scope`` for one wildcard ``resource`` of its policies.

    ``resource`` is the ARN as the policy names it (a string that may hold tokens, e.g.
    ``f"{bucket.bucket_arn}/backups/*"``); the finding id is written from it as cdk-nag writes it
    (:func:`nag_text`), so the acknowledgment follows the resource when its logical id changes.
    """
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{nag_text(scope, resource)}]", reason, checkov=checkov)


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
