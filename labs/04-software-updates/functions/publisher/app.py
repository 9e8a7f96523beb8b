"""Publish a release: copy a build from S3 onto the EFS file system the download servers serve.

The function mounts the file system through an access point at MOUNT (its LocalMountPath). It
writes `updates/app-<version>.bin` once — a published version never changes, which is what lets
CloudFront keep update files for a year — and then `latest.json`, the manifest devices poll.
Each file is written under a temporary name and renamed into place, so a server never sends
half a file.

Event: {"bucket": "...", "key": "builds/app-2.1.0.bin", "version": "2.1.0"}
Answer: the manifest, {"version", "url", "size", "sha256"}.
"""

import hashlib
import json
import os
import re
import uuid

import boto3

MOUNT = os.environ.get("MOUNT", "/mnt/www")
VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
CHUNK = 1024 * 1024

s3 = boto3.client("s3")


class PublishError(Exception):
    """The event cannot be published; the message says why and what to do."""


def handler(event, context):
    bucket, key, version = (event.get(k) for k in ("bucket", "key", "version"))
    if not bucket or not key:
        raise PublishError("the event needs 'bucket' and 'key': the build to publish")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise PublishError(f"'version' must look like 2.1.0, not {version!r}")

    updates = os.path.join(MOUNT, "updates")
    os.makedirs(updates, exist_ok=True)
    name = f"app-{version}.bin"
    final = os.path.join(updates, name)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    digest, size = hashlib.sha256(), 0
    part = f"{final}.{uuid.uuid4().hex}.part"  # one per invocation: publishes may overlap
    try:
        with open(part, "wb") as out:
            for chunk in iter(lambda: body.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        if os.path.exists(final) and _sha256(final) != sha:
            raise PublishError(
                f"version {version} is already published with other content; published files "
                "never change (caches keep them for a year): publish it as a new version"
            )
        os.replace(part, final)
    finally:
        if os.path.exists(part):  # a failed copy leaves nothing behind
            os.remove(part)

    manifest = {"version": version, "url": f"/updates/{name}", "size": size, "sha256": sha}
    _write_atomically(os.path.join(MOUNT, "latest.json"), json.dumps(manifest, indent=1).encode())
    print(json.dumps({"published": manifest}))
    return manifest


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path, data):
    part = f"{path}.{uuid.uuid4().hex}.part"
    with open(part, "wb") as out:
        out.write(data)
    os.replace(part, path)
