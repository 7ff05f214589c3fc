"""The MWAA DR metadata handler's test doubles: an in-memory Airflow behind ``invoke_rest_api`` that validates
every request against the real MWAA service model and answers Airflow errors the way MWAA does
(``RestApiClientException`` with the Airflow status), shared by the handler tests and tests/airflow."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

#: longer than Airflow 3's VariableBody accepts (key max_length=ID_LEN, 250): a body with it is refused whole (422)
LONG_KEY = "k" * 251
CONNECTION_FIELDS = ("conn_type", "description", "host", "login", "schema", "port", "extra", "password")

REGION = "us-east-1"
DR_REGION = "us-west-2"
BUCKET = "blueprints-mwaa-backup-111111111111-us-west-2"
_MODEL = boto3.session.Session().get_available_services and boto3.client("mwaa", region_name=REGION).meta.service_model


def airflow_error(status: int, detail: Any) -> ClientError:
    code = "RestApiServerException" if status >= 500 else "RestApiClientException"
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"Airflow answered {status}"},
            "RestApiStatusCode": status,
            "RestApiResponse": detail,
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "InvokeRestApi",
    )


def _sensitive(name: str) -> bool:
    """A name the double masks on read: a subset of the words Airflow treats as sensitive."""
    return any(word in name.lower() for word in ("password", "secret", "token", "api_key", "private_key"))


class FakeAirflow:
    """An Airflow 2 (API v1) or Airflow 3 (API v2) metadata store behind ``invoke_rest_api``."""

    KEYS = {"variables": "key", "pools": "name", "connections": "connection_id"}

    def __init__(self, major: int, *, page_limit: int = 100) -> None:
        self.major = major
        self.page_limit = page_limit
        self.data: dict[str, dict[str, dict[str, Any]]] = {
            "variables": {},
            "pools": {"default_pool": {"name": "default_pool", "slots": 128, "description": "Default pool"}},
            "connections": {},
            "dags": {},
        }
        self.runs: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = []
        self.fail_next: list[ClientError] = []
        #: called before each request (a test clock advances here)
        self.on_call: Callable[[], None] | None = None
        #: "<collection>:<key>" of every record a request changed, in order
        self.writes: list[str] = []
        self.exceptions = boto3.client("mwaa", region_name=REGION).exceptions

    def invoke_rest_api(self, **kwargs: Any) -> dict[str, Any]:
        report = ParamValidator().validate(kwargs, _MODEL.operation_model("InvokeRestApi").input_shape)
        assert not report.has_errors(), report.generate_report()
        if self.on_call:
            self.on_call()
        if self.fail_next:
            raise self.fail_next.pop(0)
        method, path = kwargs["Method"], kwargs["Path"]
        self.calls.append((method, path))
        # InvokeRestApi paths are relative to the version's API root (/api/v1 or /api/v2)
        assert path.startswith("/") and not path.startswith("/api/"), f"path with an API root: {path}"
        parts = [unquote(p) for p in path.strip("/").split("/")]
        query, body = kwargs.get("QueryParameters") or {}, kwargs.get("Body")
        status, answer = self._route(method, parts, query, body)
        if status >= 400:
            raise airflow_error(status, answer)
        if method in ("POST", "PATCH"):
            if isinstance(body, dict) and "actions" in body:
                done = {k for name in ("create", "update") for k in ((answer.get(name) or {}).get("success") or [])}
                self.writes += [f"{parts[0]}:{k}" for k in sorted(done)]
            elif parts[-1] == "dagRuns" or "dagRuns" in parts:
                self.writes.append("/".join(parts))
            else:
                key = parts[1] if len(parts) > 1 else (body or {})[self.KEYS[parts[0]]]
                self.writes.append(f"{parts[0]}:{key}")
        return {"RestApiStatusCode": status, "RestApiResponse": answer}

    def _route(self, method: str, parts: list[str], query: dict[str, Any], body: Any) -> tuple[int, Any]:
        collection = parts[0]
        store = self.data[collection]
        if method == "GET" and len(parts) == 1:
            limit = min(int(query.get("limit", 100)), self.page_limit)
            offset = int(query.get("offset", 0))
            records = list(store.values())[offset : offset + limit]
            return 200, {collection: [self._public(collection, r) for r in records], "total_entries": len(store)}
        if collection == "dags" and len(parts) >= 3 and parts[2] == "dagRuns":
            return self._dag_runs(method, parts, body)
        if collection == "connections" and method == "GET" and len(parts) == 2:
            if parts[1] not in store:
                return 404, {"title": "Connection not found"}
            # Airflow 2 ConnectionSchema / Airflow 3 ConnectionResponse: extra included, masked
            return 200, self._public(collection, store[parts[1]], detail=True)
        if collection == "dags" and method == "PATCH" and len(parts) == 2:
            if parts[1] not in store:
                return 404, {"title": "DAG not found"}
            store[parts[1]]["is_paused"] = body["is_paused"]
            return 200, store[parts[1]]
        key_field = self.KEYS[collection]
        if (collection == "pools" and parts[-1] == "default_pool") or (
            collection == "pools"
            and isinstance(body, dict)
            and "actions" in body
            and any(e.get("name") == "default_pool" for a in body["actions"] for e in a["entities"])
        ):
            # Airflow only lets the slots of default_pool change, and only through update_mask=slots
            if method != "PATCH" or len(parts) != 2 or query.get("update_mask") != ["slots"]:
                return 400, {"title": "Default Pool's name can't be modified"}
            store["default_pool"]["slots"] = body["slots"]
            return 200, store["default_pool"]
        if self.major == 3 and method == "PATCH" and len(parts) == 1:
            return self._bulk(collection, body)
        if self.major == 2 and method == "POST" and len(parts) == 1:
            if body[key_field] in store:
                return 409, {"title": "Conflict", "detail": f"{body[key_field]} already exists"}
            store[body[key_field]] = dict(body)
            return 200, body
        if self.major == 2 and method == "PATCH" and len(parts) == 2:
            if parts[1] not in store:
                return 404, {"title": "not found"}
            store[parts[1]].update({k: body[k] for k in query.get("update_mask", body)})
            return 200, store[parts[1]]
        raise AssertionError(f"route not implemented: {method} {parts}")

    def _bulk(self, collection: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Airflow 3.0.6 ``BulkService`` (api_fastapi/core_api/services/public/*.py): ``create`` with
        ``fail``/``skip``/``overwrite``, ``update`` applying only the fields sent; an overwrite of a
        connection copies every ``ConnectionBody`` field, ``None`` defaults included (a ``None``
        password leaves the stored one, ``Connection.set_password`` ignores it; a ``None`` extra
        clears it). Errors are ``{"error", "status_code"}``, naming no keys."""
        key_field = self.KEYS[collection]
        store = self.data[collection]
        answer: dict[str, Any] = {"create": None, "update": None, "delete": None}
        for action in body["actions"]:
            results: dict[str, Any] = {"success": [], "errors": []}
            entities = action["entities"]
            if any(not _valid_entity(collection, e) for e in entities):
                # FastAPI validates the whole BulkBody first: one invalid entity refuses the request
                return 422, {"detail": [{"type": "string_too_long", "loc": ["body", "actions", 0, "entities"]}]}
            if action["action"] == "create":
                existing = {e[key_field] for e in entities if e[key_field] in store}
                on_existence = action.get("action_on_existence", "fail")
                if on_existence == "fail" and existing:
                    results["errors"].append({"error": f"{existing} already exist.", "status_code": 409})
                else:
                    for entity in entities:
                        key = entity[key_field]
                        if key in existing and on_existence == "skip":
                            continue
                        if collection == "connections":
                            record = {k: entity.get(k) for k in ("connection_id", *CONNECTION_FIELDS)}
                            if key in existing and record["password"] is None:
                                record["password"] = store[key].get("password")
                            store[key] = {k: v for k, v in record.items() if v is not None}
                        else:
                            store[key] = dict(entity)
                        results["success"].append(key)
            else:
                for entity in entities:
                    key = entity[key_field]
                    if key not in store:
                        if action.get("action_on_non_existence", "fail") == "fail":
                            results["errors"].append({"error": f"{key} not found", "status_code": 404})
                        continue
                    store[key].update(entity)
                    results["success"].append(key)
            answer[action["action"]] = results
        return 200, answer

    def _dag_runs(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        """``/dags/{id}/dagRuns[/{run_id}]``: newest first on GET; POST creates a queued run and
        answers 409 for a run id or logical date the DAG already has; PATCH sets the state."""
        dag_runs = self.runs.setdefault(parts[1], [])
        if method == "GET" and len(parts) == 3:
            ordered = sorted(dag_runs, key=lambda r: r.get("logical_date") or "", reverse=True)
            return 200, {"dag_runs": ordered[:1], "total_entries": len(dag_runs)}
        if method == "POST" and len(parts) == 3:
            if parts[1] not in self.data["dags"]:
                return 404, {"title": "DAG not found"}
            if any(
                r["dag_run_id"] == body["dag_run_id"] or r["logical_date"] == body["logical_date"] for r in dag_runs
            ):
                return 409, {"title": "Conflict", "detail": "DAGRun already exists"}
            dag_runs.append({**body, "state": "queued"})
            return 200, dag_runs[-1]
        found = [r for r in dag_runs if r["dag_run_id"] == parts[3]]
        if not found:
            return 404, {"title": "DAGRun not found"}
        if method == "PATCH":
            found[0]["state"] = body["state"]
        return 200, found[0]

    def _public(self, collection: str, record: dict[str, Any], *, detail: bool = False) -> dict[str, Any]:
        """What the API shows: Airflow 2 never returns passwords and lists connections without
        ``extra`` (``ConnectionCollectionItemSchema``); Airflow 3 masks passwords. Both mask
        sensitive keys of ``extra`` (secrets masker: key names containing e.g. ``token``)."""
        out = dict(record)
        if collection == "connections":
            if self.major == 2:
                out.pop("password", None)
                if not detail:
                    out.pop("extra", None)
            elif out.get("password"):
                out["password"] = "***"
            if out.get("extra"):
                extra = json.loads(out["extra"])
                out["extra"] = json.dumps({k: "***" if _sensitive(k) else v for k, v in extra.items()})
        if collection == "variables" and "secret" in out["key"] and self.major == 3:
            out["value"] = "***"
        return out


def _valid_entity(collection: str, entity: dict[str, Any]) -> bool:
    """Airflow 3.0.6 ``VariableBody.key`` (max 250) and ``ConnectionBody.connection_id`` (max 200,
    ``^[\\w.-]+$``)."""
    if collection == "variables":
        return len(entity["key"]) <= 250
    if collection == "connections":
        return bool(re.fullmatch(r"[\w.-]{1,200}", entity["connection_id"]))
    return True
