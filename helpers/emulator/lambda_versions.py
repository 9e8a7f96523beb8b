"""Lambda versions and aliases that run the code they name, as AWS does.

moto stores versions (PublishVersion freezes a copy of the function's code and configuration) and
aliases, but out of the box:

- Invoke ignores its `Qualifier` (moto reads `qualifier`, boto3 sends `Qualifier`), so
  `invoke(FunctionName="fn", Qualifier="1")` ran $LATEST;
- an alias's `RoutingConfig.AdditionalVersionWeights` is stored and never used: every invocation
  of the alias ran its primary version;
- AddPermission on a qualified ARN (`function:fn:live`, no `Qualifier`) lost the qualifier, so
  the statement named the unqualified function;
- CreateAlias and UpdateAlias accept routing configurations AWS refuses.

This module fixes those. `resolve` is the one place that turns a function name or ARN and a
qualifier into the version to run: an alias with additional version weights sends each
invocation to the additional version with its weight's probability, to the primary version
otherwise (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html); the
invoked ARN (what `context.invoked_function_arn` shows) is the ARN as called, the executed
version (`x-amz-executed-version`, `context.function_version`) is the version that ran. API
Gateway's Lambda integrations (gateway.py) resolve their URI's function the same way.

Routing-configuration errors are AWS's, as recorded against AWS by LocalStack's validated Lambda
tests: at most one additional version ("Number of items in AdditionalVersionWeights cannot be
greater than 1"), a weight in [0, 1), a published version other than the primary one, and no
routing on an alias of $LATEST ("$LATEST is not supported for an alias pointing to more than 1
version").

Asynchronous triggers that name an alias (S3, SNS, event source mappings) are delivered to the
alias's primary version: their weighted routing is not emulated.

moto seams (tests/emulator/test_moto_seams.py checks them): `LambdaResponse.invoke` (the
Qualifier), `LambdaBackend.invoke`, `.add_permission`, `.create_alias`, `.update_alias`, and
the storage's `_get_function_aliases` and `split_function_arn`, which are read.
"""

from __future__ import annotations

import random
import re
from typing import Any

_VERSION = re.compile(r"^[0-9]+$")


def split_qualifier(name_or_arn: str, qualifier: str | None) -> tuple[str, str | None]:
    """('fn', 'live') for 'fn:live', 'arn:...:function:fn:live' or ('fn', 'live')."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        name, in_name = parts[6], (parts[7] if len(parts) > 7 else None)
    else:
        name, _, suffix = name_or_arn.partition(":")
        in_name = suffix or None
    if in_name and qualifier and in_name != qualifier:
        from moto.awslambda.exceptions import InvalidParameterValueException

        raise InvalidParameterValueException(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return name, in_name or qualifier


def _alias(backend: Any, name: str, qualifier: str | None) -> Any:
    if not qualifier or qualifier == "$LATEST" or _VERSION.match(qualifier):
        return None
    return backend._lambdas._get_function_aliases(name).get(qualifier)


def resolve(backend: Any, name_or_arn: str, qualifier: str | None = None) -> tuple[Any, str]:
    """(the moto function version to run, the ARN as invoked) for a name or ARN and qualifier.

    An alias with AdditionalVersionWeights picks its additional version with that probability.
    Raises moto's ResourceNotFoundException for a missing function, version or alias.
    """
    name, qualifier = split_qualifier(name_or_arn, qualifier)
    fn = backend.get_function(name, qualifier)
    base_arn = backend._lambdas.split_function_arn(fn.function_arn)[0]
    invoked_arn = f"{base_arn}:{qualifier}" if qualifier else base_arn
    alias = _alias(backend, name, qualifier)
    weights = ((alias.routing_config or {}).get("AdditionalVersionWeights") or {}) if alias else {}
    for version, weight in weights.items():
        if random.random() < float(weight):
            fn = backend.get_function(name, str(version))
            break
    return fn, invoked_arn


def check_routing(backend: Any, function_name: str, primary: str | None, routing: Any) -> None:
    """Refuse a routing configuration AWS refuses (CreateAlias, UpdateAlias)."""
    from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError

    weights = (routing or {}).get("AdditionalVersionWeights") or {}
    if not weights:
        return
    if len(weights) > 1:
        raise InvalidParameterValueException(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    ((version, weight),) = weights.items()
    if not isinstance(weight, int | float) or not 0.0 <= float(weight) < 1.0:
        raise LambdaClientError(
            "ValidationException",
            f"1 validation error detected: Value '{{{version}={weight}}}' at "
            "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value "
            "must satisfy constraint: [Member must have value less than or equal to 1.0, Member "
            "must have value greater than or equal to 0.0, Member must not be null]",
        )
    if str(version) == str(primary):
        raise InvalidParameterValueException(
            f"Invalid function version {primary}. Function version {primary} is already "
            "included in routing configuration."
        )
    if str(primary) == "$LATEST":
        raise InvalidParameterValueException(
            "$LATEST is not supported for an alias pointing to more than 1 version"
        )
    if not _VERSION.match(str(version)):
        raise LambdaClientError(
            "ValidationException",
            f"1 validation error detected: Value '{{{version}={weight}}}' at "
            "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys "
            "must satisfy constraint: [Member must have length less than or equal to 1024, "
            "Member must have length greater than or equal to 1, Member must satisfy regular "
            "expression pattern: [0-9]+]",
        )
    backend.get_function(split_qualifier(function_name, None)[0], str(version))  # must exist


def install(emulator: Any) -> None:
    """Patch moto's Lambda invoke, permission and alias calls until teardown."""
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    patch = emulator._patch
    original_response_invoke = LambdaResponse.invoke

    def response_invoke(handler: Any) -> Any:
        # boto3 sends ?Qualifier=; moto reads `qualifier`
        qualifier = handler.querystring.get("Qualifier")
        if qualifier and "qualifier" not in handler.querystring:
            handler.querystring["qualifier"] = qualifier
        return original_response_invoke(handler)

    patch(LambdaResponse, "invoke", response_invoke)

    def invoke(
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        fn, invoked_arn = resolve(backend, function_name, qualifier)
        payload = emulator._invoke_api(fn, body, headers, response_headers, invoked_arn=invoked_arn)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    patch(LambdaBackend, "invoke", invoke)
    original_add_permission = LambdaBackend.add_permission

    def add_permission(backend: Any, function_name: str, qualifier: str | None, raw: str) -> Any:
        name, qualifier = split_qualifier(function_name, qualifier)
        return original_add_permission(backend, name, qualifier, raw)

    patch(LambdaBackend, "add_permission", add_permission)
    original_create_alias = LambdaBackend.create_alias
    original_update_alias = LambdaBackend.update_alias

    def create_alias(
        backend: Any,
        name: str,
        function_name: str,
        function_version: str,
        description: str,
        routing_config: Any,
    ) -> Any:
        backend.get_function(split_qualifier(function_name, None)[0], function_version)
        check_routing(backend, function_name, function_version, routing_config)
        return original_create_alias(
            backend, name, function_name, function_version, description, routing_config
        )

    def update_alias(
        backend: Any,
        name: str,
        function_name: str,
        function_version: str | None,
        description: str | None,
        routing_config: Any,
    ) -> Any:
        alias = backend.get_alias(name, function_name)
        primary = function_version or alias.function_version
        if routing_config is not None:
            check_routing(backend, function_name, primary, routing_config)
        elif function_version is not None:
            check_routing(backend, function_name, primary, alias.routing_config)
        return original_update_alias(
            backend, name, function_name, function_version, description, routing_config
        )

    patch(LambdaBackend, "create_alias", create_alias)
    patch(LambdaBackend, "update_alias", update_alias)
