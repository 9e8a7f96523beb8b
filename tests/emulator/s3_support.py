"""What the S3 HTTP, website and edge tests share: the public-read bucket policy."""

from __future__ import annotations

import json


def public_read_policy(bucket: str, *, listable: bool = False) -> str:
    """A bucket policy letting anyone GetObject, and ListBucket too when `listable`."""
    statements = [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    ]
    if listable:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:ListBucket",
                "Resource": f"arn:aws:s3:::{bucket}",
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
