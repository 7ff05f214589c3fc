"""docs/mwaa-dr.md's "What a backup carries, per Airflow version", checked row by row against the real servers.

The test parses the page's two tables (Airflow 2.x and 3.x), seeds the primary of that version with one probe
per row, runs the metadata handler's backup and restore unchanged (as the round-trip tests do), and observes
for every row what the backup files hold and what the DR server holds afterwards. Each row's "backed up" and
"restored" cells must equal what was observed, and every row must have a probe (and every probe a row), so the
table cannot drift from the code or from Airflow.

Cells: ``yes``; ``no``; ``masked`` (the backup holds Airflow's ``***`` in place of the value); ``marker``
(restored as a finished marker run at the same logical date, not as the original run).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.airflow.kit import (
    BUCKET,
    add_run,
    handler_against,
    ok,
    put_connection,
    put_variable,
    restore_all,
    runs,
    set_paused,
    stored_connection,
)
from tests.airflow.servers import SECRETS_BACKEND_KEY, SECRETS_BACKEND_VALUE, VENVS, AirflowServer, _env
from tests.handler_kit import LambdaContext

DOC = Path(__file__).resolve().parents[2] / "docs" / "mwaa-dr.md"
SECTION = "### What a backup carries, per Airflow version"
CELLS = {"yes", "no", "masked", "marker"}

DAG = "dr_probe"
OLDER, NEWER = "2026-11-29T00:00:00+00:00", "2026-11-30T00:00:00+00:00"
OLDER_RUN, NEWER_RUN = "probe__2026-11-29", "probe__2026-11-30"
CONN = {
    "connection_id": "ct_conn",
    "conn_type": "postgres",
    "host": "db.probe.internal",
    "login": "probe_user",
    "schema": "probe_db",
    "port": 6432,
    "description": "probe connection",
    "password": "ct-connection-password",
    "extra": json.dumps({"sslmode": "require"}),
}
CONN_TOKEN = {
    "connection_id": "ct_conn_token",
    "conn_type": "http",
    "host": "api.probe.internal",
    "extra": json.dumps({"timeout": 5, "token": "ct-extra-token"}),
}
POOL = {"name": "ct_pool", "slots": 5, "description": "probe pool", "include_deferred": True}
XCOM_VALUE = "ct-xcom-value"
USER = "ct_user"
OPTIONS = {"core.default_task_retries": "3"}


def doc_tables() -> dict[int, dict[str, tuple[str, str]]]:
    """{major: {metadata: (backed up, restored)}} from the page's tables."""
    text = DOC.read_text()
    assert SECTION in text, f"{DOC.name} has no section {SECTION!r}"
    section = re.split(r"\n#{1,3} ", text.split(SECTION, 1)[1], maxsplit=1)[0]
    tables: dict[int, dict[str, tuple[str, str]]] = {}
    for major in (2, 3):
        heading = f"\n#### Airflow {major}.x\n"
        assert heading in section, f"the section has no {heading.strip()!r}"
        part = section.split(heading, 1)[1].split("\n#### ", 1)[0]
        rows: dict[str, tuple[str, str]] = {}
        for line in part.splitlines():
            if not line.startswith("|") or line.startswith("| ---") or line.startswith("| metadata |"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            assert len(cells) == 4, f"Airflow {major}.x row has {len(cells)} cells, not 4: {line}"
            label, backed, restored, _why = cells
            assert {backed, restored} <= CELLS, f"Airflow {major}.x {label}: cells must be one of {sorted(CELLS)}"
            assert label not in rows, f"Airflow {major}.x lists {label} twice"
            rows[label] = (backed, restored)
        tables[major] = rows
    return tables


@dataclass
class Seen:
    """What one version's round trip showed: the backup files and calls, and both servers afterwards."""

    major: int
    prod: AirflowServer
    standby: AirflowServer
    files: dict[str, Any]
    text: str
    backup_calls: list[str]
    restore_calls: list[str]

    def record(self, section: str, key: str) -> dict[str, Any]:
        field = {"variables": "key", "pools": "name", "connections": "connection_id", "dags": "dag_id"}[section]
        found = [r for r in self.files[section] if r.get(field) == key]
        return dict(found[0]) if found else {}

    def standby_get(self, path: str) -> tuple[int, Any]:
        return self.standby.request("GET", path)


def _value(backed: Any, seeded: Any) -> str:
    """yes, masked or no: whether the backup holds ``seeded``, Airflow's mask in its place, or nothing."""
    if backed == seeded:
        return "yes"
    if isinstance(backed, str) and "***" in backed:
        return "masked"
    return "no"


def _extra(seen: Seen, conn: dict[str, Any]) -> tuple[str, str]:
    backed = seen.record("connections", conn["connection_id"]).get("extra")
    seeded = json.loads(conn["extra"])
    state = "yes" if backed is not None and json.loads(backed) == seeded else _value(backed, seeded)
    stored = stored_connection(seen.standby, conn["connection_id"])["extra"]
    return state, "yes" if stored is not None and json.loads(stored) == seeded else "no"


def _connection_field(name: str) -> Callable[[Seen], tuple[str, str]]:
    def probe(seen: Seen) -> tuple[str, str]:
        backed = _value(seen.record("connections", "ct_conn").get(name), CONN[name])
        restored = stored_connection(seen.standby, "ct_conn")[name] == CONN[name]
        return backed, "yes" if restored else "no"

    return probe


def _variable(key: str, value: str, description: str | None) -> Callable[[Seen], tuple[str, str]]:
    def probe(seen: Seen) -> tuple[str, str]:
        record = seen.record("variables", key)
        backed = _value(record.get("value"), value)
        if backed == "yes" and record.get("description") != description:
            backed = "no"
        status, answer = seen.standby_get(f"/variables/{key}")
        restored = status == 200 and (answer["value"], answer.get("description")) == (value, description)
        return backed, "yes" if restored else "no"

    return probe


def _pool(seen: Seen) -> tuple[str, str]:
    fields = ("name", "slots", "description", "include_deferred")
    backed = {k: seen.record("pools", POOL["name"]).get(k) for k in fields} == POOL
    status, answer = seen.standby_get(f"/pools/{POOL['name']}")
    restored = status == 200 and {k: answer.get(k) for k in fields} == POOL
    return "yes" if backed else "no", "yes" if restored else "no"


def _default_pool(seen: Seen) -> tuple[str, str]:
    backed = seen.record("pools", "default_pool").get("slots") == 48
    return "yes" if backed else "no", "yes" if seen.standby_get("/pools/default_pool")[1]["slots"] == 48 else "no"


def _paused(seen: Seen) -> tuple[str, str]:
    backed = seen.record("dags", DAG).get("is_paused") is False
    restored = seen.standby_get(f"/dags/{DAG}")[1]["is_paused"] is False
    return "yes" if backed else "no", "yes" if restored else "no"


def _latest_run(seen: Seen) -> tuple[str, str]:
    latest = seen.record("dags", DAG).get("latest_run") or {}
    backed = latest.get("dag_run_id") == NEWER_RUN and latest.get("logical_date", "")[:19] == NEWER[:19]
    there = {r["dag_run_id"]: r for r in runs(seen.standby, DAG) if r["logical_date"][:19] == NEWER[:19]}
    if NEWER_RUN in there:
        restored = "yes"
    elif any(k.startswith("dr_") and r["state"] == "success" for k, r in there.items()):
        restored = "marker"
    else:
        restored = "no"
    return "yes" if backed else "no", restored


def _older_runs(seen: Seen) -> tuple[str, str]:
    restored = any(r["logical_date"][:19] == OLDER[:19] for r in runs(seen.standby, DAG))
    return "yes" if OLDER_RUN in seen.text else "no", "yes" if restored else "no"


def _task_instances(seen: Seen) -> tuple[str, str]:
    backed = "try_number" in seen.text or any("taskInstances" in p for p in seen.backup_calls)
    # the primary's run of that date and its task instances (Airflow 2 answers 200 and none for an unknown run)
    status, answer = seen.standby_get(f"/dags/{DAG}/dagRuns/{NEWER_RUN}/taskInstances")
    restored = status == 200 and bool(answer["task_instances"])
    return "yes" if backed else "no", "yes" if restored else "no"


def _xcoms(seen: Seen) -> tuple[str, str]:
    status, answer = seen.standby_get("/dags/~/dagRuns/~/taskInstances/~/xcomEntries")
    assert status == 200, answer
    restored = any(x["key"] == "ct_xcom" for x in answer["xcom_entries"])
    return "yes" if XCOM_VALUE in seen.text else "no", "yes" if restored else "no"


def _logs(seen: Seen) -> tuple[str, str]:
    backed = any("/logs" in p for p in seen.backup_calls)
    return "yes" if backed else "no", "yes" if any("/logs" in p for p in seen.restore_calls) else "no"


def _users(seen: Seen) -> tuple[str, str]:
    touched = any(p.startswith(("/users", "/roles")) for p in seen.backup_calls + seen.restore_calls)
    if seen.major == 2:
        restored = seen.standby_get(f"/users/{USER}")[0] == 200
        return "yes" if USER in seen.text else "no", "yes" if restored else "no"
    return ("yes" if touched else "no"), ("yes" if touched else "no")


def _configuration(seen: Seen) -> tuple[str, str]:
    backed = seen.files["environment"].get("AirflowConfigurationOptions") == OPTIONS
    return "yes" if backed else "no", "yes" if any(p.startswith("/config") for p in seen.restore_calls) else "no"


def _secrets_backend(seen: Seen) -> tuple[str, str]:
    status, _ = seen.standby_get(f"/variables/{SECRETS_BACKEND_KEY}")
    return "yes" if SECRETS_BACKEND_VALUE in seen.text else "no", "yes" if status == 200 else "no"


#: docs row (the "metadata" cell, exactly) -> what is observed for it
PROBES: dict[str, Callable[[Seen], tuple[str, str]]] = {
    "variable: key, value, description": _variable("ct_plain", "plain value", "a described variable"),
    "variable with a sensitive key (`ct_api_password`)": _variable("ct_api_password", "ct-variable-secret", None),
    "pool: name, slots, description, include_deferred": _pool,
    "`default_pool` slots": _default_pool,
    "connection `conn_type`": _connection_field("conn_type"),
    "connection `host`": _connection_field("host"),
    "connection `login`": _connection_field("login"),
    "connection `schema`": _connection_field("schema"),
    "connection `port`": _connection_field("port"),
    "connection `description`": _connection_field("description"),
    "connection `password`": _connection_field("password"),
    "connection `extra` without sensitive keys": lambda seen: _extra(seen, CONN),
    "connection `extra` with a sensitive key (`token`)": lambda seen: _extra(seen, CONN_TOKEN),
    "DAG paused state": _paused,
    "newest run of each unpaused DAG": _latest_run,
    "older DAG runs": _older_runs,
    "task instances": _task_instances,
    "XComs": _xcoms,
    "task logs": _logs,
    "users and roles": _users,
    "Airflow configuration options (`AirflowConfigurationOptions`)": _configuration,
    "values served by a secrets backend": _secrets_backend,
}


def test_every_row_of_both_tables_has_a_probe() -> None:
    tables = doc_tables()
    for major, rows in tables.items():
        assert set(rows) == set(PROBES), (
            f"Airflow {major}.x: rows without a probe {sorted(set(rows) - set(PROBES))}, "
            f"probes without a row {sorted(set(PROBES) - set(rows))}"
        )


def _add_xcom(server: AirflowServer) -> None:
    """An XCom of the newer run's task: Airflow 3 through its API; Airflow 2 has no XCom write endpoint, so into
    its metadata database as a task would leave it (JSON-serialized bytes, the default XCom backend's form)."""
    if server.major == 3:
        path = f"/dags/{DAG}/dagRuns/{NEWER_RUN}/taskInstances/work/xcomEntries"
        ok(server, "POST", path, {"key": "ct_xcom", "value": XCOM_VALUE})
    else:
        with sqlite3.connect(server.home / "airflow.db") as db:
            db.execute(
                "INSERT INTO xcom (dag_run_id, task_id, map_index, key, dag_id, run_id, value, timestamp)"
                " SELECT id, 'work', -1, 'ct_xcom', dag_id, run_id, ?, '2026-11-30 01:00:00.000000'"
                " FROM dag_run WHERE dag_id = ? AND run_id = ?",
                (json.dumps(XCOM_VALUE).encode(), DAG, NEWER_RUN),
            )
    answer = ok(server, "GET", f"/dags/{DAG}/dagRuns/{NEWER_RUN}/taskInstances/work/xcomEntries/ct_xcom")
    assert XCOM_VALUE in json.dumps(answer), answer


def _seed(prod: AirflowServer) -> None:
    put_variable(prod, "ct_plain", "plain value", "a described variable")
    put_variable(prod, "ct_api_password", "ct-variable-secret")
    ok(prod, "POST", "/pools", POOL)
    ok(prod, "PATCH", "/pools/default_pool", {"name": "default_pool", "slots": 48}, query="update_mask=slots")
    put_connection(prod, CONN)
    put_connection(prod, CONN_TOKEN)
    set_paused(prod, DAG, False)
    add_run(prod, DAG, OLDER_RUN, OLDER, NEWER)
    add_run(prod, DAG, NEWER_RUN, NEWER, "2026-12-01T00:00:00+00:00")
    tis = ok(prod, "GET", f"/dags/{DAG}/dagRuns/{NEWER_RUN}/taskInstances")["task_instances"]
    assert [t["task_id"] for t in tis] == ["work"], tis  # the primary has the task instances a probe looks for
    _add_xcom(prod)
    if prod.major == 2:
        user = {"username": USER, "password": "ct-user-password", "email": "ct@example.com"}
        ok(prod, "POST", "/users", {**user, "first_name": "C", "last_name": "T", "roles": [{"name": "Viewer"}]})


@pytest.mark.parametrize("major", [2, 3])
def test_the_table_says_what_a_round_trip_carries(
    airflow_servers: dict[str, AirflowServer],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: LambdaContext,
    major: int,
) -> None:
    prod, standby = airflow_servers[f"prod{major}"], airflow_servers[f"standby{major}"]
    _seed(prod)
    with handler_against(airflow_servers, prod.name, standby.name, monkeypatch) as (module, mwaa, s3):
        mwaa.configuration[prod.name] = OPTIONS
        backup = module.handler({"action": "backup", "source": "primary", "prefix": "backups"}, lambda_context)
        backup_calls = [path for _, _, path in mwaa.calls]
        mwaa.calls.clear()
        restore_all(module, {"target": "dr", "prefix": "backups"}, lambda_context)
        restore_calls = [path for _, _, path in mwaa.calls]
        files = {
            name: json.loads(s3.get_object(Bucket=BUCKET, Key=f"{backup['folder']}/{name}.json")["Body"].read())
            for name in ("variables", "pools", "connections", "dags", "environment")
        }
    seen = Seen(major, prod, standby, files, json.dumps(files), backup_calls, restore_calls)
    table = doc_tables()[major]
    observed = {label: PROBES[label](seen) for label in table}
    wrong = {
        label: {"docs": table[label], "observed": observed[label]} for label in table if table[label] != observed[label]
    }
    assert not wrong, f"Airflow {major}.x rows that do not say what the round trip did: {json.dumps(wrong, indent=1)}"


@pytest.mark.parametrize("major", [2, 3])
def test_the_secrets_backend_row_has_a_value_to_miss(airflow_servers: dict[str, AirflowServer], major: int) -> None:
    """The "secrets backend" row means something only if the primary does serve the value from a backend (Airflow's
    environment-variables backend, which Airflow asks before the database) while its REST API lists no such
    variable: ``airflow variables get`` (``Variable.get``, every backend) finds it, ``GET /variables`` does not."""
    prod = airflow_servers[f"prod{major}"]
    got = subprocess.run(
        [str(VENVS[major] / "bin" / "airflow"), "variables", "get", SECRETS_BACKEND_KEY],
        env=_env(major, prod.home, prod.dags),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert got.returncode == 0 and got.stdout.strip().splitlines()[-1] == SECRETS_BACKEND_VALUE, got.stderr[-2000:]
    listed = ok(prod, "GET", "/variables", query="limit=100")["variables"]
    assert SECRETS_BACKEND_KEY not in {v["key"] for v in listed}
