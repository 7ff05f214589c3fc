"""Back up and restore Airflow metadata of an MWAA environment through ``InvokeRestApi``.

Actions (``event["action"]``):

* ``backup``: read variables, pools, connections and DAG states (with each active DAG's latest
  run) and the environment's configuration, and write them as one timestamped, KMS-encrypted
  backup with a manifest and a ``latest`` pointer written last.
* ``restore``: write a backup into the target environment, a bounded slice per invocation; the
  caller (a Step Functions loop) passes the returned ``cursor`` back until ``done``. No
  ``InvokeRestApi`` call is started or retried with less than ``SAFETY_MS`` left; the cursor
  then points at the first record not written. Records are upserted, so a retried or repeated
  restore leaves the same state and no duplicates.
* ``pause_all``: pause every unpaused DAG of the target (the DR side after failback), within the
  same time budget as the restore; ``done: False`` returns a ``cursor`` to pass back.
* ``resolve``: the newest complete backup under ``prefix``, for a failover to create the
  environment from and restore (``folder`` of ``restore``) one and the same backup.

Configuration: ``BACKUP_BUCKET``, ``KMS_KEY_ARN``, ``ENVIRONMENTS`` (JSON mapping ``primary``
and optionally ``dr`` to ``{"name": ..., "region": ...}``).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from mwaa_dr_airflow_api import SECTIONS, AirflowApi, OutOfTime, major_version, not_carried
from mwaa_dr_store import BackupStore

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Blueprints"))

#: Stop starting new work when less than this much Lambda time is left. It is more than one
#: MWAA call can take with the client configuration below (3 attempts of at most 3 s to
#: connect and 15 s between bytes read, plus botocore's backoff of at most 3 s: 57 s).
SAFETY_MS = int(os.environ.get("SAFETY_MS", "60000"))
#: At most this many records per restore invocation (more are done in later iterations).
MAX_RECORDS_PER_CALL = int(os.environ.get("MAX_RECORDS_PER_CALL", "500"))
#: How many restore iterations may wait for DAGs that the target has not parsed yet.
DAG_WAIT_ATTEMPTS = int(os.environ.get("DAG_WAIT_ATTEMPTS", "15"))
_REPORT_LIMIT = 50

_clients: dict[tuple[str, str], Any] = {}
_versions: dict[tuple[str, str], str] = {}


class RestoreIncomplete(Exception):
    """Some records could not be restored; the message lists them."""


def _client(service: str, region: str) -> Any:
    key = (service, region)
    if key not in _clients:
        import boto3
        from botocore.config import Config

        # Bounded so that one call of any service (MWAA's InvokeRestApi, S3, KMS) fits in SAFETY_MS
        # (botocore waits 60 s to connect and 60 s to read by default).
        config = Config(connect_timeout=3, read_timeout=15, retries={"mode": "standard", "total_max_attempts": 3})
        _clients[key] = boto3.client(service, region_name=region, config=config)
    return _clients[key]


def _environments() -> dict[str, dict[str, str]]:
    envs = json.loads(os.environ["ENVIRONMENTS"])
    return {
        role: {"name": e["name"], "region": e.get("region") or os.environ["AWS_REGION"]} for role, e in envs.items()
    }


def _environment(role: Any) -> dict[str, str]:
    envs = _environments()
    if role not in envs:
        raise ValueError(f"environment must be one of {sorted(envs)}; got {role!r}")
    return envs[role]


def _store() -> BackupStore:
    region = os.environ["AWS_REGION"]
    return BackupStore(_client("s3", region), os.environ["BACKUP_BUCKET"], os.environ.get("KMS_KEY_ARN") or None)


def _describe(env: dict[str, str]) -> dict[str, Any]:
    return dict(_client("mwaa", env["region"]).get_environment(Name=env["name"])["Environment"])


def _api(env: dict[str, str], context: Any = None) -> AirflowApi:
    """The target's API; with a Lambda ``context``, calls stop short of ``SAFETY_MS``."""
    key = (env["name"], env["region"])
    if key not in _versions:
        _versions[key] = _describe(env)["AirflowVersion"]
    budget: dict[str, Any] = {}
    if context is not None:
        budget = {"remaining_ms": context.get_remaining_time_in_millis, "reserve_ms": SAFETY_MS}
    return AirflowApi(_client("mwaa", env["region"]), env["name"], major_version(_versions[key]), **budget)


def _prefix(event: dict[str, Any]) -> str:
    prefix = str(event.get("prefix") or "backups").strip("/")
    if not prefix or "/" in prefix or prefix.startswith("."):
        raise ValueError(f"prefix must be one folder name such as 'backups' or 'failback'; got {prefix!r}")
    return prefix


#: Fields of GetEnvironment that CreateEnvironment accepts unchanged in another Region.
PORTABLE_CONFIG = (
    "AirflowVersion",
    "EnvironmentClass",
    "MaxWorkers",
    "MinWorkers",
    "Schedulers",
    "MaxWebservers",
    "MinWebservers",
    "AirflowConfigurationOptions",
    "DagS3Path",
    "PluginsS3Path",
    "PluginsS3ObjectVersion",
    "RequirementsS3Path",
    "RequirementsS3ObjectVersion",
    "StartupScriptS3Path",
    "StartupScriptS3ObjectVersion",
    "WeeklyMaintenanceWindowStart",
    "WebserverAccessMode",
    "EndpointManagement",
)


def portable_config(environment: dict[str, Any]) -> dict[str, Any]:
    """The parts of an environment description a DR environment is created from."""
    config = {k: environment[k] for k in PORTABLE_CONFIG if environment.get(k) not in (None, "", {})}
    logging_in = {}
    for name, value in (environment.get("LoggingConfiguration") or {}).items():
        logging_in[name] = {"Enabled": bool(value.get("Enabled")), "LogLevel": value.get("LogLevel", "INFO")}
    if logging_in:
        config["LoggingConfiguration"] = logging_in
    return config


def backup(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = _environment(event.get("source", "primary"))
    prefix = _prefix(event)
    started = time.monotonic()
    description = _describe(env)
    api = AirflowApi(_client("mwaa", env["region"]), env["name"], major_version(description["AirflowVersion"]))

    def time_left() -> bool:
        return bool(context.get_remaining_time_in_millis() > SAFETY_MS)

    sections: dict[str, Any] = {
        "variables": api.read_variables(),
        "pools": api.read_pools(),
        "connections": api.read_connections(time_left=time_left),
        "dags": api.read_dags(latest_runs=True, time_left=time_left),
        "environment": portable_config(description),
    }
    # every field the API did not give in full, so the run's result (and the state machine's
    # notification, which carries the state) names what neither a backup nor a restore carries
    missing: dict[str, list[str]] = {}
    for section in ("variables", "connections"):
        for record in sections[section]:
            fields = not_carried(api.major, section, record)
            if fields:
                key = record.get("key") or record.get("connection_id")
                missing[f"{section}:{key}"] = fields
    for key, fields in api.incomplete.items():
        missing[key] = [*missing.get(key, []), *fields]
    now = datetime.now(UTC)
    meta = {
        "created_at": now.isoformat(),
        "environment_name": env["name"],
        "environment_region": env["region"],
        "airflow_version": description["AirflowVersion"],
    }
    written = _store().write_backup(prefix, now.strftime("%Y%m%dT%H%M%S%fZ"), sections, meta)
    counts = {name: info["records"] for name, info in written.manifest["files"].items()}
    metrics.add_dimension(name="Environment", value=env["name"])
    metrics.add_metric(name="MwaaBackupsCompleted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="MwaaBackupSeconds", unit=MetricUnit.Seconds, value=round(time.monotonic() - started, 3))
    metrics.flush_metrics()
    logger.info("backup written", extra={"folder": written.folder, "counts": counts})
    if missing:
        shown = dict(list(missing.items())[:200])
        logger.warning("fields not backed up", extra={"count": len(missing), "fields": shown})
    return {
        "folder": written.folder,
        "counts": counts,
        "not_backed_up_count": len(missing),
        "not_backed_up": dict(list(missing.items())[:_REPORT_LIMIT]),
    }


def _new_cursor(folder: str) -> dict[str, Any]:
    return {
        "folder": folder,
        "section": 0,
        "offset": 0,
        "written": dict.fromkeys(SECTIONS, 0),
        "masked": 0,
        "masked_keys": [],
        "not_restored": {},
        "markers": 0,
        "keep_paused": [],
        "failed_count": 0,
        "failed": {},
        "dag_waits": 0,
    }


def _record_failures(cursor: dict[str, Any], section: str, failed: dict[str, str]) -> None:
    cursor["failed_count"] += len(failed)
    for key, reason in failed.items():
        if len(cursor["failed"]) < _REPORT_LIMIT:
            cursor["failed"][f"{section}:{key}"] = reason
        logger.error("record not restored", extra={"section": section, "key": key, "reason": reason})


def _restore_dags(api: AirflowApi, dags: list[dict[str, Any]], cursor: dict[str, Any]) -> bool:
    """Mirror each DAG's paused state; returns False while some DAGs are not parsed yet.

    Before any DAG is unpaused, each DAG that the backup has active and the target has paused gets
    a finished marker run at the logical date of the backup's latest run, so the target's
    scheduler does not run that interval again. A DAG whose marker could not be placed stays
    paused and fails the restore (named in the report). ``cursor["offset"]`` counts the DAGs whose
    marker step is done, so a restore cut short resumes after them.
    """
    current = {d["dag_id"]: d["is_paused"] for d in api.read_dags(latest_runs=False)}
    missing = [d["dag_id"] for d in dags if d["dag_id"] not in current]
    if missing and cursor["dag_waits"] < DAG_WAIT_ATTEMPTS and cursor["offset"] == 0:
        cursor["dag_waits"] += 1
        logger.info("waiting for DAGs to be parsed", extra={"missing": len(missing), "wait": cursor["dag_waits"]})
        return False
    cursor.setdefault("markers", 0)
    keep_paused = cursor.setdefault("keep_paused", [])
    for index in range(cursor["offset"], len(dags)):
        dag = dags[index]
        run = dag.get("latest_run") or {}
        if not dag["is_paused"] and current.get(dag["dag_id"]) is True and run.get("logical_date"):
            error = api.place_marker(dag["dag_id"], run)
            if error:
                keep_paused.append(dag["dag_id"])
                reason = f"marker run at {run['logical_date']} not placed, DAG left paused: {error}"
                _record_failures(cursor, "dags", {dag["dag_id"]: reason})
            else:
                cursor["markers"] += 1
        cursor["offset"] = index + 1
    failed = {dag_id: "not present in the target environment" for dag_id in missing}
    for dag in dags:
        dag_id = dag["dag_id"]
        if dag_id in current and current[dag_id] != dag["is_paused"] and dag_id not in keep_paused:
            error = api.set_paused(dag_id, dag["is_paused"])
            if error:
                failed[dag_id] = error
            else:
                cursor["written"]["dags"] += 1
    _record_failures(cursor, "dags", failed)
    return True


def restore(event: dict[str, Any], context: Any) -> dict[str, Any]:
    env = _environment(event.get("target", "dr"))
    store = _store()
    cursor = event.get("cursor")
    if not cursor:
        chosen = store.resolve(_prefix(event), _folder(event))
        cursor = _new_cursor(chosen.folder)
        logger.info("restore started", extra={"folder": chosen.folder, "target": env["name"]})
    folder = cursor["folder"]
    manifest = store.read_json(f"{folder}/manifest.json")
    api = _api(env, context)
    handled = 0
    while cursor["section"] < len(SECTIONS):
        if context.get_remaining_time_in_millis() < SAFETY_MS:
            return {"done": False, "wait": False, "cursor": cursor}
        section = SECTIONS[cursor["section"]]
        records = store.read_section(folder, section, manifest)
        if section == "dags":
            try:
                if not _restore_dags(api, records, cursor):
                    return {"done": False, "wait": True, "cursor": cursor}
            except OutOfTime:
                # the paused states set so far are counted; the next invocation compares again
                return {"done": False, "wait": False, "cursor": cursor}
            cursor["section"] += 1
            continue
        while cursor["offset"] < len(records):
            if handled >= MAX_RECORDS_PER_CALL or context.get_remaining_time_in_millis() < SAFETY_MS:
                return {"done": False, "wait": False, "cursor": cursor}
            step = min(100 if api.major == 3 else 20, MAX_RECORDS_PER_CALL - handled)
            chunk = records[cursor["offset"] : cursor["offset"] + step]
            # checks the time before every call (each record on Airflow 2, each bulk call on
            # Airflow 3) and stops before the first record it could not finish
            result = api.write(section, chunk)
            cursor["written"][section] += result.written
            cursor["masked"] += len(result.skipped_masked)
            cursor["masked_keys"] = (cursor["masked_keys"] + [f"{section}:{k}" for k in result.skipped_masked])[
                :_REPORT_LIMIT
            ]
            not_restored = cursor.setdefault("not_restored", {})
            for key, fields in result.not_restored.items():
                if len(not_restored) < _REPORT_LIMIT:
                    not_restored[f"{section}:{key}"] = fields
            _record_failures(cursor, section, result.failed)
            cursor["offset"] += result.handled
            handled += result.handled
            if result.stopped:
                logger.info("time budget spent", extra={"section": section, "offset": cursor["offset"]})
                return {"done": False, "wait": False, "cursor": cursor}
        cursor["section"] += 1
        cursor["offset"] = 0
    summary = {
        "folder": folder,
        "target": env["name"],
        "written": cursor["written"],
        "masked_not_restored": cursor["masked"],
        "masked_keys": cursor["masked_keys"],
        "fields_not_restored": cursor.get("not_restored", {}),
        "markers": cursor.get("markers", 0),
    }
    if cursor["failed_count"]:
        raise RestoreIncomplete(
            json.dumps({**summary, "failed_count": cursor["failed_count"], "failed": cursor["failed"]})[:4000]
        )
    logger.info("restore complete", extra=summary)
    return {"done": True, "wait": False, "cursor": None, "summary": summary}


def pause_all(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Pause every unpaused DAG of the target, within the same time budget as the restore.

    Returns ``done: False`` with a ``cursor`` when the budget ran out; the caller passes the cursor
    back until ``done`` (each call reads the DAGs again, so it only pauses those still unpaused).
    """
    env = _environment(event.get("target", "dr"))
    cursor = event.get("cursor") or {}
    paused, failed = int(cursor.get("paused", 0)), dict(cursor.get("failed") or {})
    api = _api(env, context)
    try:
        for dag in api.read_dags(latest_runs=False):
            if not dag["is_paused"] and dag["dag_id"] not in failed:
                error = api.set_paused(dag["dag_id"], True)
                if error:
                    failed[dag["dag_id"]] = error
                else:
                    paused += 1
    except OutOfTime:
        logger.info("time budget spent while pausing", extra={"paused": paused})
        return {"done": False, "cursor": {"paused": paused, "failed": failed}, "paused": paused, "target": env["name"]}
    if failed:
        raise RestoreIncomplete(json.dumps({"target": env["name"], "paused": paused, "not_paused": failed})[:4000])
    return {"done": True, "cursor": None, "paused": paused, "target": env["name"]}


def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The backup a failover uses for every step: the newest complete one under ``prefix``
    (``latest`` when its manifest checks out, else the newest older complete folder)."""
    chosen = _store().resolve(_prefix(event))
    logger.info("backup chosen", extra={"folder": chosen.folder})
    return {"folder": chosen.folder, "created_at": chosen.manifest.get("created_at")}


def _folder(event: dict[str, Any]) -> str | None:
    folder = event.get("folder")
    if folder is None:
        return None
    prefix = _prefix(event)
    if not isinstance(folder, str) or not folder.startswith(f"{prefix}/") or ".." in folder or folder.count("/") != 1:
        raise ValueError(
            f"folder must be one backup folder under {prefix}/ such as '{prefix}/20261127T080000Z'; got {folder!r}"
        )
    return folder


_ACTIONS = {"backup": backup, "restore": restore, "pause_all": pause_all, "resolve": resolve}


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("action") not in _ACTIONS:
        raise ValueError(f"event must be an object with action one of {sorted(_ACTIONS)}; got {event!r:.200}")
    return _ACTIONS[event["action"]](event, context)
