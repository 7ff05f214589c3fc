"""Spark entry point of the reconciliation service: one request in, one dataset out.

    spark-submit --py-files s3://.../emr_reconciliation_request.zip s3://.../reconcile.py --request s3://.../request.json

The request is read through Spark (so ``s3://`` goes through EMRFS on EMR), checked with the same contract module
as the step submitter, and turned into ONE DataFrame plan for the whole operation list, built from Spark's
built-in functions only. Checks that need the data (unknown column, type mismatch, missing input) raise
``InvalidRequest`` naming the operation index, like the contract's own checks. Exit status: 0 on success,
2 for an invalid request (the message is the last line on stderr), anything else for a platform fault.

With ``--results URI`` (the step submitter passes ``s3://<control bucket>/results/<request id>.json``) the job
writes its outcome there as JSON before it exits: ``SUCCEEDED`` with the output location and row count,
``INVALID_REQUEST`` with the message naming the field or operation, or ``FAILED`` (a platform fault) with the
error. In cluster mode the driver's stderr is a YARN container log, so this object is how a requester learns why.

The contract is the top-level module ``emr_reconciliation_request``: the construct ships it as the step's
``--py-files``; a local run passes ``--py-files blueprints/contracts/emr_reconciliation_request.py`` the same way.

Runs on EMR's PySpark interpreter, Python 3.9 (``tools/emr_runtime_gate.py`` keeps the syntax within it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, Optional

import emr_reconciliation_request as contract
from emr_reconciliation_request import InvalidRequest
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Spark settings the plan's semantics rely on (null on a bad cast or a division by zero, as a spreadsheet shows a
# blank rather than aborting a 100 GB job), set on the session so a cluster default cannot change results.
SESSION_CONF = {"spark.sql.ansi.enabled": "false", "spark.sql.caseSensitive": "true"}


def _reason(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].rstrip(";") if lines else type(error).__name__


# --- types -------------------------------------------------------------------------------------------------------


def category(data_type: T.DataType) -> str:
    """The coarse type the contract reasons about: number, string, boolean, date, timestamp, null or other."""
    if isinstance(data_type, T.NumericType):
        return "number"
    if isinstance(data_type, T.StringType):
        return "string"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, T.DateType):
        return "date"
    if isinstance(data_type, (T.TimestampType, T.TimestampNTZType)):
        return "timestamp"
    if isinstance(data_type, T.NullType):
        return "null"
    return "other"


def literal_category(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _compatible(left: str, right: str) -> bool:
    return left == right or "null" in (left, right)


def spark_type(name: str) -> str:
    """A contract type name as a Spark SQL type."""
    return {"integer": "int", "long": "bigint"}.get(name, name)


def col(name: str) -> Column:
    # Column names never contain backticks (the contract forbids them), so quoting is exact.
    return F.col(f"`{name}`")


def _types(df: DataFrame) -> dict[str, str]:
    return {field.name: category(field.dataType) for field in df.schema.fields}


def _spark_types(df: DataFrame) -> dict[str, T.DataType]:
    return {field.name: field.dataType for field in df.schema.fields}


def _require(df: DataFrame, names: Sequence[str], path: str, table: str = "the table") -> None:
    for name in names:
        if name not in df.columns:
            raise InvalidRequest(path, f"unknown column {name!r} in {table}", ", ".join(df.columns))


def _pairs(left: Sequence[str], right: Sequence[str]) -> list[tuple[str, str]]:
    """``zip(left, right, strict=True)`` for Python 3.9, EMR's PySpark interpreter (``strict`` is 3.10+)."""
    if len(left) != len(right):
        raise ValueError(f"{len(left)} names paired with {len(right)}")
    return list(zip(left, right))


def _no_clash(existing: Sequence[str], added: Sequence[str], path: str) -> None:
    for name in added:
        if name in existing:
            raise InvalidRequest(path, f"column {name!r} already exists", "rename one of them first (op 'rename')")


# --- expressions -------------------------------------------------------------------------------------------------


class ExpressionCompiler:
    """Turns a parsed expression tree into a Spark Column, checking column names and types on the way."""

    def __init__(self, types: dict[str, str], path: str) -> None:
        self.types = types
        self.path = path

    def mismatch(self, what: str, needed: str, got: str) -> ValueError:
        return InvalidRequest(self.path, f"type mismatch: {what} needs {needed}, got {got}", needed)

    def need(self, what: str, found: str, *allowed: str) -> None:
        if found not in (*allowed, "null"):
            raise self.mismatch(what, " or ".join(allowed), found)

    def compile(self, node: tuple[Any, ...]) -> tuple[Column, str]:
        kind = node[0]
        if kind == "col":
            name = node[1]
            if name not in self.types:
                raise InvalidRequest(self.path, f"unknown column {name!r}", ", ".join(self.types))
            return col(name), self.types[name]
        if kind == "lit":
            return F.lit(node[1]), literal_category(node[1])
        if kind == "neg":
            value, found = self.compile(node[1])
            self.need("'-'", found, "number")
            return -value, "number"
        if kind == "not":
            value, found = self.compile(node[1])
            self.need("'not'", found, "boolean")
            return ~value, "boolean"
        if kind == "isnull":
            value, _ = self.compile(node[1])
            return (value.isNotNull() if node[2] else value.isNull()), "boolean"
        if kind == "bin":
            return self._binary(node[1], node[2], node[3])
        return self._call(node[1], node[2])

    def _binary(self, op: str, left_node: tuple[Any, ...], right_node: tuple[Any, ...]) -> tuple[Column, str]:
        left, lt = self.compile(left_node)
        right, rt = self.compile(right_node)
        if op in ("and", "or"):
            self.need(f"'{op}'", lt, "boolean")
            self.need(f"'{op}'", rt, "boolean")
            return (left & right if op == "and" else left | right), "boolean"
        if op in ("+", "-", "*", "/", "%"):
            self.need(f"'{op}'", lt, "number")
            self.need(f"'{op}'", rt, "number")
            arithmetic: dict[str, Callable[[Column, Column], Column]] = {
                "+": lambda a, b: a + b,
                "-": lambda a, b: a - b,
                "*": lambda a, b: a * b,
                "/": lambda a, b: a / b,
                "%": lambda a, b: a % b,
            }
            return arithmetic[op](left, right), "number"
        # A date or timestamp may be compared with a string literal such as '2024-01-31'.
        dated = {lt, rt} <= {"date", "timestamp", "string", "null"} and (
            (lt in ("date", "timestamp") and right_node[0] == "lit")
            or (rt in ("date", "timestamp") and left_node[0] == "lit")
        )
        if not (_compatible(lt, rt) or dated or {lt, rt} == {"date", "timestamp"}):
            raise self.mismatch(f"'{op}'", f"two values of the same type ({lt} on the left)", rt)
        comparison: dict[str, Callable[[Column, Column], Column]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return comparison[op](left, right), "boolean"

    def _call(self, name: str, arg_nodes: list[tuple[Any, ...]]) -> tuple[Column, str]:
        args = [self.compile(arg) for arg in arg_nodes]
        values = [value for value, _ in args]
        found = [kind for _, kind in args]
        what = f"{name}()"
        if name in ("round", "abs"):
            self.need(what, found[0], "number")
            if name == "abs":
                return F.abs(values[0]), "number"
            return F.round(values[0], arg_nodes[1][1] if len(arg_nodes) == 2 else 0), "number"
        if name == "if":
            self.need(what + " condition", found[0], "boolean")
            if not _compatible(found[1], found[2]):
                raise self.mismatch(what, f"two results of the same type ({found[1]} first)", found[2])
            kind = found[1] if found[1] != "null" else found[2]
            return F.when(values[0], values[1]).otherwise(values[2]), kind
        if name == "coalesce":
            kinds = {kind for kind in found if kind != "null"}
            if len(kinds) > 1:
                raise self.mismatch(what, "values of one type", ", ".join(sorted(kinds)))
            return F.coalesce(*values), (kinds.pop() if kinds else "null")
        if name in ("upper", "lower", "trim", "length"):
            self.need(what, found[0], "string")
            function = {"upper": F.upper, "lower": F.lower, "trim": F.trim, "length": F.length}[name]
            return function(values[0]), ("number" if name == "length" else "string")
        if name == "concat":
            for kind in found:
                if kind == "other":
                    raise self.mismatch(what, "plain values", kind)
            # Like a spreadsheet's CONCAT, a blank (null) part adds nothing rather than blanking the result.
            return F.concat_ws("", *[value.cast("string") for value in values]), "string"
        if name == "substring":
            self.need(what, found[0], "string")
            self.need(what + " position and length", found[1], "number")
            self.need(what + " position and length", found[2], "number")
            return values[0].substr(values[1].cast("int"), values[2].cast("int")), "string"
        if name == "replace":
            for kind in found:
                self.need(what, kind, "string")
            return F.replace(values[0], values[1], values[2]), "string"
        if name == "to_date":
            self.need(what, found[0], "string", "date", "timestamp")
            if len(arg_nodes) == 2:
                return F.to_date(values[0], arg_nodes[1][1]), "date"
            return F.to_date(values[0]), "date"
        if name in ("year", "month", "day"):
            self.need(what, found[0], "date", "timestamp")
            function = {"year": F.year, "month": F.month, "day": F.dayofmonth}[name]
            return function(values[0]), "number"
        if name == "date_add":
            self.need(what, found[0], "date", "timestamp")
            self.need(what + " days", found[1], "number")
            return F.date_add(values[0], values[1].cast("int")), "date"
        # datediff
        self.need(what, found[0], "date", "timestamp")
        self.need(what, found[1], "date", "timestamp")
        return F.datediff(values[0], values[1]), "number"


def compile_expression(df: DataFrame, text: str, path: str) -> tuple[Column, str]:
    return ExpressionCompiler(_types(df), path).compile(contract.parse_expression(text, path))


# --- operations ---------------------------------------------------------------------------------------------------


def _check_literal(value: object, column_type: str, path: str, column: str) -> None:
    found = literal_category(value)
    if found == "null" or found == column_type:
        return
    if column_type in ("date", "timestamp") and found == "string":
        return
    raise InvalidRequest(path, f"type mismatch: column {column!r} is {column_type}, got a {found}", column_type)


def _check_keys(df: DataFrame, other: DataFrame, on: list[str], with_on: list[str], path: str) -> None:
    left, right = _types(df), _types(other)
    for a, b in _pairs(on, with_on):
        if not _compatible(left[a], right[b]):
            raise InvalidRequest(path, f"type mismatch: key {a!r} is {left[a]} but {b!r} is {right[b]}", left[a])


def _vlookup(df: DataFrame, other: DataFrame, op: dict[str, Any], path: str) -> DataFrame:
    on, with_on, picked = op["on"], op["with_on"], op["columns"]
    _require(df, on, f"{path}.on")
    _require(other, with_on, f"{path}.with_on", f"table {op['with']!r}")
    _require(other, picked, f"{path}.columns", f"table {op['with']!r}")
    _no_clash(df.columns, picked, f"{path}.columns")
    _check_keys(df, other, on, with_on, path)
    other_types = _types(other)
    for name, value in op["default"].items():
        _check_literal(value, other_types[name], f"{path}.default.{name}", name)
    keys = [f"__rk{i}" for i in range(len(with_on))]
    values = [f"__rv{i}" for i in range(len(picked))]
    # One row per key, like a spreadsheet lookup: the smallest picked values (compared in order) win, so the
    # result does not depend on partitioning when the lookup table repeats a key.
    lookup = (
        other.select(*[col(n).alias(k) for n, k in _pairs(with_on, keys)], *[col(n) for n in picked])
        .groupBy(*keys)
        .agg(F.min(F.struct(*[col(n).alias(v) for n, v in _pairs(picked, values)])).alias("__rmin"))
        .select(*keys, *[F.col(f"__rmin.{v}").alias(v) for v in values], F.lit(True).alias("__rhit"))
    )
    condition = [col(a) == F.col(k) for a, k in _pairs(on, keys)]
    joined = df.join(lookup, on=condition, how="left")
    other_spark = _spark_types(other)
    picks = []
    for name, value_col in _pairs(picked, values):
        column = F.col(value_col)
        if name in op["default"]:
            default = F.lit(op["default"][name]).cast(other_spark[name])
            column = F.when(F.col("__rhit").isNull(), default).otherwise(column)
        picks.append(column.alias(name))
    return joined.select(*[col(n) for n in df.columns], *picks)


def _join(df: DataFrame, other: DataFrame, op: dict[str, Any], path: str) -> DataFrame:
    on, with_on = op["on"], op["with_on"]
    how = {"full": "full_outer"}.get(op["how"], op["how"])
    _require(df, on, f"{path}.on")
    _require(other, with_on, f"{path}.with_on", f"table {op['with']!r}")
    _check_keys(df, other, on, with_on, path)
    if on == with_on:
        _no_clash([c for c in df.columns if c not in on], [c for c in other.columns if c not in on], f"{path}.with")
        return df.join(other, on=list(on), how=how)
    _no_clash(df.columns, other.columns, f"{path}.with")
    condition = [df[f"`{a}`"] == other[f"`{b}`"] for a, b in _pairs(on, with_on)]
    return df.join(other, on=condition, how=how)


AGGREGATE_FUNCTIONS: dict[str, Callable[[Column], Column]] = {
    "sum": F.sum,
    "count": F.count,
    "min": F.min,
    "max": F.max,
    "avg": F.avg,
}


def _aggregate_column(function: str, column: Optional[str], types: dict[str, str], path: str) -> Column:
    if column is None:
        return F.count(F.lit(1))
    if function in ("sum", "avg") and types[column] not in ("number", "null"):
        raise InvalidRequest(
            path, f"type mismatch: {function} needs a number column, {column!r} is {types[column]}", "number"
        )
    return AGGREGATE_FUNCTIONS[function](col(column))


def _pivot(df: DataFrame, op: dict[str, Any], path: str) -> DataFrame:
    _require(df, [*op["index"], op["column"], op["value"]], path)
    types = _types(df)
    for i, value in enumerate(op["values"]):
        _check_literal(value, types[op["column"]], f"{path}.values[{i}]", op["column"])
    produced = [str(value) for value in op["values"]]
    _no_clash(op["index"], produced, f"{path}.values")
    aggregated = _aggregate_column(op["agg"], op["value"], types, f"{path}.value")
    return df.groupBy(*[col(n) for n in op["index"]]).pivot(op["column"], op["values"]).agg(aggregated)


def _unpivot(df: DataFrame, op: dict[str, Any], path: str) -> DataFrame:
    _require(df, op["ids"], f"{path}.ids")
    _require(df, op["columns"], f"{path}.columns")
    _no_clash(op["ids"], [op["names_to"], op["values_to"]], path)
    types = _types(df)
    kinds = {types[name] for name in op["columns"]} - {"null"}
    if len(kinds) > 1:
        raise InvalidRequest(
            f"{path}.columns", f"type mismatch: the columns mix {', '.join(sorted(kinds))}", "columns of one type"
        )
    return df.unpivot([col(n) for n in op["ids"]], [col(n) for n in op["columns"]], op["names_to"], op["values_to"])


def _deduplicate(df: DataFrame, op: dict[str, Any], path: str) -> DataFrame:
    subset = op["columns"]
    if subset is None:
        return df.dropDuplicates()
    _require(df, subset, f"{path}.columns")
    rest = [c for c in df.columns if c not in subset]
    if not rest:
        return df.dropDuplicates()
    # One row per key, chosen deterministically: the one whose other columns are smallest, compared in order.
    kept = df.groupBy(*[col(n) for n in subset]).agg(
        F.min(F.struct(*[col(n).alias(f"__d{i}") for i, n in enumerate(rest)])).alias("__dmin")
    )
    names = {n: col(n) for n in subset} | {n: F.col(f"__dmin.__d{i}").alias(n) for i, n in enumerate(rest)}
    return kept.select(*[names[n] for n in df.columns])


def _union(df: DataFrame, others: list[tuple[str, DataFrame]], op: dict[str, Any], path: str) -> DataFrame:
    result = df
    for i, (name, other) in enumerate(others):
        where = f"{path}.with[{i}]"
        if not op["allow_missing_columns"] and set(other.columns) != set(result.columns):
            missing = sorted(set(result.columns) ^ set(other.columns))
            raise InvalidRequest(
                where, f"table {name!r} differs in columns {missing}", "the same columns, or allow_missing_columns"
            )
        mine, theirs = _types(result), _types(other)
        for column in set(mine) & set(theirs):
            if not _compatible(mine[column], theirs[column]):
                raise InvalidRequest(
                    where,
                    f"type mismatch: column {column!r} is {mine[column]} here and {theirs[column]} in {name!r}",
                    mine[column],
                )
        result = result.unionByName(other, allowMissingColumns=op["allow_missing_columns"])
    return result


def apply_operation(df: DataFrame, op: dict[str, Any], path: str, tables: dict[str, DataFrame]) -> DataFrame:
    """One operation of a validated request, applied lazily to ``df``."""
    kind = op["op"]
    if kind == "vlookup":
        return _vlookup(df, tables[op["with"]], op, path)
    if kind == "join":
        return _join(df, tables[op["with"]], op, path)
    if kind == "pivot":
        return _pivot(df, op, path)
    if kind == "unpivot":
        return _unpivot(df, op, path)
    if kind == "filter":
        condition, found = compile_expression(df, op["condition"], f"{path}.condition")
        if found not in ("boolean", "null"):
            raise InvalidRequest(
                f"{path}.condition", f"type mismatch: a condition must be true or false, got {found}", "boolean"
            )
        return df.filter(condition)
    if kind == "derive":
        value, _ = compile_expression(df, op["expression"], f"{path}.expression")
        return df.withColumn(op["column"], value)
    if kind == "rename":
        mapping = op["columns"]
        _require(df, list(mapping), f"{path}.columns")
        renamed = [mapping.get(c, c) for c in df.columns]
        for i, name in enumerate(renamed):
            if name in renamed[:i]:
                raise InvalidRequest(
                    f"{path}.columns", f"column {name!r} would appear twice", "names unique in the table"
                )
        return df.select(*[col(c).alias(mapping.get(c, c)) for c in df.columns])
    if kind == "select":
        _require(df, op["columns"], f"{path}.columns")
        return df.select(*[col(c) for c in op["columns"]])
    if kind == "drop":
        _require(df, op["columns"], f"{path}.columns")
        kept = [c for c in df.columns if c not in op["columns"]]
        if not kept:
            raise InvalidRequest(f"{path}.columns", "drops every column", "leave at least one column")
        return df.select(*[col(c) for c in kept])
    if kind == "cast":
        mapping = op["columns"]
        _require(df, list(mapping), f"{path}.columns")
        return df.select(
            *[col(c).cast(spark_type(mapping[c])).alias(c) if c in mapping else col(c) for c in df.columns]
        )
    if kind == "sort":
        _require(df, [key["column"] for key in op["by"]], f"{path}.by")
        return df.orderBy(
            *[
                col(k["column"]).asc_nulls_first() if k["order"] == "asc" else col(k["column"]).desc_nulls_last()
                for k in op["by"]
            ]
        )
    if kind == "deduplicate":
        return _deduplicate(df, op, path)
    if kind == "aggregate":
        _require(df, op["group_by"], f"{path}.group_by")
        types = _types(df)
        columns = []
        for i, spec in enumerate(op["aggregations"]):
            where = f"{path}.aggregations[{i}].column"
            if spec["column"] is not None:
                _require(df, [spec["column"]], where)
            columns.append(_aggregate_column(spec["function"], spec["column"], types, where).alias(spec["as"]))
        return df.groupBy(*[col(c) for c in op["group_by"]]).agg(*columns)
    if kind == "union":
        return _union(df, [(name, tables[name]) for name in op["with"]], op, path)
    # fill_nulls
    values = op["values"]
    _require(df, list(values), f"{path}.values")
    types, spark_types = _types(df), _spark_types(df)
    for name, value in values.items():
        _check_literal(value, types[name], f"{path}.values.{name}", name)
    return df.select(
        *[
            F.coalesce(col(c), F.lit(values[c]).cast(spark_types[c])).alias(c) if c in values else col(c)
            for c in df.columns
        ]
    )


def build_plan(request: dict[str, Any], frames: dict[str, DataFrame]) -> DataFrame:
    """The whole operation list of a validated request as one lazy DataFrame; nothing runs until it is written."""
    tables = dict(frames)
    for name in request["inputs"]:
        if name not in tables:
            raise InvalidRequest(f"inputs.{name}", "no data was read for this input", ", ".join(tables))
    current: DataFrame | None = None
    for index, op in enumerate(request["operations"]):
        path = f"operations[{index}]"
        source = tables[op["input"]] if op["input"] is not None else current
        if source is None:  # the contract refuses this; a check, not an assert, so that python -O keeps it
            raise InvalidRequest(f"{path}.input", "the first operation must name its input", ", ".join(tables))
        try:
            current = apply_operation(source, op, path, tables)
        except AnalysisException as error:
            reason = _reason(error)
            raise InvalidRequest(
                path,
                f"Spark cannot apply this {op['op']}: {reason}",
                "an operation Spark can apply to these columns and types",
            ) from None
        if op["as"] is not None:
            tables[op["as"]] = current
    if current is None:
        raise InvalidRequest("operations", "the request has no operation", "one operation or more")
    return current


# --- input and output -------------------------------------------------------------------------------------------


def read_request(spark: SparkSession, uri: str) -> str:
    """The request document's text, through Spark's file systems (EMRFS for s3:// on EMR)."""
    try:
        rows = spark.read.text(uri, wholetext=True).collect()
    except AnalysisException as error:
        raise InvalidRequest("request", f"cannot read {uri}: {_reason(error)}") from None
    if not rows:
        raise InvalidRequest("request", f"{uri} is empty", "a JSON object")
    return "".join(row[0] for row in rows)


def _schema_ddl(schema: dict[str, str]) -> str:
    return ", ".join(f"`{name}` {spark_type(kind)}" for name, kind in schema.items())


def read_inputs(spark: SparkSession, request: dict[str, Any]) -> dict[str, DataFrame]:
    frames = {}
    for name, spec in request["inputs"].items():
        reader = spark.read
        if spec["format"] == "csv":
            options = spec["options"]
            reader = reader.options(
                header=str(options["header"]).lower(),
                sep=options["delimiter"],
                quote=options["quote"],
                escape=options["escape"],
                nullValue=options["null_value"],
                dateFormat=options["date_format"],
                timestampFormat=options["timestamp_format"],
                inferSchema=str(options["infer_schema"]).lower(),
            )
            if options["schema"] is not None:
                # Rows that do not fit the declared types fail the job instead of turning into nulls.
                reader = reader.schema(_schema_ddl(options["schema"])).option("mode", "FAILFAST")
        try:
            frames[name] = reader.format(spec["format"]).load(spec["uri"])
        except AnalysisException as error:
            reason = _reason(error)
            raise InvalidRequest(
                f"inputs.{name}.uri", f"cannot read {spec['uri']}: {reason}", "an existing dataset"
            ) from None
    return frames


def write_output(df: DataFrame, output: dict[str, Any]) -> int:
    """Write the plan's result where the request says; returns the number of rows written.

    The count is observed while the rows are written (``Observation``), not by a second pass over the data.
    The mode is the contract's: ``error`` (its default) refuses an existing location, ``overwrite`` replaces it.
    """
    if output["single_file"]:
        df = df.coalesce(1)
    observed = Observation("written")
    df = df.observe(observed, F.count(F.lit(1)).alias("rows"))
    writer = df.write.mode("overwrite" if output["mode"] == "overwrite" else "errorifexists").format(output["format"])
    if output["format"] == "csv":
        writer = writer.options(header=str(output["options"]["header"]).lower(), sep=output["options"]["delimiter"])
    writer.save(output["uri"])
    return int(observed.get["rows"])


def run(spark: SparkSession, request_uri: str, *, uri_schemes: tuple[str, ...] = ("s3",)) -> tuple[dict[str, Any], int]:
    """Read, check, plan and write one request; returns the validated request and the rows written."""
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    request = contract.validate_request(read_request(spark, request_uri), uri_schemes=uri_schemes)
    frames = read_inputs(spark, request)
    rows = write_output(build_plan(request, frames), request["output"])
    return request, rows


# --- the results object ------------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def outcome_of(error: Optional[Exception], request: Optional[dict[str, Any]] = None, rows: int = 0) -> dict[str, Any]:
    """What the results object says about one run: its state, and why when it did not succeed."""
    if error is None:
        if request is None:
            raise ValueError("a successful outcome is reported with the request it ran")
        output = request["output"]
        return {
            "state": "SUCCEEDED",
            "message": f"{rows} rows written to {output['uri']}",
            "output": {"uri": output["uri"], "format": output["format"], "rows": rows},
        }
    if isinstance(error, InvalidRequest):
        return {
            "state": "INVALID_REQUEST",
            "message": str(error),
            "path": error.path,
            "operation_index": error.operation_index,
        }
    return {"state": "FAILED", "message": f"{type(error).__name__}: {_reason(error)}"[:2000]}


def write_results(spark: SparkSession, uri: str, document: dict[str, Any]) -> None:
    """Write ``document`` as JSON to ``uri`` through Hadoop's file systems (EMRFS for s3://, with the cluster's
    encryption), replacing an earlier attempt's object."""
    jvm = spark.sparkContext._jvm
    if jvm is None:
        raise RuntimeError("the Spark context has no JVM gateway (it was stopped); the results cannot be written")
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(json.dumps(document, indent=2, sort_keys=True).encode("utf-8")))
    finally:
        stream.close()


def _record(spark: SparkSession, results: Optional[str], document: dict[str, Any]) -> None:
    if results is None:
        return
    try:
        write_results(spark, results, document)
    except Exception as error:  # the outcome still shows in the exit status and the driver's log
        reason = f"{type(error).__name__}: {_reason(error)}"
        print(f"could not write the results object {results}: {reason}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one reconciliation request on Spark.")
    parser.add_argument(
        "--request", required=True, help="s3:// URI (or, with --allow-local-files, a path) of the request"
    )
    parser.add_argument("--results", help="where to write the outcome as JSON (s3:// URI, or a path in local runs)")
    parser.add_argument(
        "--allow-local-files", action="store_true", help="accept file:// inputs and outputs (local runs and tests)"
    )
    args = parser.parse_args(argv)
    schemes = ("s3", "file") if args.allow_local_files else ("s3",)
    spark = SparkSession.builder.appName("reconciliation").getOrCreate()
    record: dict[str, Any] = {
        "request": args.request,
        "application_id": spark.sparkContext.applicationId,
        "started_at": _now(),
    }
    try:
        try:
            request, rows = run(spark, args.request, uri_schemes=schemes)
        except InvalidRequest as error:
            _record(spark, args.results, {**record, **outcome_of(error), "finished_at": _now()})
            print(f"InvalidRequest: {error}", file=sys.stderr)
            return 2
        except Exception as error:
            _record(spark, args.results, {**record, **outcome_of(error), "finished_at": _now()})
            raise
        _record(
            spark,
            args.results,
            {**record, "request_id": request["request_id"], **outcome_of(None, request, rows), "finished_at": _now()},
        )
    finally:
        spark.stop()
    print(f"request {request['request_id']}: {rows} rows written to {request['output']['uri']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
