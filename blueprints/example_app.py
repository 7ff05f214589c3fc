"""The example app: one deployment of every architecture, used by ``app.py``,
``make synth`` and the snapshot tests.

Each architecture's stack module provides ``EXAMPLE_STACKS`` (the fixed names
of its example stacks) and ``add_example(app, config)``, which adds them; this
module adds the nag packs that make an unacknowledged finding fail synthesis.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from blueprints.config import load_config
from blueprints.stacks import (
    emr_reconciliation,
    mwaa_dr,
    security_lake,
    unified_api,
    vertical_scaling,
    weblogic_floating_ip,
)

#: Each architecture's example, in the order they synthesize.
EXAMPLES = (emr_reconciliation, mwaa_dr, security_lake, unified_api, vertical_scaling, weblogic_floating_ip)

#: The example stacks' names, fixed: snapshots, ``cdk.out`` and deployed stacks are keyed by them.
STACK_NAMES: tuple[str, ...] = tuple(name for module in EXAMPLES for name in module.EXAMPLE_STACKS)


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
    stacks = [stack for module in EXAMPLES for stack in module.add_example(app, config)]
    built = sorted(s.stack_name for s in stacks)
    if built != sorted(STACK_NAMES):
        raise ValueError(
            f"the example stacks must be {sorted(STACK_NAMES)} (their modules' EXAMPLE_STACKS); got {built}"
        )
    add_nag_packs(app)
    return stacks
