"""Where a lab's AWS lives: moto in-process, moto's server on loopback, or a real account."""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config

BACKENDS = ("moto", "moto-server", "aws")
OPT_IN_VAR = "LABBOOK_ALLOW_AWS"
ACCOUNT_VAR = "LABBOOK_AWS_ACCOUNT_ID"
OFFLINE_ACCOUNT = "123456789012"  # the account id AWS's own documentation uses
FAKE_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


class BackendError(RuntimeError):
    """A backend that cannot be used as asked; the message says how to fix it."""


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
    return Config(**kwargs)


class Backend:
    """Common shape of the three backends."""

    name = ""
    offline = True
    endpoint_url: str | None = None
    account_id = OFFLINE_ACCOUNT

    def __init__(self, region: str):
        self.region = region

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def client(self, service: str, region: str) -> BaseClient:
        raise NotImplementedError  # each backend defines it


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
        self._session = boto3.session.Session(region_name=self.region)
        if self._session.get_credentials() is None:
            raise BackendError(
                "no AWS credentials found: run `aws configure` or `aws sso login`, or set "
                "AWS_PROFILE, then restart the kernel"
            )
        identity = self._session.client("sts").get_caller_identity()
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
