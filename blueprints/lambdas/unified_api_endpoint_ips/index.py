"""CloudFormation custom resource: deploy-time facts that CloudFormation has no attribute for.

``Custom::VpcEndpointIps`` gives the private IPv4 address of each network
interface of an interface VPC endpoint (``Ip0``, ``Ip1``, ... ordered by
Availability Zone, and ``IpAddresses`` comma-separated), so that an ALB target
group can register them as IP targets. It fails when the endpoint has fewer or
more interfaces than the construct registered targets for, rather than leaving
a target group with a missing or stale target.

``Custom::ManagedPrefixList`` gives the id of an AWS-managed prefix list by name
(``PrefixListId``), e.g. CloudFront's origin-facing list, whose id differs per
Region.

The function is the ``onEvent`` handler of a ``cr.Provider`` (no ``isComplete``:
each lookup is one call). It returns ``PhysicalResourceId`` and ``Data``, or
raises ``LookupFailed`` with the reason CloudFormation shows, and the
framework answers CloudFormation (the request still carries ``ResponseURL``,
which this function never uses). Bad input, an AWS fault and a lookup that
cannot succeed all fail the request with a message that says what to check;
Delete is a no-op, since the lookups only read.

The request is read through Powertools' ``CloudFormationCustomResourceEvent``
(``request_type``, ``resource_type``, ``physical_resource_id``,
``resource_properties``).
"""

from __future__ import annotations

import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import CloudFormationCustomResourceEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger()

ENDPOINT_IPS = "Custom::VpcEndpointIps"
PREFIX_LIST = "Custom::ManagedPrefixList"
_ENDPOINT_ID = re.compile(r"^vpce-[0-9a-f]{8,17}$")
_ENI_ID = re.compile(r"^eni-[0-9a-f]{8,17}$")
#: The function's timeout (set by the construct). A killed invocation fails with "Task timed out" and no reason, so
#: the EC2 call with its retries must end well within it.
_FUNCTION_TIMEOUT_S = 60
#: Throttling and transient faults (timeouts included) are retried by botocore in standard mode, which waits
#: less than 1 s and then less than 2 s between attempts; a call that still fails becomes a FAILED response.
_MAX_ATTEMPTS = 3
_CONNECT_TIMEOUT_S = 3
_READ_TIMEOUT_S = 6
#: Upper bound of the EC2 call with all its retries: 3 x (3 + 6) s + 3 s backoff = 30 s, half the function's 60 s.
_AWS_WORST_CASE_S = _MAX_ATTEMPTS * (_CONNECT_TIMEOUT_S + _READ_TIMEOUT_S) + sum(2**i for i in range(_MAX_ATTEMPTS - 1))

_clients: dict[str, Any] = {}


class LookupFailed(Exception):
    """A lookup that cannot succeed as asked; its message is the reason CloudFormation shows."""


def _client() -> Any:
    if "ec2" not in _clients:
        _clients["ec2"] = boto3.client(
            "ec2",
            config=Config(
                retries={"total_max_attempts": _MAX_ATTEMPTS, "mode": "standard"},
                connect_timeout=_CONNECT_TIMEOUT_S,
                read_timeout=_READ_TIMEOUT_S,
            ),
        )
    return _clients["ec2"]


def endpoint_ips(properties: dict[str, Any]) -> dict[str, str]:
    """The private IP of each network interface of the endpoint, ordered by AZ then address."""
    endpoint_id = properties.get("EndpointId")
    if not isinstance(endpoint_id, str) or not _ENDPOINT_ID.match(endpoint_id):
        raise LookupFailed(f"EndpointId must be a VPC endpoint id such as vpce-0123456789abcdef0; got {endpoint_id!r}")
    eni_ids = properties.get("NetworkInterfaceIds")
    if (
        not isinstance(eni_ids, list)
        or not eni_ids
        or not all(isinstance(e, str) and _ENI_ID.match(e) for e in eni_ids)
    ):
        raise LookupFailed(
            f"NetworkInterfaceIds must be a non-empty list of ids such as eni-0123456789abcdef0; got {eni_ids!r}"
        )
    try:
        expected = int(properties.get("ExpectedCount", ""))
    except (TypeError, ValueError):
        raise LookupFailed(
            f"ExpectedCount must be the number of endpoint subnets; got {properties.get('ExpectedCount')!r}"
        ) from None
    if len(eni_ids) != expected:
        raise LookupFailed(
            f"endpoint {endpoint_id} has {len(eni_ids)} network interface(s) but {expected} IP targets are "
            "registered (one per endpoint subnet); check that every endpoint subnet is in an Availability Zone "
            "where the execute-api endpoint service is offered"
        )
    try:
        response = _client().describe_network_interfaces(NetworkInterfaceIds=sorted(set(eni_ids)))
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise LookupFailed(f"DescribeNetworkInterfaces for {endpoint_id} failed with {code}: {error}") from error
    interfaces = response.get("NetworkInterfaces", [])
    found = {eni["NetworkInterfaceId"]: eni for eni in interfaces}
    missing = sorted(set(eni_ids) - set(found))
    if missing:
        raise LookupFailed(f"network interface(s) {', '.join(missing)} of endpoint {endpoint_id} were not found")
    without_ip = sorted(i for i, eni in found.items() if not eni.get("PrivateIpAddress"))
    if without_ip:
        raise LookupFailed(f"network interface(s) {', '.join(without_ip)} of {endpoint_id} have no private IPv4")
    ordered = sorted(found.values(), key=lambda eni: (eni.get("AvailabilityZone", ""), eni["PrivateIpAddress"]))
    data = {f"Ip{i}": eni["PrivateIpAddress"] for i, eni in enumerate(ordered)}
    data["IpAddresses"] = ",".join(eni["PrivateIpAddress"] for eni in ordered)
    logger.info("resolved endpoint IPs", extra={"endpoint_id": endpoint_id, "ips": data["IpAddresses"]})
    return data


def managed_prefix_list(properties: dict[str, Any]) -> dict[str, str]:
    """The id of the AWS-managed prefix list with the given name."""
    name = properties.get("PrefixListName")
    if not isinstance(name, str) or not name.startswith("com.amazonaws."):
        raise LookupFailed(
            f"PrefixListName must name an AWS-managed prefix list such as "
            f"com.amazonaws.global.cloudfront.origin-facing; got {name!r}"
        )
    try:
        response = _client().describe_managed_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [name]}])
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        raise LookupFailed(f"DescribeManagedPrefixLists for {name} failed with {code}: {error}") from error
    lists = [p for p in response.get("PrefixLists", []) if p.get("PrefixListName") == name]
    if len(lists) != 1:
        raise LookupFailed(f"expected exactly one managed prefix list named {name}; found {len(lists)}")
    return {"PrefixListId": lists[0]["PrefixListId"]}


RESOLVERS = {ENDPOINT_IPS: endpoint_ips, PREFIX_LIST: managed_prefix_list}


def _physical_id(request: CloudFormationCustomResourceEvent, properties: dict[str, Any]) -> str:
    """The request's own id on Update; on Create the endpoint's id, or one unique to this request."""
    if request.request_type == "Update":
        return request.physical_resource_id
    return str(properties.get("EndpointId") or f"{request.logical_resource_id}-{request.request_id}")


def _where(context: LambdaContext) -> str:
    """Where the invocation logged: the framework's own hint (``Logs: /aws/lambda/<function>``) assumes Lambda's
    default log group, which this function, logging to a group of its own, does not use."""
    return f"log group {context.log_group_name}, stream {context.log_stream_name}"


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CloudFormationCustomResourceEvent(event)
    logger.append_keys(request_type=request.request_type, resource_type=request.resource_type)
    if request.request_type == "Delete":
        logger.info("nothing to delete: the resource only reads")
        return {"PhysicalResourceId": request.physical_resource_id}
    resolver = RESOLVERS.get(request.resource_type)
    try:
        if resolver is None:
            raise LookupFailed(
                f"unknown resource type {request.resource_type!r}; this function serves {', '.join(RESOLVERS)}"
            )
        properties = dict(request.resource_properties)
        data = resolver(properties)
    except LookupFailed as error:
        logger.error("lookup failed", extra={"reason": str(error)})
        raise LookupFailed(f"{error} ({_where(context)})") from error
    except BotoCoreError as error:
        logger.exception("AWS call failed")
        raise LookupFailed(f"AWS call failed: {error} ({_where(context)})") from error
    return {"PhysicalResourceId": _physical_id(request, properties), "Data": data}
