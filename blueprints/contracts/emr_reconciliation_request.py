"""The reconciliation request contract, shared by the step submitter and the Spark job.

Standard library only, and one top-level module, ``emr_reconciliation_request``, wherever it runs: the construct
packages it beside the submitter's ``index.py``, which imports it at cold start, and ships it to each step as
``--py-files``, from which the job imports it. Both call :func:`validate_request`, so both reject a bad request
with the same message, of the form ``operations[3].how: got 'outer'; accepted: inner, left, right, full``.

Checks that need the data (a column that does not exist, a type mismatch) happen in the Spark job, which raises
:class:`InvalidRequest` with the same message format. The JSON Schema ``emr_reconciliation_request.schema.json``
next to this module, for editors and other tooling, is generated from it (:func:`json_schema`, at the end).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Optional

SCHEMA_VERSION = "1.0"
ACCEPTED_SCHEMA_VERSIONS = (SCHEMA_VERSION,)

MAX_OPERATIONS = 200
MAX_INPUTS = 20
MAX_EXPRESSION_LENGTH = 4096
MAX_EXPRESSION_DEPTH = 64

REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
COLUMN_NAME = re.compile(r"^[^`\x00-\x1f]{1,255}$")
S3_BUCKET = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
S3_URI = re.compile(rf"^s3://{S3_BUCKET}(/[^\x00-\x1f]*)?$")
FILE_URI = re.compile(r"^file:///[^\x00-\x1f]*$")
DECIMAL_TYPE = re.compile(r"decimal\(([0-9]{1,2}),([0-9]{1,2})\)")

FORMATS = ("csv", "parquet")
JOIN_HOWS = ("inner", "left", "right", "full")
AGGREGATES = ("sum", "count", "min", "max", "avg")
SIMPLE_TYPES = ("string", "integer", "long", "double", "boolean", "date", "timestamp")
#: How the job writes its output: "error" (the default) fails if anything exists there; "overwrite" first deletes
#: everything under the output location, so a request must ask for it by name.
WRITE_MODES = ("error", "overwrite")
#: Characters Hadoop expands in a path (glob patterns); an input may use them, an output may not.
GLOB = r"*?\[\]{}\\"
GLOB_CHARACTERS = re.compile(f"[{GLOB}]")
SORT_ORDERS = ("asc", "desc")

CSV_READ_OPTIONS: dict[str, Any] = {
    "header": True,
    "delimiter": ",",
    "quote": '"',
    "escape": "\\",
    "null_value": "",
    "date_format": "yyyy-MM-dd",
    "timestamp_format": "yyyy-MM-dd'T'HH:mm:ss[.SSS][XXX]",
    "infer_schema": False,
    "schema": None,
}
CSV_WRITE_OPTIONS: dict[str, Any] = {"header": True, "delimiter": ","}
#: CSV options by kind; every other read option but ``schema`` is a string of at most MAX_OPTION_LENGTH characters.
CSV_BOOLEAN_OPTIONS = ("header", "infer_schema")
CSV_CHARACTER_OPTIONS = ("delimiter", "quote", "escape")
MAX_OPTION_LENGTH = 64
MAX_PIVOT_VALUES = 1000

# Scalar functions an expression may call: name -> (fewest arguments, most arguments or None).
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "round": (1, 2),
    "abs": (1, 1),
    "if": (3, 3),
    "coalesce": (1, None),
    "upper": (1, 1),
    "lower": (1, 1),
    "trim": (1, 1),
    "length": (1, 1),
    "concat": (1, None),
    "substring": (3, 3),
    "replace": (3, 3),
    "to_date": (1, 2),
    "year": (1, 1),
    "month": (1, 1),
    "day": (1, 1),
    "date_add": (2, 2),
    "datediff": (2, 2),
}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")

OPERATION_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # op -> (required fields, optional fields); "op", "input" and "as" are allowed on every operation.
    "vlookup": (frozenset({"with", "on", "columns"}), frozenset({"with_on", "default"})),
    "join": (frozenset({"with", "on"}), frozenset({"with_on", "how"})),
    "pivot": (frozenset({"index", "column", "values", "value"}), frozenset({"agg"})),
    "unpivot": (frozenset({"ids", "columns"}), frozenset({"names_to", "values_to"})),
    "filter": (frozenset({"condition"}), frozenset()),
    "derive": (frozenset({"column", "expression"}), frozenset()),
    "rename": (frozenset({"columns"}), frozenset()),
    "select": (frozenset({"columns"}), frozenset()),
    "drop": (frozenset({"columns"}), frozenset()),
    "cast": (frozenset({"columns"}), frozenset()),
    "sort": (frozenset({"by"}), frozenset()),
    "deduplicate": (frozenset(), frozenset({"columns"})),
    "aggregate": (frozenset({"aggregations"}), frozenset({"group_by"})),
    "union": (frozenset({"with"}), frozenset({"allow_missing_columns"})),
    "fill_nulls": (frozenset({"values"}), frozenset()),
}
COMMON_FIELDS = frozenset({"op", "input", "as"})


class InvalidRequest(ValueError):
    """A request that breaks the contract. The message names where, what was found and what is accepted."""

    def __init__(self, path: str, problem: str, accepted: Optional[str] = None) -> None:
        self.path = path
        self.problem = problem
        self.accepted = accepted
        match = re.match(r"^operations\[(\d+)\]", path)
        self.operation_index: int | None = int(match.group(1)) if match else None
        message = f"{path}: {problem}"
        if accepted:
            message += f"; accepted: {accepted}"
        super().__init__(message)


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# --- expressions -------------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<quoted>`[^`]+`)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|<>|==|[-+*/%(),<>=])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null", "is"}

Node = tuple[Any, ...]
_GRAMMAR = "an expression such as round(amount * 1.2, 2) or status = 'open' and amount > 0"


def _tokenize(text: str, path: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            start = len(text) - len(text[position:].lstrip())
            raise InvalidRequest(
                path,
                f"unexpected character {text[start]!r} at position {start}",
                "column names, `quoted column names`, numbers, 'strings', + - * / %, comparisons, "
                "and/or/not, is [not] null, parentheses and functions " + ", ".join(FUNCTIONS),
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        tokens.append((kind, value, match.start(kind)))
        position = match.end()
    tokens.append(("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the expression grammar; produces a small tuple tree, never code."""

    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.tokens = _tokenize(text, path)
        self.index = 0
        self.depth = 0

    def _peek(self) -> tuple[str, str, int]:
        return self.tokens[self.index]

    def _word(self) -> str:
        kind, value, _ = self._peek()
        return value.lower() if kind == "name" else ""

    def _take(self) -> tuple[str, str, int]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _fail(self, expected: str) -> InvalidRequest:
        kind, value, position = self._peek()
        found = "the end of the expression" if kind == "end" else f"{value!r} at position {position}"
        return InvalidRequest(self.path, f"expected {expected}, found {found}", _GRAMMAR)

    def _expect_op(self, symbol: str) -> None:
        kind, value, _ = self._peek()
        if kind != "op" or value != symbol:
            raise self._fail(repr(symbol))
        self._take()

    def parse(self) -> Node:
        node = self._or()
        if self._peek()[0] != "end":
            raise self._fail("an operator or the end of the expression")
        return node

    def _nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise InvalidRequest(self.path, "nested too deeply", f"at most {MAX_EXPRESSION_DEPTH} levels")

    def _or(self) -> Node:
        node = self._and()
        while self._word() == "or":
            self._take()
            node = ("bin", "or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._word() == "and":
            self._take()
            node = ("bin", "and", node, self._not())
        return node

    def _not(self) -> Node:
        if self._word() == "not":
            self._take()
            self._nested()
            node = ("not", self._not())
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Node:
        node = self._additive()
        kind, value, _ = self._peek()
        if kind == "op" and value in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            self._take()
            symbol = {"==": "=", "<>": "!="}.get(value, value)
            return ("bin", symbol, node, self._additive())
        if self._word() == "is":
            self._take()
            negate = False
            if self._word() == "not":
                self._take()
                negate = True
            if self._word() != "null":
                raise self._fail("'null' after 'is'")
            self._take()
            return ("isnull", node, negate)
        return node

    def _additive(self) -> Node:
        node = self._multiplicative()
        while self._peek()[0] == "op" and self._peek()[1] in ("+", "-"):
            symbol = self._take()[1]
            node = ("bin", symbol, node, self._multiplicative())
        return node

    def _multiplicative(self) -> Node:
        node = self._unary()
        while self._peek()[0] == "op" and self._peek()[1] in ("*", "/", "%"):
            symbol = self._take()[1]
            node = ("bin", symbol, node, self._unary())
        return node

    def _unary(self) -> Node:
        kind, value, _ = self._peek()
        if kind == "op" and value in ("-", "+"):
            self._take()
            self._nested()
            operand = self._unary()
            self.depth -= 1
            if value == "+":
                return operand
            if operand[0] == "lit" and isinstance(operand[1], (int, float)) and not isinstance(operand[1], bool):
                return ("lit", -operand[1])
            return ("neg", operand)
        return self._primary()

    def _primary(self) -> Node:
        kind, value, _ = self._peek()
        if kind == "number":
            self._take()
            is_float = any(c in value for c in ".eE")
            return ("lit", float(value) if is_float else int(value))
        if kind == "string":
            self._take()
            quote = value[0]
            return ("lit", value[1:-1].replace(quote * 2, quote))
        if kind == "quoted":
            self._take()
            return ("col", value[1:-1])
        if kind == "op" and value == "(":
            self._take()
            self._nested()
            node = self._or()
            self.depth -= 1
            self._expect_op(")")
            return node
        if kind == "name":
            word = value.lower()
            if word in ("true", "false"):
                self._take()
                return ("lit", word == "true")
            if word == "null":
                self._take()
                return ("lit", None)
            if word in _KEYWORDS:
                raise self._fail("a value")
            self._take()
            if self._peek()[0] == "op" and self._peek()[1] == "(":
                return self._call(value)
            return ("col", value)
        raise self._fail("a value")

    def _call(self, name: str) -> Node:
        function = name.lower()
        if function not in FUNCTIONS:
            raise InvalidRequest(self.path, f"unknown function {name!r}", ", ".join(FUNCTIONS))
        self._take()  # "("
        self._nested()
        args: list[Node] = []
        if not (self._peek()[0] == "op" and self._peek()[1] == ")"):
            args.append(self._or())
            while self._peek()[0] == "op" and self._peek()[1] == ",":
                self._take()
                args.append(self._or())
        self._expect_op(")")
        self.depth -= 1
        fewest, most = FUNCTIONS[function]
        if len(args) < fewest or (most is not None and len(args) > most):
            wanted = f"{fewest}" if fewest == most else f"{fewest} or more" if most is None else f"{fewest} to {most}"
            raise InvalidRequest(
                self.path, f"{function}() takes {wanted} arguments, got {len(args)}", f"{wanted} arguments"
            )
        if function == "round" and len(args) == 2 and not (args[1][0] == "lit" and type(args[1][1]) is int):
            raise InvalidRequest(self.path, "round() digits must be a whole number literal", "e.g. round(x, 2)")
        if function == "to_date" and len(args) == 2 and not (args[1][0] == "lit" and isinstance(args[1][1], str)):
            raise InvalidRequest(
                self.path, "to_date() format must be a string literal", "e.g. to_date(d, 'dd/MM/yyyy')"
            )
        return ("call", function, args)


def parse_expression(text: object, path: str = "expression") -> Node:
    """Parse an expression into a tuple tree: ``("col", name)``, ``("lit", value)``, ``("neg", x)``,
    ``("not", x)``, ``("bin", op, a, b)``, ``("isnull", x, negate)``, ``("call", name, [args])``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequest(path, f"got {_show(text)}", "a non-empty expression string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidRequest(path, f"expression is {len(text)} characters long", f"at most {MAX_EXPRESSION_LENGTH}")
    return _Parser(text, path).parse()


def expression_columns(node: Node) -> set[str]:
    """The column names an expression tree refers to."""
    if node[0] == "col":
        return {node[1]}
    found: set[str] = set()
    for part in node[1:]:
        if isinstance(part, tuple):
            found |= expression_columns(part)
        elif isinstance(part, list):
            for item in part:
                found |= expression_columns(item)
    return found


# --- field checks --------------------------------------------------------------------------------------------------


def _object(value: object, path: str, required: frozenset[str], optional: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(path or "request", f"got {_type_name(value)}", "an object")
    allowed = required | optional
    for key in value:
        if key not in allowed:
            raise InvalidRequest(f"{path}.{key}" if path else key, "unknown field", ", ".join(sorted(allowed)))
    for key in sorted(required):
        if key not in value:
            raise InvalidRequest(f"{path}.{key}" if path else key, "required field is missing")
    return value


def _string(value: object, path: str, pattern: re.Pattern[str], accepted: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidRequest(path, f"got {_show(value)}", accepted)
    return value


def _choice(value: object, path: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidRequest(path, f"got {_show(value)}", ", ".join(choices))
    return value


def _boolean(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(path, f"got {_show(value)}", "true or false")
    return value


def _char(value: object, path: str) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise InvalidRequest(path, f"got {_show(value)}", "a single character")
    return value


_COLUMN_ACCEPTED = "a column name of 1-255 characters without backticks or control characters"


def _column(value: object, path: str) -> str:
    return _string(value, path, COLUMN_NAME, _COLUMN_ACCEPTED)


def _columns(value: object, path: str, *, allow_empty: bool = False) -> list[str]:
    if not isinstance(value, list) or (not value and not allow_empty):
        raise InvalidRequest(
            path, f"got {_show(value)}", "a list of column names" + ("" if allow_empty else ", not empty")
        )
    names = [_column(item, f"{path}[{i}]") for i, item in enumerate(value)]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InvalidRequest(f"{path}[{i}]", f"column {name!r} is listed twice", "each column once")
    return names


def _column_map(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise InvalidRequest(path, f"got {_show(value)}", "an object with at least one column name as key")
    for key in value:
        _column(key, f"{path}.{key}")
    return value


def _scalar(value: object, path: str) -> str | int | float | bool | None:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise InvalidRequest(path, f"got {_type_name(value)}", "a string, number, boolean or null")


def _data_type(value: object, path: str) -> str:
    accepted = ", ".join(SIMPLE_TYPES) + ", decimal(p,s) with 1 <= p <= 38 and s <= p"
    if isinstance(value, str):
        if value in SIMPLE_TYPES:
            return value
        match = DECIMAL_TYPE.fullmatch(value)
        if match and 1 <= int(match.group(1)) <= 38 and int(match.group(2)) <= int(match.group(1)):
            return value
    raise InvalidRequest(path, f"got {_show(value)}", accepted)


def _uri(value: object, path: str, schemes: tuple[str, ...]) -> str:
    accepted = " or ".join(
        "s3://bucket/key" if scheme == "s3" else "file:///absolute/path"
        for scheme in schemes
        if scheme in ("s3", "file")
    )
    if isinstance(value, str) and (
        ("s3" in schemes and S3_URI.fullmatch(value)) or ("file" in schemes and FILE_URI.fullmatch(value))
    ):
        # Hadoop resolves '.' and '..' and drops empty segments, so such a URI names another place than it reads.
        segments = _key(value).split("/")
        for segment in segments[:-1] if segments[-1] == "" else segments:
            if segment in ("", ".", ".."):
                raise InvalidRequest(path, f"got {_show(value)}", "a URI without empty, '.' or '..' path segments")
        return value
    raise InvalidRequest(path, f"got {_show(value)}", accepted)


def _key(uri: str) -> str:
    """The path part of an ``s3://bucket/key`` or ``file:///path`` URI, without its leading slash."""
    rest = uri[len("file:///") :] if uri.startswith("file:///") else uri[len("s3://") :].partition("/")[2]
    return rest


def _overlap(output: str, name: str, uri: str) -> str | None:
    """How the output location collides with input ``name`` at ``uri``, or None when they are apart.

    Locations are compared as Hadoop paths: an input is a file, or a folder and everything under it. For an input
    that is a glob pattern only its literal beginning is known, so any output that could meet a match is refused.
    """
    out = output.rstrip("/")
    stem = GLOB_CHARACTERS.split(uri, 1)[0]
    if stem != uri:
        if out.startswith(stem) or stem.startswith(out + "/"):
            return f"may meet the matches of inputs.{name}.uri {uri!r} (a pattern)"
        return None
    data = uri.rstrip("/")
    if out == data:
        return f"is inputs.{name}.uri {uri!r}"
    if out.startswith(data + "/"):
        return f"lies inside inputs.{name}.uri {uri!r}"
    if data.startswith(out + "/"):
        return f"contains inputs.{name}.uri {uri!r}"
    return None


# --- request -------------------------------------------------------------------------------------------------------


def _input(value: object, path: str, schemes: tuple[str, ...]) -> dict[str, Any]:
    spec = _object(value, path, frozenset({"uri", "format"}), frozenset({"options"}))
    uri = _uri(spec["uri"], f"{path}.uri", schemes)
    fmt = _choice(spec["format"], f"{path}.format", FORMATS)
    raw_options = spec.get("options", {})
    if fmt == "parquet":
        _object(raw_options, f"{path}.options", frozenset(), frozenset())
        return {"uri": uri, "format": fmt, "options": {}}
    _object(raw_options, f"{path}.options", frozenset(), frozenset(CSV_READ_OPTIONS))
    options = dict(CSV_READ_OPTIONS)
    for key, option in raw_options.items():
        where = f"{path}.options.{key}"
        if key == "schema" and option is None:
            continue
        if key in CSV_BOOLEAN_OPTIONS:
            options[key] = _boolean(option, where)
        elif key in CSV_CHARACTER_OPTIONS:
            options[key] = _char(option, where)
        elif key == "schema":
            if not isinstance(option, dict) or not option:
                raise InvalidRequest(
                    where, f"got {_show(option)}", "an object mapping each column, in file order, to a type"
                )
            options[key] = {_column(c, f"{where}.{c}"): _data_type(t, f"{where}.{c}") for c, t in option.items()}
        elif not isinstance(option, str) or len(option) > MAX_OPTION_LENGTH:
            raise InvalidRequest(where, f"got {_show(option)}", f"a string of at most {MAX_OPTION_LENGTH} characters")
        else:
            options[key] = option
    if options["schema"] is not None and options["infer_schema"]:
        raise InvalidRequest(f"{path}.options.infer_schema", "cannot be true with a schema", "schema or infer_schema")
    return {"uri": uri, "format": fmt, "options": options}


def _output(
    value: object, schemes: tuple[str, ...], request_id: str, inputs: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The output, normalized: ``uri`` is where the job writes (the per-request prefix added), and
    ``per_request_prefix`` is then false, so that the normalized request validates to itself."""
    spec = _object(
        value,
        "output",
        frozenset({"uri", "format"}),
        frozenset({"options", "mode", "single_file", "per_request_prefix"}),
    )
    fmt = _choice(spec["format"], "output.format", FORMATS)
    given = _uri(spec["uri"], "output.uri", schemes)
    if not _key(given).strip("/"):
        raise InvalidRequest(
            "output.uri", f"{given!r} is a bucket root", "a prefix of its own in the bucket, e.g. s3://bucket/results/"
        )
    if GLOB_CHARACTERS.search(given):
        raise InvalidRequest("output.uri", f"got {_show(given)}", "a URI without the glob characters * ? [ ] { } \\")
    prefixed = _boolean(spec.get("per_request_prefix", True), "output.per_request_prefix")
    location = given.rstrip("/") + "/" + request_id + "/" if prefixed else given
    for name, spec_in in inputs.items():
        overlap = _overlap(location, name, spec_in["uri"])
        if overlap:
            where = f"{location!r} (with the per-request prefix)" if prefixed else f"{location!r}"
            raise InvalidRequest(
                "output.uri",
                f"{where} {overlap}",
                "an output location apart from every input: not one of them, not inside one, not containing one",
            )
    result: dict[str, Any] = {
        "uri": location,
        "format": fmt,
        "mode": _choice(spec.get("mode", "error"), "output.mode", WRITE_MODES),
        "single_file": _boolean(spec.get("single_file", False), "output.single_file"),
        "per_request_prefix": False,
        "options": {},
    }
    raw_options = spec.get("options", {})
    if fmt == "parquet":
        _object(raw_options, "output.options", frozenset(), frozenset())
        return result
    _object(raw_options, "output.options", frozenset(), frozenset(CSV_WRITE_OPTIONS))
    options = dict(CSV_WRITE_OPTIONS)
    if "header" in raw_options:
        options["header"] = _boolean(raw_options["header"], "output.options.header")
    if "delimiter" in raw_options:
        options["delimiter"] = _char(raw_options["delimiter"], "output.options.delimiter")
    result["options"] = options
    return result


def _table_ref(value: object, path: str, tables: list[str]) -> str:
    if not isinstance(value, str) or value not in tables:
        raise InvalidRequest(path, f"no input or earlier 'as' named {_show(value)}", ", ".join(tables))
    return value


def _operation(value: object, index: int, tables: list[str]) -> dict[str, Any]:
    path = f"operations[{index}]"
    if not isinstance(value, dict):
        raise InvalidRequest(path, f"got {_type_name(value)}", "an object with an 'op' field")
    op = _choice(value.get("op"), f"{path}.op", tuple(OPERATION_FIELDS))
    required, optional = OPERATION_FIELDS[op]
    # A normalized request spells absent optional fields as null, and validates to itself again.
    nullable = {"input", "as", "columns"} if op == "deduplicate" else {"input", "as"}
    value = {key: item for key, item in value.items() if not (item is None and key in nullable)}
    _object(value, path, required, optional | COMMON_FIELDS)
    result: dict[str, Any] = {"op": op}
    if "input" in value:
        result["input"] = _table_ref(value["input"], f"{path}.input", tables)
    elif index == 0:
        raise InvalidRequest(f"{path}.input", "required on the first operation", ", ".join(tables))
    else:
        result["input"] = None  # the result of the previous operation
    if "as" in value:
        name = _string(value["as"], f"{path}.as", TABLE_NAME, "a name of letters, digits and '_', up to 64 characters")
        result["as"] = name
    else:
        result["as"] = None
    result.update(_OPERATION_VALIDATORS[op](value, _Where(path), tables))
    return result


class _Where:
    """Names a field of one operation in an error (``operations[2].on``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, field: str) -> str:
        return f"{self.path}.{field}"


def _lookup_fields(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    """``vlookup`` and ``join``: the other table and the key columns on both sides."""
    result: dict[str, Any] = {
        "with": _table_ref(value["with"], at("with"), tables),
        "on": _columns(value["on"], at("on")),
    }
    with_on = _columns(value["with_on"], at("with_on")) if "with_on" in value else list(result["on"])
    if len(with_on) != len(result["on"]):
        raise InvalidRequest(
            at("with_on"), f"has {len(with_on)} columns for {len(result['on'])} in 'on'", "one per 'on' column"
        )
    result["with_on"] = with_on
    return result


def _join(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    return {**_lookup_fields(value, at, tables), "how": _choice(value.get("how", "inner"), at("how"), JOIN_HOWS)}


def _vlookup(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    result = _lookup_fields(value, at, tables)
    result["columns"] = _columns(value["columns"], at("columns"))
    default = value.get("default", {})
    if not isinstance(default, dict):
        raise InvalidRequest(at("default"), f"got {_type_name(default)}", "an object mapping picked columns to a value")
    for key, item in default.items():
        if key not in result["columns"]:
            raise InvalidRequest(
                f"{at('default')}.{key}", "not one of the picked columns", ", ".join(result["columns"])
            )
        _scalar(item, f"{at('default')}.{key}")
    result["default"] = dict(default)
    return result


def _pivot(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    values = value["values"]
    if not isinstance(values, list) or not values or len(values) > MAX_PIVOT_VALUES:
        raise InvalidRequest(at("values"), f"got {_show(values)}", f"a list of 1 to {MAX_PIVOT_VALUES} pivot values")
    for i, item in enumerate(values):
        if item is None or not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise InvalidRequest(f"{at('values')}[{i}]", f"got {_show(item)}", "a string or number")
        if item in values[:i]:
            raise InvalidRequest(f"{at('values')}[{i}]", f"value {_show(item)} is listed twice", "each value once")
    return {
        "index": _columns(value["index"], at("index")),
        "column": _column(value["column"], at("column")),
        "value": _column(value["value"], at("value")),
        "values": list(values),
        "agg": _choice(value.get("agg", "sum"), at("agg"), AGGREGATES),
    }


def _unpivot(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    result = {
        "ids": _columns(value["ids"], at("ids"), allow_empty=True),
        "columns": _columns(value["columns"], at("columns")),
        "names_to": _column(value.get("names_to", "column"), at("names_to")),
        "values_to": _column(value.get("values_to", "value"), at("values_to")),
    }
    if result["names_to"] == result["values_to"]:
        raise InvalidRequest(at("values_to"), "same name as names_to", "two different column names")
    return result


def _filter(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    parse_expression(value["condition"], at("condition"))
    return {"condition": value["condition"]}


def _derive(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    column = _column(value["column"], at("column"))
    parse_expression(value["expression"], at("expression"))
    return {"column": column, "expression": value["expression"]}


def _rename(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    mapping = _column_map(value["columns"], at("columns"))
    return {"columns": {old: _column(new, f"{at('columns')}.{old}") for old, new in mapping.items()}}


def _column_list(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    """``select`` and ``drop``."""
    return {"columns": _columns(value["columns"], at("columns"))}


def _cast(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    mapping = _column_map(value["columns"], at("columns"))
    return {"columns": {name: _data_type(t, f"{at('columns')}.{name}") for name, t in mapping.items()}}


def _sort(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    by = value["by"]
    if not isinstance(by, list) or not by:
        raise InvalidRequest(at("by"), f"got {_show(by)}", "a non-empty list of column names or {column, order}")
    keys = []
    for i, item in enumerate(by):
        where = f"{at('by')}[{i}]"
        if isinstance(item, str):
            keys.append({"column": _column(item, where), "order": "asc"})
        else:
            spec = _object(item, where, frozenset({"column"}), frozenset({"order"}))
            keys.append(
                {
                    "column": _column(spec["column"], f"{where}.column"),
                    "order": _choice(spec.get("order", "asc"), f"{where}.order", SORT_ORDERS),
                }
            )
    return {"by": keys}


def _deduplicate(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    return {"columns": _columns(value["columns"], at("columns")) if "columns" in value else None}


def _aggregate(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    group_by = _columns(value.get("group_by", []), at("group_by"), allow_empty=True)
    aggregations = value["aggregations"]
    if not isinstance(aggregations, list) or not aggregations:
        raise InvalidRequest(
            at("aggregations"), f"got {_show(aggregations)}", "a non-empty list of {function, column, as}"
        )
    specs: list[dict[str, Any]] = []
    for i, item in enumerate(aggregations):
        where = f"{at('aggregations')}[{i}]"
        spec = _object(item, where, frozenset({"function", "as"}), frozenset({"column"}))
        if spec.get("column", "") is None:
            spec = {key: item for key, item in spec.items() if key != "column"}
        function = _choice(spec["function"], f"{where}.function", AGGREGATES)
        if "column" not in spec and function != "count":
            raise InvalidRequest(
                f"{where}.column", f"required for {function}", "a column name (only count may omit it)"
            )
        column = _column(spec["column"], f"{where}.column") if "column" in spec else None
        name = _column(spec["as"], f"{where}.as")
        if name in group_by or name in [s["as"] for s in specs]:
            raise InvalidRequest(f"{where}.as", f"column {name!r} is produced twice", "a name unique in the result")
        specs.append({"function": function, "column": column, "as": name})
    return {"group_by": group_by, "aggregations": specs}


def _union(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    others = value["with"]
    if isinstance(others, str):
        others = [others]
    if not isinstance(others, list) or not others:
        raise InvalidRequest(at("with"), f"got {_show(others)}", "a table name or a non-empty list of them")
    return {
        "with": [_table_ref(name, f"{at('with')}[{i}]", tables) for i, name in enumerate(others)],
        "allow_missing_columns": _boolean(value.get("allow_missing_columns", False), at("allow_missing_columns")),
    }


def _fill_nulls(value: dict[str, Any], at: _Where, tables: list[str]) -> dict[str, Any]:
    mapping = _column_map(value["values"], at("values"))
    values = {name: _scalar(item, f"{at('values')}.{name}") for name, item in mapping.items()}
    for name, item in values.items():
        if item is None:
            raise InvalidRequest(f"{at('values')}.{name}", "got null", "a string, number or boolean")
    return {"values": values}


#: Each operation's own fields, validated and normalized (the fields every operation has are done by _operation).
_OPERATION_VALIDATORS: dict[str, Callable[[dict[str, Any], _Where, list[str]], dict[str, Any]]] = {
    "vlookup": _vlookup,
    "join": _join,
    "pivot": _pivot,
    "unpivot": _unpivot,
    "filter": _filter,
    "derive": _derive,
    "rename": _rename,
    "select": _column_list,
    "drop": _column_list,
    "cast": _cast,
    "sort": _sort,
    "deduplicate": _deduplicate,
    "aggregate": _aggregate,
    "union": _union,
    "fill_nulls": _fill_nulls,
}


def validate_request(document: object, *, uri_schemes: tuple[str, ...] = ("s3",)) -> dict[str, Any]:
    """Check a request (a dict, or its JSON text) and return it normalized, with every default filled in.

    ``uri_schemes`` lists the URI schemes inputs and output may use; the service accepts ``s3`` only, and
    local runs of the Spark job add ``file``.
    """
    if isinstance(document, (bytes, bytearray)):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidRequest("request", f"not UTF-8 ({error.reason})", "a JSON object in UTF-8") from None
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise InvalidRequest(
                "request", f"not valid JSON ({error.msg} at line {error.lineno})", "a JSON object"
            ) from None
    request = _object(
        document, "", frozenset({"request_id", "schema_version", "inputs", "operations", "output"}), frozenset()
    )
    version = request["schema_version"]
    if version not in ACCEPTED_SCHEMA_VERSIONS or not isinstance(version, str):
        raise InvalidRequest("schema_version", f"got {_show(version)}", ", ".join(ACCEPTED_SCHEMA_VERSIONS))
    request_id = _string(
        request["request_id"],
        "request_id",
        REQUEST_ID,
        "1-128 letters, digits, '_' or '-', starting with a letter or digit",
    )
    raw_inputs = request["inputs"]
    if not isinstance(raw_inputs, dict) or not raw_inputs or len(raw_inputs) > MAX_INPUTS:
        raise InvalidRequest("inputs", f"got {_show(raw_inputs)}", f"an object of 1 to {MAX_INPUTS} named datasets")
    inputs = {}
    for name, spec in raw_inputs.items():
        _string(name, f"inputs.{name}", TABLE_NAME, "a name of letters, digits and '_', up to 64 characters")
        inputs[name] = _input(spec, f"inputs.{name}", uri_schemes)
    raw_operations = request["operations"]
    if not isinstance(raw_operations, list) or not raw_operations or len(raw_operations) > MAX_OPERATIONS:
        raise InvalidRequest(
            "operations", f"got {_show(raw_operations)}", f"a list of 1 to {MAX_OPERATIONS} operations"
        )
    tables = list(inputs)
    operations = []
    for index, raw in enumerate(raw_operations):
        operation = _operation(raw, index, tables)
        operations.append(operation)
        if operation["as"] is not None:
            if operation["as"] in tables:
                raise InvalidRequest(f"operations[{index}].as", f"{operation['as']!r} is already a table", "a new name")
            tables.append(operation["as"])
    return {
        "request_id": request_id,
        "schema_version": version,
        "inputs": inputs,
        "operations": operations,
        "output": _output(request["output"], uri_schemes, request_id, inputs),
    }


# --- JSON Schema ---------------------------------------------------------------------------------------------------
#
# The schema is generated from this module, which owns the contract: the field names, limits, patterns, choices
# and option defaults above are read here, and only the shape of each field (a column, a list of columns, a map)
# and the documentation are written here, next to the checks they describe. validate_request does not use the
# schema: it runs standard library only, on Lambda and on EMR, and checks what a schema cannot (expressions,
# table references, overlapping locations). The committed file is this function's output (a test holds them
# equal); write it again with ``python blueprints/contracts/emr_reconciliation_request.py``.

SCHEMA_FILE = "emr_reconciliation_request.schema.json"
_DEFS = "#/$defs/"
_PREVIOUS = "null: the previous result"

#: What each operation does, for the schema's readers.
OPERATION_DESCRIPTIONS = {
    "vlookup": "Left join on key columns that adds the picked columns of the 'with' table (one row per key), with a "
    "default where nothing matches.",
    "join": "Join with another table.",
    "pivot": "One row per index, one column per listed value of 'column', holding agg(value).",
    "unpivot": "Columns to rows.",
    "filter": "Keep the rows where the condition is true.",
    "derive": "Add or replace a column computed by an expression.",
    "rename": "Rename columns: {old: new}.",
    "select": "Keep these columns, in this order.",
    "drop": "Remove these columns.",
    "cast": "Convert columns to types: {column: type}.",
    "sort": "Sort rows.",
    "deduplicate": "Remove duplicate rows (on all columns, or one row per value of the listed columns).",
    "aggregate": "Group-by aggregates.",
    "union": "Append the rows of other tables, matching columns by name.",
    "fill_nulls": "Replace nulls: {column: value}.",
}


def _json_ecma(pattern: str) -> str:
    """A Python pattern as JSON Schema (ECMA 262) writes it: ``\\xHH`` escapes become ``\\u00HH``."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", r"\\u00\1", pattern)


def _json_ref(name: str) -> dict[str, Any]:
    return {"$ref": _DEFS + name}


def _json_nullable(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}], **extra}


def _json_column_list(fewest: int = 1) -> dict[str, Any]:
    return {"type": "array", "items": _json_ref("column"), "minItems": fewest, "uniqueItems": True}


def _json_column_map(values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "minProperties": 1, "propertyNames": _json_ref("column"), "additionalProperties": values}


def _json_with_default(schema: dict[str, Any], default: object) -> dict[str, Any]:
    return {**schema, "default": default}


def _json_aggregation() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["function", "as"],
        "properties": {
            "function": {"enum": list(AGGREGATES)},
            "column": _json_nullable(_json_ref("column")),
            "as": _json_ref("column"),
        },
        "additionalProperties": False,
        "if": {"properties": {"function": {"not": {"const": "count"}}}},
        "then": {"required": ["column"], "properties": {"column": _json_ref("column")}},
    }


def _json_operation_fields() -> dict[str, dict[str, dict[str, Any]]]:
    """The schema of each field of each operation, beyond ``op``, ``input`` and ``as``."""
    join_keys = {"with": _json_ref("table"), "on": _json_column_list(), "with_on": _json_column_list()}
    sort_key = {
        "type": "object",
        "required": ["column"],
        "properties": {"column": _json_ref("column"), "order": {"enum": list(SORT_ORDERS), "default": "asc"}},
        "additionalProperties": False,
    }
    scalar = {"type": ["string", "number", "boolean", "null"]}
    return {
        "vlookup": {
            **join_keys,
            "columns": _json_column_list(),
            "default": {"type": "object", "propertyNames": _json_ref("column"), "additionalProperties": scalar},
        },
        "join": {**join_keys, "how": {"enum": list(JOIN_HOWS), "default": "inner"}},
        "pivot": {
            "index": _json_column_list(),
            "column": _json_ref("column"),
            "values": {
                "type": "array",
                "items": {"type": ["string", "number"]},
                "minItems": 1,
                "maxItems": MAX_PIVOT_VALUES,
                "uniqueItems": True,
            },
            "value": _json_ref("column"),
            "agg": {"enum": list(AGGREGATES), "default": "sum"},
        },
        "unpivot": {
            "ids": _json_column_list(0),
            "columns": _json_column_list(),
            "names_to": _json_with_default(_json_ref("column"), "column"),
            "values_to": _json_with_default(_json_ref("column"), "value"),
        },
        "filter": {"condition": _json_ref("expression")},
        "derive": {"column": _json_ref("column"), "expression": _json_ref("expression")},
        "rename": {"columns": _json_column_map(_json_ref("column"))},
        "select": {"columns": _json_column_list()},
        "drop": {"columns": _json_column_list()},
        "cast": {"columns": _json_column_map(_json_ref("type"))},
        "sort": {"by": {"type": "array", "minItems": 1, "items": {"oneOf": [_json_ref("column"), sort_key]}}},
        "deduplicate": {"columns": _json_nullable(_json_column_list())},
        "aggregate": {
            "group_by": _json_column_list(0),
            "aggregations": {"type": "array", "minItems": 1, "items": _json_aggregation()},
        },
        "union": {
            "with": {"oneOf": [_json_ref("table"), {"type": "array", "items": _json_ref("table"), "minItems": 1}]},
            "allow_missing_columns": {"type": "boolean", "default": False},
        },
        "fill_nulls": {"values": _json_column_map({"type": ["string", "number", "boolean"]})},
    }


def _json_operations() -> dict[str, dict[str, Any]]:
    """``operation`` (the ``op`` switch) and one ``op_<name>`` definition per operation."""
    fields = _json_operation_fields()
    definitions: dict[str, dict[str, Any]] = {
        "operation": {
            "type": "object",
            "required": ["op"],
            "properties": {"op": {"enum": list(OPERATION_FIELDS)}},
            "allOf": [
                {"if": {"properties": {"op": {"const": op}}, "required": ["op"]}, "then": _json_ref(f"op_{op}")}
                for op in OPERATION_FIELDS
            ],
        }
    }
    for op, (required, optional) in OPERATION_FIELDS.items():
        if set(fields[op]) != required | optional:
            raise RuntimeError(f"the schema of {op} describes {sorted(fields[op])}, not {sorted(required | optional)}")
        definitions[f"op_{op}"] = {
            "description": OPERATION_DESCRIPTIONS[op],
            "type": "object",
            "required": ["op", *(name for name in fields[op] if name in required)],
            "properties": {
                "op": {"const": op},
                "input": _json_nullable(_json_ref("table"), description=_PREVIOUS),
                "as": _json_nullable(_json_ref("table"), description=_PREVIOUS),
                **fields[op],
            },
            "additionalProperties": False,
        }
    return definitions


def _json_char() -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": 1}


def _json_csv_option(name: str, default: object) -> dict[str, Any]:
    if name in CSV_BOOLEAN_OPTIONS:
        return {"type": "boolean", "default": default}
    if name in CSV_CHARACTER_OPTIONS:
        return {**_json_char(), "default": default}
    if name == "schema":
        return {
            "oneOf": [
                {
                    "type": "object",
                    "minProperties": 1,
                    "propertyNames": _json_ref("column"),
                    "additionalProperties": _json_ref("type"),
                },
                {"type": "null"},
            ]
        }
    return {"type": "string", "maxLength": MAX_OPTION_LENGTH, "default": default}


def _json_by_format(csv_options: dict[str, Any], *, forbid: dict[str, Any] | None = None) -> dict[str, Any]:
    """CSV options for a CSV dataset, none for Parquet."""
    options: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": csv_options}
    if forbid:
        options["not"] = forbid
    return {
        "if": {"properties": {"format": {"const": "csv"}}},
        "then": {"properties": {"options": options}},
        "else": {"properties": {"options": {"type": "object", "maxProperties": 0}}},
    }


def _json_datasets() -> dict[str, dict[str, Any]]:
    """``input``, ``output`` and ``output_uri``."""
    output_uri = f"^s3://{S3_BUCKET}/+[^{GLOB}/\\x00-\\x1f][^{GLOB}\\x00-\\x1f]*$"
    read = {name: _json_csv_option(name, default) for name, default in CSV_READ_OPTIONS.items()}
    write = {name: _json_csv_option(name, default) for name, default in CSV_WRITE_OPTIONS.items()}
    schema_and_inference = {
        "required": ["schema", "infer_schema"],
        "properties": {"schema": {"type": "object"}, "infer_schema": {"const": True}},
    }
    return {
        "input": {
            "type": "object",
            "required": ["uri", "format"],
            "additionalProperties": False,
            "properties": {"uri": _json_ref("uri"), "format": {"enum": list(FORMATS)}, "options": {"type": "object"}},
            **_json_by_format(read, forbid=schema_and_inference),
        },
        "output": {
            "type": "object",
            "required": ["uri", "format"],
            "additionalProperties": False,
            "properties": {
                "uri": _json_ref("output_uri"),
                "format": {"enum": list(FORMATS)},
                "mode": {
                    "enum": list(WRITE_MODES),
                    "default": "error",
                    "description": "error: refuse an existing output; overwrite: delete everything under the output "
                    "location first",
                },
                "single_file": {"type": "boolean", "default": False},
                "per_request_prefix": {
                    "type": "boolean",
                    "default": True,
                    "description": "write under <uri>/<request_id>/",
                },
                "options": {"type": "object"},
            },
            **_json_by_format(write),
        },
        "output_uri": {
            "description": "Not a bucket root and no glob characters; it must also be apart from every input (not "
            "one of them, not inside one, not containing one), which validate_request checks",
            "type": "string",
            "pattern": _json_ecma(output_uri),
        },
    }


def json_schema() -> dict[str, Any]:
    """The request's JSON Schema (draft 2020-12), for editors, producers in other languages and CI checks."""
    types = "|".join([*SIMPLE_TYPES, DECIMAL_TYPE.pattern])
    definitions: dict[str, Any] = {
        "table": {"type": "string", "pattern": TABLE_NAME.pattern},
        "column": {"type": "string", "pattern": _json_ecma(COLUMN_NAME.pattern)},
        "uri": {"type": "string", "pattern": _json_ecma(S3_URI.pattern)},
        "expression": {"type": "string", "minLength": 1, "maxLength": MAX_EXPRESSION_LENGTH, "pattern": "\\S"},
        "type": {"type": "string", "pattern": f"^({types})$"},
    }
    datasets = _json_datasets()
    definitions.update(input=datasets["input"], output=datasets["output"], **_json_operations())
    definitions["output_uri"] = datasets["output_uri"]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:blueprints:emr-reconciliation:request:{SCHEMA_VERSION}",
        "title": "Reconciliation request",
        "description": f"A transformation request for the EMR reconciliation service, schema_version "
        f"{SCHEMA_VERSION}. Generated from the Python module emr_reconciliation_request.py, which enforces the same "
        "structure and also parses expressions and checks table references.",
        "type": "object",
        "required": ["request_id", "schema_version", "inputs", "operations", "output"],
        "additionalProperties": False,
        "properties": {
            "request_id": {"type": "string", "pattern": REQUEST_ID.pattern},
            "schema_version": {"const": SCHEMA_VERSION},
            "inputs": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": MAX_INPUTS,
                "propertyNames": _json_ref("table"),
                "additionalProperties": _json_ref("input"),
            },
            "operations": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_OPERATIONS,
                "items": _json_ref("operation"),
            },
            "output": _json_ref("output"),
        },
        "$defs": definitions,
    }


def schema_text() -> str:
    """:func:`json_schema` as the committed ``emr_reconciliation_request.schema.json`` holds it."""
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    Path(__file__).with_name(SCHEMA_FILE).write_text(schema_text())
