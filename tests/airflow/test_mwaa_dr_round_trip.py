"""Backup, restore and failback of Airflow metadata against real Airflow 2.11.0 and 3.0.6 servers.

The metadata handler runs unchanged; only MWAA's ``InvokeRestApi`` hop is played by
``tests.airflow.mwaa_adapter.RealMwaa`` and S3/KMS by moto. What the servers hold is read back
through their API and, for what the API never shows (passwords, masked extras), from their
metadata database.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.airflow.kit import (
    add_run,
    api_record,
    handler_against,
    paused,
    put_connection,
    put_pool,
    put_variable,
    restore_all,
    runs,
    set_paused,
    stored_connection,
)
from tests.airflow.servers import AirflowServer
from tests.handler_kit import LambdaContext

PG = {
    "connection_id": "rt_pg",
    "conn_type": "postgres",
    "host": "db.primary.internal",
    "login": "etl",
    "schema": "warehouse",
    "port": 5432,
    "password": "pg-secret",
    "description": "warehouse",
    "extra": json.dumps({"sslmode": "require", "token": "tok-primary"}),
}
HTTP = {
    "connection_id": "rt_http",
    "conn_type": "http",
    "host": "api.example.com",
    "extra": json.dumps({"timeout": 30, "verify": True}),
}
#: the DAGs this test owns (tests/airflow/dags; dr_probe belongs to test_mwaa_dr_carried.py)
ROUND_TRIP_DAGS = ("dr_daily", "dr_hourly", "dr_manual")
VARIABLES = {"rt_plain": ("hello", "a plain value"), "rt_json": ('{"a": 1}', None), "rt_api_password": ("pw", None)}


def _seed_primary(prod: AirflowServer) -> None:
    for key, (value, description) in VARIABLES.items():
        put_variable(prod, key, value, description)
    put_pool(prod, "rt_etl", 7, "ETL pool")
    put_pool(prod, "default_pool", 64, "")
    put_connection(prod, PG)
    put_connection(prod, HTTP)
    set_paused(prod, "dr_daily", False)
    set_paused(prod, "dr_hourly", False)
    add_run(prod, "dr_daily", "primary__2026-11-30", "2026-11-30T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
    add_run(prod, "dr_daily", "primary__2026-12-01", "2026-12-01T00:00:00+00:00", "2026-12-02T00:00:00+00:00")
    add_run(prod, "dr_hourly", "primary__2026-12-03T09", "2026-12-03T09:00:00+00:00", "2026-12-03T10:00:00+00:00")


def _connection_fields(server: AirflowServer, conn_id: str) -> dict[str, Any]:
    record = api_record(server, "connections", conn_id)
    return {k: record.get(k) for k in ("conn_type", "host", "login", "schema", "port", "description")}


@pytest.mark.parametrize("major", [2, 3])
def test_round_trip_and_failback_keep_every_field(
    airflow_servers: dict[str, AirflowServer],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: LambdaContext,
    major: int,
) -> None:
    prod, standby = airflow_servers[f"prod{major}"], airflow_servers[f"standby{major}"]
    _seed_primary(prod)
    with handler_against(airflow_servers, prod.name, standby.name, monkeypatch) as (module, _mwaa, _s3):
        backup = module.handler({"action": "backup", "source": "primary", "prefix": "backups"}, lambda_context)
        summary = restore_all(module, {"target": "dr", "prefix": "backups"}, lambda_context)

        # -- failover: the DR environment holds what the primary held, field by field ----------------
        for key, (value, description) in VARIABLES.items():
            if key == "rt_api_password" and major == 3:
                # Airflow 3 masks sensitive variable values in every answer: not restorable, reported
                assert "variables:rt_api_password" in summary["masked_keys"]
                continue
            restored = api_record(standby, "variables", key)
            assert (restored["value"], restored.get("description")) == (value, description)
        etl = api_record(standby, "pools", "rt_etl")
        assert (etl["slots"], etl["description"]) == (7, "ETL pool")
        assert api_record(standby, "pools", "default_pool")["slots"] == 64
        for conn in (PG, HTTP):
            assert _connection_fields(standby, conn["connection_id"]) == _connection_fields(prod, conn["connection_id"])
        # the non-secret extra is carried in full on both versions
        assert json.loads(stored_connection(standby, "rt_http")["extra"]) == {"timeout": 30, "verify": True}
        assert paused(standby, ROUND_TRIP_DAGS) == {"dr_daily": False, "dr_hourly": False, "dr_manual": True}
        # a finished marker run at each active DAG's newest logical date, so the DR scheduler does
        # not run that interval again
        assert {r["logical_date"][:10]: r["state"] for r in runs(standby, "dr_daily")} == {"2026-12-01": "success"}
        assert [r["logical_date"][:13] for r in runs(standby, "dr_hourly")] == ["2026-12-03T09"]
        # what could not be carried is named in the backup's result
        assert set(backup["not_backed_up"]["connections:rt_pg"]) == {"password", "extra.token"}
        assert "connections:rt_http" not in backup["not_backed_up"] or major == 2  # Airflow 2: "password"
        # a masked extra is left out whole (the DR side keeps none rather than a partial one) and named
        assert "extra.token" in summary["fields_not_restored"]["connections:rt_pg"]
        assert stored_connection(standby, "rt_pg")["extra"] is None

        # -- the DR side runs for a while ------------------------------------------------------------
        put_variable(standby, "rt_plain", "changed in DR", "a plain value")
        put_variable(standby, "rt_new_in_dr", "created in DR")
        add_run(standby, "dr_daily", "dr_side__2026-12-02", "2026-12-02T00:00:00+00:00", "2026-12-03T00:00:00+00:00")
        # runbook: the recovered primary's DAGs are paused before the failback
        for dag_id in ("dr_daily", "dr_hourly"):
            set_paused(prod, dag_id, True)

        # -- failback: back up the DR side, restore into the original primary ------------------------
        module.handler({"action": "backup", "source": "dr", "prefix": "failback"}, lambda_context)
        restore_all(module, {"target": "primary", "prefix": "failback"}, lambda_context)

    assert api_record(prod, "variables", "rt_plain")["value"] == "changed in DR"
    assert api_record(prod, "variables", "rt_new_in_dr")["value"] == "created in DR"
    assert api_record(prod, "variables", "rt_api_password")["value"] in ("pw", "***")
    # nothing the primary held was lost or overwritten with a masked or empty value
    pg = stored_connection(prod, "rt_pg")
    assert pg["password"] == "pg-secret"
    assert json.loads(pg["extra"]) == {"sslmode": "require", "token": "tok-primary"}
    assert (pg["host"], pg["login"], pg["schema"], pg["port"]) == ("db.primary.internal", "etl", "warehouse", 5432)
    assert json.loads(stored_connection(prod, "rt_http")["extra"]) == {"timeout": 30, "verify": True}
    assert paused(prod, ROUND_TRIP_DAGS) == {"dr_daily": False, "dr_hourly": False, "dr_manual": True}
    # the DR side's newest run is in the primary's history before its DAG is unpaused
    daily = {r["logical_date"][:10]: r["state"] for r in runs(prod, "dr_daily")}
    assert daily.get("2026-12-02") == "success", daily
