"""Real Airflow API servers for the tests: Airflow 2 (webserver, REST API v1, basic auth) and
Airflow 3 (api-server, API v2, the simple auth manager's JWT tokens).

Each major version runs from its own venv (``.venv-airflow2``, ``.venv-airflow3``, built by
``make airflow-venvs`` from ``requirements-airflow2.txt`` / ``requirements-airflow3.txt``), with
a SQLite metadata database in a temporary folder and the API on 127.0.0.1 at a free port. One
database is prepared per version (``airflow db migrate``, the admin user, ``airflow dags
reserialize`` of ``tests/airflow/dags``) and copied for every server of that version, so each
server starts as a fresh environment with the same DAGs, as two MWAA environments reading one
DAGs bucket do.

A server that does not start fails the tests with its log; nothing is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DAGS = Path(__file__).resolve().parent / "dags"
VENVS = {2: ROOT / ".venv-airflow2", 3: ROOT / ".venv-airflow3"}
#: The versions the venvs hold: the construct's default (2.11.0) and its Airflow 3 (3.0.6).
VERSIONS = {2: "2.11.0", 3: "3.0.6"}
API_ROOT = {2: "/api/v1", 3: "/api/v2"}
USER, PASSWORD = "admin", "admin-password"
START_TIMEOUT_S = 180
#: A fixed Fernet key (32 zero bytes, urlsafe base64): passwords and extras are stored encrypted,
#: as on MWAA, and every copy of a prepared database can read them.
FERNET_KEY = base64.urlsafe_b64encode(b"\0" * 32).decode()
#: A variable that only a secrets backend serves (Airflow's environment-variables backend, ``AIRFLOW_VAR_<KEY>``),
#: as a Secrets Manager backend serves secrets on MWAA: Airflow finds it, the REST API never lists it.
SECRETS_BACKEND_KEY, SECRETS_BACKEND_VALUE = "dr_secrets_backend_probe", "served-by-the-secrets-backend"


class AirflowStartError(RuntimeError):
    """An Airflow command or server failed; the message carries its output."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _env(major: int, home: Path, dags: Path = DAGS) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": FERNET_KEY,
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            f"AIRFLOW_VAR_{SECRETS_BACKEND_KEY.upper()}": SECRETS_BACKEND_VALUE,
            "PYTHONWARNINGS": "ignore",
        }
    )
    if major == 2:
        env.update(
            {
                "AIRFLOW__API__AUTH_BACKENDS": "airflow.api.auth.backend.basic_auth",
                "AIRFLOW__WEBSERVER__WORKERS": "1",
                "AIRFLOW__WEBSERVER__SECRET_KEY": "blueprints-tests",
                "AIRFLOW__WEBSERVER__WORKER_REFRESH_INTERVAL": "86400",
            }
        )
    else:
        env.update(
            {
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                # PyJWT >= 2.10 refuses a token without a string issuer; Airflow 3.0 sets none by default
                "AIRFLOW__API_AUTH__JWT_ISSUER": "blueprints-tests",
                "AIRFLOW__API_AUTH__JWT_SECRET": "blueprints-tests-jwt-secret",
            }
        )
    return env


def _airflow(major: int, home: Path, *args: str, dags: Path = DAGS) -> None:
    log = home / f"airflow-{args[0]}.log"
    with log.open("w") as out:
        done = subprocess.run(
            [str(VENVS[major] / "bin" / "airflow"), *args],
            env=_env(major, home, dags),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    if done.returncode:
        raise AirflowStartError(f"airflow {' '.join(args)} (Airflow {major}) exited {done.returncode}:\n{_tail(log)}")


def _cheap_password_hash(database: Path) -> None:
    """Store the admin's password as PBKDF2-SHA256 with 1,000 iterations instead of werkzeug's default 260,000.

    Airflow 2's basic-auth backend checks the password hash on every request (``auth_user_db``), which on this
    machine costs about 0.25 s of CPU per REST call: a cost of the test's authentication that MWAA, which
    authenticates ``InvokeRestApi`` with SigV4 and calls the API as an Airflow role, never has. The stored form is
    werkzeug's own (``pbkdf2:sha256:<iterations>$<salt>$<hex digest>``), so Airflow checks it unchanged.
    """
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt.encode(), 1000).hex()
    with sqlite3.connect(database) as db:
        updated = db.execute(
            "UPDATE ab_user SET password = ? WHERE username = ?", (f"pbkdf2:sha256:1000${salt}${digest}", USER)
        ).rowcount
    if updated != 1:
        raise AirflowStartError(f"the admin user {USER} is missing from {database}")


def prepare(major: int, home: Path, dags: Path = DAGS) -> Path:
    """A migrated metadata database with the admin user and the DAGs of ``dags`` serialized."""
    python = VENVS[major] / "bin" / "python"
    if not python.exists():
        raise AirflowStartError(f"{python} is missing: run `make airflow-venvs` (make test does)")
    home.mkdir(parents=True, exist_ok=True)
    _airflow(major, home, "db", "migrate")
    if major == 2:
        _airflow(
            major, home, "users", "create", "--username", USER, "--password", PASSWORD, "--role", "Admin",
            "--firstname", "DR", "--lastname", "Tests", "--email", "dr-tests@example.com",
        )  # fmt: skip
        _cheap_password_hash(home / "airflow.db")
    _airflow(major, home, "dags", "reserialize", dags=dags)
    return home / "airflow.db"


@dataclass
class AirflowServer:
    """One running Airflow API server, playing one MWAA environment."""

    name: str
    major: int
    home: Path
    dags: Path = DAGS
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None
    token: str | None = None

    @property
    def version(self) -> str:
        return VERSIONS[self.major]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_ROOT[self.major]}"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    def start(self, database: Path) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(database, self.home / "airflow.db")
        if self.major == 2:
            command = ["webserver", "--hostname", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        else:
            (self.home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
            command = ["api-server", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(VENVS[self.major] / "bin" / "airflow"), *command],
                env=_env(self.major, self.home, self.dags),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AirflowStartError(
                    f"Airflow {self.version} server {self.name} exited {self.process.returncode}:\n{_tail(self.log)}"
                )
            try:
                if self.major == 3:
                    self.token = self._token()
                status, _ = self.request("GET", "/version")
                if status == 200:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AirflowStartError(
            f"Airflow {self.version} server {self.name} not ready in {START_TIMEOUT_S} s:\n{_tail(self.log)}"
        )

    def _token(self) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/auth/token",
            data=json.dumps({"username": USER, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return str(json.loads(answer.read())["access_token"])

    def headers(self) -> dict[str, str]:
        if self.major == 2:
            basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            return {"Authorization": f"Basic {basic}"}
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, *, query: str = "", body: Any = None) -> tuple[int, Any]:
        """One HTTP call to the API (``path`` relative to the API root); (status, JSON or text)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {**self.headers(), "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = f"{self.api_url}{path}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, raw = answer.status, answer.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return status, raw.decode(errors="replace")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)


def start_servers(base: Path, names: Iterable[tuple[str, int]], dags: Path = DAGS) -> dict[str, AirflowServer]:
    """Prepare one database per major version and start one server per (name, major), in parallel,
    all reading the DAG files of ``dags`` (default: tests/airflow/dags)."""
    wanted = list(names)
    majors = sorted({major for _, major in wanted})
    servers = {name: AirflowServer(name, major, base / name, dags) for name, major in wanted}
    with ThreadPoolExecutor(max_workers=len(majors)) as pool:
        databases = dict(zip(majors, pool.map(lambda m: prepare(m, base / f"template-{m}", dags), majors), strict=True))
    try:
        for server in servers.values():
            server.start(databases[server.major])
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            list(pool.map(lambda s: s.wait_ready(), servers.values()))
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers
