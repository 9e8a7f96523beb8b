"""REST API definitions as OpenAPI: GetExport of a deployed stage; ImportRestApi and PutRestApi.

moto's GetExport returns a thin Swagger 2.0 of the API as it is now, whatever is asked, and its
importer crashes without `info.description`, reads OpenAPI 3 only and drops most of a method.
This module answers the three calls as API Gateway does
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-export-api.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-import-api.html):

- **GetExport** (`oas30` or `swagger`) describes the stage's deployment as `CreateDeployment`
  froze it (gateway.Snapshot.definition, built by `describe_api`), not the API as edited
  since: paths; methods (`x-amazon-apigateway-any-method` for ANY); path, query and header
  parameters; request bodies and responses with their models (`#/components/schemas/...` or
  `#/definitions/...`); response headers; `operationId`; security (API keys, authorizers,
  IAM); `servers` with the stage URL (`basePath` in Swagger 2.0). `parameters={'extensions':
  'integrations'}` adds `x-amazon-apigateway-integration` (type, httpMethod, uri, credentials,
  requestParameters, requestTemplates, responses, passthroughBehavior, contentHandling,
  timeoutInMillis, cache keys); `'apigateway'` adds that and the API's other extensions (binary
  media types, request validators, gateway responses, API key source, authorizers);
  `'authorizers'` adds `x-amazon-apigateway-authorizer`. `Accept: application/yaml` answers
  YAML. The shape follows the exports AWS returned for LocalStack's validated snapshot tests
  (tests/aws/services/apigateway/test_apigateway_extended.snapshot.json): `content: {}` on a
  response without a model, `components: {}` when empty, `contentType:
  application/octet-stream` and `attachment; filename="oas30_<version>.json"`. A method with
  no method response is exported without `responses`, as AWS exports it; OpenAPI requires
  them, so declare `put_method_response` before handing the document to a client generator.
- **ImportRestApi** and **PutRestApi** (`mode=overwrite|merge`) take OpenAPI 3.0 or Swagger
  2.0, JSON or YAML, and build resources, methods, parameters, models, method responses,
  integrations and their responses, API keys, authorizers, request validators, binary media
  types and gateway responses. An export imports back unchanged, so one definition makes a dev
  and a prod API that both really serve requests through the gateway. The document is checked
  whole before anything changes ("When an error occurs, the new API definition is discarded
  and no change is made"); errors are AWS's BadRequestException: "Invalid OpenAPI input." for a
  document that does not parse as OpenAPI 2.0 or 3.0 (3.1 included), and "Errors found during
  import:" followed by one `- Unable to ...` line per bad resource, method or integration, with
  API Gateway's own messages ("Invalid ARN specified in the request", "AWS ARN for integration
  must contain path or action", "Invalid HTTP endpoint specified for URI", "Timeout should be
  between 50 ms and 29000 ms"...). Warnings (a `$ref` to a missing model, an operation without
  `responses`: "Parse issue: attribute paths.'/x'(get).responses is missing") come back in the
  RestApi's `warnings`; with `failonwarnings=true` they refuse the import ("Warnings found
  during import:"). Overwrite replaces the definition (the root resource keeps its id; stages,
  deployments and API keys stay); merge replaces only the methods and models the document
  defines. `parameters={'basepath': 'ignore'|'prepend'|'split'}` and
  `{'endpointConfigurationTypes': 'REGIONAL'}` are read as AWS documents them.

Simplified: an inline schema (not a `$ref`) becomes a model named after the operation; OpenAPI
features API Gateway ignores (examples, descriptions of parameters, tags) are dropped;
documentation parts, VPC links and `x-amazon-apigateway-policy` are not imported; `postman`
exports are plain exports.

moto seams (tests/emulator/test_moto_seams.py checks them): `APIGatewayResponse.get_export`,
`.import_rest_api` and `.put_rest_api` are replaced; the backend's `create_rest_api`,
`create_resource`, `put_method`, `put_method_response`, `put_integration`,
`put_integration_response`, `create_model`, `create_authorizer` and `create_request_validator`
build the API; `Method.to_json`, `Model`, `Authorizer.to_json` and `RequestValidator.to_dict`
are read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

INTEGRATION = "x-amazon-apigateway-integration"
ANY_METHOD = "x-amazon-apigateway-any-method"
_VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
_PARAM_IN = {"path": "path", "querystring": "query", "header": "header"}
_PARAM_SOURCE = {"path": "path", "query": "querystring", "header": "header"}
_PATH_PART = re.compile(r"^(\{[a-zA-Z0-9._\-:]+\+?\}|[a-zA-Z0-9._\-:]+)$")
_MODEL_NAME = re.compile(r"^[a-zA-Z0-9]+$")
_INTEGRATION_TYPES = ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK")
_AWS_URI = re.compile(r"^arn:aws[a-z-]*:apigateway:[a-zA-Z0-9-]+:[a-zA-Z0-9-.]+:(path|action)/")
_MODEL_URL = "https://apigateway.amazonaws.com/restapis/{api}/models/{name}"
_DEFAULT_TIMEOUT_MS = 29_000
_INVALID_INPUT = "Invalid OpenAPI input."


# ---- what a deployment freezes ---------------------------------------------------------------
def describe_api(api: Any, deployment_id: str | None = None) -> dict[str, Any]:
    """The API as GetRestApi, GetResources, GetModels and GetAuthorizers describe it, frozen."""
    deployment = (getattr(api, "deployments", None) or {}).get(deployment_id)
    resources = []
    for resource in list(api.resources.values()):
        methods = {verb: m.to_json() for verb, m in dict(resource.resource_methods).items()}
        resources.append({"id": resource.id, "path": resource.get_path(), "methods": methods})
    definition = {
        "name": api.name,
        "description": api.description or None,
        # moto gives every API version "V1"; AWS has none unless the API was given one
        "version": None if api.version in (None, "", "V1") else api.version,
        "deployedAt": getattr(deployment, "created_date", None) or api.create_date,
        "binaryMediaTypes": [t.replace("~1", "/") for t in api.binaryMediaTypes or []],
        "apiKeySource": getattr(api, "api_key_source", None) or "HEADER",
        "minimumCompressionSize": getattr(api, "minimum_compression_size", None),
        "resources": sorted(resources, key=lambda r: r["path"]),
        "models": [m.to_json() for m in list(api.models.values())],
        "authorizers": [a.to_json() for a in list(api.authorizers.values())],
        "requestValidators": [v.to_dict() for v in list(api.request_validators.values())],
        "gatewayResponses": [g.to_json() for g in list(api.gateway_responses.values())],
    }
    return json.loads(json.dumps(definition, default=str))


# ---- GetExport -------------------------------------------------------------------------------
def export(
    definition: dict[str, Any],
    *,
    api_id: str,
    region: str,
    stage: str,
    export_type: str,
    extensions: set[str],
) -> dict[str, Any]:
    """The OpenAPI 3.0.1 (`oas30`) or Swagger 2.0 (`swagger`) document of a frozen definition."""
    oas3 = export_type == "oas30"
    with_integrations = bool(extensions & {"integrations", "apigateway"})
    with_authorizers = bool(extensions & {"authorizers", "apigateway"})
    with_api_extensions = "apigateway" in extensions
    ref_base = "#/components/schemas/" if oas3 else "#/definitions/"
    version = definition.get("version") or _iso(definition.get("deployedAt"))
    info: dict[str, Any] = {"title": definition["name"]}
    if definition.get("description"):
        info["description"] = definition["description"]
    info["version"] = version
    doc: dict[str, Any]
    if oas3:
        doc = {
            "openapi": "3.0.1",
            "info": info,
            "servers": [
                {
                    "url": f"https://{api_id}.execute-api.{region}.amazonaws.com/{{basePath}}",
                    "variables": {"basePath": {"default": stage}},
                }
            ],
        }
    else:
        doc = {
            "swagger": "2.0",
            "info": info,
            "host": f"{api_id}.execute-api.{region}.amazonaws.com",
            "basePath": f"/{stage}",
            "schemes": ["https"],
        }
    authorizers = {a["id"]: a for a in definition.get("authorizers") or []}
    validators = {v["id"]: v for v in definition.get("requestValidators") or []}
    schemes: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for resource in definition.get("resources") or []:
        operations: dict[str, Any] = {}
        for verb, method in sorted(resource["methods"].items()):
            operation = _export_method(
                resource["path"], method, oas3=oas3, ref_base=ref_base, schemes=schemes,
                authorizers=authorizers, with_authorizers=with_authorizers,
            )  # fmt: skip
            validator = validators.get(method.get("requestValidatorId") or "")
            if with_api_extensions and validator:
                operation["x-amazon-apigateway-request-validator"] = validator["name"]
            integration = method.get("methodIntegration")
            if with_integrations and integration:
                operation[INTEGRATION] = _export_integration(integration)
            key = ANY_METHOD if verb == "ANY" else verb.lower()
            operations[key] = operation
        if operations:
            paths[resource["path"]] = operations
    doc["paths"] = paths
    models = {
        m["name"]: _export_schema(m.get("schema"), ref_base)
        for m in definition.get("models") or []
        if (m.get("contentType") or "application/json") == "application/json"
    }
    if oas3:
        components: dict[str, Any] = {}
        if models:
            components["schemas"] = models
        if schemes:
            components["securitySchemes"] = schemes
        doc["components"] = components
    else:
        if models:
            doc["definitions"] = models
        if schemes:
            doc["securityDefinitions"] = schemes
    if with_api_extensions:
        doc.update(_api_extensions(definition))
    return doc


def _export_method(
    path: str,
    method: dict[str, Any],
    *,
    oas3: bool,
    ref_base: str,
    schemes: dict[str, Any],
    authorizers: dict[str, Any],
    with_authorizers: bool,
) -> dict[str, Any]:
    operation: dict[str, Any] = {}
    if method.get("operationName"):
        operation["operationId"] = method["operationName"]
    request_models = dict(method.get("requestModels") or {})
    integration = method.get("methodIntegration") or {}
    if not oas3:
        consumes = list(request_models) + [
            t for t in integration.get("requestTemplates") or {} if t not in request_models
        ]
        produces: list[str] = []
        for code, response in (method.get("methodResponses") or {}).items():
            produces += [t for t in response.get("responseModels") or {} if t not in produces]
            templates = ((integration.get("integrationResponses") or {}).get(code) or {}).get(
                "responseTemplates"
            ) or {}
            produces += [t for t in templates if t not in produces]
        if consumes:
            operation["consumes"] = consumes
        if produces:
            operation["produces"] = produces
    parameters = _export_parameters(path, method.get("requestParameters") or {}, oas3)
    if not oas3:
        for model in list(request_models.values())[:1]:
            parameters.append(
                {
                    "in": "body",
                    "name": model,
                    "required": True,
                    "schema": {"$ref": ref_base + model},
                }
            )
    if parameters:
        operation["parameters"] = parameters
    if oas3 and request_models:
        operation["requestBody"] = {
            "content": {
                content_type: {"schema": {"$ref": ref_base + model}}
                for content_type, model in request_models.items()
            },
            "required": True,
        }
    responses = {}
    for code, response in sorted((method.get("methodResponses") or {}).items()):
        out: dict[str, Any] = {"description": f"{code} response"}
        models = response.get("responseModels") or {}
        if not oas3 and models:
            out["schema"] = {"$ref": ref_base + next(iter(models.values()))}
        headers = {
            name.removeprefix("method.response.header."): (
                {"schema": {"type": "string"}} if oas3 else {"type": "string"}
            )
            for name in response.get("responseParameters") or {}
            if name.startswith("method.response.header.")
        }
        if headers:
            out["headers"] = headers
        if oas3:
            out["content"] = {
                content_type: {"schema": {"$ref": ref_base + model}}
                for content_type, model in models.items()
            }
        responses[code] = out
    if responses:
        operation["responses"] = responses
    security = _export_security(method, schemes, authorizers, with_authorizers)
    if security:
        operation["security"] = [security]
    return operation


def _export_parameters(
    path: str, request_parameters: dict[str, Any], oas3: bool
) -> list[dict[str, Any]]:
    declared = []
    for key, required in request_parameters.items():
        source, _, name = key.removeprefix("method.request.").partition(".")
        if source in _PARAM_IN:
            declared.append((_PARAM_IN[source], name, bool(required)))
    # every {name} of the resource path is a parameter, declared or not
    for part in re.findall(r"\{([^}]+)\}", path):
        name = part.rstrip("+")
        if not any(where == "path" and n == name for where, n, _ in declared):
            declared.insert(0, ("path", name, True))
    out = []
    for where, name, required in declared:
        parameter: dict[str, Any] = {"name": name, "in": where}
        required = required or where == "path"
        if oas3:
            if required:
                parameter["required"] = True
            parameter["schema"] = {"type": "string"}
        else:
            parameter["required"] = required
            parameter["type"] = "string"
        out.append(parameter)
    return out


def _export_security(
    method: dict[str, Any],
    schemes: dict[str, Any],
    authorizers: dict[str, Any],
    with_authorizers: bool,
) -> dict[str, list[str]]:
    security: dict[str, list[str]] = {}
    kind = (method.get("authorizationType") or "NONE").upper()
    if kind == "AWS_IAM":
        schemes["sigv4"] = {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
        security["sigv4"] = []
    elif kind in ("COGNITO_USER_POOLS", "CUSTOM"):
        authorizer = authorizers.get(method.get("authorizerId") or "")
        if authorizer:
            name = authorizer["name"]
            schemes[name] = _export_authorizer(authorizer, with_authorizers)
            security[name] = list(method.get("authorizationScopes") or [])
    if method.get("apiKeyRequired"):
        schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
        security["api_key"] = []
    return security


def _export_authorizer(authorizer: dict[str, Any], with_details: bool) -> dict[str, Any]:
    source = authorizer.get("identitySource") or "method.request.header.Authorization"
    header = source.split(",")[0].strip().removeprefix("method.request.header.")
    scheme: dict[str, Any] = {"type": "apiKey", "name": header, "in": "header"}
    kind = (authorizer.get("type") or "").upper()
    if not with_details:
        return scheme
    scheme["x-amazon-apigateway-authtype"] = (
        "cognito_user_pools" if kind == "COGNITO_USER_POOLS" else "custom"
    )
    details: dict[str, Any] = {"type": kind.lower()}
    if authorizer.get("providerARNs"):
        details["providerARNs"] = authorizer["providerARNs"]
    if authorizer.get("authorizerUri"):
        details["authorizerUri"] = authorizer["authorizerUri"]
    if authorizer.get("authorizerCredentials"):
        details["authorizerCredentials"] = authorizer["authorizerCredentials"]
    if kind != "COGNITO_USER_POOLS" or authorizer.get("identitySource"):
        details["identitySource"] = source
    if authorizer.get("identityValidationExpression"):
        details["identityValidationExpression"] = authorizer["identityValidationExpression"]
    if authorizer.get("authorizerResultTtlInSeconds") is not None:
        details["authorizerResultTtlInSeconds"] = authorizer["authorizerResultTtlInSeconds"]
    scheme["x-amazon-apigateway-authorizer"] = details
    return scheme


def _export_integration(integration: dict[str, Any]) -> dict[str, Any]:
    kind = (integration.get("type") or "").upper()
    out: dict[str, Any] = {"type": kind.lower()}
    if integration.get("credentials"):
        out["credentials"] = integration["credentials"]
    if kind != "MOCK":
        if integration.get("httpMethod"):
            out["httpMethod"] = integration["httpMethod"]
        if integration.get("uri"):
            out["uri"] = integration["uri"]
    responses = {}
    for code, response in (integration.get("integrationResponses") or {}).items():
        entry: dict[str, Any] = {"statusCode": str(response.get("statusCode") or code)}
        if response.get("responseParameters"):
            entry["responseParameters"] = response["responseParameters"]
        templates = {k: v for k, v in (response.get("responseTemplates") or {}).items() if v}
        if templates:
            entry["responseTemplates"] = templates
        if response.get("contentHandling"):
            entry["contentHandling"] = response["contentHandling"]
        responses[response.get("selectionPattern") or "default"] = entry
    if responses:
        out["responses"] = responses
    if integration.get("requestParameters"):
        out["requestParameters"] = integration["requestParameters"]
    templates = {k: v for k, v in (integration.get("requestTemplates") or {}).items() if v}
    if templates:
        out["requestTemplates"] = templates
    out["passthroughBehavior"] = (integration.get("passthroughBehavior") or "WHEN_NO_MATCH").lower()
    if integration.get("contentHandling"):
        out["contentHandling"] = integration["contentHandling"]
    timeout = integration.get("timeoutInMillis")
    if timeout and int(timeout) != _DEFAULT_TIMEOUT_MS:
        out["timeoutInMillis"] = int(timeout)
    if integration.get("cacheNamespace"):
        out["cacheNamespace"] = integration["cacheNamespace"]
    if integration.get("cacheKeyParameters"):
        out["cacheKeyParameters"] = list(integration["cacheKeyParameters"])
    return out


def _api_extensions(definition: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if definition.get("binaryMediaTypes"):
        out["x-amazon-apigateway-binary-media-types"] = list(definition["binaryMediaTypes"])
    if (definition.get("apiKeySource") or "HEADER") != "HEADER":
        out["x-amazon-apigateway-api-key-source"] = definition["apiKeySource"]
    if definition.get("minimumCompressionSize") is not None:
        out["x-amazon-apigateway-minimum-compression-size"] = int(
            definition["minimumCompressionSize"]
        )
    validators = {
        v["name"]: {
            "validateRequestBody": bool(v.get("validateRequestBody")),
            "validateRequestParameters": bool(v.get("validateRequestParameters")),
        }
        for v in definition.get("requestValidators") or []
    }
    if validators:
        out["x-amazon-apigateway-request-validators"] = validators
    responses = {}
    for response in definition.get("gatewayResponses") or []:
        entry: dict[str, Any] = {}
        if response.get("statusCode") is not None:
            entry["statusCode"] = str(response["statusCode"])
        if response.get("responseParameters"):
            entry["responseParameters"] = response["responseParameters"]
        if response.get("responseTemplates"):
            entry["responseTemplates"] = response["responseTemplates"]
        responses[response["responseType"]] = entry
    if responses:
        out["x-amazon-apigateway-gateway-responses"] = responses
    return out


def _export_schema(schema: Any, ref_base: str) -> Any:
    """A model's JSON schema with its references pointing into the exported document."""
    try:
        data = json.loads(schema) if isinstance(schema, str) else (schema or {})
    except ValueError:
        return {}
    if isinstance(data, dict):
        data.pop("$schema", None)
    return _rewrite_refs(data, lambda name: ref_base + name)


def _rewrite_refs(value: Any, target: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                out[key] = target(item.rstrip("/").rsplit("/", 1)[-1])
            else:
                out[key] = _rewrite_refs(item, target)
        return out
    if isinstance(value, list):
        return [_rewrite_refs(item, target) for item in value]
    return value


def _iso(epoch: Any) -> str:
    try:
        moment = datetime.fromtimestamp(float(epoch), tz=timezone.utc)
    except (TypeError, ValueError):
        moment = datetime.now(tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- ImportRestApi, PutRestApi: reading a document ---------------------------------------------
class ImportError_(ValueError):
    """A document API Gateway refuses: the BadRequestException message."""


@dataclass
class MethodPlan:
    path: str
    verb: str
    authorization_type: str = "NONE"
    authorizer: str | None = None  # the security scheme (authorizer) name
    scopes: list[str] | None = None
    api_key_required: bool = False
    operation_name: str | None = None
    validator: str | None = None
    request_parameters: dict[str, bool] = field(default_factory=dict)
    request_models: dict[str, str] = field(default_factory=dict)
    responses: list[tuple[str, dict[str, bool], dict[str, str]]] = field(default_factory=list)
    integration: dict[str, Any] | None = None
    integration_responses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    title: str
    description: str | None
    version: str | None
    base_path: str
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[str, tuple[bool, bool]] = field(default_factory=dict)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)
    binary_media_types: list[str] = field(default_factory=list)
    api_key_source: str | None = None
    minimum_compression_size: int | None = None
    paths: list[str] = field(default_factory=list)
    methods: list[MethodPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_document(body: bytes | str) -> dict[str, Any]:
    """The OpenAPI document in a request body (JSON or YAML), or "Invalid OpenAPI input."."""
    import yaml

    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else (body or "")
    try:
        doc = json.loads(text)
    except ValueError:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
    if not isinstance(doc, dict):
        raise ImportError_(_INVALID_INPUT)
    swagger, openapi = str(doc.get("swagger") or ""), str(doc.get("openapi") or "")
    if not (swagger == "2.0" or re.match(r"^3\.0(\.\d+)?$", openapi)):
        raise ImportError_(_INVALID_INPUT)
    info = doc.get("info")
    if (
        not isinstance(info, dict)
        or not info.get("title")
        or not isinstance(doc.get("paths"), dict)
    ):
        raise ImportError_(_INVALID_INPUT)
    return doc


def plan_import(doc: dict[str, Any], base_path_mode: str = "ignore") -> Plan:
    """Everything the document defines, checked, before anything is changed."""
    oas3 = "openapi" in doc
    info = doc["info"]
    plan = Plan(
        title=str(info["title"]),
        description=info.get("description"),
        version=str(info["version"]) if info.get("version") is not None else None,
        base_path=_base_path(doc, oas3),
    )
    errors: list[str] = []
    schemas = (doc.get("components") or {}).get("schemas") if oas3 else doc.get("definitions")
    for name, schema in dict(schemas or {}).items():
        if not _MODEL_NAME.match(str(name)):
            errors.append(f"Unable to create model '{name}': Model name must be alphanumeric.")
            continue
        plan.models[str(name)] = schema if isinstance(schema, dict) else {}
    security_schemes = (
        (doc.get("components") or {}).get("securitySchemes")
        if oas3
        else doc.get("securityDefinitions")
    ) or {}
    for name, scheme in dict(security_schemes).items():
        authorizer = _authorizer_plan(scheme)
        if authorizer is not None:
            plan.authorizers[str(name)] = authorizer
    for name, validator in dict(doc.get("x-amazon-apigateway-request-validators") or {}).items():
        validator = validator or {}
        plan.validators[str(name)] = (
            bool(validator.get("validateRequestBody")),
            bool(validator.get("validateRequestParameters")),
        )
    plan.gateway_responses = dict(doc.get("x-amazon-apigateway-gateway-responses") or {})
    plan.binary_media_types = [
        str(t) for t in doc.get("x-amazon-apigateway-binary-media-types") or []
    ]
    plan.api_key_source = doc.get("x-amazon-apigateway-api-key-source")
    if doc.get("x-amazon-apigateway-minimum-compression-size") is not None:
        plan.minimum_compression_size = int(doc["x-amazon-apigateway-minimum-compression-size"])
    default_security = doc.get("security")
    prefix = _path_prefix(plan.base_path, base_path_mode)
    for raw_path, item in dict(doc["paths"]).items():
        path = (prefix + str(raw_path)).rstrip("/") or "/"
        if not str(raw_path).startswith("/"):
            errors.append(f"Unable to create resource at path '{raw_path}': path must start with /")
            continue
        bad = [p for p in path.split("/") if p and not _PATH_PART.match(p)]
        if bad:
            errors.append(
                f"Unable to create resource at path '{path}': Resource's path part only allow "
                "a-zA-Z0-9._-: and curly braces at the beginning and the end and an optional "
                "plus sign before the closing brace."
            )
            continue
        plan.paths.append(path)
        item = item or {}
        shared_parameters = item.get("parameters") or []
        for key, operation in item.items():
            verb = "ANY" if key == ANY_METHOD else key.upper() if key in _VERBS else None
            if verb is None or not isinstance(operation, dict):
                continue
            try:
                plan.methods.append(
                    _method_plan(
                        doc, plan, path, verb, operation, shared_parameters, default_security, oas3
                    )
                )
            except ImportError_ as exc:
                errors.append(str(exc))
    for name, validator_name in [(m.path, m.validator) for m in plan.methods if m.validator]:
        if validator_name not in plan.validators:
            errors.append(
                f"Unable to put method on resource at path '{name}': Invalid Request Validator "
                f"identifier specified: {validator_name}"
            )
    if errors:
        raise ImportError_("Errors found during import:\n\n" + "\n".join(f"- {e}" for e in errors))
    return plan


def _base_path(doc: dict[str, Any], oas3: bool) -> str:
    if not oas3:
        return str(doc.get("basePath") or "/")
    servers = doc.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return "/"
    url = str(servers[0].get("url") or "")
    for name, variable in dict(servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default") or ""))
    path = urlsplit(url).path if "://" in url else url
    return "/" + path.strip("/")


def _path_prefix(base_path: str, mode: str) -> str:
    """api-gateway-import-api-basePath.html: ignore (default), prepend, or split."""
    parts = [p for p in base_path.split("/") if p]
    if mode == "prepend":
        return "/" + "/".join(parts) if parts else ""
    if mode == "split":
        return "/" + "/".join(parts[1:]) if len(parts) > 1 else ""
    return ""


def _authorizer_plan(scheme: Any) -> dict[str, Any] | None:
    """An authorizer a security scheme defines, {"kind": "API_KEY"|"AWS_IAM"} for the others."""
    if not isinstance(scheme, dict):
        return None
    auth_type = str(scheme.get("x-amazon-apigateway-authtype") or "").lower()
    details = scheme.get("x-amazon-apigateway-authorizer")
    if isinstance(details, dict):
        kind = str(details.get("type") or "").upper()
        header = scheme.get("name") or "Authorization"
        plan = {
            "kind": "COGNITO_USER_POOLS" if kind == "COGNITO_USER_POOLS" else "CUSTOM",
            "type": kind if kind in ("TOKEN", "REQUEST", "COGNITO_USER_POOLS") else "TOKEN",
            "provider_arns": details.get("providerARNs"),
            "authorizer_uri": details.get("authorizerUri"),
            "authorizer_credentials": details.get("authorizerCredentials"),
            "identity_source": details.get("identitySource") or f"method.request.header.{header}",
            "identity_validation_expression": details.get("identityValidationExpression"),
            "authorizer_result_ttl": details.get("authorizerResultTtlInSeconds"),
        }
        return plan
    if auth_type == "awssigv4":
        return {"kind": "AWS_IAM"}
    if (
        scheme.get("type") == "apiKey"
        and str(scheme.get("name") or "").lower() == "x-api-key"
        and scheme.get("in") == "header"
    ):
        return {"kind": "API_KEY"}
    return None


def _method_plan(
    doc: dict[str, Any],
    plan: Plan,
    path: str,
    verb: str,
    operation: dict[str, Any],
    shared_parameters: list[Any],
    default_security: Any,
    oas3: bool,
) -> MethodPlan:
    method = MethodPlan(path=path, verb=verb)
    method.operation_name = operation.get("operationId")
    method.validator = operation.get("x-amazon-apigateway-request-validator") or doc.get(
        "x-amazon-apigateway-request-validator"
    )
    where = f"paths.'{path}'({verb.lower()})"
    for parameter in list(shared_parameters) + list(operation.get("parameters") or []):
        parameter = _resolve(doc, parameter)
        location = parameter.get("in")
        if location == "body":
            content_type = (
                operation.get("consumes") or doc.get("consumes") or ["application/json"]
            )[0]
            model = _model_for(plan, parameter.get("schema"), f"{where}.parameters.body", method)
            if model:
                method.request_models[content_type] = model
        elif location in _PARAM_SOURCE and parameter.get("name"):
            name = f"method.request.{_PARAM_SOURCE[location]}.{parameter['name']}"
            method.request_parameters[name] = bool(parameter.get("required")) or location == "path"
    for part in re.findall(r"\{([^}]+)\}", path):
        method.request_parameters.setdefault(f"method.request.path.{part.rstrip('+')}", True)
    body = _resolve(doc, operation.get("requestBody")) if oas3 else {}
    for content_type, media in dict((body or {}).get("content") or {}).items():
        model = _model_for(plan, (media or {}).get("schema"), f"{where}.requestBody", method)
        if model:
            method.request_models[content_type] = model
    produces = operation.get("produces") or doc.get("produces") or ["application/json"]
    if not operation.get("responses"):
        plan.warnings.append(f"Parse issue: attribute {where}.responses is missing")
    for code, response in dict(operation.get("responses") or {}).items():
        code = str(code)
        if not re.match(r"^[1-5]\d{2}$", code):
            continue  # API Gateway has no "default" method response
        response = _resolve(doc, response) or {}
        parameters = {
            f"method.response.header.{name}": False for name in response.get("headers") or {}
        }
        models: dict[str, str] = {}
        if oas3:
            for content_type, media in dict(response.get("content") or {}).items():
                model = _model_for(
                    plan,
                    (media or {}).get("schema"),
                    f"{where}.responses.{code}.content.schema",
                    method,
                )
                if model:
                    models[content_type] = model
        elif response.get("schema"):
            model = _model_for(plan, response["schema"], f"{where}.responses.{code}.schema", method)
            if model:
                models[produces[0]] = model
        method.responses.append((code, parameters, models))
    security = operation.get("security", default_security) or []
    for requirement in security:
        for name, scopes in dict(requirement or {}).items():
            authorizer = plan.authorizers.get(name)
            if authorizer is None:
                continue
            if authorizer["kind"] == "API_KEY":
                method.api_key_required = True
            elif authorizer["kind"] == "AWS_IAM":
                method.authorization_type = "AWS_IAM"
            else:
                method.authorization_type = authorizer["kind"]
                method.authorizer = name
                method.scopes = list(scopes or []) or None
    integration = operation.get(INTEGRATION)
    if isinstance(integration, dict):
        method.integration, method.integration_responses = _integration_plan(
            integration, path, verb
        )
    return method


def _resolve(doc: dict[str, Any], value: Any) -> Any:
    """Follow a local `$ref` (#/components/parameters/x...) once."""
    if isinstance(value, dict) and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if ref.startswith("#/"):
            target: Any = doc
            for part in ref[2:].split("/"):
                target = (
                    target.get(part.replace("~1", "/").replace("~0", "~"), {})
                    if isinstance(target, dict)
                    else {}
                )
            return target
    return value


def _model_for(plan: Plan, schema: Any, where: str, method: MethodPlan) -> str | None:
    """The model a schema names ($ref), or a new model for an inline schema."""
    if not isinstance(schema, dict) or not schema:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rstrip("/").rsplit("/", 1)[-1]
        if name in plan.models or name in ("Empty", "Error"):
            return name
        plan.warnings.append(f"Parse issue: attribute {where}.{ref} is missing")
        return None
    base = re.sub(
        r"[^A-Za-z0-9]",
        "",
        (method.operation_name or "") or (method.verb.title() + method.path.title()),
    )
    name = base + ("Input" if ".responses." not in where else "Output")
    suffix = 1
    while name in plan.models:
        suffix += 1
        name = f"{base}{suffix}"
    plan.models[name] = schema
    return name


def _integration_plan(
    integration: dict[str, Any], path: str, verb: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    def refuse(message: str) -> ImportError_:
        return ImportError_(
            f"Unable to put integration on '{verb}' for resource at path '{path}': {message}"
        )

    kind = str(integration.get("type") or "").upper()
    if kind not in _INTEGRATION_TYPES:
        raise refuse(
            f"Invalid integration type specified: {integration.get('type')}. Must be one of: "
            "[HTTP, AWS, MOCK, HTTP_PROXY, AWS_PROXY]"
        )
    uri = str(integration.get("uri") or "")
    http_method = integration.get("httpMethod")
    if kind in ("AWS", "AWS_PROXY"):
        if not uri.startswith("arn:"):
            raise refuse("Invalid ARN specified in the request")
        if not _AWS_URI.match(uri):
            raise refuse("AWS ARN for integration must contain path or action")
    if kind in ("HTTP", "HTTP_PROXY") and urlsplit(uri).scheme not in ("http", "https"):
        raise refuse("Invalid HTTP endpoint specified for URI")
    if kind != "MOCK" and not http_method:
        raise refuse("Enumeration value for HttpMethod must be non-empty")
    timeout = integration.get("timeoutInMillis")
    if timeout is not None and not 50 <= int(timeout) <= _DEFAULT_TIMEOUT_MS:
        raise refuse("Timeout should be between 50 ms and 29000 ms")
    passthrough = str(integration.get("passthroughBehavior") or "WHEN_NO_MATCH").upper()
    plan = {
        "integration_type": kind,
        "uri": uri,
        "integration_method": str(http_method).upper() if http_method else None,
        "credentials": integration.get("credentials"),
        "request_templates": integration.get("requestTemplates"),
        "passthrough_behavior": passthrough,
        "cache_namespace": integration.get("cacheNamespace"),
        "timeout_in_millis": str(timeout) if timeout is not None else None,
        "request_parameters": integration.get("requestParameters"),
        "content_handling": integration.get("contentHandling"),
        "cache_key_parameters": list(integration.get("cacheKeyParameters") or []),
    }
    responses = []
    for pattern, response in dict(integration.get("responses") or {}).items():
        response = response or {}
        responses.append(
            {
                "status_code": str(response.get("statusCode") or "200"),
                "selection_pattern": None if pattern == "default" else str(pattern),
                "response_templates": response.get("responseTemplates"),
                "response_parameters": response.get("responseParameters"),
                "content_handling": response.get("contentHandling"),
            }
        )
    return plan, responses


# ---- ImportRestApi, PutRestApi: building the API -------------------------------------------------
def apply_plan(backend: Any, api: Any, plan: Plan, mode: str) -> None:
    """Build the plan into a moto RestAPI: `overwrite` replaces its definition, `merge` adds."""
    if mode == "overwrite":
        _reset(api)
        api.name, api.description = plan.title, plan.description
        if plan.version:
            api.version = plan.version
        api.binaryMediaTypes = list(plan.binary_media_types)
    else:
        api.binaryMediaTypes = list(api.binaryMediaTypes or []) + [
            t for t in plan.binary_media_types if t not in (api.binaryMediaTypes or [])
        ]
    if plan.api_key_source:
        api.api_key_source = plan.api_key_source
    if plan.minimum_compression_size is not None:
        api.minimum_compression_size = plan.minimum_compression_size
    for name, schema in plan.models.items():
        api.models.pop(name, None)
        model_schema = dict(_rewrite_refs(schema, lambda n: _MODEL_URL.format(api=api.id, name=n)))
        model_schema.setdefault("$schema", "http://json-schema.org/draft-04/schema#")
        backend.create_model(api.id, name, "application/json", None, json.dumps(model_schema))
    validator_ids = {v.name: v.id for v in api.request_validators.values()}
    for name, (body, params) in plan.validators.items():
        if name not in validator_ids:
            validator_ids[name] = backend.create_request_validator(api.id, name, body, params).id
    authorizer_ids = {a.name: a.id for a in api.authorizers.values()}
    for name, spec in plan.authorizers.items():
        if spec["kind"] in ("API_KEY", "AWS_IAM") or name in authorizer_ids:
            continue
        created = backend.create_authorizer(
            api.id,
            name,
            spec["type"],
            provider_arns=spec["provider_arns"],
            authorizer_uri=spec["authorizer_uri"],
            authorizer_credentials=spec["authorizer_credentials"],
            identity_source=spec["identity_source"],
            identiy_validation_expression=spec["identity_validation_expression"],
            authorizer_result_ttl=spec["authorizer_result_ttl"],
        )
        authorizer_ids[name] = created.id
    for response_type, response in plan.gateway_responses.items():
        response = response or {}
        backend.put_gateway_response(
            api.id,
            response_type,
            status_code=response.get("statusCode"),
            response_parameters=response.get("responseParameters"),
            response_templates=response.get("responseTemplates"),
        )
    for path in sorted(set(plan.paths), key=lambda p: p.count("/")):
        _resource(backend, api, path)
    for method in plan.methods:
        _put_method(backend, api, method, validator_ids, authorizer_ids)


def _reset(api: Any) -> None:
    root = api.resources[api.root_resource_id]
    root.resource_methods = {}
    api.resources = {api.root_resource_id: root}
    api.models = {}
    api.request_validators = {}
    api.authorizers = {}
    api.gateway_responses = {}


def _resource(backend: Any, api: Any, path: str) -> Any:
    by_path = {r.get_path(): r for r in list(api.resources.values())}
    if path in by_path:
        return by_path[path]
    parent = api.resources[api.root_resource_id]
    here = ""
    for part in [p for p in path.split("/") if p]:
        here += "/" + part
        found = by_path.get(here)
        if found is None:
            found = backend.create_resource(api.id, parent.id, part)
            by_path[here] = found
        parent = found
    return parent


def _put_method(
    backend: Any,
    api: Any,
    method: MethodPlan,
    validator_ids: dict[str, str],
    authorizer_ids: dict[str, str],
) -> None:
    resource = _resource(backend, api, method.path)
    resource.resource_methods.pop(method.verb, None)  # merge: the document's method wins
    backend.put_method(
        api.id,
        resource.id,
        method.verb,
        method.authorization_type,
        api_key_required=method.api_key_required,
        request_parameters=method.request_parameters or None,
        request_models=method.request_models or None,
        operation_name=method.operation_name,
        authorizer_id=authorizer_ids.get(method.authorizer or ""),
        authorization_scopes=method.scopes,
        request_validator_id=validator_ids.get(method.validator or ""),
    )
    for code, parameters, models in method.responses:
        backend.put_method_response(
            api.id, resource.id, method.verb, code, models or None, parameters or None
        )
    if method.integration is None:
        return
    spec = dict(method.integration)
    cache_keys = spec.pop("cache_key_parameters")
    integration = backend.put_integration(
        api.id,
        resource.id,
        method.verb,
        **{k: v for k, v in spec.items() if v is not None or k == "integration_method"},
    )
    integration.cache_key_parameters = cache_keys
    for response in method.integration_responses:
        backend.put_integration_response(
            api.id,
            resource.id,
            method.verb,
            response["status_code"],
            response["selection_pattern"],
            response["response_templates"],
            response["response_parameters"],
            response["content_handling"],
        )


# ---- the control-plane handlers ------------------------------------------------------------------
def _bad_request(message: str) -> Exception:
    from moto.apigateway.exceptions import BadRequestException

    return BadRequestException(message)


def _not_found(message: str) -> Exception:
    from moto.apigateway.exceptions import NotFoundException

    return NotFoundException(message)


def _query(handler: Any, name: str) -> str | None:
    values = handler.querystring.get(name)
    return values[0] if values else None


def _plan_from_request(handler: Any) -> tuple[Plan, bool]:
    try:
        doc = parse_document(handler.body)
        plan = plan_import(doc, (_query(handler, "basepath") or "ignore").lower())
    except ImportError_ as exc:
        raise _bad_request(str(exc)) from None
    fail_on_warnings = (_query(handler, "failonwarnings") or "false").lower() == "true"
    if plan.warnings and fail_on_warnings:
        raise _bad_request(
            "Warnings found during import:\n" + "\n".join(f"\t{w}" for w in plan.warnings)
        )
    return plan, fail_on_warnings


def _api_json(api: Any, plan: Plan) -> str:
    body = api.to_dict()
    if body.get("version") == "V1" and not plan.version:
        body.pop("version")
    if plan.warnings:
        body["warnings"] = list(plan.warnings)
    return json.dumps(body)


def import_rest_api(handler: Any) -> Any:
    """ImportRestApi: a new API from an OpenAPI 3.0 or Swagger 2.0 document (201)."""
    plan, _ = _plan_from_request(handler)
    types = [
        t.strip().upper()
        for t in (_query(handler, "endpointConfigurationTypes") or "EDGE").split(",")
    ]
    api = handler.backend.create_rest_api(
        plan.title, plan.description or "", endpoint_configuration={"types": types}
    )
    if plan.version:
        api.version = plan.version
    try:
        apply_plan(handler.backend, api, plan, "merge")
    except Exception:
        handler.backend.apis.pop(api.id, None)
        raise
    return 201, {"status": 201}, _api_json(api, plan)


def put_rest_api(handler: Any) -> Any:
    """PutRestApi: overwrite or merge an existing API with an OpenAPI document."""
    api_id = handler.path.split("/")[2]
    api = handler.backend.apis.get(api_id)
    if api is None:
        raise _not_found("Invalid API identifier specified")
    mode = (_query(handler, "mode") or "merge").lower()
    if mode not in ("merge", "overwrite"):
        raise _bad_request(
            'Enumeration value of OpenAPI import mode must be "overwrite" or "merge"'
        )
    plan, _ = _plan_from_request(handler)
    apply_plan(handler.backend, api, plan, mode)
    return 200, {}, _api_json(api, plan)


def get_export(handler: Any, snapshot_of: Any) -> Any:
    """GetExport: the stage's deployed definition as OpenAPI 3.0.1 or Swagger 2.0."""
    parts = handler.path.split("/")
    api_id, stage_name, export_type = parts[2], parts[4], parts[6]
    api = handler.backend.apis.get(api_id)
    if api is None:
        raise _not_found("Invalid API identifier specified")
    stage = api.stages.get(stage_name)
    if stage is None:
        raise _not_found("Invalid stage identifier specified")
    if export_type not in ("oas30", "swagger"):
        raise _bad_request(f"No API exporter for type '{export_type}'")
    snapshot = snapshot_of(api, stage.deployment_id)
    definition = snapshot.definition if snapshot is not None else describe_api(api)
    extensions = {
        e.strip().lower() for e in (_query(handler, "extensions") or "").split(",") if e.strip()
    }
    doc = export(
        definition,
        api_id=api.id,
        region=handler.region,
        stage=stage_name,
        export_type=export_type,
        extensions=extensions,
    )
    accept = (handler.headers.get("Accept") or "").lower()
    version = doc["info"]["version"]
    if "yaml" in accept:
        import yaml

        body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
        extension = "yaml"
    else:
        body = json.dumps(doc, indent=2).encode()
        extension = "json"
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": f'attachment; filename="{export_type}_{version}.{extension}"',
    }
    return 200, headers, body


def install(emulator: Any) -> None:
    """Replace moto's GetExport, ImportRestApi and PutRestApi until teardown."""
    from moto.apigateway.responses import APIGatewayResponse

    gateway = emulator.gateway

    def export_handler(handler: Any) -> Any:
        return get_export(handler, gateway._snapshot)

    patch = emulator._patch
    patch(APIGatewayResponse, "get_export", export_handler)
    patch(APIGatewayResponse, "import_rest_api", import_rest_api)
    patch(APIGatewayResponse, "put_rest_api", put_rest_api)
