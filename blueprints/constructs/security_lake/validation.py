"""The arguments of the Security Lake constructs, checked before any resource is created."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration, Stack, Token
from constructs import Construct

from blueprints.constructs.security_lake.sources import (
    CURRENT_SOURCE_VERSION,
    SecurityLakeSource,
    checked_sources_or_all,
)
from blueprints.constructs.security_lake.views import ATHENA_DEFAULT_DATABASE

#: Athena refuses a per-query cutoff below 10 MB.
MIN_BYTES_SCANNED_CUTOFF = 10_000_000
IMPORT_MODES = ("DIRECT_QUERY", "SPICE")

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_SHARE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:ram:[a-z0-9-]+:(\d{12}):resource-share/[A-Za-z0-9-]+$")
_GLUE_NAME_RE = re.compile(r"^[a-z0-9_]{1,255}$")
_WORKGROUP_RE = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
#: UpdateSubscriber's ``subscriberName`` in botocore's securitylake model: ``^[\\\w\-_:/.@=+]*$``, at most 64
#: characters (CreateSubscriber only limits the length; CloudFormation updates a subscriber with UpdateSubscriber, so
#: a name it cannot take would fail on the first edit). ``\w`` as in Java: ASCII letters, digits and ``_``.
_SUBSCRIBER_NAME_RE = re.compile(r"^[\\\w\-:/.@=+]{1,64}$", re.ASCII)

_QUICKSIGHT_PRINCIPAL_RE = re.compile(r"^arn:aws[a-z-]*:quicksight:[a-z0-9-]+:\d{12}:(user|group)/[\w+=,.@/-]+$")
_LF_PRINCIPAL_RE = re.compile(
    r"^arn:aws[a-z-]*:(iam::\d{12}:(role|user)/[\w+=,.@/-]+"
    r"|quicksight:[a-z0-9-]+:\d{12}:(user|group)/[\w+=,.@/-]+)$"
)


def check_subscriber_name(subscriber_name: str) -> None:
    if not _SUBSCRIBER_NAME_RE.match(subscriber_name):
        raise ValueError(
            "subscriber_name must be 1-64 ASCII letters, digits or _ - : / . @ = + \\ (what Security Lake's "
            f"UpdateSubscriber accepts; no spaces or commas); got {subscriber_name!r}"
        )


def check_account(name: str, value: str) -> None:
    if not Token.is_unresolved(value) and not _ACCOUNT_RE.match(value):
        raise ValueError(f"{name} must be a 12-digit AWS account id such as 222222222222; got {value!r}")


def concrete_region(scope: Construct) -> str:
    """The Region of ``scope``'s stack, which must be explicit: the lake's database and tables are named after it."""
    region = Stack.of(scope).region
    if Token.is_unresolved(region):
        raise ValueError(
            "the stack must have an explicit region (env=cdk.Environment(account=..., region=...)): "
            "Security Lake names its databases and tables after the Region"
        )
    return region


def check_subscriber(
    stack: Stack,
    *,
    subscriber_account: str,
    sources: Sequence[SecurityLakeSource] | None,
    subscriber_name: str,
) -> tuple[SecurityLakeSource, ...]:
    """``SecurityLakeSubscriber``'s arguments; returns the sources it subscribes to."""
    check_account("subscriber_account", subscriber_account)
    checked = checked_sources_or_all(sources)
    check_subscriber_name(subscriber_name)
    if not Token.is_unresolved(stack.account) and stack.account == subscriber_account:
        raise ValueError(
            f"subscriber_account must be another account than the Security Lake account {stack.account}; "
            "a subscriber in its own account needs no share"
        )
    return checked


def check_share_acceptance(
    *,
    sender_account: str,
    subscriber_name: str,
    sources: Sequence[SecurityLakeSource] | None,
    resource_share_arn: str | None,
    timeout: Duration,
    query_interval: Duration,
) -> tuple[SecurityLakeSource, ...]:
    """``SecurityLakeShareAcceptance``'s arguments; returns the subscribed sources."""
    check_account("sender_account", sender_account)
    if resource_share_arn and not Token.is_unresolved(resource_share_arn):
        match = _SHARE_ARN_RE.match(resource_share_arn)
        if not match:
            raise ValueError(
                "resource_share_arn must be an AWS RAM resource share ARN such as "
                f"arn:aws:ram:us-east-1:111111111111:resource-share/<id>; got {resource_share_arn!r}"
            )
        if match.group(1) != sender_account:
            raise ValueError(
                f"resource_share_arn is owned by account {match.group(1)}, not by sender_account {sender_account}"
            )
    check_subscriber_name(subscriber_name)
    checked = checked_sources_or_all(sources)
    seconds = timeout.to_seconds()
    if not 60 <= seconds <= 3000:
        raise ValueError(
            "timeout must be between 1 minute and 50 minutes (CloudFormation waits at most an hour for a "
            f"custom resource, and the provider adds 10 minutes); got {seconds} seconds"
        )
    if not 10 <= query_interval.to_seconds() <= 300:
        raise ValueError(
            f"query_interval must be between 10 seconds and 5 minutes; got {query_interval.to_seconds()} seconds"
        )
    return checked


def check_visualization(
    stack: Stack,
    *,
    lake_account: str,
    sources: Sequence[SecurityLakeSource] | None,
    subscriber_name: str,
    database_name: str,
    workgroup_name: str,
    analyst_principal_arns: Sequence[str],
    bytes_scanned_cutoff_per_query: int,
    results_expiration: Duration,
    enable_quicksight: bool,
    quicksight_owner_arn: str | None,
    quicksight_viewer_arns: Sequence[str],
    quicksight_id_prefix: str,
    data_set_import_mode: str,
) -> tuple[SecurityLakeSource, ...]:
    """``SecurityLakeVisualization``'s arguments; returns the sources it links."""
    check_account("lake_account", lake_account)
    if not Token.is_unresolved(stack.account) and stack.account == lake_account:
        raise ValueError(
            f"lake_account must be the Security Lake account, not this visualization account {stack.account}"
        )
    checked = checked_sources_or_all(sources)
    check_subscriber_name(subscriber_name)
    _check_catalog_names(database_name, workgroup_name)
    _check_analysts(analyst_principal_arns)
    _check_athena_limits(bytes_scanned_cutoff_per_query, results_expiration)
    if enable_quicksight:
        check_quicksight(
            quicksight_owner_arn, quicksight_viewer_arns, quicksight_id_prefix, data_set_import_mode, checked
        )
    elif quicksight_owner_arn or quicksight_viewer_arns:
        raise ValueError(
            "quicksight_owner_arn and quicksight_viewer_arns are only used with enable_quicksight=True; "
            "pass them with enable_quicksight=True or leave them out"
        )
    elif not analyst_principal_arns:
        raise ValueError("nobody would be granted access: pass analyst_principal_arns, enable_quicksight=True, or both")
    return checked


def _check_catalog_names(database_name: str, workgroup_name: str) -> None:
    if not _GLUE_NAME_RE.match(database_name):
        raise ValueError(f"database_name must be 1-255 lowercase letters, digits or underscores; got {database_name!r}")
    if database_name == ATHENA_DEFAULT_DATABASE:
        raise ValueError(
            "database_name must not be 'default', Athena's own database: the resource links need a database "
            "of their own, such as security_lake_visualization"
        )
    if not _WORKGROUP_RE.match(workgroup_name):
        raise ValueError(f"workgroup_name must be 1-128 letters, digits, '.', '_' or '-'; got {workgroup_name!r}")


def _check_analysts(analyst_principal_arns: Sequence[str]) -> None:
    for arn in analyst_principal_arns:
        if not Token.is_unresolved(arn) and not _LF_PRINCIPAL_RE.match(arn):
            raise ValueError(
                "analyst_principal_arns must be IAM role or user ARNs or QuickSight user or group ARNs "
                f"(Lake Formation principals); got {arn!r}"
            )
    repeated = sorted({arn for arn in analyst_principal_arns if list(analyst_principal_arns).count(arn) > 1})
    if repeated:
        raise ValueError(f"analyst_principal_arns must not repeat a principal; got {repeated[0]!r} more than once")


def _check_athena_limits(bytes_scanned_cutoff_per_query: int, results_expiration: Duration) -> None:
    if bytes_scanned_cutoff_per_query < MIN_BYTES_SCANNED_CUTOFF:
        raise ValueError(
            f"bytes_scanned_cutoff_per_query must be at least {MIN_BYTES_SCANNED_CUTOFF} bytes (Athena's minimum); "
            f"got {bytes_scanned_cutoff_per_query}"
        )
    expiration_seconds = results_expiration.to_seconds()
    if expiration_seconds < 86400 or expiration_seconds % 86400:
        raise ValueError(
            "results_expiration must be a whole number of days, at least 1 (S3 expires objects by day); "
            f"got {results_expiration.to_human_string()}"
        )


def check_quicksight(
    owner: str | None,
    viewers: Sequence[str],
    prefix: str,
    import_mode: str,
    sources: Sequence[SecurityLakeSource],
) -> None:
    """The QuickSight arguments of ``SecurityLakeVisualization``, with ``enable_quicksight=True``."""
    if not owner:
        raise ValueError(
            "quicksight_owner_arn is required with enable_quicksight=True: pass the ARN of the QuickSight group "
            "or user that owns the data source, datasets and dashboard, such as "
            "arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins (QuickSight needs an "
            "existing account subscription), or pass enable_quicksight=False"
        )
    for arn in (owner, *viewers):
        if not Token.is_unresolved(arn) and not _QUICKSIGHT_PRINCIPAL_RE.match(arn):
            raise ValueError(
                "QuickSight principals must be QuickSight user or group ARNs such as "
                f"arn:aws:quicksight:us-east-1:222222222222:group/default/security-admins; got {arn!r}"
            )
    if len(viewers) > 63:
        raise ValueError(f"a dashboard takes at most 63 viewers besides its owner; got {len(viewers)}")
    if not re.match(r"^[a-z0-9-]{1,40}$", prefix):
        raise ValueError(f"quicksight_id_prefix must be 1-40 lowercase letters, digits or '-'; got {prefix!r}")
    if import_mode not in IMPORT_MODES:
        raise ValueError(f"data_set_import_mode must be one of {', '.join(IMPORT_MODES)}; got {import_mode!r}")
    if "SH_FINDINGS" not in {s.name for s in sources}:
        raise ValueError("the QuickSight datasets read Security Hub findings: sources must include SH_FINDINGS")
    old = sorted(f"{s.name} {s.version}" for s in sources if s.version != CURRENT_SOURCE_VERSION)
    if old:
        raise ValueError(
            f"the QuickSight datasets are written for source version {CURRENT_SOURCE_VERSION} (OCSF 1.1); "
            f"got {', '.join(old)}: use version {CURRENT_SOURCE_VERSION} or enable_quicksight=False"
        )
