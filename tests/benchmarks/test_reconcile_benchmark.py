"""The reconcile benchmark's own machinery on tiny data: the equality check, the memory cap, the hand-written SQL.

The benchmark itself runs in ``make bench``; these tests check that what it reports can be trusted: that two
engines' outputs are compared column by column (and a difference is found), that pandas is stopped at its memory
cap, and that the hand-written Spark SQL it times against the job computes the same output as the job.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from benchmarks import reconcile as bench

ROWS = 3000


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = bench.dataset(tmp_path_factory.mktemp("bench"), ROWS)
    bench.run_duckdb(folder, "parquet", folder / "out-duckdb.parquet", threads=2)
    bench.run_pandas(folder, "parquet", folder / "out-pandas.parquet")
    return folder


def _changed(source: Path, target: Path, column: str, change: Any) -> Path:
    table = pq.read_table(source)
    index = table.column_names.index(column)
    pq.write_table(table.set_column(index, column, change(table.column(column))), target)
    return target


def test_duckdb_and_pandas_outputs_compare_equal(data: Path) -> None:
    assert pq.read_table(data / "out-duckdb.parquet").num_rows > ROWS // 2
    assert bench.differences(data / "out-duckdb.parquet", data / "out-pandas.parquet") == []


@pytest.mark.parametrize(
    ("column", "change", "found"),
    [
        ("net", lambda c: pc.add(c, pa.array([0.01] + [0.0] * (len(c) - 1))), "net: 1 rows differ"),
        ("status", lambda c: pa.array(["matched!", *c.to_pylist()[1:]]), "status: 1 rows differ"),
        ("due", lambda c: pa.array([None, *c.to_pylist()[1:]], type=c.type), "due: 1 rows differ"),
        ("overdue", lambda c: pc.invert(c), "overdue:"),
    ],
)
def test_a_changed_value_is_reported_with_its_column(
    data: Path, tmp_path: Path, column: str, change: Any, found: str
) -> None:
    changed = _changed(data / "out-pandas.parquet", tmp_path / "changed.parquet", column, change)
    problems = bench.differences(data / "out-duckdb.parquet", changed)
    assert len(problems) == 1 and problems[0].startswith(found), problems


def test_float_noise_below_the_tolerance_is_equal(data: Path, tmp_path: Path) -> None:
    changed = _changed(
        data / "out-pandas.parquet", tmp_path / "noise.parquet", "net", lambda c: pc.multiply(c, 1 + 1e-12)
    )
    assert bench.differences(data / "out-duckdb.parquet", changed) == []


def test_missing_and_repeated_rows_are_reported(data: Path, tmp_path: Path) -> None:
    table = pq.read_table(data / "out-pandas.parquet")
    pq.write_table(table.slice(1), tmp_path / "short.parquet")
    assert bench.differences(data / "out-duckdb.parquet", tmp_path / "short.parquet") == [
        "1 rows only in expected, 0 only in actual"
    ]
    pq.write_table(pa.concat_tables([table, table.slice(0, 2)]), tmp_path / "repeated.parquet")
    assert bench.differences(data / "out-duckdb.parquet", tmp_path / "repeated.parquet") == [
        "actual: 2 repeated txn_id values"
    ]


def test_the_memory_cap_stops_a_process_that_passes_it(tmp_path: Path) -> None:
    grow = "import time; b = bytearray(400 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(30)"
    run = bench.measured([sys.executable, "-c", grow], tmp_path / "grow.log", memory_cap=200 * 2**20, poll=0.05)
    assert run["status"] == "out of memory"
    assert run["peak_rss_bytes"] > 200 * 2**20
    assert run["process_seconds"] < 25


def test_a_run_under_the_cap_reports_its_peak_and_results(tmp_path: Path) -> None:
    code = (
        "import time; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(0.5); "
        "print('RESULT {\"seconds\": 1.5}')"
    )
    run = bench.measured([sys.executable, "-c", code], tmp_path / "ok.log", memory_cap=1024 * 2**20, poll=0.05)
    assert run["status"] == "ok" and run["results"] == [{"seconds": 1.5}]
    assert 150 * 2**20 < run["peak_rss_bytes"] < 1024 * 2**20


def test_spark_per_row_time_check() -> None:
    linear = {"500000": {"status": "ok", "seconds": 10.0}, "2000000": {"status": "ok", "seconds": 30.0}}
    assert bench.linear_check(linear)["met"]
    worse = {"500000": {"status": "ok", "seconds": 10.0}, "2000000": {"status": "ok", "seconds": 50.0}}
    assert not bench.linear_check(worse)["met"]
    cpu = {n: e | {"cpu_seconds": e["seconds"] * 4} for n, e in worse.items()}
    cpu["2000000"]["cpu_seconds"] = 41.0
    assert bench.linear_check(cpu, "cpu_seconds")["met"]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    bench._java_home()
    session = bench.spark_session(cores=2, shuffle_partitions=2, driver_memory="1g")
    yield session
    session.stop()


@pytest.mark.spark
def test_the_hand_written_sql_computes_what_the_job_computes(spark: Any, data: Path) -> None:
    """The overhead ratio compares equal work: both statements give the job's output, which equals DuckDB's."""
    job = bench.load_job()
    bench.timed_write(lambda: bench.job_plan(spark, job, data), data / "out-job")
    assert bench.differences(data / "out-duckdb.parquet", data / "out-job") == []
    for variant in bench.HAND_WRITTEN:
        bench.timed_write(lambda v=variant: bench.hand_plan(spark, data, v), data / f"out-{variant}")
        assert bench.differences(data / "out-job", data / f"out-{variant}") == [], variant
    assert os.path.isdir(data / "out-tuned")
