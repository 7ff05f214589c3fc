"""Template snapshots: one JSON file per example stack, asset hashes masked.

The files are plain CloudFormation JSON, so ``cdk diff --template`` reads them
(``make diff``) as well as syrupy does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

SNAPSHOT_DIR = Path(__file__).resolve().parent / "stacks" / "__snapshots__" / "test_example_stacks"
_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def mask_template(template: Any) -> Any:
    """Replace asset hashes (which change with any handler edit) by a fixed marker."""
    return json.loads(_ASSET_HASH.sub("<asset-hash>", json.dumps(template)))


def render(template: dict[str, Any]) -> str:
    return json.dumps(mask_template(template), indent=1, sort_keys=True) + "\n"


def snapshot_path(stack_name: str) -> Path:
    return SNAPSHOT_DIR / f"test_template[{stack_name}].json"


class TemplateSnapshot(SingleFileSnapshotExtension):
    """Stores a rendered template as ``<test>[<stack>].json``."""

    _write_mode = WriteMode.TEXT
    file_extension = "json"
