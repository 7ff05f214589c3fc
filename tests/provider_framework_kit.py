"""aws-cdk-lib's Provider framework, run for real on Node.js around the library's own Python handlers.

The framework's functions come from the synthesized cloud assembly (the asset its ``framework-onEvent`` function
deploys), so a test exercises the code CloudFormation would call. ``tests/lambdas/provider_framework_harness.js``
loads it with its three outbound calls sent here over HTTP:

- ``Lambda.invoke`` runs the Python handler in this process (moto or a Stubber active as the test sets up) and
  answers as Lambda does: the handler's JSON result, or, when it raises, ``FunctionError: "Unhandled"`` and the
  Python runtime's error payload ``{"errorMessage", "errorType", "requestId", "stackTrace"}`` (AWS Lambda
  Developer Guide, "AWS Lambda function errors in Python").
- ``SFN.startExecution`` (the waiter, with an ``is_complete`` handler) is recorded.
- The PUT of the response to CloudFormation's pre-signed URL is recorded: what CloudFormation would receive.

The assembly's runtime is the one aws-cdk-lib picks (``nodejs24.x`` today); here it runs on the Node.js of
``node_modules`` (22), which runs the framework's plain CommonJS alike.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).parent / "lambdas" / "provider_framework_harness.js"

Handler = Callable[[dict[str, Any]], Any]


@dataclass
class FrameworkRun:
    """What one framework invocation did."""

    invocations: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    executions: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    output: str = ""

    @property
    def response(self) -> dict[str, Any]:
        """The one response body CloudFormation received."""
        assert len(self.responses) == 1, self.responses
        return json.loads(self.responses[0]["body"])


def framework_function(template: Mapping[str, Any], user_function: str, handler: str = "onEvent") -> dict[str, Any]:
    """The framework function (``handler``: ``onEvent``, ``isComplete`` or ``onTimeout``) of the Provider whose
    ``onEvent`` handler is the function ``user_function`` (logical id)."""
    found = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
        and resource["Properties"].get("Handler") == f"framework.{handler}"
        and resource["Properties"].get("Environment", {}).get("Variables", {}).get("USER_ON_EVENT_FUNCTION_ARN")
        == {"Fn::GetAtt": [user_function, "Arn"]}
    ]
    assert len(found) == 1, f"expected one framework.{handler} function for {user_function}, found {len(found)}"
    return found[0]


def framework_environment(function: Mapping[str, Any], arns: Mapping[str, str]) -> dict[str, str]:
    """The framework function's environment as the template sets it, each ``Fn::GetAtt [<id>, Arn]`` or
    ``Ref <id>`` given by ``arns`` (logical id to ARN); a variable ``arns`` cannot resolve fails the test."""
    out: dict[str, str] = {}
    for name, value in function["Properties"].get("Environment", {}).get("Variables", {}).items():
        logical_id = value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value.get("Ref")
        assert logical_id in arns, f"{name} = {value}: no ARN given for {logical_id}"
        out[name] = arns[logical_id]
    return out


def framework_asset(assembly: Path, function: Mapping[str, Any]) -> Path:
    """The asset folder in ``assembly`` that ``function`` deploys."""
    key = function["Properties"]["Code"]["S3Key"]
    folder = assembly / f"asset.{key.removesuffix('.zip')}"
    assert (folder / "framework.js").is_file(), folder
    return folder


def _lambda_error(error: BaseException, request_id: str) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


@contextmanager
def _bridge(run: FrameworkRun, functions: Mapping[str, Handler]) -> Iterator[str]:
    class Bridge(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)) or b"{}")
            reply: dict[str, Any] = {}
            if self.path == "/invoke":
                payload = json.loads(body["Payload"])
                run.invocations.append((body["FunctionName"], payload))
                try:
                    reply = {"Payload": json.dumps(functions[body["FunctionName"]](payload))}
                except Exception as error:  # the Lambda runtime turns any exception into a function error
                    reply = {"Payload": json.dumps(_lambda_error(error, "test")), "FunctionError": "Unhandled"}
            elif self.path == "/start-execution":
                run.executions.append(body)
                reply = {"executionArn": "arn:aws:states:us-east-1:111111111111:execution:waiter:1"}
            elif self.path == "/response":
                run.responses.append(body)
            elif self.path == "/done":
                run.outcome = body
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bridge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_framework(
    asset: Path,
    handler: str,
    event: Mapping[str, Any],
    *,
    environment: Mapping[str, str],
    functions: Mapping[str, Handler],
) -> FrameworkRun:
    """Run the framework's ``handler`` (``onEvent`` or ``isComplete``) on ``event``.

    ``environment`` is the framework function's (``USER_ON_EVENT_FUNCTION_ARN`` and the rest); ``functions``
    maps each function ARN it names to the Python handler that serves it.
    """
    node = shutil.which("node")
    assert node, "node is not on PATH (make setup installs it into node_modules/.bin)"
    run = FrameworkRun()
    with _bridge(run, functions) as url:
        result = subprocess.run(
            [node, str(HARNESS), str(asset), handler, url],
            input=json.dumps(event),
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ.get("PATH", ""), "AWS_REGION": "us-east-1", **environment},
            check=False,
        )
    run.output = result.stdout + result.stderr
    assert result.returncode == 0, run.output
    assert run.outcome, run.output
    return run
