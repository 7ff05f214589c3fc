"""Seed and inspect the real Airflow servers, and drive the metadata handler against them."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from cryptography.fernet import Fernet
from moto import mock_aws

from tests.airflow.mwaa_adapter import RealMwaa
from tests.airflow.servers import FERNET_KEY, AirflowServer
from tests.handler_kit import LambdaContext, load_handler

REGION = "us-east-1"
DR_REGION = "us-west-2"
BUCKET = "blueprints-mwaa-backup-111111111111-us-west-2"


def ok(server: AirflowServer, method: str, path: str, body: Any = None, query: str = "") -> Any:
    status, answer = server.request(method, path, body=body, query=query)
    assert status < 400, f"{server.name}: {method} {path} answered {status}: {answer}"
    return answer


def put_variable(server: AirflowServer, key: str, value: str, description: str | None = None) -> None:
    body = {"key": key, "value": value}
    if description is not None:  # Airflow 2 refuses a null description (400)
        body["description"] = description
    status, _ = server.request("POST", "/variables", body=body)
    if status == 409:
        ok(server, "PATCH", f"/variables/{quote(key)}", body)
    else:
        assert status < 400, f"{server.name}: POST /variables {key} answered {status}"


def put_connection(server: AirflowServer, record: dict[str, Any]) -> None:
    status, answer = server.request("POST", "/connections", body=record)
    assert status < 400, f"{server.name}: POST /connections answered {status}: {answer}"


def put_pool(server: AirflowServer, name: str, slots: int, description: str) -> None:
    if name == "default_pool":
        ok(server, "PATCH", "/pools/default_pool", {"name": name, "slots": slots}, query="update_mask=slots")
        return
    body: dict[str, Any] = {"name": name, "slots": slots, "description": description}
    if server.major == 3:
        body["include_deferred"] = True
    ok(server, "POST", "/pools", body)


def set_paused(server: AirflowServer, dag_id: str, paused: bool) -> None:
    ok(server, "PATCH", f"/dags/{dag_id}", {"is_paused": paused}, query="update_mask=is_paused")


def add_run(server: AirflowServer, dag_id: str, run_id: str, logical_date: str, end: str) -> None:
    """A finished run, as the primary's scheduler leaves it (created through the API, set to success)."""
    body = {"dag_run_id": run_id, "logical_date": logical_date}
    body.update({"data_interval_start": logical_date, "data_interval_end": end})
    ok(server, "POST", f"/dags/{dag_id}/dagRuns", body)
    ok(server, "PATCH", f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}", {"state": "success"})


def runs(server: AirflowServer, dag_id: str) -> list[dict[str, Any]]:
    return list(ok(server, "GET", f"/dags/{dag_id}/dagRuns", query="limit=100")["dag_runs"])


def paused(server: AirflowServer, dag_ids: tuple[str, ...] | None = None) -> dict[str, bool]:
    """Each DAG's paused state (of ``dag_ids`` only, when given)."""
    states = {d["dag_id"]: bool(d["is_paused"]) for d in ok(server, "GET", "/dags", query="limit=100")["dags"]}
    return states if dag_ids is None else {k: v for k, v in states.items() if k in dag_ids}


def api_record(server: AirflowServer, section: str, key: str) -> dict[str, Any]:
    return dict(ok(server, "GET", f"/{section}/{quote(key, safe='')}"))


def stored_connection(server: AirflowServer, conn_id: str) -> dict[str, Any]:
    """The connection as the metadata database holds it, password and extra decrypted: the
    REST API never shows a password (Airflow 2) or shows only ``***`` (Airflow 3)."""
    with sqlite3.connect(server.home / "airflow.db") as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM connection WHERE conn_id = ?", (conn_id,)).fetchone()
    assert row is not None, f"{server.name} has no connection {conn_id}"
    fernet = Fernet(FERNET_KEY.encode())
    record = dict(row)
    for column, flag in (("password", "is_encrypted"), ("extra", "is_extra_encrypted")):
        if record[column] and record[flag]:
            record[column] = fernet.decrypt(record[column].encode()).decode()
    return record


@contextmanager
def handler_against(
    servers: dict[str, AirflowServer], primary: str, dr: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ModuleType, RealMwaa, Any]]:
    """The metadata handler with ``primary`` and ``dr`` played by real servers and S3 on moto."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=DR_REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
        key = boto3.client("kms", region_name=DR_REGION).create_key()["KeyMetadata"]["Arn"]
        monkeypatch.setenv("AWS_REGION", DR_REGION)
        monkeypatch.setenv("BACKUP_BUCKET", BUCKET)
        monkeypatch.setenv("KMS_KEY_ARN", key)
        environments = {"primary": {"name": primary, "region": REGION}, "dr": {"name": dr, "region": DR_REGION}}
        monkeypatch.setenv("ENVIRONMENTS", json.dumps(environments))
        mwaa = RealMwaa(servers)
        module = load_handler("mwaa_dr_metadata")
        module._clients[("mwaa", REGION)] = mwaa.client
        module._clients[("mwaa", DR_REGION)] = mwaa.client
        yield module, mwaa, s3


def restore_all(module: ModuleType, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Restore as the state machine does (empty cursor, then the returned one until done); the
    wait between iterations for unparsed DAGs is skipped (the servers parsed them at start)."""
    cursor: Any = {}
    for _ in range(200):
        result = module.handler({**event, "action": "restore", "cursor": cursor}, context)
        if result["done"]:
            return dict(result["summary"])
        cursor = result["cursor"]
    raise AssertionError("restore did not finish")
