"""Helpers for handler tests: load a handler fresh, read events, a Lambda context."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS = ROOT / "blueprints" / "lambdas"
EVENTS = Path(__file__).resolve().parent / "lambdas" / "events"


def load_handler(name: str) -> ModuleType:
    """Import ``blueprints/lambdas/<name>/index.py`` as Lambda would, as a fresh module.

    The handler's folder is the import root (its sibling modules import
    absolutely, as in the Lambda zip). Each call gives a new module, so lazily
    created clients never leak from one test into the next, and the sibling
    modules are removed from ``sys.modules`` again so two handlers with a
    module of the same name do not collide.
    """
    folder = LAMBDAS / name
    before = set(sys.modules)
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(f"handler_{name}_{uuid.uuid4().hex}", folder / "index.py")
        assert spec and spec.loader, f"no handler at {folder}/index.py"
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
        for mod_name in set(sys.modules) - before:
            mod_file = getattr(sys.modules[mod_name], "__file__", None) or ""
            if mod_file.startswith(str(folder)):
                del sys.modules[mod_name]
    return module


def load_event(name: str) -> dict[str, Any]:
    """An event from ``tests/lambdas/events/<name>.json``."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/01/01/[$LATEST]0123456789abcdef"
    remaining_ms: int = 300_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@contextlib.contextmanager
def stubbed(client: Any) -> Iterator[Any]:
    """Activate a ``botocore.stub.Stubber`` on ``client`` and check every queued call was made."""
    from botocore.stub import Stubber

    stubber = Stubber(client)
    stubber.activate()
    try:
        yield stubber
        stubber.assert_no_pending_responses()
    finally:
        stubber.deactivate()


def emf_records(out: str) -> list[dict[str, Any]]:
    """The embedded metric format records in captured standard output: each line that carries the ``_aws``
    metadata key (Powertools ``Metrics`` prints one JSON object per flush)."""
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
