"""API Gateway UpdateMethod and CloudFront UpdateKeyGroup / GetKeyGroupConfig, which moto lacks.

Contract: UpdateMethod, https://docs.aws.amazon.com/apigateway/latest/api/API_UpdateMethod.html,
its "Patch Operations" table, and AWS's answers as LocalStack recorded them against AWS
(tests/aws/services/apigateway/test_apigateway_api.snapshot.json, test_update_method and
test_update_method_validation); "a method change requires redeploying the API",
https://docs.aws.amazon.com/apigateway/latest/developerguide/updating-api.html. UpdateKeyGroup,
https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateKeyGroup.html (If-Match,
the error list and status codes of the CloudFront service model); 5 public keys per key group,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests
from botocore.exceptions import ClientError

from tests.emulator.edge_support import (
    assert_refused,
    behaviour,
    create_distribution,
    create_oac,
    new_key,
    oac_policy,
    public_pem,
    signer_for,
)
from tests.emulator.gateway_support import RestApi

INTRO = b"\x00\x00\x00\x18ftypmp42 intro"  # the first bytes of an MP4: the video served

BACKENDS = ("moto", "moto-server")


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = exc.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return status, response["Error"]["Code"], response["Error"]["Message"]


def shown(resp: dict) -> dict:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


# ---- API Gateway: UpdateMethod ---------------------------------------------------------------
@pytest.fixture
def api(lab) -> RestApi:
    """A REST API whose root has `ANY`, authorizationType NONE (LocalStack's recorded set-up)."""
    rest = RestApi(lab, "update-method")
    rest.method("/", "ANY")
    return rest


def update(api: RestApi, *operations: dict, verb: str = "ANY", path: str = "/") -> dict:
    return api.apigw.update_method(
        restApiId=api.id,
        resourceId=api.resource(path),
        httpMethod=verb,
        patchOperations=list(operations),
    )


def get(api: RestApi, verb: str = "ANY", path: str = "/") -> dict:
    return api.apigw.get_method(restApiId=api.id, resourceId=api.resource(path), httpMethod=verb)


def op(kind: str, path: str, value: str | None = None) -> dict:
    return {"op": kind, "path": path} | ({} if value is None else {"value": value})


def cognito_authorizer(lab, api: RestApi) -> str:
    pool = lab.client("cognito-idp").create_user_pool(PoolName=lab.name("readers"))["UserPool"]
    return api.apigw.create_authorizer(
        restApiId=api.id,
        name="readers",
        type="COGNITO_USER_POOLS",
        providerARNs=[pool["Arn"]],
        identitySource="method.request.header.Authorization",
    )["id"]


def test_add_replace_and_remove_change_the_method_and_answer_it_as_get_method_does(api):
    """GIVEN ANY / with NONE WHEN fields are added, replaced, then removed THEN each answer is
    the method as GetMethod gives it, with the values AWS recorded."""
    added = update(
        api,
        op("add", "/requestParameters/method.request.querystring.optional", "true"),
        op("add", "/requestModels/application~1json", "Empty"),
    )
    assert shown(added) == shown(get(api))
    assert added["requestParameters"] == {"method.request.querystring.optional": True}
    assert added["requestModels"] == {"application/json": "Empty"}

    replaced = update(
        api,
        op("replace", "/operationName", "ReplacedOperationName"),
        op("replace", "/apiKeyRequired", "true"),
        op("replace", "/authorizationType", "AWS_IAM"),
        op("replace", "/requestParameters/method.request.querystring.optional", "false"),
    )
    assert shown(replaced) == shown(get(api))
    assert (replaced["operationName"], replaced["apiKeyRequired"]) == (
        "ReplacedOperationName",
        True,
    )
    assert replaced["authorizationType"] == "AWS_IAM"
    assert replaced["requestParameters"] == {"method.request.querystring.optional": False}

    removed = update(
        api,
        op("remove", "/requestParameters/method.request.querystring.optional", "true"),
        op("remove", "/requestModels/application~1json", "Empty"),
    )
    assert shown(removed) == shown(get(api))
    assert "requestParameters" not in removed and "requestModels" not in removed
    assert removed["operationName"] == "ReplacedOperationName"


def test_a_method_switches_to_a_cognito_authorizer_with_scopes(lab, api):
    authorizer_id = cognito_authorizer(lab, api)

    resp = update(
        api,
        op("replace", "/authorizationType", "COGNITO_USER_POOLS"),
        op("replace", "/authorizerId", authorizer_id),
        op("add", "/authorizationScopes", "videos/read"),
        op("add", "/authorizationScopes", "videos/write"),
    )

    assert resp["authorizationType"] == "COGNITO_USER_POOLS"
    assert resp["authorizerId"] == authorizer_id
    assert resp["authorizationScopes"] == ["videos/read", "videos/write"]
    assert get(api)["authorizationScopes"] == ["videos/read", "videos/write"]
    after_remove = update(api, op("remove", "/authorizationScopes", "videos/write"))
    assert after_remove["authorizationScopes"] == ["videos/read"]


def test_cognito_or_custom_without_a_valid_authorizer_is_a_bad_request(api):
    message = (
        "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
        "COGNITO_USER_POOLS requires a valid authorizer."
    )
    for operations in (
        [op("replace", "/authorizationType", "CUSTOM")],
        [op("replace", "/authorizationType", "CUSTOM"), op("replace", "/authorizerId", "abc123")],
        [op("replace", "/authorizationType", "COGNITO_USER_POOLS")],
    ):
        with pytest.raises(ClientError) as exc:
            update(api, *operations)
        assert error_of(exc) == (400, "BadRequestException", message)
    assert get(api)["authorizationType"] == "NONE"


def test_an_authorizer_id_on_a_method_that_uses_none_is_ignored(api):
    resp = update(api, op("replace", "/authorizerId", "abc123"))

    assert "authorizerId" not in resp
    assert resp["authorizationType"] == "NONE"


def test_api_key_required_reads_anything_but_true_as_false(lab):
    rest = RestApi(lab, "key-flag")
    rest.method("/", "ANY", apiKeyRequired=True)

    assert update(rest, op("replace", "/apiKeyRequired", "whatever"))["apiKeyRequired"] is False
    assert update(rest, op("replace", "/apiKeyRequired", "TRUE"))["apiKeyRequired"] is True


def test_a_request_validator_is_set_by_id_and_cleared_with_an_empty_value(api):
    validator = api.apigw.create_request_validator(
        restApiId=api.id, name="params", validateRequestParameters=True
    )["id"]

    assert update(api, op("replace", "/requestValidatorId", validator))["requestValidatorId"] == (
        validator
    )
    assert "requestValidatorId" not in update(api, op("replace", "/requestValidatorId", ""))
    with pytest.raises(ClientError) as exc:
        update(api, op("replace", "/requestValidatorId", "fake-id"))
    assert error_of(exc) == (
        400,
        "BadRequestException",
        "Invalid Request Validator identifier specified",
    )


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            op("add", "/operationName", "x"),
            "Invalid patch operation specified. Must be one of: [replace]",
        ),
        (
            op("add", "/requestValidatorId", "x"),
            "Invalid patch operation specified. Must be one of: [replace]",
        ),
        (op("add", "/httpMethod", "PUT"), "Invalid patch path /httpMethod"),
        (
            op("replace", "/requestParameters", "method.request.querystring.optional=false"),
            "Invalid patch path /requestParameters",
        ),
        (
            op("add", "/requestModels/application/json", "Empty"),
            "Invalid patch path /requestModels/application/json",
        ),
        (
            op("add", "/requestModels/application~1json", "NoSuchModel"),
            "Invalid model identifier specified: NoSuchModel",
        ),
    ],
    ids=["op-on-operationName", "op-on-validator", "httpMethod", "bare-params", "slash", "model"],
)
def test_a_bad_patch_is_a_bad_request_with_aws_message(api, operation, message):
    with pytest.raises(ClientError) as exc:
        update(api, operation)

    assert error_of(exc) == (400, "BadRequestException", message)


def test_a_rejected_patch_changes_nothing(api):
    before = shown(get(api))

    with pytest.raises(ClientError):
        update(api, op("replace", "/operationName", "Changed"), op("add", "/httpMethod", "PUT"))

    assert shown(get(api)) == before


def test_an_unknown_api_resource_or_method_is_not_found(api):
    calls = [
        dict(restApiId="fake-api", resourceId=api.resource("/"), httpMethod="ANY"),
        dict(restApiId=api.id, resourceId="fake-resource-id", httpMethod="ANY"),
        dict(restApiId=api.id, resourceId=api.resource("/"), httpMethod="GET"),
    ]
    messages = []
    for call in calls:
        with pytest.raises(ClientError) as exc:
            api.apigw.update_method(
                **call, patchOperations=[op("replace", "/operationName", "methodDoesNotExist")]
            )
        status, code, message = error_of(exc)
        assert (status, code) == (404, "NotFoundException")
        messages.append(message)

    assert messages == [
        "Invalid Resource identifier specified",
        "Invalid Resource identifier specified",
        "Invalid Method identifier specified",
    ]


def test_delete_method_still_works_after_an_update(api):
    update(api, op("replace", "/operationName", "Soon gone"))

    api.apigw.delete_method(restApiId=api.id, resourceId=api.resource("/"), httpMethod="ANY")

    with pytest.raises(ClientError) as exc:
        get(api)
    assert error_of(exc)[:2] == (404, "NotFoundException")


def test_the_stage_serves_the_change_only_after_a_new_deployment(lab):
    """GIVEN GET /ping (MOCK, NONE) deployed to prod WHEN update_method makes it AWS_IAM THEN an
    unsigned request still gets 200 until create_deployment, then AWS's 403."""
    rest = RestApi(lab, "redeploy")
    rest.mock("/ping", "GET", 200)
    rest.response("/ping", "GET", "200", '{"pong": true}')
    rest.deploy("prod")
    assert requests.get(rest.url("/ping"), timeout=10).status_code == 200

    update(rest, op("replace", "/authorizationType", "AWS_IAM"), verb="GET", path="/ping")
    still_open = requests.get(rest.url("/ping"), timeout=10)
    rest.deploy("prod")
    closed = requests.get(rest.url("/ping"), timeout=10)

    assert still_open.status_code == 200
    assert still_open.json() == {"pong": True}
    assert closed.status_code == 403
    assert closed.json() == {"message": "Missing Authentication Token"}
    assert closed.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


# ---- CloudFront: UpdateKeyGroup, GetKeyGroupConfig -------------------------------------------
def public_key(lab, cf, name: str, key=None) -> str:
    return cf.create_public_key(
        PublicKeyConfig={
            "CallerReference": lab.name(name),
            "Name": lab.name(name),
            "EncodedKey": public_pem(key or new_key()),
        }
    )["PublicKey"]["Id"]


@pytest.fixture(scope="module")
def pem_keys(lab, cf) -> list[str]:
    """Six public keys: one more than a key group may hold."""
    return [public_key(lab, cf, f"k{i}") for i in range(6)]


@pytest.fixture
def group(lab, cf, pem_keys) -> dict:
    """A key group with the first key; the CreateKeyGroup answer (KeyGroup, ETag)."""
    name = lab.name(f"group-{uuid.uuid4().hex[:8]}")
    return cf.create_key_group(KeyGroupConfig={"Name": name, "Items": pem_keys[:1]})


def test_update_key_group_replaces_the_whole_config_and_returns_a_new_etag(cf, group, pem_keys):
    group_id, name = group["KeyGroup"]["Id"], group["KeyGroup"]["KeyGroupConfig"]["Name"]
    config = {"Name": name, "Items": pem_keys[1:3], "Comment": "rotated"}

    resp = cf.update_key_group(Id=group_id, IfMatch=group["ETag"], KeyGroupConfig=config)

    assert resp["ETag"] and resp["ETag"] != group["ETag"]
    assert resp["KeyGroup"]["Id"] == group_id
    assert resp["KeyGroup"]["KeyGroupConfig"] == config
    got = cf.get_key_group(Id=group_id)
    assert (got["ETag"], got["KeyGroup"]["KeyGroupConfig"]) == (resp["ETag"], config)
    got_config = cf.get_key_group_config(Id=group_id)
    assert (got_config["ETag"], got_config["KeyGroupConfig"]) == (resp["ETag"], config)


def test_the_comment_is_kept_from_create_through_update(lab, cf, pem_keys):
    """GIVEN a group created with a Comment WHEN the notebook's get → edit Items → update THEN
    the Comment is still there, as UpdateKeyGroup replaces the config with what it is sent."""
    created = cf.create_key_group(
        KeyGroupConfig={"Name": lab.name("commented"), "Items": pem_keys[:1], "Comment": "signers"}
    )
    group_id = created["KeyGroup"]["Id"]
    assert created["KeyGroup"]["KeyGroupConfig"]["Comment"] == "signers"
    got = cf.get_key_group(Id=group_id)

    cf.update_key_group(
        Id=group_id,
        IfMatch=got["ETag"],
        KeyGroupConfig={**got["KeyGroup"]["KeyGroupConfig"], "Items": pem_keys[1:2]},
    )

    config = cf.get_key_group_config(Id=group_id)["KeyGroupConfig"]
    assert config == {"Name": lab.name("commented"), "Items": pem_keys[1:2], "Comment": "signers"}


def test_if_match_must_be_the_current_etag(cf, group, pem_keys):
    group_id, name = group["KeyGroup"]["Id"], group["KeyGroup"]["KeyGroupConfig"]["Name"]
    first = cf.update_key_group(
        Id=group_id, IfMatch=group["ETag"], KeyGroupConfig={"Name": name, "Items": pem_keys[1:2]}
    )

    with pytest.raises(ClientError) as stale:  # the ETag the first update replaced
        cf.update_key_group(
            Id=group_id,
            IfMatch=group["ETag"],
            KeyGroupConfig={"Name": name, "Items": pem_keys[2:3]},
        )
    with pytest.raises(ClientError) as missing:
        cf.update_key_group(Id=group_id, KeyGroupConfig={"Name": name, "Items": pem_keys[2:3]})

    assert error_of(stale)[:2] == (412, "PreconditionFailed")
    assert error_of(missing)[:2] == (400, "InvalidIfMatchVersion")
    got = cf.get_key_group(Id=group_id)
    assert (got["ETag"], got["KeyGroup"]["KeyGroupConfig"]["Items"]) == (
        first["ETag"],
        pem_keys[1:2],
    )


def test_a_key_group_names_existing_keys_at_most_five_and_a_unique_name(lab, cf, group, pem_keys):
    group_id, name = group["KeyGroup"]["Id"], group["KeyGroup"]["KeyGroupConfig"]["Name"]
    other = cf.create_key_group(KeyGroupConfig={"Name": lab.name("taken"), "Items": pem_keys[:1]})[
        "KeyGroup"
    ]["KeyGroupConfig"]["Name"]
    cases = [
        ({"Name": name, "Items": ["K2JWQ7EXAMPLE0"]}, (400, "InvalidArgument")),
        ({"Name": name, "Items": pem_keys}, (400, "TooManyPublicKeysInKeyGroup")),
        ({"Name": other, "Items": pem_keys[:1]}, (409, "KeyGroupAlreadyExists")),
    ]

    for config, expected in cases:
        with pytest.raises(ClientError) as exc:
            cf.update_key_group(Id=group_id, IfMatch=group["ETag"], KeyGroupConfig=config)
        assert error_of(exc)[:2] == expected, config

    assert cf.get_key_group(Id=group_id)["ETag"] == group["ETag"]  # nothing changed


def test_an_unknown_key_group_is_no_such_resource(cf, pem_keys):
    with pytest.raises(ClientError) as update_exc:
        cf.update_key_group(
            Id="KG0NOSUCHGROUP", IfMatch="E0", KeyGroupConfig={"Name": "x", "Items": pem_keys[:1]}
        )
    with pytest.raises(ClientError) as get_exc:
        cf.get_key_group_config(Id="KG0NOSUCHGROUP")

    assert error_of(update_exc)[:2] == (404, "NoSuchResource")
    assert error_of(get_exc)[:2] == (404, "NoSuchResource")


def test_the_edge_trusts_exactly_the_keys_of_the_updated_group(lab, cf, s3):
    """GIVEN /videos/* trusting a key group of key A WHEN UpdateKeyGroup swaps A for B THEN a URL
    signed with A is an InvalidKey and one signed with B serves the video."""
    key_a, key_b = new_key(), new_key()
    id_a, id_b = public_key(lab, cf, "edge-a", key_a), public_key(lab, cf, "edge-b", key_b)
    created = cf.create_key_group(KeyGroupConfig={"Name": lab.name("edge-group"), "Items": [id_a]})
    group_id = created["KeyGroup"]["Id"]
    bucket = lab.name("rotating")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="videos/intro.mp4", Body=INTRO, ContentType="video/mp4")
    origin = {
        "Id": "s3",
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": create_oac(lab, cf),
    }
    trusted = {"Enabled": True, "Quantity": 1, "Items": [group_id]}
    dist = create_distribution(
        cf, [origin], behaviour("s3"), [behaviour("s3", "/videos/*", TrustedKeyGroups=trusted)]
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=oac_policy(bucket, [dist["ARN"]]))
    video = f"https://{dist['DomainName']}/videos/intro.mp4"
    soon = lab.clock.datetime() + timedelta(seconds=300)
    signed_a = signer_for(key_a, id_a).generate_presigned_url(video, date_less_than=soon)
    signed_b = signer_for(key_b, id_b).generate_presigned_url(video, date_less_than=soon)
    assert requests.get(signed_a, timeout=10).content == INTRO
    assert_refused(requests.get(signed_b, timeout=10), "InvalidKey", "Unknown Key")

    cf.update_key_group(
        Id=group_id,
        IfMatch=created["ETag"],
        KeyGroupConfig={"Name": lab.name("edge-group"), "Items": [id_b]},
    )

    assert_refused(requests.get(signed_a, timeout=10), "InvalidKey", "Unknown Key")
    resp = requests.get(signed_b, timeout=10)
    assert resp.status_code == 200
    assert resp.content == INTRO


# ---- CloudFront: DeleteKeyGroup -----------------------------------------------------------------
def test_delete_key_group_removes_it_with_the_current_etag(cf, group, pem_keys):
    group_id = group["KeyGroup"]["Id"]
    updated = cf.update_key_group(
        Id=group_id,
        IfMatch=group["ETag"],
        KeyGroupConfig={"Name": group["KeyGroup"]["KeyGroupConfig"]["Name"], "Items": pem_keys[:2]},
    )

    with pytest.raises(ClientError) as stale:
        cf.delete_key_group(Id=group_id, IfMatch=group["ETag"])
    cf.delete_key_group(Id=group_id, IfMatch=updated["ETag"])

    assert error_of(stale)[:2] == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as gone:
        cf.get_key_group(Id=group_id)
    assert error_of(gone)[:2] == (404, "NoSuchResource")
    listed = cf.list_key_groups()["KeyGroupList"].get("Items", [])
    assert group_id not in [g["KeyGroup"]["Id"] for g in listed]


def test_a_key_group_a_behaviour_trusts_cannot_be_deleted(lab, cf, s3, pem_keys):
    """GIVEN a distribution whose /videos/* trusts the group WHEN it is deleted THEN
    ResourceInUse (409), and the group stays."""
    created = cf.create_key_group(
        KeyGroupConfig={"Name": lab.name("in-use"), "Items": pem_keys[:1]}
    )
    group_id = created["KeyGroup"]["Id"]
    bucket = lab.name("in-use")
    s3.create_bucket(Bucket=bucket)
    origin = {
        "Id": "s3",
        "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
        "OriginPath": "",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
        "OriginAccessControlId": create_oac(lab, cf),
    }
    trusted = {"Enabled": True, "Quantity": 1, "Items": [group_id]}
    create_distribution(
        cf, [origin], behaviour("s3"), [behaviour("s3", "/videos/*", TrustedKeyGroups=trusted)]
    )

    with pytest.raises(ClientError) as in_use:
        cf.delete_key_group(Id=group_id, IfMatch=created["ETag"])

    assert error_of(in_use)[:2] == (409, "ResourceInUse")
    assert cf.get_key_group(Id=group_id)["KeyGroup"]["Id"] == group_id
