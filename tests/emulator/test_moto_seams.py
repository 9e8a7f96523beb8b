"""The private parts of moto the emulator patches or reads still exist, with compatible shapes.

moto is pinned to a tested minor (pyproject.toml). When an upgrade renames or reshapes one of
these, this file fails and names the seam, instead of the emulator failing somewhere deep in
a notebook. Each entry: (object, attribute, the leading parameter names the emulator relies on).
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json

import boto3
import pytest
from moto import mock_aws

PATCHED = [
    # Lambda: every invoke, and CreateFunction / UpdateFunctionConfiguration checks
    (
        "moto.awslambda.models",
        "LambdaFunction.invoke",
        ["self", "body", "request_headers", "response_headers"],
    ),
    ("moto.awslambda.models", "LambdaFunction.__init__", ["self", "account_id", "spec", "region"]),
    ("moto.awslambda.models", "LambdaFunction.update_configuration", ["self", "config_updates"]),
    ("moto.awslambda.models", "LambdaFunction.get_configuration", ["self"]),
    ("moto.awslambda.models", "LambdaBackend.send_dynamodb_items", ["self"]),
    ("moto.awslambda.models", "LambdaBackend.send_kinesis_message", ["self"]),
    # event sources: SQS, DynamoDB Streams, Kinesis
    ("moto.sqs.models", "Queue.add_message", ["self", "message"]),
    ("moto.dynamodb.models.table", "StreamShard.add", ["self", "old", "new"]),
    ("moto.kinesis.models", "Stream.put_record", ["self"]),
    # S3 and SNS notifications
    (
        "moto.s3.notifications",
        "_invoke_awslambda",
        ["account_id", "event_body", "fn_arn", "region_name"],
    ),
    ("moto.s3.notifications", "_get_s3_event", ["event_name", "bucket", "key", "notification_id"]),
    (
        "moto.sns.models",
        "Subscription.publish",
        [
            "self",
            "message",
            "message_id",
            "subject",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "message_structure",
        ],
    ),
    ("moto.sns.models", "Subscription._parse_message_structure", ["self", "message", "protocol"]),
    # SES
    ("moto.ses.responses", "EmailResponse.send_email", ["self"]),
    ("moto.ses.responses", "EmailResponse._get_param", ["self", "param_name"]),
    ("moto.sesv2.responses", "SESV2Response.send_email", ["self"]),
    ("moto.sesv2.responses", "SESV2Response.call_action", ["self"]),
    (
        "moto.ses.models",
        "SESBackend.send_raw_email",
        ["self", "source", "destinations", "raw_data"],
    ),
    (
        "moto.ses.models",
        "SESBackend.send_bulk_templated_email",
        ["self", "source", "template", "template_data", "destinations"],
    ),
    # the lab clock
    ("moto.sqs.models", "unix_time", ["dt"]),
    ("moto.sqs.models", "unix_time_millis", ["dt"]),
]

CALLED = [
    (
        "moto.awslambda.models",
        "LambdaBackend.get_function",
        ["self", "function_name_or_arn", "qualifier"],
    ),
    (
        "moto.awslambda.models",
        "LambdaBackend.layers_versions_by_arn",
        ["self", "layer_version_arn"],
    ),
    ("moto.awslambda.utils", "get_backend", ["account_id", "region"]),
    (
        "moto.sqs.models",
        "SQSBackend.receive_message",
        [
            "self",
            "queue_name",
            "count",
            "wait_seconds_timeout",
            "visibility_timeout",
            "message_attribute_names",
        ],
    ),
    ("moto.sqs.models", "SQSBackend.delete_message", ["self", "queue_name", "receipt_handle"]),
    (
        "moto.sqs.models",
        "SQSBackend.send_message",
        ["self", "queue_name", "message_body", "message_attributes"],
    ),
    ("moto.sns.models", "SNSBackend.publish", ["self", "message", "arn"]),
    (
        "moto.ses.models",
        "SESBackend.send_email",
        ["self", "source", "subject", "body", "destinations"],
    ),
    (
        "moto.ses.models",
        "SESBackend.send_templated_email",
        ["self", "source", "template", "template_data", "destinations"],
    ),
    ("moto.logs.models", "LogsBackend.ensure_log_group", ["self", "log_group_name"]),
    (
        "moto.logs.models",
        "LogsBackend.create_log_stream",
        ["self", "log_group_name", "log_stream_name"],
    ),
    (
        "moto.logs.models",
        "LogsBackend.put_log_events",
        ["self", "log_group_name", "log_stream_name", "log_events"],
    ),
    ("moto.core.responses", "BaseResponse._get_param", ["self", "param_name"]),
    ("moto.core.responses", "BaseResponse._get_action", ["self"]),
    ("moto.ses.models", "SESBackend._is_verified_address", ["self", "source"]),
]


def _resolve(module: str, dotted: str):
    obj = importlib.import_module(module)
    for part in dotted.split("."):
        assert hasattr(obj, part), f"moto seam gone: {module}.{dotted} (no {part!r})"
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("module", "name", "params"), PATCHED + CALLED, ids=lambda v: str(v))
def test_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_keeps_the_module_level_backends_the_emulator_reads():
    for module, name in [
        ("moto.awslambda.models", "lambda_backends"),
        ("moto.sqs.models", "sqs_backends"),
        ("moto.dynamodb.models", "dynamodb_backends"),
        ("moto.kinesis.models", "kinesis_backends"),
        ("moto.sns.models", "sns_backends"),
        ("moto.ses.models", "ses_backends"),
        ("moto.sesv2.urls", "url_paths"),
        ("moto.logs.models", "logs_backends"),
        ("moto.core.exceptions", "JsonRESTError"),
        ("moto.awslambda.exceptions", "UnknownFunctionException"),
    ]:
        _resolve(module, name)


def _attrs(obj, names):
    missing = [n for n in names if not hasattr(obj, n)]
    assert not missing, f"{type(obj).__module__}.{type(obj).__name__} lost {missing}"


@pytest.fixture
def aws():
    """Plain moto (no lab, no emulator): the objects as moto builds them."""
    with mock_aws():
        yield lambda service: boto3.client(
            service,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def test_the_instance_attributes_the_emulator_reads(aws):
    """Build one of each object through the API, then check the attributes the emulator uses."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    account, region = "123456789012", "us-east-1"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    code = buf.getvalue()
    role = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    layer = lambda_.publish_layer_version(LayerName="lib", Content={"ZipFile": code})
    fn_arn = lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code},
        Layers=[layer["LayerVersionArn"]],
    )["FunctionArn"]
    lambda_.put_function_event_invoke_config(FunctionName="f", MaximumRetryAttempts=1)
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(
        QueueUrl=url,
        MessageBody="b",
        MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
    )
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lambda_.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName="f", Enabled=False)
    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="p")
    sns = aws("sns")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=fn_arn)

    backend = lambda_backends[account][region]
    fn = backend.get_function("f")
    _attrs(
        fn,
        [
            "function_name",
            "function_arn",
            "version",
            "handler",
            "run_time",
            "memory_size",
            "timeout",
            "environment_vars",
            "code_bytes",
            "region",
            "account_id",
            "layers",
            "event_invoke_config",
            "role",
        ],
    )
    assert fn.layers[0]["Arn"] == layer["LayerVersionArn"]
    assert backend.layers_versions_by_arn(layer["LayerVersionArn"]).code_bytes == code
    assert fn.event_invoke_config[-1].config["MaximumRetryAttempts"] == 1
    esm = next(iter(backend._event_source_mappings.values()))
    _attrs(
        esm,
        [
            "uuid",
            "enabled",
            "event_source_arn",
            "function_arn",
            "batch_size",
            "starting_position",
            "function_response_types",
            "max_retry_attempts",
            "destination_config",
        ],
    )

    queue = sqs_backends[account][region].queues["q"]
    _attrs(queue, ["_messages", "name", "visibility_timeout", "lambda_event_source_mappings"])
    message = queue._messages[0]
    _attrs(
        message,
        [
            "id",
            "body",
            "receipt_handle",
            "approximate_receive_count",
            "sent_timestamp",
            "sender_id",
            "approximate_first_receive_timestamp",
            "message_attributes",
            "group_id",
            "deduplication_id",
            "visible_at",
            "delayed_until",
        ],
    )
    assert message.message_attributes == {"k": {"DataType": "String", "StringValue": "v"}}

    table = dynamodb_backends[account][region].tables["t"]
    ddb.put_item(TableName="t", Item={"k": {"S": "x"}})
    _attrs(table.stream_shard, ["id", "items"])
    record = table.stream_shard.items[0].record
    assert {"eventName", "dynamodb"} <= set(record)
    assert "SequenceNumber" in record["dynamodb"]

    stream = kinesis_backends[account][region].streams["s"]
    shard = next(iter(stream.shards.values()))
    _attrs(shard, ["shard_id", "records"])
    _attrs(
        next(iter(shard.records.values())),
        ["partition_key", "sequence_number", "data", "created_at"],
    )

    subscription = next(iter(sns_backends[account][region].subscriptions.values()))
    _attrs(subscription, ["protocol", "endpoint", "arn", "topic", "_filter_policy_matcher"])
    json.dumps(fn.get_configuration(), default=str)  # still serialisable


def test_the_emulator_removes_every_patch_on_teardown():
    """A lab's teardown leaves moto exactly as it found it."""
    from moto.awslambda import models as lambda_models
    from moto.sqs import models as sqs_models

    import helpers

    before = (
        lambda_models.LambdaFunction.invoke,
        lambda_models.LambdaFunction.__init__,
        sqs_models.Queue.add_message,
        sqs_models.unix_time,
    )
    lab = helpers.start("seams")
    try:
        assert lambda_models.LambdaFunction.invoke is not before[0]
    finally:
        lab.teardown()

    after = (
        lambda_models.LambdaFunction.invoke,
        lambda_models.LambdaFunction.__init__,
        sqs_models.Queue.add_message,
        sqs_models.unix_time,
    )
    assert after == before


def test_teardown_forgets_the_mail_it_kept():
    """The outbox's copies of sent mail go with the lab, as moto's own sent mail does."""
    import helpers
    from helpers.emulator import mail

    lab = helpers.start("seams-mail")
    try:
        ses = lab.client("ses")
        ses.verify_email_identity(EmailAddress="news@example.com")
        ses.send_email(
            Source="news@example.com",
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},  # the sandbox
            Message={
                "Subject": {"Data": "Both parts"},
                "Body": {"Text": {"Data": "plain"}, "Html": {"Data": "<p>rich</p>"}},
            },
        )
        assert mail._PARTS
    finally:
        lab.teardown()

    assert mail._PARTS == {}


# ---- API Gateway (helpers/emulator/gateway.py) ---------------------------------------------
GATEWAY_SEAMS = [
    # patched
    (
        "moto.apigateway.models",
        "RestAPI.create_deployment",
        ["self", "name", "description", "stage_variables"],
    ),
    ("moto.apigateway.models", "RestAPI.apply_patch_operations", ["self", "patch_operations"]),
    ("moto.apigateway.responses", "APIGatewayResponse.put_integration", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.create_rest_api", ["self"]),
    # called
    (
        "moto.apigateway.models",
        "APIGatewayBackend.get_integration",
        ["self", "function_id", "resource_id", "method_type"],
    ),
    ("moto.apigateway.models", "APIGatewayBackend.get_rest_api", ["self", "function_id"]),
    ("moto.apigateway.models", "Resource.get_path", ["self"]),
    (
        "moto.cloudwatch.models",
        "CloudWatchBackend.put_metric_data",
        ["self", "namespace", "metric_data"],
    ),
]


@pytest.mark.parametrize(("module", "name", "params"), GATEWAY_SEAMS, ids=lambda v: str(v))
def test_gateway_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_lacks_the_flush_stage_cache_route_the_gateway_adds():
    """If moto grows its own FlushStageCache, the emulator's route must give way to it."""
    url_paths = _resolve("moto.apigateway.urls", "url_paths")
    assert isinstance(url_paths, dict)
    assert not [path for path in url_paths if "cache/data" in path]
    _resolve("moto.apigateway.models", "apigateway_backends")
    _resolve("moto.cloudwatch.models", "cloudwatch_backends")


def test_the_api_gateway_objects_the_gateway_reads(aws):
    """Build an API as a learner does, then check the attributes gateway.py reads."""
    from moto.apigateway.models import apigateway_backends
    from moto.awslambda.models import lambda_backends

    account, region = "123456789012", "us-east-1"
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="a", endpointConfiguration={"types": ["REGIONAL"]})["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{id}")["id"]
    apigw.put_method(
        restApiId=api_id,
        resourceId=res,
        httpMethod="GET",
        authorizationType="NONE",
        apiKeyRequired=True,
    )
    apigw.put_integration(
        restApiId=api_id,
        resourceId=res,
        httpMethod="GET",
        type="MOCK",
        requestTemplates={"application/json": '{"statusCode": 200}'},
    )
    apigw.put_integration_response(
        restApiId=api_id,
        resourceId=res,
        httpMethod="GET",
        statusCode="200",
        selectionPattern="2\\d{2}",
        responseTemplates={"application/json": "{}"},
        responseParameters={"method.response.header.X": "'y'"},
    )
    apigw.put_gateway_response(
        restApiId=api_id,
        responseType="DEFAULT_4XX",
        statusCode="400",
        responseParameters={"gatewayresponse.header.X": "'y'"},
        responseTemplates={"application/json": "{}"},
    )
    deployment = apigw.create_deployment(restApiId=api_id, stageName="prod")["id"]
    apigw.update_stage(
        restApiId=api_id,
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/cacheClusterEnabled", "value": "true"},
            {"op": "replace", "path": "/~1{id}/GET/caching/enabled", "value": "true"},
        ],
    )
    key = apigw.create_api_key(name="k", enabled=True)
    plan = apigw.create_usage_plan(
        name="p",
        apiStages=[{"apiId": api_id, "stage": "prod"}],
        throttle={"rateLimit": 1.0, "burstLimit": 2},
        quota={"limit": 5, "period": "DAY"},
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")

    backend = apigateway_backends[account][region]
    api = backend.apis[api_id]
    _attrs(
        api,
        [
            "id",
            "name",
            "resources",
            "stages",
            "deployments",
            "binaryMediaTypes",
            "api_key_source",
            "endpoint_configuration",
            "gateway_responses",
            "disableExecuteApiEndpoint",
            "authorizers",
        ],
    )
    assert api.endpoint_configuration["types"] == ["REGIONAL"]
    resource = api.resources[res]
    _attrs(resource, ["id", "resource_methods"])
    assert resource.get_path() == "/{id}"
    method = resource.resource_methods["GET"]
    _attrs(
        method,
        ["http_method", "authorization_type", "authorizer_id", "api_key_required"],
    )
    assert method.api_key_required is True
    integration = method.method_integration
    _attrs(
        integration,
        [
            "integration_type",
            "uri",
            "http_method",
            "credentials",
            "cache_key_parameters",
            "cache_namespace",
            "request_templates",
            "request_parameters",
            "timeout_in_millis",
            "integration_responses",
        ],
    )
    response = integration.integration_responses["200"]
    _attrs(
        response,
        ["status_code", "selection_pattern", "response_templates", "response_parameters"],
    )
    assert response.response_parameters == {"method.response.header.X": "'y'"}
    gateway_response = api.gateway_responses["DEFAULT_4XX"]
    _attrs(gateway_response, ["status_code", "response_parameters", "response_templates"])
    stage = api.stages["prod"]
    _attrs(stage, ["name", "deployment_id", "variables", "method_settings"])
    assert stage.deployment_id == deployment
    assert stage.cache_cluster_enabled is True
    assert stage.method_settings["~1{id}/GET"]["cachingEnabled"] is True
    assert stage.method_settings["~1{id}/GET"]["cacheTtlInSeconds"] == 300
    api_key = backend.keys[key["id"]]
    _attrs(api_key, ["id", "value", "enabled"])
    usage_plan = backend.usage_plans[plan["id"]]
    assert usage_plan.api_stages == [{"apiId": api_id, "stage": "prod"}]
    assert usage_plan.throttle == {"rateLimit": 1.0, "burstLimit": 2}
    assert usage_plan.quota["limit"] == 5
    assert key["id"] in backend.usage_plan_keys[plan["id"]]

    # a Lambda permission, as gateway.py reads it from the function's policy
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    role = aws("iam").create_role(RoleName="gw", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    lambda_.create_function(
        FunctionName="gwf",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    source = f"arn:aws:execute-api:{region}:{account}:{api_id}/*/GET/*"
    lambda_.add_permission(
        FunctionName="gwf",
        StatementId="apigw",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=source,
    )
    fn = lambda_backends[account][region].get_function("gwf")
    (statement,) = fn.policy.statements
    assert statement["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": source}}
    assert statement["Resource"] == fn.function_arn
    assert statement["Action"] == "lambda:InvokeFunction"


def test_cloudwatch_keeps_metric_timestamps_naive_utc(aws):
    """gateway.py stamps metrics with naive UTC datetimes, as moto stores put_metric_data's."""
    from datetime import datetime, timezone

    from moto.cloudwatch.models import cloudwatch_backends

    aws("cloudwatch").put_metric_data(
        Namespace="X",
        MetricData=[{"MetricName": "m", "Value": 1, "Timestamp": datetime.now(timezone.utc)}],
    )
    (datum,) = cloudwatch_backends["123456789012"]["us-east-1"].metric_data
    assert datum.timestamp.tzinfo is None


def test_the_gateway_patches_are_removed_on_teardown():
    from moto.apigateway import models, responses, urls

    import helpers

    before = (
        models.RestAPI.create_deployment,
        models.RestAPI.apply_patch_operations,
        responses.APIGatewayResponse.put_integration,
        responses.APIGatewayResponse.create_rest_api,
        urls.url_paths,
    )
    lab = helpers.start("seams-gateway")
    try:
        assert urls.url_paths is not before[-1]
    finally:
        lab.teardown()

    assert (
        models.RestAPI.create_deployment,
        models.RestAPI.apply_patch_operations,
        responses.APIGatewayResponse.put_integration,
        responses.APIGatewayResponse.create_rest_api,
        urls.url_paths,
    ) == before


# ---- Cognito (helpers/emulator/cognito.py) ------------------------------------------------------
COGNITO_SEAMS = [
    # patched
    (
        "moto.cognitoidp.models",
        "CognitoIdpUserPool.create_jwt",
        ["self", "client_id", "username", "token_use", "expires_in", "extra_data"],
    ),
    (
        "moto.cognitoidp.models",
        "CognitoIdpBackend.create_user_pool_client",
        ["self", "user_pool_id", "generate_secret", "extended_config"],
    ),
    (
        "moto.cognitoidp.models",
        "CognitoIdpBackend.update_user_pool_client",
        ["self", "user_pool_id", "client_id", "extended_config"],
    ),
    (
        "moto.apigateway.models",
        "Authorizer.__init__",
        ["self", "authorizer_id", "name", "authorizer_type"],
    ),
    # called
    ("moto.utilities.utils", "load_resource", ["resource"]),
    ("moto.cognitoidp.exceptions", "InvalidParameterException", ["msg"]),
]


@pytest.mark.parametrize(("module", "name", "params"), COGNITO_SEAMS, ids=lambda v: str(v))
def test_cognito_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_drops_identity_validation_expression(aws):
    """cognito.py repairs CreateAuthorizer's identityValidationExpression, which moto passes on as
    `identiy_validation_expression`. If moto keeps it now, the repair can go."""
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="a")["id"]
    found = apigw.create_authorizer(
        restApiId=api_id,
        name="c",
        type="COGNITO_USER_POOLS",
        providerARNs=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"],
        identitySource="method.request.header.Authorization",
        identityValidationExpression="abc",
    )

    assert "identityValidationExpression" not in found
    assert "identiy_validation_expression" in inspect.getsource(
        _resolve("moto.apigateway.models", "APIGatewayBackend.create_authorizer")
    )


def test_the_cognito_objects_the_emulator_reads(aws):
    """A pool, a client, a token and a Cognito-authorized method, built through the API: the
    attributes cognito.py and gateway.py read, and create_jwt applying extra_data last."""
    from moto.apigateway.models import apigateway_backends
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.utilities.utils import load_resource

    account, region = "123456789012", "us-east-1"
    idp = aws("cognito-idp")
    pool_id = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
    validity = {"IdTokenValidity": 5, "TokenValidityUnits": {"IdToken": "minutes"}}
    client_id = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="c", **validity)[
        "UserPoolClient"
    ]["ClientId"]
    idp.admin_create_user(UserPoolId=pool_id, Username="ada")

    backend = cognitoidp_backends[account][region]
    pool = backend.user_pools[pool_id]
    _attrs(pool, ["id", "region", "clients", "access_tokens"])
    client = pool.clients[client_id]
    assert client.extended_config["IdTokenValidity"] == 5
    assert client.extended_config["TokenValidityUnits"] == {"IdToken": "minutes"}
    token, expires_in = pool.create_jwt(
        client_id, "ada", "id", 60, {"origin_jti": "o", "iat": 1, "exp": 2, "auth_time": 3}
    )
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert expires_in == 60
    assert (claims["iat"], claims["exp"], claims["auth_time"]) == (1, 2, 3)
    assert claims["iss"] == f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    jwks = load_resource("cognitoidp/resources/jwks-public.json")
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    # create_id_token and create_access_token hand create_jwt the sign-in's origin_jti
    for name in ("create_id_token", "create_access_token", "create_tokens_from_refresh_token"):
        assert "origin_jti" in inspect.getsource(getattr(type(pool), name))
    assert any("jwks.json" in path for path in _resolve("moto.cognitoidp.urls", "url_paths"))

    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="a")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    authorizer_id = apigw.create_authorizer(
        restApiId=api_id,
        name="c",
        type="COGNITO_USER_POOLS",
        providerARNs=[f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}"],
        identitySource="method.request.header.Authorization",
    )["id"]
    apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=authorizer_id,
        authorizationScopes=["a/b"],
    )
    api = apigateway_backends[account][region].apis[api_id]
    described = api.authorizers[authorizer_id].to_json()
    assert described["type"] == "COGNITO_USER_POOLS"
    assert described["providerARNs"] == [
        f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}"
    ]
    assert described["identitySource"] == "method.request.header.Authorization"
    _attrs(api.authorizers[authorizer_id], ["identity_validation_expression"])
    method = api.resources[root].resource_methods["GET"]
    assert method.authorization_scopes == ["a/b"]
    assert method.authorizer_id == authorizer_id


def test_the_cognito_patches_are_removed_on_teardown():
    from moto.apigateway import models as apigateway_models
    from moto.cognitoidp import models

    import helpers

    def seams():
        return (
            models.CognitoIdpUserPool.create_jwt,
            models.CognitoIdpBackend.create_user_pool_client,
            models.CognitoIdpBackend.update_user_pool_client,
            apigateway_models.Authorizer.__init__,
        )

    before = seams()
    lab = helpers.start("seams-cognito")
    try:
        assert models.CognitoIdpUserPool.create_jwt is not before[0]
    finally:
        lab.teardown()

    assert seams() == before


# ---- DynamoDB global tables (helpers/emulator/global_tables.py) -------------------------------
GLOBAL_TABLE_SEAMS = [
    # patched
    ("moto.dynamodb.responses", "DynamoHandler.update_table", ["self"]),
    ("moto.dynamodb.models", "DynamoDBBackend.delete_table", ["self", "name"]),
    ("moto.dynamodb.models", "DynamoDBBackend.transact_write_items", ["self", "transact_items"]),
    ("moto.dynamodb.models.table", "Table.describe", ["self", "base_key"]),
    ("moto.dynamodb.models.table", "StreamShard.add", ["self", "old", "new"]),
    # called
    ("moto.dynamodb.models", "DynamoDBBackend.get_table", ["self", "table_name"]),
    (
        "moto.dynamodb.models",
        "DynamoDBBackend.create_table",
        [
            "self",
            "name",
            "schema",
            "throughput",
            "attr",
            "global_indexes",
            "indexes",
            "streams",
            "billing_mode",
            "sse_specification",
            "tags",
            "deletion_protection_enabled",
            "warm_throughput",
        ],
    ),
    ("moto.dynamodb.models.table", "Table.set_stream_specification", ["self", "streams"]),
    ("moto.dynamodb.models.table", "Table.get_item", ["self", "hash_key", "range_key"]),
    ("moto.dynamodb.models.table", "Table.delete_item", ["self", "hash_key", "range_key"]),
    (
        "moto.applicationautoscaling.models",
        "ApplicationAutoscalingBackend.describe_scalable_targets",
        ["self", "namespace", "r_ids", "dimension"],
    ),
]


@pytest.mark.parametrize(("module", "name", "params"), GLOBAL_TABLE_SEAMS, ids=lambda v: str(v))
def test_global_table_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_the_dynamodb_objects_global_tables_read(aws):
    """Tables, items, stream shards and the UpdateTable handler keep what global tables use."""
    from moto.applicationautoscaling.models import applicationautoscaling_backends
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.responses import DynamoHandler

    ddb = aws("dynamodb")
    ddb.create_table(
        TableName="g",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "idx",
                "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(TableName="g", Item={"k": {"S": "x"}})
    backend = dynamodb_backends["123456789012"]["us-east-1"]
    table = backend.tables["g"]
    _attrs(
        table,
        [
            "name",
            "account_id",
            "region_name",
            "items",
            "stream_shard",
            "stream_specification",
            "billing_mode",
            "throughput",
            "schema",
            "attr",
            "global_indexes",
            "indexes",
            "sse_specification",
            "ttl",
        ],
    )
    _attrs(backend, ["account_id", "region_name", "tables"])
    _attrs(table.stream_shard, ["table", "items"])
    assert table.stream_shard.items[0].record["awsRegion"]
    (item,) = table.all_items()
    _attrs(item, ["hash_key", "range_key"])
    assert table.items[item.hash_key] is item  # hash-only tables keep the item itself
    assert {"IndexName", "KeySchema", "Projection"} <= set(table.global_indexes[0].describe())
    # the UpdateTable handler reads its request from attributes moto sets per request
    from moto.core.responses import BaseResponse

    setup = inspect.getsource(BaseResponse.setup_class)
    assert "self.region =" in setup and "self.current_account =" in setup
    assert "self.body =" in inspect.getsource(DynamoHandler.call_action)
    assert isinstance(inspect.getattr_static(DynamoHandler, "dynamodb_backend"), property)
    _attrs(applicationautoscaling_backends["123456789012"]["us-east-1"], ["targets"])


def test_the_global_table_patches_are_removed_on_teardown():
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models import table as table_models
    from moto.dynamodb.responses import DynamoHandler

    import helpers

    def seams():
        return (
            DynamoHandler.update_table,
            DynamoDBBackend.delete_table,
            DynamoDBBackend.transact_write_items,
            table_models.Table.describe,
            table_models.StreamShard.add,
        )

    before = seams()
    lab = helpers.start("seams-global-tables")
    try:
        assert DynamoHandler.update_table is not before[0]
    finally:
        lab.teardown()

    assert seams() == before


# ---- CloudFront's edge, S3's website and REST endpoints (edge.py, website.py, s3_access.py) ------
EDGE_PATCHED = [
    ("moto.cloudfront.models", "Origin.__init__", ["self", "origin"]),
    ("moto.cloudfront.models", "DefaultCacheBehaviour.__init__", ["self", "config"]),
    (
        "moto.cloudfront.models",
        "CloudFrontBackend.create_invalidation",
        ["self", "dist_id", "paths", "caller_ref"],
    ),
    ("moto.s3.models", "S3Backend.create_bucket", ["self", "bucket_name", "region_name"]),
    ("moto.s3.models", "S3Backend.put_bucket_policy", ["self", "bucket_name", "policy"]),
    ("moto.s3.responses", "S3Response._key_response", ["self", "request", "full_url"]),
]
EDGE_CALLED = [
    (
        "moto.s3.models",
        "PublicAccessBlock",
        [
            "block_public_acls",
            "ignore_public_acls",
            "block_public_policy",
            "restrict_public_buckets",
        ],
    ),
    ("moto.s3.models", "S3Backend.get_bucket", ["self", "bucket_name"]),
    (
        "moto.cloudwatch.models",
        "CloudWatchBackend.put_metric_data",
        ["self", "namespace", "metric_data"],
    ),
]


@pytest.mark.parametrize(("module", "name", "params"), EDGE_PATCHED + EDGE_CALLED, ids=str)
def test_edge_and_s3_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_the_s3_cloudfront_and_cloudwatch_state_the_edge_reads(aws):
    """Build a website bucket, a distribution with OAC, an invalidation and a metric through the
    API, then check the moto objects carry what edge/website/s3_access read."""
    from moto.cloudfront.models import cloudfront_backends
    from moto.cloudwatch.models import MetricAggregatedDatum, cloudwatch_backends
    from moto.s3.models import FakeKey, s3_backends
    from moto.s3control.models import s3control_backends

    account = "123456789012"
    s3 = aws("s3")
    s3.create_bucket(Bucket="edge-seams", ObjectOwnership="ObjectWriter")
    s3.put_object(
        Bucket="edge-seams",
        Key="index.html",
        Body=b"<h1>x</h1>",
        ContentType="text/html",
        CacheControl="max-age=60",
        Metadata={"k": "v"},
        ACL="public-read",
    )
    s3.put_bucket_website(
        Bucket="edge-seams", WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    )
    s3.put_bucket_policy(Bucket="edge-seams", Policy='{"Version": "2012-10-17", "Statement": []}')
    s3.put_public_access_block(
        Bucket="edge-seams", PublicAccessBlockConfiguration={"IgnorePublicAcls": True}
    )
    aws("s3control").put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True}
    )

    assert s3_backends.bucket_accounts["edge-seams"] == ("aws", account)
    bucket = s3_backends[account]["aws"].buckets["edge-seams"]
    _attrs(bucket, ["name", "account_id", "keys", "acl"])
    assert bucket.policy == b'{"Version": "2012-10-17", "Statement": []}'
    assert b"<Suffix>index.html</Suffix>" in bucket.website_configuration
    assert bucket.public_access_block.ignore_public_acls is True
    assert bucket.ownership_rule == "ObjectWriter"
    key = bucket.keys.get("index.html")
    assert isinstance(key, FakeKey)
    _attrs(key, ["etag", "last_modified", "size", "value", "encryption", "version_id"])
    assert key.acl.public_read is True
    assert key.metadata["content-type"] == "text/html"
    assert key.metadata["cache-control"] == "max-age=60"
    assert key.metadata["x-amz-meta-k"] == "v"
    account_block = s3control_backends[account]["aws"].public_access_block
    assert account_block.restrict_public_buckets is True

    cf = aws("cloudfront")
    oac = cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": "o",
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]
    behaviour = {
        "TargetOriginId": "s3",
        "ViewerProtocolPolicy": "redirect-to-https",
        "MinTTL": 0,
        "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
    }
    dist_id = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "edge-seams",
            "Comment": "",
            "Enabled": True,
            "DefaultRootObject": "index.html",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "s3",
                        "DomainName": "edge-seams.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                        "OriginAccessControlId": oac,
                    }
                ],
            },
            "DefaultCacheBehavior": behaviour,
            "CacheBehaviors": {"Quantity": 1, "Items": [{**behaviour, "PathPattern": "/a/*"}]},
            "CustomErrorResponses": {
                "Quantity": 1,
                "Items": [{"ErrorCode": 404, "ResponsePagePath": "/index.html"}],
            },
        }
    )["Distribution"]["Id"]
    invalidation_id = cf.create_invalidation(
        DistributionId=dist_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": "r"},
    )["Invalidation"]["Id"]

    backend = cloudfront_backends[account]["aws"]
    dist = backend.distributions[dist_id]
    _attrs(dist, ["id", "arn", "domain_name", "distribution_config"])
    config = dist.distribution_config
    assert (config.Enabled, config.DefaultRootObject) == (True, "index.html")
    origin = config.Origins["Items"][0]
    _attrs(origin, ["id", "domain_name", "origin_path", "s3_access_identity", "custom_headers"])
    for cache_behaviour in (config.DefaultCacheBehavior, config.CacheBehaviors["Items"][0]):
        _attrs(
            cache_behaviour,
            [
                "target_origin_id",
                "viewer_protocol_policy",
                "forwarded_values",
                "min_ttl",
                "default_ttl",
                "max_ttl",
                "cache_policy_id",
            ],
        )
        assert cache_behaviour.allowed_methods.items == ["HEAD", "GET"]
        assert cache_behaviour.allowed_methods.cached_methods["Items"] == ["GET", "HEAD"]
        assert cache_behaviour.trusted_key_groups.enabled is False
        assert cache_behaviour.trusted_signers.enabled is False
        assert vars(cache_behaviour.forwarded_values)["QueryString"] is True
    assert config.CacheBehaviors["Items"][0].path_pattern == "/a/*"
    assert config.CustomErrorResponses["Items"][0]["ErrorCode"] == 404
    assert backend.origin_access_controls[oac].signing_behavior == "always"
    invalidation = backend.get_invalidation(dist_id, invalidation_id)
    _attrs(invalidation, ["status", "create_time", "paths"])

    aws("cloudwatch").put_metric_data(
        Namespace="AWS/CloudFront",
        MetricData=[
            {
                "MetricName": "Requests",
                "StatisticValues": {"Sum": 1, "Minimum": 1, "Maximum": 1, "SampleCount": 1},
            }
        ],
    )
    datum = cloudwatch_backends[account]["us-east-1"].metric_data[-1]
    assert isinstance(datum, MetricAggregatedDatum)
    _attrs(datum, ["sum", "min", "max", "sample_count", "timestamp", "dimensions", "unit"])


# ---- UpdateMethod, UpdateKeyGroup, GetKeyGroupConfig (helpers/emulator/control_plane.py) ------
CONTROL_PLANE_CALLED = [
    ("moto.core.responses", "BaseResponse._get_param", ["self", "param_name"]),
    ("moto.core.responses", "ActionResult", ["result"]),
    ("moto.core.exceptions", "JsonRESTError", ["error_type", "message"]),
    ("moto.apigateway.exceptions", "ApiGatewayException", ["error_type", "message"]),
    ("moto.apigateway.models", "Method.to_json", ["self"]),
    ("moto.core.utils", "utcnow", []),
]


@pytest.mark.parametrize(("module", "name", "params"), CONTROL_PLANE_CALLED, ids=str)
def test_control_plane_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_lacks_what_the_control_plane_adds():
    """If moto grows UpdateMethod, UpdateKeyGroup, GetKeyGroupConfig or DeleteKeyGroup,
    control_plane.py must
    give way to moto's (or check that its own still answers as AWS does)."""
    from moto.apigateway.responses import APIGatewayResponse
    from moto.cloudfront import urls as cloudfront_urls
    from moto.cloudfront.responses import CloudFrontResponse

    assert not hasattr(APIGatewayResponse, "update_method")
    assert not hasattr(CloudFrontResponse, "update_key_group")
    assert not hasattr(CloudFrontResponse, "get_key_group_config")
    assert not hasattr(CloudFrontResponse, "delete_key_group")
    assert not [p for p in cloudfront_urls.url_paths if "key-group" in p and "config" in p]


def test_moto_routes_the_control_plane_calls_to_its_dispatchers():
    """UpdateMethod and UpdateKeyGroup reach moto's existing routes (only GetKeyGroupConfig
    needs a new one), and dispatch calls the handler method named after the action."""
    import re

    import botocore.session
    from moto.apigateway import urls as apigateway_urls
    from moto.apigateway.responses import APIGatewayResponse
    from moto.cloudfront import urls as cloudfront_urls
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.responses import BaseResponse

    session = botocore.session.get_session()
    cases = [
        ("apigateway", "UpdateMethod", "/restapis/a1/resources/r1/methods/GET", apigateway_urls),
        ("cloudfront", "UpdateKeyGroup", "/2020-05-31/key-group/K1", cloudfront_urls),
        ("cloudfront", "GetKeyGroupConfig", "/2020-05-31/key-group/K1/config", None),
    ]
    for service, operation, path, urls in cases:
        http = session.get_service_model(service).operation_model(operation).http
        template = re.sub(r"\{[^}]+\}", "X", http["requestUri"])
        assert re.sub(r"(a1|r1|GET|K1)", "X", path) == template, (operation, http)
        if urls is None:
            continue
        handlers = [h for p, h in urls.url_paths.items() if re.match(p.format("") + "$", path)]
        assert handlers, f"no moto route for {operation} {path}"
        assert handlers[0] in (APIGatewayResponse.dispatch, CloudFrontResponse.dispatch)
    source = inspect.getsource(BaseResponse.call_action)
    assert "method_names_from_class" in source and "getattr(self, action)" in source
    assert "except ServiceException" in source and "except HTTPException" in source
    assert isinstance(inspect.getattr_static(APIGatewayResponse, "backend"), property)
    assert isinstance(inspect.getattr_static(CloudFrontResponse, "backend"), property)


def test_the_objects_the_control_plane_reads_and_writes(aws):
    """A method with an authorizer, a validator and a model; a key group of a public key."""
    from moto.apigateway.models import apigateway_backends
    from moto.cloudfront.models import KeyGroup, cloudfront_backends

    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="cp")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    authorizer = apigw.create_authorizer(
        restApiId=api_id,
        name="a",
        type="COGNITO_USER_POOLS",
        providerARNs=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_X"],
    )["id"]
    validator = apigw.create_request_validator(restApiId=api_id, name="v")["id"]
    apigw.create_model(restApiId=api_id, name="M", contentType="application/json", schema="{}")
    apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="COGNITO_USER_POOLS",
        authorizerId=authorizer,
        authorizationScopes=["s"],
        requestParameters={"method.request.querystring.q": True},
        requestModels={"application/json": "M"},
        requestValidatorId=validator,
        operationName="op",
    )
    api = apigateway_backends["123456789012"]["us-east-1"].apis[api_id]
    _attrs(api, ["resources", "authorizers", "request_validators", "models"])
    assert authorizer in api.authorizers and validator in api.request_validators
    assert "M" in api.models
    method = api.resources[root].resource_methods["GET"]
    _attrs(
        method,
        [
            "authorization_type",
            "authorizer_id",
            "authorization_scopes",
            "api_key_required",
            "operation_name",
            "request_parameters",
            "request_models",
            "request_validator_id",
        ],
    )
    assert method.authorization_scopes == ["s"]
    assert method.request_parameters == {"method.request.querystring.q": True}
    assert method.request_models == {"application/json": "M"}
    as_json = method.to_json()
    assert as_json["requestValidatorId"] == validator and as_json["operationName"] == "op"

    cf = aws("cloudfront")
    key_id = cf.create_public_key(
        PublicKeyConfig={"CallerReference": "r", "Name": "k", "EncodedKey": "pem"}
    )["PublicKey"]["Id"]
    created = cf.create_key_group(KeyGroupConfig={"Name": "g", "Items": [key_id]})
    backend = cloudfront_backends["123456789012"]["aws"]
    _attrs(backend, ["key_groups", "public_keys"])
    group = backend.key_groups[created["KeyGroup"]["Id"]]
    _attrs(group, ["id", "name", "items", "etag"])
    assert group.etag == created["ETag"] and key_id in backend.public_keys
    assert isinstance(inspect.getattr_static(KeyGroup, "key_group_config"), property)
    assert group.key_group_config == {"Items": [key_id], "Name": "g"}
    # control_plane wraps CreateKeyGroup's handler and reads the group from its ActionResult
    from moto.cloudfront.responses import CloudFrontResponse

    create_source = inspect.getsource(CloudFrontResponse.create_key_group)
    assert '"KeyGroup": key_group' in create_source and "ActionResult(result)" in create_source


def test_the_control_plane_patches_are_removed_on_teardown():
    from moto.apigateway.responses import APIGatewayResponse
    from moto.cloudfront import urls as cloudfront_urls
    from moto.cloudfront.models import KeyGroup
    from moto.cloudfront.responses import CloudFrontResponse

    import helpers

    def seams():
        return (
            hasattr(APIGatewayResponse, "update_method"),
            hasattr(CloudFrontResponse, "update_key_group"),
            hasattr(CloudFrontResponse, "get_key_group_config"),
            hasattr(CloudFrontResponse, "delete_key_group"),
            CloudFrontResponse.create_key_group,
            inspect.getattr_static(KeyGroup, "key_group_config"),
            cloudfront_urls.url_paths,
        )

    before = seams()
    lab = helpers.start("seams-control-plane")
    try:
        during = seams()
        assert during[:4] == (True, True, True, True)
        assert all(during[i] is not before[i] for i in (4, 5, 6))
    finally:
        lab.teardown()

    assert seams() == before


# ---- Athena (helpers/emulator/athena.py) ---------------------------------------------------
ATHENA_SEAMS = [
    # patched: the query handlers
    ("moto.athena.responses", "AthenaResponse.start_query_execution", ["self"]),
    ("moto.athena.responses", "AthenaResponse.get_query_execution", ["self"]),
    ("moto.athena.responses", "AthenaResponse.get_query_results", ["self"]),
    ("moto.athena.responses", "AthenaResponse.stop_query_execution", ["self"]),
    ("moto.athena.responses", "AthenaResponse.list_query_executions", ["self"]),
    # called: the Glue catalog and S3
    (
        "moto.glue.models",
        "GlueBackend.create_database",
        ["self", "database_name", "database_input"],
    ),
    ("moto.glue.models", "GlueBackend.delete_database", ["self", "database_name"]),
    (
        "moto.glue.models",
        "GlueBackend.create_table",
        ["self", "database_name", "table_name", "table_input"],
    ),
    ("moto.glue.models", "GlueBackend.delete_table", ["self", "database_name", "table_name"]),
    ("moto.glue.models", "FakeTable.as_dict", ["self"]),
    ("moto.glue.models", "FakeTable.create_partition", ["self"]),
    ("moto.s3.models", "S3Backend.put_object", ["self", "bucket_name", "key_name", "value"]),
    ("moto.s3.models", "S3Backend.delete_object", ["self", "bucket_name", "key_name"]),
]


@pytest.mark.parametrize(("module", "name", "params"), ATHENA_SEAMS, ids=lambda v: str(v))
def test_athena_seam_exists_with_a_compatible_signature(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_the_athena_glue_and_s3_objects_the_athena_emulator_reads(aws):
    """Build a work group, a partitioned Glue table and an object, then check what athena.py reads."""
    from moto.athena.models import athena_backends
    from moto.athena.responses import AthenaResponse
    from moto.glue.models import glue_backends
    from moto.s3.models import FakeDeleteMarker, s3_backends

    assert isinstance(inspect.getattr_static(AthenaResponse, "athena_backend"), property)
    assert FakeDeleteMarker is not None
    athena = aws("athena")
    athena.create_work_group(
        Name="wg", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}}
    )
    group = athena_backends["123456789012"]["us-east-1"].work_groups["wg"]
    _attrs(group, ["configuration", "name"])
    assert group.configuration["ResultConfiguration"] == {"OutputLocation": "s3://r/"}

    glue = aws("glue")
    glue.create_database(DatabaseInput={"Name": "db"})
    glue.create_table(
        DatabaseName="db",
        TableInput={
            "Name": "t",
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
            "StorageDescriptor": {
                "Columns": [{"Name": "a", "Type": "int"}],
                "Location": "s3://seam-data/",
            },
        },
    )
    glue.create_partition(
        DatabaseName="db",
        TableName="t",
        PartitionInput={"Values": ["x"], "StorageDescriptor": {"Location": "s3://seam-data/dt=x/"}},
    )
    db = glue_backends["123456789012"]["us-east-1"].databases["db"]
    _attrs(db, ["tables"])
    table = db.tables["t"]
    _attrs(table, ["name", "partitions"])
    assert table.as_dict()["StorageDescriptor"]["Location"] == "s3://seam-data/"
    partition = next(iter(table.partitions.values()))
    assert partition.partition_input["Values"] == ["x"]

    s3 = aws("s3")
    s3.create_bucket(Bucket="seam-data")
    s3.put_object(Bucket="seam-data", Key="dt=x/1.json", Body=b"{}")
    assert s3_backends.bucket_accounts["seam-data"] == ("aws", "123456789012")
    bucket = s3_backends["123456789012"]["aws"].buckets["seam-data"]
    key = bucket.keys.get("dt=x/1.json")
    _attrs(key, ["value", "size", "name"])
    assert key.value == b"{}" and key.size == 2


# ---- IoT topic rules (helpers/emulator/iot.py) ----------------------------------------------
IOT_PATCHED = [
    ("moto.iot.models", "IoTBackend.create_topic_rule", ["self", "rule_name", "sql"]),
    ("moto.iot.models", "IoTBackend.replace_topic_rule", ["self", "rule_name"]),
    ("moto.iotdata.models", "IoTDataPlaneBackend.publish", ["self", "topic", "payload"]),
]
IOT_CALLED = [
    (
        "moto.kinesis.models",
        "KinesisBackend.put_record",
        ["self", "stream_arn", "stream_name", "partition_key", "explicit_hash_key", "data"],
    ),
    (
        "moto.firehose.models",
        "FirehoseBackend.put_record",
        ["self", "delivery_stream_name", "record"],
    ),
    (
        "moto.firehose.models",
        "FirehoseBackend.put_record_batch",
        ["self", "delivery_stream_name", "records"],
    ),
    ("moto.sqs.models", "SQSBackend.send_message", ["self", "queue_name", "message_body"]),
    ("moto.sns.models", "SNSBackend.publish", ["self", "message", "arn"]),
    ("moto.s3.models", "S3Backend.put_object", ["self", "bucket_name", "key_name", "value"]),
    ("moto.dynamodb.models", "DynamoDBBackend.put_item", ["self", "table_name", "item_attrs"]),
    ("moto.iam.models", "IAMBackend.get_role", ["self", "role_name"]),
    ("moto.iot.exceptions", "InvalidRequestException", ["msg"]),
]


@pytest.mark.parametrize(("module", "name", "params"), IOT_PATCHED + IOT_CALLED, ids=str)
def test_iot_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_evaluates_no_topic_rule_and_passes_the_rule_fields_by_name():
    """If moto starts running rules on publish, iot.py must give way (or rules run twice);
    CreateTopicRule's handler must still pass sql, actions and error_action by keyword."""
    for module, name in [
        ("moto.iot.models", "iot_backends"),
        ("moto.iotdata.models", "iotdata_backends"),
        ("moto.firehose.models", "firehose_backends"),
        ("moto.s3.models", "s3_backends"),
        ("moto.iam.models", "iam_backends"),
    ]:
        _resolve(module, name)
    from moto.iot.responses import IoTResponse
    from moto.iotdata.models import IoTDataPlaneBackend

    publish = inspect.getsource(IoTDataPlaneBackend.publish)
    assert "rule" not in publish and "published_payloads.append" in publish
    for handler in (IoTResponse.create_topic_rule, IoTResponse.replace_topic_rule):
        source = inspect.getsource(handler)
        for keyword in ("sql=", "actions=", "error_action=", "rule_disabled="):
            assert keyword in source, (handler.__name__, keyword)


def test_the_objects_the_rules_engine_reads(aws):
    """A topic rule, an IoT role with inline and managed policies, a function's resource
    policy and a Kinesis record, built through the API; then the attributes iot.py reads."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.iam.models import iam_backends
    from moto.iot.models import iot_backends
    from moto.kinesis.models import kinesis_backends

    account, region = "123456789012", "us-east-1"
    iot = aws("iot")
    iot.create_topic_rule(
        ruleName="r",
        topicRulePayload={
            "sql": "SELECT * FROM 'a/+'",
            "ruleDisabled": True,
            "awsIotSqlVersion": "2016-03-23",
            "actions": [{"kinesis": {"streamName": "s", "partitionKey": "k", "roleArn": "x"}}],
            "errorAction": {"sqs": {"queueUrl": "u", "roleArn": "x"}},
        },
    )
    rule = iot_backends[account][region].rules["r"]
    _attrs(rule, ["rule_name", "sql", "actions", "error_action", "account_id", "region_name"])
    assert rule.rule_disabled is True and rule.aws_iot_sql_version == "2016-03-23"
    assert rule.actions[0]["kinesis"]["partitionKey"] == "k"
    assert rule.error_action == {"sqs": {"queueUrl": "u", "roleArn": "x"}}
    assert rule.arn == f"arn:aws:iot:{region}:{account}:rule/r"

    iam = aws("iam")
    iam.create_role(RoleName="iot", AssumeRolePolicyDocument='{"Version": "2012-10-17"}')
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "*"}],
        }
    )
    iam.put_role_policy(RoleName="iot", PolicyName="inline", PolicyDocument=document)
    policy_arn = iam.create_policy(PolicyName="managed", PolicyDocument=document)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="iot", PolicyArn=policy_arn)
    role = iam_backends[account]["aws"].get_role("iot")
    assert role.assume_role_policy_document == '{"Version": "2012-10-17"}'
    assert list(role.policies) == ["inline"] and "Statement" in role.policies["inline"]
    [managed] = role.managed_policies.values()
    [version] = managed.versions
    assert version.is_default and "Statement" in version.document

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    lambda_ = aws("lambda")
    lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=f"arn:aws:iam::{account}:role/iot",
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    lambda_.add_permission(
        FunctionName="f",
        StatementId="iot",
        Action="lambda:InvokeFunction",
        Principal="iot.amazonaws.com",
        SourceArn=rule.arn,
    )
    [statement] = lambda_backends[account][region].get_function("f").policy.statements
    assert statement["Principal"] == {"Service": "iot.amazonaws.com"}
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": rule.arn}}

    aws("kinesis").create_stream(StreamName="s", ShardCount=1)
    backend = kinesis_backends[account][region]
    backend.put_record(None, "s", "pk", None, "ZGF0YQ==")
    [shard] = backend.streams["s"].shards.values()
    [record] = shard.records.values()
    assert (record.partition_key, record.data) == ("pk", "ZGF0YQ==")  # data stays base64


def test_the_iot_patches_are_removed_on_teardown():
    from moto.iot.models import IoTBackend
    from moto.iotdata.models import IoTDataPlaneBackend

    import helpers

    def seams():
        return (
            IoTBackend.create_topic_rule,
            IoTBackend.replace_topic_rule,
            IoTDataPlaneBackend.publish,
        )

    before = seams()
    lab = helpers.start("seams-iot")
    try:
        assert all(a is not b for a, b in zip(seams(), before, strict=True))
        assert lab.emulator.iot_rules is not None
    finally:
        lab.teardown()

    assert seams() == before
    assert not hasattr(lab.emulator, "iot_rules")


# ---- Kinesis shard limits and Firehose delivery (helpers/emulator/streams.py, firehose.py) ----
STREAMS_PATCHED = [
    (
        "moto.kinesis.models",
        "KinesisBackend.put_record",
        ["self", "stream_arn", "stream_name", "partition_key", "explicit_hash_key", "data"],
    ),
    (
        "moto.kinesis.models",
        "KinesisBackend.put_records",
        ["self", "stream_arn", "stream_name", "records"],
    ),
    (
        "moto.kinesis.models",
        "KinesisBackend.get_records",
        ["self", "stream_arn", "shard_iterator", "limit"],
    ),
    (
        "moto.kinesis.models",
        "KinesisBackend.update_shard_count",
        ["self", "stream_arn", "stream_name", "target_shard_count"],
    ),
    (
        "moto.kinesis.models",
        "Stream.get_shard_for_key",
        ["self", "partition_key", "explicit_hash_key"],
    ),
    (
        "moto.kinesis.models",
        "Stream.split_shard",
        ["self", "shard_to_split", "new_starting_hash_key"],
    ),
    (
        "moto.kinesis.models",
        "Stream.merge_shards",
        ["self", "shard_to_merge", "adjacent_shard_to_merge"],
    ),
    ("moto.kinesis.models", "utcnow", []),
    ("moto.kinesis.models", "Shard.get_max_sequence_number", ["self"]),
    ("moto.kinesis.models", "Shard.get_min_sequence_number", ["self"]),
    (
        "moto.firehose.models",
        "FirehoseBackend.create_delivery_stream",
        [
            "self",
            "region",
            "delivery_stream_name",
            "delivery_stream_type",
            "kinesis_stream_source_configuration",
            "delivery_stream_encryption_configuration_input",
            "s3_destination_configuration",
            "extended_s3_destination_configuration",
        ],
    ),
    (
        "moto.firehose.models",
        "FirehoseBackend.update_destination",
        [
            "self",
            "delivery_stream_name",
            "current_delivery_stream_version_id",
            "destination_id",
            "s3_destination_update",
            "extended_s3_destination_update",
        ],
    ),
    (
        "moto.firehose.models",
        "FirehoseBackend.put_record_batch",
        ["self", "delivery_stream_name", "records"],
    ),
]
STREAMS_CALLED = [
    (
        "moto.kinesis.models",
        "Stream.put_record",
        ["self", "partition_key", "explicit_hash_key", "data"],
    ),
    (
        "moto.kinesis.models",
        "KinesisBackend._send_stream_metrics",
        ["self", "stream_name", "incoming_bytes", "incoming_records"],
    ),
    (
        "moto.kinesis.models",
        "KinesisBackend.describe_stream",
        ["self", "stream_arn", "stream_name"],
    ),
    ("moto.kinesis.utils", "decompose_shard_iterator", ["shard_iterator"]),
    ("moto.kinesis.exceptions", "RecordSizeExceedsLimit", ["position"]),
    ("moto.firehose.exceptions", "InvalidArgumentException", ["message"]),
    ("moto.firehose.exceptions", "ValidationException", ["message"]),
    ("moto.s3.models", "S3Backend.put_object", ["self", "bucket_name", "key_name", "value"]),
    ("moto.glue.models", "GlueBackend.get_table", ["self", "database_name", "table_name"]),
]


@pytest.mark.parametrize(("module", "name", "params"), STREAMS_PATCHED + STREAMS_CALLED, ids=str)
def test_streams_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_routes_records_to_a_closed_parent_and_delivers_firehose_at_once(aws):
    """What streams.py and firehose.py correct: if moto fixes these, drop the patch."""
    from moto.kinesis.models import kinesis_backends

    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.update_shard_count(StreamName="s", TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    put = kinesis.put_record(StreamName="s", Data=b"d", PartitionKey="p")
    stream = kinesis_backends["123456789012"]["us-east-1"].streams["s"]
    assert put["ShardId"] == "shardId-000000000000"  # closed: AWS routes to an open child
    assert not stream.shards[put["ShardId"]].is_open

    s3 = aws("s3")
    s3.create_bucket(Bucket="firehose-seam")
    firehose = aws("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="d",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "BucketARN": "arn:aws:s3:::firehose-seam",
            "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
        },
    )
    firehose.put_record(DeliveryStreamName="d", Record={"Data": b"x"})
    assert s3.list_objects_v2(Bucket="firehose-seam")["KeyCount"] == 1  # no buffering


def test_the_kinesis_firehose_and_glue_objects_streams_read(aws):
    from moto.firehose.models import firehose_backends
    from moto.glue.models import glue_backends
    from moto.kinesis.models import kinesis_backends

    account, region = "123456789012", "us-east-1"
    kinesis = aws("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    kinesis.put_record(StreamName="s", Data=b"data", PartitionKey="pk")
    stream = kinesis_backends[account][region].streams["s"]
    _attrs(stream, ["arn", "stream_name", "shards"])
    shard = stream.shards["shardId-000000000000"]
    _attrs(shard, ["shard_id", "_shard_id", "is_open", "starting_hash", "ending_hash", "records"])
    record = shard.records[1]  # keyed by sequence number, 1, 2, ... per shard
    assert base64.b64decode(record.data) == b"data"
    assert isinstance(record.created_at, float)

    firehose = aws("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName="d",
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={
            "KinesisStreamARN": stream.arn,
            "RoleARN": "arn:aws:iam::123456789012:role/r",
        },
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/r",
            "BucketARN": "arn:aws:s3:::b",
            "Prefix": "p/",
        },
    )
    delivery = firehose_backends[account][region].delivery_streams["d"]
    _attrs(
        delivery,
        ["delivery_stream_name", "delivery_stream_arn", "delivery_stream_type", "version_id"],
    )
    assert delivery.delivery_stream_type == "KinesisStreamAsSource"
    assert delivery.destinations[0]["ExtendedS3"]["Prefix"] == "p/"

    glue = aws("glue")
    glue.create_database(DatabaseInput={"Name": "db"})
    glue.create_table(
        DatabaseName="db",
        TableInput={"Name": "t", "StorageDescriptor": {"Columns": [{"Name": "a", "Type": "int"}]}},
    )
    table = glue_backends[account][region].get_table("db", "t")
    assert table.as_dict()["StorageDescriptor"]["Columns"] == [{"Name": "a", "Type": "int"}]


def test_the_streams_patches_are_removed_on_teardown():
    from moto.firehose.models import FirehoseBackend
    from moto.kinesis import models as kinesis_models

    import helpers

    def seams():
        return (
            kinesis_models.KinesisBackend.put_records,
            kinesis_models.Stream.get_shard_for_key,
            kinesis_models.utcnow,
            FirehoseBackend.put_record_batch,
        )

    before = seams()
    lab = helpers.start("seams-streams")
    try:
        assert all(a is not b for a, b in zip(seams(), before, strict=True))
    finally:
        lab.teardown()

    assert seams() == before


# ---- Application Load Balancers (helpers/emulator/alb.py) -----------------------------------
ALB_PATCHED = [
    ("moto.elbv2.models", "ELBv2Backend.create_load_balancer", ["self", "name"]),
    (
        "moto.elbv2.models",
        "ELBv2Backend.register_targets",
        ["self", "target_group_arn", "instances"],
    ),
]
ALB_CALLED = [
    ("moto.elbv2.models", "FakeTargetGroup.health_for", ["self", "target", "ec2_backend"]),
]


@pytest.mark.parametrize(("module", "name", "params"), ALB_PATCHED + ALB_CALLED, ids=str)
def test_alb_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def _alb_network(aws):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    return vpc, subnets


def test_the_elbv2_objects_the_load_balancers_read(aws):
    """What alb.py reads from moto's load balancers, listeners, rules and target groups."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.elbv2.models import elbv2_backends

    vpc, subnets = _alb_network(aws)
    elb = aws("elbv2")
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Scheme="internal")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    # what the emulator's DNS name patch corrects: moto's names are `{name}-1`, no `internal-`
    assert lb["LoadBalancers"][0]["DNSName"] == "web-1.us-east-1.elb.amazonaws.com"
    fn_group = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    ip_group = elb.create_target_group(
        Name="ips", TargetType="ip", Protocol="HTTP", Port=80, VpcId=vpc
    )["TargetGroups"][0]
    listener = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {
                "Type": "fixed-response",
                "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
            }
        ],
    )["Listeners"][0]
    condition = {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/a/*"]}}
    elb.create_rule(
        ListenerArn=listener["ListenerArn"],
        Priority=7,
        Conditions=[condition],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": fn_group["TargetGroupArn"], "Weight": 3},
                        {"TargetGroupArn": ip_group["TargetGroupArn"]},
                    ]
                },
            }
        ],
    )
    elb.register_targets(
        TargetGroupArn=ip_group["TargetGroupArn"], Targets=[{"Id": "10.0.1.5", "Port": 8080}]
    )

    backend = elbv2_backends["123456789012"]["us-east-1"]
    model = backend.load_balancers[lb_arn]
    _attrs(
        model,
        ["arn", "name", "dns_name", "type", "scheme", "state", "listeners", "attrs", "subnets"],
    )
    assert (model.type, model.scheme) == ("application", "internal")
    assert model.subnets[0].cidr_block == "10.0.1.0/24"
    assert model.attrs.get("idle_timeout.timeout_seconds", "60") == "60"
    stored = next(iter(model.listeners.values()))
    _attrs(stored, ["port", "protocol", "rules"])
    assert (int(stored.port), stored.protocol) == (80, "HTTP")
    rules = list(stored.rules.values())
    for rule in rules:
        _attrs(rule, ["arn", "priority", "conditions", "actions", "is_default"])
    custom, default = rules
    assert (int(custom.priority), custom.is_default) == (7, False)
    assert default.is_default and default.conditions == []
    assert custom.conditions == [condition]  # kept as sent
    forward = custom.actions[0].data
    assert forward["Type"] == "forward"
    weights = [g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]]
    assert weights == [3, 1]  # moto fills in the default weight
    assert default.actions[0].data["FixedResponseConfig"]["StatusCode"] == "404"

    lambda_group = backend.target_groups[fn_group["TargetGroupArn"]]
    _attrs(
        lambda_group, ["arn", "name", "target_type", "targets", "attributes", "protocol", "port"]
    )
    assert lambda_group.target_type == "lambda"
    assert lambda_group.attributes["lambda.multi_value_headers.enabled"] == "false"
    group = backend.target_groups[ip_group["TargetGroupArn"]]
    assert dict(group.targets) == {"10.0.1.5": {"Id": "10.0.1.5", "Port": 8080}}
    assert (group.protocol, group.port) == ("HTTP", 80)
    health = group.health_for(group.targets["10.0.1.5"], group.ec2_backend)
    assert health.status == "healthy"

    # the resource policy statement add_permission stores, as the permission check reads it
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    role = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    fn_arn = lambda_.create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]
    lambda_.add_permission(
        FunctionName="f",
        StatementId="elb",
        Principal="elasticloadbalancing.amazonaws.com",
        Action="lambda:InvokeFunction",
        SourceArn=fn_group["TargetGroupArn"],
    )
    statement = lambda_backends["123456789012"]["us-east-1"].get_function("f").policy.statements[0]
    assert statement["Principal"] == {"Service": "elasticloadbalancing.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == fn_arn
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": fn_group["TargetGroupArn"]}}


def test_moto_sends_an_http_exception_from_an_elbv2_backend_call_as_it_is(aws, monkeypatch):
    """The invoke permission check raises AccessDenied (403) from inside register_targets."""
    from botocore.exceptions import ClientError
    from moto.elbv2 import models

    from helpers.emulator.alb import _access_denied

    def refuse(backend, target_group_arn, instances):
        raise _access_denied("elasticloadbalancing principal does not have permission")

    monkeypatch.setattr(models.ELBv2Backend, "register_targets", refuse)
    elb = aws("elbv2")
    arn = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    with pytest.raises(ClientError) as refused:
        elb.register_targets(TargetGroupArn=arn["TargetGroupArn"], Targets=[{"Id": "x"}])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_the_alb_patches_are_removed_on_teardown():
    from moto.elbv2.models import ELBv2Backend

    import helpers

    def seams():
        return (ELBv2Backend.create_load_balancer, ELBv2Backend.register_targets)

    before = seams()
    lab = helpers.start("seams-alb")
    try:
        assert all(a is not b for a, b in zip(seams(), before, strict=True))
    finally:
        lab.teardown()

    assert seams() == before


def test_a_custom_origin_keeps_its_ports_and_protocol_policy(aws):
    """edge._origin_port and _origin_scheme read CustomOriginConfig's ports and policy."""
    from moto.cloudfront.models import cloudfront_backends

    cf = aws("cloudfront")
    dist = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "custom-origin-seam",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "app",
                        "DomainName": "app.example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 8080,
                            "HTTPSPort": 8443,
                            "OriginProtocolPolicy": "http-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "app",
                "ViewerProtocolPolicy": "allow-all",
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "MinTTL": 0,
            },
        }
    )["Distribution"]
    stored = cloudfront_backends["123456789012"]["global"].distributions[dist["Id"]]
    origin = stored.distribution_config.Origins["Items"][0]
    custom = origin.custom_origin_config
    assert (custom.http_port, custom.https_port, custom.origin_protocol_policy) == (
        8080,
        8443,
        "http-only",
    )


# ---- RDS Data API (helpers/emulator/rds_data.py) -------------------------------------------
RDS_DATA_SEAMS = [
    # patched: the rds-data handlers, the HTTP endpoint flag, cluster deletion
    ("moto.rdsdata.responses", "RDSDataServiceResponse.execute_statement", ["self"]),
    ("moto.rds.models", "RDSBackend.delete_db_cluster", ["self", "cluster_identifier"]),
    # called: the secret, moto's answer objects
    (
        "moto.secretsmanager.models",
        "SecretsManagerBackend.get_secret_value",
        ["self", "secret_id", "version_id", "version_stage"],
    ),
    ("moto.core.responses", "ActionResult", ["result"]),
]


@pytest.mark.parametrize(("module", "name", "params"), RDS_DATA_SEAMS, ids=str)
def test_rds_data_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_lacks_what_rds_data_adds():
    """If moto grows these calls or keeps EnableHttpEndpoint for provisioned clusters,
    rds_data.py must give way to moto's (or check that its own still answers as AWS does)."""
    from moto.rds.responses import RDSResponse
    from moto.rdsdata import urls as rdsdata_urls
    from moto.rdsdata.responses import RDSDataServiceResponse

    for name in ("batch_execute_statement", "begin_transaction", "commit_transaction"):
        assert not hasattr(RDSDataServiceResponse, name), name
    assert not hasattr(RDSDataServiceResponse, "rollback_transaction")
    assert list(rdsdata_urls.url_paths) == ["{0}/Execute$"]
    assert not hasattr(RDSResponse, "enable_http_endpoint")
    assert not hasattr(RDSResponse, "disable_http_endpoint")


def test_moto_routes_the_rds_data_calls_as_botocore_sends_them():
    """The routes rds_data adds are the request URIs of botocore's model."""
    import re

    import botocore.session

    from helpers.emulator import rds_data

    model = botocore.session.get_session().get_service_model("rds-data")
    uris = {
        model.operation_model(op).http["requestUri"]
        for op in (
            "BatchExecuteStatement",
            "BeginTransaction",
            "CommitTransaction",
            "RollbackTransaction",
        )
    }
    routes = rds_data._ROUTES
    assert {u for u in uris if any(re.fullmatch(r.format(""), u) for r in routes)} == uris
    assert model.operation_model("ExecuteStatement").http["requestUri"] == "/Execute"


def test_the_rds_and_secrets_objects_rds_data_reads(aws):
    """A Serverless v2 cluster with a writer, one with a managed secret, and a secret."""
    from datetime import datetime

    from moto.rds.models import DBCluster, rds_backends
    from moto.secretsmanager.exceptions import SecretsManagerClientError
    from moto.secretsmanager.models import secretsmanager_backends

    rds = aws("rds")
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="seam-db",
        Engine="aurora-postgresql",
        MasterUsername="postgres",
        MasterUserPassword="seam-password",
        DatabaseName="app",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2},
        EnableHttpEndpoint=True,
    )["DBCluster"]
    assert cluster["HttpEndpointEnabled"] is False  # what rds_data's property patch fixes
    rds.create_db_instance(
        DBInstanceIdentifier="seam-db-1",
        DBInstanceClass="db.serverless",
        Engine="aurora-postgresql",
        DBClusterIdentifier="seam-db",
    )
    managed = rds.create_db_cluster(
        DBClusterIdentifier="seam-managed",
        Engine="aurora-postgresql",
        MasterUsername="postgres",
        ManageMasterUserPassword=True,
    )["DBCluster"]
    backend = rds_backends["123456789012"]["us-east-1"]
    stored = backend.clusters["seam-db"]
    _attrs(
        stored,
        [
            "arn",
            "db_cluster_identifier",
            "engine",
            "engine_mode",
            "status",
            "master_username",
            "_master_user_password",
            "members",
            "database_name",
            "serverless_v2_scaling_configuration",
            "created",
            "_enable_http_endpoint",
        ],
    )
    assert stored.arn == cluster["DBClusterArn"] and stored.engine_mode == "provisioned"
    assert stored._master_user_password == "seam-password" and stored.database_name == "app"
    assert stored.serverless_v2_scaling_configuration["MinCapacity"] == 0
    assert isinstance(stored.created, datetime) and len(stored.members) == 1
    prop = inspect.getattr_static(DBCluster, "enable_http_endpoint")
    assert isinstance(prop, property) and prop.fset is not None
    secret = backend.clusters["seam-managed"].master_user_secret
    _attrs(secret, ["secret_arn", "secret"])
    assert secret.secret_arn == managed["MasterUserSecret"]["SecretArn"]
    version = secret.secret.versions[secret.secret.default_version_id]
    assert set(json.loads(version["secret_string"])) == {"username", "password"}
    assert backend.clusters["seam-managed"].manage_master_user_password is True
    from moto.rds.exceptions import RDSClientError

    fault = RDSClientError("ResourceNotFoundFault", "gone")
    assert (fault.code, fault.message) == ("ResourceNotFoundFault", "gone")

    aws("secretsmanager").create_secret(Name="seam-secret", SecretString='{"a": 1}')
    sm = secretsmanager_backends["123456789012"]["us-east-1"]
    value = sm.get_secret_value("seam-secret", None, None)
    assert value["SecretString"] == '{"a": 1}' and value["ARN"].startswith("arn:aws:secrets")
    with pytest.raises(SecretsManagerClientError) as info:
        sm.get_secret_value("no-such-secret", None, None)
    assert isinstance(info.value.message, str)


# ---- Route 53 TestDNSAnswer (helpers/emulator/route53_answers.py) -----------------------------
def test_moto_still_lacks_test_dns_answer():
    """If moto grows TestDNSAnswer, route53_answers.py must give way to it (or check its own)."""
    import re

    import botocore.session
    from moto.route53 import urls as route53_urls
    from moto.route53.responses import Route53

    from helpers.emulator import route53_answers

    assert not hasattr(Route53, "test_dns_answer")
    assert not [p for p in route53_urls.url_paths if "testdnsanswer" in p]
    http = (
        botocore.session.get_session()
        .get_service_model("route53")
        .operation_model("TestDNSAnswer")
        .http
    )
    assert http["method"] == "GET"
    assert re.fullmatch(route53_answers._ROUTE.format(""), http["requestUri"])
    assert isinstance(inspect.getattr_static(Route53, "backend"), property)


def test_the_route53_and_elbv2_objects_route53_answers_reads(aws):
    from moto.elbv2.models import elbv2_backends
    from moto.route53.exceptions import InvalidInput, NoSuchHostedZone
    from moto.route53.models import route53_backends

    r53 = aws("route53")
    zone_id = r53.create_hosted_zone(Name="seam.example", CallerReference="seam")["HostedZone"][
        "Id"
    ]
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": "w.seam.example",
                        "Type": "A",
                        "TTL": 60,
                        "SetIdentifier": "one",
                        "Weight": 5,
                        "ResourceRecords": [{"Value": "192.0.2.1"}],
                    },
                }
            ]
        },
    )
    zone = route53_backends["123456789012"]["aws"].zones[zone_id.rsplit("/", 1)[-1]]
    _attrs(zone, ["name", "id", "private_zone", "rrsets", "delegation_set"])
    assert zone.private_zone is False and zone.delegation_set.name_servers
    record = next(r for r in zone.rrsets if r.type == "A")
    _attrs(
        record,
        [
            "name",
            "type",
            "records",
            "set_identifier",
            "weight",
            "region",
            "failover",
            "geo_location",
            "multi_value_answer",
            "health_check_id",
            "alias_target",
        ],
    )
    assert record.records == ["192.0.2.1"] and record.name == "w.seam.example."
    assert (record.set_identifier, int(record.weight)) == ("one", 5)
    assert NoSuchHostedZone("Z1").message.endswith("Z1") and InvalidInput("x").message == "x"

    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=az)["Subnet"][
            "SubnetId"
        ]
        for i, az in ((1, "us-east-1a"), (2, "us-east-1b"))
    ]
    lb = aws("elbv2").create_load_balancer(Name="seam-lb", Subnets=subnets, Scheme="internal")[
        "LoadBalancers"
    ][0]
    stored = elbv2_backends["123456789012"]["us-east-1"].load_balancers[lb["LoadBalancerArn"]]
    _attrs(stored, ["dns_name", "scheme", "subnets", "arn"])
    assert stored.dns_name == lb["DNSName"] and stored.scheme == "internal"
    _attrs(stored.subnets[0], ["cidr_block", "id"])


def test_the_rds_data_and_route53_patches_are_removed_on_teardown():
    from moto.rds.models import DBCluster, RDSBackend
    from moto.rds.responses import RDSResponse
    from moto.rdsdata import urls as rdsdata_urls
    from moto.rdsdata.responses import RDSDataServiceResponse
    from moto.route53 import urls as route53_urls
    from moto.route53.responses import Route53

    import helpers

    def seams():
        return (
            RDSDataServiceResponse.execute_statement,
            hasattr(RDSDataServiceResponse, "begin_transaction"),
            rdsdata_urls.url_paths,
            inspect.getattr_static(DBCluster, "enable_http_endpoint"),
            RDSBackend.delete_db_cluster,
            hasattr(RDSResponse, "enable_http_endpoint"),
            hasattr(Route53, "test_dns_answer"),
            route53_urls.url_paths,
        )

    before = seams()
    lab = helpers.start("seams-rds-data")
    try:
        during = seams()
        assert during[1] and during[5] and during[6]
        assert all(during[i] is not before[i] for i in (0, 2, 3, 4, 7))
    finally:
        lab.teardown()

    assert seams() == before


# ---- versions, canaries, OpenAPI (lambda_versions.py, control_plane.py, openapi.py) -----------
VERSIONS_SEAMS = [
    # patched
    ("moto.awslambda.responses", "LambdaResponse.invoke", ["self"]),
    (
        "moto.awslambda.models",
        "LambdaBackend.invoke",
        ["self", "function_name", "qualifier", "body", "headers", "response_headers"],
    ),
    (
        "moto.awslambda.models",
        "LambdaBackend.add_permission",
        ["self", "function_name", "qualifier", "raw"],
    ),
    (
        "moto.awslambda.models",
        "LambdaBackend.create_alias",
        ["self", "name", "function_name", "function_version", "description", "routing_config"],
    ),
    (
        "moto.awslambda.models",
        "LambdaBackend.update_alias",
        ["self", "name", "function_name", "function_version", "description", "routing_config"],
    ),
    ("moto.apigateway.responses", "APIGatewayResponse.create_deployment", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.create_stage", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.update_stage", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.get_tags", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.tag_resource", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.untag_resource", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.get_export", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.import_rest_api", ["self"]),
    ("moto.apigateway.responses", "APIGatewayResponse.put_rest_api", ["self"]),
    ("moto.apigateway.models", "Stage.to_json", ["self"]),
    # called
    ("moto.awslambda.models", "LambdaBackend.get_alias", ["self", "name", "function_name"]),
    ("moto.awslambda.models", "LambdaStorage._get_function_aliases", ["self", "function_name"]),
    ("moto.awslambda.models", "LambdaStorage.split_function_arn", ["self", "arn"]),
    ("moto.awslambda.exceptions", "InvalidParameterValueException", ["message"]),
    ("moto.awslambda.exceptions", "LambdaClientError", ["error", "message"]),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.update_stage",
        ["self", "function_id", "stage_name", "patch_operations"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.get_stage",
        ["self", "function_id", "stage_name"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.create_rest_api",
        ["self", "name", "description"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.create_resource",
        ["self", "function_id", "parent_resource_id", "path_part"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.put_method",
        ["self", "function_id", "resource_id", "method_type", "authorization_type"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.put_method_response",
        [
            "self",
            "function_id",
            "resource_id",
            "method_type",
            "response_code",
            "response_models",
            "response_parameters",
        ],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.put_integration",
        [
            "self",
            "function_id",
            "resource_id",
            "method_type",
            "integration_type",
            "uri",
            "integration_method",
        ],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.put_integration_response",
        [
            "self",
            "function_id",
            "resource_id",
            "method_type",
            "status_code",
            "selection_pattern",
            "response_templates",
            "response_parameters",
            "content_handling",
        ],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.create_model",
        ["self", "rest_api_id", "name", "content_type", "description", "schema"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.create_authorizer",
        ["self", "restapi_id", "name", "authorizer_type"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.create_request_validator",
        ["self", "restapi_id", "name", "body", "params"],
    ),
    (
        "moto.apigateway.models",
        "APIGatewayBackend.put_gateway_response",
        ["self", "rest_api_id", "response_type", "status_code", "response_parameters"],
    ),
    ("moto.apigateway.models", "Method.to_json", ["self"]),
    ("moto.apigateway.models", "Model.to_json", ["self"]),
    ("moto.apigateway.models", "Authorizer.to_json", ["self"]),
    ("moto.apigateway.models", "RequestValidator.to_dict", ["self"]),
    ("moto.apigateway.models", "GatewayResponse.to_json", ["self"]),
    ("moto.apigateway.exceptions", "BadRequestException", ["message"]),
    ("moto.apigateway.exceptions", "NotFoundException", ["message"]),
]


@pytest.mark.parametrize(("module", "name", "params"), VERSIONS_SEAMS, ids=lambda v: str(v))
def test_versions_canary_and_openapi_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_still_lacks_what_versions_canaries_and_openapi_add(aws):
    """If moto starts honouring Invoke's Qualifier, canarySettings, oas30 exports or REST API
    tags, the emulator's versions must give way to moto's (or prove they still answer as AWS)."""
    from moto.awslambda.responses import LambdaResponse

    assert '_get_param("qualifier")' in inspect.getsource(LambdaResponse.invoke)
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="a")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigw.create_deployment(restApiId=api_id, stageName="prod")["id"]
    apigw.create_stage(
        restApiId=api_id,
        stageName="dev",
        deploymentId=deployment,
        canarySettings={"percentTraffic": 10},
    )
    assert "canarySettings" not in apigw.get_stage(restApiId=api_id, stageName="dev")
    export = apigw.get_export(restApiId=api_id, stageName="prod", exportType="oas30")
    assert json.loads(export["body"].read())["swagger"] == "2.0"
    with pytest.raises(Exception):  # noqa: B017 - moto reads the API's ARN as a stage's
        apigw.tag_resource(
            resourceArn=f"arn:aws:apigateway:us-east-1::/restapis/{api_id}", tags={"a": "b"}
        )


def test_the_objects_versions_canaries_and_openapi_read(aws):
    """A published version, a weighted alias, a stage and an API's parts, as moto keeps them."""
    import io
    import zipfile

    from moto.apigateway.models import apigateway_backends
    from moto.awslambda.models import lambda_backends

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    role = aws("iam").create_role(RoleName="v", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lambda_ = aws("lambda")
    lambda_.create_function(
        FunctionName="fv",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    lambda_.publish_version(FunctionName="fv")
    lambda_.update_function_configuration(FunctionName="fv", MemorySize=256)
    lambda_.publish_version(FunctionName="fv")
    lambda_.create_alias(
        FunctionName="fv",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    backend = lambda_backends["123456789012"]["us-east-1"]
    one = backend.get_function("fv", "1")
    latest = backend.get_function("fv")
    # PublishVersion copies $LATEST: later updates rebind attributes, so the copy keeps its own
    assert one is not latest and one.function_arn.endswith(":fv:1") and str(one.version) == "1"
    assert (one.memory_size, latest.memory_size) == (128, 256)
    alias = backend._lambdas._get_function_aliases("fv")["live"]
    assert alias.function_version == "1"
    assert alias.routing_config == {"AdditionalVersionWeights": {"2": 0.5}}
    assert backend._lambdas.split_function_arn(one.function_arn) == (
        latest.function_arn,
        "fv",
        "1",
    )

    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name="o")["id"]
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    apigw.create_model(restApiId=api_id, name="M", contentType="application/json", schema="{}")
    apigw.put_method(
        restApiId=api_id,
        resourceId=root,
        httpMethod="GET",
        authorizationType="NONE",
        requestModels={"application/json": "M"},
    )
    apigw.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200")
    apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    api = apigateway_backends["123456789012"]["us-east-1"].apis[api_id]
    _attrs(api, ["root_resource_id", "models", "request_validators", "version", "create_date"])
    assert api.version == "V1"  # openapi.py reads "V1" as "no version"
    method = api.resources[root].resource_methods["GET"].to_json()
    for key in ("requestModels", "methodResponses", "methodIntegration", "requestParameters"):
        assert key in method
    assert api.models["M"].to_json()["contentType"] == "application/json"
    stage = api.stages["prod"]
    stage.canary_settings = {"percentTraffic": 1.0}  # control_plane keeps canaries on the Stage
    assert "deployment_id" in vars(stage) and "variables" in vars(stage)
    _attrs(api.deployments[stage.deployment_id], ["created_date"])


def test_the_versions_canary_and_openapi_patches_are_removed_on_teardown():
    from moto.apigateway import urls
    from moto.apigateway.models import Stage
    from moto.apigateway.responses import APIGatewayResponse
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    import helpers

    def seams():
        return (
            LambdaResponse.invoke,
            LambdaBackend.invoke,
            LambdaBackend.add_permission,
            LambdaBackend.create_alias,
            LambdaBackend.update_alias,
            APIGatewayResponse.create_deployment,
            APIGatewayResponse.create_stage,
            APIGatewayResponse.update_stage,
            APIGatewayResponse.get_tags,
            APIGatewayResponse.get_export,
            APIGatewayResponse.import_rest_api,
            APIGatewayResponse.put_rest_api,
            Stage.to_json,
            urls.url_paths,
        )

    before = seams()
    lab = helpers.start("seams-versions")
    try:
        during = seams()
        assert all(now is not then for now, then in zip(during, before, strict=True))
    finally:
        lab.teardown()

    assert seams() == before


# ---- ElastiCache endpoints (helpers/emulator/elasticache.py) ----------------------------------
ELASTICACHE_SEAMS = [
    # patched: cache lifecycles (moto's responses call them with keyword arguments), CacheNodes
    ("moto.elasticache.models", "ElastiCacheBackend.create_cache_cluster", ["self"]),
    (
        "moto.elasticache.models",
        "ElastiCacheBackend.delete_cache_cluster",
        ["self", "cache_cluster_id"],
    ),
    ("moto.elasticache.models", "ElastiCacheBackend.create_replication_group", ["self"]),
    (
        "moto.elasticache.models",
        "ElastiCacheBackend.delete_replication_group",
        ["self", "replication_group_id"],
    ),
    ("moto.elasticache.responses", "ElastiCacheResponse.describe_cache_clusters", ["self"]),
    ("moto.core.responses", "BaseResponse._get_bool_param", ["self", "param_name"]),
    # fakeredis: the server, its request handler, the fake socket's command loop
    (
        "fakeredis",
        "TcpFakeServer.__init__",
        ["self", "server_address", "bind_and_activate", "server_type"],
    ),
    ("fakeredis._clients._tcp_server", "TCPFakeRequestHandler.setup", ["self"]),
    ("fakeredis._clients._tcp_server", "TCPFakeRequestHandler.finish", ["self"]),
    ("fakeredis._socket._base", "BaseFakeSocket._process_command", ["self", "fields"]),
    ("fakeredis._socket._base", "BaseFakeSocket.put_response", ["self", "msg"]),
    ("fakeredis", "FakeServer.__init__", ["self", "version", "server_type", "config"]),
    ("fakeredis.model._command_info", "is_write_command", ["cmd"]),
    ("fakeredis._helpers", "SimpleError", ["value"]),
]


@pytest.mark.parametrize(("module", "name", "params"), ELASTICACHE_SEAMS, ids=str)
def test_elasticache_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_moto_calls_the_elasticache_backend_with_the_keywords_elasticache_reads():
    from moto.elasticache.models import ElastiCacheBackend

    cluster = set(inspect.signature(ElastiCacheBackend.create_cache_cluster).parameters)
    group = set(inspect.signature(ElastiCacheBackend.create_replication_group).parameters)
    assert {"engine", "auth_token", "transit_encryption_enabled", "replication_group_id"} <= cluster
    assert {
        "engine",
        "auth_token",
        "transit_encryption_enabled",
        "num_cache_clusters",
        "preferred_cache_cluster_azs",
        "primary_cluster_id",
    } <= group


def test_moto_still_lacks_what_elasticache_adds(aws):
    """If moto grows serverless caches, CacheNodes or reader endpoints, elasticache.py must give
    way to moto's (or check that its own still answers as AWS does)."""
    from moto.elasticache.responses import ElastiCacheResponse

    for name in (
        "create_serverless_cache",
        "describe_serverless_caches",
        "delete_serverless_cache",
    ):
        assert not hasattr(ElastiCacheResponse, name), name
    ec = aws("elasticache")
    ec.create_cache_cluster(CacheClusterId="seam-c", Engine="redis", CacheNodeType="cache.t3.micro")
    described = ec.describe_cache_clusters(CacheClusterId="seam-c", ShowCacheNodeInfo=True)
    assert "CacheNodes" not in described["CacheClusters"][0]
    group = ec.create_replication_group(
        ReplicationGroupId="seam-g",
        ReplicationGroupDescription="seam",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=3,
    )["ReplicationGroup"]
    assert "ReaderEndpoint" not in group["NodeGroups"][0]
    assert len(group["NodeGroups"][0]["NodeGroupMembers"]) == 1  # moto ignores NumCacheClusters
    assert ec.delete_cache_cluster(CacheClusterId="seam-c")["CacheCluster"][
        "CacheClusterStatus"
    ] == ("deleting")
    assert ec.describe_cache_clusters(CacheClusterId="seam-c")["CacheClusters"]  # kept


def test_the_elasticache_objects_elasticache_reads(aws):
    from moto.core.responses import PaginatedResult
    from moto.elasticache.models import elasticache_backends
    from moto.elasticache.responses import ElastiCacheResponse

    ec = aws("elasticache")
    ec.create_cache_cluster(
        CacheClusterId="seam-c", Engine="valkey", CacheNodeType="cache.t3.micro", Port=6390
    )
    ec.create_replication_group(
        ReplicationGroupId="seam-g",
        ReplicationGroupDescription="seam",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        ReplicasPerNodeGroup=1,
    )
    ec.create_replication_group(
        ReplicationGroupId="seam-sharded",
        ReplicationGroupDescription="seam",
        Engine="valkey",
        CacheNodeType="cache.t3.micro",
        ClusterMode="enabled",
        NumNodeGroups=2,
    )
    backend = elasticache_backends["123456789012"]["us-east-1"]
    _attrs(backend, ["cache_clusters", "replication_groups", "region_name"])
    stored = backend.cache_clusters["seam-c"]
    _attrs(
        stored,
        [
            "arn",
            "engine",
            "port",
            "cache_cluster_id",
            "cache_cluster_status",
            "cache_cluster_create_time",
            "preferred_availability_zone",
            "transit_encryption_enabled",
        ],
    )
    assert stored.engine == "valkey" and stored.port == 6390
    assert not hasattr(stored, "num_cache_nodes")  # moto sets it for redis only
    group = backend.replication_groups["seam-g"]
    _attrs(
        group,
        [
            "arn",
            "replication_group_id",
            "cluster_enabled",
            "member_clusters",
            "node_groups",
            "status",
            "transit_encryption_enabled",
            "transit_encryption_mode",
        ],
    )
    node_group = group.node_groups[0]
    assert isinstance(node_group, dict) and node_group["primary_endpoint"]["port"] == 6379
    assert [m["current_role"] for m in node_group["node_group_members"]] == ["primary", "replica"]
    assert set(node_group["node_group_members"][0]) >= {
        "cache_cluster_id",
        "cache_node_id",
        "read_endpoint",
        "preferred_availability_zone",
    }
    sharded = backend.replication_groups["seam-sharded"]
    assert sharded.cluster_enabled is True and sharded.configuration_endpoint["port"] == 6379
    # moto serializes model attributes by their snake_case names, and a dict's keys as they are
    group.node_groups[0]["reader_endpoint"] = {"address": "127.0.0.1", "port": 1}
    described = ec.describe_replication_groups(ReplicationGroupId="seam-g")["ReplicationGroups"]
    assert described[0]["NodeGroups"][0]["ReaderEndpoint"] == {"Address": "127.0.0.1", "Port": 1}

    seen = []
    original = ElastiCacheResponse.describe_cache_clusters

    def spy(response):
        result = original(response)
        seen.append(result)
        return result

    ElastiCacheResponse.describe_cache_clusters = spy
    try:
        ec.describe_cache_clusters()
    finally:
        ElastiCacheResponse.describe_cache_clusters = original
    assert isinstance(seen[0], PaginatedResult) and isinstance(
        seen[0].result["CacheClusters"], list
    )


def test_fakeredis_runs_commands_through_the_socket_and_clock_elasticache_uses():
    import time

    import fakeredis._socket._base as fakeredis_base
    from fakeredis import TcpFakeServer
    from fakeredis.model._command_info import is_write_command

    assert fakeredis_base.time is time  # the command loop's clock (the lab clock replaces it)
    assert is_write_command(b"set") and not is_write_command(b"get")
    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    try:
        _attrs(server, ["fake_server", "RequestHandlerClass", "server_address", "clients"])
        assert server.fake_server.config == {} and server.fake_server.lock is not None
    finally:
        server.server_close()


def test_the_elasticache_patches_are_removed_and_servers_stopped_on_teardown():
    import socket
    import time

    import fakeredis._socket._base as fakeredis_base
    from moto.elasticache.models import ElastiCacheBackend
    from moto.elasticache.responses import ElastiCacheResponse

    import helpers

    def seams():
        return (
            ElastiCacheBackend.create_cache_cluster,
            ElastiCacheBackend.delete_cache_cluster,
            ElastiCacheBackend.create_replication_group,
            ElastiCacheBackend.delete_replication_group,
            ElastiCacheResponse.describe_cache_clusters,
            hasattr(ElastiCacheResponse, "create_serverless_cache"),
            fakeredis_base.time,
        )

    before = seams()
    lab = helpers.start("seams-elasticache")
    try:
        ec = lab.client("elasticache")
        name = lab.name("c")
        ec.create_cache_cluster(CacheClusterId=name, Engine="redis", CacheNodeType="cache.t3.micro")
        described = ec.describe_cache_clusters(CacheClusterId=name, ShowCacheNodeInfo=True)
        port = described["CacheClusters"][0]["CacheNodes"][0]["Endpoint"]["Port"]
        during = seams()
        assert during[5] and during[6] is not time
        assert all(during[i] is not before[i] for i in range(5))
    finally:
        lab.teardown()

    assert seams() == before
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # the cache's server is gone


# ---- Amazon EFS and the Lambda functions that mount it (helpers/emulator/efs.py) -------------
EFS_PATCHED = [
    ("moto.efs.models", "EFSBackend.delete_file_system", ["self", "file_system_id"]),
    # and LambdaFunction.__init__ / update_configuration / get_configuration (PATCHED above)
]
EFS_CALLED = [
    ("moto.efs.models", "FileSystem.iter_mount_targets", ["self"]),
    ("moto.ec2.models.subnets", "SubnetBackend.get_subnet", ["self", "subnet_id"]),
]


@pytest.mark.parametrize(("module", "name", "params"), EFS_PATCHED + EFS_CALLED, ids=str)
def test_efs_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def test_the_efs_ec2_and_lambda_objects_efs_reads(aws):
    """efs.py finds file systems and access points in efs_backends, mount targets' and subnets'
    VPC and AZ, and the function's VpcConfig; moto still keeps no FileSystemConfigs."""
    import io
    import zipfile

    from moto.awslambda.models import lambda_backends
    from moto.ec2.exceptions import InvalidSubnetIdError
    from moto.ec2.models import ec2_backends
    from moto.efs.models import efs_backends

    account, region = "123456789012", "us-east-1"
    ec2, efs = aws("ec2"), aws("efs")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")[
        "Subnet"
    ]["SubnetId"]
    fs = efs.create_file_system(CreationToken="seam")["FileSystemId"]
    efs.create_mount_target(FileSystemId=fs, SubnetId=subnet)
    root = {"Path": "/a", "CreationInfo": {"OwnerUid": 1, "OwnerGid": 1, "Permissions": "750"}}
    ap = efs.create_access_point(FileSystemId=fs, RootDirectory=root)

    backend = efs_backends[account][region]
    file_system = backend.file_systems_by_id[fs]
    _attrs(file_system, ["file_system_id", "file_system_arn"])
    (target,) = list(file_system.iter_mount_targets())
    assert (target.vpc_id, target.availability_zone_name) == (vpc, "us-east-1a")
    access_point = backend.access_points[ap["AccessPointId"]]
    _attrs(access_point, ["access_point_id", "access_point_arn", "file_system_id"])
    assert access_point.access_point_arn == ap["AccessPointArn"]
    assert access_point.root_directory == root  # CreationInfo kept as given
    found = ec2_backends[account][region].get_subnet(subnet)
    assert (found.vpc_id, found.availability_zone) == (vpc, "us-east-1a")
    with pytest.raises(InvalidSubnetIdError):
        ec2_backends[account][region].get_subnet("subnet-00000000")

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(e, c): return e\n")
    role = aws("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    vpc_config = {"SubnetIds": [subnet], "SecurityGroupIds": []}
    created = aws("lambda").create_function(
        FunctionName="f",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
        VpcConfig=vpc_config,
        FileSystemConfigs=[{"Arn": ap["AccessPointArn"], "LocalMountPath": "/mnt/a"}],
    )
    assert "FileSystemConfigs" not in created  # moto drops it: efs.py keeps it
    fn = lambda_backends[account][region].get_function("f")
    assert fn._vpc_config == vpc_config
    _attrs(fn, ["account_id", "region"])


def test_the_efs_patches_are_removed_and_files_deleted_on_teardown():
    from moto.awslambda.models import LambdaFunction
    from moto.efs.models import EFSBackend

    import helpers
    from helpers.emulator.core import Emulator

    def seams():
        return (
            EFSBackend.delete_file_system,
            LambdaFunction.__init__,
            LambdaFunction.update_configuration,
            LambdaFunction.get_configuration,
            Emulator.spec,
        )

    before = seams()
    lab = helpers.start("seams-efs")
    try:
        assert all(a is not b for a, b in zip(seams(), before, strict=True))
        fs = lab.client("efs").create_file_system(CreationToken="seams-efs")["FileSystemId"]
        (lab.emulator.efs.directory(fs) / "release.txt").write_text("v1")
        folder = lab.emulator.efs.folder
    finally:
        lab.teardown()

    assert seams() == before
    assert not folder.exists()


# ---- EC2 instances and Auto Scaling (helpers/emulator/instances.py) --------------------------
INSTANCES_PATCHED = [
    (
        "moto.autoscaling.models",
        "AutoScalingBackend.update_attached_target_groups",
        ["self", "group_name"],
    ),
    (
        "moto.autoscaling.models",
        "FakeAutoScalingGroup.replace_autoscaling_group_instances",
        ["self", "count_needed", "propagated_tags"],
    ),
]
INSTANCES_CALLED = [
    (
        "moto.elbv2.models",
        "ELBv2Backend.deregister_targets",
        ["self", "target_group_arn", "instances"],
    ),
    ("moto.ec2.models.instances", "InstanceBackend.get_instance_by_id", ["self", "instance_id"]),
    ("moto.efs.models", "FileSystem.iter_mount_targets", ["self"]),
]


@pytest.mark.parametrize(
    ("module", "name", "params"), INSTANCES_PATCHED + INSTANCES_CALLED, ids=str
)
def test_instances_seams_exist_with_compatible_signatures(module, name, params):
    target = _resolve(module, name)
    assert callable(target), f"{module}.{name} is no longer callable"
    actual = list(inspect.signature(target).parameters)
    assert actual[: len(params)] == params, f"{module}.{name}{inspect.signature(target)}"


def _scaled_group(aws, desired: int, user_data: str):
    """A launch template, an instance target group and an Auto Scaling group registered with it."""
    vpc, subnets = _alb_network(aws)
    aws("ec2").create_launch_template(
        LaunchTemplateName="seam-lt",
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "t3.micro",
            "UserData": base64.b64encode(user_data.encode()).decode(),
        },
    )
    group = aws("elbv2").create_target_group(
        Name="seam-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    aws("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="seam-asg",
        MinSize=0,
        MaxSize=6,
        DesiredCapacity=desired,
        LaunchTemplate={"LaunchTemplateName": "seam-lt", "Version": "$Latest"},
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[group],
    )
    return vpc, subnets, group


def test_moto_still_keeps_scaled_in_instances_registered(aws):
    """What instances.py adds: moto's scale-in terminates instances but leaves them registered."""
    _, _, group = _scaled_group(aws, 4, "#!/bin/bash\n")
    aws("autoscaling").set_desired_capacity(AutoScalingGroupName="seam-asg", DesiredCapacity=1)

    health = aws("elbv2").describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    assert [t["TargetHealth"]["State"] for t in health] == ["healthy"] * 4


def test_the_ec2_autoscaling_and_efs_objects_instances_reads(aws):
    from moto.autoscaling.models import autoscaling_backends
    from moto.ec2.models import ec2_backends
    from moto.efs.models import efs_backends
    from moto.elbv2.models import elbv2_backends

    script = "#!/bin/bash\npython3 -m http.server 80 &\n"
    vpc, subnets, group_arn = _scaled_group(aws, 2, script)
    fs = aws("efs").create_file_system(CreationToken="seam-fs")["FileSystemId"]
    aws("efs").create_mount_target(FileSystemId=fs, SubnetId=subnets[0])

    account, region = "123456789012", "us-east-1"
    instances = [
        i for r in list(ec2_backends[account][region].reservations.values()) for i in r.instances
    ]
    assert len(instances) == 2
    instance = instances[0]
    _attrs(instance, ["id", "state", "user_data", "ec2_backend", "availability_zone", "vpc_id"])
    _attrs(instance, ["private_ip", "autoscaling_group"])
    assert instance.state == "running"
    assert base64.b64decode(str(instance.user_data)) == script.encode()  # stored as base64
    assert (instance.ec2_backend.region_name, instance.ec2_backend.account_id) == (region, account)
    assert (instance.availability_zone, instance.vpc_id) == ("us-east-1a", vpc)
    assert instance.autoscaling_group.name == "seam-asg"

    backend = autoscaling_backends[account][region]
    _attrs(backend, ["autoscaling_groups", "elbv2_backend", "ec2_backend"])
    group = backend.autoscaling_groups["seam-asg"]
    _attrs(group, ["instance_states", "target_group_arns"])
    assert {s.instance.id for s in group.instance_states} == {i.id for i in instances}
    assert group.target_group_arns == [group_arn]
    assert backend.elbv2_backend is elbv2_backends[account][region]
    target_group = backend.elbv2_backend.target_groups[group_arn]
    assert set(target_group.targets) == {i.id for i in instances}
    assert backend.ec2_backend.get_instance_by_id(instance.id) is instance

    file_system = efs_backends[account][region].file_systems_by_id[fs]
    (target,) = list(file_system.iter_mount_targets())
    assert (target.availability_zone_name, target.vpc_id) == ("us-east-1a", vpc)


def test_the_instances_patches_are_removed_and_servers_stopped_on_teardown():
    import socket

    from moto.autoscaling.models import AutoScalingBackend

    import helpers

    before = AutoScalingBackend.update_attached_target_groups
    lab = helpers.start("seams-instances")
    try:
        assert AutoScalingBackend.update_attached_target_groups is not before
        (instance,) = lab.client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            UserData="#!/bin/bash\nnohup python3 -m http.server 80 &\n",
        )["Instances"]
        lab.emulator.instances.sync()
        url = lab.emulator.alb.stand_ins.find(instance["InstanceId"], 80)
        port = int(url.rsplit(":", 1)[1])
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # it serves
        folder = lab.emulator.instances.folder
    finally:
        lab.teardown()

    assert AutoScalingBackend.update_attached_target_groups is before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    assert not folder.exists()


# ---- target tracking (helpers/emulator/autoscaling.py) -----------------------------------------
def test_the_scaling_policy_and_group_attributes_autoscaling_reads(aws):
    from moto.autoscaling.models import autoscaling_backends

    _scaled_group(aws, 2, "#!/bin/bash\n")
    aws("autoscaling").put_scaling_policy(
        AutoScalingGroupName="seam-asg",
        PolicyName="seam-tt",
        PolicyType="TargetTrackingScaling",
        EstimatedInstanceWarmup=90,
        TargetTrackingConfiguration={
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageNetworkOut"},
            "TargetValue": 1000.0,
            "DisableScaleIn": True,
        },
    )
    backend = autoscaling_backends["123456789012"]["us-east-1"]
    _attrs(backend, ["policies", "autoscaling_groups", "set_desired_capacity"])
    (policy,) = backend.policies.values()
    _attrs(policy, ["policy_type", "auto_scaling_group_name", "arn", "name"])
    _attrs(policy, ["target_tracking_configuration", "estimated_instance_warmup"])
    assert (policy.policy_type, policy.auto_scaling_group_name) == (
        "TargetTrackingScaling",
        "seam-asg",
    )
    assert float(policy.estimated_instance_warmup) == 90
    config = vars(policy.target_tracking_configuration)
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageNetworkOut"
    assert float(config["TargetValue"]) == 1000.0
    assert str(config["DisableScaleIn"]).lower() == "true"
    group = backend.autoscaling_groups["seam-asg"]
    _attrs(group, ["instance_states", "min_size", "max_size", "desired_capacity"])
    assert [s.lifecycle_state for s in group.instance_states] == ["InService"] * 2
    backend.set_desired_capacity("seam-asg", 3)
    assert len(group.instance_states) == 3
