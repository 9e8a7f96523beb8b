"""The aws backend's start: opt-in, account check, and every credentials failure as one line."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore import exceptions as boto_errors
from botocore.stub import Stubber
from moto import mock_aws

from helpers.backends import ACCOUNT_VAR, OPT_IN_VAR, AwsBackend, BackendError

SSO_CONFIG = """\
[profile course]
sso_session = school
sso_account_id = 111122223333
sso_role_name = Student
region = us-east-1

[sso-session school]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS settings from this machine: empty config files, no IMDS, opted in."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name in (ACCOUNT_VAR, "LAB_BACKEND"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv(OPT_IN_VAR, "1")
    return tmp_path


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


def on_sts(monkeypatch: pytest.MonkeyPatch, prepare: Callable[[object], None]) -> None:
    """Every STS client the backend makes gets `prepare(client)` first (a Stubber, a hook)."""
    real = boto3.session.Session.client

    def client(self, service_name, *args, **kwargs):
        made = real(self, service_name, *args, **kwargs)
        if service_name == "sts":
            prepare(made)
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)


def start_fails() -> BackendError:
    with pytest.raises(BackendError) as caught:
        AwsBackend("us-east-1").start()
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return caught.value


# --- opt-in and account ---------------------------------------------------------------------


def test_without_the_opt_in_it_is_refused_before_any_aws_call(monkeypatch):
    monkeypatch.delenv(OPT_IN_VAR)
    monkeypatch.setattr(boto3.session, "Session", lambda **_: pytest.fail("AWS was called"))

    error = start_fails()

    assert f"export {OPT_IN_VAR}=1" in str(error)


def test_opted_in_on_the_expected_account_starts(monkeypatch, keys):
    monkeypatch.setenv(ACCOUNT_VAR, "123456789012")
    with mock_aws():
        backend = AwsBackend("us-east-1")
        backend.start()
    assert backend.account_id == "123456789012"
    assert backend.caller_arn.startswith("arn:aws:sts::123456789012:")


def test_another_account_than_the_expected_one_is_refused(monkeypatch, keys):
    monkeypatch.setenv(ACCOUNT_VAR, "111122223333")
    with mock_aws():
        error = start_fails()
    assert "these credentials are for account 123456789012" in str(error)
    assert f"says 111122223333: switch profile (AWS_PROFILE) or correct {ACCOUNT_VAR}" in str(error)
    assert str(error).endswith("nothing was created")


# --- STS refuses the credentials ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("InvalidClientTokenId", "the access key is wrong or deleted: check AWS_PROFILE"),
        ("SignatureDoesNotMatch", "the access key is wrong or deleted: check AWS_PROFILE"),
        ("ExpiredToken", "the session token has expired: run `aws sso login --profile course`"),
        ("AccessDenied", "check AWS_PROFILE (course) and its permissions"),
    ],
)
def test_sts_errors_name_the_code_and_the_fix(monkeypatch, keys, code, hint):
    monkeypatch.setenv("AWS_PROFILE", "course")  # the keys in the environment win
    (Path.home() / "config").write_text("[profile course]\nregion = us-east-1\n")

    def stub(client):
        stubber = Stubber(client)
        stubber.add_client_error("get_caller_identity", code, f"{code} says no", 403)
        stubber.activate()

    on_sts(monkeypatch, stub)

    error = start_fails()

    assert f"AWS STS refused these credentials ({code}: {code} says no)" in str(error)
    assert hint in str(error)
    assert str(error).endswith("then restart the kernel; nothing was created")
    assert isinstance(error.__cause__, boto_errors.ClientError)


# --- botocore cannot get or use credentials -------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "hint"),
    [
        (
            boto_errors.TokenRetrievalError(provider="sso", error_msg="token expired"),
            "the AWS SSO login of profile 'course' is missing or expired (TokenRetrievalError): "
            "run `aws sso login --profile course`",
        ),
        (
            boto_errors.UnauthorizedSSOTokenError(),
            "the AWS SSO login of profile 'course' is missing or expired "
            "(UnauthorizedSSOTokenError): run `aws sso login --profile course`",
        ),
        (
            boto_errors.SSOTokenLoadError(error_msg="no token"),
            "(SSOTokenLoadError): run `aws sso login --profile course` (and check AWS_PROFILE)",
        ),
        (
            boto_errors.NoCredentialsError(),
            "no usable AWS credentials (NoCredentialsError): run `aws configure` or "
            "`aws sso login --profile course`, or set AWS_PROFILE",
        ),
        (
            boto_errors.EndpointConnectionError(endpoint_url="https://sts.amazonaws.com"),
            "cannot reach AWS STS (EndpointConnectionError: Could not connect to the endpoint "
            'URL: "https://sts.amazonaws.com"): check the network',
        ),
        (
            boto_errors.ReadTimeoutError(endpoint_url="https://sts.amazonaws.com"),
            "cannot reach AWS STS (ReadTimeoutError",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_botocore_errors_become_one_line_with_the_fix(monkeypatch, keys, raised, hint):
    monkeypatch.setenv("AWS_PROFILE", "course")
    (Path.home() / "config").write_text("[profile course]\nregion = us-east-1\n")

    def fail(**_):
        raise raised

    on_sts(
        monkeypatch,
        lambda client: client.meta.events.register("before-call.sts.GetCallerIdentity", fail),
    )

    error = start_fails()

    assert hint in str(error)
    assert str(error).endswith("then restart the kernel; nothing was created")
    assert error.__cause__ is raised


def test_an_sso_profile_that_never_logged_in(monkeypatch):
    (Path.home() / "config").write_text(SSO_CONFIG)
    monkeypatch.setenv("AWS_PROFILE", "course")

    error = start_fails()

    assert isinstance(error.__cause__, boto_errors.SSOError)
    assert "run `aws sso login --profile course`" in str(error)


def test_no_credentials_anywhere():
    error = start_fails()

    assert "no usable AWS credentials (NoCredentialsError): run `aws configure`" in str(error)


def test_a_profile_that_does_not_exist(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "typo")

    error = start_fails()

    assert str(error).startswith("AWS profile 'typo' does not exist: check AWS_PROFILE")


def test_no_network(monkeypatch, keys):
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")  # nothing listens there

    error = start_fails()

    assert str(error).startswith("cannot reach AWS STS (EndpointConnectionError")
    assert "check the network" in str(error)
