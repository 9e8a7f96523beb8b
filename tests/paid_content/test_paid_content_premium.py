"""The premium-user service, invoked with API Gateway REST proxy events (payload v1).

Contract: without an authorizer (no `requestContext.authorizer`) the routes are open, the
"start simple" step; with a COGNITO_USER_POOLS authorizer API Gateway passes the ID token's claims
as strings in `requestContext.authorizer.claims` (`email`, `cognito:groups`, `token_use`...), and
then only the `admins` group registers and a customer reads only their own record. Records are
`{email, premium, since}`, `since` being when API Gateway received the registration
(`requestTimeEpoch`). Bad input is 400, a missing record 404, every answer JSON.
https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-integrate-with-cognito.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from tests.emulator.gateway_support import RestApi
from tests.paid_content.support import (
    ADMIN,
    LAPSED,
    MEMBER,
    STRANGER,
    claims_for,
    invoke,
    proxy_event,
    sample_event,
)

ADMINS = claims_for(ADMIN, groups="admins")


@pytest.fixture(scope="module")
def premium_service(deploy_app, premium_table):
    return deploy_app("premium", env={"PREMIUM_TABLE": premium_table})


@pytest.fixture(scope="module")
def call(lab, premium_service):
    """call(method, resource, **proxy_event kwargs) -> Answer, through lambda.invoke."""
    return lambda method, resource, **kwargs: invoke(
        lab, premium_service, proxy_event(method, resource, **kwargs)
    )


@pytest.fixture
def stored(lab, premium_table):
    """stored(email) -> the table's item for email as plain values, or None."""

    def _stored(email):
        item = lab.client("dynamodb").get_item(TableName=premium_table, Key={"email": {"S": email}})
        item = item.get("Item")
        return None if item is None else {k: next(iter(v.values())) for k, v in item.items()}

    return _stored


def register(call, body, claims=ADMINS, **kwargs):
    return call("POST", "/users", body=body, claims=claims, **kwargs)


def look_up(call, email, claims):
    return call(
        "GET", "/users/{email}", path=f"/users/{email}", path_params={"email": email}, claims=claims
    )


# ---- register ----------------------------------------------------------------------------------
def test_the_sample_event_registers_as_an_admin(lab, premium_service, stored):
    """functions/events/premium-register.json: an admin registers ana, stamped with the request
    time."""
    answer = invoke(lab, premium_service, sample_event("premium-register.json"))

    assert answer.status == 201
    assert answer.body == {
        "email": MEMBER,
        "premium": True,
        "since": "2026-11-02T09:14:07+00:00",  # requestTimeEpoch 1793610847000
    }
    assert stored(MEMBER) == answer.body


@pytest.mark.parametrize(
    ("groups", "email"),
    [
        ("admins", "new-1@example.com"),
        ("[admins]", "new-2@example.com"),
        ("editors,admins", "new-3@example.com"),
        ("[editors admins]", "new-4@example.com"),
    ],
)
def test_the_admins_group_may_register(call, stored, groups, email):
    answer = register(call, {"email": email, "premium": False}, claims_for(ADMIN, groups=groups))

    assert answer.status == 201
    assert stored(email)["premium"] is False


@pytest.mark.parametrize("groups", [None, "customers", "[administrators]", "admins-readonly"])
def test_anyone_else_signed_in_may_not_register(call, stored, groups):
    email = "mallory@example.com"

    answer = register(call, {"email": email}, claims_for(email, groups=groups))

    assert answer.status == 403
    assert answer.body == {"message": "only the admins group may register premium users"}
    assert stored(email) is None


def test_without_an_authorizer_registration_is_open(call, stored):
    answer = register(call, {"email": "Open.Door@Example.com"}, claims=None, epoch_ms=1800000000999)

    assert answer.status == 201
    assert answer.body == {
        "email": "open.door@example.com",  # addresses are stored in lower case
        "premium": True,  # the default
        "since": "2027-01-15T08:00:00.999000+00:00",
    }
    assert stored("open.door@example.com")["premium"] is True


@pytest.mark.parametrize(
    "email", ["not-an-address", "ana@", "@example.com", "a/b@example.com", "ana@example", 42, None]
)
def test_a_bad_email_is_400(call, email):
    body = {"premium": True} if email is None else {"email": email}

    answer = register(call, body)

    assert answer.status == 400
    assert answer.body == {"message": "email must be an address such as ana@example.com"}


@pytest.mark.parametrize("premium", ["yes", 1, None])
def test_premium_must_be_a_boolean(call, premium):
    answer = register(call, {"email": "cy@example.com", "premium": premium})

    assert answer.status == 400
    assert answer.body == {"message": "premium must be true or false"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{email", "the body must be JSON"),
        ('["ana@example.com"]', "the body must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(call, body, message):
    answer = register(call, body)

    assert answer.status == 400
    assert answer.body == {"message": message}


# ---- look up -----------------------------------------------------------------------------------
def test_a_member_reads_their_own_record(call):
    answer = look_up(call, MEMBER, claims_for(MEMBER.upper()))

    assert answer.status == 200
    assert answer.body["email"] == MEMBER and answer.body["premium"] is True


def test_a_member_may_not_read_anothers_record(call):
    answer = look_up(call, LAPSED, claims_for(MEMBER))

    assert answer.status == 403
    assert answer.body == {"message": "you may look up only your own record"}


def test_a_member_may_not_probe_for_unknown_addresses(call):
    """403, not 404: a customer cannot learn who else is registered."""
    assert look_up(call, STRANGER, claims_for(MEMBER)).status == 403


def test_an_admin_reads_anyones_record(call):
    answer = look_up(call, LAPSED, ADMINS)

    assert answer.status == 200
    assert answer.body == {"email": LAPSED, "premium": False}


def test_without_an_authorizer_anyone_reads_any_record(call):
    assert look_up(call, LAPSED, None).status == 200


def test_a_missing_record_is_404(call):
    answer = look_up(call, STRANGER, ADMINS)

    assert answer.status == 404
    assert answer.body == {"message": f"{STRANGER} is not registered"}


@pytest.mark.parametrize("email", ["not-an-address", "..%2F..%2Fetc", ""])
def test_a_bad_email_in_the_path_is_400(call, email):
    assert look_up(call, email, ADMINS).status == 400


# ---- /me ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("email", "premium"), [(MEMBER, True), ("Ana@Example.COM", True), (LAPSED, False)]
)
def test_me_says_whether_the_caller_is_premium(call, email, premium):
    claims = claims_for(email)

    answer = call("GET", "/me", claims=claims)

    assert answer.status == 200
    assert answer.body == {"email": email.lower(), "sub": claims["sub"], "premium": premium}


def test_me_for_someone_not_registered_is_not_premium(call):
    answer = call("GET", "/me", claims=claims_for(STRANGER))

    assert answer.status == 200
    assert answer.body["premium"] is False


def test_me_without_claims_is_401(call):
    answer = call("GET", "/me", claims=None)

    assert answer.status == 401
    assert answer.body == {"message": "sign in first: this route needs the Cognito authorizer"}


def test_an_unverified_email_is_no_one_in_particular(lab, premium_service):
    """GIVEN a token whose email (a paying member's) is not verified WHEN it asks for /me or for
    that member's record THEN 403: an unverified address is a claim anyone could make."""
    claims = claims_for(MEMBER, email_verified="false")

    me = invoke(lab, premium_service, proxy_event("GET", "/me", claims=claims))
    record = invoke(
        lab,
        premium_service,
        proxy_event(
            "GET",
            "/users/{email}",
            path=f"/users/{MEMBER}",
            path_params={"email": MEMBER},
            claims=claims,
        ),
    )

    assert (me.status, me.body) == (
        403,
        {"message": "send the ID token of a verified email address"},
    )
    assert record.status == 403


def test_me_with_an_access_token_is_a_client_error(lab, premium_service):
    """An access token (token_use=access) has no `email` claim: the caller must send the ID
    token, which is a 4xx for the caller, not a crash."""
    claims = claims_for(None, token_use="access", scope="aws.cognito.signin.user.admin")
    event = proxy_event("GET", "/me", claims=claims)

    answer = invoke(lab, premium_service, event)

    assert 400 <= answer.status < 500


# ---- routing and shape -------------------------------------------------------------------------
def test_an_unknown_route_is_404_and_options_is_204(call):
    missing = call("DELETE", "/users/{email}", path="/users/ana@example.com", claims=ADMINS)
    preflight = call("OPTIONS", "/users", claims=None)

    assert missing.status == 404
    assert missing.body == {"message": "no route for DELETE /users/ana@example.com"}
    assert preflight.status == 204 and preflight.raw == ""


@pytest.mark.parametrize(
    ("method", "resource", "claims"),
    [("POST", "/users", ADMINS), ("GET", "/me", None), ("GET", "/me", ADMINS)],
)
def test_every_answer_is_json_with_cors_and_no_store(call, method, resource, claims):
    answer = call(method, resource, body="{}", claims=claims)

    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Cache-Control"] == "no-store"
    assert isinstance(answer.body, dict)


# ---- through an API stage without an authorizer ------------------------------------------------
@pytest.fixture(scope="module")
def api(lab, premium_service):
    rest = RestApi(lab, "premium-api")
    rest.lambda_proxy("/users", "POST", premium_service)
    rest.lambda_proxy("/users/{email}", "GET", premium_service)
    rest.lambda_proxy("/me", "GET", premium_service)
    rest.allow(premium_service)
    rest.deploy("prod")
    return rest


def test_the_open_stage_registers_and_looks_up(lab, api):
    """The "start simple" step: a real request through API Gateway, stamped by its clock."""
    before = lab.clock.now()

    created = requests.post(
        api.url("/users"), json={"email": "dee@example.com", "premium": True}, timeout=10
    )
    found = requests.get(api.url("/users/dee@example.com"), timeout=10)
    me = requests.get(api.url("/me"), timeout=10)

    assert created.status_code == 201
    assert found.status_code == 200 and found.json() == created.json()
    since = datetime.fromisoformat(created.json()["since"]).timestamp()
    assert before - 1 <= since <= lab.clock.now()
    assert me.status_code == 401
