"""Real Airflow servers, started once per session: a primary and a DR environment per major version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.airflow.servers import AirflowServer, start_servers

#: (environment name, Airflow major version) of every server the session starts
ENVIRONMENTS = (("prod2", 2), ("standby2", 2), ("prod3", 3), ("standby3", 3))


@pytest.fixture(scope="session")
def airflow_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, AirflowServer]]:
    servers = start_servers(tmp_path_factory.mktemp("airflow"), ENVIRONMENTS)
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()
