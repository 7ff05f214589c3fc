"""The reconciliation workload on the Spark job (local mode) against DuckDB and pandas as reference engines.

Generates two related datasets (a ledger and a bank statement, ``--rows`` each, default 2,000,000), runs the
comparison workload of the Amazon reconciliation post (one VLOOKUP join plus 49 other spreadsheet-like operations)
three ways, checks that the three outputs are equal, and prints input rows per second for each engine. The last
line is ``spark/duckdb=<ratio> spark/pandas=<ratio>`` (ratios of elapsed time; JVM start-up is excluded from
Spark's time: the session is started before the clock). Target: spark/duckdb <= 4 at the default size.

    python benchmarks/reconcile.py                        # 2 x 2,000,000 rows
    python benchmarks/reconcile.py --rows 20000000 --driver-memory 2g --engines spark
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import sys
import tempfile
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
JOB = ROOT / "blueprints" / "jobs" / "reconciliation" / "reconcile.py"
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


# --- Spark --------------------------------------------------------------------------------------------------------


def load_job() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reconcile", JOB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_spark(folder: Path, fmt: str, output: Path, args: argparse.Namespace) -> float:
    from pyspark.sql import SparkSession

    job = load_job()
    builder = (
        SparkSession.builder.master(f"local[{args.cores}]")
        .appName("reconcile-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(args.shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1")
        # Advertise the loopback address too: fetching a broadcast (AQE turns the small per-account joins into
        # broadcasts) otherwise goes to the host's external address, which a sandbox may not route.
        .config("spark.driver.host", "127.0.0.1")
    )
    if args.driver_memory:
        builder = builder.config("spark.driver.memory", args.driver_memory)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    request_path = folder / "request.json"
    request_path.write_text(json.dumps(request(folder, fmt, output)))
    try:
        if args.warm_up:
            # The same workload on 20,000 rows first: JIT-compiled engine code and generated classes are then warm.
            warm = folder / "warm-up"
            generate(warm, 20_000, fmt)
            (warm / "request.json").write_text(json.dumps(request(warm, fmt, warm / "out")))
            job.run(spark, str(warm / "request.json"), uri_schemes=("file",))
        start = time.perf_counter()  # JVM start-up is behind us
        job.run(spark, str(request_path), uri_schemes=("file",))
        return time.perf_counter() - start
    finally:
        spark.stop()


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


# --- comparison ---------------------------------------------------------------------------------------------------


def normalized(path: Path) -> pd.DataFrame:
    df = pq.read_table(path).to_pandas()
    df = df[OUTPUT_COLUMNS].sort_values("txn_id").reset_index(drop=True)
    for column in df.columns:
        series = df[column]
        if pd.api.types.is_datetime64_any_dtype(series) or series.map(type).isin([dt.date]).any():
            df[column] = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(series) or series.map(type).isin([bool, np.bool_]).any():
            df[column] = series.astype("boolean")
    return df


def differences(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    if len(expected) != len(actual):
        return [f"{len(actual)} rows, expected {len(expected)}"]
    problems = []
    for column in OUTPUT_COLUMNS:
        a, b = expected[column], actual[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(a):
            x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
            same = np.isclose(x, y, rtol=1e-9, atol=1e-6, equal_nan=True)
        else:
            x, y = a.astype(object).where(a.notna(), None), b.astype(object).where(b.notna(), None)
            same = np.array([str(p) == str(q) for p, q in zip(x, y, strict=True)])
        if not same.all():
            first = int(np.argmin(same))
            problems.append(f"{column}: {int((~same).sum())} rows differ, e.g. {a.iloc[first]!r} vs {b.iloc[first]!r}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows in each of the two datasets")
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet", help="input file format")
    parser.add_argument("--engines", default="spark,duckdb,pandas", help="comma-separated subset to run")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2, help="Spark local cores, DuckDB threads")
    parser.add_argument("--shuffle-partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    parser.add_argument(
        "--driver-memory", default="4g", help="spark.driver.memory (in local mode also the executors' memory)"
    )
    parser.add_argument(
        "--warm-up", action="store_true", help="run the Spark job once on 20,000 rows before the timed run"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="where data and outputs go (default: a temp dir)")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    ops = operations()
    assert len(ops) == 50 and sum(op["op"] == "vlookup" for op in ops) == 1, "the workload is 1 VLOOKUP + 49 others"

    folder = args.workdir or Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        generate(folder, args.rows, args.format)
        print(f"generated 2 x {args.rows:,} rows ({args.format}) in {time.perf_counter() - start:.1f} s at {folder}")
        seconds: dict[str, float] = {}
        outputs: dict[str, Path] = {}
        for engine in engines:
            out = folder / f"out-{engine}"
            shutil.rmtree(out, ignore_errors=True)
            if engine == "spark":
                seconds[engine] = run_spark(folder, args.format, out, args)
            elif engine == "duckdb":
                out = out.with_suffix(".parquet")
                seconds[engine] = run_duckdb(folder, args.format, out, args.cores)
            elif engine == "pandas":
                out = out.with_suffix(".parquet")
                seconds[engine] = run_pandas(folder, args.format, out)
            else:
                parser.error(f"unknown engine {engine!r}; accepted: spark, duckdb, pandas")
            outputs[engine] = out
            print(f"{engine:>7}: {seconds[engine]:8.2f} s  {2 * args.rows / seconds[engine]:>12,.0f} input rows/s")
        print(f"output: {pq.ParquetDataset(outputs[engines[0]]).read(columns=['txn_id']).num_rows:,} rows")
        frames = {engine: normalized(path) for engine, path in outputs.items()} if len(engines) > 1 else {}
        equal = True
        for engine in engines[1:]:
            problems = differences(frames[engines[0]], frames[engine])
            equal = equal and not problems
            verdict = "equal" if not problems else "DIFFERENT: " + "; ".join(problems[:5])
            print(f"{engines[0]} vs {engine}: {verdict}")
        if "spark" in seconds:
            ratios = [f"spark/{e}={seconds['spark'] / seconds[e]:.2f}" for e in ("duckdb", "pandas") if e in seconds]
            print(" ".join(ratios))
        return 0 if equal else 1
    finally:
        if args.workdir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
