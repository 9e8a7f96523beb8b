"""functions/publisher/app.py in this process: a build copied from S3 onto the EFS mount as
updates/app-<version>.bin, then latest.json, the manifest devices poll.

Contract: the handler's docstring. The event is {bucket, key, version} with a version like
2.1.0; the answer and latest.json are {version, url, size, sha256}, the url the path the
servers serve (/updates/app-<version>.bin), sha256 the hex SHA-256 of the bytes; each file is
written under a temporary name and renamed into place, so no half file is ever served; a
published version never changes (CloudFront keeps update files for a year), so publishing a
version again with other bytes is refused and the learner is told to publish a new version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.software_updates.support import PUBLISHER, load

BUCKET, KEY = "builds-bucket", "builds/app-2.1.0.bin"
BUILD = bytes(range(256)) * 41 + b"tail"  # not a multiple of any chunk size


def event(version="2.1.0", bucket=BUCKET, key=KEY) -> dict:
    return {"bucket": bucket, "key": key, "version": version}


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_manifest_describes_the_published_bytes(publisher, fake_s3, mount):
    """GIVEN a build in S3 WHEN it is published as 2.1.0 THEN the answer and latest.json are the
    manifest: the version, the path the servers serve, the size and the SHA-256 of the bytes."""
    fake_s3.put(BUCKET, KEY, BUILD)

    manifest = publisher.handler(event(), None)

    assert manifest == {
        "version": "2.1.0",
        "url": "/updates/app-2.1.0.bin",
        "size": len(BUILD),
        "sha256": hashlib.sha256(BUILD).hexdigest(),
    }
    assert json.loads((mount / "latest.json").read_text()) == manifest


def test_the_build_lands_under_updates_and_nothing_else_is_left(publisher, fake_s3, mount):
    """GIVEN a build WHEN it is published THEN the mount holds exactly the update file, with the
    build's bytes, and latest.json: no temporary `.part` file is left behind."""
    fake_s3.put(BUCKET, KEY, BUILD)

    publisher.handler(event(), None)

    assert files_under(mount) == ["latest.json", "updates/app-2.1.0.bin"]
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == BUILD


def test_a_build_larger_than_a_chunk_is_copied_whole(publisher, fake_s3, mount, monkeypatch):
    """GIVEN a build many times the read size WHEN it is published THEN every byte is copied and
    hashed, in order (the function streams: a build may not fit in its memory)."""
    monkeypatch.setattr(publisher, "CHUNK", 1000)
    fake_s3.put(BUCKET, KEY, BUILD)

    manifest = publisher.handler(event(), None)

    assert len(BUILD) > 10 * 1000
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == BUILD
    assert manifest["sha256"] == hashlib.sha256(BUILD).hexdigest()


def test_an_empty_build_is_published_as_zero_bytes(publisher, fake_s3, mount):
    """GIVEN an empty object WHEN published THEN its size is 0 and its hash is SHA-256 of b""."""
    fake_s3.put(BUCKET, KEY, b"")

    manifest = publisher.handler(event(), None)

    assert (manifest["size"], manifest["sha256"]) == (0, hashlib.sha256(b"").hexdigest())
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == b""


def test_the_build_read_is_the_one_the_event_names(publisher, fake_s3, mount):
    """GIVEN two builds in S3 WHEN the event names the second THEN its bytes are published."""
    fake_s3.put(BUCKET, KEY, b"old build")
    fake_s3.put("other-bucket", "builds/app-2.2.0.bin", b"new build")

    manifest = publisher.handler(event("2.2.0", "other-bucket", "builds/app-2.2.0.bin"), None)

    assert (mount / "updates" / "app-2.2.0.bin").read_bytes() == b"new build"
    assert manifest["sha256"] == hashlib.sha256(b"new build").hexdigest()


def test_publishing_the_same_bytes_again_is_fine(publisher, fake_s3, mount):
    """GIVEN 2.1.0 published WHEN the same bytes are published as 2.1.0 again (a retried
    invocation) THEN it succeeds with the same manifest and the same files."""
    fake_s3.put(BUCKET, KEY, BUILD)
    first = publisher.handler(event(), None)

    again = publisher.handler(event(), None)

    assert again == first
    assert files_under(mount) == ["latest.json", "updates/app-2.1.0.bin"]
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == BUILD


def test_a_new_version_moves_latest_and_keeps_the_old_file(publisher, fake_s3, mount):
    """GIVEN 2.1.0 published WHEN 2.2.0 is published THEN latest.json names 2.2.0 and the 2.1.0
    file is still served (devices and caches may still be fetching it)."""
    fake_s3.put(BUCKET, KEY, BUILD)
    fake_s3.put(BUCKET, "builds/app-2.2.0.bin", b"2.2.0 bytes")
    publisher.handler(event(), None)

    publisher.handler(event("2.2.0", key="builds/app-2.2.0.bin"), None)

    assert json.loads((mount / "latest.json").read_text())["version"] == "2.2.0"
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == BUILD
    assert files_under(mount) == [
        "latest.json",
        "updates/app-2.1.0.bin",
        "updates/app-2.2.0.bin",
    ]


def test_republishing_a_version_with_other_bytes_is_refused(publisher, fake_s3, mount):
    """GIVEN 2.1.0 published WHEN other bytes are published as 2.1.0 THEN it is refused with a
    message that says to publish a new version, and the mount is as it was: the published
    file, latest.json, no `.part`."""
    fake_s3.put(BUCKET, KEY, BUILD)
    publisher.handler(event(), None)
    latest = (mount / "latest.json").read_bytes()
    fake_s3.put(BUCKET, KEY, BUILD + b"patched")

    with pytest.raises(publisher.PublishError, match="new version") as refused:
        publisher.handler(event(), None)

    assert "2.1.0" in str(refused.value)
    assert (mount / "updates" / "app-2.1.0.bin").read_bytes() == BUILD
    assert (mount / "latest.json").read_bytes() == latest
    assert files_under(mount) == ["latest.json", "updates/app-2.1.0.bin"]


def test_a_copy_that_breaks_midway_changes_nothing_served(publisher, fake_s3, mount, monkeypatch):
    """GIVEN 2.1.0 published WHEN the copy of 2.2.0 breaks midway THEN latest.json still names
    2.1.0 and no half 2.2.0 exists under its final name: a server never sends half a file."""
    fake_s3.put(BUCKET, KEY, BUILD)
    publisher.handler(event(), None)
    latest = (mount / "latest.json").read_bytes()
    fake_s3.put(BUCKET, "builds/app-2.2.0.bin", BUILD)
    fake_s3.fail_after = len(BUILD) // 2
    monkeypatch.setattr(publisher, "CHUNK", 1000)

    with pytest.raises(ConnectionError):
        publisher.handler(event("2.2.0", key="builds/app-2.2.0.bin"), None)

    assert (mount / "latest.json").read_bytes() == latest
    assert not (mount / "updates" / "app-2.2.0.bin").exists()
    assert files_under(mount) == ["latest.json", "updates/app-2.1.0.bin"]  # no `.part` left


@pytest.mark.parametrize(
    "version",
    [
        "2.1",
        "",
        None,
        "2.1.0-beta",
        "v2.1.0",
        "2.1.0.1",
        "2..0",
        210,
        "../../etc/2.1.0",
        "\u0662.\u0661.\u0660",  # Arabic-Indic digits: \\d would take them
    ],
    ids=repr,
)
def test_a_version_not_like_2_1_0_is_refused(publisher, fake_s3, mount, version):
    """GIVEN a version that is not MAJOR.MINOR.PATCH WHEN published THEN it is refused with a
    message naming 'version', and nothing is written."""
    fake_s3.put(BUCKET, KEY, BUILD)

    with pytest.raises(publisher.PublishError, match="'version'"):
        publisher.handler(event(version), None)

    assert files_under(mount) == []


def test_an_event_without_version_is_refused(publisher, fake_s3, mount):
    """GIVEN an event with no version at all WHEN published THEN the message names 'version'."""
    fake_s3.put(BUCKET, KEY, BUILD)

    with pytest.raises(publisher.PublishError, match="'version'"):
        publisher.handler({"bucket": BUCKET, "key": KEY}, None)

    assert files_under(mount) == []


@pytest.mark.parametrize("field", ["bucket", "key"])
@pytest.mark.parametrize("value", [None, ""], ids=["missing", "empty"])
def test_an_event_without_the_build_is_refused(publisher, fake_s3, mount, field, value):
    """GIVEN an event whose bucket or key is missing or empty WHEN published THEN it is refused
    with a message naming that field, and nothing is written."""
    fake_s3.put(BUCKET, KEY, BUILD)
    bad = event()
    if value is None:
        del bad[field]
    else:
        bad[field] = value

    with pytest.raises(publisher.PublishError, match=f"'{field}'"):
        publisher.handler(bad, None)

    assert files_under(mount) == []


def test_a_version_with_a_trailing_newline_is_refused(publisher, fake_s3, mount):
    """GIVEN '2.1.0\\n' (a version read from a file, unstripped) WHEN published THEN refused."""
    fake_s3.put(BUCKET, KEY, BUILD)

    with pytest.raises(publisher.PublishError, match="'version'"):
        publisher.handler(event("2.1.0\n"), None)


def test_the_mount_defaults_to_mnt_www(monkeypatch):
    """GIVEN no MOUNT in the function's environment WHEN it loads THEN it writes under /mnt/www,
    the access point's usual LocalMountPath."""
    monkeypatch.delenv("MOUNT", raising=False)

    app = load("software_updates_publisher_default", PUBLISHER)

    assert app.MOUNT == "/mnt/www"
