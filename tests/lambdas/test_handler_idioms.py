"""Every handler follows the library's handler idioms (CONTRIBUTING.md, "Handlers"), read from its source.

- Clients: one module-level ``_clients`` dict, filled lazily by the functions that create clients; a
  ``boto3.client``/``boto3.resource`` call anywhere else (at import, or kept in a global of its own) fails.
- Every botocore ``Config`` names its retry mode and both timeouts: the SDK's defaults (legacy retries,
  60-second connect and read timeouts) are longer than most of these functions' whole timeout.
- Metrics: EMF through Powertools ``Metrics`` only (no ``PutMetricData``), dimension names in PascalCase.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "blueprints" / "lambdas"
MODULES = sorted(p for p in LAMBDAS.glob("*/*.py") if p.name != "__init__.py")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _is_boto3_factory(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("client", "resource")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "boto3"
    )


def _stores_into_clients(function: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(
            isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == "_clients"
            for target in node.targets
        )
        for node in ast.walk(function)
    )


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def test_the_idiom_checks_see_every_handler() -> None:
    handlers = {p.parent.name for p in MODULES if p.name == "index.py"}
    assert len(handlers) >= 13, handlers


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_clients_are_created_lazily_into_one_cache(path: Path) -> None:
    tree = _tree(path)
    factories = [node for node in ast.walk(tree) if _is_boto3_factory(node)]
    if not factories:
        return
    module_level = {
        id(node)
        for statement in tree.body
        if not isinstance(statement, (ast.FunctionDef, ast.ClassDef))
        for node in ast.walk(statement)
        if _is_boto3_factory(node)
    }
    assert not module_level, f"{path.name} creates a client at import time"
    caching = [f for f in _functions(tree) if _stores_into_clients(f)]
    inside = {id(node) for f in caching for node in ast.walk(f) if _is_boto3_factory(node)}
    stray = [node.lineno for node in factories if id(node) not in inside]
    assert not stray, (
        f"{path.parent.name}/{path.name}: clients made outside a function that caches them in _clients: lines {stray}"
    )
    assert any(
        isinstance(s, (ast.Assign, ast.AnnAssign))
        and any(
            isinstance(t, ast.Name) and t.id == "_clients"
            for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
        )
        for s in tree.body
    ), f"{path.name} has no module-level _clients dict"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_client_config_sets_retries_and_timeouts(path: Path) -> None:
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Config":
            keywords = {k.arg for k in node.keywords}
            missing = {"retries", "connect_timeout", "read_timeout"} - keywords
            assert not missing, f"{path.parent.name}/{path.name}:{node.lineno} Config without {sorted(missing)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_metrics_are_emf_with_pascal_case_dimensions(path: Path) -> None:
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        assert node.func.attr != "put_metric_data", f"{path.name}:{node.lineno} publishes metrics by API, not EMF"
        if node.func.attr == "add_dimension":
            names = [k.value for k in node.keywords if k.arg == "name"]
            for name in names:
                assert isinstance(name, ast.Constant) and str(name.value)[:1].isupper(), (
                    f"{path.name}:{node.lineno} dimension {ast.unparse(name)} is not PascalCase"
                )


def test_the_checks_catch_what_they_forbid() -> None:
    """Each rule above fails on a module that breaks it (so a check that matches nothing cannot pass silently)."""
    bad = _tree_of(
        "import boto3\nfrom botocore.config import Config\n_ec2 = None\n"
        "def _client():\n    global _ec2\n    _ec2 = boto3.client('ec2', config=Config(retries={}))\n    return _ec2\n"
    )
    factories = [n for n in ast.walk(bad) if _is_boto3_factory(n)]
    assert factories and not any(_stores_into_clients(f) for f in _functions(bad))
    good = _tree_of("import boto3\n_clients = {}\ndef _client(n):\n    _clients[n] = boto3.client(n)\n")
    assert any(_stores_into_clients(f) for f in _functions(good))


def _tree_of(source: str) -> ast.Module:
    return ast.parse(source)
