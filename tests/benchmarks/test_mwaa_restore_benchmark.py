"""The MWAA restore benchmark's machinery, at N=20 against its own real Airflow 2 and 3 servers, and the page that
shows its committed results.

No timing is asserted (the machine's speed is what the benchmark reports, in ``make bench``). What is checked is
that the figures mean what they say: the seeded records are the ones backed up and restored, every call is
attributed to its kind and phase (the call counts follow from how each version writes), the per-1,000 figures and
the RTO are computed from the measured times, and docs/mwaa-dr.md shows the committed results unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import mwaa_restore as bench

N, POOLS, DAGS = 20, 3, 4
DOC = Path(__file__).resolve().parents[2] / "docs" / "mwaa-dr.md"


def test_the_benchmark_measures_what_it_restored(tmp_path: Path) -> None:
    results = bench.run(records_n=N, pools_n=POOLS, dags_n=DAGS, versions=(2, 3), base=tmp_path)
    json.dumps(results)  # what main() writes
    assert results["airflow_versions"] == {"2": "2.11.0", "3": "3.0.6"}
    for major, result in results["versions"].items():
        backup, restore, again = result["backup"], result["restore"], result["restore_again"]
        # default_pool is backed up and restored too
        assert backup["counts"] == {
            "variables": N,
            "pools": POOLS + 1,
            "connections": N,
            "dags": DAGS,
            "environment": 1,
        }
        assert restore["written"] == {"variables": N, "pools": POOLS + 1, "connections": N, "dags": DAGS // 2}
        assert restore["markers"] == DAGS // 2  # one marker run per active DAG, before it is unpaused
        assert again["written"]["variables"] == N and again["markers"] == 0  # nothing left to unpause or mark
        kinds = {phase: result[phase]["kinds"] for phase in ("backup", "restore", "restore_again")}
        if major == "2":
            # one POST per record; again, a connection's POST answers 409 and a PATCH follows, while
            # Airflow 2's POST /variables overwrites an existing key (Variable.set)
            assert kinds["restore"]["variables"]["calls_by_method"] == {"POST": N}
            assert kinds["restore_again"]["connections"]["calls_by_method"] == {"PATCH": N, "POST": N}
            assert kinds["restore_again"]["variables"]["calls_by_method"] == {"POST": N}
            # the list, then each connection's detail (the list has no extra)
            assert kinds["backup"]["connections"]["calls_by_method"] == {"GET": 1 + N}
        else:
            assert kinds["restore"]["variables"]["calls_by_method"] == {"PATCH": 1}  # one bulk call per 100
            assert kinds["restore_again"]["connections"]["calls_by_method"] == {"PATCH": 1}
            assert kinds["backup"]["connections"]["calls_by_method"] == {"GET": 1}
        for phase in ("backup", "restore", "restore_again"):
            figures = result[phase]
            assert figures["calls"] == sum(k["calls"] for k in figures["kinds"].values())
            for kind in figures["kinds"].values():
                # both figures are rounded to 3 decimals: the per-1,000 one may differ by that rounding, scaled
                rounding = 0.0005 * 1000 / kind["records"] + 0.0005
                assert kind["seconds_per_1000_records"] == pytest.approx(
                    kind["seconds"] / kind["records"] * 1000, abs=rounding
                )
            assert figures["wall_seconds"] >= figures["seconds_in_calls"] > 0
        assert result["rto_seconds"]["active_passive"] == pytest.approx(
            bench.DETECTION_S + restore["wall_seconds"], abs=0.1
        )
        low, high = result["rto_seconds"]["backup_restore"]
        assert (high - low) == pytest.approx(10 * 60, abs=0.2)
    lines = bench.report(results)
    assert sum("failover RTO" in line for line in lines) == 2
    assert len(bench.markdown_table(results)) == 2 + 2 * 3


def test_the_docs_show_the_committed_results() -> None:
    results = json.loads(bench.RESULTS.read_text())
    assert results["records"] == 1000 and set(results["versions"]) == {"2", "3"}
    page = DOC.read_text()
    for line in bench.markdown_table(results):
        assert line in page, f"docs/mwaa-dr.md does not show the committed benchmark result: {line}"
    for result in results["versions"].values():
        minutes = result["rto_seconds"]["active_passive"] / 60
        assert f"{minutes:.1f} min" in page, f"the RTO {minutes:.1f} min of Airflow {result['airflow_version']}"
