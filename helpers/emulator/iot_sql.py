"""AWS IoT SQL (version 2016-03-23): parse a topic rule's statement and evaluate it on a message.

Reference: the AWS IoT developer guide's SQL pages (iot-sql-reference, -select, -where,
-data-types, -operators, -functions, iot-substitution-templates, binary-payloads).

- `parse(sql)` reads `SELECT [VALUE] <* | expr [AS name], ...> [FROM '<topic filter>']
  [WHERE <cond>]` with a small recursive-descent parser and raises `SqlParseError` (AWS's
  SqlParseException at CreateTopicRule) naming the line, column and what was expected. FROM is
  optional, as AWS allows for rules reached only through Basic Ingest (`$aws/rules/<name>/...`).
- Expressions: attribute paths (`a.b`, `a.b[0]`, `*`), literals (numbers, 'strings' or
  "strings", true/false/null, [arrays], {"objects": ...}), `+ - * / %`, comparisons
  (`= <> != < <= > >=`), AND/OR/NOT, CASE, `cast(x AS type)` and the built-in functions in
  `FUNCTIONS` (the common ones; an AWS function not emulated here is refused at creation with a
  message that says so, rather than silently misbehaving).
- Values follow AWS's data types and conversion tables: Int, Decimal (a float here, not 34
  digits), Boolean, String, Array, Object, Null and `UNDEFINED`. A missing attribute is
  Undefined; an operator or function given what it cannot convert answers Undefined; Undefined
  is left out of the SELECT output (`{"foo": null, "bar": undefined}` → `{"foo":null}`); a WHERE
  that is not true (false or Undefined) drops the message.
- Unaliased items are named as AWS names them for attributes (the last path segment) and
  functions (the function's name); any other unaliased expression gets `_1`, `_2`... by
  position (an emulator choice: give it an alias).
- Non-JSON (binary) payloads: only `*` may refer to the payload (`SELECT *`, or functions such
  as `encode(*, 'base64')`); referring to a JSON attribute raises `PayloadError`, which the rules
  engine counts as a failed message (AWS's ParseError metric) and runs no action.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class _Undefined:
    """AWS IoT SQL's Undefined: not a value, left out of any JSON output."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
_BINARY = object()  # the payload is not JSON: only `*` can refer to it


class SqlParseError(ValueError):
    """The statement is not valid AWS IoT SQL (AWS answers SqlParseException)."""


class PayloadError(ValueError):
    """The statement refers to a JSON attribute of a payload that is not JSON."""


class EvaluationError(ValueError):
    """A function the emulator does not evaluate, or an argument AWS rejects outright."""


@dataclass
class Message:
    """What a rule's SQL sees of one published message."""

    topic: str
    payload: bytes
    timestamp_ms: int
    account_id: str
    region: str = "us-east-1"
    client_id: str = "n/a"  # AWS: "n/a" when the message did not come over MQTT (HTTP publish)
    principal: str = ""
    sql_version: str = "2016-03-23"
    document: Any = field(default=None, init=False)  # the parsed JSON, or _BINARY

    def __post_init__(self) -> None:
        if not self.payload.strip():
            self.document = {}  # an empty payload: attributes are Undefined, data can be added
            return
        try:
            self.document = json.loads(self.payload)
        except (ValueError, UnicodeDecodeError):
            self.document = _BINARY

    @property
    def is_json(self) -> bool:
        return self.document is not _BINARY


Evaluator = Callable[[Message], Any]


# ---- values and AWS's conversions -----------------------------------------------------------
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?((?i:E)-?\d+)?$")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_decimal(value: Any) -> Any:
    """AWS's "To Decimal" conversion (Null stays Null, what cannot convert is Undefined)."""
    if is_number(value):
        return value
    if value is None:
        return None
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        text = value.strip()
        return float(text) if ("." in text or "e" in text.lower()) else int(text)
    return UNDEFINED


def to_string(value: Any) -> Any:
    """AWS's "To String" conversion."""
    if value is None or value is UNDEFINED:
        return UNDEFINED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return to_json(value)


def to_bool(value: Any) -> Any:
    """AWS's "To Boolean" conversion (only booleans and 'true'/'false' strings convert)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return UNDEFINED


def to_json(value: Any) -> str:
    """Compact JSON, with Undefined members left out as AWS serialises them."""
    return json.dumps(strip_undefined(value), separators=(",", ":"), ensure_ascii=False)


def strip_undefined(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_undefined(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, list):
        return [strip_undefined(v) for v in value if v is not UNDEFINED]
    return value


def _int_of(value: Any) -> Any:
    """An argument converted to Int, rounded down (functions' tables), or Undefined."""
    number = to_decimal(value)
    if not is_number(number):
        return UNDEFINED
    return math.floor(number)


# ---- operators ------------------------------------------------------------------------------
def _plus(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str):
        left, right = to_string(a), to_string(b)
        if left is UNDEFINED or right is UNDEFINED:
            return UNDEFINED
        return left + right
    if is_number(a) and is_number(b):
        return a + b
    return UNDEFINED


def _arith(op: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if is_number(a) and is_number(b):
            x, y = a, b
        elif isinstance(a, (str, int, float)) and isinstance(b, (str, int, float)):
            x, y = to_decimal(a), to_decimal(b)
            if not (is_number(x) and is_number(y)) or isinstance(a, bool) or isinstance(b, bool):
                return UNDEFINED
            x, y = float(x), float(y)  # a string operand makes the result a Decimal
        else:
            return UNDEFINED
        both_int = isinstance(x, int) and isinstance(y, int)
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if y == 0:
            return UNDEFINED
        if op == "/":
            if both_int:  # Int / Int is an Int, truncated toward zero (Java semantics)
                return int(x / y) if abs(x) < 2**52 else (abs(x) // abs(y)) * _sign(x * y)
            return x / y
        # % : the remainder takes the dividend's sign, as Java's does
        return math.fmod(x, y) if not both_int else int(math.copysign(abs(x) % abs(y), x))

    return apply


def _sign(value: Any) -> int:
    return (value > 0) - (value < 0)


def _equal(a: Any, b: Any) -> Any:
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b):
        return False
    return a == b  # str, bool, list (order matters), dict (order does not), None


def _not_equal(a: Any, b: Any) -> Any:
    if a is None and b is None:
        return False
    result = _equal(a, b)
    return UNDEFINED if result is UNDEFINED else not result


def _compare(op: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if isinstance(a, bool) or isinstance(b, bool):
            return UNDEFINED
        x, y = to_decimal(a), to_decimal(b)
        if not (is_number(x) and is_number(y)):
            return UNDEFINED
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]

    return apply


def _and(a: Any, b: Any) -> Any:
    x, y = to_bool(a), to_bool(b)
    if x is UNDEFINED or y is UNDEFINED:
        return UNDEFINED
    return x and y


def _or(a: Any, b: Any) -> Any:
    x, y = to_bool(a), to_bool(b)
    if x is UNDEFINED or y is UNDEFINED:
        return UNDEFINED
    return x or y


BINARY_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _plus,
    "-": _arith("-"),
    "*": _arith("*"),
    "/": _arith("/"),
    "%": _arith("%"),
    "=": _equal,
    "<>": _not_equal,
    "!=": _not_equal,
    "<": _compare("<"),
    "<=": _compare("<="),
    ">": _compare(">"),
    ">=": _compare(">="),
    "AND": _and,
    "OR": _or,
}


# ---- functions ------------------------------------------------------------------------------
def _numeric(fn: Callable[[Any], Any], *, keep_int: bool = False) -> Callable[..., Any]:
    def apply(msg: Message, value: Any) -> Any:
        number = to_decimal(value)
        if not is_number(number):
            return UNDEFINED
        try:
            result = fn(number)
        except (ValueError, OverflowError):
            return UNDEFINED
        if isinstance(result, float) and math.isnan(result):
            return UNDEFINED
        return result

    return apply


def _round(value: float) -> int:
    """AWS: to the nearest Int, halves away from zero (round(1.5) = 2, round(-1.5) = -2)."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _topic(msg: Message, *args: Any) -> Any:
    if not args:
        return msg.topic
    index = _int_of(args[0])
    levels = msg.topic.split("/")
    if index is UNDEFINED or not 1 <= index <= len(levels):
        return UNDEFINED
    return levels[index - 1]


def _concat(msg: Message, *args: Any) -> Any:
    if not args:
        return UNDEFINED
    if len(args) == 1:
        return args[0]
    if any(isinstance(a, list) for a in args):
        out: list[Any] = []
        for a in args:
            out.extend(a if isinstance(a, list) else [a])
        return out
    if any(isinstance(a, str) for a in args):
        parts = [to_string(a) for a in args]
        if any(p is UNDEFINED for p in parts):
            return UNDEFINED
        return "".join(parts)
    return UNDEFINED


def _string_fn(fn: Callable[[str], Any]) -> Callable[..., Any]:
    def apply(msg: Message, value: Any) -> Any:
        text = to_string(value)
        return UNDEFINED if text is UNDEFINED else fn(text)

    return apply


def _substring(msg: Message, value: Any, start: Any, end: Any = None) -> Any:
    text = to_string(value)
    first = _int_of(start)
    if text is UNDEFINED or first is UNDEFINED:
        return UNDEFINED
    length = len(text)
    first = min(max(first, 0), length)
    if end is None:
        return text[first:]
    last = _int_of(end)
    if last is UNDEFINED:
        return UNDEFINED
    last = min(max(last, 0), length)
    return text[first:last] if first < last else ""


def _two_strings(fn: Callable[[str, str], Any]) -> Callable[..., Any]:
    def apply(msg: Message, a: Any, b: Any) -> Any:
        x, y = to_string(a), to_string(b)
        if x is UNDEFINED or y is UNDEFINED:
            return UNDEFINED
        return fn(x, y)

    return apply


def _replace(msg: Message, value: Any, old: Any, new: Any) -> Any:
    parts = [to_string(v) for v in (value, old, new)]
    if any(p is UNDEFINED for p in parts):
        return UNDEFINED
    return parts[0].replace(parts[1], parts[2])


def _java_regex(pattern: str) -> Any:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _regexp_matches(msg: Message, value: Any, pattern: Any) -> Any:
    text, regex = to_string(value), to_string(pattern)
    compiled = _java_regex(regex) if regex is not UNDEFINED else None
    if text is UNDEFINED or compiled is None:
        return UNDEFINED
    return compiled.search(text) is not None


def _regexp_replace(msg: Message, value: Any, pattern: Any, replacement: Any) -> Any:
    text, regex, repl = to_string(value), to_string(pattern), to_string(replacement)
    compiled = _java_regex(regex) if regex is not UNDEFINED else None
    if text is UNDEFINED or compiled is None or repl is UNDEFINED:
        return UNDEFINED
    python_repl = re.sub(r"\$(\d+)", r"\\g<\1>", repl)  # Java's $1 → Python's \g<1>
    try:
        return compiled.sub(python_repl, text)
    except (re.error, IndexError):
        return UNDEFINED


def _regexp_substr(msg: Message, value: Any, pattern: Any) -> Any:
    text, regex = to_string(value), to_string(pattern)
    compiled = _java_regex(regex) if regex is not UNDEFINED else None
    if text is UNDEFINED or compiled is None:
        return UNDEFINED
    match = compiled.search(text)
    return match.group(0) if match else UNDEFINED


def _get(msg: Message, container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key, UNDEFINED) if isinstance(key, str) else UNDEFINED
    if isinstance(container, (list, str)):
        index = _int_of(key)
        if index is UNDEFINED or not 0 <= index < len(container):
            return UNDEFINED
        return container[index]
    return UNDEFINED


def _encode(msg: Message, value: Any, scheme: Any) -> Any:
    if str(scheme).lower() != "base64":
        return UNDEFINED
    if value is _PAYLOAD:
        data = msg.payload
    else:
        text = to_string(value)
        if text is UNDEFINED:
            return UNDEFINED
        data = text.encode()
    return base64.b64encode(data).decode()


def _decode(msg: Message, value: Any, scheme: Any) -> Any:
    if str(scheme).lower() != "base64" or not isinstance(value, str):
        return UNDEFINED
    try:
        text = base64.b64decode(value, validate=True).decode()
    except ValueError:
        return None  # AWS: NULL when the string cannot be decoded
    try:
        return json.loads(text)
    except ValueError:
        return text


def _hash(name: str) -> Callable[..., Any]:
    def apply(msg: Message, value: Any) -> Any:
        text = to_string(value)
        if text is UNDEFINED:
            return UNDEFINED
        return hashlib.new(name, text.encode()).hexdigest()

    return apply


def _nanvl(msg: Message, value: Any, other: Any) -> Any:
    if value is UNDEFINED or value is None or (isinstance(value, float) and math.isnan(value)):
        return other
    return value


def _mod(msg: Message, a: Any, b: Any) -> Any:
    return BINARY_OPS["%"](a, b)


def _trunc(msg: Message, value: Any, places: Any) -> Any:
    number, digits = to_decimal(value), _int_of(places)
    if not is_number(number) or digits is UNDEFINED:
        return UNDEFINED
    if isinstance(number, int):
        return number
    digits = min(max(digits, 0), 34)
    factor = 10**digits
    result = math.trunc(number * factor) / factor
    return int(result) if result == int(result) else result


def _parse_time(msg: Message, pattern: Any, millis: Any, zone: Any = "UTC") -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    stamp = to_decimal(millis)
    if not isinstance(pattern, str) or not is_number(stamp) or not isinstance(zone, str):
        return UNDEFINED
    try:
        tz = timezone.utc if zone.upper() == "UTC" else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return UNDEFINED
    moment = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc).astimezone(tz)
    return format_joda(pattern, moment, zone)


_FUNCTIONS_WITH_CONTEXT: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "topic": (0, 1, _topic),
    "timestamp": (0, 0, lambda msg: msg.timestamp_ms),
    "clientid": (0, 0, lambda msg: msg.client_id),
    "principal": (0, 0, lambda msg: msg.principal),
    "accountid": (0, 0, lambda msg: msg.account_id),
    "sql_version": (0, 0, lambda msg: msg.sql_version),
    "traceid": (0, 0, lambda msg: UNDEFINED),  # AWS: Undefined when not sent over MQTT
    "newuuid": (0, 0, lambda msg: str(uuid.uuid4())),
    "rand": (0, 0, lambda msg: random.random()),
}

FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    **_FUNCTIONS_WITH_CONTEXT,
    "abs": (1, 1, _numeric(abs)),
    "ceil": (1, 1, _numeric(math.ceil)),
    "floor": (1, 1, _numeric(math.floor)),
    "round": (1, 1, _numeric(_round)),
    "sign": (1, 1, _numeric(_sign)),
    "sqrt": (1, 1, _numeric(math.sqrt)),
    "exp": (1, 1, _numeric(math.exp)),
    "ln": (1, 1, _numeric(math.log)),
    "log": (1, 1, _numeric(math.log10)),
    "power": (
        2,
        2,
        lambda msg, a, b: (
            float(to_decimal(a)) ** float(to_decimal(b))
            if is_number(to_decimal(a)) and is_number(to_decimal(b))
            else UNDEFINED
        ),
    ),
    "mod": (2, 2, _mod),
    "remainder": (2, 2, _mod),
    "trunc": (2, 2, _trunc),
    "nanvl": (2, 2, _nanvl),
    "concat": (0, 255, _concat),
    "lower": (1, 1, _string_fn(str.lower)),
    "upper": (1, 1, _string_fn(str.upper)),
    "trim": (1, 1, _string_fn(lambda s: s.strip(" \t"))),
    "ltrim": (1, 1, _string_fn(lambda s: s.lstrip(" \t"))),
    "rtrim": (1, 1, _string_fn(lambda s: s.rstrip(" \t"))),
    "length": (1, 1, _string_fn(len)),
    "numbytes": (1, 1, _string_fn(lambda s: len(s.encode()))),
    "substring": (2, 3, _substring),
    "startswith": (2, 2, _two_strings(lambda a, b: a.startswith(b))),
    "endswith": (2, 2, _two_strings(lambda a, b: a.endswith(b))),
    "indexof": (2, 2, _two_strings(lambda a, b: a.find(b))),
    "replace": (3, 3, _replace),
    "regexp_matches": (2, 2, _regexp_matches),
    "regexp_replace": (3, 3, _regexp_replace),
    "regexp_substr": (2, 2, _regexp_substr),
    "get": (2, 2, _get),
    "isundefined": (1, 1, lambda msg, v: v is UNDEFINED),
    "isnull": (1, 1, lambda msg, v: v is None),
    "encode": (2, 2, _encode),
    "decode": (2, 2, _decode),
    "parse_time": (2, 3, _parse_time),
    **{
        name: (1, 1, _hash(name))
        for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
    },
}

# AWS functions this emulator does not evaluate: accepted names, refused with a clear message
NOT_EMULATED = {
    "acos", "asin", "atan", "atan2", "bitand", "bitor", "bitxor", "bitnot", "chr", "cos",
    "cosh", "sin", "sinh", "tan", "tanh", "lpad", "rpad", "md2", "machinelearning_predict",
    "aws_lambda", "get_dynamodb", "get_secret", "get_thing_shadow", "get_registry_data",
    "get_mqtt_property", "get_user_properties", "transform", "time_to_epoch", "parse_time_epoch",
    "timestamp_epoch", "decode_base64",
}  # fmt: skip

CAST_TYPES = {
    "string": "string", "nvarchar": "string", "text": "string", "ntext": "string",
    "varchar": "string", "int": "int", "integer": "int", "double": "decimal",
    "decimal": "decimal", "bool": "bool", "boolean": "bool",
}  # fmt: skip


def cast(value: Any, kind: str) -> Any:
    """AWS's cast() tables (2016-03-23)."""
    if value is UNDEFINED or value is None or isinstance(value, (list, dict)):
        if kind == "string" and isinstance(value, (list, dict)):
            return to_json(value)
        return UNDEFINED
    if kind == "string":
        return to_string(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if is_number(value):
            return value != 0
        return to_bool(value)
    number = (1 if value else 0) if isinstance(value, bool) else to_decimal(value)
    if not is_number(number):
        return UNDEFINED
    if kind == "int":
        return math.floor(number)
    # 2016-03-23: a whole-number Decimal comes back as an Int (10.0 → 10), as AWS documents
    return int(number) if float(number).is_integer() else float(number)


# ---- Joda-Time formatting, for parse_time() -------------------------------------------------
_JODA_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|.", re.S)


def format_joda(pattern: str, moment: datetime, zone: str) -> str:
    """Format `moment` with a Joda-Time DateTimeFormat pattern (the letters AWS's examples use)."""
    out = []
    for match in _JODA_TOKEN.finditer(pattern):
        token = match.group(0)
        if token.startswith("'"):
            out.append("'" if token == "''" else token[1:-1].replace("''", "'"))
            continue
        letter, count = token[0], len(token)
        if not letter.isalpha():
            out.append(token)
            continue
        out.append(_joda_field(letter, count, moment, zone))
    return "".join(out)


def _joda_field(letter: str, count: int, moment: datetime, zone: str) -> str:
    def num(value: int) -> str:
        return str(value).zfill(count)

    if letter in "yYux":
        year = moment.isocalendar()[0] if letter == "x" else moment.year
        return str(year % 100).zfill(2) if count == 2 else num(year)
    if letter == "G":
        return "AD"
    if letter == "C":
        return num(moment.year // 100)
    if letter == "M":
        if count >= 4:
            return moment.strftime("%B")
        if count == 3:
            return moment.strftime("%b")
        return num(moment.month)
    if letter == "d":
        return num(moment.day)
    if letter == "D":
        return num(moment.timetuple().tm_yday)
    if letter == "w":
        return num(moment.isocalendar()[1])
    if letter == "e":
        return num(moment.isoweekday())
    if letter == "E":
        return moment.strftime("%A") if count >= 4 else moment.strftime("%a")
    if letter == "a":
        return "AM" if moment.hour < 12 else "PM"
    if letter == "H":
        return num(moment.hour)
    if letter == "k":
        return num(moment.hour or 24)
    if letter == "K":
        return num(moment.hour % 12)
    if letter == "h":
        return num(moment.hour % 12 or 12)
    if letter == "m":
        return num(moment.minute)
    if letter == "s":
        return num(moment.second)
    if letter == "S":
        return f"{moment.microsecond:06d}"[:count].ljust(count, "0")
    if letter == "Z":
        offset = moment.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        if count >= 3:
            return zone
        if seconds == 0 and count == 1:
            return "+0000"
        sign = "+" if seconds >= 0 else "-"
        hours, minutes = divmod(abs(seconds) // 60, 60)
        return (
            f"{sign}{hours:02d}:{minutes:02d}" if count == 2 else f"{sign}{hours:02d}{minutes:02d}"
        )
    if letter == "z":
        return zone if count >= 4 else (moment.tzname() or "UTC")
    raise EvaluationError(f"parse_time: the pattern letter {letter!r} is not supported")


# ---- tokens -----------------------------------------------------------------------------------
KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "TRUE", "FALSE", "NULL",
    "CASE", "WHEN", "THEN", "ELSE", "END",
}  # fmt: skip
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
      | (?P<op><>|!=|<=|>=|[-+*/%=<>(),.\[\]{}:])
    """,
    re.X | re.S,
)


@dataclass
class Token:
    kind: str  # number, name, keyword, string, op, end
    text: str
    value: Any
    pos: int


def _unquote(text: str) -> str:
    quote, body = text[0], text[1:-1]
    body = body.replace(quote * 2, quote)
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "/": "/"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)


def tokenize(sql: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(sql):
        match = _TOKEN.match(sql, pos)
        if match is None:
            raise SqlParseError(_where(sql, pos, f"unexpected character {sql[pos]!r}"))
        kind, text = match.lastgroup or "", match.group(0)
        if kind == "number":
            value: Any = float(text) if ("." in text or "e" in text.lower()) else int(text)
            tokens.append(Token("number", text, value, pos))
        elif kind == "name":
            upper = text.upper()
            tokens.append(Token("keyword" if upper in KEYWORDS else "name", text, upper, pos))
        elif kind == "string":
            tokens.append(Token("string", text, _unquote(text), pos))
        elif kind == "op":
            tokens.append(Token("op", text, text, pos))
        pos = match.end()
    tokens.append(Token("end", "", None, len(sql)))
    return tokens


def _where(sql: str, pos: int, message: str) -> str:
    line = sql.count("\n", 0, pos) + 1
    column = pos - (sql.rfind("\n", 0, pos) + 1) + 1
    return f"Line {line}:{column} {message}"


# ---- the statement ---------------------------------------------------------------------------
@dataclass
class SelectItem:
    name: str | None  # the output key; None for `*`
    evaluate: Evaluator | None  # None for `*`
    refers_to_payload: bool


@dataclass
class Statement:
    """A parsed rule statement."""

    sql: str
    items: list[SelectItem]
    value: bool  # SELECT VALUE
    topic_filter: str | None
    where: Evaluator | None
    refers_to_payload: bool  # any JSON attribute referenced (binary payloads cannot)

    def matches(self, topic: str) -> bool:
        return self.topic_filter is not None and topic_matches(self.topic_filter, topic)

    def accepts(self, msg: Message) -> bool:
        """The WHERE clause: only a true result keeps the message (false or Undefined drop it)."""
        if self.where is None:
            return True
        if not msg.is_json and self.refers_to_payload_in_where:
            raise PayloadError(_not_json(msg))
        return to_bool(self.where(msg)) is True

    refers_to_payload_in_where: bool = False

    def select(self, msg: Message) -> bytes:
        """The outgoing payload the rule's actions receive."""
        only_star = len(self.items) == 1 and self.items[0].evaluate is None
        if only_star and not self.value:
            return msg.payload  # the message as published, JSON or binary
        if not msg.is_json and any(item.refers_to_payload for item in self.items):
            raise PayloadError(_not_json(msg))
        if self.value:
            result = self.items[0].evaluate(msg) if self.items[0].evaluate else msg.document
            return b"" if result is UNDEFINED else to_json(result).encode()
        out: dict[str, Any] = {}
        for item in self.items:
            if item.evaluate is None:
                if not isinstance(msg.document, dict):
                    raise PayloadError(
                        f"SELECT *, ... on topic {msg.topic!r}: the payload is not a JSON object, "
                        "so nothing can be added to it"
                    )
                out.update(msg.document)
                continue
            value = item.evaluate(msg)
            if value is not UNDEFINED:
                assert item.name is not None
                out[item.name] = value
        return to_json(out).encode()


def _not_json(msg: Message) -> str:
    return (
        f"the payload published on {msg.topic!r} is not JSON, and the rule refers to a JSON "
        "attribute: AWS counts a ParseError and runs no action (refer to a binary payload only "
        "with *, e.g. SELECT * or encode(*, 'base64'))"
    )


_PAYLOAD = object()  # `*` as a function argument: the whole payload


def parse(sql: str) -> Statement:
    """Parse a rule's SQL; SqlParseError says where and what was expected."""
    if not isinstance(sql, str) or not sql.strip():
        raise SqlParseError("The SQL statement is empty: write SELECT ... FROM '<topic filter>'")
    return _Parser(sql).statement()


def parse_expression(text: str) -> tuple[Evaluator, bool]:
    """Parse one expression (a substitution template's); (evaluator, refers to the payload)."""
    parser = _Parser(text)
    evaluate = parser.expression()
    parser.expect_end("the end of the expression")
    return evaluate, parser.refers


class _Parser:
    def __init__(self, sql: str):
        self.sql = sql
        self.tokens = tokenize(sql)
        self.i = 0
        self.refers = False  # a JSON attribute of the payload was referenced

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tok
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def is_keyword(self, *words: str) -> bool:
        return self.tok.kind == "keyword" and self.tok.value in words

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def error(self, expected: str) -> SqlParseError:
        found = "the end of the statement" if self.tok.kind == "end" else repr(self.tok.text)
        return SqlParseError(_where(self.sql, self.tok.pos, f"expected {expected}, found {found}"))

    def expect_keyword(self, word: str) -> None:
        if not self.is_keyword(word):
            raise self.error(word)
        self.advance()

    def expect_op(self, op: str, what: str | None = None) -> None:
        if not self.is_op(op):
            raise self.error(what or repr(op))
        self.advance()

    def expect_end(self, what: str) -> None:
        if self.tok.kind != "end":
            raise SqlParseError(
                _where(self.sql, self.tok.pos, f"unexpected {self.tok.text!r} after {what}")
            )

    # -- statement
    def statement(self) -> Statement:
        self.expect_keyword("SELECT")
        value = False
        if (
            self.tok.kind == "name"
            and self.tok.value == "VALUE"
            and not (self.peek().kind == "keyword" and self.peek().value in ("FROM", "AS"))
            and not (self.peek().kind == "op" and self.peek().value in (",", ".", "["))
            and self.peek().kind != "end"
        ):
            self.advance()
            value = True
        items = self.select_list()
        select_refers = self.refers
        if value and len(items) != 1:
            raise SqlParseError("SELECT VALUE takes exactly one expression")
        topic_filter = None
        if self.is_keyword("FROM"):
            self.advance()
            if self.tok.kind != "string":
                raise self.error("a quoted topic filter after FROM, e.g. FROM 'sensors/+/data'")
            token = self.advance()
            problem = topic_filter_problem(token.value)
            if problem:
                raise SqlParseError(_where(self.sql, token.pos, problem))
            topic_filter = token.value
        where = None
        self.refers = False
        if self.is_keyword("WHERE"):
            self.advance()
            where = self.expression()
        where_refers = self.refers
        if self.tok.kind != "end":
            expected = "WHERE or the end of the statement" if where is None else "an operator"
            if topic_filter is None and where is None:
                expected = "FROM '<topic filter>'"
            raise self.error(expected)
        statement = Statement(
            sql=self.sql,
            items=items,
            value=value,
            topic_filter=topic_filter,
            where=where,
            refers_to_payload=select_refers or where_refers,
        )
        statement.refers_to_payload_in_where = where_refers
        return statement

    def select_list(self) -> list[SelectItem]:
        items = [self.select_item(1)]
        while self.is_op(","):
            self.advance()
            items.append(self.select_item(len(items) + 1))
        return items

    def select_item(self, position: int) -> SelectItem:
        if self.tok.kind in ("end",) or self.is_keyword("FROM", "WHERE"):
            raise self.error("an expression or * to select")
        if self.is_op("*") and (self.peek().kind == "end" or self._ends_item(self.peek())):
            self.advance()
            return SelectItem(None, None, False)
        before = self.refers
        self.refers = False
        start = self.i
        evaluate = self.expression()
        refers = self.refers
        self.refers = before or refers
        name = self._default_name(start, position)
        if self.is_keyword("AS"):
            self.advance()
            if self.tok.kind not in ("name", "keyword", "string"):
                raise self.error("a name after AS")
            alias = self.advance()
            name = alias.value if alias.kind == "string" else alias.text
        return SelectItem(name, evaluate, refers)

    @staticmethod
    def _ends_item(token: Token) -> bool:
        return (token.kind == "op" and token.value == ",") or (
            token.kind == "keyword" and token.value in ("FROM", "WHERE")
        )

    def _default_name(self, start: int, position: int) -> str:
        """An unaliased item's key: the attribute's last segment, the function's name, or _N."""
        used = self.tokens[start : self.i]
        if used and used[0].kind == "name":
            if len(used) > 1 and used[1].kind == "op" and used[1].value == "(":
                return used[0].text  # a function: its name, as written
            names = [t.text for t in used if t.kind == "name"]
            simple = all(
                t.kind == "name"
                or (t.kind == "op" and t.value in (".", "[", "]"))
                or t.kind == "number"
                for t in used
            )
            if simple and names:
                return names[-1]
        return f"_{position}"

    # -- expressions, loosest binding first
    def expression(self) -> Evaluator:
        return self.or_expr()

    def _binary(self, left: Evaluator, op: str, right: Evaluator) -> Evaluator:
        fn = BINARY_OPS[op]
        return lambda msg: fn(left(msg), right(msg))

    def or_expr(self) -> Evaluator:
        left = self.and_expr()
        while self.is_keyword("OR"):
            self.advance()
            left = self._binary(left, "OR", self.and_expr())
        return left

    def and_expr(self) -> Evaluator:
        left = self.not_expr()
        while self.is_keyword("AND"):
            self.advance()
            left = self._binary(left, "AND", self.not_expr())
        return left

    def not_expr(self) -> Evaluator:
        if self.is_keyword("NOT"):
            self.advance()
            inner = self.not_expr()

            def negate(msg: Message) -> Any:
                value = to_bool(inner(msg))
                return UNDEFINED if value is UNDEFINED else not value

            return negate
        return self.comparison()

    def comparison(self) -> Evaluator:
        left = self.additive()
        if self.is_op("=", "<>", "!=", "<", "<=", ">", ">="):
            op = self.advance().value
            left = self._binary(left, op, self.additive())
            if self.is_op("=", "<>", "!=", "<", "<=", ">", ">="):
                raise self.error("AND, OR or the end of the condition (comparisons do not chain)")
        return left

    def additive(self) -> Evaluator:
        left = self.multiplicative()
        while self.is_op("+", "-"):
            op = self.advance().value
            left = self._binary(left, op, self.multiplicative())
        return left

    def multiplicative(self) -> Evaluator:
        left = self.unary()
        while self.is_op("*", "/", "%"):
            op = self.advance().value
            left = self._binary(left, op, self.unary())
        return left

    def unary(self) -> Evaluator:
        if self.is_op("-"):
            self.advance()
            inner = self.unary()

            def negative(msg: Message) -> Any:
                value = inner(msg)
                number = to_decimal(value) if not isinstance(value, bool) else UNDEFINED
                return -number if is_number(number) else UNDEFINED

            return negative
        if self.is_op("+"):
            self.advance()
        return self.postfix()

    def postfix(self) -> Evaluator:
        base = self.primary()
        while self.is_op(".", "["):
            if self.advance().value == ".":
                if self.tok.kind not in ("name", "keyword"):
                    raise self.error("an attribute name after '.'")
                key = self.advance().text
                base = _member(base, key)
            else:
                index = self.expression()
                self.expect_op("]", "']'")
                base = _index(base, index)
        return base

    def primary(self) -> Evaluator:
        token = self.tok
        if token.kind == "number":
            self.advance()
            return _const(token.value)
        if token.kind == "string":
            self.advance()
            return _const(token.value)
        if token.kind == "keyword":
            if token.value in ("TRUE", "FALSE"):
                self.advance()
                return _const(token.value == "TRUE")
            if token.value == "NULL":
                self.advance()
                return _const(None)
            if token.value == "CASE":
                return self.case()
            raise self.error("an expression")
        if token.kind == "name":
            if self.peek().kind == "op" and self.peek().value == "(":
                return self.call()
            self.advance()
            self.refers = True
            key = token.text
            return lambda msg: _attribute(msg, key)
        if self.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect_op(")", "')'")
            return inner
        if self.is_op("["):
            return self.array()
        if self.is_op("{"):
            return self.object()
        if self.is_op("*"):
            raise self.error("an expression (* stands alone in the SELECT list or as an argument)")
        raise self.error("an expression")

    def array(self) -> Evaluator:
        self.expect_op("[")
        elements: list[Evaluator] = []
        while not self.is_op("]"):
            elements.append(self.expression())
            if not self.is_op("]"):
                self.expect_op(",", "',' or ']'")
        self.advance()
        return lambda msg: [v for v in (e(msg) for e in elements) if v is not UNDEFINED]

    def object(self) -> Evaluator:
        self.expect_op("{")
        members: list[tuple[str, Evaluator]] = []
        while not self.is_op("}"):
            if self.tok.kind not in ("string", "name"):
                raise self.error("a key in the object literal")
            key_token = self.advance()
            key = key_token.value if key_token.kind == "string" else key_token.text
            self.expect_op(":", "':'")
            members.append((key, self.expression()))
            if not self.is_op("}"):
                self.expect_op(",", "',' or '}'")
        self.advance()
        return lambda msg: {k: v for k, e in members if (v := e(msg)) is not UNDEFINED}

    def case(self) -> Evaluator:
        self.expect_keyword("CASE")
        subject = None if self.is_keyword("WHEN") else self.expression()
        branches: list[tuple[Evaluator, Evaluator]] = []
        while self.is_keyword("WHEN"):
            self.advance()
            condition = self.expression()
            self.expect_keyword("THEN")
            branches.append((condition, self.expression()))
        if not branches:
            raise self.error("WHEN")
        otherwise = None
        if self.is_keyword("ELSE"):
            self.advance()
            otherwise = self.expression()
        self.expect_keyword("END")

        def evaluate(msg: Message) -> Any:
            value = subject(msg) if subject is not None else None
            for condition, result in branches:
                test = condition(msg)
                hit = _equal(value, test) if subject is not None else to_bool(test)
                if hit is True:
                    return result(msg)
            return otherwise(msg) if otherwise is not None else None

        return evaluate

    def call(self) -> Evaluator:
        name_token = self.advance()
        name = name_token.text.lower()
        self.expect_op("(")
        if name == "cast":
            value = self.expression()
            self.expect_keyword("AS")
            if self.tok.kind not in ("name", "keyword"):
                raise self.error("a type after AS (String, Int, Decimal, Double or Boolean)")
            type_token = self.advance()
            kind = CAST_TYPES.get(type_token.text.lower())
            if kind is None:
                raise SqlParseError(
                    _where(self.sql, type_token.pos, f"cast to an unknown type {type_token.text!r}")
                )
            self.expect_op(")", "')'")
            return lambda msg: cast(value(msg), kind)
        args: list[Evaluator] = []
        while not self.is_op(")"):
            if self.is_op("*") and (self.peek().kind == "op" and self.peek().value in (",", ")")):
                self.advance()
                args.append(lambda msg: _PAYLOAD)
            else:
                args.append(self.expression())
            if not self.is_op(")"):
                self.expect_op(",", "',' or ')'")
        self.advance()
        if name in NOT_EMULATED:
            raise EvaluationError(
                f"{name_token.text}() is an AWS IoT SQL function this offline emulator does not "
                "evaluate; rewrite the rule without it, or run this lab on AWS"
            )
        if name not in FUNCTIONS:
            raise SqlParseError(
                _where(self.sql, name_token.pos, f"unknown function {name_token.text}()")
            )
        low, high, fn = FUNCTIONS[name]
        if not low <= len(args) <= high:
            expected = str(low) if low == high else f"{low} to {high}"
            raise SqlParseError(
                _where(
                    self.sql,
                    name_token.pos,
                    f"{name_token.text}() takes {expected} argument(s), got {len(args)}",
                )
            )

        def evaluate(msg: Message) -> Any:
            values = [a(msg) for a in args]
            if name != "encode" and any(v is _PAYLOAD for v in values):
                whole = msg.document if msg.is_json else msg.payload
                values = [whole if v is _PAYLOAD else v for v in values]
            return fn(msg, *values)

        return evaluate


def _const(value: Any) -> Evaluator:
    return lambda msg: value


def _attribute(msg: Message, key: str) -> Any:
    document = msg.document
    if document is _BINARY:
        raise PayloadError(_not_json(msg))
    if isinstance(document, dict):
        return document.get(key, UNDEFINED)
    return UNDEFINED


def _member(base: Evaluator, key: str) -> Evaluator:
    def evaluate(msg: Message) -> Any:
        value = base(msg)
        return value.get(key, UNDEFINED) if isinstance(value, dict) else UNDEFINED

    return evaluate


def _index(base: Evaluator, index: Evaluator) -> Evaluator:
    def evaluate(msg: Message) -> Any:
        value, position = base(msg), index(msg)
        if isinstance(value, list) and is_number(position) and float(position).is_integer():
            i = int(position)
            return value[i] if 0 <= i < len(value) else UNDEFINED
        if isinstance(value, dict) and isinstance(position, str):
            return value.get(position, UNDEFINED)
        return UNDEFINED

    return evaluate


# ---- topics -----------------------------------------------------------------------------------
def topic_filter_problem(topic_filter: str) -> str | None:
    """Why an MQTT topic filter is invalid, or None."""
    if not topic_filter:
        return "the topic filter after FROM is empty"
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return f"invalid topic filter {topic_filter!r}: '#' must be a whole level, and the last"
        if "+" in level and level != "+":
            return f"invalid topic filter {topic_filter!r}: '+' must be a whole level"
    return None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching: `+` one level, `#` any number of trailing levels (zero included); a
    wildcard at the first level does not match topics that start with `$`."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels, t_levels = topic_filter.split("/"), topic.split("/")
    for i, level in enumerate(f_levels):
        if level == "#":
            return True
        if i >= len(t_levels):
            return False
        if level != "+" and level != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


# ---- substitution templates ------------------------------------------------------------------
@dataclass
class Template:
    """An action field with `${expression}` parts, evaluated on the original message."""

    text: str
    parts: list[str | Evaluator]

    def render(self, msg: Message) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = part(msg)
            text = to_string(value)
            out.append("" if text is UNDEFINED else text)  # Undefined renders as ""
        return "".join(out)


def template(text: str) -> Template:
    """Split `text` into literal text and `${...}` expressions (SqlParseError when one is bad)."""
    parts: list[str | Evaluator] = []
    pos = 0
    while True:
        start = text.find("${", pos)
        if start < 0:
            parts.append(text[pos:])
            break
        parts.append(text[pos:start])
        end = _template_end(text, start + 2)
        if end < 0:
            raise SqlParseError(f"unclosed substitution template in {text!r}: add the closing '}}'")
        evaluate, _ = parse_expression(text[start + 2 : end])
        parts.append(evaluate)
        pos = end + 1
    return Template(text, [p for p in parts if p != ""])


def _template_end(text: str, pos: int) -> int:
    depth, quote = 0, ""
    while pos < len(text):
        ch = text[pos]
        if quote:
            if ch == "\\":
                pos += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return pos
            depth -= 1
        pos += 1
    return -1
