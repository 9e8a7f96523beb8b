"""REST APIs built with the boto3 calls a learner makes, shared by the API Gateway tests."""

from __future__ import annotations

import json
from typing import Any


class RestApi:
    """A REST API: resources by path, methods with Lambda proxy or MOCK integrations, stages."""

    def __init__(self, lab, name: str, **create_kwargs: Any):
        self.lab = lab
        self.apigw = lab.client("apigateway")
        self.name = lab.name(name)
        self.id = self.apigw.create_rest_api(name=self.name, **create_kwargs)["id"]
        root = self.apigw.get_resources(restApiId=self.id)["items"][0]["id"]
        self.ids = {"/": root}

    def resource(self, path: str) -> str:
        """The id of the resource at `path`, creating it and any missing parents."""
        parent = "/"
        for part in [p for p in path.split("/") if p]:
            here = parent.rstrip("/") + "/" + part
            if here not in self.ids:
                self.ids[here] = self.apigw.create_resource(
                    restApiId=self.id, parentId=self.ids[parent], pathPart=part
                )["id"]
            parent = here
        return self.ids[parent]

    def method(self, path: str, method: str, *, auth: str = "NONE", **kwargs: Any) -> None:
        """put_method; `kwargs` go to it as they are (requestParameters, apiKeyRequired...)."""
        self.apigw.put_method(
            restApiId=self.id,
            resourceId=self.resource(path),
            httpMethod=method,
            authorizationType=auth,
            **kwargs,
        )

    def integration(self, path: str, method: str, **kwargs: Any) -> None:
        """put_integration; `kwargs` go to it as they are (type, uri, requestTemplates...)."""
        self.apigw.put_integration(
            restApiId=self.id, resourceId=self.resource(path), httpMethod=method, **kwargs
        )

    def lambda_integration(self, path: str, method: str, function: str, **kwargs: Any) -> None:
        """An AWS_PROXY integration that invokes `function` (a name or an ARN)."""
        self.integration(
            path,
            method,
            type="AWS_PROXY",
            integrationHttpMethod="POST",
            uri=lambda_uri(self.lab, function),
            **kwargs,
        )

    def lambda_proxy(
        self, path: str, method: str, function: str, *, auth: str = "NONE", **integration: Any
    ) -> None:
        """A method with no request parameters and its AWS_PROXY integration."""
        self.method(path, method, auth=auth)
        self.lambda_integration(path, method, function, **integration)

    def mock(self, path: str, method: str, status: int, **method_kwargs: Any) -> None:
        """A method and its MOCK integration, whose request template picks `status`."""
        self.method(path, method, **method_kwargs)
        self.integration(
            path,
            method,
            type="MOCK",
            requestTemplates={"application/json": json.dumps({"statusCode": status})},
        )

    def response(
        self,
        path: str,
        method: str,
        status: str,
        body: str,
        *,
        parameters: dict[str, str] | None = None,
        **integration_response: Any,
    ) -> None:
        """A method response and its integration response: `body` is the JSON template and
        `parameters` the integration's header mappings, each declared on the method response."""
        resource = self.resource(path)
        declared, mapped = {}, {}
        if parameters:
            declared = {"responseParameters": dict.fromkeys(parameters, True)}
            mapped = {"responseParameters": parameters}
        self.apigw.put_method_response(
            restApiId=self.id, resourceId=resource, httpMethod=method, statusCode=status, **declared
        )
        self.apigw.put_integration_response(
            restApiId=self.id,
            resourceId=resource,
            httpMethod=method,
            statusCode=status,
            responseTemplates={"application/json": body},
            **mapped,
            **integration_response,
        )

    def allow(self, function: str, source: str = "*/*") -> None:
        """lambda add_permission for this API, SourceArn `{api arn}/{source}`."""
        api_arn = f"arn:aws:execute-api:{self.lab.region}:{self.lab.account_id}:{self.id}"
        self.lab.client("lambda").add_permission(
            FunctionName=function,
            StatementId=f"apigw-{self.id}-{abs(hash(source))}",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=f"{api_arn}/{source}",
        )

    def deploy(self, stage: str = "prod", **kwargs: Any) -> None:
        self.apigw.create_deployment(restApiId=self.id, stageName=stage, **kwargs)

    def url(self, path: str, stage: str = "prod") -> str:
        return f"https://{self.id}.execute-api.{self.lab.region}.amazonaws.com/{stage}{path}"


def lambda_uri(lab, function: str) -> str:
    """The integration uri that invokes `function` (a name or an ARN)."""
    arn = function
    if not function.startswith("arn:"):
        arn = lab.client("lambda").get_function(FunctionName=function)["Configuration"][
            "FunctionArn"
        ]
    return f"arn:aws:apigateway:{lab.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
