"""The example app: one deployment of every architecture, used by ``app.py``,
``make synth`` and the snapshot tests.

Each architecture's stack module provides ``EXAMPLE_STACKS`` (the fixed names
of its example stacks) and ``add_example(app, config)``, which adds them; this
module adds the nag packs that make an unacknowledged finding fail synthesis.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from blueprints.config import ExampleConfig, load_config

#: Stack modules that contribute an example, in the order they synthesize.
EXAMPLE_MODULES: tuple[str, ...] = (
    "blueprints.stacks.emr_reconciliation",
    "blueprints.stacks.mwaa_dr",
    "blueprints.stacks.security_lake",
    "blueprints.stacks.unified_api",
    "blueprints.stacks.vertical_scaling",
    "blueprints.stacks.weblogic_floating_ip",
)

#: The fixed names of the example stacks, once every architecture has landed.
STACK_NAMES = (
    "EmrReconciliation",
    "MwaaDrPrimary",
    "MwaaDrSecondary",
    "VerticalScaling",
    "WebLogicAdminHa",
    "UnifiedApi",
    "SecurityLakeSubscriber",
    "SecurityLakeVisualization",
)


def landed_stack_names() -> list[str]:
    """The example stacks of every architecture registered in EXAMPLE_MODULES."""
    names: list[str] = []
    for module_name in EXAMPLE_MODULES:
        names.extend(importlib.import_module(module_name).EXAMPLE_STACKS)
    return names


def new_app(**props: Any) -> cdk.App:
    """A ``cdk.App`` for the example stacks: CDK's built-in template validation off.

    The built-in ``CloudFormationValidatePlugin`` checks each template against a subset of cfn-lint's rules
    and, with ``@aws-cdk/core:validateAgainstDefaultRules`` unset or false, only ever warns. It costs about
    4 s of the example app's 9 s synthesis, while ``make test`` runs the full cfn-lint over every template
    and fails on its findings. The cdk-nag packs are plugins of their own and are not affected.
    """
    return cdk.App(builtin_cloud_formation_validation=False, **props)


def add_nag_packs(app: cdk.App) -> None:
    """Run the AwsSolutions and Serverless packs over everything in ``app``."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))


def build_example_app(app: cdk.App) -> list[cdk.Stack]:
    """Add every example stack to ``app`` and enable the nag packs."""
    config = load_config(app)
    stacks: list[cdk.Stack] = []
    for module_name in EXAMPLE_MODULES:
        add_example: Callable[[cdk.App, ExampleConfig], list[cdk.Stack]] = importlib.import_module(
            module_name
        ).add_example
        stacks.extend(add_example(app, config))
    built = sorted(s.stack_name for s in stacks)
    if built != sorted(landed_stack_names()) or not set(built) <= set(STACK_NAMES):
        raise ValueError(
            f"example stacks must use the fixed names {STACK_NAMES} and match their modules' "
            f"EXAMPLE_STACKS {landed_stack_names()}; got {built}"
        )
    add_nag_packs(app)
    return stacks
