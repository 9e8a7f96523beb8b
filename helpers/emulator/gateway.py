"""API Gateway REST APIs (v1), answering at `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...`.

moto stores the configuration (APIs, resources, methods, integrations, stages, usage plans) but
runs none of it. `Gateway` serves the stage URLs from that configuration, as AWS does:

- routing: stage → deployment → resource (literal parts before `{param}` before `{proxy+}`),
  then the method (or `ANY`); what a deployment froze is what the stage serves, so a change
  needs a new deployment, as on AWS;
- integrations: `AWS_PROXY` to Lambda (the REST proxy event v1, the function's resource policy,
  the response mapping), `MOCK` (static templates with a few `$context` variables and
  `$stageVariables.name`, integration responses), `HTTP_PROXY` to another host of the lab's
  front;
- Lambda versions and aliases: a URI naming `function:name:alias` (literally or through
  `${stageVariables.alias}`) runs the version the alias routes to, weights included
  (lambda_versions.resolve), invoked as that qualified ARN; the function's resource policy must
  allow that ARN (a permission on the unqualified function does not cover an alias, as on AWS);
- canary releases (the stage's `canarySettings`, kept by control_plane.py): each request goes to
  the canary deployment with `percentTraffic` % probability, sees the stage's variables with the
  canary's `stageVariableOverrides` on top and `$context.isCanaryRequest`; canary requests use
  the stage cache only with `useStageCache`, and a canary of another deployment caches apart
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/canary-release.html). Canary
  metrics and logs are not split out;
- API keys, usage-plan throttles and quotas, stage method throttling (token buckets in lab time);
- the stage cache (method settings, cache key parameters, TTL in lab time, `Cache-Control:
  max-age=0`, FlushStageCache) and the `AWS/ApiGateway` CloudWatch metrics.

Authorizers have one seam: `Gateway.authorizers` maps a method's `authorizationType` to a
function `(Call) -> Authorized | Response`, called before the integration. A deployment freezes
the API's authorizers (`Snapshot.authorizers`) and each method's `authorizationScopes` with the
rest; `cognito.py` plugs in COGNITO_USER_POOLS. It also freezes the API's definition
(`Snapshot.definition`, openapi.describe_api), which GetExport describes; `install` installs
openapi.py's GetExport, ImportRestApi and PutRestApi.

moto seams (tests/emulator/test_moto_seams.py checks them): `RestAPI.create_deployment` (to
freeze the deployment and keep the stage's settings), `APIGatewayResponse.put_integration` and
`.create_rest_api` (moto drops `cacheKeyParameters` and `binaryMediaTypes`),
`RestAPI.apply_patch_operations` (`/binaryMediaTypes/image~1png` patches), and
`moto.apigateway.urls.url_paths` (moto has no FlushStageCache).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from requests.structures import CaseInsensitiveDict

from . import lambda_versions, openapi
from .http import Request, Response, classify

# ---- AWS's gateway responses --------------------------------------------------------------
# type -> (status, message, x-amzn-ErrorType). Bodies are `{"message": ...}`, as AWS sends them.
# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden
ERRORS: dict[str, tuple[int, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (
        403,
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    ),
    "INVALID_API_KEY": (403, "Forbidden", "ForbiddenException"),
    "ACCESS_DENIED": (403, "Forbidden", "AccessDeniedException"),
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "THROTTLED": (429, "Too Many Requests", "TooManyRequestsException"),
    "QUOTA_EXCEEDED": (429, "Limit Exceeded", "LimitExceededException"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error", "InternalServerErrorException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (
        500,
        "Internal server error",
        "AuthorizerConfigurationException",
    ),
    "INTEGRATION_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "InternalServerErrorException"),
}

# the REST proxy integration's Lambda URI; the function ARN may hold ${stageVariables.x}
_LAMBDA_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):lambda:path/2015-03-31/functions/"
    r"(?P<function>.+)/invocations$"
)
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_.-]+)\}")
_VTL_STAGE_VARIABLE = re.compile(
    r"\$\{stageVariables\.([A-Za-z0-9_]+)\}|\$stageVariables\.([A-Za-z0-9_]+)"
)
# the keys a Lambda proxy result may hold; anything else is "Malformed Lambda proxy response"
_PROXY_RESULT_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
_INTEGRATION_TIMEOUT_MS = 29_000  # REST API default and maximum (timeoutInMillis)
_CACHE_TTL_DEFAULT_S = 300  # api-gateway-caching.html: default 300, maximum 3600, 0 disables
_CACHE_TTL_MAX_S = 3600
_CACHE_MAX_BODY = 1_048_576  # "The maximum size of a response that can be cached"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_FLUSH_PATH = r"{0}/restapis/(?P<function_id>[^/]+)/stages/(?P<stage_name>[^/]+)/cache/data$"


# ---- what a deployment froze ---------------------------------------------------------------
@dataclass(frozen=True)
class IntegrationResponseConfig:
    status_code: str
    selection_pattern: str | None
    response_templates: dict[str, Any]
    response_parameters: dict[str, str]


@dataclass(frozen=True)
class IntegrationConfig:
    type: str
    uri: str
    http_method: str | None
    credentials: str | None
    cache_key_parameters: tuple[str, ...]
    cache_namespace: str | None
    request_templates: dict[str, Any]
    request_parameters: dict[str, str]
    timeout_ms: int
    responses: dict[str, IntegrationResponseConfig]


@dataclass(frozen=True)
class MethodConfig:
    http_method: str
    authorization_type: str
    authorizer_id: str | None
    api_key_required: bool
    integration: IntegrationConfig | None
    authorization_scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceConfig:
    id: str
    path: str
    methods: dict[str, MethodConfig]


@dataclass(frozen=True)
class GatewayResponseConfig:
    status_code: int | None
    response_parameters: dict[str, str]
    response_templates: dict[str, str]


@dataclass
class _Node:
    """One resource in the routing tree."""

    resource: ResourceConfig | None = None
    literals: dict[str, _Node] = field(default_factory=dict)
    param: tuple[str, _Node] | None = None
    greedy: tuple[str, _Node] | None = None


@dataclass(frozen=True)
class Snapshot:
    """An API's configuration as one deployment froze it."""

    deployment_id: str
    resources: tuple[ResourceConfig, ...]
    binary_media_types: tuple[str, ...]
    api_key_source: str
    endpoint_types: tuple[str, ...]
    gateway_responses: dict[str, GatewayResponseConfig]
    root: _Node
    # authorizer id -> its GetAuthorizer fields (type, providerARNs, identitySource...)
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # the API as GetExport describes this deployment (openapi.describe_api)
    definition: dict[str, Any] = field(default_factory=dict)


def snapshot_api(api: Any, deployment_id: str) -> Snapshot:
    """Freeze an API's resources, methods and integrations, as CreateDeployment does."""
    resources = tuple(
        ResourceConfig(
            id=res.id,
            path=res.get_path(),
            methods={name: _method_config(m) for name, m in res.resource_methods.items()},
        )
        for res in list(api.resources.values())
    )
    responses = {
        kind: GatewayResponseConfig(
            status_code=int(gr.status_code) if gr.status_code else None,
            response_parameters=dict(gr.response_parameters or {}),
            response_templates=dict(gr.response_templates or {}),
        )
        for kind, gr in dict(getattr(api, "gateway_responses", {}) or {}).items()
    }
    types = (getattr(api, "endpoint_configuration", None) or {}).get("types") or ["EDGE"]
    return Snapshot(
        deployment_id=deployment_id,
        resources=resources,
        # the console escapes '/' as '~1' in patch paths; the list may hold either form
        binary_media_types=tuple(t.replace("~1", "/").lower() for t in api.binaryMediaTypes or ()),
        api_key_source=getattr(api, "api_key_source", None) or "HEADER",
        endpoint_types=tuple(types),
        gateway_responses=responses,
        root=_routing_tree(resources),
        authorizers={
            authorizer_id: json.loads(json.dumps(authorizer.to_json()))
            for authorizer_id, authorizer in dict(getattr(api, "authorizers", {}) or {}).items()
        },
        definition=openapi.describe_api(api, deployment_id),
    )


def _method_config(method: Any) -> MethodConfig:
    integration = method.method_integration
    return MethodConfig(
        http_method=method.http_method,
        authorization_type=(method.authorization_type or "NONE").upper(),
        authorizer_id=method.authorizer_id,
        api_key_required=bool(method.api_key_required),
        integration=_integration_config(integration) if integration is not None else None,
        authorization_scopes=tuple(getattr(method, "authorization_scopes", None) or ()),
    )


def _integration_config(integration: Any) -> IntegrationConfig:
    responses = {
        str(code): IntegrationResponseConfig(
            status_code=str(r.status_code),
            selection_pattern=r.selection_pattern or None,
            response_templates=dict(r.response_templates or {}),
            response_parameters=dict(r.response_parameters or {}),
        )
        for code, r in (integration.integration_responses or {}).items()
    }
    return IntegrationConfig(
        type=(integration.integration_type or "").upper(),
        uri=integration.uri or "",
        http_method=integration.http_method,
        credentials=integration.credentials,
        cache_key_parameters=tuple(integration.cache_key_parameters or ()),
        cache_namespace=integration.cache_namespace,
        request_templates=dict(integration.request_templates or {}),
        request_parameters=dict(integration.request_parameters or {}),
        timeout_ms=int(integration.timeout_in_millis or _INTEGRATION_TIMEOUT_MS),
        responses=responses,
    )


def canary_settings(stage: Any) -> dict[str, Any]:
    """The stage's canarySettings (control_plane.py keeps them on the moto Stage), or {}."""
    return dict(getattr(stage, "canary_settings", None) or {})


# ---- routing ---------------------------------------------------------------------------------
def _routing_tree(resources: tuple[ResourceConfig, ...]) -> _Node:
    root = _Node()
    for resource in resources:
        node = root
        for part in [p for p in resource.path.split("/") if p]:
            node = _child(node, part)
        node.resource = resource
    return root


def _child(node: _Node, part: str) -> _Node:
    if part.startswith("{") and part.endswith("+}"):
        if node.greedy is None:
            node.greedy = (part[1:-2], _Node())
        return node.greedy[1]
    if part.startswith("{") and part.endswith("}"):
        if node.param is None:
            node.param = (part[1:-1], _Node())
        return node.param[1]
    return node.literals.setdefault(part, _Node())


def match_resource(
    root: _Node, segments: list[str]
) -> tuple[ResourceConfig, dict[str, str]] | None:
    """The resource a decoded path reaches: literal parts first, then `{param}`, then `{proxy+}`."""
    return _walk(root, segments, 0, {})


def _walk(
    node: _Node, segments: list[str], i: int, params: dict[str, str]
) -> tuple[ResourceConfig, dict[str, str]] | None:
    if i == len(segments):
        return (node.resource, params) if node.resource is not None else None
    segment = segments[i]
    child = node.literals.get(segment)
    if child is not None:
        found = _walk(child, segments, i + 1, params)
        if found:
            return found
    if node.param is not None:
        name, child = node.param
        found = _walk(child, segments, i + 1, {**params, name: segment})
        if found:
            return found
    if node.greedy is not None and node.greedy[1].resource is not None:
        name, child = node.greedy
        return child.resource, {**params, name: "/".join(segments[i:])}
    return None


# REST APIs give the function `path` percent-encoded as sent and `pathParameters` decoded
# (live captures: https://github.com/hotsock/voker/pull/8 via middleapi/standard-server#93;
# https://github.com/dherault/serverless-offline/issues/638)
def split_stage(raw_path: str) -> tuple[str, str]:
    """('prod', '/posts/42') for '/prod/posts/42': the stage, then the path as sent."""
    stripped = raw_path.lstrip("/")
    stage, slash, rest = stripped.partition("/")
    return unquote(stage), (slash + rest) if slash else ""


def path_segments(raw_rest: str) -> list[str]:
    """The path's parts, percent-decoded one by one (an encoded '/' stays inside its part)."""
    return [unquote(part) for part in raw_rest.split("/") if part]


# ---- one request ---------------------------------------------------------------------------
@dataclass
class Authorized:
    """What an authorizer grants: `requestContext.authorizer`, and a usage-plan key it names."""

    context: dict[str, Any] | None = None
    usage_identifier_key: str | None = None


@dataclass
class Call:
    """One request to a stage URL, as it moves through the gateway."""

    request: Request
    api_id: str
    region: str
    request_id: str
    extended_request_id: str
    trace_id: str
    started_at: float  # lab time, seconds
    started_monotonic: float
    api: Any = None
    stage: Any = None
    snapshot: Snapshot | None = None
    raw_rest: str = ""  # the path after the stage, percent-encoded as sent
    resource: ResourceConfig | None = None
    method: MethodConfig | None = None
    path_params: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    auth: Authorized = field(default_factory=Authorized)
    api_key: Any = None  # the moto ApiKey a required key resolved to
    integration_ms: float | None = None
    cache_outcome: str | None = None  # "hit" or "miss" when the method is cached
    canary: bool | None = None  # None: the stage has no canary; else: this request went to it

    @property
    def http_method(self) -> str:
        return self.request.method.upper()

    @property
    def headers(self) -> CaseInsensitiveDict:
        return self.request.headers

    def stage_variables(self) -> dict[str, str]:
        """The stage's variables; a canary request sees the canary's overrides on top."""
        variables = dict(getattr(self.stage, "variables", None) or {})
        if self.canary:
            variables.update(canary_settings(self.stage).get("stageVariableOverrides") or {})
        return variables


Authorizer = Callable[[Call], "Authorized | Response"]


def gateway_error(call: Call, kind: str, message: str | None = None) -> Response:
    """AWS's gateway response of `kind`, with the API's customisation when it has one."""
    status, default_message, error_type = ERRORS[kind]
    message = message or default_message
    custom = _custom_response(call, kind, status)
    headers = [("Content-Type", "application/json")]
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    if custom is not None:
        status = custom.status_code or status
        headers.extend(_static_parameters(custom.response_parameters, "gatewayresponse.header."))
        template = custom.response_templates.get("application/json")
        if template is not None:
            body = _render_error_template(template, call, kind, message).encode()
    headers.append(("x-amzn-ErrorType", error_type))
    return Response(status, headers + _standard_headers(call), body)


def _custom_response(call: Call, kind: str, status: int) -> GatewayResponseConfig | None:
    if call.snapshot is None:
        return None
    responses = call.snapshot.gateway_responses
    fallback = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
    return responses.get(kind) or responses.get(fallback)


def _render_error_template(template: str, call: Call, kind: str, message: str) -> str:
    values = {
        "$context.error.messageString": json.dumps(message),
        "$context.error.message": message,
        "$context.error.responseType": kind,
        "$context.requestId": call.request_id,
        "$context.extendedRequestId": call.extended_request_id,
    }
    for name in sorted(values, key=len, reverse=True):
        template = template.replace(name, values[name])
    return template


def _static_parameters(parameters: dict[str, str], prefix: str) -> list[tuple[str, str]]:
    """Headers whose mapping is a quoted literal ('value'); other sources are not emulated."""
    out = []
    for target, source in parameters.items():
        if target.startswith(prefix) and len(source) >= 2 and source[0] == source[-1] == "'":
            out.append((target[len(prefix) :], source[1:-1]))
    return out


def _standard_headers(call: Call) -> list[tuple[str, str]]:
    return [("x-amzn-RequestId", call.request_id), ("x-amz-apigw-id", call.extended_request_id)]


def _forbidden(call: Call) -> Response:
    """What execute-api answers for an API id that names no API in the region."""
    return Response(
        403,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ForbiddenException")]
        + _standard_headers(call),
        json.dumps({"message": "Forbidden"}, separators=(",", ":")).encode(),
    )


# ---- the stage cache, throttles, quotas ----------------------------------------------------
@dataclass
class CacheEntry:
    response: Response
    expires_at: float  # lab time


@dataclass(frozen=True)
class CachePolicy:
    ttl_s: int
    require_authorization: bool
    unauthorized_strategy: str


@dataclass
class StageCache:
    stage_identity: int  # id() of the moto Stage it belongs to: a recreated stage starts empty
    entries: dict[tuple[Any, ...], CacheEntry] = field(default_factory=dict)


class TokenBucket:
    """A token bucket refilled at `rate` per second of lab time, holding at most `burst`."""

    def __init__(self, rate: float, burst: int, now: float):
        self.rate = max(float(rate), 0.0)
        self.burst = max(int(burst), 0)
        self.tokens = float(self.burst)
        self.updated = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + max(now - self.updated, 0.0) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def quota_period_start(period: str, offset: int, now: float) -> float:
    """Start (lab time) of the usage-plan quota period that contains `now` (UTC)."""
    day = datetime.fromtimestamp(now, tz=timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    period = (period or "DAY").upper()
    if period == "WEEK":  # offset 0 = Sunday, 1 = Monday, ...
        days_back = (day.weekday() + 1 - offset) % 7
        return (day - timedelta(days=days_back)).timestamp()
    if period == "MONTH":
        return day.replace(day=1).timestamp()
    return day.timestamp()


# ---- the gateway ---------------------------------------------------------------------------
class Gateway:
    """Serves every REST API stage of the lab's moto state on the front."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self.snapshots: dict[tuple[str, str], Snapshot] = {}
        self.caches: dict[tuple[str, str], StageCache] = {}
        self.buckets: dict[tuple[Any, ...], TokenBucket] = {}
        self.quotas: dict[tuple[str, str, float], int] = {}
        self.authorizers: dict[str, Authorizer] = {
            "NONE": _authorize_none,
            "AWS_IAM": _authorize_iam,
        }
        self._lock = threading.Lock()
        self._noted: set[str] = set()

    # ---- wiring ---------------------------------------------------------------------------
    def patch_moto(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Freeze deployments, keep what moto drops, answer FlushStageCache."""
        from moto.apigateway import models, responses, urls

        gateway = self
        original_deploy = models.RestAPI.create_deployment

        def create_deployment(
            api: Any, name: str, description: str, stage_variables: Any = None
        ) -> Any:
            previous = api.stages.get(name) if name else None
            deployment = original_deploy(api, name, description, stage_variables)
            gateway.snapshots[(api.id, deployment.id)] = snapshot_api(api, deployment.id)
            if previous is not None:  # AWS re-points the stage and keeps its settings
                previous.deployment_id = deployment.id
                previous.variables.update(stage_variables or {})
                api.stages[name] = previous
            return deployment

        patch(models.RestAPI, "create_deployment", create_deployment)
        original_put_integration = responses.APIGatewayResponse.put_integration

        def put_integration(handler: Any) -> Any:
            status, headers, _ = original_put_integration(handler)
            parts = handler.path.split("/")
            integration = handler.backend.get_integration(parts[2], parts[4], parts[6])
            integration.cache_key_parameters = list(handler._get_param("cacheKeyParameters") or [])
            return status, headers, json.dumps(integration.to_json())

        patch(responses.APIGatewayResponse, "put_integration", put_integration)
        original_create_api = responses.APIGatewayResponse.create_rest_api

        def create_rest_api(handler: Any) -> Any:
            status, headers, body = original_create_api(handler)
            types = handler._get_param("binaryMediaTypes")
            if status != 200 or not types:
                return status, headers, body
            api = handler.backend.get_rest_api(json.loads(body)["id"])
            api.binaryMediaTypes = list(types)
            return status, headers, json.dumps(api.to_dict())

        patch(responses.APIGatewayResponse, "create_rest_api", create_rest_api)
        original_patch_api = models.RestAPI.apply_patch_operations

        def apply_patch_operations(api: Any, operations: list[dict[str, Any]]) -> None:
            rest = []
            for op in operations:
                if not op.get("path", "").startswith("/binaryMediaTypes/"):
                    rest.append(op)
                    continue
                media_type = op["path"].removeprefix("/binaryMediaTypes/").replace("~1", "/")
                if op.get("op") == "add" and media_type not in api.binaryMediaTypes:
                    api.binaryMediaTypes.append(media_type)
                elif op.get("op") == "remove" and media_type in api.binaryMediaTypes:
                    api.binaryMediaTypes.remove(media_type)
            original_patch_api(api, rest)

        patch(models.RestAPI, "apply_patch_operations", apply_patch_operations)
        paths = dict(urls.url_paths)
        paths[_FLUSH_PATH] = self._flush_stage_cache_api
        patch(urls, "url_paths", paths)

    def _flush_stage_cache_api(self, request: Any, full_url: str, headers: Any) -> Any:
        """FlushStageCache (DELETE /restapis/{id}/stages/{stage}/cache/data): 202, cache empty."""
        match = re.search(r"/restapis/([^/]+)/stages/([^/]+)/cache/data", urlsplit(full_url).path)
        region = _region_of(full_url)
        api = self._find_api(match.group(1), region) if match else None
        stage_name = unquote(match.group(2)) if match else ""
        if api is None or stage_name not in api.stages:
            body = {"message": "Invalid stage identifier specified"}
            return 404, {"x-amzn-ErrorType": "NotFoundException"}, json.dumps(body)
        self.flush(api.id, stage_name)
        return 202, {}, ""

    def flush(self, api_id: str, stage_name: str) -> None:
        """Empty a stage's cache, as FlushStageCache does."""
        with self._lock:
            self.caches.pop((api_id, stage_name), None)

    def note(self, message: str) -> None:
        """Tell the notebook once about something the emulator does not do as AWS would."""
        if message not in self._noted:
            self._noted.add(message)
            self.emulator.note(message)

    # ---- a request ------------------------------------------------------------------------
    def handle(self, request: Request, parts: dict[str, str]) -> Response:
        """Answer one request to an execute-api host."""
        call = self._begin(request, parts)
        response = self._serve(call)
        if call.stage is not None:
            self._publish_metrics(call, response)
        return response

    def _begin(self, request: Request, parts: dict[str, str]) -> Call:
        now = self.emulator.clock.now()
        return Call(
            request=request,
            api_id=parts["api_id"],
            region=parts["region"],
            request_id=str(uuid.uuid4()),
            extended_request_id=base64.b64encode(os.urandom(11)).decode(),
            trace_id=f"Root=1-{int(now):08x}-{os.urandom(12).hex()}",
            started_at=now,
            started_monotonic=time.monotonic(),
        )

    def _serve(self, call: Call) -> Response:
        call.api = self._find_api(call.api_id, call.region)
        if call.api is None or getattr(call.api, "disableExecuteApiEndpoint", False):
            return _forbidden(call)
        stage_name, call.raw_rest = split_stage(call.request.path)
        stage = call.api.stages.get(stage_name) if stage_name else None
        if stage is None:
            return gateway_error(call, "MISSING_AUTHENTICATION_TOKEN")
        call.stage = stage
        call.snapshot = self._snapshot(call.api, self._pick_deployment(call))
        if call.snapshot is None:
            return gateway_error(call, "MISSING_AUTHENTICATION_TOKEN")
        if not self._route(call):
            return gateway_error(call, "MISSING_AUTHENTICATION_TOKEN")
        for step in (self._stage_throttle, self._authorize, self._check_api_key, self._usage_plan):
            refused = step(call)
            if refused is not None:
                return refused
        return self._cached_or_integrate(call)

    def _find_api(self, api_id: str, region: str) -> Any:
        from moto.apigateway.models import apigateway_backends

        backend = apigateway_backends[self.emulator.account_id][region]
        return backend.apis.get(api_id)

    def _pick_deployment(self, call: Call) -> str | None:
        """The stage's deployment, or its canary's for `percentTraffic` % of requests at random."""
        canary = canary_settings(call.stage)
        if not canary:
            return call.stage.deployment_id
        percent = float(canary.get("percentTraffic") or 0.0)
        call.canary = percent >= 100.0 or random.random() * 100.0 < percent
        return canary.get("deploymentId") if call.canary else call.stage.deployment_id

    def _snapshot(self, api: Any, deployment_id: str | None) -> Snapshot | None:
        if not deployment_id or deployment_id not in api.deployments:
            return None
        found = self.snapshots.get((api.id, deployment_id))
        if found is None:  # deployed before the emulator was installed: serve it as it is now
            found = self.snapshots[(api.id, deployment_id)] = snapshot_api(api, deployment_id)
        return found

    def _route(self, call: Call) -> bool:
        assert call.snapshot is not None
        found = match_resource(call.snapshot.root, path_segments(call.raw_rest))
        if found is None:
            return False
        call.resource, call.path_params = found
        methods = call.resource.methods
        call.method = methods.get(call.http_method) or methods.get("ANY")
        call.query = parse_qsl(call.request.query, keep_blank_values=True)
        return call.method is not None

    # ---- throttling, authorizers, API keys -------------------------------------------------
    def _stage_throttle(self, call: Call) -> Response | None:
        settings, key = self._method_settings(call)
        if settings is None or "throttlingRateLimit" not in settings:
            return None
        rate = float(settings.get("throttlingRateLimit", 0))
        burst = int(settings.get("throttlingBurstLimit", 0))
        bucket_key = ("stage", call.api_id, call.stage.name, key, rate, burst)
        return None if self._take(bucket_key, rate, burst) else gateway_error(call, "THROTTLED")

    def _take(self, key: tuple[Any, ...], rate: float, burst: int) -> bool:
        now = self.emulator.clock.now()
        with self._lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = TokenBucket(rate, burst, now)
            return bucket.take(now)

    def _authorize(self, call: Call) -> Response | None:
        assert call.method is not None
        kind = call.method.authorization_type
        authorizer = self.authorizers.get(kind)
        if authorizer is None:
            self.note(
                f"API Gateway: methods with authorizationType {kind} are not emulated yet; "
                f"{call.http_method} {call.resource.path if call.resource else ''} answered 500"
            )
            return gateway_error(call, "AUTHORIZER_CONFIGURATION_ERROR")
        outcome = authorizer(call)
        if isinstance(outcome, Response):
            return outcome
        call.auth = outcome
        return None

    def _check_api_key(self, call: Call) -> Response | None:
        """A method with apiKeyRequired needs an enabled key in a usage plan for this stage."""
        assert call.method is not None and call.snapshot is not None
        if not call.method.api_key_required:
            return None
        if call.snapshot.api_key_source == "AUTHORIZER":
            value = call.auth.usage_identifier_key
        else:
            value = call.headers.get("x-api-key")
        backend = self._backend(call.region)
        key = next((k for k in list(backend.keys.values()) if value and k.value == value), None)
        if key is None or not key.enabled or self._plan_of(call, key) is None:
            return gateway_error(call, "INVALID_API_KEY")
        call.api_key = key
        return None

    def _backend(self, region: str) -> Any:
        from moto.apigateway.models import apigateway_backends

        return apigateway_backends[self.emulator.account_id][region]

    def _plan_of(self, call: Call, key: Any) -> tuple[Any, dict[str, Any]] | None:
        """(usage plan, its apiStages entry) that grants `key` this API stage, if any."""
        backend = self._backend(call.region)
        for plan in list(backend.usage_plans.values()):
            if key.id not in backend.usage_plan_keys.get(plan.id, {}):
                continue
            for api_stage in plan.api_stages or []:
                if api_stage.get("apiId") == call.api_id and api_stage.get("stage") == (
                    call.stage.name
                ):
                    return plan, api_stage
        return None

    def _usage_plan(self, call: Call) -> Response | None:
        """The key's usage-plan throttle (token bucket) and quota, in lab time."""
        if call.api_key is None:
            return None
        found = self._plan_of(call, call.api_key)
        if found is None:
            return None
        plan, api_stage = found
        assert call.resource is not None and call.method is not None
        method_key = f"{call.resource.path}/{call.method.http_method}"
        throttle = (api_stage.get("throttle") or {}).get(method_key) or plan.throttle or {}
        if "rateLimit" in throttle or "burstLimit" in throttle:
            rate, burst = float(throttle.get("rateLimit", 0)), int(throttle.get("burstLimit", 0))
            bucket = ("plan", plan.id, call.api_key.id, method_key, rate, burst)
            if not self._take(bucket, rate, burst):
                return gateway_error(call, "THROTTLED")
        return self._count_quota(call, plan)

    def _count_quota(self, call: Call, plan: Any) -> Response | None:
        quota = plan.quota or {}
        if not quota.get("limit"):
            return None
        start = quota_period_start(
            str(quota.get("period", "DAY")), int(quota.get("offset") or 0), call.started_at
        )
        key = (plan.id, call.api_key.id, start)
        with self._lock:
            used = self.quotas.get(key, 0)
            if used >= int(quota["limit"]):
                return gateway_error(call, "QUOTA_EXCEEDED")
            self.quotas[key] = used + 1
        return None

    # ---- stage method settings -----------------------------------------------------------
    def _method_settings(self, call: Call) -> tuple[dict[str, Any] | None, str]:
        """The stage's method settings for this method (its own override, else `*/*`)."""
        assert call.resource is not None and call.method is not None
        settings = dict(getattr(call.stage, "method_settings", None) or {})
        wanted = {
            f"{call.resource.path.lstrip('/')}/{call.method.http_method}",
            f"{call.resource.path.lstrip('/')}/{call.http_method}",
        }
        for key, value in settings.items():
            if key != "*/*" and key.replace("~1", "/").lstrip("/") in wanted:
                return value, key
        return settings.get("*/*"), "*/*"

    def _cache_policy(self, call: Call) -> CachePolicy | None:
        """How this method is cached: only with a cache cluster, and by default only GET."""
        if not getattr(call.stage, "cache_cluster_enabled", False):
            self.flush(call.api_id, call.stage.name)  # AWS deletes the cache instance
            return None
        if call.canary and not canary_settings(call.stage).get("useStageCache"):
            return None  # canary requests use the stage cache only with useStageCache
        settings, key = self._method_settings(call)
        if not settings:
            return None
        enabled = bool(settings.get("cachingEnabled"))
        if key == "*/*":
            enabled = enabled and call.http_method == "GET"  # "only GET methods ... by default"
        ttl = int(settings.get("cacheTtlInSeconds", _CACHE_TTL_DEFAULT_S))
        if not enabled or ttl <= 0:
            return None
        return CachePolicy(
            ttl_s=min(ttl, _CACHE_TTL_MAX_S),
            require_authorization=bool(settings.get("requireAuthorizationForCacheControl", True)),
            unauthorized_strategy=str(
                settings.get(
                    "unauthorizedCacheControlHeaderStrategy", "SUCCEED_WITH_RESPONSE_HEADER"
                )
            ),
        )

    # ---- the cache ----------------------------------------------------------------------
    def _cached_or_integrate(self, call: Call) -> Response:
        policy = self._cache_policy(call)
        if policy is None:
            return self._integrate(call)
        extra: list[tuple[str, str]] = []
        invalidate = _asks_invalidation(call.headers.get("Cache-Control", ""))
        if invalidate and policy.require_authorization:
            # only an IAM-signed caller with execute-api:InvalidateCache may invalidate; the
            # emulator verifies no signatures, so every caller is unauthorized here
            if policy.unauthorized_strategy == "FAIL_WITH_403":
                return gateway_error(call, "ACCESS_DENIED")
            if policy.unauthorized_strategy == "SUCCEED_WITH_RESPONSE_HEADER":
                extra.append(
                    ("Warning", '199 - "Cache-Control: max-age=0 ignored: unauthorized caller"')
                )
            invalidate = False
        key = self._cache_key(call)
        if not invalidate:
            hit = self._cache_get(call, key)
            if hit is not None:
                call.cache_outcome = "hit"
                return self._replay(call, hit, extra)
        call.cache_outcome = "miss"
        response = self._integrate(call)
        # what the integration answered is cached, whatever its status (a 404 or 429 from the
        # backend too); the gateway's own errors (x-amzn-ErrorType) are not
        from_integration = response.header("x-amzn-ErrorType") is None
        if from_integration and len(response.body) <= _CACHE_MAX_BODY:
            self._cache_put(call, key, response, policy.ttl_s)
        response.headers.extend(extra)
        return response

    def _cache_key(self, call: Call) -> tuple[Any, ...]:
        """Resource (cache namespace) + method + the integration's cacheKeyParameters values.

        Neither path parameters nor query strings are in the key unless listed there
        (api-gateway-caching.html "Use method or integration parameters as cache keys").
        """
        assert call.method is not None and call.resource is not None
        integration = call.method.integration
        names = integration.cache_key_parameters if integration else ()
        namespace = (integration.cache_namespace if integration else None) or call.resource.id
        values = tuple((name, _request_parameter(call, name)) for name in names)
        assert call.snapshot is not None
        if call.canary and call.snapshot.deployment_id != call.stage.deployment_id:
            # canary-release.html: another deployment's responses are cached apart
            return (namespace, call.http_method, values, call.snapshot.deployment_id)
        return (namespace, call.http_method, values)

    def _cache_get(self, call: Call, key: tuple[Any, ...]) -> Response | None:
        now = self.emulator.clock.now()
        with self._lock:
            cache = self._stage_cache(call)
            entry = cache.entries.get(key)
            if entry is None or entry.expires_at <= now:
                cache.entries.pop(key, None)
                return None
            return entry.response

    def _cache_put(self, call: Call, key: tuple[Any, ...], response: Response, ttl: int) -> None:
        stored = Response(
            response.status,
            [(k, v) for k, v in response.headers if k.lower() not in _PER_REQUEST_HEADERS],
            response.body,
        )
        with self._lock:
            self._stage_cache(call).entries[key] = CacheEntry(
                stored, self.emulator.clock.now() + ttl
            )

    def _stage_cache(self, call: Call) -> StageCache:
        slot = (call.api_id, call.stage.name)
        cache = self.caches.get(slot)
        if cache is None or cache.stage_identity != id(call.stage):
            cache = self.caches[slot] = StageCache(id(call.stage))
        return cache

    def _replay(self, call: Call, stored: Response, extra: list[tuple[str, str]]) -> Response:
        headers = list(stored.headers) + _standard_headers(call) + extra
        headers.append(("X-Amzn-Trace-Id", call.trace_id))
        return Response(stored.status, headers, stored.body)

    # ---- integrations -----------------------------------------------------------------------
    def _integrate(self, call: Call) -> Response:
        assert call.method is not None
        integration = call.method.integration
        kind = integration.type if integration else "NONE"
        runner = {
            "AWS_PROXY": self._lambda_proxy,
            "MOCK": self._mock,
            "HTTP_PROXY": self._http_proxy,
        }.get(kind)
        if integration is None or runner is None:
            self.note(
                f"API Gateway: {kind} integrations are not emulated (AWS_PROXY, MOCK and "
                "HTTP_PROXY to a lab host are); the request answered 500"
            )
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        started = time.monotonic()
        try:
            return runner(call, integration)
        finally:
            call.integration_ms = (time.monotonic() - started) * 1000

    # AWS_PROXY -> Lambda
    def _lambda_proxy(self, call: Call, integration: IntegrationConfig) -> Response:
        target = self._lambda_target(call, integration)
        if isinstance(target, Response):
            return target
        fn, function_arn = target
        event = self.proxy_event(call)
        try:
            outcome = self.emulator.run(fn, json.dumps(event).encode(), invoked_arn=function_arn)
        except Exception as exc:  # the runtime could not run it (runtime, lab torn down)
            self.note(f"API Gateway: could not invoke {function_arn}: {exc}")
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        if outcome.duration_ms > integration.timeout_ms:
            return gateway_error(call, "INTEGRATION_TIMEOUT")
        if outcome.failed:  # "Lambda execution failed ... due to customer function error"
            return gateway_error(call, "INTEGRATION_FAILURE")
        return self._proxy_response(call, outcome.payload, function_arn)

    def _lambda_target(
        self, call: Call, integration: IntegrationConfig
    ) -> tuple[Any, str] | Response:
        """The function the URI names, if it exists and lets this API invoke it."""
        uri = _STAGE_VARIABLE.sub(
            lambda m: call.stage_variables().get(m.group(1), ""), integration.uri
        )
        match = _LAMBDA_URI.match(uri)
        if match is None:
            self.note(f"API Gateway: AWS_PROXY uri {uri!r} is not a Lambda invocation URI")
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        function_arn = match.group("function")
        fn = self._lambda_version(function_arn, match["region"])
        if fn is None:
            self.note(
                f"API Gateway: the integration of {call.http_method} {call.resource.path} "
                f"names {function_arn}, which does not exist: AWS answers 500"
            )
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        if not integration.credentials and not self._lambda_allows(call, fn, function_arn):
            self.note(
                f"API Gateway: {function_arn} has no resource policy letting "
                f"apigateway.amazonaws.com invoke it from {self._source_arn(call)}: AWS answers "
                "500 (Invalid permissions on Lambda function); add one with "
                "lambda.add_permission(Principal='apigateway.amazonaws.com', SourceArn=...)"
            )
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        return fn, function_arn

    def _lambda_version(self, function_arn: str, region: str) -> Any:
        """The function version a (possibly qualified) ARN runs: an alias's routing applies."""
        from moto.awslambda.exceptions import LambdaClientError
        from moto.awslambda.utils import get_backend

        if function_arn.endswith(":"):  # a qualifier from an undefined stage variable
            return None
        if function_arn.startswith("arn:"):
            parts = function_arn.split(":")
            region, account = parts[3], parts[4]
        else:
            account = self.emulator.account_id
        try:
            fn, _ = lambda_versions.resolve(get_backend(account, region), function_arn)
        except (LambdaClientError, IndexError):  # no such function, version or alias
            return None
        return fn

    def _source_arn(self, call: Call) -> str:
        """The method ARN API Gateway invokes with (execute-api:{region}:{account}:{api}/...)."""
        assert call.resource is not None
        return (
            f"arn:aws:execute-api:{call.region}:{self.emulator.account_id}:{call.api_id}/"
            f"{call.stage.name}/{call.http_method}{call.resource.path}"
        )

    def _lambda_allows(self, call: Call, fn: Any, function_arn: str) -> bool:
        """Does the function's resource policy let API Gateway invoke it from this method?"""
        statements = list(getattr(getattr(fn, "policy", None), "statements", None) or [])
        base = self.emulator.find_function(":".join(function_arn.split(":")[:7]), None)
        if base is not None and base is not fn:
            statements += list(getattr(getattr(base, "policy", None), "statements", None) or [])
        context = {
            "aws:sourcearn": self._source_arn(call),
            "aws:sourceaccount": self.emulator.account_id,
        }
        return any(
            statement.get("Effect", "Allow") == "Allow"
            and _principal_is_apigateway(statement.get("Principal"))
            and _action_invokes(statement.get("Action"))
            and _resource_matches(statement.get("Resource"), function_arn)
            and _conditions_hold(statement.get("Condition") or {}, context)
            for statement in statements
        )

    def proxy_event(self, call: Call) -> dict[str, Any]:
        """The REST API Lambda proxy event (payload format 1.0) for this request."""
        assert call.resource is not None and call.snapshot is not None
        headers = self._event_headers(call)
        body, is_base64 = self._event_body(call)
        multi_query: dict[str, list[str]] = {}
        for name, value in call.query:
            multi_query.setdefault(name, []).append(value)
        return {
            "resource": call.resource.path,
            "path": call.raw_rest or "/",
            "httpMethod": call.http_method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            # the last value of a repeated parameter, as AWS sends it
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": dict(call.path_params) or None,
            "stageVariables": call.stage_variables() or None,
            "requestContext": self._request_context(call),
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def _event_headers(self, call: Call) -> dict[str, str]:
        """The client's headers, plus those API Gateway (and CloudFront, when EDGE) add."""
        assert call.snapshot is not None
        headers = {k: v for k, v in call.headers.items() if k.lower() not in _HOP_BY_HOP}
        length = call.headers.get("Content-Length")
        if length and length != "0":
            headers["Content-Length"] = length
        if "EDGE" in call.snapshot.endpoint_types:
            headers.update(_cloudfront_headers())
        headers["X-Amzn-Trace-Id"] = call.trace_id
        headers["X-Forwarded-For"] = call.request.source_ip
        headers["X-Forwarded-Port"] = "443"
        headers["X-Forwarded-Proto"] = "https"
        return headers

    def _event_body(self, call: Call) -> tuple[str | None, bool]:
        """The body as text, or base64 when its Content-Type is one of binaryMediaTypes."""
        assert call.snapshot is not None
        raw = call.request.body
        if not raw:
            return None, False
        media_type = _media_type(call.headers.get("Content-Type", ""))
        if _is_binary(media_type, call.snapshot.binary_media_types):
            return base64.b64encode(raw).decode(), True
        return raw.decode("utf-8", errors="replace"), False

    def _request_context(self, call: Call) -> dict[str, Any]:
        assert call.resource is not None
        identity: dict[str, Any] = {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": call.request.source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": call.headers.get("User-Agent"),
            "user": None,
        }
        if call.api_key is not None:
            identity["apiKey"] = call.api_key.value
            identity["apiKeyId"] = call.api_key.id
        context: dict[str, Any] = {
            "resourceId": call.resource.id,
            "resourcePath": call.resource.path,
            "httpMethod": call.http_method,
            "extendedRequestId": call.extended_request_id,
            "requestTime": _clf_time(call.started_at),
            "path": f"/{call.stage.name}{call.raw_rest}",
            "accountId": self.emulator.account_id,
            "protocol": "HTTP/1.1",
            "stage": call.stage.name,
            "domainPrefix": call.api_id,
            "requestTimeEpoch": int(call.started_at * 1000),
            "requestId": call.request_id,
            "identity": identity,
            "domainName": call.request.host,
            "deploymentId": call.snapshot.deployment_id if call.snapshot else None,
            "apiId": call.api_id,
        }
        if call.auth.context is not None:
            context["authorizer"] = call.auth.context
        return context

    def _proxy_response(self, call: Call, payload: bytes, function_arn: str) -> Response:
        """Map the function's result (statusCode, headers, body...) to the HTTP response."""
        assert call.snapshot is not None
        result = parse_proxy_result(payload)
        if result is None:
            self.note(
                f"API Gateway: {function_arn} returned a malformed Lambda proxy response (AWS "
                "answers 502): return a dict with statusCode and a string body, e.g. "
                "{'statusCode': 200, 'body': json.dumps(data)}"
            )
            return gateway_error(call, "INTEGRATION_FAILURE")
        status, headers, body, is_base64 = result
        if is_base64:
            try:
                decoded = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                return gateway_error(call, "INTEGRATION_FAILURE")
            accept = _media_type(call.headers.get("Accept", "").split(",")[0])
            # api-gateway-payload-encodings-workflow.html: binary only for a binary Accept type
            if _is_binary(accept, call.snapshot.binary_media_types):
                data = decoded
            else:
                data = body.encode()
        else:
            data = body.encode()
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers += _standard_headers(call) + [("X-Amzn-Trace-Id", call.trace_id)]
        return Response(status, headers, data)

    # MOCK
    def _mock(self, call: Call, integration: IntegrationConfig) -> Response:
        """The request template's statusCode selects an integration response (static parts)."""
        status = _mock_status(integration.request_templates, call)
        chosen = _select_integration_response(integration.responses, str(status))
        if chosen is None:
            self.note(
                f"API Gateway: MOCK {call.http_method} {call.resource.path if call.resource else ''}"
                f" has no integration response for status {status}: AWS answers 500"
            )
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        headers = _static_parameters(chosen.response_parameters, "method.response.header.")
        template = chosen.response_templates.get("application/json")
        if template is None and chosen.response_templates:
            template = next(iter(chosen.response_templates.values()))
        body = _render_context(template or "", call, self).encode()
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        headers += _standard_headers(call)
        return Response(int(chosen.status_code), headers, body)

    # HTTP_PROXY
    def _http_proxy(self, call: Call, integration: IntegrationConfig) -> Response:
        """Forward to another host the lab's front serves (offline, nothing else is reachable)."""
        url = _fill_uri(integration, call)
        host = urlsplit(url).hostname or ""
        if classify(host) is None:
            self.note(
                f"API Gateway: HTTP_PROXY to {url} is not made offline (only API Gateway, "
                "CloudFront and S3 website hosts of the lab are reachable); answered 500"
            )
            return gateway_error(call, "API_CONFIGURATION_ERROR")
        query = call.request.query
        headers = CaseInsensitiveDict(
            {k: v for k, v in call.headers.items() if k.lower() not in ("host", "content-length")}
        )
        headers["Host"] = urlsplit(url).netloc
        forwarded = Request(
            method=_forward_method(integration.http_method, call.http_method),
            url=url + (("&" if "?" in url else "?") + query if query else ""),
            headers=headers,
            body=call.request.body,
            source_ip=call.request.source_ip,
        )
        upstream = self.emulator.front.dispatch(forwarded)
        out = [(k, v) for k, v in upstream.headers if k.lower() not in _HOP_BY_HOP]
        return Response(upstream.status, out + _standard_headers(call), upstream.body)

    # ---- metrics --------------------------------------------------------------------------
    def _publish_metrics(self, call: Call, response: Response) -> None:
        """AWS/ApiGateway metrics for the request, stamped with lab time."""
        if getattr(self.emulator, "closed", False):
            return
        from moto.cloudwatch.models import cloudwatch_backends

        values: list[tuple[str, float, str]] = [
            ("Count", 1.0, "Count"),
            ("4XXError", 1.0 if 400 <= response.status < 500 else 0.0, "Count"),
            ("5XXError", 1.0 if response.status >= 500 else 0.0, "Count"),
            ("Latency", (time.monotonic() - call.started_monotonic) * 1000, "Milliseconds"),
        ]
        if call.integration_ms is not None:
            values.append(("IntegrationLatency", call.integration_ms, "Milliseconds"))
        if call.cache_outcome is not None:
            hit = 1.0 if call.cache_outcome == "hit" else 0.0
            values += [("CacheHitCount", hit, "Count"), ("CacheMissCount", 1.0 - hit, "Count")]
        stamp = datetime.fromtimestamp(call.started_at, tz=timezone.utc).replace(tzinfo=None)
        data = [
            {
                "MetricName": name,
                "Value": value,
                "Unit": unit,
                "Timestamp": stamp,
                "Dimensions": dimensions,
            }
            for dimensions in self._metric_dimensions(call)
            for name, value, unit in values
        ]
        backend = cloudwatch_backends[self.emulator.account_id][call.region]
        backend.put_metric_data("AWS/ApiGateway", data)

    def _metric_dimensions(self, call: Call) -> Iterator[list[dict[str, str]]]:
        """[ApiName], [ApiName, Stage], and [ApiName, Method, Resource, Stage] when detailed."""
        name = "".join(ch for ch in call.api.name or "" if ch.isascii()) or call.api_id
        yield [{"Name": "ApiName", "Value": name}]
        yield [{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": call.stage.name}]
        if call.resource is None or call.method is None:
            return
        settings, _ = self._method_settings(call)
        if settings and settings.get("metricsEnabled"):
            yield [
                {"Name": "ApiName", "Value": name},
                {"Name": "Method", "Value": call.http_method},
                {"Name": "Resource", "Value": call.resource.path},
                {"Name": "Stage", "Value": call.stage.name},
            ]


# headers a cached response gets fresh on every replay
_PER_REQUEST_HEADERS = {"x-amzn-requestid", "x-amz-apigw-id", "x-amzn-trace-id", "warning"}


# ---- authorizers -------------------------------------------------------------------------
def _authorize_none(call: Call) -> Authorized:
    """authorizationType NONE: anyone may call; requestContext has no `authorizer`."""
    return Authorized()


def _authorize_iam(call: Call) -> Authorized | Response:
    """AWS_IAM: an unsigned request gets AWS's 403; signatures are not verified offline."""
    if "Authorization" not in call.headers:
        return gateway_error(call, "MISSING_AUTHENTICATION_TOKEN")
    return gateway_error(call, "AUTHORIZER_CONFIGURATION_ERROR")


# ---- small helpers -------------------------------------------------------------------------
def parse_proxy_result(payload: bytes) -> tuple[int, list[tuple[str, str]], str, bool] | None:
    """(status, headers, body, isBase64Encoded) of a Lambda proxy result, None if malformed."""
    try:
        data = json.loads(payload or b"null")
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) - _PROXY_RESULT_KEYS:
        return None
    status = _status_code(data.get("statusCode"))
    body = data.get("body")
    is_base64 = data.get("isBase64Encoded")
    if status is None or not isinstance(body, str | type(None)):
        return None
    if not isinstance(is_base64, bool | type(None)):
        return None
    headers = _result_headers(data.get("headers"), data.get("multiValueHeaders"))
    if headers is None:
        return None
    return status, headers, body or "", bool(is_base64)


def _status_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 100 <= value <= 599:
        return value
    return None


def _result_headers(single: Any, multi: Any) -> list[tuple[str, str]] | None:
    """headers + multiValueHeaders; a name in both takes multiValueHeaders' values."""
    if not isinstance(single, dict | type(None)) or not isinstance(multi, dict | type(None)):
        return None
    multi = multi or {}
    out: list[tuple[str, str]] = []
    multi_names = {str(k).lower() for k in multi}
    for name, value in (single or {}).items():
        text = _header_text(value)
        if text is None:
            return None
        if str(name).lower() not in multi_names:
            out.append((str(name), text))
    for name, values in multi.items():
        if not isinstance(values, list):
            return None
        for value in values:
            text = _header_text(value)
            if text is None:
                return None
            out.append((str(name), text))
    return [(k, v) for k, v in out if k.lower() not in _HOP_BY_HOP]


def _header_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if value is None:
        return ""
    return None


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _is_binary(media_type: str, binary_types: tuple[str, ...]) -> bool:
    return bool(media_type) and any(fnmatchcase(media_type, t) for t in binary_types)


def _asks_invalidation(cache_control: str) -> bool:
    directives = [d.strip().lower().replace(" ", "") for d in cache_control.split(",")]
    return "max-age=0" in directives


def _request_parameter(call: Call, name: str) -> str | None:
    """The value of `method.request.{path|querystring|header}.{name}` in this request."""
    source, _, param = name.removeprefix("method.request.").partition(".")
    if source == "path":
        return call.path_params.get(param)
    if source in ("querystring", "multivaluequerystring"):
        values = [v for k, v in call.query if k == param]
        return ",".join(values) if source.startswith("multi") else (values[-1] if values else None)
    if source in ("header", "multivalueheader"):
        return call.headers.get(param)
    return None


def _clf_time(epoch: float) -> str:
    """'04/Mar/2020:19:15:17 +0000', the requestTime format."""
    t = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


def _cloudfront_headers() -> dict[str, str]:
    """What CloudFront adds in front of an edge-optimized API (every viewer a desktop here)."""
    return {
        "CloudFront-Forwarded-Proto": "https",
        "CloudFront-Is-Desktop-Viewer": "true",
        "CloudFront-Is-Mobile-Viewer": "false",
        "CloudFront-Is-SmartTV-Viewer": "false",
        "CloudFront-Is-Tablet-Viewer": "false",
        "Via": f"1.1 {os.urandom(16).hex()}.cloudfront.net (CloudFront)",
        "X-Amz-Cf-Id": base64.urlsafe_b64encode(os.urandom(42)).decode(),
    }


def _region_of(url: str) -> str:
    host = urlsplit(url).hostname or ""
    match = re.match(r"apigateway\.([a-z0-9-]+)\.amazonaws\.com", host)
    return match.group(1) if match else "us-east-1"


def _listify(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _principal_is_apigateway(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "apigateway.amazonaws.com" in _listify(principal.get("Service")) or (
            principal.get("AWS") == "*"
        )
    return principal == "apigateway.amazonaws.com"


def _action_invokes(action: Any) -> bool:
    return any(fnmatchcase("lambda:invokefunction", str(a).lower()) for a in _listify(action))


def _resource_matches(resource: Any, function_arn: str) -> bool:
    """Does a policy Resource cover the (possibly qualified) function ARN the URI names?"""
    parts = function_arn.split(":")
    base, qualifier = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else None)
    for pattern in _listify(resource):
        if pattern == "*":
            return True
        p_parts = str(pattern).split(":")
        p_base, p_qualifier = ":".join(p_parts[:7]), (p_parts[7] if len(p_parts) > 7 else None)
        if not fnmatchcase(base, _glob(p_base)):
            continue
        if p_qualifier in (None, "$LATEST"):
            if qualifier in (None, "$LATEST"):
                return True
        elif fnmatchcase(qualifier or "", _glob(p_qualifier)):
            return True
    return False


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """ArnLike/ArnEquals/StringLike/StringEquals on aws:SourceArn and aws:SourceAccount."""
    for operator, clauses in condition.items():
        for key, expected in dict(clauses).items():
            actual = context.get(key.lower())
            if actual is None:
                return False
            values = [str(v) for v in _listify(expected)]
            if operator in ("ArnLike", "ArnEquals"):
                ok = any(arn_like(v, actual) for v in values)
            elif operator == "StringLike":
                ok = any(fnmatchcase(actual, _glob(v)) for v in values)
            elif operator == "StringEquals":
                ok = actual in values
            else:
                return False
            if not ok:
                return False
    return True


def arn_like(pattern: str, arn: str) -> bool:
    """IAM ArnLike: each of the six ARN parts matched on its own, with `*` and `?`."""
    p_parts, a_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(p_parts) != len(a_parts):
        return False
    return all(fnmatchcase(a, _glob(p)) for p, a in zip(p_parts, a_parts, strict=True))


def _glob(pattern: str) -> str:
    """An IAM wildcard pattern for fnmatch: only `*` and `?` are special."""
    return pattern.replace("[", "[[]")


def _mock_status(templates: dict[str, Any], call: Call) -> int:
    """The statusCode a MOCK request template returns (200 when it names none)."""
    content_type = _media_type(call.headers.get("Content-Type", "")) or "application/json"
    template = templates.get(content_type) or templates.get("application/json") or ""
    match = re.search(r'"statusCode"\s*:\s*"?(\d{3})', str(template))
    return int(match.group(1)) if match else 200


def _select_integration_response(
    responses: dict[str, IntegrationResponseConfig], status: str
) -> IntegrationResponseConfig | None:
    """The response whose selectionPattern matches the status, else the default one."""
    default = None
    for response in responses.values():
        if response.selection_pattern is None:
            default = default or response
        elif re.fullmatch(response.selection_pattern, status):
            return response
    return default


def _render_context(template: str, call: Call, gateway: Gateway) -> str:
    """A static mapping template, with the few $context variables it may name and
    `$stageVariables.name` (empty when the stage has no such variable, as in VTL)."""
    values = {
        "$context.requestId": call.request_id,
        "$context.extendedRequestId": call.extended_request_id,
        "$context.stage": call.stage.name,
        "$context.apiId": call.api_id,
        "$context.httpMethod": call.http_method,
        "$context.resourcePath": call.resource.path if call.resource else "",
        "$context.accountId": gateway.emulator.account_id,
        "$context.deploymentId": call.snapshot.deployment_id if call.snapshot else "",
        "$context.isCanaryRequest": "" if call.canary is None else str(call.canary).lower(),
    }
    for name in sorted(values, key=len, reverse=True):
        template = template.replace(name, values[name])
    variables = call.stage_variables()
    return _VTL_STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), template)


def _forward_method(configured: str | None, requested: str) -> str:
    """The integration's httpMethod, or the request's own when it is ANY (or unset)."""
    configured = (configured or "ANY").upper()
    return requested if configured == "ANY" else configured


def _fill_uri(integration: IntegrationConfig, call: Call) -> str:
    """The HTTP_PROXY uri with its {name} parts filled from the request's path parameters."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).rstrip("+")
        source = integration.request_parameters.get(f"integration.request.path.{name}", "")
        param = source.removeprefix("method.request.path.") if source else name
        return quote(call.path_params.get(param, ""), safe="/")

    return re.sub(r"\{([A-Za-z0-9_.-]+\+?)\}", value, integration.uri)


# ---- installation --------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Serve execute-api hosts on the emulator's front and patch moto's API Gateway seams."""
    gateway = Gateway(emulator)
    gateway.patch_moto(emulator._patch)
    emulator.front.register("gateway", gateway.handle)
    emulator.gateway = gateway
    openapi.install(emulator)  # GetExport reads the deployments frozen here
