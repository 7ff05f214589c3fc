"""Airflow metadata through MWAA ``InvokeRestApi``, for Airflow 2 (REST API v1) and Airflow 3 (API v2).

``InvokeRestApi``'s ``Path`` is relative to the environment's API root, which MWAA picks by
Airflow version (``/api/v1`` or ``/api/v2``): the same ``/variables`` on both, as the Amazon
provider's ``MwaaHook`` and ``MwaaTriggerDagRunOperator`` send it. Everything else
version-specific lives here: page fields, ordering fields, how a record is written
idempotently. Records are normalised to one shape so a backup taken on one major version
restores on the other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    #: key -> fields of that record that were masked in the backup and so left as the target has them
    not_restored: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    #: How many of the given records were dealt with, in order (written, failed or skipped);
    #: the rest were not started because the time budget ran out (``stopped``).
    handled: int = 0
    stopped: bool = False

    def add(self, other: WriteResult) -> None:
        self.written += other.written
        self.skipped_masked.extend(other.skipped_masked)
        self.not_restored.update(other.not_restored)
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
        #: "<section>:<key>" -> fields a read could not fetch, with the reason
        self.incomplete: dict[str, list[str]] = {}

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

    def read_connections(self, *, time_left: Callable[[], bool] = lambda: True) -> list[dict[str, Any]]:
        """Every connection with every field the API shows.

        Airflow 2's list (``ConnectionCollectionItemSchema``) has no ``extra``, so each connection
        is read again with ``GET /connections/{id}`` (``ConnectionSchema``: ``extra`` with its
        sensitive keys masked, ``password`` never). Airflow 3's list carries every field, the
        password and sensitive extra keys masked. A connection whose detail could not be read
        (id too long for the path, time budget spent) keeps its list fields and is named in
        ``incomplete``.
        """
        out = []
        for c in self.list_all("connections"):
            if self.major == 2:
                detail = self._connection_detail(c["connection_id"], time_left)
                if detail is None:
                    continue
                c = {**c, **detail}
            record = {"connection_id": c["connection_id"]}
            record.update({k: c.get(k) for k in CONNECTION_FIELDS if c.get(k) is not None})
            out.append(record)
        return out

    def _connection_detail(self, conn_id: str, time_left: Callable[[], bool]) -> dict[str, Any] | None:
        """``GET /connections/{id}`` on Airflow 2; {} when it cannot be read, None when it is gone."""
        key = f"connections:{conn_id}"
        try:
            path = self.path("connections", conn_id)
        except PathTooLong:
            self.incomplete[key] = ["extra (connection id too long for the InvokeRestApi path)"]
            return {}
        if not time_left():
            self.incomplete[key] = ["extra (backup time budget spent)"]
            return {}
        status, detail = self.call("GET", path)
        if status == 404:
            return None  # deleted since the list was read
        if status >= 400:
            raise AirflowApiError(status, f"connections/{conn_id}", detail)
        return dict(detail or {})

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
            "data_interval_start": run.get("data_interval_start"),
            "data_interval_end": run.get("data_interval_end"),
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
        prepared: list[Prepared] = []
        for record in records:
            item = _prepare(section, record)
            if item.masked:
                result.skipped_masked.append(item.key)
                result.not_restored[item.key] = item.masked
            if item.update is not None:
                prepared.append(item)
        if section == "pools":
            # Airflow lets only the slots of default_pool change, through an update mask.
            for item in [p for p in prepared if p.key == DEFAULT_POOL]:
                prepared.remove(item)
                error = self._patch_default_pool(item.update or {})
                if error:
                    result.failed[DEFAULT_POOL] = error
                else:
                    result.written += 1
        if self.major == 3:
            for start in range(0, len(prepared), BULK_SIZE):
                self._bulk_write(section, prepared[start : start + BULK_SIZE], result)
        else:
            for item in prepared:
                self._upsert_v1(section, item, result)

    def _bulk_write(self, section: str, batch: list[Prepared], result: WriteResult) -> None:
        """One bulk ``PATCH`` (Airflow 3). Connections are created when missing and otherwise updated
        with only the fields the backup holds: Airflow's ``handle_bulk_create`` with ``overwrite``
        copies every field of ``ConnectionBody``, its ``None`` defaults included, so an overwrite
        would clear the target's ``extra`` (``handle_bulk_update`` applies only the fields sent).
        Variables and pools, which the backup holds whole, are overwritten.

        Airflow names no keys in a bulk error (``{"error", "status_code"}``), and a body it refuses
        is refused whole (422): then each record is written on its own, to name the failing ones.
        """
        if section == "connections":
            actions = [
                {"action": "create", "entities": [p.create for p in batch], "action_on_existence": "skip"},
                {"action": "update", "entities": [p.update for p in batch], "action_on_non_existence": "skip"},
            ]
        else:
            actions = [{"action": "create", "entities": [p.update for p in batch], "action_on_existence": "overwrite"}]
        status, answer = self.call("PATCH", self.path(section), body={"actions": actions})
        errors: list[dict[str, Any]] = []
        if status < 400:
            for name in ("create", "update"):
                errors.extend(((answer or {}).get(name) or {}).get("errors") or [])
        else:
            errors = [{"error": answer, "status_code": status}]
        failed_keys = {key for error in errors for key in _error_keys(error)}
        if errors and not failed_keys:
            if len(batch) > 1:
                for item in batch:
                    self._bulk_write(section, [item], result)
                return
            failed_keys = {batch[0].key}
        for error in errors:
            for key in _error_keys(error) or failed_keys:
                code = error.get("status_code", status)
                result.failed[key] = f"bulk write answered {code}: {str(error.get('error'))[:150]}"
        result.written += len([p for p in batch if p.key not in failed_keys])

    def _upsert_v1(self, section: str, item: Prepared, result: WriteResult) -> None:
        key = item.key
        status, answer = self.call("POST", self.path(section), body=item.create)
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
        record = item.update or {}
        if section == "variables":
            # a variable is replaced whole (key, value, description)
            status, answer = self.call("PATCH", path, body=record)
        else:
            # only the fields the backup holds, so a password or extra set in the target is kept
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

    def place_marker(self, dag_id: str, run: dict[str, Any]) -> str | None:
        """Give the target a finished run at ``run``'s logical date; an error text, or None when done.

        The scheduler creates no run at a logical date that already has one (Airflow 2.11
        ``SchedulerJobRunner._create_dag_runs``, Airflow 3.0 the same check), so the interval the
        source ran last is not run again. The run is created queued (the REST API has no other
        state for a new run) and set to success at once; only a DAG paused in the target gets one,
        so no scheduler picks the queued run up in between. A run the target already has at that
        date (409) is left as it is.
        """
        logical_date = run.get("logical_date")
        if not logical_date:
            return None
        run_id = marker_run_id(str(logical_date))
        try:
            runs_path = self.path("dags", dag_id, "dagRuns")
            run_path = self.path("dags", dag_id, "dagRuns", run_id)
        except PathTooLong as err:
            return str(err)
        body: dict[str, Any] = {
            "dag_run_id": run_id,
            "logical_date": logical_date,
            "note": f"MWAA DR marker: the source environment ran {run.get('dag_run_id')} for this date"[:1000],
        }
        if run.get("data_interval_start") and run.get("data_interval_end"):
            body.update(data_interval_start=run["data_interval_start"], data_interval_end=run["data_interval_end"])
        verb = "POST"
        status, answer = self.call(verb, runs_path, body=body)
        if status == 409:
            # ours from an earlier attempt (finish it), or another run at that date (keep it)
            verb = "GET"
            status, answer = self.call(verb, run_path)
            if status == 404 or (status < 400 and (answer or {}).get("state") == "success"):
                return None
        if status >= 400:
            return f"{verb} answered {status}: {str(answer)[:150]}"
        status, answer = self.call("PATCH", run_path, body={"state": "success"})
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


def marker_run_id(logical_date: str) -> str:
    """``dr_<UTC logical date>``: short, so ``/dags/<id>/dagRuns/<run id>`` fits a DAG id of up to 31
    characters, and free of characters the path would have to percent-encode."""
    moment = datetime.fromisoformat(logical_date.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return f"dr_{moment.astimezone(UTC):%Y%m%dT%H%M%S}"


def not_carried(major: int, section: str, record: dict[str, Any]) -> list[str]:
    """Fields of a backed-up record that the REST API did not give in full (so neither the backup
    nor a restore can carry them): Airflow 2 never returns a connection's password, Airflow 3
    returns ``***``; both mask sensitive variable values and sensitive keys of ``extra``."""
    fields: list[str] = []
    if section == "variables" and _has_mask(record.get("value")):
        fields.append("value")
    if section == "connections":
        if major == 2 or _has_mask(record.get("password")):
            fields.append("password")
        if _has_mask(record.get("extra")):
            fields.extend(_masked_extra_keys(str(record["extra"])))
    return fields


def _key(section: str, record: dict[str, Any]) -> str:
    return str(record.get({"variables": "key", "pools": "name", "connections": "connection_id"}[section]))


def _error_keys(error: dict[str, Any]) -> list[str]:
    keys = error.get("keys") or error.get("entities") or []
    return [str(k) for k in keys] if isinstance(keys, list) else [str(keys)]


@dataclass
class Prepared:
    """A backed-up record made ready to write: ``create`` for a record the target lacks, ``update``
    for one it has (None: nothing writable; today both hold the same fields), ``masked`` the
    fields left out because the backup holds only Airflow's placeholder for them."""

    key: str
    create: dict[str, Any] | None
    update: dict[str, Any] | None
    masked: list[str]


def _has_mask(value: Any) -> bool:
    if isinstance(value, str):
        return MASK in value
    if isinstance(value, dict):
        return any(_has_mask(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_mask(v) for v in value)
    return False


def _prepare(section: str, record: dict[str, Any]) -> Prepared:
    """Drop values Airflow masked on export, so a restore never writes the placeholder.

    A connection's ``extra`` with any masked key is left out whole, on create and on update: a
    partial extra would later travel back (failback) as the DR side's whole extra and replace the
    original's, whose masked keys Airflow cannot merge back in (it merges only ``***`` values).
    """
    key = _key(section, record)
    if section == "variables":
        if _has_mask(record.get("value")):
            return Prepared(key, None, None, ["value"])
        clean = {k: v for k, v in record.items() if v is not None or k == "value"}
        return Prepared(key, clean, clean, [])
    if section == "pools":
        clean = {k: v for k, v in record.items() if v is not None}
        return Prepared(key, clean, clean, [])
    masked: list[str] = []
    update: dict[str, Any] = {}
    for k, v in record.items():
        if v is None:
            continue
        if k == "password" and _has_mask(v):
            masked.append("password")
        elif k == "extra" and _has_mask(v):
            masked.extend(_masked_extra_keys(v))
        else:
            update[k] = v
    return Prepared(key, update, update, masked)


def _masked_extra_keys(extra: str) -> list[str]:
    """``extra.<key>`` for each masked key of a JSON ``extra``; ``extra`` when it is not JSON."""
    try:
        parsed = json.loads(extra)
    except ValueError:
        return ["extra"]
    if not isinstance(parsed, dict):
        return ["extra"]
    return [f"extra.{k}" for k, v in parsed.items() if _has_mask(v)] or ["extra"]
