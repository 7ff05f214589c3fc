"""Airflow metadata through MWAA ``InvokeRestApi``, for Airflow 2 (REST API v1) and Airflow 3 (API v2).

``InvokeRestApi``'s ``Path`` is relative to the environment's API root, which MWAA picks by
Airflow version (``/api/v1`` or ``/api/v2``): the same ``/variables`` on both, as the Amazon
provider's ``MwaaHook`` and ``MwaaTriggerDagRunOperator`` send it. Everything else
version-specific lives here: page fields, ordering fields, how a record is written
idempotently. Records are normalised to one shape so a backup taken on one major version
restores on the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

#: InvokeRestApi accepts paths of at most 64 characters (relative to the API root, so
#: ``/dags/<dag_id>`` leaves 58 characters for the id on both major versions).
MAX_PATH = 64
#: Airflow replaces secret values with this placeholder in API responses.
MASK = "***"
PAGE_SIZE = 100
DEFAULT_POOL = "default_pool"
BULK_SIZE = 100
SECTIONS = ("variables", "pools", "connections", "dags")
CONNECTION_FIELDS = ("conn_type", "description", "host", "login", "schema", "port", "extra", "password")
_RETRY_STATUS = {429, 500, 502, 503, 504}
_RETRY_CODES = {"ThrottlingException", "InternalServerException", "ServiceUnavailableException", "TooManyRequests"}


class AirflowApiError(Exception):
    """The Airflow REST API answered with an error that retrying does not fix."""

    def __init__(self, status: int, path: str, detail: Any) -> None:
        super().__init__(f"Airflow REST API {path} answered {status}: {str(detail)[:300]}")
        self.status = status
        self.path = path


class PathTooLong(Exception):
    """An id makes the request path longer than InvokeRestApi accepts."""


class OutOfTime(Exception):
    """Starting (or retrying) a call would leave less than the reserved Lambda time."""


@dataclass
class WriteResult:
    written: int = 0
    skipped_masked: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: How many of the given records were dealt with, in order (written, failed or skipped);
    #: the rest were not started because the time budget ran out (``stopped``).
    handled: int = 0
    stopped: bool = False

    def add(self, other: WriteResult) -> None:
        self.written += other.written
        self.skipped_masked.extend(other.skipped_masked)
        self.failed.update(other.failed)


def major_version(airflow_version: str) -> int:
    """2 or 3 from an MWAA AirflowVersion such as '2.10.3' or '3.0.6'."""
    try:
        major = int(airflow_version.split(".", 1)[0])
    except ValueError as err:
        raise ValueError(f"unrecognised Airflow version {airflow_version!r}") from err
    if major not in (2, 3):
        raise ValueError(f"Airflow major version must be 2 or 3; got {airflow_version!r}")
    return major


class AirflowApi:
    """Calls one environment's Airflow REST API through ``mwaa.invoke_rest_api``."""

    def __init__(
        self,
        client: Any,
        environment_name: str,
        major: int,
        *,
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        remaining_ms: Callable[[], float] | None = None,
        reserve_ms: float = 0,
    ) -> None:
        self.client = client
        self.name = environment_name
        self.major = major
        self.attempts = attempts
        self.sleep = sleep
        #: With ``remaining_ms`` (the Lambda context's), no call is started or retried once
        #: less than ``reserve_ms`` would be left; ``OutOfTime`` is raised instead.
        self.remaining_ms = remaining_ms
        self.reserve_ms = reserve_ms

    def _time_for(self, wait_s: float = 0.0) -> bool:
        return self.remaining_ms is None or self.remaining_ms() - wait_s * 1000 >= self.reserve_ms

    # -- transport -----------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        path = "".join("/" + quote(p, safe="~") for p in parts)
        if len(path) > MAX_PATH:
            raise PathTooLong(f"path {path!r} is {len(path)} characters; InvokeRestApi accepts {MAX_PATH}")
        return path

    def call(self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None) -> tuple[int, Any]:
        """One REST call; retries throttling and 5xx with backoff.

        Returns (HTTP status, JSON body); an Airflow 4xx comes back as a status for the
        caller to judge, an AWS fault that survives the retries is raised. ``OutOfTime`` is
        raised instead of starting or retrying a call past the time budget.
        """
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Name": self.name, "Path": path, "Method": method}
        if query:
            kwargs["QueryParameters"] = query
        if body is not None:
            kwargs["Body"] = body
        if not self._time_for():
            raise OutOfTime(f"{method} {path} not started: Lambda time budget spent")
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.invoke_rest_api(**kwargs)
                return int(response.get("RestApiStatusCode", 200)), response.get("RestApiResponse")
            except ClientError as err:
                code = err.response.get("Error", {}).get("Code", "")
                status = int(err.response.get("RestApiStatusCode") or 0)
                detail = err.response.get("RestApiResponse") or err.response.get("Error", {}).get("Message")
                retryable = code in _RETRY_CODES or status in _RETRY_STATUS
                if code in ("RestApiClientException", "RestApiServerException") and not retryable:
                    return status or 400, detail
                if not retryable or attempt == self.attempts:
                    raise
                delay = min(2.0**attempt * 0.2, 5.0)
                if not self._time_for(delay):
                    raise OutOfTime(f"{method} {path} not retried: Lambda time budget spent") from err
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def list_all(self, collection: str, *, query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every record of a paginated collection (limit/offset, ``total_entries``), never truncated."""
        offset = 0
        while True:
            params = {"limit": PAGE_SIZE, "offset": offset, **(query or {})}
            status, page = self.call("GET", self.path(collection), query=params)
            if status >= 400:
                raise AirflowApiError(status, collection, page)
            records = (page or {}).get(collection) or []
            yield from records
            offset += len(records)
            total = (page or {}).get("total_entries")
            if not records or (total is not None and offset >= int(total)):
                return

    # -- reading, normalised -------------------------------------------------------------------
    def read_variables(self) -> list[dict[str, Any]]:
        return [
            {"key": v["key"], "value": v.get("value"), "description": v.get("description")}
            for v in self.list_all("variables")
        ]

    def read_pools(self) -> list[dict[str, Any]]:
        out = []
        for p in self.list_all("pools"):
            record = {"name": p["name"], "slots": p.get("slots"), "description": p.get("description")}
            if "include_deferred" in p:
                record["include_deferred"] = p["include_deferred"]
            out.append(record)
        return out

    def read_connections(self) -> list[dict[str, Any]]:
        out = []
        for c in self.list_all("connections"):
            record = {"connection_id": c["connection_id"]}
            record.update({k: c.get(k) for k in CONNECTION_FIELDS if c.get(k) is not None})
            out.append(record)
        return out

    def read_dags(
        self, *, latest_runs: bool = True, time_left: Callable[[], bool] = lambda: True
    ) -> list[dict[str, Any]]:
        """Every DAG's paused state; with ``latest_runs``, each active DAG's newest run while
        ``time_left()`` says there is time (the run is informational, the paused state is not)."""
        dags = [{"dag_id": d["dag_id"], "is_paused": bool(d.get("is_paused"))} for d in self.list_all("dags")]
        if latest_runs:
            for dag in dags:
                if not dag["is_paused"]:
                    if time_left():
                        dag["latest_run"] = self._latest_run(dag["dag_id"])
                    else:
                        dag["latest_run"] = {"unavailable": "backup time budget spent"}
        return dags

    def _latest_run(self, dag_id: str) -> dict[str, Any] | None:
        order = "-run_after" if self.major == 3 else "-execution_date"
        try:
            status, page = self.call("GET", self.path("dags", dag_id, "dagRuns"), query={"limit": 1, "order_by": order})
        except PathTooLong:
            return {"unavailable": "dag_id too long for InvokeRestApi path"}
        if status >= 400:
            raise AirflowApiError(status, f"dags/{dag_id}/dagRuns", page)
        runs = (page or {}).get("dag_runs") or []
        if not runs:
            return None
        run = runs[0]
        return {
            "dag_run_id": run.get("dag_run_id"),
            "logical_date": run.get("logical_date") or run.get("execution_date"),
            "state": run.get("state"),
        }

    # -- writing, idempotent -------------------------------------------------------------------
    def write(self, section: str, records: list[dict[str, Any]]) -> WriteResult:
        """Create or overwrite each record; running it twice gives the same state.

        Records go in order, one at a time on Airflow 2 and one bulk call per ``BULK_SIZE`` on
        Airflow 3. When the time budget runs out (``OutOfTime``) the write stops before the
        record or batch it could not finish: ``handled`` counts the records dealt with, the
        result holds only theirs, and writing from ``records[handled:]`` later is idempotent.
        """
        result = WriteResult()
        for group in self._units(section, records):
            part = WriteResult()
            try:
                self._write_group(section, group, part)
            except OutOfTime:
                result.stopped = True
                break
            result.add(part)
            result.handled += len(group)
        return result

    def _units(self, section: str, records: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Consecutive records that one write call (one bulk call, or one record's POST and
        PATCH) covers; default_pool alone, as it is written with its own call."""
        size = BULK_SIZE if self.major == 3 else 1
        group: list[dict[str, Any]] = []
        for record in records:
            if section == "pools" and record.get("name") == DEFAULT_POOL:
                if group:
                    yield group
                yield [record]
                group = []
                continue
            group.append(record)
            if len(group) >= size:
                yield group
                group = []
        if group:
            yield group

    def _write_group(self, section: str, records: list[dict[str, Any]], result: WriteResult) -> None:
        clean: list[dict[str, Any]] = []
        for record in records:
            key, prepared, masked = _prepare(section, record)
            if prepared is None:
                result.skipped_masked.append(key)
                continue
            if masked:
                result.skipped_masked.append(key)
            clean.append(prepared)
        if section == "pools":
            # Airflow lets only the slots of default_pool change, through an update mask.
            for record in [r for r in clean if r["name"] == DEFAULT_POOL]:
                clean.remove(record)
                error = self._patch_default_pool(record)
                if error:
                    result.failed[DEFAULT_POOL] = error
                else:
                    result.written += 1
        if self.major == 3:
            for start in range(0, len(clean), BULK_SIZE):
                self._bulk_upsert(section, clean[start : start + BULK_SIZE], result)
        else:
            for record in clean:
                self._upsert_v1(section, record, result)

    def _bulk_upsert(self, section: str, batch: list[dict[str, Any]], result: WriteResult) -> None:
        body = {"actions": [{"action": "create", "entities": batch, "action_on_existence": "overwrite"}]}
        status, answer = self.call("PATCH", self.path(section), body=body)
        if status >= 400:
            raise AirflowApiError(status, section, answer)
        create = (answer or {}).get("create") or {}
        errors = create.get("errors") or []
        failed_keys = set()
        for error in errors:
            for key in _error_keys(error):
                failed_keys.add(key)
                result.failed[key] = str(error.get("error") or error)[:200]
        if errors and not failed_keys:
            raise AirflowApiError(status, section, errors)
        result.written += len([r for r in batch if _key(section, r) not in failed_keys])

    def _upsert_v1(self, section: str, record: dict[str, Any], result: WriteResult) -> None:
        key = _key(section, record)
        status, answer = self.call("POST", self.path(section), body=record)
        if status < 400:
            result.written += 1
            return
        if status != 409:
            result.failed[key] = f"POST answered {status}: {str(answer)[:150]}"
            return
        try:
            path = self.path(section, key)
        except PathTooLong as err:
            result.failed[key] = str(err)
            return
        if section == "variables":
            # a variable is replaced whole (key, value, description)
            status, answer = self.call("PATCH", path, body=record)
        else:
            # only the fields the backup holds, so a password set in the target is kept
            mask = [k for k in record if k not in ("name", "connection_id")]
            status, answer = self.call("PATCH", path, query={"update_mask": mask}, body=record)
        if status < 400:
            result.written += 1
        else:
            result.failed[key] = f"PATCH answered {status}: {str(answer)[:150]}"

    def _patch_default_pool(self, record: dict[str, Any]) -> str | None:
        body = {"name": DEFAULT_POOL, "slots": record.get("slots")}
        status, answer = self.call(
            "PATCH", self.path("pools", DEFAULT_POOL), query={"update_mask": ["slots"]}, body=body
        )
        return None if status < 400 else f"PATCH answered {status}: {str(answer)[:150]}"

    def set_paused(self, dag_id: str, paused: bool) -> str | None:
        """Pause or unpause one DAG; returns an error text, or None when done."""
        try:
            path = self.path("dags", dag_id)
        except PathTooLong as err:
            return str(err)
        status, answer = self.call("PATCH", path, query={"update_mask": ["is_paused"]}, body={"is_paused": paused})
        if status == 404:
            return "not found (not parsed yet)"
        if status >= 400:
            return f"PATCH answered {status}: {str(answer)[:150]}"
        return None


def _key(section: str, record: dict[str, Any]) -> str:
    return str(record.get({"variables": "key", "pools": "name", "connections": "connection_id"}[section]))


def _error_keys(error: dict[str, Any]) -> list[str]:
    keys = error.get("keys") or error.get("entities") or []
    return [str(k) for k in keys] if isinstance(keys, list) else [str(keys)]


def _prepare(section: str, record: dict[str, Any]) -> tuple[str, dict[str, Any] | None, bool]:
    """Drop values Airflow masked on export, so a restore never writes the placeholder.

    Returns (key, record to write or None to skip, whether a field was dropped).
    """
    key = _key(section, record)
    if section == "variables":
        if record.get("value") == MASK:
            return key, None, True
        return key, {k: v for k, v in record.items() if v is not None or k == "value"}, False
    if section == "pools":
        return key, {k: v for k, v in record.items() if v is not None}, False
    dropped = False
    clean = {}
    for k, v in record.items():
        if v is None:
            continue
        if k in ("password", "extra") and isinstance(v, str) and MASK in v:
            dropped = True
            continue
        clean[k] = v
    return key, clean, dropped
