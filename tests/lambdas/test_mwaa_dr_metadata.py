"""Backup and restore of Airflow metadata through MWAA InvokeRestApi, on Airflow 2 and 3.

S3 and KMS run on moto. MWAA is not in moto: exact request shapes are checked with botocore's
Stubber, and the large and idempotency cases run against an in-memory Airflow whose
``invoke_rest_api`` validates every request against the real MWAA service model and answers
Airflow errors the way MWAA does (``RestApiClientException`` with the Airflow status).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.handler_kit import LambdaContext, load_event, load_handler, stubbed
from tests.lambdas.mwaa_dr_kit import (
    BUCKET,
    DR_REGION,
    LONG_KEY,
    REGION,
    FakeAirflow,
    airflow_error,
)


class FakeMwaa:
    def __init__(self, airflow: dict[str, FakeAirflow], versions: dict[str, str]) -> None:
        self.airflow = airflow
        self.versions = versions
        self.exceptions = boto3.client("mwaa", region_name=REGION).exceptions

    def invoke_rest_api(self, **kwargs: Any) -> dict[str, Any]:
        return self.airflow[kwargs["Name"]].invoke_rest_api(**kwargs)

    def get_environment(self, Name: str) -> dict[str, Any]:
        return {
            "Environment": {
                "Name": Name,
                "AirflowVersion": self.versions[Name],
                "EnvironmentClass": "mw1.small",
                "MaxWorkers": 2,
                "Schedulers": 2,
                "DagS3Path": "dags",
                "Arn": "arn",
                "Status": "AVAILABLE",
                "LoggingConfiguration": {
                    "TaskLogs": {"Enabled": True, "LogLevel": "INFO", "CloudWatchLogGroupArn": "x"}
                },
                "NetworkConfiguration": {"SubnetIds": ["subnet-1"]},
            }
        }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with mock_aws():
        s3 = boto3.client("s3", region_name=DR_REGION)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
        key = boto3.client("kms", region_name=DR_REGION).create_key()["KeyMetadata"]["Arn"]
        monkeypatch.setenv("AWS_REGION", DR_REGION)
        monkeypatch.setenv("BACKUP_BUCKET", BUCKET)
        monkeypatch.setenv("KMS_KEY_ARN", key)
        monkeypatch.setenv(
            "ENVIRONMENTS",
            json.dumps({"primary": {"name": "prod", "region": REGION}, "dr": {"name": "standby", "region": DR_REGION}}),
        )
        yield {"s3": s3, "key": key}


def _handler(fake: FakeMwaa) -> ModuleType:
    module = load_handler("mwaa_dr_metadata")
    module._clients[("mwaa", REGION)] = fake
    module._clients[("mwaa", DR_REGION)] = fake
    return module


def _fill(airflow: FakeAirflow, variables: int, connections: int, dags: int = 3) -> None:
    for i in range(variables):
        airflow.data["variables"][f"var_{i:04d}"] = {"key": f"var_{i:04d}", "value": f"value {i}", "description": None}
    for i in range(connections):
        airflow.data["connections"][f"conn_{i:03d}"] = {
            "connection_id": f"conn_{i:03d}",
            "conn_type": "postgres",
            "host": f"db{i}.internal",
            "login": "etl",
            "password": f"s3cret-{i}",
            "port": 5432,
        }
    airflow.data["pools"]["default_pool"] = {"name": "default_pool", "slots": 64, "description": "Default pool"}
    airflow.data["pools"]["etl"] = {"name": "etl", "slots": 8, "description": "ETL", "include_deferred": False}
    for i in range(dags):
        airflow.data["dags"][f"dag_{i}"] = {"dag_id": f"dag_{i}", "is_paused": i == 0}
        airflow.runs[f"dag_{i}"] = [
            {"dag_run_id": f"scheduled__{i}", "logical_date": "2026-11-27T08:00:00Z", "state": "running"}
        ]


def _restore_all(
    module: ModuleType, event: dict[str, Any], context: LambdaContext, limit: int = 100
) -> list[dict[str, Any]]:
    """Call restore as the state machine does: an empty cursor first (the Init state's), then
    the returned cursor until done."""
    results = []
    cursor: Any = {}
    for _ in range(limit):
        result = module.handler({**event, "cursor": cursor}, context)
        results.append(result)
        if result["done"]:
            return results
        cursor = result["cursor"]
    raise AssertionError("restore did not finish")


@pytest.mark.parametrize("major", [2, 3])
def test_backup_then_restore_large_metadata_in_full(
    aws: dict[str, Any], lambda_context: LambdaContext, major: int
) -> None:
    version = "2.10.3" if major == 2 else "3.0.6"
    prod, standby = FakeAirflow(major), FakeAirflow(major)
    _fill(prod, variables=1000, connections=200)
    for dag in prod.data["dags"].values():
        standby.data["dags"][dag["dag_id"]] = {"dag_id": dag["dag_id"], "is_paused": True}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": version, "standby": version}))

    backup = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    assert backup["counts"]["variables"] == 1000 and backup["counts"]["connections"] == 200

    objects = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="backups/")["Contents"]
    keys = [o["Key"] for o in objects]
    assert "backups/latest.json" in keys and any(k.endswith("/manifest.json") for k in keys)
    head = aws["s3"].head_object(Bucket=BUCKET, Key=f"{backup['folder']}/connections.json")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == aws["key"]
    assert (
        "s3cret"
        not in aws["s3"].get_object(Bucket=BUCKET, Key=f"{backup['folder']}/connections.json")["Body"].read().decode()
    )

    module.MAX_RECORDS_PER_CALL = 300
    event = load_event("mwaa_dr_restore")
    results = _restore_all(module, event, lambda_context)
    assert len(results) > 4, "1,200 records at 300 per call take several iterations"
    assert results[-1]["summary"]["written"]["variables"] == 1000
    assert results[-1]["summary"]["written"]["connections"] == 200
    assert set(standby.data["variables"]) == set(prod.data["variables"])
    assert standby.data["variables"]["var_0999"]["value"] == "value 999"
    assert set(standby.data["connections"]) == set(prod.data["connections"])
    assert standby.data["pools"]["etl"]["slots"] == 8
    assert standby.data["pools"]["default_pool"]["slots"] == 64
    assert {d: v["is_paused"] for d, v in standby.data["dags"].items()} == {
        "dag_0": True,
        "dag_1": False,
        "dag_2": False,
    }
    # no connection password was ever written from a masked placeholder
    assert all(c.get("password") in (None,) for c in standby.data["connections"].values())


@pytest.mark.parametrize("major", [2, 3])
def test_restore_twice_gives_the_same_state(aws: dict[str, Any], lambda_context: LambdaContext, major: int) -> None:
    version = "2.11.0" if major == 2 else "3.0.6"
    prod, standby = FakeAirflow(major), FakeAirflow(major)
    _fill(prod, variables=120, connections=5, dags=2)
    standby.data["dags"] = {d: {"dag_id": d, "is_paused": True} for d in prod.data["dags"]}
    standby.data["variables"]["var_0001"] = {"key": "var_0001", "value": "stale", "description": None}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": version, "standby": version}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)

    _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    first = json.dumps(standby.data, sort_keys=True)
    _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    assert json.dumps(standby.data, sort_keys=True) == first
    assert standby.data["variables"]["var_0001"]["value"] == "value 1"
    assert len(standby.data["variables"]) == 120


def test_backup_from_airflow2_restores_into_airflow3(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    prod, standby = FakeAirflow(2), FakeAirflow(3)
    _fill(prod, variables=10, connections=2, dags=1)
    standby.data["dags"]["dag_0"] = {"dag_id": "dag_0", "is_paused": True}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "3.0.6"}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    assert len(standby.data["variables"]) == 10
    # the same relative paths on both versions; only the write method differs
    assert ("PATCH", "/variables") in standby.calls and ("POST", "/variables") not in standby.calls
    assert ("GET", "/variables") in prod.calls
    assert all(not path.startswith("/api/") for _, path in prod.calls + standby.calls)


def test_masked_values_are_reported_not_written(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    prod, standby = FakeAirflow(3), FakeAirflow(3)
    prod.data["variables"]["db_secret"] = {"key": "db_secret", "value": "hunter2"}
    prod.data["variables"]["plain"] = {"key": "plain", "value": "1"}
    prod.data["connections"]["warehouse"] = {"connection_id": "warehouse", "conn_type": "http", "password": "pw"}
    standby.data["variables"]["db_secret"] = {"key": "db_secret", "value": "kept-from-secrets-backend"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "3.0.6", "standby": "3.0.6"}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    summary = _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)[-1]["summary"]
    assert summary["masked_not_restored"] == 2
    assert set(summary["masked_keys"]) == {"variables:db_secret", "connections:warehouse"}
    assert standby.data["variables"]["db_secret"]["value"] == "kept-from-secrets-backend"
    assert "password" not in standby.data["connections"]["warehouse"]


def test_rejected_records_fail_the_restore_loudly(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    prod, standby = FakeAirflow(3), FakeAirflow(3)
    prod.data["variables"][LONG_KEY] = {"key": LONG_KEY, "value": "x"}
    prod.data["variables"]["fine"] = {"key": "fine", "value": "y"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "3.0.6", "standby": "3.0.6"}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    with pytest.raises(module.RestoreIncomplete, match=f"variables:{LONG_KEY}"):
        _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    assert standby.data["variables"]["fine"]["value"] == "y"


def test_restore_waits_for_unparsed_dags_then_reports_them(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    _fill(prod, variables=1, connections=0, dags=2)
    standby.data["dags"]["dag_0"] = {"dag_id": "dag_0", "is_paused": True}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "2.10.3"}))
    module.DAG_WAIT_ATTEMPTS = 2
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    first = module.handler({**load_event("mwaa_dr_restore"), "cursor": None}, lambda_context)
    assert first == {"done": False, "wait": True, "cursor": first["cursor"]}
    second = module.handler({**load_event("mwaa_dr_restore"), "cursor": first["cursor"]}, lambda_context)
    assert second["wait"] is True
    with pytest.raises(module.RestoreIncomplete, match="dags:dag_1"):
        module.handler({**load_event("mwaa_dr_restore"), "cursor": second["cursor"]}, lambda_context)


def test_restore_stops_early_when_lambda_time_runs_short(aws: dict[str, Any]) -> None:
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    _fill(prod, variables=50, connections=0, dags=0)
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "2.10.3"}))
    module.handler(load_event("mwaa_dr_backup"), LambdaContext())
    result = module.handler({**load_event("mwaa_dr_restore"), "cursor": None}, LambdaContext(remaining_ms=30_000))
    assert result["done"] is False and result["cursor"]["offset"] == 0 and not standby.data["variables"]


def test_restore_skips_an_incomplete_replica_and_uses_the_previous_backup(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    prod.data["variables"]["a"] = {"key": "a", "value": "old"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "2.10.3"}))
    older = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    prod.data["variables"]["a"] = {"key": "a", "value": "new"}
    newer = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    # replication delivered the pointer and manifest of the newer backup, but not all its files yet
    aws["s3"].delete_object(Bucket=BUCKET, Key=f"{newer['folder']}/variables.json")
    result = _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)[-1]
    assert result["summary"]["folder"] == older["folder"]
    assert standby.data["variables"]["a"]["value"] == "old"


def test_no_backup_at_all_is_an_error(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    module = _handler(FakeMwaa({"standby": FakeAirflow(2)}, {"standby": "2.10.3"}))
    with pytest.raises(Exception, match="no complete backup"):
        module.handler({**load_event("mwaa_dr_restore"), "cursor": None}, lambda_context)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"action": "drop_everything"},
        {"action": "restore", "target": "elsewhere"},
        {"action": "backup", "prefix": "../x"},
    ],
)
def test_bad_events_are_rejected(
    monkeypatch: pytest.MonkeyPatch, lambda_context: LambdaContext, event: dict[str, Any]
) -> None:
    monkeypatch.setenv("ENVIRONMENTS", json.dumps({"primary": {"name": "prod"}, "dr": {"name": "standby"}}))
    module = _handler(FakeMwaa({}, {}))
    with pytest.raises(ValueError):
        module.handler(event, lambda_context)


def test_pause_all_pauses_the_dr_side_after_failback(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    standby = FakeAirflow(3)
    standby.data["dags"] = {f"d{i}": {"dag_id": f"d{i}", "is_paused": i % 2 == 0} for i in range(5)}
    module = _handler(FakeMwaa({"standby": standby}, {"standby": "3.0.6"}))
    assert module.handler({"action": "pause_all", "target": "dr"}, lambda_context)["paused"] == 2
    assert all(d["is_paused"] for d in standby.data["dags"].values())


# -- exact request shapes with the Stubber -----------------------------------------------------------


def _stubbed_api(module_name: str = "mwaa_dr_airflow_api") -> tuple[ModuleType, Any]:
    handler = load_handler("mwaa_dr_metadata")
    client = boto3.client("mwaa", region_name=REGION)
    return handler, client


def _api(major: int, client: Any) -> Any:
    import importlib.util
    import sys

    from tests.handler_kit import LAMBDAS

    spec = importlib.util.spec_from_file_location(
        "mwaa_dr_airflow_api_test", LAMBDAS / "mwaa_dr_metadata" / "mwaa_dr_airflow_api.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["mwaa_dr_airflow_api_test"] = module
    spec.loader.exec_module(module)
    return module.AirflowApi(client, "prod", major, sleep=lambda _: None)


def test_airflow2_pagination_reads_every_page() -> None:
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(2, client)
    with stubbed(client) as stub:
        for offset, count in ((0, 100), (100, 100), (200, 5)):
            stub.add_response(
                "invoke_rest_api",
                {
                    "RestApiStatusCode": 200,
                    "RestApiResponse": {
                        "variables": [{"key": f"k{offset + i}", "value": "v"} for i in range(count)],
                        "total_entries": 205,
                    },
                },
                {
                    "Name": "prod",
                    "Path": "/variables",
                    "Method": "GET",
                    "QueryParameters": {"limit": 100, "offset": offset},
                },
            )
        assert len(api.read_variables()) == 205


def test_airflow3_bulk_upsert_shape() -> None:
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(3, client)
    with stubbed(client) as stub:
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"create": {"success": ["etl"], "errors": []}}},
            {
                "Name": "prod",
                "Path": "/pools",
                "Method": "PATCH",
                "Body": {
                    "actions": [
                        {
                            "action": "create",
                            "entities": [{"name": "etl", "slots": 8}],
                            "action_on_existence": "overwrite",
                        }
                    ]
                },
            },
        )
        result = api.write("pools", [{"name": "etl", "slots": 8, "description": None}])
    assert result.written == 1 and not result.failed


def test_airflow2_conflict_falls_back_to_patch_with_update_mask() -> None:
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(2, client)
    record = {"connection_id": "warehouse", "conn_type": "postgres", "host": "db"}
    with stubbed(client) as stub:
        stub.add_client_error(
            "invoke_rest_api",
            service_error_code="RestApiClientException",
            http_status_code=400,
            modeled_fields={"RestApiStatusCode": 409, "RestApiResponse": {"title": "Conflict"}},
            expected_params={"Name": "prod", "Path": "/connections", "Method": "POST", "Body": record},
        )
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": record},
            {
                "Name": "prod",
                "Path": "/connections/warehouse",
                "Method": "PATCH",
                "QueryParameters": {"update_mask": ["conn_type", "host"]},
                "Body": record,
            },
        )
        assert api.write("connections", [record]).written == 1


def test_throttling_is_retried_and_persistent_faults_are_raised() -> None:
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(2, client)
    with stubbed(client) as stub:
        stub.add_client_error("invoke_rest_api", service_error_code="ThrottlingException", http_status_code=429)
        stub.add_client_error(
            "invoke_rest_api",
            service_error_code="RestApiServerException",
            http_status_code=400,
            modeled_fields={"RestApiStatusCode": 503, "RestApiResponse": {"title": "unavailable"}},
        )
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"is_paused": False}},
            {
                "Name": "prod",
                "Path": "/dags/etl",
                "Method": "PATCH",
                "QueryParameters": {"update_mask": ["is_paused"]},
                "Body": {"is_paused": False},
            },
        )
        assert api.set_paused("etl", False) is None
    with stubbed(client) as stub:
        for _ in range(5):
            stub.add_client_error("invoke_rest_api", service_error_code="ThrottlingException", http_status_code=429)
        with pytest.raises(ClientError, match="ThrottlingException"):
            api.set_paused("etl", False)
    with stubbed(client) as stub:
        stub.add_client_error("invoke_rest_api", service_error_code="AccessDeniedException", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDenied"):
            api.set_paused("etl", False)


@pytest.mark.parametrize("major", [2, 3])
def test_ids_too_long_for_the_path_are_reported_not_dropped(major: int) -> None:
    """/dags/<id> leaves 58 of InvokeRestApi's 64 characters for the id, on both versions."""
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(major, client)
    assert "InvokeRestApi accepts 64" in api.set_paused("d" * 59, False)
    longest = "d" * 58
    with stubbed(client) as stub:
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"dag_id": longest, "is_paused": False}},
            {
                "Name": "prod",
                "Path": f"/dags/{longest}",
                "Method": "PATCH",
                "QueryParameters": {"update_mask": ["is_paused"]},
                "Body": {"is_paused": False},
            },
        )
        assert api.set_paused(longest, False) is None


def test_airflow3_requests_use_paths_relative_to_the_api_root() -> None:
    """MWAA adds /api/v2 itself; the Amazon provider sends the same Path on Airflow 2 and 3."""
    client = boto3.client("mwaa", region_name=REGION)
    api = _api(3, client)
    with stubbed(client) as stub:
        for offset, count in ((0, 100), (100, 1)):
            stub.add_response(
                "invoke_rest_api",
                {
                    "RestApiStatusCode": 200,
                    "RestApiResponse": {
                        "variables": [{"key": f"k{offset + i}", "value": "v"} for i in range(count)],
                        "total_entries": 101,
                    },
                },
                {
                    "Name": "prod",
                    "Path": "/variables",
                    "Method": "GET",
                    "QueryParameters": {"limit": 100, "offset": offset},
                },
            )
        stub.add_response(
            "invoke_rest_api",
            {
                "RestApiStatusCode": 200,
                "RestApiResponse": {"dags": [{"dag_id": "etl", "is_paused": False}], "total_entries": 1},
            },
            {"Name": "prod", "Path": "/dags", "Method": "GET", "QueryParameters": {"limit": 100, "offset": 0}},
        )
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"dag_runs": [], "total_entries": 0}},
            {
                "Name": "prod",
                "Path": "/dags/etl/dagRuns",
                "Method": "GET",
                "QueryParameters": {"limit": 1, "order_by": "-run_after"},
            },
        )
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"create": {"success": ["k0"], "errors": []}}},
            {
                "Name": "prod",
                "Path": "/variables",
                "Method": "PATCH",
                "Body": {
                    "actions": [
                        {
                            "action": "create",
                            "entities": [{"key": "k0", "value": "v"}],
                            "action_on_existence": "overwrite",
                        }
                    ]
                },
            },
        )
        stub.add_response(
            "invoke_rest_api",
            {"RestApiStatusCode": 200, "RestApiResponse": {"dag_id": "etl", "is_paused": True}},
            {
                "Name": "prod",
                "Path": "/dags/etl",
                "Method": "PATCH",
                "QueryParameters": {"update_mask": ["is_paused"]},
                "Body": {"is_paused": True},
            },
        )
        assert len(api.read_variables()) == 101
        assert api.read_dags(latest_runs=True) == [{"dag_id": "etl", "is_paused": False, "latest_run": None}]
        assert api.write("variables", [{"key": "k0", "value": "v", "description": None}]).written == 1
        assert api.set_paused("etl", True) is None


def test_an_empty_cursor_starts_a_restore(aws: dict[str, Any], lambda_context: LambdaContext) -> None:
    """The state machine's Init passes {} (CDK drops a None); the handler starts from the newest backup."""
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    prod.data["variables"]["a"] = {"key": "a", "value": "1"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "2.10.3"}))
    backup = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    result = module.handler({**load_event("mwaa_dr_restore"), "cursor": {}}, lambda_context)
    assert result["done"] is True and result["summary"]["folder"] == backup["folder"]
    assert "cursor" in result and standby.data["variables"]["a"]["value"] == "1"


def test_backup_records_latest_runs_within_its_time_budget(aws: dict[str, Any]) -> None:
    prod = FakeAirflow(3)
    _fill(prod, variables=1, connections=0, dags=3)
    module = _handler(FakeMwaa({"prod": prod}, {"prod": "3.0.6"}))
    full = module.handler(load_event("mwaa_dr_backup"), LambdaContext())
    dags = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"{full['folder']}/dags.json")["Body"].read())
    assert {d["dag_id"]: d.get("latest_run", {}).get("dag_run_id") for d in dags} == {
        "dag_0": None,
        "dag_1": "scheduled__1",
        "dag_2": "scheduled__2",
    }
    short = module.handler(load_event("mwaa_dr_backup"), LambdaContext(remaining_ms=30_000))
    dags = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"{short['folder']}/dags.json")["Body"].read())
    assert [d["latest_run"] for d in dags if not d["is_paused"]] == [{"unavailable": "backup time budget spent"}] * 2
    assert [d["is_paused"] for d in dags] == [True, False, False]


def test_failback_backs_up_the_dr_side_and_restores_the_primary(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    _fill(standby, variables=30, connections=3, dags=2)  # the DR side ran while the primary was down
    standby.data["variables"]["written_during_outage"] = {"key": "written_during_outage", "value": "dr"}
    prod.data["dags"] = {d: {"dag_id": d, "is_paused": True} for d in standby.data["dags"]}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.11.0", "standby": "2.11.0"}))
    backup = module.handler({"action": "backup", "source": "dr", "prefix": "failback"}, lambda_context)
    assert backup["folder"].startswith("failback/")
    summary = _restore_all(module, {"action": "restore", "target": "primary", "prefix": "failback"}, lambda_context)[
        -1
    ]["summary"]
    assert summary["target"] == "prod" and summary["folder"] == backup["folder"]
    assert prod.data["variables"]["written_during_outage"]["value"] == "dr"
    assert {d: v["is_paused"] for d, v in prod.data["dags"].items()} == {"dag_0": True, "dag_1": False}
    # the primary's own backups/ prefix is untouched by a failback
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="backups/")


# -- the time budget inside a chunk ------------------------------------------------------------------


@dataclass
class _Clock(LambdaContext):
    """A Lambda context whose remaining time drops by ``per_call_ms`` with every InvokeRestApi call."""

    per_call_ms: int = 1_000

    def tick(self) -> None:
        self.remaining_ms -= self.per_call_ms


def _interrupted_restore(
    major: int, variables: int, remaining_ms: int, per_call_ms: int, bulk_size: int | None = None
) -> tuple[Any, ...]:
    version = "2.10.3" if major == 2 else "3.0.6"
    prod, standby = FakeAirflow(major), FakeAirflow(major)
    _fill(prod, variables=variables, connections=0, dags=0)
    # every record exists with a stale value, so Airflow 2 needs POST, 409, then PATCH for each
    standby.data["variables"] = {k: {**v, "value": "stale"} for k, v in prod.data["variables"].items()}
    standby.data["pools"]["etl"] = {"name": "etl", "slots": 1, "description": "old"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": version, "standby": version}))
    if bulk_size:
        module.AirflowApi.write.__globals__["BULK_SIZE"] = bulk_size  # this module's fresh copy
    module.handler(load_event("mwaa_dr_backup"), LambdaContext())
    clock = _Clock(remaining_ms=remaining_ms, per_call_ms=per_call_ms)
    standby.on_call = clock.tick
    first = module.handler({**load_event("mwaa_dr_restore"), "cursor": {}}, clock)
    standby.on_call = None
    return module, prod, standby, first


def _uninterrupted_state(major: int, variables: int) -> str:
    version = "2.10.3" if major == 2 else "3.0.6"
    prod, standby = FakeAirflow(major), FakeAirflow(major)
    _fill(prod, variables=variables, connections=0, dags=0)
    standby.data["variables"] = {k: {**v, "value": "stale"} for k, v in prod.data["variables"].items()}
    standby.data["pools"]["etl"] = {"name": "etl", "slots": 1, "description": "old"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": version, "standby": version}))
    module.handler(load_event("mwaa_dr_backup"), LambdaContext())
    _restore_all(module, load_event("mwaa_dr_restore"), LambdaContext())
    return json.dumps(standby.data, sort_keys=True)


def test_airflow2_restore_stops_inside_a_chunk_and_resumes_at_the_first_unwritten_record(
    aws: dict[str, Any],
) -> None:
    """A chunk is 20 records of two calls each; the budget runs out after the POST of the 5th."""
    # 9 calls start with at least 60 s left: 4 records (8 calls) and the 5th record's POST
    module, _prod, standby, first = _interrupted_restore(2, variables=30, remaining_ms=68_000, per_call_ms=1_000)
    assert first["done"] is False and first["wait"] is False
    cursor = first["cursor"]
    assert (cursor["section"], cursor["offset"]) == (0, 4)
    assert cursor["written"]["variables"] == 4 and cursor["failed_count"] == 0
    assert [standby.data["variables"][f"var_{i:04d}"]["value"] for i in range(6)] == [
        "value 0",
        "value 1",
        "value 2",
        "value 3",
        "stale",
        "stale",
    ]
    assert standby.calls[-1] == ("POST", "/variables")  # the 5th record's PATCH was never started

    last = module.handler({**load_event("mwaa_dr_restore"), "cursor": cursor}, LambdaContext())
    assert last["done"] is True
    assert last["summary"]["written"] == {"variables": 30, "pools": 2, "connections": 0, "dags": 0}
    # each record written exactly once across both invocations
    assert Counter(standby.writes) == Counter(
        [f"variables:var_{i:04d}" for i in range(30)] + ["pools:default_pool", "pools:etl"]
    )
    assert json.dumps(standby.data, sort_keys=True) == _uninterrupted_state(2, variables=30)


def test_airflow3_restore_stops_between_bulk_calls_of_a_chunk(aws: dict[str, Any]) -> None:
    """The budget is checked before each bulk call (40 records a call here, so a chunk of 100 takes 3)."""
    module, _prod, standby, first = _interrupted_restore(
        3, variables=250, remaining_ms=61_000, per_call_ms=1_000, bulk_size=40
    )
    cursor = first["cursor"]
    assert first["done"] is False and (cursor["section"], cursor["offset"]) == (0, 80)
    assert cursor["written"]["variables"] == 80
    assert standby.data["variables"]["var_0079"]["value"] == "value 79"
    assert standby.data["variables"]["var_0080"]["value"] == "stale"
    results = _restore_all_from(module, cursor)
    assert results[-1]["summary"]["written"] == {"variables": 250, "pools": 2, "connections": 0, "dags": 0}
    assert Counter(standby.writes) == Counter(
        [f"variables:var_{i:04d}" for i in range(250)] + ["pools:default_pool", "pools:etl"]
    )
    assert json.dumps(standby.data, sort_keys=True) == _uninterrupted_state(3, variables=250)


def _restore_all_from(module: ModuleType, cursor: dict[str, Any]) -> list[dict[str, Any]]:
    results = []
    for _ in range(20):
        result = module.handler({**load_event("mwaa_dr_restore"), "cursor": cursor}, LambdaContext())
        results.append(result)
        if result["done"]:
            return results
        cursor = result["cursor"]
    raise AssertionError("restore did not finish")


def test_retries_stop_at_the_time_budget_and_the_record_is_redone(aws: dict[str, Any]) -> None:
    """A 503 whose retry delay would cross the reserve returns the cursor instead of failing."""
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    _fill(prod, variables=3, connections=0, dags=0)
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.10.3", "standby": "2.10.3"}))
    module.handler(load_event("mwaa_dr_backup"), LambdaContext())
    clock = _Clock(remaining_ms=module.SAFETY_MS + 1_300, per_call_ms=500)
    standby.on_call = clock.tick
    standby.fail_next = [airflow_error(503, {"title": "unavailable"})] * 2
    first = module.handler({**load_event("mwaa_dr_restore"), "cursor": {}}, clock)
    # var_0000: POST answered 503, retried after 0.4 s, 503 again; a 0.8 s wait would cross the reserve
    assert first["done"] is False and first["cursor"]["offset"] == 0 and not standby.data["variables"]
    standby.on_call = None
    last = module.handler({**load_event("mwaa_dr_restore"), "cursor": first["cursor"]}, LambdaContext())
    assert last["done"] is True and last["summary"]["written"]["variables"] == 3
    assert Counter(standby.writes)["variables:var_0000"] == 1


def test_the_mwaa_client_has_bounded_timeouts_and_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    module = load_handler("mwaa_dr_metadata")
    config = module._client("mwaa", REGION).meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 15)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    # one call's worst case (3 attempts of connect + read, botocore's backoff of 1 + 2 s) fits the reserve
    assert 3 * (config.connect_timeout + config.read_timeout) + 3 < module.SAFETY_MS / 1000


# -- issue 12: what the review found -----------------------------------------------------------------


def test_airflow3_restore_keeps_the_targets_password_and_extra(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """Finding 1: a failback into Airflow 3 must not clear what the primary holds. The backup has
    only ``***`` for the password and the token; an ``overwrite`` bulk create would set the
    primary's extra to NULL (the fake follows Airflow 3.0.6's ``handle_bulk_create``)."""
    dr, prod = FakeAirflow(3), FakeAirflow(3)
    original = {
        "connection_id": "wh",
        "conn_type": "postgres",
        "host": "old-host",
        "password": "pw",
        "extra": json.dumps({"token": "t1", "sslmode": "require"}),
    }
    prod.data["connections"]["wh"] = dict(original)
    dr.data["connections"]["wh"] = {**original, "host": "dr-host"}
    dr.data["connections"]["new"] = {"connection_id": "new", "conn_type": "http", "host": "h", "password": "p2"}
    module = _handler(FakeMwaa({"prod": prod, "standby": dr}, {"prod": "3.0.6", "standby": "3.0.6"}))
    module.handler({"action": "backup", "source": "dr", "prefix": "failback"}, lambda_context)
    summary = _restore_all(module, {"action": "restore", "target": "primary", "prefix": "failback"}, lambda_context)
    assert prod.data["connections"]["wh"] == {**original, "host": "dr-host"}
    # a connection the target lacks is created, without the placeholder
    assert prod.data["connections"]["new"] == {"connection_id": "new", "conn_type": "http", "host": "h"}
    fields = summary[-1]["summary"]["fields_not_restored"]
    assert {k: set(v) for k, v in fields.items()} == {
        "connections:wh": {"password", "extra.token"},
        "connections:new": {"password"},
    }


def test_airflow2_backup_reads_each_connections_extra_and_reports_what_it_cannot(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """Finding 2: Airflow 2's connection list has no ``extra`` (``ConnectionCollectionItemSchema``);
    each connection is read again. What the API never gives is named in the result."""
    prod = FakeAirflow(2)
    prod.data["connections"]["aws"] = {
        "connection_id": "aws",
        "conn_type": "aws",
        "extra": json.dumps({"region_name": "us-east-1", "role_arn": "arn:aws:iam::1:role/r"}),
    }
    prod.data["connections"]["api"] = {
        "connection_id": "api",
        "conn_type": "http",
        "password": "p",
        "extra": json.dumps({"api_key": "k", "timeout": 5}),
    }
    long_id = "c" * 52  # /connections/<52 characters> is 65: too long for InvokeRestApi
    prod.data["connections"][long_id] = {"connection_id": long_id, "conn_type": "http", "extra": "{}"}
    module = _handler(FakeMwaa({"prod": prod}, {"prod": "2.11.0"}))
    result = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    stored = json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=f"{result['folder']}/connections.json")["Body"].read())
    by_id = {c["connection_id"]: c for c in stored}
    assert json.loads(by_id["aws"]["extra"]) == {"region_name": "us-east-1", "role_arn": "arn:aws:iam::1:role/r"}
    assert json.loads(by_id["api"]["extra"]) == {"api_key": "***", "timeout": 5}
    assert "extra" not in by_id[long_id]
    assert result["not_backed_up"] == {
        "connections:aws": ["password"],
        "connections:api": ["password", "extra.api_key"],
        f"connections:{long_id}": ["password", "extra (connection id too long for the InvokeRestApi path)"],
    }
    assert result["not_backed_up_count"] == 3


@pytest.mark.parametrize("major", [2, 3])
def test_restore_places_a_finished_marker_run_before_unpausing(
    aws: dict[str, Any], lambda_context: LambdaContext, major: int
) -> None:
    """Finding 3: before a DAG is unpaused in the target, it gets a successful run at the logical
    date the source ran last, so the scheduler does not run that interval again."""
    version = "2.11.0" if major == 2 else "3.0.6"
    prod, standby = FakeAirflow(major), FakeAirflow(major)
    prod.data["dags"] = {d: {"dag_id": d, "is_paused": d == "off"} for d in ("etl", "off", "x" * 32, "fresh")}
    standby.data["dags"] = {d: {"dag_id": d, "is_paused": True} for d in prod.data["dags"]}
    run = {"dag_run_id": "scheduled__2026-12-01T00:00:00+00:00", "state": "success"}
    run.update(logical_date="2026-12-01T00:00:00+00:00", data_interval_start="2026-12-01T00:00:00+00:00")
    run.update(data_interval_end="2026-12-02T00:00:00+00:00")
    prod.runs = {"etl": [run], "off": [run], "x" * 32: [run]}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": version, "standby": version}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    with pytest.raises(module.RestoreIncomplete, match="DAG left paused") as failed:
        _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    [marker] = standby.runs["etl"]
    assert marker["dag_run_id"] == "dr_20261201T000000" and marker["state"] == "success"
    assert (marker["logical_date"], marker["data_interval_end"]) == (run["logical_date"], run["data_interval_end"])
    writes = standby.writes
    assert writes.index("dags/etl/dagRuns/dr_20261201T000000") < writes.index("dags:etl")
    assert standby.data["dags"]["etl"]["is_paused"] is False
    assert standby.data["dags"]["fresh"]["is_paused"] is False  # no run yet: nothing to mark
    # a DAG id too long for the marker's path stays paused, and the failure names it
    assert standby.data["dags"]["x" * 32]["is_paused"] is True
    assert f"dags:{'x' * 32}" in str(failed.value)
    assert "off" not in standby.runs and standby.data["dags"]["off"]["is_paused"] is True


def test_a_marker_from_an_earlier_attempt_is_finished_and_a_real_run_is_kept(lambda_context: LambdaContext) -> None:
    """A retried restore finds its own queued marker (409) and sets it to success; a run the target
    already has at that logical date is left alone."""
    api = load_handler("mwaa_dr_metadata").AirflowApi(FakeAirflow(3), "standby", 3)
    api.client.data["dags"] = {"etl": {"dag_id": "etl", "is_paused": True}}
    date = "2026-12-01T00:00:00+00:00"
    api.client.runs["etl"] = [{"dag_run_id": "dr_20261201T000000", "logical_date": date, "state": "queued"}]
    assert api.place_marker("etl", {"dag_run_id": "s", "logical_date": date}) is None
    assert api.client.runs["etl"][0]["state"] == "success"
    api.client.runs["etl"] = [{"dag_run_id": "scheduled__x", "logical_date": date, "state": "failed"}]
    assert api.place_marker("etl", {"dag_run_id": "s", "logical_date": date}) is None
    assert api.client.runs["etl"] == [{"dag_run_id": "scheduled__x", "logical_date": date, "state": "failed"}]


def test_pause_all_stops_at_the_time_budget_and_resumes_with_its_cursor(aws: dict[str, Any]) -> None:
    """Finding 4 (handler part): pause_all has the restore's time budget and a cursor."""
    standby = FakeAirflow(2)
    standby.data["dags"] = {f"d{i}": {"dag_id": f"d{i}", "is_paused": False} for i in range(6)}
    clock = _Clock(remaining_ms=64_000, per_call_ms=1_000)
    standby.on_call = clock.tick
    module = _handler(FakeMwaa({"standby": standby}, {"standby": "2.11.0"}))
    first = module.handler({"action": "pause_all", "target": "dr"}, clock)
    assert first["done"] is False and first["paused"] == first["cursor"]["paused"] >= 1
    # each call is counted when it starts: the last one started with SAFETY_MS or more left
    assert clock.remaining_ms + clock.per_call_ms >= module.SAFETY_MS
    clock.remaining_ms = 300_000
    second = module.handler({"action": "pause_all", "target": "dr", "cursor": first["cursor"]}, clock)
    assert second == {"done": True, "cursor": None, "paused": 6, "target": "standby"}
    assert all(d["is_paused"] for d in standby.data["dags"].values())


def test_resolve_picks_the_newest_complete_backup_for_the_failover(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """Finding 5: the failover's ChooseBackup step uses the restore's resolver (manifest check and
    fallback), and the restore then uses exactly the folder it was given."""
    prod, standby = FakeAirflow(2), FakeAirflow(2)
    prod.data["variables"]["a"] = {"key": "a", "value": "old"}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "2.11.0", "standby": "2.11.0"}))
    older = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    prod.data["variables"]["a"] = {"key": "a", "value": "new"}
    newer = module.handler(load_event("mwaa_dr_backup"), lambda_context)
    aws["s3"].delete_object(Bucket=BUCKET, Key=f"{newer['folder']}/environment.json")
    chosen = module.handler({"action": "resolve", "prefix": "backups"}, lambda_context)
    assert chosen["folder"] == older["folder"]
    # replication completes while the environment is created: the restore still uses the chosen one
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    event = {**load_event("mwaa_dr_restore"), "folder": chosen["folder"]}
    assert _restore_all(module, event, lambda_context)[-1]["summary"]["folder"] == older["folder"]
    assert standby.data["variables"]["a"]["value"] == "old"


@pytest.mark.parametrize("folder", ["failback/20261127T080000Z", "backups/../x", "backups/a/b", 7])
def test_restore_refuses_a_folder_outside_its_prefix(
    aws: dict[str, Any], lambda_context: LambdaContext, folder: Any
) -> None:
    module = _handler(FakeMwaa({}, {}))
    with pytest.raises(ValueError, match="folder must be one backup folder under backups/"):
        module.handler({**load_event("mwaa_dr_restore"), "folder": folder, "cursor": {}}, lambda_context)


def test_a_bulk_error_without_keys_is_narrowed_to_the_failing_record(
    aws: dict[str, Any], lambda_context: LambdaContext
) -> None:
    """Finding 6: Airflow 3 names no keys in a bulk error; each record of the batch is then written
    on its own, so the others are restored and the failing one is named."""
    prod, standby = FakeAirflow(3), FakeAirflow(3)
    for key in ("a", LONG_KEY, "b"):
        prod.data["variables"][key] = {"key": key, "value": key}
    module = _handler(FakeMwaa({"prod": prod, "standby": standby}, {"prod": "3.0.6", "standby": "3.0.6"}))
    module.handler(load_event("mwaa_dr_backup"), lambda_context)
    with pytest.raises(module.RestoreIncomplete) as failed:
        _restore_all(module, load_event("mwaa_dr_restore"), lambda_context)
    report = json.loads(str(failed.value))
    assert report["failed_count"] == 1 and list(report["failed"]) == [f"variables:{LONG_KEY}"]
    assert set(standby.data["variables"]) == {"a", "b"}
