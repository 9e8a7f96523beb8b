"""OpenAPI 3 → a readable Python client: one module with a `Client` class, one method per operation.

API Gateway's GetSdk makes JavaScript, Java, Android, iOS and Ruby SDKs, not Python. This is the
Python one, small enough to read in a notebook: `generate(document, module_name=...)` turns the
OpenAPI 3.x description of an API (`apigateway.get_export(..., exportType='oas30')`, or any
other) into the source of a module that uses only `requests`:

- `BASE_URL`: the document's first server, its variables filled with their defaults;
- one `TypedDict` (or type alias) per `components/schemas` entry, in dependency order;
- `ApiError(status, body, headers)`, raised for any status outside 2xx, whose str() is the API's
  own message (`{"message": ...}` from API Gateway, `{"errorMessage": ...}` from Lambda);
- `Client(base_url=None, session=None, headers=None, timeout=10)`, with one method per operation,
  named from its `operationId` (snake_case) or from its method and path: path parameters are
  required positional arguments (percent-encoded), query and header parameters keyword
  arguments (required ones without a default), `body` for a request body; docstrings come from
  the summary, description and parameter descriptions, type hints from the schemas; a method
  returns the 2xx answer's parsed JSON (or its text, or None when empty).

The output is deterministic (paths sorted, then methods in HTTP order; schemas sorted, then put
after the schemas they use) and passes `ruff check` and `ruff format --check` with the project's
settings. `load(source)` imports it without a file; or write it to `<module_name>.py`.

Simplified: cookie parameters, callbacks, links and response headers are left out; a parameter
described by `content` instead of `schema` is typed Any; `allOf` merges the properties of its
parts into one TypedDict; a schema that refers back to itself at run time (a recursive alias)
uses Any at that point.
"""

from __future__ import annotations

import json
import keyword
import linecache
import re
import textwrap
import types
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

__all__ = ["generate", "load"]

WIDTH = 100  # the project's ruff line length: the generated code is laid out to fit it
VERBS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ANY_METHOD = "x-amazon-apigateway-any-method"  # API Gateway's ANY method in an export
SCHEMA_REF = "#/components/schemas/"
# capitalised names the generated module uses: a schema's class may not take them
MODULE_NAMES = {"Any", "ApiError", "Client", "Exception", "Literal", "TypedDict", "ValueError"}
CLIENT_NAMES = {"base_url", "headers", "session", "timeout"}  # a method may not take them
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
LOCATIONS = {"path": "path parameter", "query": "query parameter", "header": "header"}


def generate(document: dict[str, Any] | str | bytes, *, module_name: str) -> str:
    """The source of a Python client module for an OpenAPI 3.x document (dict, JSON or YAML)."""
    valid = isinstance(module_name, str) and module_name.isidentifier()
    if not valid or keyword.iskeyword(module_name):
        raise ValueError(
            f"module_name must be a Python identifier such as 'users_client', not {module_name!r}"
        )
    doc = _read(document)
    _check_version(doc)
    return _Generator(doc, module_name).module()


def load(source: str, module_name: str | None = None) -> types.ModuleType:
    """Import generated client source as a module, named as in its first line unless given
    (it is not added to sys.modules: call load again for a fresh one)."""
    found = re.match(r'"""(\w+):', source)
    name = module_name or (found.group(1) if found else "client")
    filename = f"<generated {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # tracebacks
    module = types.ModuleType(name)
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


# ---- reading the document ------------------------------------------------------------------
def _read(document: dict[str, Any] | str | bytes) -> dict[str, Any]:
    if isinstance(document, bytes):
        document = document.decode("utf-8")
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            import yaml  # YAML is a superset of JSON: only needed when the text is not JSON

            try:
                document = yaml.safe_load(document)
            except yaml.YAMLError as exc:
                raise ValueError(f"the document is neither JSON nor YAML: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(
            f"an OpenAPI document is a JSON object; got {type(document).__name__}: pass the "
            "parsed export (json.loads(resp['body'].read())) or its text"
        )
    return document


def _check_version(doc: dict[str, Any]) -> None:
    if "swagger" in doc:
        raise ValueError(
            f"this is Swagger {doc['swagger']}, not OpenAPI 3: export with exportType='oas30' "
            "(apigateway.get_export(restApiId=..., stageName=..., exportType='oas30')) or "
            "convert it to OpenAPI 3 first"
        )
    version = doc.get("openapi")
    if version is None:
        keys = ", ".join(sorted(map(str, doc))) or "none"
        raise ValueError(
            f"this is not an OpenAPI document: it has no 'openapi' field (top-level keys: {keys}); "
            "pass an OpenAPI 3.x description, e.g. get_export(..., exportType='oas30')"
        )
    if not str(version).startswith("3."):
        raise ValueError(
            f"this is OpenAPI {version}; clientgen reads OpenAPI 3.x only: export with "
            "exportType='oas30' or convert the document to OpenAPI 3"
        )


# ---- names ---------------------------------------------------------------------------------
def _snake(text: str) -> str:
    """getUserById, CreatePet, list-users, X-Trace-Id → get_user_by_id, create_pet, ..."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", text)
    return re.sub(r"\W+|_+", "_", text, flags=re.ASCII).strip("_").lower()


def _pascal(text: str) -> str:
    """user.profile, pet_list, Pet → UserProfile, PetList, Pet."""
    parts = re.split(r"[^0-9A-Za-z]+", text)
    return "".join(p[:1].upper() + p[1:] for p in parts)


def _unique(name: str, taken: set[str], fallback: str, suffix: str = "_") -> str:
    """`name` made a free identifier: `fallback` if empty, a prefix before a digit, `suffix`
    after a keyword or a taken name; then `2`, `3`... Adds it to `taken`."""
    name = name or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}" if fallback.islower() else fallback + name
    if keyword.iskeyword(name) or name in taken:
        name += suffix
    base, n = name, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


# ---- layout --------------------------------------------------------------------------------
def _clean(text: Any) -> str:
    """Description text fit for a docstring or a comment: no control characters, no `\"\"\"`."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text.expandtabs(4))
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _wrap(text: str, indent: str, hang: str = "") -> list[str]:
    """Lines of `text` indented and wrapped to WIDTH, its own line breaks and list items kept;
    `hang` indents the continuation lines further."""
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            out.append("")
            continue
        lead = indent + line[: len(line) - len(line.lstrip())]
        bullet = "  " if re.match(r"[-*] ", line.lstrip()) else ""
        out += textwrap.wrap(
            line.strip(),
            WIDTH - 3,  # room for the closing quotes or a trailing comma
            initial_indent=lead,
            subsequent_indent=lead + bullet + hang,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return out


def _comment(text: str, indent: str = "") -> list[str]:
    """`# ` comment lines (none for no text)."""
    return [line.rstrip() or f"{indent}#" for line in _wrap(text, f"{indent}# ")] if text else []


def _docstring(paragraphs: list[str], indent: str) -> list[str]:
    """A docstring from paragraphs (each may hold line breaks); one line when it fits."""
    paragraphs = [p for p in paragraphs if p.strip()]
    if not paragraphs:
        return []
    first = paragraphs[0]
    one = f'{indent}"""{first}"""'
    if len(paragraphs) == 1 and "\n" not in first and len(one) <= WIDTH and first[-1] != '"':
        return [one]
    lines: list[str] = []
    for paragraph in paragraphs:
        if lines:
            lines.append("")
        lines += _wrap(paragraph, indent)
    lines[0] = f'{indent}"""{lines[0].lstrip()}'
    return [*lines, f'{indent}"""']


def _call(
    head: str, args: list[str | tuple[str, list[str]]], indent: str, tail: str = ""
) -> list[str]:
    """`head(arg, ...)tail` on one line when it fits, else one argument a line with a trailing
    comma (ruff format keeps both); an argument `(prefix, items)` is a dict literal."""

    def inline(arg: str | tuple[str, list[str]]) -> str:
        return arg if isinstance(arg, str) else f"{arg[0]}{{{', '.join(arg[1])}}}"

    one = f"{indent}{head}({', '.join(inline(a) for a in args)}){tail}"
    if len(one) <= WIDTH:
        return [one]
    inner = indent + "    "
    lines = [f"{indent}{head}("]
    for arg in args:
        line = f"{inner}{inline(arg)},"
        if isinstance(arg, str) or len(line) <= WIDTH:
            lines.append(line)
        else:
            lines.append(f"{inner}{arg[0]}{{")
            lines += [f"{inner}    {item}," for item in arg[1]]
            lines.append(f"{inner}}},")
    return [*lines, f"{indent}){tail}"]


def _str(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text)


# ---- the generator -------------------------------------------------------------------------
class _Generator:
    def __init__(self, doc: dict[str, Any], module_name: str):
        self.doc = doc
        self.module_name = module_name
        self.typing: set[str] = {"Any"}  # names imported from typing
        components = doc.get("components") or {}
        self.schemas: dict[str, Any] = dict(components.get("schemas") or {})
        self.security_schemes: dict[str, Any] = dict(components.get("securitySchemes") or {})
        taken = set(MODULE_NAMES)
        self.names = {
            name: _unique(_pascal(name), taken, "Schema", "Model") for name in sorted(self.schemas)
        }
        self.defined: set[str] | None = None  # while writing schemas: the names defined so far
        self.uses_path_params = False
        self.base_url_missing = False

    # ---- the module ----
    def module(self) -> str:
        base_url = self.base_url_lines()
        schemas = self.schema_lines()
        client = self.client_lines()
        info = self.doc.get("info") or {}
        api = f"the {info['title']} API" if info.get("title") else "an API"
        version = f" (version {info['version']})" if info.get("version") else ""
        header = f"{self.module_name}: a Python client for {api}{version}."
        lines = _docstring(
            [
                _clean(header),
                _clean(info.get("description")),
                f"Generated by helpers/clientgen.py from the API's OpenAPI {self.doc['openapi']} "
                "description: regenerate it rather than edit it. It needs only `requests`.",
            ],
            "",
        )
        lines += ["", "from __future__ import annotations", ""]
        lines.append(f"from typing import {', '.join(sorted(self.typing))}")
        if self.uses_path_params:
            lines.append("from urllib.parse import quote")
        lines += ["", "import requests", "", *base_url]
        for block in [*schemas, *client, *self.helper_blocks()]:
            lines += ["", "", *block]
        return "\n".join(lines) + "\n"

    def base_url_lines(self) -> list[str]:
        servers = self.doc.get("servers") or []
        url = ""
        if servers and isinstance(servers[0], dict):
            url = str(servers[0].get("url") or "")
            for name, variable in (servers[0].get("variables") or {}).items():
                url = url.replace(f"{{{name}}}", str((variable or {}).get("default", "")))
        if urlsplit(url).scheme in ("http", "https"):
            return [
                "# the description's first server, its variables filled with their defaults",
                f"BASE_URL = {_str(url.rstrip('/'))}",
            ]
        self.base_url_missing = True
        return ["BASE_URL: str | None = None  # the description names no absolute server URL"]

    # ---- schemas ----
    def schema_lines(self) -> list[list[str]]:
        """One block per component schema, each after the schemas it refers to."""
        order: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in order or name in visiting:
                return
            visiting.add(name)
            for ref in sorted(self.refs_in(self.schemas[name])):
                visit(ref)
            visiting.discard(name)
            order.append(name)

        for name in sorted(self.schemas):
            visit(name)
        self.defined = set()
        blocks = []
        for name in order:
            blocks.append(self.schema_block(name, self.schemas[name]))
            self.defined.add(self.names[name])
        self.defined = None
        return blocks

    def refs_in(self, node: Any) -> set[str]:
        if isinstance(node, dict):
            found = set()
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REF):
                name = ref.removeprefix(SCHEMA_REF)
                if name in self.schemas:
                    found.add(name)
            for value in node.values():
                found |= self.refs_in(value)
            return found
        if isinstance(node, list):
            return set().union(*(self.refs_in(v) for v in node))
        return set()

    def schema_block(self, name: str, schema: Any) -> list[str]:
        py_name = self.names[name]
        schema = schema if isinstance(schema, dict) else {}
        properties, required = self.properties(schema)
        about = schema.get("description") or (
            schema.get("title") if schema.get("title") not in (None, name, py_name) else None
        )
        if not properties:  # not an object with properties: a type alias
            return [*_comment(_clean(about)), f"{py_name} = {self.hint(schema, runtime=True)}"]
        self.typing.add("TypedDict")
        keys = list(properties)
        total = "" if set(keys) <= required else "total=False"
        notes = [_clean(about)]
        if required and total:
            notes.append(f"Required keys: {', '.join(k for k in keys if k in required)}.")
        if all(k.isidentifier() and not keyword.iskeyword(k) for k in keys):
            lines = [f"class {py_name}(TypedDict{', ' + total if total else ''}):"]
            doc = _docstring(notes, "    ")
            lines += [*doc, ""] if doc else []
            for key, prop in properties.items():
                lines += _comment(
                    _clean(prop.get("description")) if isinstance(prop, dict) else "", "    "
                )
                lines.append(f"    {key}: {self.hint(prop)}")
            return lines
        # keys that are not identifiers (first-name, class): the functional syntax
        fields: list[str] = []
        for key, prop in properties.items():
            fields.append(f"{_str(key)}: {self.hint(prop, runtime=True)}")
        lines = _comment("\n\n".join(filter(None, notes)))
        args: list[str | tuple[str, list[str]]] = [_str(py_name), ("", fields)]
        if total:
            args.append(total)
        lines += _call(f"{py_name} = TypedDict", args, "")
        return lines

    def properties(self, schema: dict[str, Any], depth: int = 0) -> tuple[dict[str, Any], set[str]]:
        """An object schema's properties and required keys, the parts of an allOf merged."""
        properties: dict[str, Any] = {}
        required = set(schema.get("required") or [])
        for part in (schema.get("allOf") or []) if depth < 20 else []:  # in order, bases first
            part = self.deref(part)
            more, more_required = self.properties(part if isinstance(part, dict) else {}, depth + 1)
            properties.update(more)
            required |= more_required
        properties.update(schema.get("properties") or {})
        return properties, required

    def deref(self, node: Any, depth: int = 0) -> Any:
        """A local `$ref` followed (to parameters, request bodies, responses, schemas...)."""
        ref = node.get("$ref") if isinstance(node, dict) else None
        if not (isinstance(ref, str) and ref.startswith("#/")) or depth > 20:
            return node
        target: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        return self.deref(target, depth + 1) if target is not None else {}

    def hint(self, schema: Any, *, runtime: bool = False) -> str:
        """The Python type of a schema. `runtime`: evaluated as the module loads (an alias), so a
        schema not defined yet becomes Any."""
        if not isinstance(schema, dict) or not schema:
            return "Any"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = (
                self.names.get(ref.removeprefix(SCHEMA_REF)) if ref.startswith(SCHEMA_REF) else None
            )
            if name is None:
                target = self.deref(schema)
                return self.hint(target, runtime=runtime) if target is not schema else "Any"
            if runtime and self.defined is not None and name not in self.defined:
                return "Any"
            return name
        for combined in ("oneOf", "anyOf"):
            if isinstance(schema.get(combined), list):
                return self.union([self.hint(s, runtime=runtime) for s in schema[combined]])
        if isinstance(schema.get("allOf"), list):
            parts = schema["allOf"]
            return self.hint(parts[0], runtime=runtime) if len(parts) == 1 else "dict[str, Any]"
        kind = schema.get("type")
        if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
            hints = [self.hint({**schema, "type": k}, runtime=runtime) for k in kind if k != "null"]
            return self.union(hints + ["None"] * ("null" in kind))
        hint = self.plain_hint(schema, kind, runtime)
        return self.union([hint, "None"]) if schema.get("nullable") else hint

    def plain_hint(self, schema: dict[str, Any], kind: Any, runtime: bool) -> str:
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and kind in ("string", "integer", None):
            if all(isinstance(v, str) for v in enum) or all(
                isinstance(v, int) and not isinstance(v, bool) for v in enum
            ):
                self.typing.add("Literal")
                return (
                    f"Literal[{', '.join(_str(v) if isinstance(v, str) else str(v) for v in enum)}]"
                )
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == "array":
            return f"list[{self.hint(schema.get('items'), runtime=runtime)}]"
        if kind == "object" or "properties" in schema or "additionalProperties" in schema:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict) and extra and not schema.get("properties"):
                return f"dict[str, {self.hint(extra, runtime=runtime)}]"
            return "dict[str, Any]"
        return "Any"

    @staticmethod
    def union(hints: list[str]) -> str:
        unique = list(dict.fromkeys(hints))
        return "Any" if "Any" in unique or not unique else " | ".join(unique)

    # ---- the client ----
    def client_lines(self) -> list[list[str]]:
        info = self.doc.get("info") or {}
        api = f"the {_clean(info['title'])} API" if info.get("title") else "the API"
        intro = [
            f"A client for {api}: one method per operation.",
            "Args:\n"
            "    base_url: the API's URL; default BASE_URL.\n"
            "    session: the requests.Session to send with (pooling, auth, test adapters).\n"
            '    headers: headers for every request, e.g. {"x-api-key": "..."}.\n'
            "    timeout: seconds to wait for each answer.",
        ]
        lines = ["class Client:", *_docstring(intro, "    "), ""]
        lines += _call(
            "def __init__",
            [
                "self",
                "base_url: str | None = None",
                "session: requests.Session | None = None",
                "headers: dict[str, str] | None = None",
                "timeout: float = 10",
            ],
            "    ",
            " -> None:",
        )
        if self.base_url_missing:
            lines += [
                "        base_url = base_url or BASE_URL",
                "        if not base_url:",
                '            raise ValueError("pass base_url=: the description names no server URL")',
                '        self.base_url = base_url.rstrip("/")',
            ]
        else:
            lines.append('        self.base_url = (base_url or BASE_URL).rstrip("/")')
        lines += [
            "        self.session = session or requests.Session()",
            "        self.headers = dict(headers or {})",
            "        self.timeout = timeout",
        ]
        taken = set(CLIENT_NAMES)
        for path, verb, operation, shared in self.operations():
            lines += ["", *self.method_lines(path, verb, operation, shared, taken)]
        lines += ["", *REQUEST]
        return [ERROR_CLASS, lines]

    def operations(self) -> Iterable[tuple[str, str, dict[str, Any], list[Any]]]:
        """(path, verb, operation, path-level parameters): paths sorted, verbs in HTTP order."""
        paths = self.doc.get("paths") or {}
        for path in sorted(paths):
            item = self.deref(paths[path])
            if not isinstance(item, dict):
                continue
            for verb in (*VERBS, ANY_METHOD):
                operation = item.get(verb)
                if isinstance(operation, dict):
                    yield path, verb, operation, list(item.get("parameters") or [])

    def method_lines(
        self, path: str, verb: str, op: dict[str, Any], shared: list[Any], taken: set[str]
    ) -> list[str]:
        any_method = verb == ANY_METHOD
        method = "ANY" if any_method else verb.upper()
        if op.get("operationId"):
            name = _snake(str(op["operationId"]))
        else:
            words = [
                f"by_{_snake(p[1:-1])}" if p.startswith("{") else _snake(p)
                for p in path.split("/")
                if p
            ]
            name = "_".join([method.lower(), *words] if words else [method.lower(), "root"])
        name = _unique(name.lstrip("_"), taken, "call")

        # parameters: the operation's win over the path item's of the same name and place
        declared: dict[tuple[str, str], dict[str, Any]] = {}
        for parameter in [*shared, *(op.get("parameters") or [])]:
            parameter = self.deref(parameter)
            if isinstance(parameter, dict) and parameter.get("in") in LOCATIONS:
                declared[(parameter["in"], str(parameter.get("name")))] = parameter
        argnames = {"self", "method"} if any_method else {"self"}
        signature = ["self", "method: str"] if any_method else ["self"]
        docs: list[str] = []
        path_args: dict[str, str] = {}
        template = re.findall(r"\{([^}]+)\}", path)
        for part in template:  # every {name} of the path, in order, is a required argument
            param_name = part.rstrip("+")
            parameter = declared.get(("path", param_name), {"name": param_name})
            arg = _unique(_snake(param_name), argnames, "value")
            path_args[part] = arg
            signature.append(f"{arg}: {self.hint(parameter.get('schema') or {'type': 'string'})}")
            docs.append(self.arg_doc(arg, "path", param_name, parameter))

        body_arg = self.body_arg(op.get("requestBody"))
        if body_arg:
            hint, required, content_type, description = body_arg
            argnames.add("body")
            signature.append(
                f"body: {hint}" if required else f"body: {self.union([hint, 'None'])} = None"
            )
            what = "The JSON request body" if content_type is None else f"The {content_type} body"
            docs.append(self.arg_line("body", f"{what} ({hint}). {description}".strip()))

        keywords: dict[str, list[str]] = {"query": [], "header": []}
        optional: list[str] = []
        required_kw: list[str] = []
        for (where, param_name), parameter in declared.items():
            if where == "path":
                continue
            arg = _unique(_snake(param_name), argnames, "value")
            hint = self.hint(parameter.get("schema"))
            if parameter.get("required"):
                required_kw.append(f"{arg}: {hint}")
            else:
                optional.append(f"{arg}: {self.union([hint, 'None'])} = None")
            keywords[where].append(f"{_str(param_name)}: {arg}")
            docs.append(self.arg_doc(arg, where, param_name, parameter))
        if required_kw or optional:
            signature += ["*", *required_kw, *optional]

        # the docstring: what it does, the HTTP call, the arguments, what it raises
        call = f"{method} {path}" if not any_method else f"{path}, any HTTP method"
        summary = _clean(op.get("summary"))
        paragraphs = [summary or f"{call}.", _clean(op.get("description"))]
        notes = [f"`{call}`."] if summary else []
        if op.get("deprecated"):
            notes.append("Deprecated.")
        security = self.security_note(op)
        if security:
            notes.append(security)
        paragraphs.append(" ".join(notes))
        if any_method:
            docs.insert(
                0, self.arg_line("method", "The HTTP method to send (ANY accepts them all).")
            )
        if docs:
            paragraphs.append("Args:\n" + "\n".join(docs))
        codes = [str(code) for code in op.get("responses") or {}]
        errors = sorted(c for c in codes if c[:1].isdigit() and c[:1] != "2")  # not "default"
        documented = f" (documented: {', '.join(errors)})" if errors else ""
        paragraphs.append(f"Raises:\n    ApiError: for any status outside 2xx{documented}.")

        returns = self.return_hint(op.get("responses") or {})
        lines = _call(f"def {name}", signature, "    ", f" -> {returns}:")
        lines += self.method_docstring(paragraphs)

        args: list[str | tuple[str, list[str]]] = [
            "method" if any_method else _str(method),
            self.path_expression(path, path_args),
        ]
        if keywords["query"]:
            args.append(("params=", keywords["query"]))
        if keywords["header"]:
            args.append(("headers=", keywords["header"]))
        if body_arg:
            content_type = body_arg[2]
            if content_type is None:
                args.append("json=body")
            else:
                args.append("data=body")
                extra = f"{_str('Content-Type')}: {_str(content_type)}"
                if keywords["header"]:
                    args[-2] = ("headers=", [*keywords["header"], extra])
                else:
                    args.insert(-1, ("headers=", [extra]))
        return lines + _call("return self._request", args, "        ")

    def method_docstring(self, paragraphs: list[str]) -> list[str]:
        paragraphs = [p for p in paragraphs if p.strip()]
        first, rest = paragraphs[0], paragraphs[1:]
        lines = _wrap(first, "        ")
        for paragraph in rest:
            lines.append("")
            if paragraph.startswith(("Args:\n", "Raises:\n")):
                head, _, body = paragraph.partition("\n")
                lines.append(f"        {head}")
                for entry in body.split("\n"):
                    lines += _wrap(entry.strip(), "            ", "    ")
            else:
                lines += _wrap(paragraph, "        ")
        lines[0] = f'        """{lines[0].lstrip()}'
        return [*lines, '        """']

    def arg_doc(self, arg: str, where: str, name: str, parameter: dict[str, Any]) -> str:
        where_text = f"{LOCATIONS[where]} `{name}`"
        about = _clean(parameter.get("description"))
        text = f"{where_text}. {about}" if about else f"{where_text}."
        return self.arg_line(arg, text[:1].upper() + text[1:])

    @staticmethod
    def arg_line(arg: str, text: str) -> str:
        return f"{arg}: {' '.join(text.split())}"

    def body_arg(self, request_body: Any) -> tuple[str, bool, str | None, str] | None:
        """(type hint, required, content type unless JSON, description) of a request body."""
        body = self.deref(request_body)
        if not isinstance(body, dict) or not body.get("content"):
            return None
        content = body["content"]
        description = _clean(body.get("description"))
        for content_type in sorted(content):
            if content_type.split(";")[0].strip().endswith(("/json", "+json")):
                schema = (content[content_type] or {}).get("schema")
                return self.hint(schema), bool(body.get("required")), None, description
        content_type = sorted(content)[0]
        form = content_type.startswith("application/x-www-form-urlencoded")
        hint = "dict[str, Any]" if form else "bytes | str"  # requests form-encodes a dict
        return hint, bool(body.get("required")), content_type, description

    def return_hint(self, responses: dict[str, Any]) -> str:
        """The type of the first 2xx response: its JSON schema, str for text, None when empty."""
        by_code = {str(code): response for code, response in responses.items()}  # YAML: 200
        for code in sorted(by_code):
            if not (code.startswith("2") and len(code) == 3):
                continue
            response = self.deref(by_code[code])
            content = (response or {}).get("content") if isinstance(response, dict) else None
            if not content:
                return "None" if code == "204" else "Any"
            for content_type in sorted(content):
                if "json" in content_type:
                    return self.hint((content[content_type] or {}).get("schema"))
            if all(t.startswith("text/") for t in content):
                return "str"
            return "Any"
        return "Any"

    def security_note(self, op: dict[str, Any]) -> str:
        requirements = op.get("security", self.doc.get("security")) or []
        needs = []
        for requirement in requirements:
            for scheme_name in sorted(requirement or {}):
                scheme = self.security_schemes.get(scheme_name) or {}
                if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                    needs.append(f"the `{scheme.get('name')}` header ({scheme_name})")
                else:
                    needs.append(f"{scheme_name} ({scheme.get('type', 'unknown')})")
        return f"Needs {' or '.join(dict.fromkeys(needs))}." if needs else ""

    def path_expression(self, path: str, path_args: dict[str, str]) -> str:
        """The path as a string, or an f-string that percent-encodes each path parameter."""
        if not path_args:
            return _str(path)
        self.uses_path_params = True
        pieces = []
        for i, piece in enumerate(re.split(r"\{([^}]+)\}", path)):
            if i % 2 == 0:
                pieces.append(_str(piece)[1:-1].replace("{", "{{").replace("}", "}}"))
            elif piece.endswith("+"):  # greedy: the value may span segments, '/' kept
                pieces.append(f"{{_segment({path_args[piece]}, greedy=True)}}")
            else:
                pieces.append(f"{{_segment({path_args[piece]})}}")
        return 'f"' + "".join(pieces) + '"'

    def helper_blocks(self) -> list[list[str]]:
        blocks = [TEXT_HELPER, PARSED_HELPER]
        if self.uses_path_params:
            blocks.insert(1, SEGMENT_HELPER)
        return blocks


# ---- the fixed parts of every client -------------------------------------------------------
ERROR_CLASS = '''\
class ApiError(Exception):
    """The API answered with a status outside 2xx: its status, parsed body and headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str]) -> None:
        super().__init__(status, body, headers)
        self.status = status
        self.body = body
        self.headers = headers

    def __str__(self) -> str:
        message = self.body
        if isinstance(message, dict):
            # API Gateway's own errors are {"message": ...}, an unhandled Lambda error's
            # {"errorMessage": ...}
            for key in ("message", "Message", "errorMessage", "error"):
                if key in message:
                    message = message[key]
                    break
        return f"HTTP {self.status}: {message}"'''.split("\n")

REQUEST = '''\
    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
    ) -> Any:
        """Send one request; return the 2xx answer's JSON (or text), else raise ApiError."""
        query = {k: _text(v) for k, v in (params or {}).items() if v is not None}
        extra = {k: _text(v) for k, v in (headers or {}).items() if v is not None}
        resp = self.session.request(
            method,
            self.base_url + path,
            params=query,
            headers={**self.headers, **extra},
            json=json,
            data=data,
            timeout=self.timeout,
        )
        body = _parsed(resp)
        if not 200 <= resp.status_code < 300:
            raise ApiError(resp.status_code, body, dict(resp.headers))
        return body'''.split("\n")

TEXT_HELPER = '''\
def _text(value: Any) -> Any:
    """A parameter value as the API reads it: true/false for booleans, lists item by item."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return str(value)'''.split("\n")

SEGMENT_HELPER = '''\
def _segment(value: Any, *, greedy: bool = False) -> str:
    """A path parameter percent-encoded: '/' too, unless the parameter is greedy ({name+})."""
    return quote(str(_text(value)), safe="/" if greedy else "")'''.split("\n")

PARSED_HELPER = '''\
def _parsed(resp: requests.Response) -> Any:
    """The body: parsed JSON when the response says it is JSON, else text; None when empty."""
    if not resp.content:
        return None
    if "json" in resp.headers.get("Content-Type", ""):
        try:
            return resp.json()
        except ValueError:
            return resp.text
    return resp.text'''.split("\n")
