"""The admin server's fixed names and the checks its arguments pass before anything is built."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from aws_cdk import Duration, Stack, Token
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2

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
_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_PATH_RE = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
_HEALTH_PATH_RE = re.compile(r"^/[A-Za-z0-9._~/%?=&-]*$")
#: The line that ends the boot script's heredoc around ``start_command`` (boot.sh), so refused in it.
_START_SCRIPT_END = "WEBLOGIC_START_COMMAND"
#: Tag keys that instance metadata can serve (EC2 refuses a launch with any other key once tags
#: are allowed in instance metadata): letters, digits and + - = . , _ : @; not '.', '..' or '_index'.
_IMDS_TAG_KEY_RE = re.compile(r"^[A-Za-z0-9+\-=.,_:@]{1,128}$")
_IMDS_RESERVED_TAG_KEYS = frozenset({".", "..", "_index"})


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


def validate_arguments(
    *,
    stack: Stack,
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
    """Every check of the constructor's arguments that needs no resource, in the order a user meets them."""
    _check_network(vpc, availability_zones, vpc_cidr, network, route_table_ids)
    _check_instance(admin_port, run_as_user, mount_point, start_command, heartbeat_timeout, root_volume_size_gib)
    _check_console(console_certificate, console_ingress_cidrs, console_target_protocol, health_check_path)
    if console_certificate is not None and Token.is_unresolved(stack.region):
        raise ValueError(
            "the console load balancer writes access logs to S3, which needs the stack's Region: "
            "give the stack env=Environment(region=...), or leave console_certificate out"
        )


def _check_network(
    vpc: ec2.IVpc | None,
    availability_zones: Sequence[str] | None,
    vpc_cidr: str,
    network: ipaddress.IPv4Network,
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


def _check_instance(
    admin_port: int,
    run_as_user: str,
    mount_point: str,
    start_command: str | None,
    heartbeat_timeout: Duration,
    root_volume_size_gib: int,
) -> None:
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


def _check_console(
    console_certificate: acm.ICertificate | None,
    console_ingress_cidrs: Sequence[str],
    console_target_protocol: elbv2.ApplicationProtocol,
    health_check_path: str,
) -> None:
    if console_certificate is None:
        if console_ingress_cidrs:
            raise ValueError(
                "console_ingress_cidrs is only used with console_certificate (which creates the console load "
                "balancer); pass both or neither"
            )
        return
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
