"""What the CloudFront edge tests share: an Origin Access Control and the bucket policy that
admits distributions through it."""

from __future__ import annotations

import json


def create_oac(lab, cf) -> str:
    """An S3 Origin Access Control that signs every request with SigV4; returns its id."""
    return cf.create_origin_access_control(
        OriginAccessControlConfig={
            "Name": lab.name("oac"),
            "SigningProtocol": "sigv4",
            "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3",
        }
    )["OriginAccessControl"]["Id"]


def oac_policy(bucket: str, distribution_arns: list[str]) -> str:
    """The bucket policy CloudFront's console writes for OAC (StringEquals AWS:SourceArn)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowCloudFrontServicePrincipal",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arns}},
                }
            ],
        }
    )
