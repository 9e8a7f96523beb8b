"""What the software-updates chapter's tests share besides fixtures: paths, the chapter's files
loaded in-process, and a fake of the one S3 call the publisher makes."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

from tests.emulator.chapter_support import load  # noqa: F401 (shared here)
from tests.emulator.vpc_support import two_zone_vpc

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = ROOT / "notebooks" / "04-software-updates"
PUBLISHER = CHAPTER / "functions" / "publisher" / "app.py"


class FakeS3:
    """get_object(Bucket, Key)["Body"].read(n) over builds held in memory; with `fail_after`
    set, the body breaks once that many bytes have been read (a reset connection)."""

    def __init__(self) -> None:
        self.builds: dict[tuple[str, str], bytes] = {}
        self.fail_after: int | None = None

    def put(self, bucket: str, key: str, data: bytes) -> None:
        self.builds[(bucket, key)] = data

    def get_object(self, *, Bucket: str, Key: str) -> dict:
        if (Bucket, Key) not in self.builds:
            raise LookupError(f"NoSuchKey: s3://{Bucket}/{Key}")
        return {"Body": _Body(self.builds[(Bucket, Key)], self.fail_after)}


class _Body:
    """A streaming body: read(n) gives at most n bytes, then b"" at the end."""

    def __init__(self, data: bytes, fail_after: int | None) -> None:
        self._stream, self._fail_after = io.BytesIO(data), fail_after

    def read(self, n: int) -> bytes:
        assert n > 0, "the publisher reads the build in bounded chunks"
        if self._fail_after is not None and self._stream.tell() >= self._fail_after:
            raise ConnectionError("the connection to S3 was reset")
        return self._stream.read(n)


# ---- the chapter's application, built as its notebook builds it -----------------------------
ONE_YEAR = 365 * 24 * 3600
USER_DATA = """#!/bin/bash
set -euo pipefail
dnf install -y amazon-efs-utils
mkdir -p /mnt/efs
until mount -t efs -o tls {fs}:/ /mnt/efs; do sleep 5; done
nohup python3 -m http.server 80 --directory /mnt/efs/www > /var/log/updates-server.log 2>&1 &
"""


def behaviour(seconds: int, pattern: str | None = None, **changes: object) -> dict:
    """A cache behaviour to the update servers kept `seconds` (legacy TTL settings)."""
    out = {
        "TargetOriginId": "update-servers",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": 2,
            "Items": ["GET", "HEAD"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
        "DefaultTTL": seconds,
        "MaxTTL": seconds,
    }
    return out | ({"PathPattern": pattern} if pattern else {}) | changes


def build_application(lab, user_data: str = USER_DATA) -> tuple[dict, Path]:
    """The chapter's application, all named lab.name("updates"): EFS with a mount target in each
    of two zones, a launch template whose user data serves it, an ALB and an Auto Scaling group
    of two. Returns (the load balancer, the file system's empty `www/updates/` parent folder)."""
    ec2, efs, elb = lab.client("ec2"), lab.client("efs"), lab.client("elbv2")
    vpc, subnets = two_zone_vpc(lab, "10.40")
    fs = efs.create_file_system(CreationToken=lab.name("updates"))["FileSystemId"]
    for subnet in subnets:
        efs.create_mount_target(FileSystemId=fs, SubnetId=subnet)
    www = lab.emulator.efs.directory(fs) / "www"
    (www / "updates").mkdir(parents=True)
    template = lab.name("updates")
    ec2.create_launch_template(
        LaunchTemplateName=template,
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "t3.micro",
            "UserData": base64.b64encode(user_data.format(fs=fs).encode()).decode(),
        },
    )
    lb = elb.create_load_balancer(Name=lab.name("updates"), Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(
        Name=lab.name("updates"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    lab.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=lab.name("updates"),
        LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[group],
    )
    return lb, www


def build_site(lab) -> tuple[str, str, Path]:
    """The chapter's application (build_application) holding release 2.0.0, with CloudFront in
    front: `/updates/*` kept a year, the rest 60 s. Returns (cdn url, origin url, www folder)."""
    lb, www = build_application(lab)
    (www / "latest.json").write_text('{"version": "2.0.0"}')
    (www / "updates" / "app-2.0.0.bin").write_bytes(os.urandom(100_000))
    dist = lab.client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": lab.name("updates"),
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "update-servers",
                        "DomainName": lb["DNSName"],
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "http-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": behaviour(60),
            "CacheBehaviors": {"Quantity": 1, "Items": [behaviour(ONE_YEAR, "/updates/*")]},
        }
    )["Distribution"]
    return f"https://{dist['DomainName']}", f"http://{lb['DNSName']}", www
