"""What the real servers refuse, and the fault-injection fake checked against them.

``FakeAirflow`` (tests/lambdas/mwaa_dr_kit.py) stays for what a real server cannot be
made to do on demand (throttling, 5xx, a clock running out); these tests require it to answer
the same calls the way the real Airflow 2.11.0 and 3.0.6 servers do.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.airflow.kit import api_record, handler_against, put_connection, put_variable, restore_all, stored_connection
from tests.airflow.mwaa_adapter import RealMwaa
from tests.airflow.servers import AirflowServer
from tests.handler_kit import LambdaContext, load_handler
from tests.lambdas.mwaa_dr_kit import FakeAirflow


def test_airflow2_backup_restores_into_airflow3_and_names_what_airflow3_refuses(
    airflow_servers: dict[str, AirflowServer], monkeypatch: pytest.MonkeyPatch, lambda_context: LambdaContext
) -> None:
    """Finding 6 on the real Airflow 3: Airflow 2 keeps a variable key of 251 characters, Airflow 3's
    ``VariableBody`` refuses it, and the whole bulk request with it (422, no key named). The restore
    writes the batch's records one by one, restores the rest and names the one refused."""
    prod, standby = airflow_servers["prod2"], airflow_servers["standby3"]
    long_key = "xv_" + "k" * 248
    put_variable(prod, long_key, "too long for Airflow 3")
    put_variable(prod, "xv_one", "one")
    put_variable(prod, "xv_two", "two", "second")
    put_connection(prod, {"connection_id": "xv_http", "conn_type": "http", "host": "h", "extra": '{"timeout": 5}'})
    with handler_against(airflow_servers, prod.name, standby.name, monkeypatch) as (module, _mwaa, _s3):
        module.handler({"action": "backup", "source": "primary", "prefix": "backups"}, lambda_context)
        with pytest.raises(module.RestoreIncomplete) as failed:
            restore_all(module, {"target": "dr", "prefix": "backups"}, lambda_context)
    report = json.loads(str(failed.value))
    assert list(report["failed"]) == [f"variables:{long_key}"], report["failed"]
    assert "422" in report["failed"][f"variables:{long_key}"]
    assert api_record(standby, "variables", "xv_one")["value"] == "one"
    assert (api_record(standby, "variables", "xv_two")["description"]) == "second"
    assert json.loads(stored_connection(standby, "xv_http")["extra"]) == {"timeout": 5}


def _answers(api: Any) -> dict[str, Any]:
    """The same calls through ``AirflowApi``, answers reduced to what both can be compared on
    (fields that are null on the real server are absent in the fake's store)."""

    def clean(record: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if v is not None}
        if "extra" in out:
            out["extra"] = json.loads(out["extra"])
        return out

    connection = {
        "connection_id": "eq_conn",
        "conn_type": "http",
        "host": "api.example.com",
        "password": "pw",
        "extra": json.dumps({"token": "t-1", "timeout": 5}),
    }
    written = api.write("connections", [connection])
    status, detail = api.call("GET", api.path("connections", "eq_conn"))
    listed = [c for c in api.list_all("connections") if c["connection_id"] == "eq_conn"]
    missing, _ = api.call("GET", api.path("connections", "eq_missing"))
    variables = api.write("variables", [{"key": "eq_var", "value": "v"}, {"key": "eq_" + "k" * 248, "value": "x"}])
    return {
        "connection_written": (written.written, sorted(written.failed)),
        "detail": (status, clean(detail)),
        "listed": [clean(c) for c in listed],
        "read_connections": [clean(c) for c in api.read_connections() if c["connection_id"] == "eq_conn"],
        "missing_status": missing,
        "variables_written": (variables.written, sorted(variables.failed)),
    }


@pytest.mark.parametrize("major", [2, 3])
def test_the_fake_answers_as_the_real_server_does(airflow_servers: dict[str, AirflowServer], major: int) -> None:
    api_module = load_handler("mwaa_dr_metadata")
    server = airflow_servers[f"standby{major}"]
    real = _answers(api_module.AirflowApi(RealMwaa(airflow_servers).client, server.name, major))
    fake = _answers(api_module.AirflowApi(FakeAirflow(major), server.name, major))
    assert fake == real
    # and the answers are the ones the handler's fixes rest on
    assert "extra" not in real["listed"][0] if major == 2 else real["listed"][0]["password"] == "***"
    assert real["detail"][1]["extra"] == {"token": "***", "timeout": 5}
    assert real["variables_written"] == ((2, []) if major == 2 else (1, ["eq_" + "k" * 248]))
