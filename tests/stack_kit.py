"""Synthesize one architecture's example stacks, with both nag packs, for its own tests."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from blueprints.config import load_config
from blueprints.example_app import add_nag_packs, new_app
from tests.conftest import cdk_context


def synth_example(module_name: str, outdir: Path | None = None, **context: Any) -> dict[str, Template]:
    """Build ``module_name``'s ``add_example`` in a fresh app and synthesize it.

    Synthesis fails (RuntimeError) on any unacknowledged nag finding. Returns
    each stack's template by stack name. Call it from a module- or
    session-scoped fixture: synthesis costs seconds.
    """
    app = new_app(context=cdk_context(**context), outdir=str(outdir) if outdir else None)
    stacks = importlib.import_module(module_name).add_example(app, load_config(app))
    add_nag_packs(app)
    app.synth()
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}
