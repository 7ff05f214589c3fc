"""Shared fixtures: the example app synthesized once per session, handler-test helpers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.handler_kit import LambdaContext

ROOT = Path(__file__).resolve().parent.parent
# jsii runs on the Node.js that package.json pins, not the machine's.
os.environ["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
# CDK's built-in template validation off for every test app, as blueprints.example_app.new_app does for the
# example app: it only warns, costs seconds per synthesis, and cfn-lint checks the templates instead.
os.environ["CDK_VALIDATION"] = "false"
# PySpark starts its Python workers with `python3` from PATH unless told: outside `make` (which puts .venv/bin first)
# that is the machine's Python, and Spark refuses a worker whose minor version differs from the driver's.
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

#: The Python that EMR runs the Spark job on (tools/emr_runtime_gate.py TARGET; `make test-emr` uses .venv-emr).
EMR_RUNTIME = sys.version_info[:2] == (3, 9)
# The Spark job's tests run once, on the EMR runtime (`make test-emr`), not again in the main venv: they cost minutes.
collect_ignore = [] if EMR_RUNTIME else ["jobs"]


def pytest_report_header() -> str:
    if EMR_RUNTIME:
        return "EMR runtime (Python 3.9): tests/jobs included"
    return "tests/jobs left out: they run on the EMR runtime, `make test-emr` (.venv-emr, Python 3.9)"


def cdk_context(**overrides: Any) -> dict[str, Any]:
    """The context from cdk.json (feature flags and defaults), plus overrides.

    A ``cdk.App()`` in pytest does not read cdk.json, so tests pass it explicitly.
    """
    context = dict(json.loads((ROOT / "cdk.json").read_text())["context"])
    # Cached lookups, which the CLI reads from cdk.context.json too (e.g. the VerticalScaling example's AMI).
    cached = ROOT / "cdk.context.json"
    if cached.exists():
        context.update(json.loads(cached.read_text()))
    # What `cdk synth --version-reporting false --path-metadata false --asset-metadata false` sets.
    context.update(
        {
            "aws:cdk:version-reporting": False,
            "aws:cdk:enable-path-metadata": False,
            "aws:cdk:enable-asset-metadata": False,
        }
    )
    context.update(overrides)
    return context


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-xdist's ``--dist loadgroup``, each test file runs on one worker (so its module fixtures are
    built once), and every test that uses the session's real Airflow servers runs on the same worker, which
    starts them once. Without xdist (the EMR runtime venv has none) no mark is added: ``--strict-markers`` would
    refuse ``xdist_group``."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        uses_servers = "airflow_servers" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group("airflow-servers" if uses_servers else item.nodeid.split("::")[0]))


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a fixed Region so nothing can reach a real account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "Blueprints",
        "POWERTOOLS_TRACE_DISABLED": "1",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture(scope="session")
def example_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cloud assembly of one synthesis of the whole example app (both nag packs on)."""
    from blueprints.example_app import build_example_app, new_app

    for key in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION"):
        os.environ.pop(key, None)
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = new_app(context=cdk_context(), outdir=str(outdir))
    build_example_app(app)
    app.synth()
    return outdir


@pytest.fixture(scope="session")
def example_templates(example_assembly: Path) -> dict[str, dict[str, Any]]:
    """Every example stack's template, by stack name."""
    manifest = json.loads((example_assembly / "manifest.json").read_text())
    return {
        artifact["displayName"]: json.loads((example_assembly / artifact["properties"]["templateFile"]).read_text())
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    }


@pytest.fixture(scope="session")
def example_stacks(example_templates: dict[str, dict[str, Any]]) -> list[str]:
    return sorted(example_templates)
