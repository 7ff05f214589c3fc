"""Every grant to an AWS service principal in every example stack names its source (issue #18, item 2).

A resource policy that lets a service principal publish, write or invoke with no ``aws:SourceArn`` or
``aws:SourceAccount`` condition lets that service do so on behalf of *any* account's resource: another
account's EventBridge rule could target our topic, another account's alarm publish to it (the confused
deputy). This walks every policy a resource carries (topic, queue, bucket, key and Lambda permission
policies; role trust policies are out of scope, since EventBridge or CloudWatch can only assume a role a
principal of this account passed to them) and sends each service-principal Allow the request an attacker
would make: the same service, acting for a resource of another account. None may be allowed, except the
pairs below, where AWS documents that the service sends neither key.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from blueprints.constructs.common import UNSOURCED_SERVICE_GRANTS
from blueprints.example_app import STACK_NAMES

ATTACKER = "999999999999"

#: (service principal, action prefix) pairs that may be granted with no source condition, and why. Kept
#: here as well as in the library so that a new exception is a visible change to this test too.
DOCUMENTED_EXCEPTIONS = {
    # SNS calls KMS with the publisher's identity; EventBridge's request carries no aws:SourceArn,
    # aws:SourceAccount or aws:SourceOrgID (EventBridge User Guide, "Amazon SNS permissions", encrypted
    # topics). The topic policy in front of the key is source-bound.
    ("events.amazonaws.com", "kms"),
    # The ALB user guide ("Enable access logs for your Application Load Balancer", Step 2) grants this
    # principal PutObject with no condition key, for Regions opened in or after August 2022.
    ("logdelivery.elasticloadbalancing.amazonaws.com", "s3"),
}

#: Properties that hold a resource policy, by resource type (identity policies name no principal).
POLICY_PROPERTIES = {
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::EFS::FileSystem": "FileSystemPolicy",
    "AWS::Events::EventBusPolicy": "Statement",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::ApiGateway::RestApi": "Policy",
    "AWS::Lambda::LayerVersionPermission": None,
}


def _render(value: Any, account: str, region: str) -> Any:
    """Intrinsics as the strings CloudFormation would give: an attribute of one of our resources becomes an
    ARN in our account, which a request from the attacker's account can never equal."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return {"AWS::Partition": "aws", "AWS::AccountId": account, "AWS::Region": region}.get(
                arg, f"arn:aws:ours:{region}:{account}:{arg}"
            )
        if key == "Fn::GetAtt":
            return f"arn:aws:ours:{region}:{account}:{arg[0]}"
        if key == "Fn::Join":
            return arg[0].join(str(_render(v, account, region)) for v in arg[1])
        if key == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
    if isinstance(value, dict):
        return {k: _render(v, account, region) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, account, region) for v in value]
    return value


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_allows(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators these templates use; a key missing from the request fails
    its condition, and an operator this function does not know counts as refusing (so nothing passes by
    accident)."""
    for operator, keys in condition.items():
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None:
                return False
            patterns = [str(e) for e in _listed(expected)]
            if operator in ("StringEquals", "ArnEquals"):
                ok = actual in patterns
            elif operator in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, p) for p in patterns)
            else:
                return False
            if not ok:
                return False
    return True


def _service_allows(template: dict[str, Any], account: str, region: str) -> Iterator[tuple[str, str, str, Any]]:
    """(logical id, service, action, condition) for every Allow to a service principal."""
    for logical_id, resource in template.get("Resources", {}).items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Lambda::Permission":
            principal = props.get("Principal")
            if isinstance(principal, str) and principal.endswith(".amazonaws.com"):
                condition: dict[str, dict[str, Any]] = {}
                if "SourceArn" in props:
                    condition["ArnLike"] = {"aws:SourceArn": _render(props["SourceArn"], account, region)}
                if "SourceAccount" in props:
                    condition["StringEquals"] = {"aws:SourceAccount": _render(props["SourceAccount"], account, region)}
                yield logical_id, principal, props["Action"], condition
            continue
        if kind not in POLICY_PROPERTIES or POLICY_PROPERTIES[kind] is None:
            continue
        document = props.get(POLICY_PROPERTIES[kind])
        if isinstance(document, str):
            document = json.loads(document)
        for statement in _listed((document or {}).get("Statement", [])):
            principal = statement.get("Principal")
            if statement.get("Effect") != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
                continue
            for service in _listed(principal["Service"]):
                for action in _listed(statement.get("Action", [])):
                    yield logical_id, service, action, _render(statement.get("Condition", {}), account, region)


@pytest.fixture(scope="module")
def stack_envs(example_assembly: Path) -> dict[str, tuple[str, str]]:
    """Each example stack's (account, Region), from the cloud assembly's manifest."""
    manifest = json.loads((example_assembly / "manifest.json").read_text())
    envs = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            account, region = artifact["environment"].removeprefix("aws://").split("/")
            envs[artifact["displayName"]] = (account, region)
    return envs


def _forged_request(service: str, region: str) -> dict[str, str]:
    """What the attacker's own resource would put in the request: their account, their resource's ARN."""
    source_service = {"events.amazonaws.com": "events", "cloudwatch.amazonaws.com": "cloudwatch"}.get(
        service, service.split(".")[0]
    )
    return {
        "aws:SourceAccount": ATTACKER,
        "aws:SourceArn": f"arn:aws:{source_service}:{region}:{ATTACKER}:rule/their-rule",
        "s3:x-amz-acl": "bucket-owner-full-control",
    }


def test_the_exceptions_are_the_ones_the_library_documents() -> None:
    assert set(UNSOURCED_SERVICE_GRANTS) == DOCUMENTED_EXCEPTIONS


def test_every_example_stack_grants_a_service_principal_somewhere(
    example_templates: dict[str, Any], stack_envs: dict[str, tuple[str, str]]
) -> None:
    """The walk below finds what it looks for (a walk that finds nothing would pass vacuously)."""
    found = {name for name, t in example_templates.items() if any(_service_allows(t, *stack_envs[name]))}
    # The Security Lake subscriber stack grants no service principal anything (its roles trust accounts).
    assert found == set(example_templates) - {"SecurityLakeSubscriber"}


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_no_service_principal_acts_for_another_accounts_resource(
    stack_name: str, example_templates: dict[str, Any], stack_envs: dict[str, tuple[str, str]]
) -> None:
    template = example_templates[stack_name]
    account, region = stack_envs[stack_name]
    open_grants = []
    for logical_id, service, action, condition in _service_allows(template, account, region):
        if (service, action.split(":")[0]) in DOCUMENTED_EXCEPTIONS:
            continue
        if _condition_allows(condition, _forged_request(service, region)):
            open_grants.append(f"{logical_id}: {service} {action} {json.dumps(condition)}")
    assert open_grants == []


def test_the_forged_request_would_pass_an_unbound_grant() -> None:
    """The attacker's request is one the evaluator lets through when nothing names the source, and refuses
    when the source is bound: the test above can fail."""
    request = _forged_request("events.amazonaws.com", "us-east-1")
    assert _condition_allows({}, request)
    assert _condition_allows({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}, request)
    assert not _condition_allows({"StringEquals": {"aws:SourceAccount": "111111111111"}}, request)
    assert not _condition_allows(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111111111111:alarm:*"}}, request
    )
    assert _condition_allows({"ArnLike": {"aws:SourceArn": f"arn:aws:events:us-east-1:{ATTACKER}:rule/*"}}, request)


def test_service_principal_statements_are_written_by_the_one_helper() -> None:
    """Resource-policy statements for a service principal come from ``service_grant`` (a role's
    ``assumed_by=iam.ServicePrincipal(...)`` is a trust policy, not a grant on a resource)."""
    package = Path(__file__).resolve().parents[2] / "blueprints"
    direct = [
        f"{path.relative_to(package.parent)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.relative_to(package).as_posix() != "constructs/common/grants.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"principals=\[[^\]]*ServicePrincipal", line)
    ]
    assert direct == []


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_the_real_source_is_still_allowed(
    stack_name: str, example_templates: dict[str, Any], stack_envs: dict[str, tuple[str, str]]
) -> None:
    """The other side: the resource a grant names (this account, the rule, alarm or log delivery its
    aws:SourceArn gives) passes the condition, so binding the source did not also lock the service out."""
    template = example_templates[stack_name]
    account, region = stack_envs[stack_name]
    refused = []
    for logical_id, service, action, condition in _service_allows(template, account, region):
        arns = [
            str(a) for op in ("ArnLike", "ArnEquals") for a in _listed(condition.get(op, {}).get("aws:SourceArn", []))
        ]
        request = {
            # Any other key a condition names (e.g. CloudWatch Logs' encryption context) as the real source sends it.
            **{
                key: str(_listed(value)[0]).replace("*", "x")
                for keys in condition.values()
                for key, value in keys.items()
            },
            "aws:SourceAccount": account,
            "aws:SourceArn": arns[0].replace("*", "x") if arns else f"arn:aws:any:{region}:{account}:x",
            "s3:x-amz-acl": "bucket-owner-full-control",
        }
        if not _condition_allows(condition, request):
            refused.append(f"{logical_id}: {service} {action} {json.dumps(condition)}")
    assert refused == []
