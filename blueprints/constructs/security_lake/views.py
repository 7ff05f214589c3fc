"""What the visualization account queries: the post's view and named queries, and the personas' datasets.

The SQL is in ``sql/*.sql`` next to this module, one statement a file, with ``$name`` placeholders
(:class:`string.Template`) for the database and table names; :func:`query` reads it.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from blueprints.constructs.security_lake.sources import SecurityLakeSource, findings_source

SQL_DIR = Path(__file__).with_name("sql")

#: Views and queries from the post, per source version: Security Lake source
#: version 1.0 is OCSF 1.0.0-rc.2 (``finding``), 2.0 is OCSF 1.1 (``finding_info``).
FAILED_FINDINGS_VIEW = "security_hub_new_failed_findings_by_created_time"
#: The view's columns; every one is an OCSF string (Trino ``varchar``, Glue ``string``).
FAILED_FINDINGS_VIEW_COLUMNS = ("finding_title", "account_uid", "compliance_status", "product_name")
#: The database Athena resolves unqualified names in; with Lake Formation, querying needs DESCRIBE on it.
ATHENA_DEFAULT_DATABASE = "default"

#: Per source version: the OCSF field behind each of the view's columns, and the field it is ordered by.
_FAILED_FINDINGS_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "1.0": (
        ("finding.title", "cloud.account_uid", "compliance.status", "metadata.product.name"),
        "finding.created_time",
    ),
    "2.0": (
        ("finding_info.title", "cloud.account.uid", "compliance.status", "metadata.product.name"),
        "finding_info.created_time",
    ),
}

#: The post's named queries: construct id, name, and the file in ``sql/``.
NAMED_QUERIES = (
    ("FirstTenSecurityHubFindings", "First ten Security Hub findings", "first_ten_findings"),
    ("FirstTenFailedFindings", "First ten rows of the failed findings view", "first_ten_failed_findings"),
)

#: The datasets of the post's three personas, in OCSF 1.1 (source version 2.0) terms: key (its SQL is
#: ``sql/<key>.sql``), title and columns (name, QuickSight type).
PERSONAS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "executive",
        "Executive overview: findings by day, severity and account",
        (
            ("finding_day", "DATETIME"),
            ("severity", "STRING"),
            ("account_id", "STRING"),
            ("finding_region", "STRING"),
            ("finding_count", "INTEGER"),
            ("failed_check_count", "INTEGER"),
        ),
    ),
    (
        "custodian",
        "Security data custodian: events per source, day and account",
        (
            ("source_name", "STRING"),
            ("event_day", "DATETIME"),
            ("account_id", "STRING"),
            ("event_region", "STRING"),
            ("event_count", "INTEGER"),
        ),
    ),
    (
        "operator",
        "Security operator: medium and higher findings of the last 7 days",
        (
            ("finding_time", "DATETIME"),
            ("severity", "STRING"),
            ("finding_status", "STRING"),
            ("finding_title", "STRING"),
            ("product_name", "STRING"),
            ("account_id", "STRING"),
            ("finding_region", "STRING"),
            ("compliance_status", "STRING"),
        ),
    ),
)


@functools.cache
def _statement(name: str) -> Template:
    """``sql/<name>.sql`` as one line: ``--`` comment lines dropped, the others stripped and joined by a space."""
    lines = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    return Template(" ".join(s for s in (line.strip() for line in lines) if s and not s.startswith("--")))


def query(name: str, **names: str) -> str:
    """The statement of ``sql/<name>.sql`` with its placeholders filled in (each one must be given)."""
    return _statement(name).substitute(names)


@dataclass(frozen=True)
class PersonaDataSet:
    """One persona's QuickSight dataset: a custom SQL query over the resource links."""

    key: str
    title: str
    sql: str
    columns: tuple[tuple[str, str], ...]


def view_source(sources: Sequence[SecurityLakeSource]) -> SecurityLakeSource | None:
    """The findings source the post's view and named queries are written for, if ``sources`` has one."""
    findings = findings_source(sources)
    if findings is None or findings.version not in _FAILED_FINDINGS_FIELDS:
        return None
    return findings


def failed_findings_view_sql(database: str, source: SecurityLakeSource, region: str) -> str:
    """The post's view of failed Security Hub findings (the SELECT of its ``CREATE VIEW``) at ``source``'s version."""
    fields, created = _FAILED_FINDINGS_FIELDS[source.version]
    columns = ", ".join(
        f"{field} AS {column}" for field, column in zip(fields, FAILED_FINDINGS_VIEW_COLUMNS, strict=True)
    )
    return query(
        "failed_findings_view",
        columns=columns,
        database=database,
        table=source.table_name(region),
        created_time=created,
    )


def named_query_sql(file: str, database: str, source: SecurityLakeSource, region: str) -> str:
    """One of the post's named queries (``NAMED_QUERIES``) over the findings link and the view in ``database``."""
    return query(file, database=database, table=source.table_name(region), view=FAILED_FINDINGS_VIEW)


def presto_view_text(sql: str, database: str, columns: Sequence[tuple[str, str]]) -> str:
    """A Glue table's ``ViewOriginalText`` for an Athena (Trino) view over ``sql`` in ``database``.

    Athena keeps its views as Glue tables of type ``VIRTUAL_VIEW`` whose original text is the view definition as
    JSON, base64-encoded between ``/* Presto View: `` and `` */`` (Trino's Hive connector, which Athena engine 3
    runs: ``ViewReaderUtil.encodeViewData`` and ``HiveMetadata.PRESTO_VIEW_EXPANDED_TEXT_MARKER`` in trinodb/trino).
    No ``owner`` is written, so the view runs with the rights of whoever queries it.
    """
    definition = {
        "originalSql": sql,
        "catalog": "awsdatacatalog",
        "schema": database,
        "columns": [{"name": name, "type": column_type} for name, column_type in columns],
    }
    encoded = base64.b64encode(json.dumps(definition, separators=(",", ":")).encode()).decode()
    return f"/* Presto View: {encoded} */"


def persona_data_sets(database: str, region: str, sources: Sequence[SecurityLakeSource]) -> tuple[PersonaDataSet, ...]:
    """The datasets of the post's three personas, in OCSF 1.1 (source version 2.0) terms.

    Each query bounds the time range it reads (``time_dt``), so that a dashboard
    refresh scans days, not the whole lake.
    """

    def link(source: SecurityLakeSource) -> str:
        return f'"{database}"."{source.table_name(region)}"'

    findings = link(next(s for s in sources if s.name == "SH_FINDINGS"))
    sql = {
        "executive": query("executive", findings=findings),
        "custodian": " UNION ALL ".join(query("custodian", source_name=s.name.lower(), table=link(s)) for s in sources),
        "operator": query("operator", findings=findings),
    }
    return tuple(PersonaDataSet(key, title, sql[key], columns) for key, title, columns in PERSONAS)
