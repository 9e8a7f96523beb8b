"""Where a lab's AWS lives: moto in-process, moto's server on loopback, or a real account."""

from __future__ import annotations

import abc
import logging
import os
from typing import Any

import boto3
from botocore import exceptions as boto_errors
from botocore.client import BaseClient
from botocore.config import Config

BACKENDS = ("moto", "moto-server", "aws")
OPT_IN_VAR = "LABBOOK_ALLOW_AWS"
ACCOUNT_VAR = "LABBOOK_AWS_ACCOUNT_ID"
# an account reached through AWS_ENDPOINT_URL can serve AWS's HTTP data planes (API Gateway,
# CloudFront, S3 websites) too: their requests go to this address instead of AWS's hosts
HTTP_ENDPOINT_VAR = "LABBOOK_HTTP_ENDPOINT_URL"
OFFLINE_ACCOUNT = "123456789012"  # the account id AWS's own documentation uses
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


class BackendError(RuntimeError):
    """A backend that cannot be used as asked; the message says how to fix it."""


def stand_in_http_endpoint() -> str | None:
    """The HTTP front of an account that is an offline lab standing in for AWS (None for AWS).

    It only makes sense with AWS_ENDPOINT_URL pointing boto3 at that same stand-in: alone it would
    send a real account's CloudFront and API Gateway requests, and its waits, elsewhere."""
    endpoint = os.environ.get(HTTP_ENDPOINT_VAR)
    if not endpoint:
        return None
    if not os.environ.get("AWS_ENDPOINT_URL"):
        raise BackendError(
            f"{HTTP_ENDPOINT_VAR} is set but AWS_ENDPOINT_URL is not: it serves a stand-in "
            f"account's HTTP endpoints, not AWS's. Unset {HTTP_ENDPOINT_VAR} to use your real "
            "account, then restart the kernel; nothing was created"
        )
    return endpoint


def choose(backend: str | None) -> str:
    """The backend to use: the argument, else LAB_BACKEND, else moto."""
    name = (backend or os.environ.get("LAB_BACKEND") or "moto").strip().lower()
    if name not in BACKENDS:
        raise BackendError(
            f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} "
            "(set LAB_BACKEND or pass backend=...)"
        )
    return name


def _client_config(service: str, offline: bool) -> Config:
    kwargs: dict[str, Any] = {"retries": {"max_attempts": 3, "mode": "standard"}}
    if offline and service in ("dynamodb", "dynamodbstreams"):
        # boto3 >= 1.44 sends DynamoDB to account-id endpoints that moto does not route
        kwargs["account_id_endpoint_mode"] = "disabled"
    if service == "s3":
        # presigned URLs in SigV4 everywhere (botocore still presigns SigV2 in us-east-1, which
        # S3 has deprecated): they carry their signing time and a lifetime of at most 7 days
        kwargs["signature_version"] = "s3v4"
    return Config(**kwargs)


class Backend(abc.ABC):
    """Common shape of the three backends."""

    name = ""
    offline = True
    endpoint_url: str | None = None
    account_id = OFFLINE_ACCOUNT

    def __init__(self, region: str):
        self.region = region

    @abc.abstractmethod
    def start(self) -> None:
        """Make the backend reachable (and, for aws, check the account)."""

    def stop(self) -> None:
        """Release what start() took; a real account needs nothing released."""
        return None

    @abc.abstractmethod
    def client(self, service: str, region: str) -> BaseClient:
        """A boto3 client for `service` in `region` of this backend."""


def _offline_settings() -> None:
    """moto settings that make offline behave like an account: AWS managed policies exist."""
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


class MotoBackend(Backend):
    """moto's `mock_aws()` in this process, plus its server on loopback for the handlers."""

    name = "moto"

    def start(self) -> None:
        from moto import mock_aws
        from moto.server import ThreadedMotoServer

        _offline_settings()
        self._mock = mock_aws()
        self._mock.start()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.handler_endpoint = f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()
        self._mock.stop()  # also resets moto's state

    def client(self, service: str, region: str) -> BaseClient:
        return boto3.session.Session().client(
            service, region_name=region, config=_client_config(service, True), **FAKE_CREDENTIALS
        )


class MotoServerBackend(Backend):
    """moto's threaded server on 127.0.0.1: boto3, the AWS CLI and curl all reach it over HTTP."""

    name = "moto-server"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        _offline_settings()
        port = int(os.environ.get("LABBOOK_MOTO_PORT", "0"))
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        try:
            self._server.start()
        except OSError as exc:
            raise BackendError(
                f"cannot listen on 127.0.0.1:{port} ({exc}): unset LABBOOK_MOTO_PORT or pick a free port"
            ) from exc
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.handler_endpoint = self.endpoint_url

    def stop(self) -> None:
        from moto.core.models import reset_model_data

        self._server.stop()
        reset_model_data()

    def client(self, service: str, region: str) -> BaseClient:
        return boto3.session.Session().client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=_client_config(service, True),
            **FAKE_CREDENTIALS,
        )


_STS_CONFIG = Config(
    connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
)
_BAD_KEY_CODES = {
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "AuthFailure",
}
_EXPIRED_CODES = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_AFTER = "then restart the kernel; nothing was created"


def _profile() -> str:
    return os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"


def _credentials_problem(exc: Exception) -> str:
    """One line: what failed while checking the AWS credentials, and the fix."""
    profile = _profile()
    login = f"`aws sso login --profile {profile}`"
    if isinstance(exc, boto_errors.ProfileNotFound):
        return (
            f"AWS profile {profile!r} does not exist: check AWS_PROFILE "
            f"(`aws configure list-profiles` lists them), {_AFTER}"
        )
    if isinstance(
        exc,
        (
            boto_errors.TokenRetrievalError,
            boto_errors.SSOError,  # SSOTokenLoadError, UnauthorizedSSOTokenError
        ),
    ):
        return (
            f"the AWS SSO login of profile {profile!r} is missing or expired "
            f"({type(exc).__name__}): run {login} (and check AWS_PROFILE), {_AFTER}"
        )
    if isinstance(exc, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
        return (
            f"no usable AWS credentials ({type(exc).__name__}): run `aws configure` or {login}, "
            f"or set AWS_PROFILE, {_AFTER}"
        )
    if isinstance(exc, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
        return (
            f"cannot reach AWS STS ({type(exc).__name__}: {exc}): check the network (Wi-Fi, "
            f"VPN, proxy, HTTPS_PROXY) and AWS_DEFAULT_REGION, {_AFTER}"
        )
    if isinstance(exc, boto_errors.ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        what = f"AWS STS refused these credentials ({code}: {error.get('Message', '')})"
        if code in _EXPIRED_CODES:
            return (
                f"{what}: the session token has expired: run {login} or get new temporary "
                f"credentials, and check AWS_PROFILE, {_AFTER}"
            )
        if code in _BAD_KEY_CODES:
            return (
                f"{what}: the access key is wrong or deleted: check AWS_PROFILE ({profile}) "
                f"and AWS_ACCESS_KEY_ID, or run `aws configure`, {_AFTER}"
            )
        return f"{what}: check AWS_PROFILE ({profile}) and its permissions, {_AFTER}"
    return (
        f"checking the AWS credentials failed ({type(exc).__name__}: {exc}): check AWS_PROFILE "
        f"and `aws sts get-caller-identity`, {_AFTER}"
    )


class AwsBackend(Backend):
    """A real AWS account, used only when the learner opted in."""

    name = "aws"
    offline = False

    def start(self) -> None:
        if os.environ.get(OPT_IN_VAR) != "1":
            raise BackendError(
                f"the aws backend creates real, billed resources and is off by default: "
                f"opt in with `export {OPT_IN_VAR}=1` (and optionally {ACCOUNT_VAR}=<your "
                "12-digit account id> to refuse any other account), then restart the kernel"
            )
        try:
            self._session = boto3.session.Session(region_name=self.region)
            if self._session.get_credentials() is None:
                raise boto_errors.NoCredentialsError()
            sts = self._session.client("sts", config=_STS_CONFIG)
            identity = sts.get_caller_identity()
        except (boto_errors.BotoCoreError, boto_errors.ClientError) as exc:
            raise BackendError(_credentials_problem(exc)) from exc
        self.account_id = identity["Account"]
        self.caller_arn = identity["Arn"]
        expected = os.environ.get(ACCOUNT_VAR)
        if expected and expected != self.account_id:
            raise BackendError(
                f"these credentials are for account {self.account_id}, but {ACCOUNT_VAR} "
                f"says {expected}: switch profile (AWS_PROFILE) or correct {ACCOUNT_VAR}; "
                "nothing was created"
            )

    def client(self, service: str, region: str) -> BaseClient:
        return self._session.client(
            service, region_name=region, config=_client_config(service, False)
        )


def make(name: str, region: str) -> Backend:
    """A backend object for a name from BACKENDS (not started)."""
    return {"moto": MotoBackend, "moto-server": MotoServerBackend, "aws": AwsBackend}[name](region)
