"""Backup and restore time of the MWAA DR metadata handler against real Airflow 2.11.0 and 3.0.6 API servers.

For each Airflow major version the benchmark starts a primary and a DR server (``tests/airflow/servers.py``, the
servers the round-trip tests use) reading the same generated DAG file, seeds the primary through its REST API with
N variables, N connections (password and a non-sensitive ``extra``), P pools and D DAGs (half of them unpaused with
one finished run each), then runs the metadata handler exactly as the Lambda function runs it
(``blueprints/lambdas/mwaa_dr_metadata``, through ``tests/airflow/mwaa_adapter.py``'s boto3 MWAA client, whose
``InvokeRestApi`` is answered by the real servers; S3 and KMS on moto):

* ``backup`` of the primary;
* ``restore`` into the fresh DR server, invoked as the state machine's loop does (empty cursor, then the returned
  cursor until ``done``), each invocation with a Lambda clock of 5 minutes that runs down in real time;
* the same restore again into the same server (every record now exists: on Airflow 2 each connection and pool is
  a ``POST`` answered 409 and a ``PATCH``, and ``POST /variables`` overwrites; it is also the failback case, into an
  environment that has the records).

Every ``InvokeRestApi`` call is timed at the HTTP hop (method, path, seconds, request and response bytes), so each
phase is reported per kind of record (variables, pools, connections, DAGs) as seconds, calls and seconds per
1,000 records. The DR server's content is checked after each restore: a benchmark of a restore that did not
restore everything would measure nothing.

The failover RTO is derived from the measured restore and the fixed parts: detection with the construct's defaults
(3-minute window + 2-minute interval x 3 evaluations = 9 minutes) and, for backup_restore, the environment creation
that the MWAA User Guide gives ("about twenty to thirty minutes", Create an Amazon MWAA environment). Not measured
here: MWAA's own latency per ``InvokeRestApi`` call (Lambda -> MWAA -> the environment's webserver), which adds
``calls x latency`` to the restore; the calls are reported for that reason.

    python benchmarks/mwaa_restore.py     # N=1000, P=100, D=50; writes benchmarks/results/mwaa_restore.json
    python benchmarks/mwaa_restore.py --records 200 --versions 3 --output /tmp/r.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402  (MonkeyPatch.context() for the handler's environment, as the tests set it)

from tests.airflow.kit import handler_against  # noqa: E402
from tests.airflow.servers import VERSIONS, AirflowServer, start_servers  # noqa: E402
from tests.handler_kit import LambdaContext  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "mwaa_restore.json"
KINDS = ("variables", "pools", "connections", "dags")
#: MwaaDrSecondary's defaults: heartbeat_window 3 min, check_interval 2 min, unhealthy_threshold 3
DETECTION_S = (3 + 2 * 3) * 60
#: MWAA User Guide, "Create an Amazon MWAA environment": "It takes about twenty to thirty minutes to create an
#: environment" (also the post's "typically 20-30 minutes")
ENVIRONMENT_CREATION_S = (20 * 60, 30 * 60)
LAMBDA_TIMEOUT_MS = 300_000
START = "2026-11-01"

DAG_FILE = '''"""Benchmark DAGs (benchmarks/mwaa_restore.py): {count} daily DAGs without catchup."""

from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

for index in range({count}):
    with DAG(f"bench_{{index:04d}}", schedule="@daily", start_date=datetime(2026, 11, 1), catchup=False) as dag:
        EmptyOperator(task_id="work")
    globals()[dag.dag_id] = dag
'''


@dataclass
class Call:
    server: str
    method: str
    path: str
    seconds: float
    request_bytes: int
    response_bytes: int
    status: int

    @property
    def kind(self) -> str:
        return self.path.split("/")[1]


@dataclass
class Recorder:
    """Times every HTTP call the MWAA adapter makes to the servers."""

    calls: list[Call] = field(default_factory=list)

    def attach(self, server: AirflowServer) -> None:
        original = server.request

        def timed(method: str, path: str, *, query: str = "", body: Any = None) -> tuple[int, Any]:
            started = time.perf_counter()
            status, answer = original(method, path, query=query, body=body)
            self.calls.append(
                Call(
                    server.name,
                    method,
                    path,
                    time.perf_counter() - started,
                    0 if body is None else len(json.dumps(body)),
                    len(json.dumps(answer)) if answer is not None else 0,
                    status,
                )
            )
            return status, answer

        server.request = timed  # type: ignore[method-assign]

    @contextlib.contextmanager
    def phase(self) -> Iterator[list[Call]]:
        self.calls = []
        yield self.calls


class ClockContext(LambdaContext):
    """A Lambda context whose remaining time runs down from the function's 5-minute timeout in real time."""

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()

    def get_remaining_time_in_millis(self) -> int:
        return int(LAMBDA_TIMEOUT_MS - (time.monotonic() - self.started) * 1000)


def ok(server: AirflowServer, method: str, path: str, body: Any = None, query: str = "") -> Any:
    status, answer = server.request(method, path, body=body, query=query)
    if status >= 400:
        raise RuntimeError(f"{server.name}: {method} {path} answered {status}: {str(answer)[:300]}")
    return answer


def records(records_n: int, pools_n: int) -> dict[str, list[dict[str, Any]]]:
    """What the primary is seeded with (the same for both versions)."""
    return {
        "variables": [
            {"key": f"bench_var_{i:05d}", "value": f"value {i} " + "x" * 80, "description": f"benchmark variable {i}"}
            for i in range(records_n)
        ],
        "connections": [
            {
                "connection_id": f"bench_conn_{i:05d}",
                "conn_type": "postgres",
                "host": f"db{i}.primary.internal",
                "login": "etl",
                "schema": "warehouse",
                "port": 5432,
                "password": f"secret-{i}",
                "description": f"benchmark connection {i}",
                "extra": json.dumps({"sslmode": "require", "connect_timeout": 10}),
            }
            for i in range(records_n)
        ],
        "pools": [
            {"name": f"bench_pool_{i:04d}", "slots": 1 + i % 16, "description": f"benchmark pool {i}"}
            for i in range(pools_n)
        ],
    }


def seed(server: AirflowServer, data: dict[str, list[dict[str, Any]]], dags_n: int) -> None:
    """Airflow 3 in bulk (100 a call), Airflow 2 one record a call; then DAG states and runs."""
    for section, items in data.items():
        if server.major == 3:
            for start in range(0, len(items), 100):
                body = {"actions": [{"action": "create", "entities": items[start : start + 100]}]}
                answer = ok(server, "PATCH", f"/{section}", body)
                errors = (answer.get("create") or {}).get("errors")
                if errors:
                    raise RuntimeError(f"{server.name}: seeding {section} failed: {errors[:3]}")
        else:
            for item in items:
                ok(server, "POST", f"/{section}", item)
    for index in range(0, dags_n, 2):  # every other DAG active, with one finished run
        dag_id = f"bench_{index:04d}"
        ok(server, "PATCH", f"/dags/{dag_id}", {"is_paused": False}, query="update_mask=is_paused")
        run = {"dag_run_id": f"primary__{START}", "logical_date": f"{START}T00:00:00+00:00"}
        run.update(data_interval_start=f"{START}T00:00:00+00:00", data_interval_end="2026-11-02T00:00:00+00:00")
        ok(server, "POST", f"/dags/{dag_id}/dagRuns", run)
        ok(server, "PATCH", f"/dags/{dag_id}/dagRuns/primary__{START}", {"state": "success"})


def total(server: AirflowServer, section: str, prefix: str) -> int:
    """How many records of ``section`` whose key starts with ``prefix`` the server holds."""
    key = {"variables": "key", "pools": "name", "connections": "connection_id"}[section]
    found, offset = 0, 0
    while True:
        page = ok(server, "GET", f"/{section}", query=f"limit=100&offset={offset}")
        items = page[section]
        found += sum(1 for item in items if str(item[key]).startswith(prefix))
        offset += len(items)
        if not items or offset >= page["total_entries"]:
            return found


def summarize(calls: list[Call], wall_s: float, counts: dict[str, int]) -> dict[str, Any]:
    """Per kind: records, calls, seconds at the HTTP hop, seconds per 1,000 records; and the largest bodies."""
    kinds: dict[str, Any] = {}
    for kind in KINDS:
        mine = [c for c in calls if c.kind == kind]
        seconds = sum(c.seconds for c in mine)
        n = counts.get(kind, 0)
        kinds[kind] = {
            "records": n,
            "calls": len(mine),
            "calls_by_method": {m: sum(1 for c in mine if c.method == m) for m in sorted({c.method for c in mine})},
            "seconds": round(seconds, 3),
            "seconds_per_1000_records": round(seconds / n * 1000, 3) if n else None,
        }
    in_calls = sum(c.seconds for c in calls)
    return {
        "wall_seconds": round(wall_s, 3),
        "calls": len(calls),
        "seconds_in_calls": round(in_calls, 3),
        "seconds_outside_calls": round(wall_s - in_calls, 3),
        "largest_request_bytes": max((c.request_bytes for c in calls), default=0),
        "largest_response_bytes": max((c.response_bytes for c in calls), default=0),
        "kinds": kinds,
    }


def restore_loop(module: Any, event: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The state machine's loop: empty cursor, then the returned one until done; each invocation a fresh clock."""
    cursor: Any = {}
    for invocation in range(1, 1000):
        result = module.handler({**event, "action": "restore", "cursor": cursor}, ClockContext())
        if result["done"]:
            return dict(result["summary"]), invocation
        if result.get("wait"):
            raise RuntimeError("the DR server has not parsed every DAG of the backup")
        cursor = result["cursor"]
    raise RuntimeError("restore did not finish")


def measure_version(
    servers: dict[str, AirflowServer],
    major: int,
    *,
    records_n: int,
    pools_n: int,
    dags_n: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    prod, standby = servers[f"prod{major}"], servers[f"standby{major}"]
    data = records(records_n, pools_n)
    started = time.perf_counter()
    seed(prod, data, dags_n)
    seed_s = time.perf_counter() - started
    progress(
        f"Airflow {prod.version}: seeded {records_n} variables, {records_n} connections,"
        f" {pools_n} pools in {seed_s:.1f} s"
    )
    recorder = Recorder()
    for server in (prod, standby):
        recorder.attach(server)
    counts = {"variables": records_n, "connections": records_n, "pools": pools_n + 1, "dags": dags_n}
    result: dict[str, Any] = {"airflow_version": prod.version, "seed_seconds": round(seed_s, 1)}
    with pytest.MonkeyPatch.context() as env, open(os.devnull, "w") as null:
        env.setenv("POWERTOOLS_LOG_LEVEL", "ERROR")
        # the handler's Powertools logger and metrics write to stdout; the benchmark prints its figures itself
        with contextlib.redirect_stdout(null), handler_against(servers, prod.name, standby.name, env) as (module, _, _):
            with recorder.phase() as calls:
                started = time.perf_counter()
                backup = module.handler({"action": "backup", "source": "primary", "prefix": "backups"}, ClockContext())
                result["backup"] = summarize(calls, time.perf_counter() - started, counts)
            result["backup"]["counts"] = backup["counts"]
            for phase in ("restore", "restore_again"):
                with recorder.phase() as calls:
                    started = time.perf_counter()
                    summary, invocations = restore_loop(module, {"target": "dr", "prefix": "backups"})
                    result[phase] = summarize(calls, time.perf_counter() - started, counts)
                result[phase]["lambda_invocations"] = invocations
                result[phase]["written"] = summary["written"]
                result[phase]["markers"] = summary["markers"]
                for section, prefix in (
                    ("variables", "bench_var_"),
                    ("connections", "bench_conn_"),
                    ("pools", "bench_pool_"),
                ):
                    held = total(standby, section, prefix)
                    if held != len(data[section]):
                        raise RuntimeError(
                            f"{standby.name} holds {held} of {len(data[section])} {section} after {phase}"
                        )
                progress(
                    f"Airflow {prod.version}: {phase} {result[phase]['wall_seconds']:.1f} s, {invocations} invocations"
                )
    restore_s = result["restore"]["wall_seconds"]
    result["rto_seconds"] = {
        "active_passive": round(DETECTION_S + restore_s, 1),
        "backup_restore": [round(DETECTION_S + c + restore_s, 1) for c in ENVIRONMENT_CREATION_S],
    }
    return result


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1.0


def run(*, records_n: int, pools_n: int, dags_n: int, versions: tuple[int, ...], base: Path) -> dict[str, Any]:
    """Start the servers, measure each version, and return the results (the JSON that is written)."""

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    dags = base / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    (dags / "bench_dags.py").write_text(DAG_FILE.format(count=dags_n))
    load_start = loadavg()
    started = time.perf_counter()
    names = [(f"{role}{major}", major) for major in versions for role in ("prod", "standby")]
    servers = start_servers(base / "servers", names, dags)
    progress(f"servers {', '.join(n for n, _ in names)} ready in {time.perf_counter() - started:.1f} s")
    try:
        measured = {
            str(major): measure_version(
                servers, major, records_n=records_n, pools_n=pools_n, dags_n=dags_n, progress=progress
            )
            for major in versions
        }
    finally:
        for server in servers.values():
            server.stop()
    return {
        "records": records_n,
        "pools": pools_n,
        "dags": dags_n,
        "active_dags_with_a_run": len(range(0, dags_n, 2)),
        "airflow_versions": {str(m): VERSIONS[m] for m in versions},
        "python": sys.version.split()[0],
        "load_average_1m": {"start": load_start, "end": loadavg()},
        "fixed_parts_seconds": {
            "detection": DETECTION_S,
            "environment_creation": list(ENVIRONMENT_CREATION_S),
        },
        "sources": {
            "detection": "MwaaDrSecondary defaults: heartbeat_window 3 min + check_interval 2 min x threshold 3",
            "environment_creation": 'MWAA User Guide, "Create an Amazon MWAA environment": 20 to 30 minutes',
        },
        "versions": measured,
    }


def report(results: dict[str, Any]) -> list[str]:
    """The lines ``make bench`` prints: seconds per 1,000 records per version, phase and kind, and the RTO."""
    lines = []
    for major, result in results["versions"].items():
        lines.append(f"Airflow {result['airflow_version']} (N={results['records']}):")
        for phase in ("backup", "restore", "restore_again"):
            figures = result[phase]
            per_kind = ", ".join(
                f"{kind} {k['seconds_per_1000_records']:.2f} s/1000 ({k['calls']} calls)"
                for kind, k in figures["kinds"].items()
                if k["records"]
            )
            lines.append(f"  {phase}: {figures['wall_seconds']:.1f} s, {figures['calls']} calls; {per_kind}")
        rto = result["rto_seconds"]
        low, high = (s / 60 for s in rto["backup_restore"])
        lines.append(
            f"  failover RTO: active_passive {rto['active_passive'] / 60:.1f} min,"
            f" backup_restore {low:.1f}-{high:.1f} min (Airflow {major}: detection 9 min + restore;"
            " backup_restore adds 20-30 min of environment creation)"
        )
    return lines


def markdown_table(results: dict[str, Any]) -> list[str]:
    """The table docs/mwaa-dr.md shows (the test keeps the page equal to the committed results)."""
    lines = [
        "| Airflow | phase | wall time | calls | variables | connections | pools | DAGs | Lambda invocations |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {"backup": "backup", "restore": "restore into a fresh target", "restore_again": "restore again"}
    for result in results["versions"].values():
        for phase, name in names.items():
            figures = result[phase]
            cells = []
            for kind in ("variables", "connections", "pools", "dags"):
                k = figures["kinds"][kind]
                cells.append(f"{k['seconds_per_1000_records']:.1f} s ({k['calls']})")
            invocations = figures.get("lambda_invocations", 1)
            lines.append(
                f"| {result['airflow_version']} | {name} | {figures['wall_seconds']:.1f} s | {figures['calls']} | "
                + " | ".join(cells)
                + f" | {invocations} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000, help="variables and connections each (default 1000)")
    parser.add_argument("--pools", type=int, default=100)
    parser.add_argument("--dags", type=int, default=50)
    parser.add_argument("--versions", default="2,3", help="Airflow major versions, comma-separated")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    versions = tuple(int(v) for v in args.versions.split(","))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    with tempfile.TemporaryDirectory(prefix="mwaa-restore-bench-") as base:
        results = run(records_n=args.records, pools_n=args.pools, dags_n=args.dags, versions=versions, base=Path(base))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(report(results)))
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
