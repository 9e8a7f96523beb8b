"""Amazon Cognito user pools in front of API Gateway: the COGNITO_USER_POOLS authorizer, tokens
in lab time, and the user-pool API for a browser page.

What AWS does. A REST API method with `authorizationType=COGNITO_USER_POOLS` names an authorizer
(`type=COGNITO_USER_POOLS`, `providerARNs` = the user pools it trusts, `identitySource` = the
header that carries the token, usually `method.request.header.Authorization`). API Gateway reads
that header (the bare token, or `Bearer <token>`), checks the JSON Web Token against the pool's
published keys (RS256, a `kid` of the pool's JWKS), that its `iss` is one of the trusted pools and
that it has not expired. A method without `authorizationScopes` wants an ID token (`token_use`
`id`, `aud` an app client of the pool); a method with scopes wants an access token whose `scope`
claim holds at least one of them. With an `identityValidationExpression` the token's `aud` must
match that regular expression, so an access token (which has no `aud`) never passes. Anything
else is the UNAUTHORIZED gateway response, 401 `{"message":"Unauthorized"}` with
`x-amzn-ErrorType: UnauthorizedException`, before the integration runs. A token that passes
reaches the function as `requestContext.authorizer.claims`, every value a string: `exp` and `iat`
as Java prints a date (`Tue Apr 04 18:39:39 UTC 2023`), other numbers as digits, booleans as
`true`/`false`, a list such as `cognito:groups` joined with commas.
Sources: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-enable-cognito-user-pool.html,
https://repost.aws/knowledge-center/api-gateway-cognito-401-unauthorized (ID token without
scopes, access token with them; a wrong token type, an expired token or another pool's token is
401), the API reference's `Authorizer.identityValidationExpression` (matched against `aud`, else
401) and awsdocs/amazon-api-gateway-developer-guide#54 (so access tokens fail it), the
`requestContext.authorizer.claims` an AWS user posted at
https://repost.aws/questions/QUFJRBaEJRSmmqarNrvCWoQA (strings, Java dates, one group bare).

What is emulated. `CognitoAuthorizer` does exactly those checks against moto's user pools, with the
lab clock for `exp`. moto signs every pool's tokens with one static key
(`moto/cognitoidp/resources/jwks-public.json.gz`, the JWKS it serves at
`/{pool}/.well-known/jwks.json`), so the signature proves only that moto issued a token: the `iss`
check is what tells one pool from another, as the pool's own key does on AWS. Not emulated: the
authorizer result cache (`authorizerResultTtlInSeconds`; every request is verified afresh, which
gives the same answers while tokens are stateless) and the Java regular-expression dialect (Python
`re.fullmatch` stands in).

Tokens in lab time. moto stamps `iat`, `auth_time` and `exp` with the real clock and gives every
token an hour. Here they come from the lab clock and from the app client's `IdTokenValidity` /
`AccessTokenValidity` in its `TokenValidityUnits` (default: 60 minutes; units default to hours;
5 minutes to 1 day, as CreateUserPoolClient allows, else InvalidParameterException), also for
tokens a REFRESH_TOKEN_AUTH makes (whose `auth_time` stays the sign-in's). `ExpiresIn` in the
authentication result is the access token's lifetime, as on AWS. So `lab.clock.advance(3601)`
expires a default token as an hour does on AWS.

The browser route. A page the front serves (at the front's own address) cannot reach
`https://cognito-idp.{region}.amazonaws.com/`. The front answers `POST /_aws/cognito-idp/` on
every host it serves instead: the request (an `X-Amz-Target:
AWSCognitoIdentityProviderService.<Operation>` header and its `application/x-amz-json-1.1` body)
goes to moto's cognito-idp, in the region of the pool the request names (its `ClientId`, or the
`iss` of its `AccessToken`), and moto's answer comes back with CORS headers; `OPTIONS` answers the
preflight. Only the unauthenticated operations a browser calls pass (InitiateAuth,
RespondToAuthChallenge, SignUp, ConfirmSignUp, GetUser, GlobalSignOut, RevokeToken); any other is
400 UnsupportedOperationException, since it needs AWS credentials a page must not hold. A page
using amazon-cognito-identity-js passes `endpoint: location.origin + "/_aws/cognito-idp/"` to
`CognitoUserPool`; on AWS it leaves `endpoint` out. moto is reached over loopback HTTP (the
emulator's `endpoint_url`), which serves the same state with either offline backend.

moto seams (tests/emulator/test_moto_seams.py checks them): `CognitoIdpUserPool.create_jwt` (lab
time and token lifetimes), `CognitoIdpBackend.create_user_pool_client` and
`.update_user_pool_client` (the lifetime ranges), and `apigateway.models.Authorizer.__init__`
(moto drops `identityValidationExpression`: it passes it as `identiy_validation_expression`).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import jwt

from .gateway import Authorized, Call, gateway_error
from .http import Request, Response

_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
BROWSER_PATH = "/_aws/cognito-idp/"
BROWSER_OPERATIONS = (
    "InitiateAuth",
    "RespondToAuthChallenge",
    "SignUp",
    "ConfirmSignUp",
    "GetUser",
    "GlobalSignOut",
    "RevokeToken",
)
_CORS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage"),
]
_PREFLIGHT = [
    ("Access-Control-Allow-Methods", "POST, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "Content-Type, X-Amz-Target, X-Amz-User-Agent, amz-sdk-invocation-id, amz-sdk-request",
    ),
    ("Access-Control-Max-Age", "86400"),
]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server"}

_POOL_ARN = re.compile(
    r"^arn:aws[a-z-]*:cognito-idp:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):userpool/(?P<pool>[\w-]+)$"
)
_ISSUER = re.compile(
    r"^https://cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<pool>[\w-]+)$"
)
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_.-]+)\}")
_HEADER_SOURCE = "method.request.header."

# CreateUserPoolClient: IdTokenValidity and AccessTokenValidity in TokenValidityUnits (default
# hours) may be 5 minutes to 1 day, and are 60 minutes when not set; RefreshTokenValidity (default
# days) 60 minutes to 10 years.
# https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_TokenValidityUnitsType.html
_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_VALIDITY = {
    # token_use: (validity field, TokenValidityUnits key, default unit, min s, max s)
    "id": ("IdTokenValidity", "IdToken", "hours", 300, 86400),
    "access": ("AccessTokenValidity", "AccessToken", "hours", 300, 86400),
    "refresh": ("RefreshTokenValidity", "RefreshToken", "days", 3600, 3650 * 86400),
}
_DEFAULT_LIFETIME_S = 3600
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_jwks: dict[str, Any] | None = None


def pool_jwks(pool: Any) -> dict[str, Any]:
    """The JWKS moto publishes for `pool` (one static key set, the same for every pool)."""
    global _jwks
    if _jwks is None:
        from moto.utilities.utils import load_resource

        _jwks = load_resource("cognitoidp/resources/jwks-public.json")
    return _jwks


# ---- token lifetimes -----------------------------------------------------------------------
def token_lifetime(client_config: dict[str, Any], token_use: str) -> int:
    """Seconds an app client's `id`, `access` or `refresh` tokens live (AWS's defaults when unset)."""
    field_name, unit_key, default_unit, _, _ = _VALIDITY[token_use]
    value = client_config.get(field_name)
    if value is None:
        return _DEFAULT_LIFETIME_S if token_use != "refresh" else 30 * 86400
    unit = (client_config.get("TokenValidityUnits") or {}).get(unit_key) or default_unit
    return int(value) * _UNIT_SECONDS[unit]


def validity_problem(client_config: dict[str, Any]) -> str | None:
    """What CreateUserPoolClient refuses in the token lifetimes, or None when they are fine."""
    units = client_config.get("TokenValidityUnits") or {}
    for unit_key, unit in units.items():
        if unit not in _UNIT_SECONDS:
            return (
                f"TokenValidityUnits.{unit_key} must be one of seconds, minutes, hours, days: "
                f"got {unit!r}"
            )
    for token_use, (field_name, _, _, low, high) in _VALIDITY.items():
        if client_config.get(field_name) is None:
            continue
        seconds = token_lifetime(client_config, token_use)
        if not low <= seconds <= high:
            span = "60 minutes and 10 years" if token_use == "refresh" else "5 minutes and 1 day"
            return f"{field_name} must be between {span}: got {seconds} seconds"
    return None


# ---- claims as API Gateway passes them -------------------------------------------------------
def java_date(epoch: float) -> str:
    """'Tue Apr 04 18:39:39 UTC 2023': how the authorizer renders `exp` and `iat`."""
    t = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t.day:02d} {t:%H:%M:%S} UTC {t.year}"


def claim_strings(claims: dict[str, Any]) -> dict[str, str]:
    """The token's claims as `requestContext.authorizer.claims` holds them: every value a string."""
    out = {}
    for name, value in claims.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        out[name] = java_date(value) if name in ("exp", "iat") and is_number else _text(value)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


# ---- the authorizer --------------------------------------------------------------------------
class CognitoAuthorizer:
    """COGNITO_USER_POOLS for the gateway, Cognito tokens in lab time, the browser route."""

    def __init__(self, emulator: Any):
        self.emulator = emulator
        self._auth_times: dict[str, int] = {}  # origin_jti -> when that sign-in happened
        self._lock = threading.Lock()

    # ---- wiring ---------------------------------------------------------------------------
    def patch_moto(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Tokens in lab time with the client's lifetimes; keep identityValidationExpression."""
        from moto.apigateway import models as apigateway_models
        from moto.cognitoidp import models
        from moto.cognitoidp.exceptions import InvalidParameterException

        cognito = self
        original_jwt = models.CognitoIdpUserPool.create_jwt

        def create_jwt(
            pool: Any,
            client_id: str,
            username: str,
            token_use: str,
            expires_in: int = _DEFAULT_LIFETIME_S,
            extra_data: dict[str, Any] | None = None,
        ) -> tuple[str, int]:
            now = int(cognito.emulator.clock.now())
            client = pool.clients.get(client_id)
            lifetime = token_lifetime(client.extended_config if client else {}, token_use)
            extra = dict(extra_data or {})
            origin = extra.get("origin_jti")
            with cognito._lock:  # a refresh keeps the sign-in's auth_time
                auth_time = cognito._auth_times.setdefault(origin, now) if origin else now
            # moto applies extra_data last: these replace its real-clock times
            extra.update(iat=now, auth_time=auth_time, exp=now + lifetime)
            return original_jwt(pool, client_id, username, token_use, lifetime, extra)

        patch(models.CognitoIdpUserPool, "create_jwt", create_jwt)

        def refusing_bad_lifetimes(original: Callable[..., Any]) -> Callable[..., Any]:
            # Create/UpdateUserPoolClient: AWS refuses token lifetimes out of range
            def checked(backend: Any, *args: Any) -> Any:
                problem = validity_problem(dict(args[-1] or {}))  # extended_config, last
                if problem is not None:
                    raise InvalidParameterException(problem)
                return original(backend, *args)

            return checked

        for name in ("create_user_pool_client", "update_user_pool_client"):
            original = getattr(models.CognitoIdpBackend, name)
            patch(models.CognitoIdpBackend, name, refusing_bad_lifetimes(original))
        original_authorizer_init = apigateway_models.Authorizer.__init__

        def authorizer_init(
            authorizer: Any, authorizer_id: Any, name: Any, authorizer_type: Any, **kwargs: Any
        ) -> None:
            original_authorizer_init(authorizer, authorizer_id, name, authorizer_type, **kwargs)
            if authorizer.identity_validation_expression is None:
                misspelt = kwargs.get("identiy_validation_expression")
                authorizer.identity_validation_expression = misspelt

        patch(apigateway_models.Authorizer, "__init__", authorizer_init)

    def note(self, message: str) -> None:
        gateway = getattr(self.emulator, "gateway", None)
        if gateway is not None:
            gateway.note(message)
        else:
            self.emulator.note(message)

    # ---- a request to a COGNITO_USER_POOLS method -----------------------------------------
    def authorize(self, call: Call) -> Authorized | Response:
        """The token in the method's identity source, checked as API Gateway checks it."""
        assert call.method is not None and call.snapshot is not None
        where = f"{call.http_method} {call.resource.path if call.resource else ''}"
        config = call.snapshot.authorizers.get(call.method.authorizer_id or "")
        if config is None or (config.get("type") or "").upper() != "COGNITO_USER_POOLS":
            self.note(
                f"API Gateway: {where} has authorizationType COGNITO_USER_POOLS but its "
                f"authorizerId {call.method.authorizer_id!r} names no COGNITO_USER_POOLS "
                "authorizer of the API in this deployment: AWS answers 500; create one with "
                "apigw.create_authorizer(type='COGNITO_USER_POOLS', providerARNs=[pool_arn], "
                "identitySource='method.request.header.Authorization'), put_method with its id, "
                "and deploy again"
            )
            return gateway_error(call, "AUTHORIZER_CONFIGURATION_ERROR")
        source = config.get("identitySource") or f"{_HEADER_SOURCE}Authorization"
        if not source.startswith(_HEADER_SOURCE):
            self.note(
                f"API Gateway: the COGNITO_USER_POOLS authorizer {config.get('name')!r} has "
                f"identitySource {source!r}; it must name a header "
                "('method.request.header.Authorization'): AWS answers 500"
            )
            return gateway_error(call, "AUTHORIZER_CONFIGURATION_ERROR")
        token = _bearer(call.headers.get(source[len(_HEADER_SOURCE) :]) or "")
        expression = config.get("identityValidationExpression")
        try:
            claims = self.verify(token, config, call) if token else None
            if isinstance(claims, dict) and expression:
                audience = claims.get("aud")
                if not isinstance(audience, str) or not re.fullmatch(expression, audience):
                    claims = None
        except re.error as exc:
            self.note(
                f"API Gateway: the identityValidationExpression {expression!r} of authorizer "
                f"{config.get('name')!r} is not a regular expression ({exc}): AWS refuses it "
                "when the authorizer is created"
            )
            return gateway_error(call, "AUTHORIZER_CONFIGURATION_ERROR")
        if claims is _EXPIRED:  # genuine but out of date: API Gateway says so
            return gateway_error(call, "UNAUTHORIZED", EXPIRED_MESSAGE)
        if claims is None:
            return gateway_error(call, "UNAUTHORIZED")
        return Authorized(context={"claims": claim_strings(claims)})

    def verify(self, token: str, config: dict[str, Any], call: Call) -> Any:
        """The token's claims if API Gateway would accept it for this method; `_EXPIRED` for a
        token of a trusted pool, properly signed, whose time is up; else None."""
        assert call.method is not None
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            return None
        pool = self._trusted_pool(unverified.get("iss"), config, call)
        if pool is None:
            return None
        jwk = next((k for k in pool_jwks(pool)["keys"] if k.get("kid") == header["kid"]), None)
        if jwk is None:
            return None
        try:
            claims = jwt.decode(
                token,
                key=jwt.PyJWK(jwk).key,
                algorithms=["RS256"],
                options={
                    "verify_exp": False,  # against the lab clock, below
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidTokenError:
            return None
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, int | float):
            return None
        scopes = call.method.authorization_scopes
        if self.emulator.clock.now() >= expires:
            return _EXPIRED
        if not scopes:  # an ID token, issued to an app client of the pool
            if claims.get("token_use") != "id" or claims.get("aud") not in pool.clients:
                return None
        else:  # an access token carrying one of the method's scopes
            if claims.get("token_use") != "access" or claims.get("client_id") not in pool.clients:
                return None
            granted = str(claims.get("scope") or "").split()
            if not set(granted) & set(scopes):
                return None
        return claims

    def _trusted_pool(self, issuer: Any, config: dict[str, Any], call: Call) -> Any:
        """The moto user pool that issued the token, if it is one of the authorizer's."""
        found = _ISSUER.match(issuer) if isinstance(issuer, str) else None
        if found is None:
            return None
        variables = call.stage_variables()
        for arn in config.get("providerARNs") or []:
            arn = _STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), str(arn))
            parts = _POOL_ARN.match(arn)
            if parts is None:
                self.note(
                    f"API Gateway: the COGNITO_USER_POOLS authorizer {config.get('name')!r} "
                    f"names {arn!r}, which is not a user pool ARN "
                    "(arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID)"
                )
                continue
            if (parts["region"], parts["pool"]) == (found["region"], found["pool"]):
                return _user_pool(parts["account"], parts["region"], parts["pool"])
        return None

    # ---- the browser route ----------------------------------------------------------------
    def browser_route(self, request: Request, parts: dict[str, str]) -> Response:
        """`POST /_aws/cognito-idp/`: a page's user-pool call, answered by moto's cognito-idp."""
        if request.method == "OPTIONS":
            return Response(200, _CORS + _PREFLIGHT, b"")
        if request.method != "POST":
            return _refusal(
                405,
                "UnsupportedOperationException",
                f"{BROWSER_PATH} takes POST requests with an X-Amz-Target header, as "
                "cognito-idp.REGION.amazonaws.com does",
                [("Allow", "POST, OPTIONS")],
            )
        target = request.headers.get("X-Amz-Target", "")
        operation = target[len(_TARGET_PREFIX) :] if target.startswith(_TARGET_PREFIX) else ""
        if operation not in BROWSER_OPERATIONS:
            named = f"{operation or target or 'a request without X-Amz-Target'}"
            return _refusal(
                400,
                "UnsupportedOperationException",
                f"{BROWSER_PATH} serves only the user-pool operations a browser calls without AWS "
                f"credentials ({', '.join(BROWSER_OPERATIONS)}); {named} is not one of them: "
                "call it from the notebook with boto3 (lab.client('cognito-idp'))",
            )
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            params = {}
        region = self._region_of(params if isinstance(params, dict) else {})
        return self._to_moto(request, region)

    # ---- the pool's public documents ------------------------------------------------------
    def public_documents(self, request: Request, parts: dict[str, str]) -> Response:
        """`GET https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json` (and
        `openid-configuration`): what any token verifier fetches, served by moto."""
        if request.method not in ("GET", "HEAD") or not _WELL_KNOWN.match(request.path):
            return _refusal(
                400,
                "UnsupportedOperationException",
                "the lab answers only GET /{userPoolId}/.well-known/jwks.json and "
                "/.well-known/openid-configuration on this host: call the user-pool API with "
                "boto3 (lab.client('cognito-idp'))",
            )
        target = urlsplit(self.emulator.endpoint_url)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            conn.request(
                "GET",
                request.path,
                headers={"Host": f"cognito-idp.{parts['region']}.amazonaws.com"},
            )
            answer = conn.getresponse()
            body = answer.read()
            out = [(k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
            return Response(answer.status, out + _CORS, b"" if request.method == "HEAD" else body)
        finally:
            conn.close()

    def _region_of(self, params: dict[str, Any]) -> str:
        """The region of the pool a request names: by its ClientId, else its AccessToken's iss."""
        from moto.cognitoidp.models import cognitoidp_backends

        client_id = params.get("ClientId")
        backends = cognitoidp_backends[self.emulator.account_id]
        if isinstance(client_id, str):
            for region, backend in list(backends.items()):
                if any(client_id in p.clients for p in list(backend.user_pools.values())):
                    return region
        token = params.get("AccessToken")
        if isinstance(token, str):
            issuer = _unverified_claims(token).get("iss")
            found = _ISSUER.match(issuer) if isinstance(issuer, str) else None
            if found is not None:
                return found["region"]
        return "us-east-1"

    def _to_moto(self, request: Request, region: str) -> Response:
        """The request as the SDK sends it to cognito-idp, to moto's server on loopback."""
        target = urlsplit(self.emulator.endpoint_url)
        headers = {
            "Host": f"cognito-idp.{region}.amazonaws.com",
            "Content-Type": request.headers.get("Content-Type") or "application/x-amz-json-1.1",
            "X-Amz-Target": request.headers["X-Amz-Target"],
        }
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            conn.request("POST", "/", body=request.body or b"{}", headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            out = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in _HOP_BY_HOP and not k.lower().startswith("access-control-")
            ]
            return Response(answer.status, out + _CORS, body)
        finally:
            conn.close()


# ---- small helpers -------------------------------------------------------------------------
# an expired but otherwise valid token: API Gateway's 401 names the reason
# (seen from AWS: aws-amplify/amplify-js#6060, #10147)
EXPIRED_MESSAGE = "The incoming token has expired"
_EXPIRED = object()

_WELL_KNOWN = re.compile(r"^/[A-Za-z0-9_-]+/\.well-known/(?:jwks\.json|openid-configuration)$")


def _bearer(value: str) -> str:
    """The token in an identity header: the bare token, or what follows `Bearer `."""
    value = value.strip()
    scheme, _, rest = value.partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else value


def _user_pool(account: str, region: str, pool_id: str) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    try:
        return cognitoidp_backends[account][region].user_pools.get(pool_id)
    except KeyError:  # a region moto does not know
        return None


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(
    status: int, kind: str, message: str, extra: list[tuple[str, str]] | None = None
) -> Response:
    """An error in the AWS JSON protocol's shape (`__type`, `message`), with CORS."""
    body = json.dumps({"__type": kind, "message": message}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", kind)]
    return Response(status, headers + (extra or []) + _CORS, body)


# ---- installation --------------------------------------------------------------------------
def install(emulator: Any) -> None:
    """Plug COGNITO_USER_POOLS into the gateway, patch moto's tokens, serve the browser route."""
    cognito = CognitoAuthorizer(emulator)
    cognito.patch_moto(emulator._patch)
    emulator.gateway.authorizers["COGNITO_USER_POOLS"] = cognito.authorize
    emulator.front.route(BROWSER_PATH, cognito.browser_route)
    emulator.front.register("cognito-idp", cognito.public_documents)
    emulator.cognito = cognito
