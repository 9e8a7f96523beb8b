"""helpers.clientgen: an OpenAPI 3 description → a Python client module that imports and calls.

Contract: OpenAPI 3.0.3 (https://spec.openapis.org/oas/v3.0.3: servers and server variables,
path items, parameters `in` path/query/header with `required`, requestBody, responses,
components/schemas and `$ref`); API Gateway's GetExport of a stage as `oas30`
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-export-api.html);
RFC 3986 percent-encoding of a path segment. The first tests check the generated code against a
hand-written document through a recording requests transport; the last ones call an API the
emulator really serves, through a client generated from that API's own export.
"""

from __future__ import annotations

import copy
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, Literal

import pytest
import requests
import yaml
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

import helpers
from helpers import clientgen
from tests.emulator.conftest import (  # noqa: F401 (fixtures and hooks pytest collects here)
    _no_silent_delivery_errors,
    deploy,
    lab,
    pytest_generate_tests,
    role_arn,
)
from tests.emulator.gateway_support import RestApi

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("moto", "moto-server")

DOC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Users", "version": "1.2", "description": "People, kept by one service."},
    "servers": [
        {
            "url": "https://{host}/{basePath}",
            "variables": {"host": {"default": "api.example.com"}, "basePath": {"default": "v1"}},
        },
        {"url": "https://staging.example.com/v1"},
    ],
    "paths": {
        "/users": {
            "get": {
                "operationId": "ListUsers",
                "summary": "List users, a page at a time.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "description": "At most this many.",
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "role",
                        "in": "query",
                        "required": True,
                        "schema": {"$ref": "#/components/schemas/Role"},
                    },
                    {"name": "active", "in": "query", "schema": {"type": "boolean"}},
                    {
                        "name": "tag",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "the page",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Users"}}
                        },
                    }
                },
            },
            "post": {
                "operationId": "createUser",
                "summary": "Create a user.",
                "requestBody": {
                    "required": True,
                    "description": "Who to create.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewUser"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "created",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                        },
                    },
                    "400": {"$ref": "#/components/responses/Problem"},
                },
            },
        },
        "/users/{userId}": {
            "parameters": [
                {
                    "name": "userId",
                    "in": "path",
                    "required": True,
                    "description": "The user's id.",
                    "schema": {"type": "string"},
                }
            ],
            "get": {
                "operationId": "GetUserById",
                "summary": "Get one user.",
                "description": "Answers 404 when there is no such user.",
                "parameters": [
                    {"name": "X-Trace-Id", "in": "header", "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "the user",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/User"}}
                        },
                    },
                    "404": {"$ref": "#/components/responses/Problem"},
                },
            },
            # no operationId: named from the method and the path
            "delete": {"responses": {"204": {"description": "deleted"}}},
        },
        "/files/{key+}": {
            "get": {
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                }
            }
        },
    },
    "components": {
        "schemas": {
            "Users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
            "User": {
                "type": "object",
                "description": "A person the service knows.",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string", "description": "Full name."},
                    "age": {"type": "integer", "nullable": True},
                    "role": {"$ref": "#/components/schemas/Role"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "NewUser": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "e-mail": {"type": "string"}},
            },
            "Role": {"type": "string", "enum": ["admin", "member"]},
            "Problem": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
        "responses": {
            "Problem": {
                "description": "what went wrong",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
        },
    },
}

# names that are not Python: keywords, dashes, digits first, a clash with the client's attributes
AWKWARD: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": 'Odd "names"', "version": "0", "description": 'Ends in a quote: "x"'},
    "servers": [{"url": "/relative"}],
    "paths": {
        "/2fa/{class}/{from}": {
            "post": {
                "operationId": "get-HTTPThing",
                "description": 'A backslash \\d and triple quotes """ in a description.\n\n- one\n- two',
                "parameters": [
                    {
                        "name": "class",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {"name": "from", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "self", "in": "query", "schema": {"type": ["string", "null"]}},
                    {"name": "body", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "import",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": {"default": {"description": "whatever"}},
            },
            "x-amazon-apigateway-any-method": {"responses": {}},
        },
        "/": {"get": {"operationId": "session", "responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "schemas": {
            "Client": {"type": "object", "properties": {"class": {"type": "string"}}},
            "tree.Node": {
                "type": "object",
                "properties": {
                    "children": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/tree.Node"},
                    },
                    "kind": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                },
            },
            "Loop": {"type": "array", "items": {"$ref": "#/components/schemas/Loop"}},
            "Extended": {
                "allOf": [
                    {"$ref": "#/components/schemas/Client"},
                    {
                        "type": "object",
                        "required": ["extra"],
                        "properties": {"extra": {"type": "number"}},
                    },
                ]
            },
        }
    },
}


class Recorder(BaseAdapter):
    """A requests transport: records each request and answers (status, body, headers) in turn."""

    def __init__(self, *answers: tuple[int, Any, dict[str, str]]):
        super().__init__()
        self.answers = list(answers)
        self.sent: list[requests.PreparedRequest] = []
        self.options: list[dict[str, Any]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        self.options.append(kwargs)
        status, body, headers = self.answers.pop(0) if self.answers else (200, {"ok": True}, {})
        resp = requests.Response()
        resp.status_code, resp.request, resp.url = status, request, request.url
        if isinstance(body, dict | list):
            headers = {"Content-Type": "application/json", **headers}
            body = json.dumps(body)
        resp._content = (body or "").encode()
        resp.headers = CaseInsensitiveDict(headers)
        return resp

    def close(self) -> None:
        pass


def hints(module, obj) -> dict[str, Any]:
    """The evaluated type hints of a generated class (the module is not in sys.modules)."""
    return typing.get_type_hints(obj, globalns=vars(module))


def client_for(doc: dict[str, Any], *answers: tuple[int, Any, dict[str, str]], **kwargs: Any):
    """(generated module, its Client on a recording session, the recorder)."""
    module = clientgen.load(clientgen.generate(doc, module_name="users_client"))
    recorder = Recorder(*answers)
    session = requests.Session()
    session.mount("https://", recorder)
    return module, module.Client(session=session, **kwargs), recorder


# ---- what the generated client sends ------------------------------------------------------
def test_methods_build_the_requests_the_document_describes():
    """GIVEN a client generated from DOC WHEN each method is called THEN the request has the
    documented method, percent-encoded path, query string, headers and JSON body."""
    _, client, sent = client_for(DOC, headers={"x-api-key": "k1"})

    client.get_user_by_id("ada lovelace/1?", x_trace_id="t-9")
    client.list_users(role="admin", limit=5, active=False, tag=["a", "b"])
    client.list_users(role="member")
    client.create_user({"name": "Ada", "e-mail": "ada@example.com"})
    client.delete_users_by_user_id("7")
    client.get_files_by_key("docs/read me.txt")

    one, page, bare, create, delete, file = sent.sent
    assert (one.method, one.url) == (
        "GET",
        "https://api.example.com/v1/users/ada%20lovelace%2F1%3F",
    )
    assert one.headers["X-Trace-Id"] == "t-9" and one.headers["x-api-key"] == "k1"
    assert one.body is None
    assert (
        page.url == "https://api.example.com/v1/users?limit=5&role=admin&active=false&tag=a&tag=b"
    )
    assert bare.url == "https://api.example.com/v1/users?role=member"  # None is left out
    assert "X-Trace-Id" not in bare.headers
    assert (create.method, create.url) == ("POST", "https://api.example.com/v1/users")
    assert create.headers["Content-Type"] == "application/json"
    assert json.loads(create.body) == {"name": "Ada", "e-mail": "ada@example.com"}
    assert (delete.method, delete.url) == ("DELETE", "https://api.example.com/v1/users/7")
    assert file.url == "https://api.example.com/v1/files/docs/read%20me.txt"  # greedy: '/' kept
    assert {o["timeout"] for o in sent.options} == {10}


def test_2xx_answers_are_parsed_json_text_or_none():
    _, client, _ = client_for(
        DOC,
        (200, {"id": "7", "name": "Ada"}, {}),
        (200, "plain words", {"Content-Type": "text/plain"}),
        (204, "", {}),
        (201, [{"id": "8"}], {"Content-Type": "application/json; charset=utf-8"}),
    )

    assert client.get_user_by_id("7") == {"id": "7", "name": "Ada"}
    assert client.get_files_by_key("a.txt") == "plain words"
    assert client.delete_users_by_user_id("7") is None
    assert client.create_user({"name": "x"}) == [{"id": "8"}]


def test_other_statuses_raise_api_error_with_the_apis_message():
    module, client, _ = client_for(
        DOC,
        (404, {"message": "user '9' not found"}, {"X-Amzn-Requestid": "r-1"}),
        (502, {"message": "Internal server error"}, {}),
        (500, {"errorMessage": "boom", "errorType": "RuntimeError"}, {}),
        (409, "taken", {"Content-Type": "text/plain"}),
        (302, "", {}),
    )

    with pytest.raises(module.ApiError) as missing:
        client.get_user_by_id("9")
    errors = []
    for call in (lambda: client.list_users(role="admin"), lambda: client.create_user({})) * 2:
        with pytest.raises(module.ApiError) as caught:
            call()
        errors.append(caught.value)

    assert missing.value.status == 404
    assert missing.value.body == {"message": "user '9' not found"}
    assert missing.value.headers["X-Amzn-Requestid"] == "r-1"
    assert str(missing.value) == "HTTP 404: user '9' not found"
    assert [str(e) for e in errors] == [
        "HTTP 502: Internal server error",
        "HTTP 500: boom",
        "HTTP 409: taken",
        "HTTP 302: None",
    ]
    assert isinstance(missing.value, Exception)


def test_signatures_names_docstrings_and_type_hints_follow_the_document():
    module, client, _ = client_for(DOC)

    methods = [m for m in vars(module.Client) if not m.startswith("_")]
    get = inspect.signature(client.get_user_by_id)
    listing = inspect.signature(client.list_users)
    create = inspect.signature(client.create_user)
    doc = inspect.getdoc(client.get_user_by_id)

    # paths sorted, then methods in HTTP order; operationId in snake_case, else method + path
    assert methods == [
        "get_files_by_key",
        "list_users",
        "create_user",
        "get_user_by_id",
        "delete_users_by_user_id",
    ]
    assert [(p.name, p.kind.name, p.default) for p in get.parameters.values()] == [
        ("user_id", "POSITIONAL_OR_KEYWORD", inspect.Parameter.empty),
        ("x_trace_id", "KEYWORD_ONLY", None),
    ]
    assert {n: p.default for n, p in listing.parameters.items()} == {
        "role": inspect.Parameter.empty,  # required query parameter: no default
        "limit": None,
        "active": None,
        "tag": None,
    }
    assert list(create.parameters) == ["body"]
    assert client.create_user.__annotations__ == {"body": "NewUser", "return": "User"}
    assert client.list_users.__annotations__ == {
        "role": "Role",
        "limit": "int | None",
        "active": "bool | None",
        "tag": "list[str] | None",
        "return": "Users",
    }
    assert client.get_files_by_key.__annotations__["return"] == "str"
    assert client.delete_users_by_user_id.__annotations__["return"] == "None"
    assert doc.startswith("Get one user.\n\nAnswers 404 when there is no such user.")
    assert "`GET /users/{userId}`" in doc
    assert "user_id: Path parameter `userId`. The user's id." in doc
    assert "ApiError: for any status outside 2xx (documented: 404)." in doc
    assert "At most this many." in inspect.getdoc(client.list_users)
    assert hints(module, module.User) == {
        "id": str,
        "name": str,
        "age": int | None,
        "role": Literal["admin", "member"],
        "labels": dict[str, str],
    }
    assert module.User.__total__ is False and "Required keys: id, name." in module.User.__doc__
    assert hints(module, module.NewUser) == {"name": str, "e-mail": str}
    assert module.Users == list[module.User]
    assert module.Role.__args__ == ("admin", "member")


def test_base_url_is_the_first_server_with_its_variables_filled():
    module, default, _ = client_for(DOC)
    odd = clientgen.load(clientgen.generate(AWKWARD, module_name="odd"))

    assert module.BASE_URL == "https://api.example.com/v1"
    assert default.base_url == "https://api.example.com/v1"
    assert module.Client(base_url="http://127.0.0.1:9/v2/").base_url == "http://127.0.0.1:9/v2"
    assert odd.BASE_URL is None  # a relative server URL names no host
    with pytest.raises(ValueError, match="pass base_url="):
        odd.Client()


def test_awkward_names_become_python_and_still_send_the_right_request():
    module, client, sent = client_for(AWKWARD, base_url="https://odd.example.com")

    client.get_http_thing(3, "a b", b"x,y", import_="i", self_=None, body_="q")
    client.any_2fa_by_class_by_from("PATCH", 4, "z")
    client.session_()

    (thing, anything, root) = sent.sent
    assert (thing.method, thing.url) == ("POST", "https://odd.example.com/2fa/3/a%20b?body=q")
    assert thing.headers["import"] == "i" and thing.headers["Content-Type"] == "text/csv"
    assert thing.body == b"x,y"
    assert (anything.method, anything.url) == ("PATCH", "https://odd.example.com/2fa/4/z")
    assert root.url == "https://odd.example.com/"
    assert hints(module, module.ClientModel) == {"class": str}  # a functional TypedDict
    assert hints(module, module.Extended) == {"class": str, "extra": float}  # allOf merged
    assert hints(module, module.TreeNode) == {
        "children": list[module.TreeNode],
        "kind": str | int,
    }
    assert module.Loop == list[Any]  # an alias that refers to itself
    assert "triple quotes" in inspect.getdoc(client.get_http_thing)


# ---- the generated source -----------------------------------------------------------------
def test_same_document_same_source():
    source = clientgen.generate(DOC, module_name="users_client")
    shuffled = copy.deepcopy(DOC)
    shuffled["paths"] = dict(reversed(list(DOC["paths"].items())))
    shuffled["components"]["schemas"] = dict(reversed(list(DOC["components"]["schemas"].items())))

    assert clientgen.generate(copy.deepcopy(DOC), module_name="users_client") == source
    assert clientgen.generate(json.dumps(DOC), module_name="users_client") == source
    assert clientgen.generate(json.dumps(DOC).encode(), module_name="users_client") == source
    text = yaml.safe_dump(DOC, sort_keys=False)
    assert clientgen.generate(text, module_name="users_client") == source
    assert clientgen.generate(shuffled, module_name="users_client") == source
    assert source.startswith('"""users_client: a Python client for the Users API (version 1.2).')


@pytest.mark.parametrize("doc", [DOC, AWKWARD], ids=["users", "awkward"])
def test_generated_source_passes_ruff_with_the_project_settings(tmp_path, doc):
    path = tmp_path / "users_client.py"
    path.write_text(clientgen.generate(doc, module_name="users_client"))
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--no-cache", "--config", str(ROOT / "pyproject.toml")]

    check = subprocess.run(
        [*ruff, "check", *config, str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    form = subprocess.run(
        [*ruff, "format", "--check", "--diff", *config, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )

    assert check.returncode == 0, check.stdout + check.stderr
    assert form.returncode == 0, form.stdout + form.stderr


# ---- refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}},
            "this is Swagger 2.0, not OpenAPI 3: export with exportType='oas30'",
        ),
        ({"info": {"title": "t"}, "paths": {}}, "no 'openapi' field (top-level keys: info, paths)"),
        ({"openapi": "2.0", "paths": {}}, "this is OpenAPI 2.0; clientgen reads OpenAPI 3.x only"),
        ("[1, 2]", "an OpenAPI document is a JSON object; got list"),
        ("paths: [unclosed", "the document is neither JSON nor YAML"),
    ],
    ids=["swagger-2", "no-openapi", "openapi-2", "not-an-object", "not-json-or-yaml"],
)
def test_documents_that_are_not_openapi_3_are_refused(document, message):
    with pytest.raises(ValueError) as caught:
        clientgen.generate(document, module_name="client")

    assert message in str(caught.value)


def test_module_name_must_be_an_identifier():
    with pytest.raises(ValueError, match="module_name must be a Python identifier"):
        clientgen.generate(DOC, module_name="users-client")


# ---- against an API the emulator serves ----------------------------------------------------
USERS_HANDLER = '''\
"""The users service: POST /users stores a user, GET /users lists them, GET /users/{userId}
reads one back or answers 404."""

import json
import os
import uuid

import boto3

table = boto3.resource("dynamodb").Table(os.environ["USERS_TABLE"])


def handler(event, context):
    route = (event["httpMethod"], event["resource"])
    if route == ("POST", "/users"):
        user = json.loads(event["body"] or "{}")
        if not isinstance(user.get("name"), str):
            return answer(400, {"message": "name must be a string"})
        user.setdefault("id", uuid.uuid4().hex[:8])
        table.put_item(Item=user)
        return answer(201, user)
    if route == ("GET", "/users"):
        prefix = (event.get("queryStringParameters") or {}).get("prefix", "")
        users = [u for u in table.scan()["Items"] if u["name"].startswith(prefix)]
        return answer(200, sorted(users, key=lambda u: u["id"]))
    user_id = event["pathParameters"]["userId"]
    user = table.get_item(Key={"id": user_id}).get("Item")
    if user is None:
        return answer(404, {"message": f"user {user_id!r} not found"})
    return answer(200, user)


def answer(status, body):
    headers = {"Content-Type": "application/json"}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}
'''
USER = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}


@pytest.fixture(scope="module")
def users_api(lab, deploy, tmp_path_factory):  # noqa: F811 (the imported fixtures)
    """GET /users, POST /users, GET /users/{userId}: Lambda proxies to a DynamoDB-backed users
    function, with models and method responses, deployed to dev."""
    table = lab.name("users")
    lab.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    source = tmp_path_factory.mktemp("users") / "users.py"
    source.write_text(USERS_HANDLER)
    function = deploy(
        "users",
        handler="users.handler",
        code=helpers.package(source, handler="users.handler"),
        env={"USERS_TABLE": table},
    )
    api = RestApi(lab, "users", description="Users, kept by one function")
    apigw = api.apigw
    models_url = f"https://apigateway.amazonaws.com/restapis/{api.id}/models"
    for name, schema in {
        "User": USER,
        "NewUser": {**USER, "required": ["name"]},
        "Users": {"type": "array", "items": {"$ref": f"{models_url}/User"}},
        "Error": {"type": "object", "properties": {"message": {"type": "string"}}},
    }.items():
        apigw.create_model(
            restApiId=api.id, name=name, contentType="application/json", schema=json.dumps(schema)
        )

    def responses(path: str, verb: str, models: dict[str, str]) -> None:
        for status, model in models.items():
            apigw.put_method_response(
                restApiId=api.id,
                resourceId=api.resource(path),
                httpMethod=verb,
                statusCode=status,
                responseModels={"application/json": model},
            )

    api.method("/users", "GET", requestParameters={"method.request.querystring.prefix": False})
    api.lambda_integration("/users", "GET", function)
    responses("/users", "GET", {"200": "Users"})
    api.method(
        "/users", "POST", requestModels={"application/json": "NewUser"}, operationName="CreateUser"
    )
    api.lambda_integration("/users", "POST", function)
    responses("/users", "POST", {"201": "User", "400": "Error"})
    api.method("/users/{userId}", "GET", operationName="GetUser")
    api.lambda_integration("/users/{userId}", "GET", function)
    responses("/users/{userId}", "GET", {"200": "User", "404": "Error"})
    api.allow(function)
    api.deploy("dev")
    return api


@pytest.fixture(scope="module")
def users(lab, users_api):  # noqa: F811
    """The client module generated from the dev stage's oas30 export, with its integrations."""
    resp = lab.client("apigateway").get_export(
        restApiId=users_api.id,
        stageName="dev",
        exportType="oas30",
        parameters={"extensions": "integrations"},
    )
    return clientgen.load(clientgen.generate(resp["body"].read(), module_name="users_client"))


def test_a_client_generated_from_the_export_calls_the_api(lab, users_api, users):  # noqa: F811
    """GIVEN a client generated from the stage's own export WHEN it creates a user and reads it
    back THEN the API stores and returns it, the path parameter arriving decoded."""
    client = users.Client()

    created = client.create_user({"id": "ada lovelace/1", "name": "Ada Lovelace"})
    other = client.create_user({"name": "Grace Hopper"})
    fetched = client.get_user("ada lovelace/1")
    listed = client.get_users(prefix="Ada")

    assert users.BASE_URL == f"https://{users_api.id}.execute-api.{lab.region}.amazonaws.com/dev"
    assert [m for m in vars(users.Client) if not m.startswith("_")] == [
        "get_users",  # no operationName: named from GET /users
        "create_user",
        "get_user",
    ]
    assert client.create_user.__annotations__ == {"body": "NewUser", "return": "User"}
    assert client.get_users.__annotations__ == {"prefix": "str | None", "return": "Users"}
    assert created == {"id": "ada lovelace/1", "name": "Ada Lovelace"}
    assert other["name"] == "Grace Hopper" and len(other["id"]) == 8
    assert fetched == created
    assert listed == [created]


def test_a_404_from_the_api_raises_api_error_with_its_body(users):
    client = users.Client()

    with pytest.raises(users.ApiError) as missing:
        client.get_user("nobody")
    with pytest.raises(users.ApiError) as bad:
        client.create_user({"name": 42})

    assert missing.value.status == 404
    assert missing.value.body == {"message": "user 'nobody' not found"}
    assert missing.value.headers["Content-Type"] == "application/json"
    assert str(missing.value) == "HTTP 404: user 'nobody' not found"
    assert bad.value.status == 400 and str(bad.value) == "HTTP 400: name must be a string"


def test_api_gateways_own_errors_raise_api_error_too(users):
    """A path the API has no resource for: API Gateway itself answers, with its {"message"}."""
    client = users.Client(base_url=users.BASE_URL + "/not-a-resource")

    with pytest.raises(users.ApiError) as caught:
        client.get_user("ada")

    assert caught.value.status == 403
    assert str(caught.value) == "HTTP 403: Missing Authentication Token"
