"""Fixtures shared by handler test modules, so that no test module imports another.

``aws`` and ``handlers`` are the vertical-scaling handlers' account and handlers
(tests/lambdas/vertical_scaling_kit.py); a module with an ``aws`` fixture of its own (the MWAA DR, EMR and
WebLogic handler tests) overrides it.
"""

from tests.lambdas.vertical_scaling_kit import aws, handlers

__all__ = ["aws", "handlers"]
