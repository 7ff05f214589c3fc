"""Settings of the example app, read from CDK context and the environment.

Precedence, highest first: ``-c key=value`` on the command line, then
``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION`` (which the CDK CLI sets from
your credentials), then the placeholders under ``blueprints:defaults`` in
cdk.json. So ``make synth`` works with no AWS account at all, and
``cdk deploy`` with credentials targets your own account.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from constructs import Construct

DEFAULTS_KEY = "blueprints:defaults"
STRATEGIES = ("active_passive", "backup_restore")
_ACCOUNT_RE = re.compile(r"^\d{12}$")


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every Region the CDK's fact database knows, in every partition.

    The same list as botocore's endpoint data, read in one call to the CDK's own runtime: loading botocore's
    endpoint data here cost about 1 s of every synthesis.
    """
    from aws_cdk.region_info import RegionInfo

    return frozenset(region.name for region in RegionInfo.regions)


@dataclass(frozen=True)
class ExampleConfig:
    """Where the example stacks deploy, and the options they demonstrate."""

    account: str
    region: str
    dr_region: str
    visualization_account: str
    mwaa_dr_strategy: str


def _value(scope: Construct, key: str, env_var: str | None = None) -> str:
    explicit = scope.node.try_get_context(key)
    if explicit is not None:
        return str(explicit)
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    defaults = scope.node.try_get_context(DEFAULTS_KEY) or {}
    if key not in defaults:
        raise ValueError(
            f"context key {key!r} is not set and cdk.json has no {DEFAULTS_KEY}.{key}; pass -c {key}=<value>"
        )
    return str(defaults[key])


def _account(scope: Construct, key: str, env_var: str | None = None) -> str:
    value = _value(scope, key, env_var)
    if not _ACCOUNT_RE.match(value):
        source = f"context key {key!r}" + (f" (or {env_var})" if env_var else "")
        raise ValueError(f"{source} must be a 12-digit AWS account id such as 111111111111; got {value!r}")
    return value


def _region(scope: Construct, key: str, env_var: str | None = None) -> str:
    value = _value(scope, key, env_var)
    if value not in known_regions():
        source = f"context key {key!r}" + (f" (or {env_var})" if env_var else "")
        raise ValueError(f"{source} must be an AWS Region code such as us-east-1 or eu-west-1; got {value!r}")
    return value


def load_config(scope: Construct) -> ExampleConfig:
    """Read and check the example app's settings; a bad value names its key."""
    account = _account(scope, "account", "CDK_DEFAULT_ACCOUNT")
    region = _region(scope, "region", "CDK_DEFAULT_REGION")
    dr_region = _region(scope, "dr_region")
    if dr_region == region:
        raise ValueError(f"context key 'dr_region' must differ from 'region' ({region}); got {dr_region!r}")
    visualization_account = _account(scope, "visualization_account")
    strategy = _value(scope, "mwaa_dr_strategy")
    if strategy not in STRATEGIES:
        raise ValueError(f"context key 'mwaa_dr_strategy' must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    return ExampleConfig(
        account=account,
        region=region,
        dr_region=dr_region,
        visualization_account=visualization_account,
        mwaa_dr_strategy=strategy,
    )
