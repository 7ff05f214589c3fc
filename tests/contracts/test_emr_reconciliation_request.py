"""The reconciliation request contract: every rejection branch, its message, and agreement with the JSON Schema
generated from it."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import emr_reconciliation_request as rr
import jsonschema
import pytest

from tests.handler_kit import load_event

FOLDER = Path(rr.__file__).resolve().parent
SCHEMA = rr.json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def base() -> dict[str, Any]:
    """The base request the EMR reconciliation tests share (``tests/lambdas/events/emr_reconciliation_request.json``),
    a fresh copy for each use."""
    return load_event("emr_reconciliation_request")


def mutated(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    request = copy.deepcopy(base())
    change(request)
    return request


def rejects(request: object, message: str) -> Any:
    with pytest.raises(rr.InvalidRequest, match=message) as caught:
        rr.validate_request(request)
    return caught.value


# --- accepted requests and normalization ---------------------------------------------------------------------------


def test_a_valid_request_is_normalized_with_every_default() -> None:
    request = rr.validate_request(base())
    assert request["request_id"] == "recon-2026-11-001"
    ledger = request["inputs"]["ledger"]["options"]
    assert ledger["delimiter"] == ";"
    assert ledger["header"] is True
    assert ledger["infer_schema"] is False
    assert request["inputs"]["bank"]["options"] == {}
    first, second, _ = request["operations"]
    assert first["with_on"] == ["txn_id"]
    assert first["as"] is None
    assert second["input"] is None
    # The per-request prefix is added, and the normalized form says so by no longer asking for it; the safe mode.
    assert request["output"] == {
        "uri": "s3://finance-results/reconciliation/recon-2026-11-001/",
        "format": "csv",
        "mode": "error",
        "single_file": False,
        "per_request_prefix": False,
        "options": {"header": True, "delimiter": ","},
    }


def test_json_text_and_bytes_are_accepted() -> None:
    text = json.dumps(base())
    assert rr.validate_request(text) == rr.validate_request(text.encode()) == rr.validate_request(base())


def test_every_operation_normalizes() -> None:
    request = base()
    request["operations"] += [
        {"op": "join", "with": "bank", "on": ["txn_id"], "with_on": ["bank_txn"], "how": "full", "as": "joined"},
        {"op": "pivot", "index": ["account"], "column": "status", "values": ["open", 2], "value": "amount"},
        {"op": "unpivot", "ids": [], "columns": ["open", "2"]},
        {"op": "rename", "columns": {"value": "total"}},
        {"op": "select", "columns": ["column", "total"]},
        {"op": "drop", "columns": ["column"]},
        {"op": "cast", "columns": {"total": "decimal(18,2)"}},
        {"op": "sort", "by": ["total", {"column": "total", "order": "desc"}]},
        {"op": "deduplicate"},
        {"op": "deduplicate", "columns": ["total"]},
        {"op": "aggregate", "aggregations": [{"function": "count", "as": "n"}]},
        {"op": "union", "input": "joined", "with": "joined", "allow_missing_columns": True},
        {"op": "fill_nulls", "values": {"total": 0, "name": "none", "flag": False}},
    ]
    ops = rr.validate_request(request)["operations"][3:]
    assert ops[0]["how"] == "full"
    assert ops[0]["with_on"] == ["bank_txn"]
    assert ops[1]["agg"] == "sum"
    assert (ops[2]["names_to"], ops[2]["values_to"]) == ("column", "value")
    assert ops[7]["by"] == [{"column": "total", "order": "asc"}, {"column": "total", "order": "desc"}]
    assert ops[8]["columns"] is None
    assert ops[10] == {
        "op": "aggregate",
        "input": None,
        "as": None,
        "group_by": [],
        "aggregations": [{"function": "count", "column": None, "as": "n"}],
    }
    assert ops[11]["with"] == ["joined"]
    assert ops[11]["input"] == "joined"


def test_file_uris_only_when_the_caller_allows_them() -> None:
    request = mutated(lambda r: r["output"].update(uri="file:///tmp/out"))
    rejects(request, re.escape("output.uri: got 'file:///tmp/out'; accepted: s3://bucket/key"))
    normalized = rr.validate_request(request, uri_schemes=("s3", "file"))
    assert normalized["output"]["uri"] == "file:///tmp/out/recon-2026-11-001/"


def test_the_contract_imports_only_the_standard_library() -> None:
    probe = (
        f"import sys; sys.path.insert(0, {str(FOLDER)!r}); "
        "import emr_reconciliation_request; print(sorted(sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "jsonschema" not in loaded
    assert "pyspark" not in loaded


# --- rejections: one case per branch, with the message ------------------------------------------------------------


def _set(path: list[Any], value: object) -> Callable[[dict[str, Any]], None]:
    def change(request: dict[str, Any]) -> None:
        target: Any = request
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(request: dict[str, Any]) -> None:
        target: Any = request
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def _add_op(operation: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda request: request["operations"].append(operation)


REJECTIONS: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("unknown top-level field", _set(["priority"], 1), r"^priority: unknown field; accepted: inputs, operations,"),
    ("missing top-level field", _delete(["output"]), r"^output: required field is missing$"),
    ("schema version", _set(["schema_version"], "2.0"), r"^schema_version: got '2.0'; accepted: 1.0$"),
    ("schema version type", _set(["schema_version"], 1.0), r"^schema_version: got 1.0; accepted: 1.0$"),
    ("request id", _set(["request_id"], "-bad id"), r"^request_id: got '-bad id'; accepted: 1-128 letters"),
    ("request id newline", _set(["request_id"], "ok\n"), r"^request_id: got 'ok\\n'"),
    ("inputs empty", _set(["inputs"], {}), r"^inputs: got \{\}; accepted: an object of 1 to 20 named datasets$"),
    ("input name", _set(["inputs", "bad-name"], {}), r"^inputs.bad-name: got 'bad-name'; accepted: a name of letters"),
    ("input not an object", _set(["inputs", "bank"], "s3://x"), r"^inputs.bank: got string; accepted: an object$"),
    (
        "input uri",
        _set(["inputs", "bank", "uri"], "https://x/y"),
        r"^inputs.bank.uri: got 'https://x/y'; accepted: s3://",
    ),
    (
        "input format",
        _set(["inputs", "bank", "format"], "xlsx"),
        r"^inputs.bank.format: got 'xlsx'; accepted: csv, parquet$",
    ),
    ("parquet options", _set(["inputs", "bank", "options"], {"header": True}), r"^inputs.bank.options.header: unknown"),
    ("csv option", _set(["inputs", "ledger", "options"], {"sep": ","}), r"^inputs.ledger.options.sep: unknown field"),
    (
        "csv boolean",
        _set(["inputs", "ledger", "options"], {"header": "yes"}),
        r"options.header: got 'yes'; accepted: true",
    ),
    (
        "csv char",
        _set(["inputs", "ledger", "options"], {"delimiter": "||"}),
        r"delimiter: got '\|\|'; accepted: a single",
    ),
    (
        "csv string",
        _set(["inputs", "ledger", "options"], {"null_value": 0}),
        r"null_value: got 0; accepted: a string of",
    ),
    (
        "csv schema",
        _set(["inputs", "ledger", "options"], {"schema": []}),
        r"options.schema: got \[\]; accepted: an object",
    ),
    (
        "csv schema type",
        _set(["inputs", "ledger", "options"], {"schema": {"amount": "money"}}),
        r"options.schema.amount: got 'money'; accepted: string, integer, long, double, boolean, date, timestamp, dec",
    ),
    (
        "decimal precision",
        _set(["inputs", "ledger", "options"], {"schema": {"amount": "decimal(10,12)"}}),
        r"options.schema.amount: got 'decimal\(10,12\)'",
    ),
    (
        "schema and inference",
        _set(["inputs", "ledger", "options"], {"schema": {"a": "string"}, "infer_schema": True}),
        r"options.infer_schema: cannot be true with a schema",
    ),
    ("operations empty", _set(["operations"], []), r"^operations: got \[\]; accepted: a list of 1 to 200 operations$"),
    ("too many operations", _set(["operations"], [{"op": "deduplicate", "input": "bank"}] * 201), r"^operations: got"),
    (
        "operation not an object",
        _set(["operations", 1], "derive"),
        r"^operations\[1\]: got string; accepted: an object",
    ),
    (
        "unknown op",
        _set(["operations", 1, "op"], "merge"),
        r"^operations\[1\].op: got 'merge'; accepted: vlookup, join,",
    ),
    (
        "unknown op field",
        _set(["operations", 2, "where"], "x"),
        r"^operations\[2\].where: unknown field; accepted: as, co",
    ),
    (
        "missing op field",
        _delete(["operations", 1, "expression"]),
        r"^operations\[1\].expression: required field is miss",
    ),
    (
        "first op input",
        _delete(["operations", 0, "input"]),
        r"^operations\[0\].input: required on the first operation; ",
    ),
    (
        "unknown input",
        _set(["operations", 0, "input"], "gl"),
        r"^operations\[0\].input: no input or earlier 'as' named 'gl'",
    ),
    ("as name", _set(["operations", 1, "as"], "1x"), r"^operations\[1\].as: got '1x'; accepted: a name of letters"),
    (
        "as taken",
        _set(["operations", 1, "as"], "bank"),
        r"^operations\[1\].as: 'bank' is already a table; accepted: a new",
    ),
    (
        "later use of as",
        _add_op({"op": "union", "with": "nope"}),
        r"^operations\[3\].with\[0\]: no input or earlier 'as'",
    ),
    (
        "vlookup with",
        _set(["operations", 0, "with"], "gl"),
        r"^operations\[0\].with: no input or earlier 'as' named 'gl'",
    ),
    (
        "columns not a list",
        _set(["operations", 0, "on"], "txn_id"),
        r"^operations\[0\].on: got 'txn_id'; accepted: a list",
    ),
    (
        "column listed twice",
        _set(["operations", 0, "columns"], ["a", "a"]),
        r"^operations\[0\].columns\[1\]: column 'a' is",
    ),
    ("column name", _set(["operations", 0, "on"], ["`x`"]), r"^operations\[0\].on\[0\]: got '`x`'; accepted: a column"),
    (
        "with_on length",
        _set(["operations", 0, "with_on"], ["a", "b"]),
        r"^operations\[0\].with_on: has 2 columns for 1",
    ),
    (
        "default type",
        _set(["operations", 0, "default"], 0),
        r"^operations\[0\].default: got number; accepted: an object",
    ),
    ("default key", _set(["operations", 0, "default"], {"x": 1}), r"^operations\[0\].default.x: not one of the picked"),
    (
        "default value",
        _set(["operations", 0, "default"], {"bank_amount": [1]}),
        r"default.bank_amount: got array; accep",
    ),
    ("join how", _add_op({"op": "join", "with": "bank", "on": ["k"], "how": "outer"}), None),
    ("pivot values", _add_op({"op": "pivot", "index": ["a"], "column": "b", "values": [], "value": "c"}), None),
    ("pivot value type", _add_op({"op": "pivot", "index": ["a"], "column": "b", "values": [True], "value": "c"}), None),
    (
        "pivot value twice",
        _add_op({"op": "pivot", "index": ["a"], "column": "b", "values": [1, 1], "value": "c"}),
        None,
    ),
    (
        "pivot agg",
        _add_op({"op": "pivot", "index": ["a"], "column": "b", "values": [1], "value": "c", "agg": "median"}),
        None,
    ),
    ("unpivot names", _add_op({"op": "unpivot", "ids": [], "columns": ["a"], "names_to": "v", "values_to": "v"}), None),
    ("filter expression", _set(["operations", 2, "condition"], "abs(diff) >="), None),
    ("derive expression type", _set(["operations", 1, "expression"], 5), None),
    ("unknown function", _set(["operations", 1, "expression"], "sqrt(amount)"), None),
    ("rename target", _add_op({"op": "rename", "columns": {"a": 1}}), None),
    ("rename empty", _add_op({"op": "rename", "columns": {}}), None),
    ("sort by", _add_op({"op": "sort", "by": []}), None),
    ("sort order", _add_op({"op": "sort", "by": [{"column": "a", "order": "down"}]}), None),
    ("sort item", _add_op({"op": "sort", "by": [{"col": "a"}]}), None),
    ("aggregations empty", _add_op({"op": "aggregate", "aggregations": []}), None),
    ("aggregate function", _add_op({"op": "aggregate", "aggregations": [{"function": "median", "as": "m"}]}), None),
    ("aggregate column", _add_op({"op": "aggregate", "aggregations": [{"function": "sum", "as": "s"}]}), None),
    (
        "aggregate name twice",
        _add_op({"op": "aggregate", "group_by": ["n"], "aggregations": [{"function": "count", "as": "n"}]}),
        None,
    ),
    ("union with", _add_op({"op": "union", "with": []}), None),
    ("union flag", _add_op({"op": "union", "with": "bank", "allow_missing_columns": "yes"}), None),
    ("fill null value", _add_op({"op": "fill_nulls", "values": {"a": None}}), None),
    ("fill value type", _add_op({"op": "fill_nulls", "values": {"a": {"x": 1}}}), None),
    ("output format", _set(["output", "format"], "xlsx"), r"^output.format: got 'xlsx'; accepted: csv, parquet$"),
    ("output mode", _set(["output", "mode"], "append"), r"^output.mode: got 'append'; accepted: error, overwrite$"),
    ("output single file", _set(["output", "single_file"], 1), r"^output.single_file: got 1; accepted: true or false$"),
    (
        "output csv option",
        _set(["output", "options"], {"quote": "'"}),
        r"^output.options.quote: unknown field; accepted",
    ),
    ("output csv header", _set(["output", "options"], {"header": 1}), r"^output.options.header: got 1; accepted: true"),
    ("output parquet option", lambda r: r["output"].update(format="parquet", options={"header": True}), None),
    # Output safety: an output that could delete or overwrite data the request reads, or other datasets.
    (
        "output is an input",
        lambda r: r["output"].update(uri="s3://finance-data/ledger/2026-11/", per_request_prefix=False),
        r"^output.uri: 's3://finance-data/ledger/2026-11/' is inputs.ledger.uri 's3://finance-data/ledger/2026-11/'; "
        r"accepted: an output location apart from every input",
    ),
    (
        "output is an input without its slash",
        lambda r: r["output"].update(uri="s3://finance-data/ledger/2026-11", per_request_prefix=False),
        r"^output.uri: 's3://finance-data/ledger/2026-11' is inputs.ledger.uri",
    ),
    (
        "output inside an input by the prefix",
        _set(["output", "uri"], "s3://finance-data/ledger/2026-11/"),
        r"^output.uri: 's3://finance-data/ledger/2026-11/recon-2026-11-001/' \(with the per-request prefix\) "
        r"lies inside inputs.ledger.uri",
    ),
    (
        "output inside an input file",
        lambda r: r["output"].update(uri="s3://finance-data/bank/2026-11.parquet/x/", per_request_prefix=False),
        r"^output.uri: 's3://finance-data/bank/2026-11.parquet/x/' lies inside inputs.bank.uri",
    ),
    (
        "output contains an input",
        lambda r: r["output"].update(uri="s3://finance-data/bank", per_request_prefix=False),
        r"^output.uri: 's3://finance-data/bank' contains inputs.bank.uri 's3://finance-data/bank/2026-11.parquet'",
    ),
    (
        "output contains inputs",
        lambda r: r["output"].update(uri="s3://finance-data/ledger/", per_request_prefix=False),
        r"^output.uri: 's3://finance-data/ledger/' contains inputs.ledger.uri",
    ),
    (
        "output may meet a pattern",
        lambda r: (
            r["inputs"]["ledger"].update(uri="s3://finance-data/ledger/*/"),
            r["output"].update(uri="s3://finance-data/ledger/summary/"),
        ),
        r"^output.uri: .* may meet the matches of inputs.ledger.uri 's3://finance-data/ledger/\*/' \(a pattern\)",
    ),
    (
        "output bucket root",
        _set(["output", "uri"], "s3://finance-results"),
        r"^output.uri: 's3://finance-results' is a",
    ),
    (
        "output bucket root slash",
        _set(["output", "uri"], "s3://finance-results/"),
        r"^output.uri: .* is a bucket root",
    ),
    ("output glob", _set(["output", "uri"], "s3://finance-results/out*/"), r"^output.uri: got .*; accepted: a URI wit"),
    (
        "output dot segment",
        _set(["output", "uri"], "s3://finance-results/x/../../finance-data/"),
        r"^output.uri: got .*; accepted: a URI without empty, '.' or '..' path segments$",
    ),
    (
        "output empty segment",
        _set(["output", "uri"], "s3://finance-results/a//b/"),
        r"^output.uri: got .*; accepted: a",
    ),
    (
        "input dot segment",
        _set(["inputs", "bank", "uri"], "s3://finance-data/x/../bank/"),
        r"^inputs.bank.uri: got .*; accepted: a URI without empty, '.' or '..' path segments$",
    ),
    (
        "output prefix flag",
        _set(["output", "per_request_prefix"], "yes"),
        r"^output.per_request_prefix: got 'yes'; accepted: true or false$",
    ),
]

MESSAGES = {
    "join how": r"^operations\[3\].how: got 'outer'; accepted: inner, left, right, full$",
    "pivot values": r"^operations\[3\].values: got \[\]; accepted: a list of 1 to 1000 pivot values$",
    "pivot value type": r"^operations\[3\].values\[0\]: got true; accepted: a string or number$",
    "pivot value twice": r"^operations\[3\].values\[1\]: value 1 is listed twice; accepted: each value once$",
    "pivot agg": r"^operations\[3\].agg: got 'median'; accepted: sum, count, min, max, avg$",
    "unpivot names": r"^operations\[3\].values_to: same name as names_to; accepted: two different column names$",
    "filter expression": r"^operations\[2\].condition: expected a value, found the end of the expression; accepted: an",
    "derive expression type": r"^operations\[1\].expression: got 5; accepted: a non-empty expression string$",
    "unknown function": r"^operations\[1\].expression: unknown function 'sqrt'; accepted: round, abs, if, coalesce,",
    "rename target": r"^operations\[3\].columns.a: got 1; accepted: a column name",
    "rename empty": r"^operations\[3\].columns: got \{\}; accepted: an object with at least one column name as key$",
    "sort by": r"^operations\[3\].by: got \[\]; accepted: a non-empty list of column names or \{column, order\}$",
    "sort order": r"^operations\[3\].by\[0\].order: got 'down'; accepted: asc, desc$",
    "sort item": r"^operations\[3\].by\[0\].col: unknown field; accepted: column, order$",
    "aggregations empty": r"^operations\[3\].aggregations: got \[\]; accepted: a non-empty list",
    "aggregate function": r"^operations\[3\].aggregations\[0\].function: got 'median'; accepted: sum, count, min, max",
    "aggregate column": r"^operations\[3\].aggregations\[0\].column: required for sum; accepted: a column name \(only",
    "aggregate name twice": r"^operations\[3\].aggregations\[0\].as: column 'n' is produced twice; accepted: a name",
    "union with": r"^operations\[3\].with: got \[\]; accepted: a table name or a non-empty list of them$",
    "union flag": r"^operations\[3\].allow_missing_columns: got 'yes'; accepted: true or false$",
    "fill null value": r"^operations\[3\].values.a: got null; accepted: a string, number or boolean$",
    "fill value type": r"^operations\[3\].values.a: got object; accepted: a string, number, boolean or null$",
    "output parquet option": r"^output.options.header: unknown field$",
}


@pytest.mark.parametrize(("change", "message"), [(c, m) for _, c, m in REJECTIONS], ids=[n for n, _, _ in REJECTIONS])
def test_rejection_names_the_field_and_what_is_accepted(
    request: pytest.FixtureRequest, change: Callable[[dict[str, Any]], object], message: str | None
) -> None:
    message = message or MESSAGES[request.node.callspec.id]
    rejects(mutated(change), message)


def test_the_error_carries_the_operation_index_and_path() -> None:
    error = rejects(mutated(_set(["operations", 1, "op"], "merge")), "merge")
    assert error.operation_index == 1
    assert error.path == "operations[1].op"
    assert isinstance(error, ValueError)
    assert rejects(mutated(_set(["request_id"], "")), "request_id").operation_index is None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("[1, 2]", r"^request: got array; accepted: an object$"),
        ("{", r"^request: not valid JSON \(Expecting property name enclosed in double quotes at line 1\)"),
        (b"\xff", r"^request: not UTF-8"),
        (None, r"^request: got null; accepted: an object$"),
    ],
)
def test_documents_that_are_not_a_json_object(document: object, message: str) -> None:
    rejects(document, message)


# --- expressions ---------------------------------------------------------------------------------------------------


def test_expressions_parse_with_precedence_quoting_and_literals() -> None:
    tree = rr.parse_expression("not a = 'it''s' and `Net Amount` >= -1.5e3 or upper(trim(n)) <> \"Z\"")
    assert tree == (
        "bin",
        "or",
        (
            "bin",
            "and",
            ("not", ("bin", "=", ("col", "a"), ("lit", "it's"))),
            ("bin", ">=", ("col", "Net Amount"), ("lit", -1500.0)),
        ),
        ("bin", "!=", ("call", "upper", [("call", "trim", [("col", "n")])]), ("lit", "Z")),
    )
    assert rr.parse_expression("1 + 2 * -x % 3") == (
        "bin",
        "+",
        ("lit", 1),
        ("bin", "%", ("bin", "*", ("lit", 2), ("neg", ("col", "x"))), ("lit", 3)),
    )
    assert rr.parse_expression("x IS NOT NULL and TRUE or null is null") == (
        "bin",
        "or",
        ("bin", "and", ("isnull", ("col", "x"), True), ("lit", True)),
        ("isnull", ("lit", None), False),
    )
    assert rr.expression_columns(rr.parse_expression("if(a > 0, concat(b, `c d`), coalesce(e, 'x'))")) == {
        "a",
        "b",
        "c d",
        "e",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a ; b", r"unexpected character ';' at position 2; accepted: column names"),
        ("'open", r"unexpected character \"'\" at position 0"),
        ("a +", r"expected a value, found the end of the expression"),
        ("(a + 1", r"expected '\)', found the end of the expression"),
        ("a b", r"expected an operator or the end of the expression, found 'b' at position 2"),
        ("a is 3", r"expected 'null' after 'is', found '3' at position 5"),
        ("and", r"expected a value, found 'and' at position 0"),
        ("sqrt(a)", r"unknown function 'sqrt'; accepted: round, abs, if"),
        ("if(a, b)", r"if\(\) takes 3 arguments, got 2; accepted: 3 arguments$"),
        ("coalesce()", r"coalesce\(\) takes 1 or more arguments, got 0; accepted: 1 or more arguments$"),
        ("round(a, 1, 2)", r"round\(\) takes 1 to 2 arguments, got 3"),
        ("round(a, b)", r"round\(\) digits must be a whole number literal"),
        ("to_date(a, b)", r"to_date\(\) format must be a string literal"),
        ("   ", r"got '   '; accepted: a non-empty expression string"),
        ("(" * 70 + "a" + ")" * 70, r"nested too deeply; accepted: at most 64 levels"),
        ("a" * 4097, r"expression is 4097 characters long; accepted: at most 4096"),
    ],
)
def test_bad_expressions(text: str, message: str) -> None:
    with pytest.raises(rr.InvalidRequest, match=message):
        rr.parse_expression(text, "operations[0].expression")


# --- the JSON Schema, generated from the module, agrees with it ----------------------------------------------------

# Requests both the JSON Schema and validate_request must accept.
ACCEPTED = [
    base(),
    mutated(lambda r: r["output"].update(format="parquet", mode="error", single_file=True)),
    mutated(lambda r: r["inputs"]["ledger"].update(options={"schema": {"txn_id": "long", "amount": "decimal(18,2)"}})),
    mutated(_add_op({"op": "sort", "by": ["diff", {"column": "txn_id", "order": "desc"}]})),
    mutated(_add_op({"op": "aggregate", "group_by": ["a"], "aggregations": [{"function": "count", "as": "n"}]})),
    mutated(_add_op({"op": "union", "with": ["bank", "ledger"], "allow_missing_columns": True})),
    mutated(_add_op({"op": "pivot", "index": ["a"], "column": "b", "values": ["x", 2], "value": "c", "agg": "max"})),
    mutated(_add_op({"op": "fill_nulls", "values": {"a": 0, "b": "", "c": False}})),
    mutated(_add_op({"op": "deduplicate"})),
    mutated(_add_op({"op": "deduplicate", "columns": ["a"], "as": "unique_a"})),
    mutated(lambda r: r["operations"].extend(copy.deepcopy(base()["operations"][1:]) * 2)),
    mutated(_add_op({"op": "join", "with": "bank", "on": ["k"], "with_on": ["bank_k"], "how": "left"})),
    mutated(_add_op({"op": "unpivot", "ids": ["k"], "columns": ["a", "b"], "names_to": "n", "values_to": "v"})),
    mutated(_add_op({"op": "cast", "columns": {"a": "date", "b": "integer"}})),
    mutated(_add_op({"op": "rename", "columns": {"a": "b c"}})),
]
# Requests that are well-formed JSON for the schema but break rules only code can check (table references, the
# expression grammar, cross-field rules): validate_request rejects them, the JSON Schema cannot.
SEMANTIC_ONLY = {
    "first op input",
    "unknown input",
    "as taken",
    "later use of as",
    "vlookup with",
    "with_on length",
    "default key",
    "unpivot names",
    "filter expression",
    "unknown function",
    "aggregate name twice",
    "decimal precision",
    "request id newline",
    "output is an input",
    "output is an input without its slash",
    "output inside an input by the prefix",
    "output inside an input file",
    "output contains an input",
    "output contains inputs",
    "output may meet a pattern",
    "output dot segment",
    "output empty segment",
    "input dot segment",
}


@pytest.mark.parametrize("document", ACCEPTED, ids=range(len(ACCEPTED)))
def test_schema_and_module_accept_the_same_requests(document: dict[str, Any]) -> None:
    VALIDATOR.validate(document)
    rr.validate_request(document)


@pytest.mark.parametrize(("name", "change"), [(n, c) for n, c, _ in REJECTIONS], ids=[n for n, _, _ in REJECTIONS])
def test_schema_and_module_reject_the_same_requests(name: str, change: Callable[[dict[str, Any]], object]) -> None:
    document = mutated(change)
    with pytest.raises(rr.InvalidRequest):
        rr.validate_request(document)
    schema_errors = list(VALIDATOR.iter_errors(document))
    if name in SEMANTIC_ONLY:
        assert not schema_errors, "the schema now checks this too: drop it from SEMANTIC_ONLY"
    else:
        assert schema_errors, f"the JSON Schema accepts {name!r}, which validate_request rejects"


def test_the_committed_schema_is_the_generated_one() -> None:
    committed = (FOLDER / rr.SCHEMA_FILE).read_text()
    assert committed == rr.schema_text(), "write it again: python blueprints/contracts/emr_reconciliation_request.py"
    assert SCHEMA["$id"].endswith(f":{rr.SCHEMA_VERSION}")
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


# One operation of each kind with every optional field left out, on the tables of base().
MINIMAL_OPERATIONS = {
    "vlookup": {"with": "bank", "on": ["txn_id"], "columns": ["bank_amount"]},
    "join": {"with": "bank", "on": ["txn_id"]},
    "pivot": {"index": ["account"], "column": "status", "values": ["open"], "value": "amount"},
    "unpivot": {"ids": [], "columns": ["amount"]},
    "filter": {"condition": "amount > 0"},
    "derive": {"column": "net", "expression": "amount - 1"},
    "rename": {"columns": {"amount": "total"}},
    "select": {"columns": ["amount"]},
    "drop": {"columns": ["amount"]},
    "cast": {"columns": {"amount": "double"}},
    "sort": {"by": [{"column": "amount"}]},
    "deduplicate": {},
    "aggregate": {"aggregations": [{"function": "count", "as": "n"}]},
    "union": {"with": "bank"},
    "fill_nulls": {"values": {"amount": 0}},
}


def _defaults(properties: dict[str, Any]) -> dict[str, Any]:
    return {name: schema["default"] for name, schema in properties.items() if "default" in schema}


@pytest.mark.parametrize("op", list(rr.OPERATION_FIELDS))
def test_the_schemas_defaults_are_what_validate_request_fills_in(op: str) -> None:
    request = mutated(_set(["operations"], [{"op": op, "input": "ledger", **MINIMAL_OPERATIONS[op]}]))
    VALIDATOR.validate(request)
    (normalized,) = rr.validate_request(request)["operations"]
    defaults = _defaults(SCHEMA["$defs"][f"op_{op}"]["properties"])
    assert {name: normalized[name] for name in defaults} == defaults
    if op == "sort":
        sort_key = SCHEMA["$defs"]["op_sort"]["properties"]["by"]["items"]["oneOf"][1]
        assert normalized["by"][0]["order"] == sort_key["properties"]["order"]["default"]


def test_the_schemas_option_and_output_defaults_are_what_validate_request_fills_in() -> None:
    normalized = rr.validate_request(mutated(_set(["inputs", "ledger", "options"], {})))
    read = SCHEMA["$defs"]["input"]["then"]["properties"]["options"]["properties"]
    assert _defaults(read) == {k: v for k, v in normalized["inputs"]["ledger"]["options"].items() if k != "schema"}
    write = SCHEMA["$defs"]["output"]["then"]["properties"]["options"]["properties"]
    assert _defaults(write) == normalized["output"]["options"]
    output = _defaults(SCHEMA["$defs"]["output"]["properties"])
    # The normalized output has its per-request prefix added to the uri, and says so with per_request_prefix false.
    assert output.pop("per_request_prefix") is True
    assert normalized["output"]["uri"].endswith(f"/{normalized['request_id']}/")
    assert {name: normalized["output"][name] for name in output} == output


@pytest.mark.parametrize("document", ACCEPTED, ids=range(len(ACCEPTED)))
def test_a_normalized_request_validates_to_itself_and_against_the_schema(document: dict[str, Any]) -> None:
    # The step submitter stores the normalized request; the Spark job validates that copy again.
    normalized = rr.validate_request(document)
    stored = json.loads(json.dumps(normalized))
    VALIDATOR.validate(stored)
    assert rr.validate_request(stored) == normalized


def test_null_stands_for_absent_only_where_a_field_is_optional() -> None:
    rejects(mutated(_set(["operations", 0, "columns"], None)), r"^operations\[0\].columns: got null; accepted: a list")
    rejects(mutated(_set(["operations", 0, "input"], None)), r"^operations\[0\].input: required on the first operation")


# --- output safety: what a request may write -----------------------------------------------------------------------


def test_the_output_goes_under_a_per_request_prefix_unless_the_request_opts_out() -> None:
    assert rr.validate_request(base())["output"]["uri"] == "s3://finance-results/reconciliation/recon-2026-11-001/"
    exact = mutated(
        lambda r: r["output"].update(uri="s3://finance-results/reconciliation/run-1", per_request_prefix=False)
    )
    assert rr.validate_request(exact)["output"]["uri"] == "s3://finance-results/reconciliation/run-1"


def test_the_safe_mode_is_the_default_and_overwrite_must_be_asked_for() -> None:
    assert rr.validate_request(base())["output"]["mode"] == "error"
    assert rr.validate_request(mutated(_set(["output", "mode"], "overwrite")))["output"]["mode"] == "overwrite"


@pytest.mark.parametrize(
    ("change", "location"),
    [
        # A sibling whose name starts like an input's is apart from it: paths are compared segment by segment.
        (_set(["output", "uri"], "s3://finance-data/ledger-out/"), "s3://finance-data/ledger-out/recon-2026-11-001/"),
        (
            lambda r: r["output"].update(uri="s3://finance-data/ledger/2026-1", per_request_prefix=False),
            "s3://finance-data/ledger/2026-1",
        ),
        (
            lambda r: r["inputs"]["ledger"].update(uri="s3://finance-data/ledger/*/"),
            "s3://finance-results/reconciliation/recon-2026-11-001/",
        ),
        (
            _set(["output", "uri"], "s3://finance-data/bank/2026-12/"),
            "s3://finance-data/bank/2026-12/recon-2026-11-001/",
        ),
    ],
)
def test_outputs_apart_from_every_input_are_accepted(change: Callable[[dict[str, Any]], object], location: str) -> None:
    assert rr.validate_request(mutated(change))["output"]["uri"] == location


DOCS = Path(__file__).resolve().parents[2] / "docs"


def _documented_requests() -> list[tuple[str, str]]:
    found = []
    for page in ("emr-reconciliation.md", "emr-reconciliation-requests.md"):
        for block in re.findall(r"```json\n(.*?)```", (DOCS / page).read_text(), re.DOTALL):
            if '"schema_version"' in block:
                found.append((page, block.replace("<DataBucket>", "data-bucket")))
    return found


@pytest.mark.parametrize(("page", "block"), _documented_requests(), ids=lambda value: str(value)[:30])
def test_the_documented_requests_are_valid_and_write_under_their_own_prefix(page: str, block: str) -> None:
    request = rr.validate_request(block)
    output = request["output"]
    assert output["uri"].endswith(f"/{request['request_id']}/"), page
    assert output["mode"] == "error"


def test_the_docs_show_requests() -> None:
    assert len(_documented_requests()) >= 2
