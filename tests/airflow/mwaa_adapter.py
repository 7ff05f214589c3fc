"""A real ``boto3`` MWAA client whose ``InvokeRestApi`` (and ``GetEnvironment``) are answered by
real Airflow servers instead of AWS.

botocore builds and serializes every request from the MWAA service model (``mwaa/2020-07-01``
in botocore's data folder) and parses every answer with it; only the HTTP hop is replaced, in a
``before-send`` handler, by the call MWAA makes to the environment's Airflow API:

* ``POST /restapi/{Name}`` with ``{"Path", "Method", "QueryParameters", "Body"}`` becomes
  ``Method <api root><Path>?<QueryParameters>`` on the named server, with ``Body`` as JSON.
  ``Path`` is relative to the API root (``/api/v1`` on Airflow 2, ``/api/v2`` on Airflow 3), as
  the MWAA user guide ("Using the Apache Airflow REST API") and the Amazon provider's
  ``MwaaHook`` send it. List values in ``QueryParameters`` become repeated parameters
  (``update_mask=a&update_mask=b``), the form Airflow's OpenAPI specs use for arrays.
* An Airflow answer below 400 becomes ``InvokeRestApiResponse`` (``RestApiStatusCode``,
  ``RestApiResponse``). 4xx becomes the modeled error ``RestApiClientException`` and 5xx
  ``RestApiServerException``, both with ``RestApiStatusCode`` and ``RestApiResponse`` and the
  HTTP status 400 that the model gives both shapes (``"error": {"httpStatusCode": 400}``), so
  botocore raises ``ClientError`` with those fields exactly as it does for the real service.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from tests.airflow.servers import AirflowServer


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _answer(url: str, status: int, payload: dict[str, Any], error: str | None = None) -> AWSResponse:
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": "blueprints-tests"}
    if error:
        headers["x-amzn-ErrorType"] = error
    return AWSResponse(url, status, headers, _Raw(json.dumps(payload).encode()))


class RealMwaa:
    """``client``: a boto3 MWAA client whose environments are the given Airflow servers."""

    def __init__(self, servers: dict[str, AirflowServer], region: str = "us-east-1") -> None:
        self.servers = servers
        #: every InvokeRestApi call as (environment, method, path), in order
        self.calls: list[tuple[str, str, str]] = []
        #: environment -> the ``AirflowConfigurationOptions`` its GetEnvironment answer carries (none: left out)
        self.configuration: dict[str, dict[str, str]] = {}
        self.client = boto3.client(
            "mwaa",
            region_name=region,
            endpoint_url="https://airflow.invalid",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(inject_host_prefix=False, retries={"mode": "standard", "total_max_attempts": 1}),
        )
        # first, so they answer before any other before-send handler (moto's, when a test mocks S3)
        self.client.meta.events.register_first("before-send.mwaa.InvokeRestApi", self._invoke)
        self.client.meta.events.register_first("before-send.mwaa.GetEnvironment", self._environment)

    def _server(self, url: str, marker: str) -> AirflowServer:
        name = unquote(urlsplit(url).path.split(f"/{marker}/", 1)[1])
        if name not in self.servers:
            raise AssertionError(f"no Airflow server plays environment {name!r}")
        return self.servers[name]

    def _invoke(self, request: Any, **_: Any) -> AWSResponse:
        server = self._server(request.url, "restapi")
        call = json.loads(request.body or b"{}")
        method, path = call["Method"], call["Path"]
        self.calls.append((server.name, method, path))
        query = urlencode(call.get("QueryParameters") or {}, doseq=True)
        status, body = server.request(method, path, query=query, body=call.get("Body"))
        if status < 400:
            return _answer(request.url, 200, {"RestApiStatusCode": status, "RestApiResponse": body})
        error = "RestApiServerException" if status >= 500 else "RestApiClientException"
        payload = {"message": f"Airflow answered {status}", "RestApiStatusCode": status, "RestApiResponse": body}
        return _answer(request.url, 400, payload, error)

    def _environment(self, request: Any, **_: Any) -> AWSResponse:
        server = self._server(request.url, "environments")
        environment = {
            "Name": server.name,
            "Arn": f"arn:aws:airflow:us-east-1:111111111111:environment/{server.name}",
            "AirflowVersion": server.version,
            "Status": "AVAILABLE",
            "EnvironmentClass": "mw1.small",
            "MaxWorkers": 2,
            "MinWorkers": 1,
            "Schedulers": 2,
            "DagS3Path": "dags",
            "WebserverAccessMode": "PRIVATE_ONLY",
            "CreatedAt": datetime(2026, 11, 1, tzinfo=UTC).timestamp(),
        }
        if self.configuration.get(server.name):
            environment["AirflowConfigurationOptions"] = self.configuration[server.name]
        return _answer(request.url, 200, {"Environment": environment})
