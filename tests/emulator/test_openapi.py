"""OpenAPI and API Gateway: GetExport of a deployed stage, ImportRestApi and PutRestApi.

Contract: API Gateway developer guide, "Export a REST API from API Gateway" and "Develop REST
APIs using OpenAPI" (import, merge and overwrite, basePath, errors and warnings),
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-export-api.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api-update.html;
the x-amazon-apigateway-integration object,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html;
GetExport, https://docs.aws.amazon.com/apigateway/latest/api/API_GetExport.html. The exported
shape follows the documents AWS returned in LocalStack's validated snapshot tests
(test_apigateway_extended.snapshot.json); "Invalid OpenAPI input." is AWS's answer to a
document that is not OpenAPI 2.0 or 3.0 (test_apigateway_import.snapshot.json).
"""

from __future__ import annotations

import json
import re

import pytest
import requests
import yaml
from botocore.exceptions import ClientError
from openapi_spec_validator import validate

from tests.emulator.gateway_support import RestApi

BACKENDS = ("moto",)
BOTH = ("moto", "moto-server")
INTEGRATION = "x-amazon-apigateway-integration"


@pytest.fixture(scope="module")
def apigw(lab):
    return lab.client("apigateway")


@pytest.fixture(scope="module")
def echo(deploy):
    return deploy("oas-echo", "gateway_echo.py", handler="gateway_echo.handler")


def model(apigw, api: RestApi, name: str, schema: dict) -> None:
    apigw.create_model(
        restApiId=api.id, name=name, contentType="application/json", schema=json.dumps(schema)
    )


def model_ref(api: RestApi, name: str) -> str:
    return f"https://apigateway.amazonaws.com/restapis/{api.id}/models/{name}"


def method_response(apigw, api: RestApi, path: str, verb: str, status: str, **kwargs) -> None:
    apigw.put_method_response(
        restApiId=api.id,
        resourceId=api.resource(path),
        httpMethod=verb,
        statusCode=status,
        **kwargs,
    )


@pytest.fixture(scope="module")
def pets(lab, apigw, echo):
    """The pet store: models, parameters, an API key, a MOCK, an HTTP proxy, Lambda proxies."""
    api = RestApi(lab, "pets", description="Pets, served by one function")
    model(
        apigw,
        api,
        "Pet",
        {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Pet",
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
    )
    model(apigw, api, "Pets", {"type": "array", "items": {"$ref": model_ref(api, "Pet")}})
    validator = apigw.create_request_validator(
        restApiId=api.id, name="params-only", validateRequestParameters=True
    )["id"]
    apigw.update_rest_api(
        restApiId=api.id,
        patchOperations=[{"op": "add", "path": "/binaryMediaTypes/image~1png"}],
    )
    api.method(
        "/pets",
        "GET",
        requestParameters={"method.request.querystring.limit": False},
        requestValidatorId=validator,
    )
    api.lambda_integration("/pets", "GET", echo)
    method_response(
        apigw,
        api,
        "/pets",
        "GET",
        "200",
        responseModels={"application/json": "Pets"},
        responseParameters={"method.response.header.X-Total": False},
    )
    api.method(
        "/pets",
        "POST",
        requestModels={"application/json": "Pet"},
        apiKeyRequired=True,
        operationName="CreatePet",
    )
    api.lambda_integration("/pets", "POST", echo)
    method_response(apigw, api, "/pets", "POST", "201", responseModels={"application/json": "Pet"})
    api.lambda_proxy("/pets/{petId}", "GET", echo)
    method_response(apigw, api, "/pets/{petId}", "GET", "200")
    api.mock("/pets", "OPTIONS", 200)
    api.response(
        "/pets",
        "OPTIONS",
        "200",
        '{"allow": "GET,POST"}',
        parameters={"method.response.header.Access-Control-Allow-Origin": "'*'"},
    )
    api.method(
        "/files/{proxy+}",
        "ANY",
        requestParameters={"method.request.path.proxy": True},
    )
    api.integration(
        "/files/{proxy+}",
        "ANY",
        type="HTTP_PROXY",
        integrationHttpMethod="ANY",
        uri="https://files.example.com/{proxy}",
        requestParameters={"integration.request.path.proxy": "method.request.path.proxy"},
    )
    method_response(apigw, api, "/files/{proxy+}", "ANY", "200")
    api.allow(echo)
    api.deploy("dev")
    return api


def exported(apigw, api_id: str, stage: str, kind: str = "oas30", **kwargs) -> dict:
    resp = apigw.get_export(restApiId=api_id, stageName=stage, exportType=kind, **kwargs)
    return json.loads(resp["body"].read())


# ---- GetExport -------------------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_oas30_export_describes_the_deployed_stage(lab, apigw, pets):
    """GIVEN a deployed API WHEN get_export(oas30) THEN a valid OpenAPI 3.0.1 document of it."""
    doc = exported(apigw, pets.id, "dev")

    validate(doc)
    assert doc["openapi"] == "3.0.1"
    assert doc["info"]["title"] == pets.name
    assert doc["info"]["description"] == "Pets, served by one function"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", doc["info"]["version"])
    assert doc["servers"] == [
        {
            "url": f"https://{pets.id}.execute-api.{lab.region}.amazonaws.com/{{basePath}}",
            "variables": {"basePath": {"default": "dev"}},
        }
    ]
    assert set(doc["paths"]) == {"/pets", "/pets/{petId}", "/files/{proxy+}"}
    listing = doc["paths"]["/pets"]["get"]
    assert listing["parameters"] == [{"name": "limit", "in": "query", "schema": {"type": "string"}}]
    assert listing["responses"] == {
        "200": {
            "description": "200 response",
            "headers": {"X-Total": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pets"}}},
        }
    }
    create = doc["paths"]["/pets"]["post"]
    assert create["operationId"] == "CreatePet"
    assert create["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
        "required": True,
    }
    assert create["security"] == [{"api_key": []}]
    assert doc["paths"]["/pets/{petId}"]["get"]["parameters"] == [
        {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}
    ]
    assert doc["paths"]["/pets/{petId}"]["get"]["responses"]["200"]["content"] == {}
    files = doc["paths"]["/files/{proxy+}"]
    assert list(files) == ["x-amazon-apigateway-any-method"]
    assert files["x-amazon-apigateway-any-method"]["parameters"][0]["name"] == "proxy"
    assert doc["components"]["schemas"] == {
        "Pet": {
            "title": "Pet",
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "Pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
    }
    assert doc["components"]["securitySchemes"] == {
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}
    }
    assert INTEGRATION not in json.dumps(doc)  # no extensions asked


def test_the_integrations_extension_adds_each_methods_integration(apigw, pets, lab, echo):
    doc = exported(apigw, pets.id, "dev", parameters={"extensions": "integrations"})

    validate(doc)
    function_arn = f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{echo}"
    assert doc["paths"]["/pets"]["get"][INTEGRATION] == {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/"
        f"{function_arn}/invocations",
        "passthroughBehavior": "when_no_match",
    }
    assert doc["paths"]["/pets"]["options"][INTEGRATION] == {
        "type": "mock",
        "responses": {
            "default": {
                "statusCode": "200",
                "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"},
                "responseTemplates": {"application/json": '{"allow": "GET,POST"}'},
            }
        },
        "requestTemplates": {"application/json": '{"statusCode": 200}'},
        "passthroughBehavior": "when_no_match",
    }
    proxy = doc["paths"]["/files/{proxy+}"]["x-amazon-apigateway-any-method"][INTEGRATION]
    assert proxy["type"] == "http_proxy" and proxy["httpMethod"] == "ANY"
    assert proxy["requestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    assert "x-amazon-apigateway-binary-media-types" not in doc


def test_the_apigateway_extension_adds_the_apis_own_extensions(apigw, pets):
    doc = exported(apigw, pets.id, "dev", parameters={"extensions": "apigateway"})

    assert INTEGRATION in doc["paths"]["/pets"]["get"]
    assert doc["x-amazon-apigateway-binary-media-types"] == ["image/png"]
    assert doc["x-amazon-apigateway-request-validators"] == {
        "params-only": {"validateRequestBody": False, "validateRequestParameters": True}
    }
    assert doc["paths"]["/pets"]["get"]["x-amazon-apigateway-request-validator"] == "params-only"


def test_swagger_export_is_openapi_2(lab, apigw, pets):
    doc = exported(apigw, pets.id, "dev", "swagger", parameters={"extensions": "integrations"})

    validate(doc)
    assert doc["swagger"] == "2.0"
    assert doc["host"] == f"{pets.id}.execute-api.{lab.region}.amazonaws.com"
    assert (doc["basePath"], doc["schemes"]) == ("/dev", ["https"])
    listing = doc["paths"]["/pets"]["get"]
    assert listing["produces"] == ["application/json"]
    assert listing["parameters"] == [
        {"name": "limit", "in": "query", "required": False, "type": "string"}
    ]
    assert listing["responses"]["200"]["schema"] == {"$ref": "#/definitions/Pets"}
    assert listing["responses"]["200"]["headers"] == {"X-Total": {"type": "string"}}
    create = doc["paths"]["/pets"]["post"]
    assert create["consumes"] == ["application/json"]
    assert create["parameters"] == [
        {"in": "body", "name": "Pet", "required": True, "schema": {"$ref": "#/definitions/Pet"}}
    ]
    assert doc["definitions"]["Pets"]["items"] == {"$ref": "#/definitions/Pet"}
    assert doc["securityDefinitions"]["api_key"]["name"] == "x-api-key"
    assert doc["paths"]["/pets"]["options"]["consumes"] == ["application/json"]  # its template


def test_the_export_is_the_deployment_not_the_api_as_edited_since(apigw, pets):
    """GIVEN DELETE /pets added after `dev` was deployed WHEN exported THEN dev lacks it until a
    deployment includes it."""
    pets.mock("/pets/{petId}", "DELETE", 204)
    pets.deploy("next")

    dev = exported(apigw, pets.id, "dev")
    following = exported(apigw, pets.id, "next")

    assert "delete" not in dev["paths"]["/pets/{petId}"]
    assert "delete" in following["paths"]["/pets/{petId}"]
    assert following["servers"][0]["variables"]["basePath"]["default"] == "next"


def test_export_answers_as_a_download_in_json_or_yaml(apigw, pets):
    as_json = apigw.get_export(restApiId=pets.id, stageName="dev", exportType="oas30")
    as_yaml = apigw.get_export(
        restApiId=pets.id, stageName="dev", exportType="oas30", accepts="application/yaml"
    )
    doc = json.loads(as_json["body"].read())

    assert as_json["contentType"] == "application/octet-stream"
    version = doc["info"]["version"]
    assert as_json["contentDisposition"] == f'attachment; filename="oas30_{version}.json"'
    assert as_yaml["contentDisposition"] == f'attachment; filename="oas30_{version}.yaml"'
    assert yaml.safe_load(as_yaml["body"].read()) == doc


def test_export_errors(apigw, pets):
    with pytest.raises(ClientError) as no_stage:
        apigw.get_export(restApiId=pets.id, stageName="nope", exportType="oas30")
    with pytest.raises(ClientError) as no_api:
        apigw.get_export(restApiId="nope123456", stageName="dev", exportType="oas30")

    assert no_stage.value.response["Error"]["Code"] == "NotFoundException"
    assert no_stage.value.response["Error"]["Message"] == "Invalid stage identifier specified"
    assert no_api.value.response["Error"]["Code"] == "NotFoundException"


# ---- ImportRestApi -------------------------------------------------------------------------
def inventory_doc(function_uri: str) -> dict:
    """An OpenAPI 3 document with a MOCK, a Lambda proxy, a model, parameters and an API key."""
    return {
        "openapi": "3.0.1",
        "info": {"title": "inventory", "version": "2024-05-01"},  # no description
        "paths": {
            "/health": {
                "get": {
                    "responses": {"200": {"description": "ok"}},
                    INTEGRATION: {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'},
                        "responses": {
                            "default": {
                                "statusCode": "200",
                                "responseTemplates": {"application/json": '{"healthy": true}'},
                            }
                        },
                    },
                }
            },
            "/items/{itemId}": {
                "parameters": [
                    {"name": "itemId", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": {
                    "parameters": [{"name": "fields", "in": "query", "schema": {"type": "string"}}],
                    "responses": {
                        "200": {
                            "description": "the item",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Item"}
                                }
                            },
                        }
                    },
                    "security": [{"api_key": []}],
                    INTEGRATION: {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": function_uri,
                        "passthroughBehavior": "when_no_match",
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "Item": {"type": "object", "properties": {"sku": {"type": "string"}}},
            },
            "securitySchemes": {"api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}},
        },
        "x-amazon-apigateway-binary-media-types": ["image/png"],
    }


def function_uri(lab, function: str) -> str:
    arn = f"arn:aws:lambda:{lab.region}:{lab.account_id}:function:{function}"
    return f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/{arn}/invocations"


def allow(lab, function: str, api_id: str) -> None:
    lab.client("lambda").add_permission(
        FunctionName=function,
        StatementId=f"apigw-{api_id}",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{lab.region}:{lab.account_id}:{api_id}/*/*",
    )


def resources_by_path(apigw, api_id: str) -> dict:
    return {r["path"]: r for r in apigw.get_resources(restApiId=api_id)["items"]}


@pytest.mark.backends(*BOTH)
def test_import_builds_the_api_and_it_serves_requests(lab, apigw, echo):
    """GIVEN an OpenAPI 3 document WHEN import_rest_api THEN resources, methods, models and
    integrations as it says, and once deployed the MOCK and the Lambda proxy answer."""
    created = apigw.import_rest_api(body=json.dumps(inventory_doc(function_uri(lab, echo))))
    api_id = created["id"]
    lab.client("apigateway").create_deployment(restApiId=api_id, stageName="prod")
    allow(lab, echo, api_id)
    key = apigw.create_api_key(name=lab.name("inventory-key"), enabled=True)
    plan = apigw.create_usage_plan(
        name=lab.name("inventory-plan"), apiStages=[{"apiId": api_id, "stage": "prod"}]
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    base = f"https://{api_id}.execute-api.{lab.region}.amazonaws.com/prod"

    health = requests.get(f"{base}/health")
    keyless = requests.get(f"{base}/items/42")
    item = requests.get(f"{base}/items/42?fields=sku", headers={"x-api-key": key["value"]})

    assert created["name"] == "inventory" and created["version"] == "2024-05-01"
    assert created["binaryMediaTypes"] == ["image/png"]
    resources = resources_by_path(apigw, api_id)
    assert set(resources) == {"/", "/health", "/items", "/items/{itemId}"}
    method = apigw.get_method(
        restApiId=api_id, resourceId=resources["/items/{itemId}"]["id"], httpMethod="GET"
    )
    assert method["apiKeyRequired"] is True
    assert method["requestParameters"] == {
        "method.request.path.itemId": True,
        "method.request.querystring.fields": False,
    }
    assert method["methodResponses"]["200"]["responseModels"] == {"application/json": "Item"}
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    assert method["methodIntegration"]["uri"] == function_uri(lab, echo)
    item_model = json.loads(apigw.get_model(restApiId=api_id, modelName="Item")["schema"])
    assert item_model["properties"] == {"sku": {"type": "string"}}
    assert health.status_code == 200 and health.json() == {"healthy": True}
    assert keyless.status_code == 403
    assert item.status_code == 200, item.text
    event = item.json()["event"]
    assert event["resource"] == "/items/{itemId}"
    assert event["pathParameters"] == {"itemId": "42"}
    assert event["queryStringParameters"] == {"fields": "sku"}


def test_import_reads_swagger_2_and_yaml(lab, apigw):
    swagger = {
        "swagger": "2.0",
        "info": {"title": "legacy", "version": "1"},
        "basePath": "/v1",
        "produces": ["application/json"],
        "paths": {
            "/ping": {
                "get": {
                    "parameters": [{"name": "X-Probe", "in": "header", "type": "string"}],
                    "responses": {
                        "200": {"description": "pong", "schema": {"$ref": "#/definitions/Pong"}}
                    },
                    INTEGRATION: {
                        "type": "mock",
                        "requestTemplates": {"application/json": '{"statusCode": 200}'},
                        "responses": {
                            "default": {
                                "statusCode": "200",
                                "responseTemplates": {"application/json": '{"pong": true}'},
                            }
                        },
                    },
                }
            }
        },
        "definitions": {"Pong": {"type": "object"}},
    }

    created = apigw.import_rest_api(body=yaml.safe_dump(swagger).encode())
    apigw.create_deployment(restApiId=created["id"], stageName="test")
    resp = requests.get(f"https://{created['id']}.execute-api.{lab.region}.amazonaws.com/test/ping")

    ping = resources_by_path(apigw, created["id"])["/ping"]
    method = apigw.get_method(restApiId=created["id"], resourceId=ping["id"], httpMethod="GET")
    assert method["requestParameters"] == {"method.request.header.X-Probe": False}
    assert method["methodResponses"]["200"]["responseModels"] == {"application/json": "Pong"}
    assert resp.status_code == 200 and resp.json() == {"pong": True}


def test_basepath_prepend_puts_the_base_path_in_front_of_every_path(apigw):
    doc = {
        "swagger": "2.0",
        "info": {"title": "based", "version": "1"},
        "basePath": "/v1",
        "paths": {"/ping": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }

    created = apigw.import_rest_api(body=json.dumps(doc), parameters={"basepath": "prepend"})

    assert set(resources_by_path(apigw, created["id"])) == {"/", "/v1", "/v1/ping"}


@pytest.mark.backends(*BOTH)
def test_an_exported_stage_imports_as_a_clone_that_serves_requests(lab, apigw, pets, echo):
    """GIVEN dev exported with its integrations WHEN imported and deployed as prod THEN the clone
    answers as the original does, and exports the same definition."""
    original = exported(apigw, pets.id, "dev", parameters={"extensions": "apigateway"})
    clone = apigw.import_rest_api(body=json.dumps(original).encode(), failOnWarnings=True)
    apigw.create_deployment(restApiId=clone["id"], stageName="prod")
    allow(lab, echo, clone["id"])
    url = f"https://{clone['id']}.execute-api.{lab.region}.amazonaws.com/prod"

    pet = requests.get(f"{url}/pets/7")
    options = requests.options(f"{url}/pets")
    again = exported(apigw, clone["id"], "prod", parameters={"extensions": "apigateway"})

    assert clone["id"] != pets.id and clone["name"] == pets.name
    assert pet.status_code == 200, pet.text
    assert pet.json()["event"]["pathParameters"] == {"petId": "7"}
    assert pet.json()["event"]["requestContext"]["apiId"] == clone["id"]
    assert options.status_code == 200 and options.json() == {"allow": "GET,POST"}
    assert options.headers["Access-Control-Allow-Origin"] == "*"
    original.pop("servers"), again.pop("servers")
    assert json.dumps(again, sort_keys=True) == json.dumps(original, sort_keys=True)


# ---- PutRestApi ----------------------------------------------------------------------------
def two_methods(lab, name: str) -> RestApi:
    """GET /a (200, 206), POST /a (200, 206), GET /b, deployed to prod."""
    api = RestApi(lab, name)
    for path, verb in (("/a", "GET"), ("/a", "POST"), ("/b", "GET")):
        api.mock(path, verb, 200)
        api.response(path, verb, "200", '{"path": "' + path + '"}')
        method_response(api.apigw, api, path, verb, "206")
    api.deploy("prod")
    return api


def a_doc(*statuses: str) -> dict:
    return {
        "openapi": "3.0.1",
        "info": {"title": "A", "version": "2"},
        "paths": {
            "/a": {
                "get": {
                    "responses": {s: {"description": f"{s} response"} for s in statuses},
                    INTEGRATION: {"type": "mock", "requestTemplates": {"application/json": "{}"}},
                }
            }
        },
    }


def methods_of(apigw, api_id: str) -> dict:
    out = {}
    for path, resource in resources_by_path(apigw, api_id).items():
        for verb, method in (resource.get("resourceMethods") or {}).items():
            out[f"{verb} {path}"] = sorted(method.get("methodResponses") or {})
    return out


def test_merge_keeps_other_methods_and_the_documents_method_wins(lab, apigw):
    """The guide's example: B has GET /a and POST /a (200, 206); merging A's GET /a (200, 400)
    leaves GET /a with 200 and 400 and POST /a with 200 and 206."""
    api = two_methods(lab, "merge")

    apigw.put_rest_api(restApiId=api.id, mode="merge", body=json.dumps(a_doc("200", "400")))

    assert methods_of(apigw, api.id) == {
        "GET /a": ["200", "400"],
        "POST /a": ["200", "206"],
        "GET /b": ["200", "206"],
    }


def test_overwrite_replaces_the_definition_but_keeps_the_root_and_stages(lab, apigw):
    api = two_methods(lab, "overwrite")
    root = api.ids["/"]

    result = apigw.put_rest_api(restApiId=api.id, mode="overwrite", body=json.dumps(a_doc("200")))

    assert methods_of(apigw, api.id) == {"GET /a": ["200"]}
    assert resources_by_path(apigw, api.id)["/"]["id"] == root
    assert result["name"] == "A"
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api.id)["item"]] == ["prod"]
    still = requests.get(api.url("/b"))  # prod serves its deployment until the next one
    assert still.status_code == 200 and still.json() == {"path": "/b"}


# ---- refused documents ---------------------------------------------------------------------
BAD_ARN_DOC = {
    "openapi": "3.0.1",
    "info": {"title": "bad", "version": "1"},
    "paths": {
        "/x": {
            "get": {
                "responses": {"200": {"description": "ok"}},
                INTEGRATION: {"type": "aws_proxy", "httpMethod": "POST", "uri": "not-an-arn"},
            }
        }
    },
}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"paths: [unclosed", "Invalid OpenAPI input."),
        (
            b'{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}',
            "Invalid OpenAPI input.",
        ),
        (b'{"swagger": "2.0", "paths": {}}', "Invalid OpenAPI input."),
        (
            json.dumps(BAD_ARN_DOC).encode(),
            "Errors found during import:\n\n- Unable to put integration on 'GET' for resource at "
            "path '/x': Invalid ARN specified in the request",
        ),
        (
            json.dumps(
                {
                    **BAD_ARN_DOC,
                    "paths": {"/x y": {"get": {"responses": {"200": {"description": "ok"}}}}},
                }
            ).encode(),
            "Errors found during import:\n\n- Unable to create resource at path '/x y': ",
        ),
    ],
    ids=["not-yaml", "openapi-3.1", "no-info", "bad-arn", "bad-path"],
)
def test_import_refuses_bad_documents_and_creates_nothing(apigw, body, message):
    before = {a["id"] for a in apigw.get_rest_apis()["items"]}

    with pytest.raises(ClientError) as caught:
        apigw.import_rest_api(body=body)

    error = caught.value.response["Error"]
    assert error["Code"] == "BadRequestException"
    assert error["Message"].startswith(message)
    assert {a["id"] for a in apigw.get_rest_apis()["items"]} == before


def test_put_rest_api_with_a_bad_document_changes_nothing(lab, apigw):
    api = two_methods(lab, "put-bad")
    before = methods_of(apigw, api.id)

    with pytest.raises(ClientError) as caught:
        apigw.put_rest_api(restApiId=api.id, mode="overwrite", body=json.dumps(BAD_ARN_DOC))
    with pytest.raises(ClientError) as bad_mode:
        apigw.put_rest_api(restApiId=api.id, mode="replace", body=json.dumps(a_doc("200")))

    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    assert bad_mode.value.response["Error"]["Message"] == (
        'Enumeration value of OpenAPI import mode must be "overwrite" or "merge"'
    )
    assert methods_of(apigw, api.id) == before


def test_a_missing_model_is_a_warning_unless_fail_on_warnings(apigw):
    doc = a_doc("200")
    doc["paths"]["/a"]["get"]["responses"]["200"]["content"] = {
        "application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}
    }
    warning = (
        "Parse issue: attribute paths.'/a'(get).responses.200.content.schema."
        "#/components/schemas/Missing is missing"
    )
    before = {a["id"] for a in apigw.get_rest_apis()["items"]}

    with pytest.raises(ClientError) as caught:
        apigw.import_rest_api(body=json.dumps(doc), failOnWarnings=True)
    assert {a["id"] for a in apigw.get_rest_apis()["items"]} == before
    created = apigw.import_rest_api(body=json.dumps(doc))

    assert (
        caught.value.response["Error"]["Message"] == f"Warnings found during import:\n\t{warning}"
    )
    assert created["warnings"] == [warning]


def test_an_imported_api_can_be_tagged(lab, apigw):
    created = apigw.import_rest_api(body=json.dumps(a_doc("200")))
    arn = f"arn:aws:apigateway:{lab.region}::/restapis/{created['id']}"

    apigw.tag_resource(resourceArn=arn, tags={"team": "orders"})
    apigw.untag_resource(resourceArn=arn, tagKeys=["lab"])

    assert apigw.get_tags(resourceArn=arn)["tags"]["team"] == "orders"
    assert apigw.get_rest_api(restApiId=created["id"])["tags"]["team"] == "orders"


def test_a_cognito_authorizer_survives_export_and_import(lab, apigw):
    """GIVEN a method behind a COGNITO_USER_POOLS authorizer with scopes WHEN exported with the
    apigateway extensions and imported THEN the clone's method uses an equal authorizer."""
    pool_arn = f"arn:aws:cognito-idp:{lab.region}:{lab.account_id}:userpool/{lab.region}_Example"
    api = RestApi(lab, "members")
    authorizer = apigw.create_authorizer(
        restApiId=api.id,
        name="members-pool",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool_arn],
        identitySource="method.request.header.Authorization",
    )["id"]
    api.mock(
        "/videos",
        "GET",
        200,
        auth="COGNITO_USER_POOLS",
        authorizerId=authorizer,
        authorizationScopes=["videos/read"],
    )
    api.response("/videos", "GET", "200", "{}")
    api.deploy("dev")

    doc = exported(apigw, api.id, "dev", parameters={"extensions": "apigateway"})
    clone = apigw.import_rest_api(body=json.dumps(doc))
    videos = resources_by_path(apigw, clone["id"])["/videos"]
    method = apigw.get_method(restApiId=clone["id"], resourceId=videos["id"], httpMethod="GET")
    (imported,) = apigw.get_authorizers(restApiId=clone["id"])["items"]

    assert doc["paths"]["/videos"]["get"]["security"] == [{"members-pool": ["videos/read"]}]
    scheme = doc["components"]["securitySchemes"]["members-pool"]
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert scheme["x-amazon-apigateway-authorizer"]["providerARNs"] == [pool_arn]
    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert method["authorizerId"] == imported["id"]
    assert method["authorizationScopes"] == ["videos/read"]
    assert imported["type"] == "COGNITO_USER_POOLS"
    assert imported["providerARNs"] == [pool_arn]
    assert imported["name"] == "members-pool"
