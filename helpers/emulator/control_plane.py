"""Two control-plane calls moto lacks: API Gateway UpdateMethod and CloudFront UpdateKeyGroup.

moto 5.2 answers both with NotImplementedError (and GetKeyGroupConfig with 404 Not Found); chapter
3 switches a method to a Cognito authorizer and rotates the keys a distribution trusts. This adds:

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
keep the group's Comment, which moto drops) and
`moto.cloudfront.urls.url_paths` (the `/config` route). The moto-server backend runs moto's
server in this process and builds a service's routes on its first request, so it sees them too.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

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
