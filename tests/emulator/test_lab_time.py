"""Real-clock timestamps in lab time: presigned URLs signed by boto3 (or by a handler) expire by
the lab clock, and a client using an offline lab as its account waits by moving that lab's clock.

S3's contract (SigV4 query authentication): a presigned URL is valid for X-Amz-Expires seconds
after X-Amz-Date; after that S3 answers 403 AccessDenied "Request has expired".
"""

from __future__ import annotations

import pytest
import requests

from helpers.clock import Clock
from helpers.lab import _stand_in_clock

BACKENDS = ("moto", "moto-server")


def test_lab_time_of_maps_real_timestamps_through_the_advances():
    clock = Clock(offline=True)
    before = clock.now()
    clock.advance(600)
    after = clock.now() - 600  # the real time just after the advance

    assert clock.lab_time_of(before - 1) == before - 1  # before any advance: real time
    assert abs(clock.lab_time_of(after + 1) - (after + 601)) < 1e-6  # after it: shifted


def _presigned(lab, expires: int) -> str:
    s3 = lab.client("s3")
    bucket = lab.name("presigned")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="note.txt", Body=b"hello")
    return s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "note.txt"}, ExpiresIn=expires
    )


def test_a_url_signed_after_the_clock_jumped_is_not_born_expired(lab):
    lab.clock.advance(3600)
    url = _presigned(lab, 300)

    resp = requests.get(url, timeout=10)

    assert resp.status_code == 200
    assert resp.content == b"hello"


def test_a_url_expires_when_the_lab_clock_passes_its_lifetime(lab):
    url = _presigned(lab, 300)
    assert requests.get(url, timeout=10).status_code == 200

    lab.clock.advance(301)
    resp = requests.get(url, timeout=10)

    assert resp.status_code == 403
    assert "<Code>AccessDenied</Code>" in resp.text
    assert "Request has expired" in resp.text


def test_a_url_signed_in_the_second_of_a_jump_after_it_lives_its_whole_lifetime(lab):
    """X-Amz-Date has whole seconds: a URL signed a few milliseconds after a jump carries the
    jump's second, and is still valid for X-Amz-Expires seconds of lab time."""
    s3 = lab.client("s3")
    bucket = lab.name("same-second")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="note.txt", Body=b"hello")
    statuses = []
    for _ in range(10):
        lab.clock.advance(301)
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "note.txt"}, ExpiresIn=300
        )
        statuses.append(requests.get(url, timeout=10).status_code)

    assert statuses == [200] * 10


def test_a_url_signed_in_the_second_of_a_jump_before_it_expires_with_it(lab):
    s3 = lab.client("s3")
    bucket = lab.name("same-second-before")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="note.txt", Body=b"hello")
    statuses = []
    for _ in range(3):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "note.txt"}, ExpiresIn=300
        )
        lab.clock.advance(301)
        statuses.append(requests.get(url, timeout=10).status_code)

    assert statuses == [403] * 3


def test_a_stand_in_account_moves_its_clock_when_its_client_waits(lab, monkeypatch):
    monkeypatch.setenv("LABBOOK_HTTP_ENDPOINT_URL", lab.http_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", lab.endpoint_url or lab.http_endpoint)
    lab.clock.advance(600)  # an earlier client (another notebook) already waited on the account
    skipped = lab.clock.skipped
    client_clock = Clock(offline=False, remote=_stand_in_clock())
    # a new client starts from the account's time, not its own machine's
    assert abs(client_clock.now() - lab.clock.now()) < 5

    client_clock.advance(90)  # on AWS this would sleep 90 s

    assert lab.clock.skipped == skipped + 90
    # the client reads the account's time: a token or URL the account stamped 90 s ago is 90 s
    # old to the client too
    assert abs(client_clock.now() - lab.clock.now()) < 5


def test_the_control_host_refuses_anything_else(lab):
    resp = requests.get(
        f"{lab.http_endpoint}/clock/advance",
        headers={"Host": "control.labbook.localhost"},
        timeout=10,
    )
    assert resp.status_code == 404


def test_the_stand_in_endpoint_alone_is_refused(monkeypatch):
    # without AWS_ENDPOINT_URL the account is AWS itself: its HTTP requests and waits must not
    # go to a stand-in
    from helpers.backends import BackendError, stand_in_http_endpoint

    monkeypatch.setenv("LABBOOK_HTTP_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with pytest.raises(BackendError, match="Unset LABBOOK_HTTP_ENDPOINT_URL"):
        stand_in_http_endpoint()
