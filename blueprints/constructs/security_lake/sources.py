"""Security Lake's AWS log sources, and the names Security Lake gives their Glue databases and tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: The AWS log sources Security Lake collects natively: the ``AwsLogSourceName`` enum of botocore's securitylake
#: model (``AwsLogSourceResource.sourceName``).
AWS_LOG_SOURCES = (
    "CLOUD_TRAIL_MGMT",
    "VPC_FLOW",
    "ROUTE53",
    "SH_FINDINGS",
    "LAMBDA_EXECUTION",
    "S3_DATA",
    "EKS_AUDIT",
    "WAF",
)
#: Source version 2.0 is OCSF 1.1, the current version for every AWS log source.
CURRENT_SOURCE_VERSION = "2.0"
#: The subscriber's name on both sides: it ends the name of the share the visualization account accepts.
DEFAULT_SUBSCRIBER_NAME = "cross-account-visualization"

_VERSION_RE = re.compile(r"^\d\.\d$")


@dataclass(frozen=True)
class SecurityLakeSource:
    """A Security Lake AWS log source at one source version, e.g. ``SecurityLakeSource("SH_FINDINGS", "2.0")``."""

    name: str
    version: str = CURRENT_SOURCE_VERSION

    def table_name(self, region: str) -> str:
        """The Glue table of this source, e.g. ``amazon_security_lake_table_us_east_1_sh_findings_2_0``."""
        version = self.version.replace(".", "_")
        return f"amazon_security_lake_table_{region.replace('-', '_')}_{self.name.lower()}_{version}"


def all_aws_sources(version: str = CURRENT_SOURCE_VERSION) -> tuple[SecurityLakeSource, ...]:
    """Every AWS log source at ``version``."""
    return tuple(SecurityLakeSource(name, version) for name in AWS_LOG_SOURCES)


def security_lake_database_name(region: str) -> str:
    """The Glue database Security Lake creates in ``region``, e.g. ``amazon_security_lake_glue_db_us_east_1``."""
    return f"amazon_security_lake_glue_db_{region.replace('-', '_')}"


def check_sources(sources: Sequence[SecurityLakeSource]) -> tuple[SecurityLakeSource, ...]:
    """``sources`` as a tuple, once each is known to name an AWS log source at a concrete version, each once."""
    if not sources:
        raise ValueError(f"sources must list at least one Security Lake source from {', '.join(AWS_LOG_SOURCES)}")
    for source in sources:
        if source.name not in AWS_LOG_SOURCES:
            raise ValueError(
                f"source name must be one of {', '.join(AWS_LOG_SOURCES)}; got {source.name!r} "
                "(custom sources are not shared through this subscriber)"
            )
        if not _VERSION_RE.match(source.version):
            raise ValueError(
                f"source version must be a concrete version such as '2.0' (not 'latest', which names no table); "
                f"got {source.version!r} for {source.name}"
            )
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"each source may be listed once, at one version; got {', '.join(duplicates)} more than once")
    return tuple(sources)


def checked_sources_or_all(sources: Sequence[SecurityLakeSource] | None) -> tuple[SecurityLakeSource, ...]:
    """``sources`` checked, or every AWS log source at the current version when ``None``."""
    return check_sources(sources if sources is not None else all_aws_sources())


def parse_sources(spec: str | Sequence[str]) -> tuple[SecurityLakeSource, ...]:
    """Sources from ``NAME`` or ``NAME:VERSION`` items, comma-separated or listed: ``"SH_FINDINGS,VPC_FLOW:2.0"``.

    A name without a version gets the current version; the result is checked as the constructs check ``sources``.
    """
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    sources = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        name, _, version = item.partition(":")
        sources.append(SecurityLakeSource(name.strip(), version.strip() or CURRENT_SOURCE_VERSION))
    return check_sources(sources)


def sources_property(sources: Sequence[SecurityLakeSource]) -> str:
    """The subscribed sources as one stable string (sorted ``NAME:VERSION`` items), for a custom resource property."""
    return ",".join(sorted(f"{s.name}:{s.version}" for s in sources))


def findings_source(sources: Sequence[SecurityLakeSource]) -> SecurityLakeSource | None:
    """The Security Hub findings source among ``sources``, if any."""
    return next((s for s in sources if s.name == "SH_FINDINGS"), None)


def pascal(name: str) -> str:
    """A source name or persona key as a construct-id part: ``SH_FINDINGS`` becomes ``ShFindings``."""
    return "".join(part.capitalize() for part in name.lower().split("_"))
