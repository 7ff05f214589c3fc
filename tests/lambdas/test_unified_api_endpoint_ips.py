"""The unified API's deploy-time lookups: endpoint ENI IPs and a managed prefix list id.

AWS through moto (it implements both Describe calls, including the interfaces of
an interface VPC endpoint), botocore Stubber for faults. The events are what
aws-cdk-lib's Provider framework hands its ``onEvent`` handler: CloudFormation's
request as it came (aws-cdk-lib 2.275.0, ``custom-resources/lib/provider-framework/runtime/framework.js``,
``invokeUserFunction``). The framework answers CloudFormation with the handler's ``PhysicalResourceId`` and
``Data``, or, when the handler raises, FAILED with its ``errorMessage`` (and the trace), and on a failed Create
with its own ``CREATE_FAILED`` physical id, whose Delete it answers without calling the handler
(``cfn-response.js``, ``safeHandler``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed
from tests.provider_framework_kit import (
    FrameworkRun,
    framework_asset,
    framework_environment,
    framework_function,
    run_framework,
)


@pytest.fixture
def index() -> ModuleType:
    return load_handler("unified_api_endpoint_ips")


@pytest.fixture
def endpoint() -> Iterator[dict[str, Any]]:
    """An execute-api interface endpoint in three subnets of three AZs (moto)."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
                "SubnetId"
            ]
            for i, zone in enumerate("cab")
        ]
        created = ec2.create_vpc_endpoint(
            VpcId=vpc_id,
            ServiceName="com.amazonaws.us-east-1.execute-api",
            VpcEndpointType="Interface",
            SubnetIds=subnets,
        )["VpcEndpoint"]
        yield {"ec2": ec2, "vpc_id": vpc_id, "subnets": subnets, "endpoint": created}


def _event(name: str, **properties: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    event["ResourceProperties"].update(properties)
    return event


def _endpoint_event(endpoint: dict[str, Any], request_type: str = "Create", **overrides: Any) -> dict[str, Any]:
    created = endpoint["endpoint"]
    event = _event(
        "unified_api_endpoint_ips_create",
        EndpointId=created["VpcEndpointId"],
        NetworkInterfaceIds=created["NetworkInterfaceIds"],
        ExpectedCount=str(len(created["NetworkInterfaceIds"])),
    )
    event["ResourceProperties"].update(overrides)
    event["RequestType"] = request_type
    if request_type != "Create":
        event["PhysicalResourceId"] = created["VpcEndpointId"]
    return event


def _ips_by_az(ec2: Any, eni_ids: list[str]) -> list[str]:
    interfaces = ec2.describe_network_interfaces(NetworkInterfaceIds=eni_ids)["NetworkInterfaces"]
    return [eni["PrivateIpAddress"] for eni in sorted(interfaces, key=lambda e: e["AvailabilityZone"])]


def test_create_returns_one_ip_per_interface_ordered_by_az(
    index: ModuleType, endpoint: dict[str, Any], lambda_context: LambdaContext
) -> None:
    result = index.handler(_endpoint_event(endpoint), lambda_context)

    expected = _ips_by_az(endpoint["ec2"], endpoint["endpoint"]["NetworkInterfaceIds"])
    assert result == {
        "PhysicalResourceId": endpoint["endpoint"]["VpcEndpointId"],
        "Data": {"Ip0": expected[0], "Ip1": expected[1], "Ip2": expected[2], "IpAddresses": ",".join(expected)},
    }


def test_update_after_endpoint_replacement_resolves_the_new_interfaces(
    index: ModuleType, endpoint: dict[str, Any], lambda_context: LambdaContext
) -> None:
    ec2 = endpoint["ec2"]
    replacement = ec2.create_vpc_endpoint(
        VpcId=endpoint["vpc_id"],
        ServiceName="com.amazonaws.us-east-1.execute-api",
        VpcEndpointType="Interface",
        SubnetIds=endpoint["subnets"],
    )["VpcEndpoint"]
    event = _endpoint_event(
        endpoint,
        "Update",
        EndpointId=replacement["VpcEndpointId"],
        NetworkInterfaceIds=replacement["NetworkInterfaceIds"],
    )
    event["OldResourceProperties"] = dict(_endpoint_event(endpoint)["ResourceProperties"])

    result = index.handler(event, lambda_context)

    assert result["Data"]["IpAddresses"].split(",") == _ips_by_az(ec2, replacement["NetworkInterfaceIds"])
    # Same physical id: an in-place update of the lookup, the targets follow its new attributes.
    assert result["PhysicalResourceId"] == endpoint["endpoint"]["VpcEndpointId"]


def test_fewer_interfaces_than_registered_targets_fails_without_calling_aws(
    index: ModuleType, lambda_context: LambdaContext
) -> None:
    event = _event(
        "unified_api_endpoint_ips_create",
        NetworkInterfaceIds=["eni-0aaaaaaaaaaaaaaa1", "eni-0bbbbbbbbbbbbbbb2"],
        ExpectedCount="3",
    )
    with stubbed(index._client()), pytest.raises(index.LookupFailed) as failure:  # any AWS call would fail
        index.handler(event, lambda_context)

    assert "has 2 network interface(s) but 3 IP targets" in str(failure.value)
    assert f"log group {lambda_context.log_group_name}, stream {lambda_context.log_stream_name}" in str(failure.value)


def test_unknown_interface_fails_with_the_api_error(
    index: ModuleType, endpoint: dict[str, Any], lambda_context: LambdaContext
) -> None:
    ids = [*endpoint["endpoint"]["NetworkInterfaceIds"][:2], "eni-0123456789abcdef0"]
    with pytest.raises(index.LookupFailed, match="InvalidNetworkInterfaceID.NotFound"):
        index.handler(_endpoint_event(endpoint, NetworkInterfaceIds=ids), lambda_context)


@pytest.mark.parametrize("code", ["RequestLimitExceeded", "ThrottlingException", "UnauthorizedOperation"])
def test_api_fault_after_retries_fails_the_request(index: ModuleType, lambda_context: LambdaContext, code: str) -> None:
    event = load_event("unified_api_endpoint_ips_create")
    with stubbed(index._client()) as stub, pytest.raises(index.LookupFailed, match=code):
        stub.add_client_error("describe_network_interfaces", service_error_code=code, http_status_code=400)
        index.handler(event, lambda_context)


def test_client_retries_throttling_with_standard_mode(index: ModuleType) -> None:
    config = index._client().meta.config
    assert config.retries == {"total_max_attempts": 3, "mode": "standard"}
    assert index._client() is index._client()


def test_client_worst_case_ends_well_within_the_function_timeout(index: ModuleType) -> None:
    """A call that times out on every attempt must fail with its reason, not be killed by Lambda's timeout."""
    config = index._client().meta.config
    attempts = config.retries["total_max_attempts"]
    backoff = sum(2**i for i in range(attempts - 1))  # standard mode: under 1 s, then under 2 s, ...
    worst = attempts * (config.connect_timeout + config.read_timeout) + backoff
    assert worst == index._AWS_WORST_CASE_S
    assert worst <= index._FUNCTION_TIMEOUT_S / 2


def test_timeouts_on_every_attempt_fail_the_request(
    index: ModuleType, lambda_context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = index._client()
    attempts: list[str] = []
    pauses: list[float] = []

    def time_out(**kwargs: Any) -> None:
        attempts.append(kwargs["request"].url)
        raise ReadTimeoutError(endpoint_url=kwargs["request"].url)

    # botocore's retry pause is endpoint.py's ``time.sleep(...)``: replace the module botocore.endpoint sees, not
    # time.sleep itself, which other threads of the test process (servers, pollers) also call.
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=pauses.append))
    client.meta.events.register("before-send.ec2.DescribeNetworkInterfaces", time_out, unique_id="test-timeout")
    try:
        with pytest.raises(index.LookupFailed, match="AWS call failed: Read timeout on endpoint URL"):
            index.handler(load_event("unified_api_endpoint_ips_create"), lambda_context)
    finally:
        client.meta.events.unregister("before-send.ec2.DescribeNetworkInterfaces", unique_id="test-timeout")

    assert len(attempts) == 3
    assert len(pauses) == 2


def test_interface_without_private_ip_fails(index: ModuleType, lambda_context: LambdaContext) -> None:
    event = load_event("unified_api_endpoint_ips_create")
    ids = event["ResourceProperties"]["NetworkInterfaceIds"]
    interfaces = [
        {"NetworkInterfaceId": eni, "AvailabilityZone": f"us-east-1{zone}", "PrivateIpAddress": f"10.0.{i}.10"}
        for i, (eni, zone) in enumerate(zip(ids, "abc", strict=True))
    ]
    del interfaces[1]["PrivateIpAddress"]
    with stubbed(index._client()) as stub, pytest.raises(index.LookupFailed) as failure:
        stub.add_response(
            "describe_network_interfaces", {"NetworkInterfaces": interfaces}, {"NetworkInterfaceIds": sorted(ids)}
        )
        index.handler(event, lambda_context)

    assert f"{ids[1]} of vpce-0123456789abcdef0 have no private IPv4" in str(failure.value)


def test_ordering_is_by_az_then_address(index: ModuleType, lambda_context: LambdaContext) -> None:
    event = load_event("unified_api_endpoint_ips_create")
    ids = event["ResourceProperties"]["NetworkInterfaceIds"]
    interfaces = [
        {"NetworkInterfaceId": ids[0], "AvailabilityZone": "us-east-1c", "PrivateIpAddress": "10.0.2.10"},
        {"NetworkInterfaceId": ids[1], "AvailabilityZone": "us-east-1a", "PrivateIpAddress": "10.0.0.10"},
        {"NetworkInterfaceId": ids[2], "AvailabilityZone": "us-east-1b", "PrivateIpAddress": "10.0.1.10"},
    ]
    with stubbed(index._client()) as stub:
        stub.add_response("describe_network_interfaces", {"NetworkInterfaces": interfaces})
        result = index.handler(event, lambda_context)

    assert result["Data"]["IpAddresses"] == "10.0.0.10,10.0.1.10,10.0.2.10"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"EndpointId": "vpc-123"}, "EndpointId must be a VPC endpoint id"),
        ({"NetworkInterfaceIds": []}, "NetworkInterfaceIds must be a non-empty list"),
        ({"NetworkInterfaceIds": "eni-0aaaaaaaaaaaaaaa1"}, "NetworkInterfaceIds must be a non-empty list"),
        ({"ExpectedCount": "three"}, "ExpectedCount must be the number of endpoint subnets"),
    ],
)
def test_bad_properties_fail_with_a_reason(
    index: ModuleType, lambda_context: LambdaContext, properties: dict[str, Any], message: str
) -> None:
    with stubbed(index._client()), pytest.raises(index.LookupFailed, match=message):
        index.handler(_event("unified_api_endpoint_ips_create", **properties), lambda_context)


def test_unknown_resource_type_fails(index: ModuleType, lambda_context: LambdaContext) -> None:
    event = load_event("unified_api_endpoint_ips_create")
    event["ResourceType"] = "Custom::Something"
    with stubbed(index._client()), pytest.raises(index.LookupFailed, match="unknown resource type 'Custom::Something'"):
        index.handler(event, lambda_context)


def test_delete_succeeds_without_calling_aws(index: ModuleType, lambda_context: LambdaContext) -> None:
    with stubbed(index._client()):
        result = index.handler(load_event("unified_api_endpoint_ips_delete"), lambda_context)

    assert result == {"PhysicalResourceId": "vpce-0123456789abcdef0"}


def test_delete_of_any_physical_id_succeeds_without_calling_aws(
    index: ModuleType, lambda_context: LambdaContext
) -> None:
    """Delete never fails: the id is returned unchanged (the framework refuses a changed one on Delete)."""
    delete = load_event("unified_api_endpoint_ips_delete")
    delete["PhysicalResourceId"] = "UnifiedApiCloudFrontPrefixListLookup2C0DC599-1c7d2e3f-0000-4000-8000-0000000000c1"
    with stubbed(index._client()):
        result = index.handler(delete, lambda_context)

    assert result == {"PhysicalResourceId": delete["PhysicalResourceId"]}


def test_prefix_list_lookup(index: ModuleType, endpoint: dict[str, Any], lambda_context: LambdaContext) -> None:
    expected = endpoint["ec2"].describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}]
    )["PrefixLists"][0]["PrefixListId"]
    event = load_event("unified_api_prefix_list_create")
    result = index.handler(event, lambda_context)

    assert result == {
        "PhysicalResourceId": f"{event['LogicalResourceId']}-{event['RequestId']}",
        "Data": {"PrefixListId": expected},
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my-list", "must name an AWS-managed prefix list"),
        ("com.amazonaws.global.nothing-here", "expected exactly one managed prefix list"),
    ],
)
def test_prefix_list_lookup_failures(
    index: ModuleType, endpoint: dict[str, Any], lambda_context: LambdaContext, name: str, message: str
) -> None:
    with pytest.raises(index.LookupFailed, match=message):
        index.handler(_event("unified_api_prefix_list_create", PrefixListName=name), lambda_context)


def test_prefix_list_api_fault(index: ModuleType, lambda_context: LambdaContext) -> None:
    with stubbed(index._client()) as stub, pytest.raises(index.LookupFailed) as failure:
        stub.add_client_error("describe_managed_prefix_lists", service_error_code="ThrottlingException")
        index.handler(load_event("unified_api_prefix_list_create"), lambda_context)

    assert "DescribeManagedPrefixLists" in str(failure.value)
    assert "ThrottlingException" in str(failure.value)


# The handler under aws-cdk-lib's Provider framework, run on Node.js from the synthesized assembly.

_USER_ARN = "arn:aws:lambda:us-east-1:111111111111:function:UnifiedApi-LookupsFunction"
_CREATE_FAILED = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


@pytest.fixture(scope="module")
def lookups_framework(example_templates: dict[str, Any], example_assembly: Path) -> tuple[Path, dict[str, str]]:
    """The lookups' framework.onEvent asset and its environment, from the synthesized UnifiedApi stack."""
    template = example_templates["UnifiedApi"]
    (user,) = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and logical_id.startswith("UnifiedApiLookupsFunction")
    ]
    function = framework_function(template, user)
    return framework_asset(example_assembly, function), framework_environment(function, {user: _USER_ARN})


def _through_framework(
    index: ModuleType, framework: tuple[Path, dict[str, str]], event: dict[str, Any], context: LambdaContext
) -> FrameworkRun:
    asset, environment = framework
    return run_framework(
        asset,
        "onEvent",
        event,
        environment=environment,
        functions={_USER_ARN: lambda payload: index.handler(payload, context)},
    )


def test_framework_answers_cloudformation_with_the_lookup(
    index: ModuleType,
    endpoint: dict[str, Any],
    lookups_framework: tuple[Path, dict[str, str]],
    lambda_context: LambdaContext,
) -> None:
    event = _endpoint_event(endpoint)
    run = _through_framework(index, lookups_framework, event, lambda_context)

    assert run.outcome == {"outcome": "returned"}, run.output
    assert [arn for arn, _ in run.invocations] == [_USER_ARN]
    response = run.response
    expected = _ips_by_az(endpoint["ec2"], endpoint["endpoint"]["NetworkInterfaceIds"])
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == endpoint["endpoint"]["VpcEndpointId"]
    assert response["Data"] == {f"Ip{i}": ip for i, ip in enumerate(expected)} | {"IpAddresses": ",".join(expected)}
    assert (response["StackId"], response["RequestId"], response["LogicalResourceId"]) == (
        event["StackId"],
        event["RequestId"],
        event["LogicalResourceId"],
    )
    put = run.responses[0]
    assert put["method"] == "PUT"
    assert put["hostname"] == "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"


def test_framework_reports_the_lookups_reason_and_log_group(
    index: ModuleType,
    endpoint: dict[str, Any],
    lookups_framework: tuple[Path, dict[str, str]],
    lambda_context: LambdaContext,
) -> None:
    run = _through_framework(index, lookups_framework, _endpoint_event(endpoint, ExpectedCount="2"), lambda_context)

    response = run.response
    assert response["Status"] == "FAILED"
    assert "endpoint vpce-" in response["Reason"]
    assert "has 3 network interface(s) but 2 IP targets are registered" in response["Reason"]
    assert f"log group {lambda_context.log_group_name}" in response["Reason"]
    # A failed Create gets the framework's marker, so that its Delete never reaches the handler (below).
    assert response["PhysicalResourceId"] == _CREATE_FAILED


def test_framework_answers_the_delete_of_a_failed_create_itself(
    index: ModuleType, lookups_framework: tuple[Path, dict[str, str]], lambda_context: LambdaContext
) -> None:
    event = load_event("unified_api_endpoint_ips_delete") | {"PhysicalResourceId": _CREATE_FAILED}
    run = _through_framework(index, lookups_framework, event, lambda_context)

    assert run.invocations == []
    assert run.response["Status"] == "SUCCESS"


def test_framework_deletes_through_the_handler_with_the_same_physical_id(
    index: ModuleType, lookups_framework: tuple[Path, dict[str, str]], lambda_context: LambdaContext
) -> None:
    with stubbed(index._client()):
        run = _through_framework(
            index, lookups_framework, load_event("unified_api_endpoint_ips_delete"), lambda_context
        )

    assert len(run.invocations) == 1
    assert (run.response["Status"], run.response["PhysicalResourceId"]) == ("SUCCESS", "vpce-0123456789abcdef0")
