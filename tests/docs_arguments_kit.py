"""The argument tables of docs/*.md and the constructors' docstrings, read the same way by the drift test."""

from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration

ROOT = Path(__file__).resolve().parent.parent
#: Put right above an argument table: ``<!-- docs-test: arguments VerticalScaling -->``.
MARK = re.compile(r"^<!-- docs-test: arguments (\w+) -->$", re.MULTILINE)
_ENTRY = re.compile(r"^(?P<indent> +)(?P<name>\w+): (?P<text>.*)$")


@dataclass(frozen=True)
class Row:
    name: str
    default: str
    meaning: str


def normalize(text: str) -> str:
    """Markdown and reStructuredText of the same words compare equal: no backticks, single spaces."""
    return " ".join(text.replace("`", "").replace("\\|", "|").split()).rstrip(".")


def doc_tables() -> dict[str, tuple[Path, list[Row]]]:
    """Every marked argument table: construct name -> (page, rows)."""
    tables: dict[str, tuple[Path, list[Row]]] = {}
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        for match in MARK.finditer(text):
            lines = text[match.end() :].lstrip("\n").splitlines()
            rows: list[Row] = []
            for line in lines[2:]:
                if not line.startswith("|"):
                    break
                cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
                names = re.findall(r"^`(\w+)`$", cells[0])
                assert len(names) == 1, f"{page.name}: one argument per row, as `name`; got {cells[0]!r}"
                rows.append(Row(names[0], cells[1], cells[2]))
            assert match.group(1) not in tables, f"two argument tables for {match.group(1)}"
            tables[match.group(1)] = (page, rows)
    return tables


def _section(doc: str, title: str) -> dict[str, str]:
    """The entries of a Google-style section (``Args:``, ``Attributes:``): name -> text, lines joined."""
    lines = inspect.cleandoc(doc).splitlines()
    try:
        start = lines.index(f"{title}:")
    except ValueError:
        return {}
    entries: dict[str, str] = {}
    name = None
    indent = None
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        match = _ENTRY.match(line)
        if match and (indent is None or len(match.group("indent")) == indent):
            indent = len(match.group("indent"))
            name = match.group("name").split(" (")[0]
            entries[name] = match.group("text")
        elif name is not None and line.startswith(" " * ((indent or 0) + 1)):
            entries[name] += " " + line.strip()
        else:
            break
    return entries


def docstring_arguments(init: object) -> dict[str, str | None]:
    """``Args:`` of an ``__init__`` docstring: name -> its default (None: required)."""
    arguments: dict[str, str | None] = {}
    for name, text in _section(inspect.getdoc(init) or "", "Args").items():
        if name in ("scope", "id", "kwargs"):
            arguments[name] = None
            continue
        match = re.search(r"(?:Default: (?P<default>.+?)|(?P<required>Required))\.?$", text)
        assert match, f"{name}: an argument's entry ends with 'Default: <default>.' or 'Required.'; got {text!r}"
        arguments[name] = None if match.group("required") else match.group("default")
    return arguments


def docstring_attributes(cls: type) -> dict[str, str]:
    """``Attributes:`` of a construct's ``__init__`` docstring: name -> ``(type)`` and text."""
    init = cls.__dict__["__init__"]
    lines = inspect.cleandoc(inspect.getdoc(init) or "").splitlines()
    types: dict[str, str] = {}
    for line in lines[lines.index("Attributes:") + 1 :] if "Attributes:" in lines else []:
        match = re.match(r"^ {4}(\w+) \((?P<type>.+)\)$", line)
        if match:
            types[match.group(1)] = match.group("type")
        elif line and not line.startswith("        "):
            break
    return types


def default_problem(default: object, text: str) -> str | None:
    """Why ``text`` does not describe the signature's ``default`` (None: it does)."""
    words = normalize(text)
    if default is inspect.Parameter.empty:
        return None if words.lower().startswith("required") else f"the argument is required; the text says {text!r}"
    if default is None or isinstance(default, (list, dict)):
        return None
    if isinstance(default, bool):
        expected = [str(default)]
    elif isinstance(default, int):
        expected = [str(default), f"{default:,}"]
    elif isinstance(default, str):
        expected = [default]
    elif isinstance(default, enum.Enum):
        expected = [default.name, str(default.value)]
    elif isinstance(default, Duration):
        expected = [default.to_human_string()]
    elif isinstance(default, tuple) and not default:
        expected = ["()", "none"]
    else:
        return None
    if any(e in words for e in expected):
        return None
    return f"the default is {default!r}: the text should say {expected[0]!r}; it says {text!r}"
