"""Real-account runs are recorded until their teardown is clean, and the next run lists leftovers."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

import helpers
from helpers import backends, cli, runs

ACCOUNT = "123456789012"  # moto's account, as the aws backend sees it under the mock


@pytest.fixture
def aws_opt_in(monkeypatch, tmp_path):
    monkeypatch.setenv(backends.OPT_IN_VAR, "1")
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    with mock_aws():
        yield tmp_path


def test_a_run_is_recorded_until_a_clean_teardown(aws_opt_in):
    lab = helpers.start("recorded", backend="aws")
    record = aws_opt_in / "runs" / ACCOUNT / f"{lab.prefix}.json"
    assert json.loads(record.read_text())["lab"] == "recorded"
    lab.client("s3").create_bucket(Bucket=lab.name("b"))
    assert lab.teardown().clean
    assert not record.exists()


def test_the_next_run_names_an_unfinished_one_and_the_command(aws_opt_in, capsys):
    # GIVEN a run whose process died before its teardown (its record is still there)
    runs.record(ACCOUNT, "myblog-1a2b3c", "myblog", "us-east-1")
    # WHEN another lab starts on the same account
    lab = helpers.start("other", backend="aws")
    out = capsys.readouterr().out
    # THEN it names the unfinished run and how to remove its resources
    assert "myblog-1a2b3c" in out and "labbook teardown --lab myblog" in out
    lab.teardown()


def test_offline_runs_write_no_record(monkeypatch, tmp_path):
    monkeypatch.setenv("LABBOOK_HOME", str(tmp_path))
    with helpers.start("offline-only") as lab:
        lab.client("s3").create_bucket(Bucket=lab.name("b"))
    assert not (tmp_path / "runs").exists()


def test_labbook_teardown_clears_the_records_once_the_resources_are_gone(aws_opt_in, capsys):
    runs.record(ACCOUNT, "myblog-1a2b3c", "myblog", "us-east-1")
    runs.record(ACCOUNT, "shop-4d5e6f", "shop", "us-east-1")
    code = cli.main(["teardown", "--lab", "myblog", "--yes", "--region", "us-east-1"])
    assert code == 0
    assert [r["prefix"] for r in runs.unfinished(ACCOUNT)] == ["shop-4d5e6f"]
