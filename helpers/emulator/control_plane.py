"""Control-plane calls moto lacks: API Gateway UpdateMethod, canary releases and REST API
tags; CloudFront UpdateKeyGroup.

moto 5.2 answers UpdateMethod and UpdateKeyGroup with NotImplementedError (and GetKeyGroupConfig
with 404 Not Found), drops `canarySettings` and cannot tag a REST API; chapter 3 switches a
method to a Cognito authorizer and rotates the keys a distribution trusts, chapter 2 releases a
canary and promotes it. This adds:

- **UpdateMethod** (`PATCH /restapis/{id}/resources/{rid}/methods/{verb}`): the patch paths AWS's
  "Patch Operations" table lists for a method (`/authorizationType`, `/authorizerId`,
  `/authorizationScopes`, `/apiKeyRequired`, `/operationName`, `/requestParameters/{name}`,
  `/requestModels/{type}`, `/requestValidatorId`), each with the ops AWS allows, applied in order
  and all or nothing; the answer is the method, as GetMethod gives it. AWS's errors, as recorded
  against AWS by LocalStack's validated snapshots (tests/aws/services/apigateway/
  test_apigateway_api.snapshot.json, test_update_method_validation): NotFoundException "Invalid
  Resource identifier specified" / "Invalid Method identifier specified"; BadRequestException
  "Invalid patch path {path}", "Invalid patch operation specified. Must be one of: [replace]",
  "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or
  COGNITO_USER_POOLS requires a valid authorizer.", "Invalid Request Validator identifier
  specified". An authorizerId on a method that is neither CUSTOM nor COGNITO_USER_POOLS is
  ignored, and `/apiKeyRequired` reads anything but "true" as false, as AWS does. The change is
  to the method only: a stage keeps serving what its deployment froze until the next
  CreateDeployment ("The update requires redeploying the API",
  https://docs.aws.amazon.com/apigateway/latest/developerguide/updating-api.html).
  `replace /authorizationScopes` (a comma-separated list) is accepted too; AWS's table lists
  only add and remove there.
- **Canary releases** (https://docs.aws.amazon.com/apigateway/latest/developerguide/canary-release.html):
  CreateDeployment with `canarySettings` leaves the stage on its deployment and points the
  canary at the new one (the stage must exist); CreateStage takes `canarySettings`; UpdateStage
  takes `replace` on `/canarySettings/percentTraffic`, `/deploymentId`, `/useStageCache` and
  `/stageVariableOverrides/{name}`, `remove` of `/canarySettings` or of one override, and the
  promotion `copy` ops (`from` `/canarySettings/deploymentId` to `/deploymentId`, `from`
  `/canarySettings/stageVariableOverrides` to `/variables`); GetStage shows `canarySettings`
  with AWS's defaults (the stage's deployment, 0.0 %, useStageCache false). AWS's messages, as
  recorded against AWS by LocalStack's validated snapshots (test_apigateway_canary.snapshot.json):
  "Invalid deployment content specified.Non null and non empty stageName must be provided for
  canary deployment. Provided value is null", "...Stage {name} must already be created before
  making a canary release deployment", "Invalid {op} operation with path: {path}", "Cannot
  remove method setting {path} because there is no method setting for this method ", "Invalid
  method setting path: {path}. Must be one of: [...]", "Deployment id does not exist",
  "Promotion not available. Canary does not exist.". A percentTraffic outside 0-100 is refused
  with our own message (AWS's is not recorded). A plain CreateDeployment on a stage with a
  canary re-points the stage and leaves the canary as it was.
- **REST API tags**: GetTags, TagResource and UntagResource on `arn:aws:apigateway:{region}::/
  restapis/{id}` (moto reads every ARN as a stage's, and its server has no route for it).
- **UpdateKeyGroup** (`PUT /2020-05-31/key-group/{Id}`) and **GetKeyGroupConfig**
  (`GET /2020-05-31/key-group/{Id}/config`, a route moto lacks): the whole configuration is
  replaced, If-Match must carry the group's current ETag (missing: InvalidIfMatchVersion; stale:
  PreconditionFailed, 412) and a new ETag comes back; every public key must exist (else
  InvalidArgument), at most 5 per group (TooManyPublicKeysInKeyGroup), names stay unique
  (KeyGroupAlreadyExists, 409); an unknown group is NoSuchResource (404). The edge reads key
  groups at request time, so viewers are checked against the new keys at once. API reference:
  https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateKeyGroup.html; quotas:
  https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html

moto seams (tests/emulator/test_moto_seams.py checks them): new handler methods on
`APIGatewayResponse` and `CloudFrontResponse` (moto dispatches an action to the method of that
name), `CloudFrontResponse.create_key_group` and the `KeyGroup.key_group_config` property (to
keep the group's Comment, which moto drops), `APIGatewayResponse.create_deployment`,
`.create_stage`, `.update_stage`, `.get_tags`, `.tag_resource`, `.untag_resource` and
`Stage.to_json` (canaries, tags), `moto.cloudfront.urls.url_paths` (the `/config` route) and
`moto.apigateway.urls.url_paths` (the REST API tags route). The moto-server backend runs moto's
server in this process and builds a service's routes on its first request, so it sees them too.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import string
from typing import Any
from urllib.parse import unquote

AUTHORIZATION_TYPES = ("NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS")
_NEEDS_AUTHORIZER = ("CUSTOM", "COGNITO_USER_POOLS")
# the paths a method's patch may name, and the ops AWS supports on each ("Patch Operations",
# https://docs.aws.amazon.com/apigateway/latest/api/patch-operations.html); a path ending in
# '/' takes one more segment, the map key (`~1` for '/')
_METHOD_PATHS: dict[str, tuple[str, ...]] = {
    "/apiKeyRequired": ("replace",),
    "/authorizationScopes": ("add", "remove", "replace"),
    "/authorizationType": ("replace",),
    "/authorizerId": ("replace",),
    "/operationName": ("replace",),
    "/requestModels/": ("add", "remove", "replace"),
    "/requestParameters/": ("add", "remove", "replace"),
    "/requestValidatorId": ("replace",),
}
_BUILT_IN_MODELS = ("Empty", "Error")
MAX_KEYS_PER_GROUP = 5  # CloudFront quota: public keys in a single key group
_CONFIG_ROUTE = "{0}/2020-05-31/key-group/(?P<key_name>[^/]+)/config$"
_REST_API_TAGS_ROUTE = (
    "{0}/tags/arn:(?P<partition>[^/]+):apigateway:(?P<region_name>[^/]+)::/restapis/"
    "(?P<function_id>[^/]+)$"
)


# ---- API Gateway: UpdateMethod --------------------------------------------------------------
def _api_error(code: str, message: str, status: int) -> Exception:
    from moto.apigateway.exceptions import ApiGatewayException

    error = ApiGatewayException(code, message)
    error.code = status
    return error


def _bad_request(message: str) -> Exception:
    return _api_error("BadRequestException", message, 400)


def _method_target(path: str) -> tuple[str, str | None]:
    """(the path's entry in _METHOD_PATHS, the map key it names), or BadRequest."""
    if path in _METHOD_PATHS and not path.endswith("/"):
        return path, None
    parts = path.split("/")
    if len(parts) == 3 and parts[2] and f"/{parts[1]}/" in _METHOD_PATHS:
        return f"/{parts[1]}/", parts[2].replace("~1", "/").replace("~0", "~")
    raise _bad_request(f"Invalid patch path {path}")


def patch_method(api: Any, method: Any, operations: list[dict[str, Any]]) -> None:
    """Apply UpdateMethod's patch operations to a moto Method, all or nothing."""
    state = {
        "authorization_type": method.authorization_type,
        "authorizer_id": method.authorizer_id,
        "authorization_scopes": list(method.authorization_scopes or []),
        "api_key_required": bool(method.api_key_required),
        "operation_name": method.operation_name,
        "request_parameters": dict(method.request_parameters or {}),
        "request_models": dict(method.request_models or {}),
        "request_validator_id": method.request_validator_id,
    }
    type_changed = authorizer_changed = False
    for operation in operations:
        op, path = operation.get("op"), operation.get("path") or ""
        value = operation.get("value")
        target, key = _method_target(path)
        if op not in _METHOD_PATHS[target]:
            allowed = ", ".join(_METHOD_PATHS[target])
            raise _bad_request(f"Invalid patch operation specified. Must be one of: [{allowed}]")
        if target == "/authorizationType":
            kind = (value or "").upper()
            if kind not in AUTHORIZATION_TYPES:
                raise _bad_request(
                    f"Invalid authorization type {value!r}: use one of {', '.join(AUTHORIZATION_TYPES)}"
                )
            state["authorization_type"], type_changed = kind, True
        elif target == "/authorizerId":
            state["authorizer_id"], authorizer_changed = value or None, True
        elif target == "/authorizationScopes":
            _patch_scopes(state["authorization_scopes"], op, value)
        elif target == "/apiKeyRequired":
            state["api_key_required"] = str(value).lower() == "true"
        elif target == "/operationName":
            state["operation_name"] = value or None
        elif target == "/requestParameters/":
            if op == "remove":
                state["request_parameters"].pop(key, None)
            else:
                state["request_parameters"][key] = str(value).lower() == "true"
        elif target == "/requestModels/":
            if op == "remove":
                state["request_models"].pop(key, None)
            elif value not in _BUILT_IN_MODELS and value not in (api.models or {}):
                raise _bad_request(f"Invalid model identifier specified: {value}")
            else:
                state["request_models"][key] = value
        elif target == "/requestValidatorId":
            if value and value not in (api.request_validators or {}):
                raise _bad_request("Invalid Request Validator identifier specified")
            state["request_validator_id"] = value or None
    if state["authorization_type"] in _NEEDS_AUTHORIZER:
        if (type_changed or authorizer_changed) and state["authorizer_id"] not in api.authorizers:
            raise _bad_request(
                "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                "COGNITO_USER_POOLS requires a valid authorizer."
            )
    elif authorizer_changed:  # AWS ignores an authorizer the method's type does not use
        state["authorizer_id"] = method.authorizer_id
    for name in ("authorization_scopes", "request_parameters", "request_models"):
        state[name] = state[name] or None  # AWS leaves an emptied field out of the method
    for name, value in state.items():
        setattr(method, name, value)


def _patch_scopes(scopes: list[str], op: str, value: str | None) -> None:
    names = [s.strip() for s in (value or "").split(",") if s.strip()]
    if op == "add":
        scopes.extend(n for n in names if n not in scopes)
    elif op == "remove":
        kept = [s for s in scopes if s not in names] if names else []
        scopes[:] = kept
    else:
        scopes[:] = names


def update_method(handler: Any) -> Any:
    """UpdateMethod: patch the method, answer it as GetMethod does."""
    parts = handler.path.split("/")
    api_id, resource_id, verb = parts[2], parts[4], parts[6]
    api = handler.backend.apis.get(api_id)
    resource = api.resources.get(resource_id) if api is not None else None
    if resource is None:
        raise _api_error("NotFoundException", "Invalid Resource identifier specified", 404)
    method = resource.resource_methods.get(verb)
    if method is None:
        raise _api_error("NotFoundException", "Invalid Method identifier specified", 404)
    patch_method(api, method, handler._get_param("patchOperations") or [])
    return 200, {}, json.dumps(method.to_json())


# ---- API Gateway: canary release settings on stages --------------------------------------------
# the paths UpdateStage takes under /canarySettings (only `replace`, and `remove` of the whole
# settings or of one override, as AWS answers); AWS's list of valid stage paths, verbatim
_CANARY_PATH = re.compile(
    r"^/canarySettings/(percentTraffic|deploymentId|useStageCache|stageVariableOverrides/.+)$"
)
_STAGE_PATHS = (
    "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, "
    "/clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, "
    "/accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, "
    "/{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, "
    "/{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/"
    "rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, "
    "/{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/"
    "dataEncrypted, /{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, "
    "/{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, "
    "/*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, "
    "/*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, "
    "/*/*/caching/enabled, /*/*/caching/dataEncrypted, "
    "/*/*/caching/requireAuthorizationForCacheControl, "
    "/*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, "
    "/tracingEnabled]"
)
_COPY_PATHS = ("/deploymentId", "/variables")
_COPY_FROM = ("/canarySettings/deploymentId", "/canarySettings/stageVariableOverrides")


def canary_settings(
    stage: Any, settings: dict[str, Any], deployment_id: str | None = None
) -> dict[str, Any]:
    """A stage's canarySettings as AWS fills them: the stage's deployment, 0 %, no stage cache."""
    out: dict[str, Any] = {
        "deploymentId": settings.get("deploymentId") or deployment_id or stage.deployment_id,
        "percentTraffic": _percent(settings.get("percentTraffic", 0.0)),
        "useStageCache": bool(settings.get("useStageCache", False)),
    }
    if settings.get("stageVariableOverrides"):
        out["stageVariableOverrides"] = dict(settings["stageVariableOverrides"])
    return out


def _percent(value: Any) -> float:
    try:
        percent = float(value)
    except (TypeError, ValueError):
        percent = -1.0
    if not 0.0 <= percent <= 100.0:
        raise _bad_request(
            f"Invalid canary percentTraffic {value!r}: use a number from 0.0 to 100.0"
        )
    return percent


def _deployment_must_exist(api: Any, deployment_id: Any) -> None:
    if deployment_id not in api.deployments:
        raise _bad_request("Deployment id does not exist")


def create_deployment(handler: Any, original: Any) -> Any:
    """CreateDeployment with canarySettings: the stage keeps its deployment, the canary gets
    the new one (create-canary-deployment.html); the stage must exist already."""
    settings = handler._get_param("canarySettings")
    if settings is None:
        return original(handler)
    api_id = handler.path.replace("/restapis/", "", 1).split("/")[0]
    api = handler.backend.get_rest_api(api_id)
    stage_name = handler._get_param("stageName")
    if not stage_name:
        shown = "null" if stage_name is None else stage_name
        raise _bad_request(
            "Invalid deployment content specified.Non null and non empty stageName must be "
            f"provided for canary deployment. Provided value is {shown}"
        )
    stage = api.stages.get(stage_name)
    if stage is None:
        raise _bad_request(
            f"Invalid deployment content specified.Stage {stage_name} must already be created "
            "before making a canary release deployment"
        )
    _percent(settings.get("percentTraffic", 0.0))
    base = stage.deployment_id
    status, headers, body = original(handler)
    stage = api.stages[stage_name]
    stage.deployment_id = base  # the stage still serves its deployment; the canary the new one
    stage.canary_settings = canary_settings(stage, settings, json.loads(body)["id"])
    return status, headers, body


def create_stage(handler: Any, original: Any) -> Any:
    """CreateStage with canarySettings (a canary of the stage's own deployment by default)."""
    settings = handler._get_param("canarySettings")
    if settings is None:
        return original(handler)
    api = handler.backend.get_rest_api(handler.path.split("/")[2])
    if settings.get("deploymentId"):
        _deployment_must_exist(api, settings["deploymentId"])
    _percent(settings.get("percentTraffic", 0.0))
    status, headers, _ = original(handler)
    stage = api.stages[handler._get_param("stageName")]
    stage.canary_settings = canary_settings(stage, settings)
    return status, headers, json.dumps(stage.to_json())


def update_stage(handler: Any) -> Any:
    """UpdateStage, with the /canarySettings paths and the `copy` ops that promote a canary."""
    parts = handler.path.split("/")
    api_id, stage_name = parts[2], unquote(parts[4])
    api = handler.backend.get_rest_api(api_id)
    stage = handler.backend.get_stage(api_id, stage_name)  # NotFoundException when missing
    canary = copy.deepcopy(getattr(stage, "canary_settings", None))
    deployment_id = stage.deployment_id
    promoted: dict[str, str] = {}
    moto_ops = []
    for operation in handler._get_param("patchOperations") or []:
        op, path, value = operation.get("op"), operation.get("path") or "", operation.get("value")
        if op == "copy":
            source = operation.get("from")
            if path not in _COPY_PATHS or source not in _COPY_FROM:
                raise _bad_request(
                    f"Invalid copy operation with path: {path} and from {source}. Valid copy:path "
                    "are [/deploymentId, /variables] and valid copy:from are "
                    "[/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]"
                )
            if canary is None:
                raise _bad_request("Promotion not available. Canary does not exist.")
            if path == "/variables":
                promoted.update(canary.get("stageVariableOverrides") or {})
            else:
                deployment_id = canary["deploymentId"]
        elif path == "/canarySettings" or path.startswith("/canarySettings/"):
            canary = _patch_canary(api, canary, deployment_id, op, path, value)
        else:
            if path == "/deploymentId" and op == "replace":
                _deployment_must_exist(api, value)
                deployment_id = value
            moto_ops.append(operation)
    handler.backend.update_stage(api_id, stage_name, moto_ops)
    stage.deployment_id = deployment_id
    stage.variables.update(promoted)
    stage.canary_settings = canary
    return 200, {}, json.dumps(stage.to_json())


def _patch_canary(
    api: Any, canary: dict[str, Any] | None, base: str, op: str, path: str, value: Any
) -> dict[str, Any] | None:
    """One UpdateStage operation on /canarySettings..., with AWS's errors."""
    known = _CANARY_PATH.match(path)
    if op == "remove":
        if path == "/canarySettings":
            return None
        key = path.removeprefix("/canarySettings/stageVariableOverrides/")
        overrides = (canary or {}).get("stageVariableOverrides") or {}
        if key != path and key.replace("~1", "/") in overrides:
            overrides.pop(key.replace("~1", "/"))
            if not overrides:
                canary.pop("stageVariableOverrides", None)  # type: ignore[union-attr]
            return canary
    if op != "replace":
        if known and op != "remove":
            raise _bad_request(f"Invalid {op} operation with path: {path}")
        raise _bad_request(
            f"Cannot {op} method setting {path.lstrip('/')} because there is no method "
            "setting for this method "
        )
    if not known:
        raise _bad_request(f"Invalid method setting path: {path}. Must be one of: {_STAGE_PATHS}")
    canary = canary or canary_settings(_Base(base), {})
    name = path.split("/")[2]
    if name == "percentTraffic":
        canary["percentTraffic"] = _percent(value)
    elif name == "deploymentId":
        _deployment_must_exist(api, value)
        canary["deploymentId"] = value
    elif name == "useStageCache":
        canary["useStageCache"] = str(value).lower() == "true"
    else:
        key = path.split("/", 3)[3].replace("~1", "/")
        canary.setdefault("stageVariableOverrides", {})[key] = "" if value is None else str(value)
    return canary


class _Base:
    """A stand-in stage for canary_settings' defaults: its deployment id."""

    def __init__(self, deployment_id: str):
        self.deployment_id = deployment_id


def _stage_to_json(original: Any) -> Any:
    def to_json(stage: Any) -> dict[str, Any]:
        out = original(stage)
        settings = getattr(stage, "canary_settings", None)
        if settings:
            out["canarySettings"] = dict(settings)
        return out

    return to_json


# ---- API Gateway: tags on a REST API ----------------------------------------------------------
def _rest_api_of_tag_arn(handler: Any) -> Any:
    """The RestAPI an `arn:aws:apigateway:{region}::/restapis/{id}` ARN names, else None (a
    stage ARN, which moto handles)."""
    parts = unquote(handler.path.split("/tags/", 1)[1]).split("/")
    if len(parts) != 3 or parts[1] != "restapis":
        return None
    return handler.backend.get_rest_api(parts[2])  # NotFoundException when missing


def _tag_handlers(originals: dict[str, Any]) -> dict[str, Any]:
    """GetTags, TagResource and UntagResource on a REST API (moto reads every ARN as a stage's)."""

    def get_tags(handler: Any) -> Any:
        api = _rest_api_of_tag_arn(handler)
        if api is None:
            return originals["get_tags"](handler)
        return json.dumps({"tags": dict(api.tags or {})})

    def tag_resource(handler: Any) -> Any:
        api = _rest_api_of_tag_arn(handler)
        if api is None:
            return originals["tag_resource"](handler)
        api.tags = {**(api.tags or {}), **(handler._get_param("tags") or {})}
        return json.dumps({})

    def untag_resource(handler: Any) -> Any:
        api = _rest_api_of_tag_arn(handler)
        if api is None:
            return originals["untag_resource"](handler)
        for key in handler.querystring.get("tagKeys") or []:
            (api.tags or {}).pop(key, None)
        return json.dumps({})

    return {"get_tags": get_tags, "tag_resource": tag_resource, "untag_resource": untag_resource}


# ---- CloudFront: UpdateKeyGroup, GetKeyGroupConfig ------------------------------------------
def _cf_error(code: str, message: str) -> Exception:
    """A CloudFront error; moto takes its HTTP status from the service model."""
    from moto.cloudfront.exceptions import CloudFrontException

    return CloudFrontException(code, message)


def _key_group(backend: Any, group_id: str) -> Any:
    group = backend.key_groups.get(group_id)
    if group is None:
        raise _cf_error("NoSuchResource", f"The specified key group does not exist: {group_id}")
    return group


def _new_etag() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "E" + "".join(secrets.choice(alphabet) for _ in range(13))


def update_key_group(handler: Any) -> Any:
    """UpdateKeyGroup: replace the whole configuration when If-Match is the current ETag."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    backend = handler.backend
    group = _key_group(backend, handler._get_param("Id"))
    if_match = handler._get_param("IfMatch")
    if not if_match:
        raise _cf_error(
            "InvalidIfMatchVersion",
            "The If-Match version is missing or not valid for the resource.",
        )
    if if_match != group.etag:
        raise _cf_error(
            "PreconditionFailed",
            "The request failed because it didn't meet the preconditions in one or more "
            "request-header fields.",
        )
    config = handler._get_param("KeyGroupConfig") or {}
    name, items = config.get("Name") or "", list(config.get("Items") or [])
    missing = [key_id for key_id in items if key_id not in backend.public_keys]
    if missing:
        raise _cf_error(
            "InvalidArgument",
            f"The key group names public keys that do not exist: {', '.join(missing)} "
            "(create them with CreatePublicKey first).",
        )
    if len(items) > MAX_KEYS_PER_GROUP:
        raise _cf_error(
            "TooManyPublicKeysInKeyGroup",
            f"A key group holds at most {MAX_KEYS_PER_GROUP} public keys; this one lists {len(items)}.",
        )
    if any(g.name == name and g is not group for g in backend.key_groups.values()):
        raise _cf_error("KeyGroupAlreadyExists", f"A key group named {name} already exists.")
    group.name, group.items = name, items
    group.comment = config.get("Comment")
    group.etag = _new_etag()
    group.last_modified_time = utcnow()
    return ActionResult({"KeyGroup": group, "ETag": group.etag})


def get_key_group_config(handler: Any) -> Any:
    """GetKeyGroupConfig: the group's configuration and its ETag."""
    from moto.core.responses import ActionResult

    group = _key_group(handler.backend, handler._get_param("Id"))
    return ActionResult({"KeyGroupConfig": group.key_group_config, "ETag": group.etag})


def delete_key_group(handler: Any) -> Any:
    """DeleteKeyGroup: only with the current ETag, and only once no cache behaviour trusts it."""
    from moto.core.responses import ActionResult

    backend = handler.backend
    group_id = handler._get_param("Id")
    group = _key_group(backend, group_id)
    if_match = handler._get_param("IfMatch")
    if if_match and if_match != group.etag:
        raise _cf_error(
            "PreconditionFailed",
            "The request failed because it didn't meet the preconditions in one or more "
            "request-header fields.",
        )
    from .edge import behaviours

    for dist in backend.distributions.values():
        if any(group_id in _trusted_groups(b) for b in behaviours(dist.distribution_config)):
            raise _cf_error(
                "ResourceInUse",
                f"Cannot delete key group {group_id}: distribution {dist.distribution_id} "
                "trusts it in a cache behavior; remove it from the behavior first.",
            )
    del backend.key_groups[group_id]
    return ActionResult({})


def _trusted_groups(behaviour: Any) -> list[str]:
    trusted = getattr(behaviour, "trusted_key_groups", None)
    if trusted is None or not trusted.enabled:
        return []
    return list(trusted.items)


def _key_group_config(group: Any) -> dict[str, Any]:
    config = {"Items": group.items, "Name": group.name}
    if getattr(group, "comment", None):
        config["Comment"] = group.comment
    return config


# ---- installation ----------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Add UpdateMethod, UpdateKeyGroup, GetKeyGroupConfig and DeleteKeyGroup to moto, until
    teardown."""
    from moto.apigateway.responses import APIGatewayResponse
    from moto.cloudfront import urls as cloudfront_urls
    from moto.cloudfront.models import CloudFrontBackend, KeyGroup
    from moto.cloudfront.responses import CloudFrontResponse

    patch = emulator._patch
    patch(APIGatewayResponse, "update_method", update_method)
    _install_canary(patch)
    patch(CloudFrontResponse, "update_key_group", update_key_group)
    patch(CloudFrontResponse, "get_key_group_config", get_key_group_config)
    patch(CloudFrontResponse, "delete_key_group", delete_key_group)
    # moto's GetKeyGroup fails with a KeyError (a 500) for a missing group: AWS says NoSuchResource
    patch(
        CloudFrontBackend, "get_key_group", lambda backend, group_id: _key_group(backend, group_id)
    )
    original_create = CloudFrontResponse.create_key_group

    def create_key_group(handler: Any) -> Any:  # moto drops the Comment
        result = original_create(handler)
        result.result["KeyGroup"].comment = handler._get_param("KeyGroupConfig.Comment")
        return result

    patch(CloudFrontResponse, "create_key_group", create_key_group)
    patch(KeyGroup, "key_group_config", property(_key_group_config))
    paths = dict(cloudfront_urls.url_paths)
    paths[_CONFIG_ROUTE] = CloudFrontResponse.dispatch
    patch(cloudfront_urls, "url_paths", paths)


def _install_canary(patch: Any) -> None:
    """CreateDeployment, CreateStage and UpdateStage with canarySettings; GetStage shows them."""
    from moto.apigateway import urls as apigateway_urls
    from moto.apigateway.models import Stage
    from moto.apigateway.responses import APIGatewayResponse

    original_deploy = APIGatewayResponse.create_deployment
    original_create_stage = APIGatewayResponse.create_stage
    patch(
        APIGatewayResponse,
        "create_deployment",
        lambda handler: create_deployment(handler, original_deploy),
    )
    patch(
        APIGatewayResponse,
        "create_stage",
        lambda handler: create_stage(handler, original_create_stage),
    )
    patch(APIGatewayResponse, "update_stage", update_stage)
    patch(Stage, "to_json", _stage_to_json(Stage.to_json))
    names = ("get_tags", "tag_resource", "untag_resource")
    handlers = _tag_handlers({name: getattr(APIGatewayResponse, name) for name in names})
    for name, handler in handlers.items():
        patch(APIGatewayResponse, name, handler)
    # moto's server routes only a stage's ARN (with its '/'s) to the tag calls
    paths = dict(apigateway_urls.url_paths)
    paths[_REST_API_TAGS_ROUTE] = APIGatewayResponse.dispatch
    patch(apigateway_urls, "url_paths", paths)
