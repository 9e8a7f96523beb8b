"""`labbook serve`: which notebook builds a chapter's lab, where its clean-up starts, and the
users a person can sign in as."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import nbformat
import pytest
from moto import mock_aws

from helpers.cli import main
from helpers.serve import build_cells, find_notebook, new_password, reset_passwords, sign_in_lines

ROOT = Path(__file__).resolve().parents[1]


def test_a_chapter_is_found_by_its_name_or_its_folder():
    expected = ROOT / "notebooks" / "01-myblog" / "01-myblog.ipynb"
    assert find_notebook("myblog", ROOT) == expected
    assert find_notebook("01-myblog", ROOT) == expected


def test_paid_content_is_a_chapter():
    expected = ROOT / "notebooks" / "03-paid-content" / "03-paid-content.ipynb"
    if not expected.exists():
        pytest.skip("notebooks/03-paid-content is not built yet")
    assert find_notebook("paid-content", ROOT) == expected


def test_an_unknown_chapter_names_the_known_ones():
    with pytest.raises(ValueError, match="no chapter named 'blog'.*myblog"):
        find_notebook("blog", ROOT)


def test_the_lab_is_built_by_every_code_cell_before_the_teardown():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_code_cell("lab = helpers.start('x')"),
        nbformat.v4.new_code_cell(""),
        nbformat.v4.new_code_cell("s3.create_bucket(Bucket=b)"),
        nbformat.v4.new_code_cell("report = lab.teardown()"),
        nbformat.v4.new_code_cell("assert report.clean"),
    ]
    assert build_cells(nb) == ([1, 3], [4, 5])


def test_a_notebook_without_a_teardown_cannot_be_served():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("lab = helpers.start('x')")]
    with pytest.raises(ValueError, match=r"no `lab.teardown\(\)` cell"):
        build_cells(nb)


def test_the_cli_refuses_an_unknown_chapter_in_one_line(capsys):
    assert main(["serve", "nope", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("labbook: error: no chapter named 'nope'")


# ---- users of the lab's Cognito user pools --------------------------------------------------
PREFIX = "paid-content-0a1b2c"


@pytest.fixture
def aws(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("cognito-idp"), boto3.client("dynamodb")


def _pool(idp, name, *, symbols=False):
    pool_id = idp.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 20, "RequireSymbols": symbols}},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def _sign_up(idp, client_id, email):
    """A user who signed up and never confirmed: the state a forgotten password leaves too."""
    idp.sign_up(
        ClientId=client_id,
        Username=email,
        Password="An-original-password-1",
        UserAttributes=[{"Name": "email", "Value": email}],
    )


def test_every_user_of_the_labs_pools_gets_a_password_that_signs_in(aws):
    # GIVEN a lab's pool (symbols required, 20 characters) with an unconfirmed user and an admin
    # created with a temporary password, and another lab's pool
    idp, _ = aws
    pool_id, client_id = _pool(idp, f"{PREFIX}-viewers", symbols=True)
    _sign_up(idp, client_id, "ana@example.com")
    idp.admin_create_user(
        UserPoolId=pool_id,
        Username="backoffice@example.com",
        UserAttributes=[{"Name": "email", "Value": "backoffice@example.com"}],
        MessageAction="SUPPRESS",
    )
    _, other_client = _pool(idp, "another-lab-viewers")
    _sign_up(idp, other_client, "eve@example.com")

    # WHEN serve resets the passwords
    users = reset_passwords(*aws, PREFIX)

    # THEN only the lab's users got one, and each signs in with it, without a challenge
    assert [u["login"] for u in users] == ["ana@example.com", "backoffice@example.com"]
    for user in users:
        assert len(user["password"]) >= 20
        answer = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user["login"], "PASSWORD": user["password"]},
        )
        assert "ChallengeName" not in answer and answer["AuthenticationResult"]["IdToken"]
    assert users[0]["password"] != users[1]["password"]


def test_a_user_is_described_by_their_groups_and_the_flags_of_their_item(aws):
    # GIVEN Ana premium and Ben not, in the lab's table keyed by email; the back office in admins
    idp, ddb = aws
    pool_id, client_id = _pool(idp, f"{PREFIX}-viewers")
    for email in ("ana@example.com", "ben@example.com", "backoffice@example.com"):
        _sign_up(idp, client_id, email)
    idp.create_group(UserPoolId=pool_id, GroupName="admins")
    idp.admin_add_user_to_group(
        UserPoolId=pool_id, Username="backoffice@example.com", GroupName="admins"
    )
    for table in (f"{PREFIX}-premium-users", "another-lab-premium-users"):
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "email", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "email", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
    for email, premium in (("ana@example.com", True), ("ben@example.com", False)):
        item = {"email": {"S": email}, "premium": {"BOOL": premium}, "since": {"S": "2026"}}
        ddb.put_item(TableName=f"{PREFIX}-premium-users", Item=item)
    ddb.put_item(
        TableName="another-lab-premium-users",
        Item={"email": {"S": "backoffice@example.com"}, "premium": {"BOOL": True}},
    )

    # WHEN serve resets the passwords and prints the users
    lines = sign_in_lines(reset_passwords(*aws, PREFIX))

    # THEN each line says who, what the lab knows of them, and the password
    assert lines[0] == f"Users of the Cognito user pool {PREFIX}-viewers (passwords set just now):"
    described = [re.sub(r"password: \S+$", "password: …", line) for line in lines[1:]]
    assert described == [
        "  sign in as ana@example.com (premium)  password: …",
        "  sign in as backoffice@example.com (group admins)  password: …",
        "  sign in as ben@example.com (not premium)  password: …",
    ]


def test_a_lab_without_user_pools_prints_no_users(aws):
    assert sign_in_lines(reset_passwords(*aws, PREFIX)) == []


def test_a_new_password_meets_the_policy_it_is_made_for():
    policy = {
        "MinimumLength": 30,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": True,
    }
    password = new_password(policy)
    assert len(password) >= 30
    assert re.search("[A-Z]", password) and re.search("[a-z]", password)
    assert re.search("[0-9]", password) and re.search(r"[^A-Za-z0-9]", password)
    assert new_password(policy) != password
