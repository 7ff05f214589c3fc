"""The tree's shape: construct modules of a readable size, and each docs page's "Files" table equal to the tree."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSTRUCTS = ROOT / "blueprints" / "constructs"
DOCS = ROOT / "docs"

#: A construct module reads top to bottom at this size; past it, it splits by concern into a subpackage.
MODULE_LINES = 400
#: A function's statements (its docstring, the user documentation of a constructor's arguments, not counted).
FUNCTION_LINES = 80

MODULES = sorted(CONSTRUCTS.rglob("*.py"))
PAGES = sorted(DOCS.glob("*.md"))


def _body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


SHIPPED = sorted((ROOT / "blueprints").rglob("*.py"))


@pytest.mark.parametrize("module", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_code_checks_with_errors_not_asserts(module: Path) -> None:
    """``python -O`` (or ``PYTHONOPTIMIZE``) strips ``assert``; what the library checks it checks with an error."""
    asserts = [node.lineno for node in ast.walk(ast.parse(module.read_text())) if isinstance(node, ast.Assert)]
    assert not asserts, f"{module.relative_to(ROOT)} uses assert at lines {asserts}"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(CONSTRUCTS)))
def test_construct_modules_and_their_functions_stay_readable(module: Path) -> None:
    text = module.read_text()
    assert text.count("\n") <= MODULE_LINES, f"{module.name}: {text.count(chr(10))} lines; split it by concern"
    long = {
        f"{node.name} (line {node.lineno})": _body_lines(node)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _body_lines(node) > FUNCTION_LINES
    }
    assert not long, f"{module.name}: functions over {FUNCTION_LINES} lines of code: {long}"


def files_table(page: Path) -> dict[str, list[str]]:
    """The page's "## Files" table: part -> the backticked paths of its row."""
    text = page.read_text()
    match = re.search(r"^## Files\n\n\| part \| paths \|\n\|---\|---\|\n((?:\|.*\|\n)+)", text, re.MULTILINE)
    assert match, f"{page.name} has no '## Files' table (| part | paths |) at its top"
    first_heading = re.search(r"^## ", text, re.MULTILINE)
    assert first_heading and first_heading.start() == match.start(), f"{page.name}: the Files table comes first"
    rows = {}
    for line in match.group(1).splitlines():
        part, paths = (cell.strip() for cell in line.strip("|").split("|", 1))
        rows[part] = re.findall(r"`([^`]+)`", paths)
    return rows


def _slug(rows: dict[str, list[str]], page: Path) -> str:
    constructs = [p for p in rows.get("construct", []) if p.startswith("blueprints/constructs/")]
    assert constructs, f"{page.name}: the Files table names no construct under blueprints/constructs/"
    return Path(constructs[0].rstrip("/")).stem


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_files_table_lists_every_file_of_its_architecture_and_only_real_ones(page: Path) -> None:
    rows = files_table(page)
    listed = [path for paths in rows.values() for path in paths]
    missing = [path for path in listed if not (ROOT / path).exists()]
    assert not missing, f"{page.name} lists paths that do not exist: {missing}"
    slug = _slug(rows, page)
    covered = [(ROOT / path).resolve() for path in listed]
    tracked = [
        path
        for top in ("blueprints", "tests")
        for path in (ROOT / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and "__snapshots__" not in path.parts
        and any(slug in part for part in path.relative_to(ROOT).parts)
    ]  # fmt: skip
    unlisted = [
        str(path.relative_to(ROOT)) for path in tracked if not any(path == c or c in path.parents for c in covered)
    ]
    assert not unlisted, f"{page.name}: files of {slug} that its Files table does not list: {unlisted}"
