"""API Gateway's COGNITO_USER_POOLS authorizer, Cognito tokens in lab time, and the browser route.

Contract: API Gateway developer guide, "Integrate a REST API with an Amazon Cognito user pool",
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-enable-cognito-user-pool.html;
"How do I troubleshoot 401 Unauthorized errors ... after I've set up an Amazon Cognito user pool?",
https://repost.aws/knowledge-center/api-gateway-cognito-401-unauthorized (no method scopes: an ID
token; scopes: an access token; other pool, wrong type: 401 Unauthorized; expired: 401 "The
incoming token has expired", as AWS answers it in aws-amplify/amplify-js#6060); the API
reference's Authorizer.identityValidationExpression (matched against `aud`, else 401); the claims
a REST API passes to Lambda, as an AWS user posted them,
https://repost.aws/questions/QUFJRBaEJRSmmqarNrvCWoQA (all strings; `exp` and `iat` as
"Tue Apr 04 18:39:39 UTC 2023"; `auth_time` as digits; one group bare); token lifetimes,
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_TokenValidityUnitsType.html
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import requests
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.emulator.gateway_support import RestApi

BOTH = ("moto", "moto-server")
PASSWORD = "Corr3ct-Horse!"
ADMIN_SCOPE = "aws.cognito.signin.user.admin"  # the scope of an access token from InitiateAuth
TARGET = "AWSCognitoIdentityProviderService."


def java_date(epoch: int) -> str:
    """How the authorizer prints `exp` and `iat` (Java's Date.toString in UTC)."""
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch))


def unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# an expired token's 401, as AWS answers it (aws-amplify/amplify-js#6060 and #10147)
EXPIRED = "The incoming token has expired"


def assert_unauthorized(resp: requests.Response, message: str = "Unauthorized") -> None:
    """API Gateway's UNAUTHORIZED gateway response."""
    assert resp.status_code == 401, resp.text
    assert resp.text == json.dumps({"message": message}, separators=(",", ":"))
    assert resp.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert resp.headers["Content-Type"] == "application/json"


# ---- the lab: two user pools, an API with Cognito-authorized methods, an echo function ---------
class Pool:
    """A user pool, its app clients and users, made with the calls a learner makes."""

    def __init__(self, lab, name: str, region: str | None = None):
        region = region or lab.region
        self.idp = lab.client("cognito-idp", region)
        pool = self.idp.create_user_pool(PoolName=lab.name(name))["UserPool"]
        self.id, self.arn = pool["Id"], pool["Arn"]
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{self.id}"
        self.web = self.client("web")

    def client(self, name: str, **kwargs) -> str:
        flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        return self.idp.create_user_pool_client(
            UserPoolId=self.id, ClientName=name, ExplicitAuthFlows=flows, **kwargs
        )["UserPoolClient"]["ClientId"]

    def user(self, username: str, *groups: str) -> str:
        self.idp.sign_up(ClientId=self.web, Username=username, Password=PASSWORD)
        self.idp.admin_confirm_sign_up(UserPoolId=self.id, Username=username)
        for group in groups:
            try:
                self.idp.create_group(UserPoolId=self.id, GroupName=group)
            except self.idp.exceptions.GroupExistsException:
                pass
            self.idp.admin_add_user_to_group(UserPoolId=self.id, Username=username, GroupName=group)
        return username

    def sign_in(self, username: str = "ada", client: str | None = None) -> dict:
        """InitiateAuth USER_PASSWORD_AUTH: the AuthenticationResult (IdToken, AccessToken...)."""
        return self.idp.initiate_auth(
            ClientId=client or self.web,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]


@pytest.fixture(scope="module")
def pool(lab):
    pool = Pool(lab, "members")
    pool.user("ada", "premium", "staff")
    pool.user("bob", "premium")
    return pool


@pytest.fixture(scope="module")
def other_pool(lab):
    pool = Pool(lab, "strangers")
    pool.user("ada")  # the same name in another pool
    return pool


@pytest.fixture(scope="module")
def echo(deploy):
    return deploy("echo", "gateway_echo.py", handler="gateway_echo.handler")


@pytest.fixture(scope="module")
def api(lab, pool, echo):
    """GET /me (ID token), /admin (access token, scope aws.cognito.signin.user.admin),
    /videos (access token, scope videos/premium or videos/all), /checked (aud must be the web
    client), /staged (the pool named through a stage variable)."""
    api = RestApi(lab, "members-api")

    def authorizer(name: str, arn: str, **kwargs) -> str:
        return api.apigw.create_authorizer(
            restApiId=api.id,
            name=name,
            type="COGNITO_USER_POOLS",
            providerARNs=[arn],
            identitySource="method.request.header.Authorization",
            **kwargs,
        )["id"]

    members = authorizer("members", pool.arn)
    checked = authorizer("checked", pool.arn, identityValidationExpression=pool.web)
    staged = authorizer("staged", pool.arn.replace(pool.id, "${stageVariables.pool}"))
    routes = {
        "/me": (members, None),
        "/admin": (members, [ADMIN_SCOPE]),
        "/videos": (members, ["videos/premium", "videos/all"]),
        "/checked": (checked, None),
        "/staged": (staged, None),
    }
    for path, (authorizer_id, scopes) in routes.items():
        extra = {"authorizationScopes": scopes} if scopes else {}
        api.method(path, "GET", auth="COGNITO_USER_POOLS", authorizerId=authorizer_id, **extra)
        api.lambda_integration(path, "GET", echo)
    api.allow(echo)
    api.deploy("prod", variables={"pool": pool.id})
    api.authorizer_ids = {"members": members, "checked": checked}
    return api


def call(api, path: str, token: str | None = None, *, header: str = "Authorization"):
    headers = {header: token} if token is not None else {}
    return requests.get(api.url(path), headers=headers)


def claims_seen(resp: requests.Response) -> dict:
    """requestContext.authorizer of the event the function received."""
    assert resp.status_code == 200, resp.text
    return resp.json()["event"]["requestContext"]["authorizer"]


# ---- forged tokens ----------------------------------------------------------------------------
def moto_signing_key():
    """The key moto signs every pool's tokens with: a token signed with it is one Cognito issued."""
    from moto.utilities.utils import load_resource

    return jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json")).key


def signed(claims: dict, key, *, alg: str = "RS256", kid: str = "dummy") -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def id_claims(pool: Pool, lab, **extra) -> dict:
    now = int(lab.clock.now())
    return {
        "sub": "5c6b1d52-0000-4000-8000-000000000001",
        "aud": pool.web,
        "token_use": "id",
        "iss": pool.issuer,
        "cognito:username": "ada",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        **extra,
    }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- who gets in ------------------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_an_id_token_reaches_the_function_with_its_claims_as_strings(lab, pool, api):
    """GIVEN ada (groups premium, staff) signed in WHEN GET /me with her ID token THEN the function
    sees requestContext.authorizer.claims, every value a string in AWS's format."""
    tokens = pool.sign_in("ada")
    token = unverified(tokens["IdToken"])

    authorizer = claims_seen(call(api, "/me", tokens["IdToken"]))

    assert set(token["cognito:groups"]) == {"premium", "staff"}
    assert authorizer == {
        "claims": {
            "sub": token["sub"],
            "iss": pool.issuer,
            "aud": pool.web,
            "token_use": "id",
            "cognito:username": "ada",
            "cognito:groups": ",".join(token["cognito:groups"]),
            "auth_time": str(token["auth_time"]),
            "iat": java_date(token["iat"]),
            "exp": java_date(token["exp"]),
            "jti": token["jti"],
            "origin_jti": token["origin_jti"],
        }
    }


def test_one_group_is_passed_bare(pool, api):
    claims = claims_seen(call(api, "/me", pool.sign_in("bob")["IdToken"]))["claims"]

    assert claims["cognito:groups"] == "premium"
    assert claims["cognito:username"] == "bob"


def test_booleans_numbers_and_lists_become_strings(lab, pool, api):
    """A token Cognito signed (moto's key) with an attribute of each JSON type."""
    issued = id_claims(
        pool,
        lab,
        email_verified=True,
        phone_number_verified=False,
        **{"custom:tier": 3, "cognito:groups": ["gold", "silver"]},
    )

    claims = claims_seen(call(api, "/me", signed(issued, moto_signing_key())))["claims"]

    assert claims["email_verified"] == "true"
    assert claims["phone_number_verified"] == "false"
    assert claims["custom:tier"] == "3"
    assert claims["cognito:groups"] == "gold,silver"
    assert claims["auth_time"] == str(issued["auth_time"])
    assert claims["exp"] == java_date(issued["exp"])


def test_a_bearer_prefix_is_accepted(pool, api):
    """Cognito's guide: the app adds the token as a bearer token to the Authorization header."""
    token = pool.sign_in()["IdToken"]

    assert call(api, "/me", f"Bearer {token}").status_code == 200


@pytest.mark.backends(*BOTH)
@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer "])
def test_a_request_without_a_token_is_401(api, value):
    assert_unauthorized(call(api, "/me", value))


def test_a_token_in_another_header_than_the_identity_source_is_401(pool, api):
    assert_unauthorized(call(api, "/me", pool.sign_in()["IdToken"], header="X-Token"))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_what_is_not_a_jws_is_401(api, garbage):
    assert_unauthorized(call(api, "/me", garbage))


# ---- tokens that are not what they claim -----------------------------------------------------
def test_a_token_signed_by_another_key_is_401(lab, pool, api):
    """Same claims, same kid, but signed by a key that is not in the pool's JWKS."""
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = id_claims(pool, lab)

    assert call(api, "/me", signed(claims, moto_signing_key())).status_code == 200
    assert_unauthorized(call(api, "/me", signed(claims, stranger)))


def test_an_unknown_kid_is_401(lab, pool, api):
    assert_unauthorized(call(api, "/me", signed(id_claims(pool, lab), moto_signing_key(), kid="x")))


def test_alg_none_is_401(lab, pool, api):
    token = jwt.encode(id_claims(pool, lab), None, algorithm="none", headers={"kid": "dummy"})

    assert_unauthorized(call(api, "/me", token))


def test_hs256_is_401_even_keyed_with_the_pools_public_key(lab, pool, api):
    """The classic algorithm-confusion forgery: HMAC keyed with the published RSA key."""
    from moto.utilities.utils import load_resource

    public = json.dumps(load_resource("cognitoidp/resources/jwks-public.json")).encode()
    header = b64url(json.dumps({"alg": "HS256", "kid": "dummy", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(id_claims(pool, lab)).encode())
    mac = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()

    assert_unauthorized(call(api, "/me", f"{header}.{payload}.{b64url(mac)}"))
    shared = signed(id_claims(pool, lab), "a-shared-secret-of-32-bytes-long", alg="HS256")
    assert_unauthorized(call(api, "/me", shared))


def test_a_tampered_payload_is_401(pool, api):
    """ada's real token, with the username in its payload changed and the signature kept."""
    header, payload, signature = pool.sign_in("ada")["IdToken"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:username"] = "mallory"
    forged = f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"

    assert call(api, "/me", f"{header}.{payload}.{signature}").status_code == 200
    assert_unauthorized(call(api, "/me", forged))


@pytest.mark.backends(*BOTH)
def test_a_token_from_another_pool_is_401(other_pool, api):
    """moto signs every pool with one key: only `iss` tells the pools apart, as on AWS."""
    token = other_pool.sign_in("ada")["IdToken"]

    assert unverified(token)["iss"] == other_pool.issuer
    assert_unauthorized(call(api, "/me", token))


@pytest.mark.parametrize("issuer", ["other", "https://cognito-idp.us-east-1.amazonaws.com/", None])
def test_the_issuer_alone_can_refuse_a_token(lab, pool, other_pool, api, issuer):
    """Everything else right (moto's key, a client of the trusted pool), `iss` wrong or absent."""
    claims = id_claims(pool, lab, iss=other_pool.issuer if issuer == "other" else issuer)
    if issuer is None:
        del claims["iss"]

    assert call(api, "/me", signed(id_claims(pool, lab), moto_signing_key())).status_code == 200
    assert_unauthorized(call(api, "/me", signed(claims, moto_signing_key())))


def test_an_id_token_for_a_client_the_pool_does_not_have_is_401(lab, pool, api):
    token = signed(id_claims(pool, lab, aud="no-such-client"), moto_signing_key())

    assert_unauthorized(call(api, "/me", token))


# ---- ID tokens, access tokens and scopes ------------------------------------------------------
def test_without_method_scopes_an_access_token_is_401(pool, api):
    """ "If you didn't configure any scopes on the API Gateway method, ... use a valid ID token." """
    assert_unauthorized(call(api, "/me", pool.sign_in()["AccessToken"]))


def test_with_method_scopes_an_access_token_carrying_one_is_let_in(pool, api):
    tokens = pool.sign_in()
    access = unverified(tokens["AccessToken"])

    claims = claims_seen(call(api, "/admin", tokens["AccessToken"]))["claims"]

    assert claims["token_use"] == "access"
    assert claims["scope"] == ADMIN_SCOPE
    assert claims["client_id"] == pool.web
    assert claims["username"] == "ada"
    assert claims["exp"] == java_date(access["exp"])
    assert "aud" not in claims


def test_with_method_scopes_an_id_token_is_401(pool, api):
    assert_unauthorized(call(api, "/admin", pool.sign_in()["IdToken"]))


def test_an_access_token_without_any_of_the_method_scopes_is_401(pool, api):
    """InitiateAuth's access token holds only aws.cognito.signin.user.admin."""
    assert_unauthorized(call(api, "/videos", pool.sign_in()["AccessToken"]))


def test_any_one_of_the_method_scopes_is_enough(lab, pool, api):
    """An access token Cognito issued with a custom scope (as a resource server's scopes give)."""
    now = int(lab.clock.now())
    access = {
        "sub": "5c6b1d52-0000-4000-8000-000000000001",
        "iss": pool.issuer,
        "client_id": pool.web,
        "token_use": "access",
        "scope": "openid videos/all",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "username": "ada",
    }

    assert call(api, "/videos", signed(access, moto_signing_key())).status_code == 200
    access["scope"] = "openid videos/free"
    assert_unauthorized(call(api, "/videos", signed(access, moto_signing_key())))


# ---- the authorizer's own settings ------------------------------------------------------------
def test_identity_validation_expression_matches_the_aud_of_the_token(pool, api):
    """The expression is kept (moto drops it) and matched against `aud`: another client of the
    same pool, and any access token (no `aud`), are 401."""
    found = api.apigw.get_authorizer(restApiId=api.id, authorizerId=api.authorizer_ids["checked"])
    mobile = pool.client("mobile")

    assert found["identityValidationExpression"] == pool.web
    assert call(api, "/checked", pool.sign_in()["IdToken"]).status_code == 200
    assert_unauthorized(call(api, "/checked", pool.sign_in(client=mobile)["IdToken"]))
    assert call(api, "/me", pool.sign_in(client=mobile)["IdToken"]).status_code == 200


def test_a_provider_arn_may_name_its_pool_with_a_stage_variable(pool, other_pool, api):
    assert call(api, "/staged", pool.sign_in()["IdToken"]).status_code == 200
    assert_unauthorized(call(api, "/staged", other_pool.sign_in()["IdToken"]))


def test_a_cognito_method_without_its_authorizer_is_500_with_a_note(lab, pool, echo):
    api = RestApi(lab, "no-authorizer")
    api.method("/", "GET", auth="COGNITO_USER_POOLS", authorizerId="nosuch")
    api.lambda_integration("/", "GET", echo)
    api.allow(echo)
    api.deploy()

    resp = call(api, "/", pool.sign_in()["IdToken"])

    assert resp.status_code == 500
    assert resp.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert any("names no COGNITO_USER_POOLS authorizer" in n for n in lab.emulator.notes)


# ---- tokens in lab time ------------------------------------------------------------------------
@pytest.mark.backends(*BOTH)
def test_a_default_token_expires_after_an_hour_of_lab_time(lab, pool, api):
    tokens = pool.sign_in()
    token = unverified(tokens["IdToken"])

    assert tokens["ExpiresIn"] == 3600
    assert token["exp"] - token["iat"] == 3600
    assert call(api, "/me", tokens["IdToken"]).status_code == 200
    lab.clock.advance(3601)
    assert_unauthorized(call(api, "/me", tokens["IdToken"]), EXPIRED)
    assert call(api, "/me", pool.sign_in()["IdToken"]).status_code == 200  # a new sign-in works


def test_tokens_are_stamped_with_lab_time(lab, pool):
    lab.clock.advance(86400)  # a day ahead of the real clock
    before = int(lab.clock.now())

    tokens = pool.sign_in()

    for name in ("IdToken", "AccessToken"):
        token = unverified(tokens[name])
        assert before <= token["iat"] <= lab.clock.now()
        assert token["auth_time"] == token["iat"]
        assert token["iat"] > time.time() + 86000


def test_an_id_token_validity_of_5_minutes_expires_after_301_seconds(lab, pool, api):
    short = pool.client("short", IdTokenValidity=5, TokenValidityUnits={"IdToken": "minutes"})
    tokens = pool.sign_in(client=short)
    token = tokens["IdToken"]

    assert unverified(token)["exp"] - unverified(token)["iat"] == 300
    assert tokens["ExpiresIn"] == 3600  # the access token keeps the default hour
    lab.clock.advance(290)
    assert call(api, "/me", token).status_code == 200
    lab.clock.advance(11)
    assert_unauthorized(call(api, "/me", token), EXPIRED)


def test_expires_in_is_the_access_token_lifetime_also_after_a_refresh(lab, pool):
    """AccessTokenValidity 2 (hours by default), IdTokenValidity 90 minutes; REFRESH_TOKEN_AUTH
    gives new tokens stamped now with the same lifetimes, and the sign-in's auth_time."""
    client = pool.client(
        "long", AccessTokenValidity=2, IdTokenValidity=90, TokenValidityUnits={"IdToken": "minutes"}
    )
    first = pool.sign_in(client=client)
    signed_in_at = unverified(first["IdToken"])["auth_time"]
    lab.clock.advance(1800)

    again = pool.idp.initiate_auth(
        ClientId=client,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]},
    )["AuthenticationResult"]

    assert first["ExpiresIn"] == again["ExpiresIn"] == 7200
    access, identity = unverified(again["AccessToken"]), unverified(again["IdToken"])
    assert access["exp"] - access["iat"] == 7200
    assert identity["exp"] - identity["iat"] == 5400
    assert identity["iat"] >= signed_in_at + 1800
    assert access["auth_time"] == identity["auth_time"] == signed_in_at


@pytest.mark.parametrize(
    "settings",
    [
        {"IdTokenValidity": 1, "TokenValidityUnits": {"IdToken": "minutes"}},
        {"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "days"}},
        {"AccessTokenValidity": 299, "TokenValidityUnits": {"AccessToken": "seconds"}},
        {"RefreshTokenValidity": 59, "TokenValidityUnits": {"RefreshToken": "minutes"}},
    ],
)
def test_a_token_lifetime_outside_what_cognito_allows_is_refused(pool, settings):
    """ID and access tokens: 5 minutes to 1 day; refresh tokens: 60 minutes to 10 years."""
    with pytest.raises(ClientError) as raised:
        pool.client("out-of-range", **settings)

    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"


# ---- the browser route: Cognito's API for a page served by the front -----------------------------
def cognito(url: str, operation: str, body: dict, **headers) -> requests.Response:
    """A call as amazon-cognito-identity-js makes it: POST, X-Amz-Target, x-amz-json-1.1."""
    return requests.post(
        url,
        data=json.dumps(body),
        headers={
            "X-Amz-Target": TARGET + operation,
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-User-Agent": "aws-amplify/0.1.x js",
            **headers,
        },
    )


@pytest.fixture
def route(lab) -> str:
    return f"{lab.http_endpoint}/_aws/cognito-idp/"


@pytest.mark.backends(*BOTH)
def test_a_page_signs_up_and_in_through_the_front_and_calls_the_api(pool, api, route):
    signup = cognito(
        route,
        "SignUp",
        {"ClientId": pool.web, "Username": "carol", "Password": PASSWORD},
        Origin="http://127.0.0.1:8080",
    )
    assert signup.status_code == 200, signup.text
    assert signup.json()["UserSub"]
    assert signup.headers["Access-Control-Allow-Origin"] == "*"
    confirm = {"ClientId": pool.web, "Username": "carol", "ConfirmationCode": "123456"}
    assert cognito(route, "ConfirmSignUp", confirm).status_code == 200

    auth = cognito(
        route,
        "InitiateAuth",
        {
            "ClientId": pool.web,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "carol", "PASSWORD": PASSWORD},
        },
    )
    assert auth.status_code == 200, auth.text
    tokens = auth.json()["AuthenticationResult"]

    claims = claims_seen(call(api, "/me", tokens["IdToken"]))["claims"]
    assert claims["cognito:username"] == "carol"
    user = cognito(route, "GetUser", {"AccessToken": tokens["AccessToken"]})
    assert user.status_code == 200, user.text
    assert user.json()["Username"] == "carol"


def test_the_route_answers_on_every_host_the_front_serves(pool, api):
    url = api.url("/").replace("/prod/", "/_aws/cognito-idp/")
    body = {
        "ClientId": pool.web,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "ada", "PASSWORD": PASSWORD},
    }

    resp = cognito(url, "InitiateAuth", body)

    assert resp.status_code == 200, resp.text
    assert unverified(resp.json()["AuthenticationResult"]["IdToken"])["iss"] == pool.issuer


def test_global_sign_out_reaches_the_pools_region(lab, route):
    """GlobalSignOut names no client: the route finds the pool (here in another region than the
    lab's) from the access token's iss."""
    faraway = Pool(lab, "faraway", region="eu-west-1")
    faraway.user("ada")
    access = faraway.sign_in()["AccessToken"]
    assert cognito(route, "GetUser", {"AccessToken": access}).status_code == 200

    out = cognito(route, "GlobalSignOut", {"AccessToken": access})
    after = cognito(route, "GetUser", {"AccessToken": access})

    assert out.status_code == 200, out.text
    assert after.status_code == 400
    assert after.json()["__type"].endswith("NotAuthorizedException")


@pytest.mark.backends(*BOTH)
def test_the_preflight_lets_a_page_send_cognitos_headers(route):
    resp = requests.options(
        route,
        headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
    )

    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-amz-target", "x-amz-user-agent"} <= allowed


def test_cognitos_own_errors_come_back_with_cors(pool, route):
    body = {
        "ClientId": pool.web,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "ada", "PASSWORD": "wrong-password"},
    }

    resp = cognito(route, "InitiateAuth", body)

    assert resp.status_code == 400
    assert resp.json()["__type"].endswith("NotAuthorizedException")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.backends(*BOTH)
def test_an_operation_that_needs_credentials_is_refused_before_it_reaches_cognito(pool, route):
    resp = cognito(
        route, "AdminCreateUser", {"UserPoolId": pool.id, "Username": "mallory"}, Origin="x"
    )

    assert resp.status_code == 400
    assert resp.json()["__type"] == "UnsupportedOperationException"
    assert "InitiateAuth" in resp.json()["message"] and "boto3" in resp.json()["message"]
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    with pytest.raises(pool.idp.exceptions.UserNotFoundException):
        pool.idp.admin_get_user(UserPoolId=pool.id, Username="mallory")


# ---- the pool's public documents ----------------------------------------------------------------
def test_the_pools_jwks_url_verifies_its_tokens(lab, pool):
    """GIVEN a token of the pool WHEN a verifier fetches the pool's JWKS from its documented URL
    (https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json) THEN the key named
    by the token's kid verifies it, as any OpenID Connect client does."""
    token = pool.sign_in()["IdToken"]
    url = f"https://cognito-idp.{lab.region}.amazonaws.com/{pool.id}/.well-known/jwks.json"

    jwks = requests.get(url, timeout=10).json()

    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    claims = jwt.decode(
        token,
        key=jwt.PyJWK(key),
        algorithms=["RS256"],
        audience=pool.web,
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == f"https://cognito-idp.{lab.region}.amazonaws.com/{pool.id}"
    config = requests.get(url.replace("jwks.json", "openid-configuration"), timeout=10).json()
    assert config["jwks_uri"].endswith(f"/{pool.id}/.well-known/jwks.json")


def test_the_cognito_host_refuses_what_is_not_a_public_document(lab, pool):
    resp = requests.post(f"https://cognito-idp.{lab.region}.amazonaws.com/", json={}, timeout=10)

    assert resp.status_code == 400
    assert resp.json()["__type"] == "UnsupportedOperationException"
